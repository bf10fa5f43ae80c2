// End to end, a reader process across its writer's restarts: the writer is killed with SIGKILL
// and restarted, then stopped cleanly and restarted, then killed once more. The reader process
// stays up the whole time, answers reads while the writer is away, and after each restart
// serves what the writer appended since (it catches up with the writer's new MANIFEST and WAL).
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/anguo_cli.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace herbtrace::testing {
namespace {

using ::testing::HasSubstr;

class ReaderRestartTest : public ::testing::Test {
 protected:
  std::unique_ptr<ServerChild> StartWriter() {
    auto writer = std::make_unique<ServerChild>(
        HERBTRACE_SERVER, dir_.path(), absl::StrCat("writer-", ++writer_starts_),
        std::vector<std::string>{
            "--mode=writer", absl::StrCat("--data_dir=", writer_data_.string()),
            absl::StrCat("--bootstrap_key=", cli_.OperatorPublicKey().string())});
    EXPECT_TRUE(writer->Ready()) << writer->Output();
    return writer;
  }

  // The reader serves `batch` within 30 s.
  ::testing::AssertionResult ServedByReader(ServerChild& reader, const std::string& batch) {
    CommandResult r;
    for (int i = 0; i < 300; ++i) {
      r = cli_.Read(reader.Address(), absl::StrCat("batch ", batch));
      if (r.exit_code == 0 && r.output.find(batch) != std::string::npos) {
        return ::testing::AssertionSuccess();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ::testing::AssertionFailure() << "the reader does not serve " << batch << ":\n"
                                         << r.output << "\nreader log:\n" << reader.Output();
  }

  // With the writer away, the reader answers every read of what it already had.
  void ExpectReaderServesWithoutWriter(ServerChild& reader, const std::vector<std::string>& batches) {
    for (int round = 0; round < 5; ++round) {
      for (const std::string& batch : batches) {
        CommandResult r = cli_.Read(reader.Address(), absl::StrCat("batch ", batch));
        EXPECT_EQ(r.exit_code, 0) << r.output;
        EXPECT_THAT(r.output, HasSubstr(batch));
      }
      CommandResult checkpoint = cli_.Read(reader.Address(), "checkpoint");
      EXPECT_EQ(checkpoint.exit_code, 0) << checkpoint.output;
      // Several catch-up ticks (100 ms) of a reader whose writer is gone.
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
  }

  std::string Harvest(ServerChild& writer) {
    CommandResult r = cli_.Harvest(writer.Address(), ++harvests_);
    EXPECT_EQ(r.exit_code, 0) << r.output << "\n" << writer.Output();
    return AnguoCli::NewBatch(r.output);
  }

  TempDir dir_;
  AnguoCli cli_{HERBCTL, dir_.path() / "keys", HERBTRACE_SOURCE_DIR};
  const std::filesystem::path writer_data_ = dir_.path() / "writer";
  int writer_starts_ = 0;
  int harvests_ = 0;
};

TEST_F(ReaderRestartTest, ReaderSurvivesWriterRestartsAndCatchesUp) {
  auto writer = StartWriter();
  ASSERT_TRUE(writer->Ready());
  ServerChild reader(HERBTRACE_SERVER, dir_.path(), "reader",
                     {"--mode=reader", absl::StrCat("--primary_dir=", writer_data_.string()),
                      absl::StrCat("--data_dir=", (dir_.path() / "reader").string())});
  ASSERT_TRUE(reader.Ready()) << reader.Output();
  CommandResult setup = cli_.Setup(writer->Address());
  ASSERT_EQ(setup.exit_code, 0) << setup.output;
  std::vector<std::string> batches;
  batches.push_back(Harvest(*writer));
  ASSERT_FALSE(batches.back().empty());
  ASSERT_TRUE(ServedByReader(reader, batches.back()));

  // How each writer goes away: killed mid-life, stopped cleanly (its close flushes every
  // memtable, retires its WAL and writes a new MANIFEST), killed again after a clean start.
  const std::vector<int> stops = {SIGKILL, SIGTERM, SIGKILL};
  for (int stop : stops) {
    SCOPED_TRACE(stop == SIGKILL ? "writer killed" : "writer stopped");
    // Entries the reader has not necessarily seen yet when the writer goes.
    for (int i = 0; i < 2; ++i) batches.push_back(Harvest(*writer));
    const auto status = writer->Stop(stop);
    if (stop == SIGTERM) {
      EXPECT_TRUE(ExitedCleanly(status)) << writer->Output();
    }
    writer.reset();
    ExpectReaderServesWithoutWriter(reader, {batches.front()});
    ASSERT_TRUE(reader.Running()) << reader.Output();

    writer = StartWriter();
    ASSERT_TRUE(writer->Ready());
    batches.push_back(Harvest(*writer));
    ASSERT_FALSE(batches.back().empty());
    // Catch-up: everything, from before the stop and after the restart.
    for (const std::string& batch : batches) ASSERT_TRUE(ServedByReader(reader, batch));
  }

  ASSERT_TRUE(reader.Running()) << reader.Output();
  EXPECT_TRUE(ExitedCleanly(reader.Stop(SIGTERM))) << reader.Output();
  EXPECT_TRUE(ExitedCleanly(writer->Stop(SIGTERM))) << writer->Output();
}

}  // namespace
}  // namespace herbtrace::testing
