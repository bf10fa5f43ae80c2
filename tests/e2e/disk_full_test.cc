// End to end on a really full disk: herbtrace-server keeps its ledger on a small tmpfs; once a
// filler file has taken every free byte, submissions fail with RESOURCE_EXHAUSTED (or
// UNAVAILABLE) while the server stays up and keeps serving reads; once the filler is deleted,
// submissions succeed again without a restart, and after a clean stop `herbtrace-ledger audit`
// passes.
//
// Mounting a tmpfs needs root (CAP_SYS_ADMIN), which the project's machines and CI have. Where
// it is refused the test fails saying so, unless HERBTRACE_SKIP_DISK_FULL=1 is set: then it is
// skipped.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/anguo_cli.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace herbtrace::testing {
namespace {

using ::testing::HasSubstr;

// A tmpfs mounted for the life of the object (lazily unmounted when it goes, even if a process
// still holds a file there).
class TmpfsMount {
 public:
  explicit TmpfsMount(std::filesystem::path path) : path_(std::move(path)) {}
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  // "" on success, else why not.
  std::string Mount(int size_mib) {
    std::filesystem::create_directories(path_);
    const std::string options = absl::StrCat("size=", size_mib, "m,mode=0755");
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      return absl::StrCat("mounting a ", size_mib, " MiB tmpfs at ", path_.string(), ": ",
                          std::strerror(errno));
    }
    mounted_ = true;
    return "";
  }

 private:
  const std::filesystem::path path_;
  bool mounted_ = false;
};

// Writes `path` until the file system has no byte left; the bytes written, or -1.
int64_t FillDisk(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  std::vector<char> block(1 << 20, 'x');
  size_t chunk = block.size();
  int64_t total = 0;
  for (;;) {
    const ssize_t n = ::write(fd, block.data(), chunk);
    if (n > 0) {
      total += n;
      continue;
    }
    if (n < 0 && errno != ENOSPC) break;
    if (chunk == 1) break;
    chunk /= 2;
  }
  ::fsync(fd);
  ::close(fd);
  return total;
}

bool Refused(const CommandResult& r) {
  return r.exit_code != 0 && (absl::StrContains(r.output, "RESOURCE_EXHAUSTED") ||
                              absl::StrContains(r.output, "the disk is full") ||
                              absl::StrContains(r.output, "a write to the disk failed"));
}

TEST(DiskFullTest, SubmissionsAreRefusedWhileTheDiskIsFullAndAcceptedOnceSpaceReturns) {
  TempDir dir;
  TmpfsMount disk(dir.path() / "disk");
  if (const std::string error = disk.Mount(24); !error.empty()) {
    const char* skip = std::getenv("HERBTRACE_SKIP_DISK_FULL");
    if (skip != nullptr && std::string(skip) == "1") {
      GTEST_SKIP() << error << " (HERBTRACE_SKIP_DISK_FULL=1)";
    }
    FAIL() << error
           << ": this test needs root to mount a small tmpfs; set HERBTRACE_SKIP_DISK_FULL=1 to "
              "skip it where that is not possible";
  }
  AnguoCli cli(HERBCTL, dir.path() / "keys", HERBTRACE_SOURCE_DIR);
  const std::filesystem::path data = dir.path() / "disk" / "data";
  auto server = std::make_unique<ServerChild>(
      HERBTRACE_SERVER, dir.path(), "server",
      std::vector<std::string>{absl::StrCat("--data_dir=", data.string()),
                               absl::StrCat("--bootstrap_key=", cli.OperatorPublicKey().string())});
  ASSERT_TRUE(server->Ready()) << server->Output();
  const std::string address = server->Address();
  CommandResult setup = cli.Setup(address);
  ASSERT_EQ(setup.exit_code, 0) << setup.output;
  CommandResult harvest = cli.Harvest(address, 1);
  ASSERT_EQ(harvest.exit_code, 0) << harvest.output;
  const std::string batch = AnguoCli::NewBatch(harvest.output);
  ASSERT_FALSE(batch.empty()) << harvest.output;
  int base = 2;
  for (; base < 5; ++base) ASSERT_EQ(cli.RegisterBase(address, base).exit_code, 0);

  const std::filesystem::path filler = dir.path() / "disk" / "filler";
  ASSERT_GT(FillDisk(filler), 0);
  // A few appends may still fit in the pages the WAL already has; soon one needs a new page.
  CommandResult refused;
  for (int i = 0; i < 200 && !Refused(refused); ++i) {
    refused = cli.RegisterBase(address, base++);
    ASSERT_TRUE(refused.exit_code == 0 || Refused(refused))
        << refused.output << "\n" << server->Output();
  }
  ASSERT_TRUE(Refused(refused)) << "no submission was refused on a full disk\n"
                                << refused.output << "\n" << server->Output();
  // ENOSPC from the tmpfs is RocksDB's NoSpace: the client is told the disk is full.
  EXPECT_THAT(refused.output, HasSubstr("RESOURCE_EXHAUSTED"));
  EXPECT_THAT(refused.output, HasSubstr("ledger: the disk is full"));
  EXPECT_THAT(refused.output, HasSubstr("retry with the same event_id"));
  // While the disk stays full every submission is refused, and the server keeps serving.
  for (int i = 0; i < 3; ++i) {
    CommandResult again = cli.RegisterBase(address, base++);
    EXPECT_TRUE(Refused(again)) << again.output;
    CommandResult read = cli.Read(address, absl::StrCat("batch ", batch));
    EXPECT_EQ(read.exit_code, 0) << read.output;
    EXPECT_THAT(read.output, HasSubstr(batch));
    CommandResult checkpoint = cli.Read(address, "checkpoint");
    EXPECT_EQ(checkpoint.exit_code, 0) << checkpoint.output;
  }
  ASSERT_TRUE(server->Running()) << server->Output();

  // Space returns: the server takes submissions again, without a restart.
  std::filesystem::remove(filler);
  CommandResult accepted;
  for (int i = 0; i < 120; ++i) {
    accepted = cli.RegisterBase(address, base++);
    if (accepted.exit_code == 0) break;
    ASSERT_TRUE(Refused(accepted)) << accepted.output;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_EQ(accepted.exit_code, 0) << accepted.output << "\n" << server->Output();
  for (int i = 0; i < 3; ++i) {
    CommandResult r = cli.RegisterBase(address, base++);
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
  CommandResult second = cli.Harvest(address, 2);
  EXPECT_EQ(second.exit_code, 0) << second.output;

  EXPECT_TRUE(ExitedCleanly(server->Stop(SIGTERM))) << server->Output();
  server.reset();
  CommandResult audit =
      RunCommand(absl::StrCat(HERBTRACE_LEDGER_TOOL, " audit --dir ", data.string()));
  EXPECT_EQ(audit.exit_code, 0) << audit.output;
  EXPECT_THAT(audit.output, HasSubstr("audit passed"));
}

}  // namespace
}  // namespace herbtrace::testing
