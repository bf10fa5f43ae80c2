// Kills a writer process with SIGKILL at random points while it appends from several threads,
// then reopens the ledger, audits it, and checks that every append the writer had acknowledged
// is there with the same sequence number and leaf hash. HERBTRACE_CRASH_ROUNDS sets the number
// of kills (default 25).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "storage/audit.h"
#include "storage/ledger.h"
#include "tests/storage/ledger_fixture.h"
#include "tests/test_util.h"

namespace herbtrace::storage {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::TempDir;

struct Ack {
  uint64_t seq;
  std::string event_id;
  std::string leaf_hex;
};

// Complete lines only: a line cut by the kill was never fully acknowledged to anyone.
std::vector<Ack> ReadAcks(const std::string& path, bool* ready) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<Ack> acks;
  *ready = false;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string line = text.substr(start, nl - start);
    if (line == "ready") {
      *ready = true;
      continue;
    }
    std::istringstream fields(line);
    Ack ack;
    fields >> ack.seq >> ack.event_id >> ack.leaf_hex;
    acks.push_back(ack);
  }
  return acks;
}

pid_t StartWriter(const std::string& dir, const std::string& ack_file, const std::string& tag) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl(HERBTRACE_CRASH_WRITER, HERBTRACE_CRASH_WRITER, dir.c_str(), ack_file.c_str(),
          tag.c_str(), "4", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

TEST(LedgerCrashTest, EveryAcknowledgedAppendSurvivesSigkill) {
  const char* rounds_env = std::getenv("HERBTRACE_CRASH_ROUNDS");
  const int rounds = rounds_env != nullptr ? std::atoi(rounds_env) : 25;
  TempDir dir;
  const std::string ledger_dir = (dir.path() / "ledger").string();
  const std::string ack_file = (dir.path() / "acks").string();
  std::mt19937 rng(20261124);
  std::uniform_int_distribution<int> delay_ms(5, 250);
  uint64_t total_acked = 0;

  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const pid_t pid = StartWriter(ledger_dir, ack_file, absl::StrCat("r", round));
    ASSERT_GT(pid, 0);
    // Wait until the writer has opened the ledger, then kill it at a random moment.
    bool ready = false;
    for (int i = 0; i < 2000 && !ready; ++i) {
      ReadAcks(ack_file, &ready);
      if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(ready) << "writer did not start";
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited on its own with " << status;

    const std::vector<Ack> acks = ReadAcks(ack_file, &ready);
    total_acked += acks.size();

    {
      auto db = LedgerDb::Open(ledger_dir, LedgerDb::Options::ReadOnly());
      ASSERT_THAT(db, IsOk());
      auto report = AuditLedger(**db);
      ASSERT_THAT(report, IsOk());
      ASSERT_TRUE(report->ok()) << report->failure->reason;
    }
    Ledger::Options options;
    options.origin = ::herbtrace::testing::kTestOrigin;
    auto ledger = Ledger::Open(ledger_dir, options, ::herbtrace::testing::TestLogSigner());
    ASSERT_THAT(ledger, IsOk());
    for (const Ack& ack : acks) {
      auto seq = (*ledger)->view().FindEvent(ack.event_id);
      ASSERT_THAT(seq, IsOk());
      ASSERT_TRUE(seq->has_value()) << ack.event_id << " was acknowledged but is lost";
      ASSERT_EQ(**seq, ack.seq) << ack.event_id;
      auto leaf = (*ledger)->view().LeafHash(ack.seq);
      ASSERT_THAT(leaf, IsOk());
      ASSERT_EQ(crypto::ToHex(*leaf), ack.leaf_hex) << ack.event_id;
    }
  }
  // The test means something only if the writer got appends through before most kills.
  EXPECT_GT(total_acked, uint64_t(rounds) * 5);
  std::printf("crash rounds: %d, acknowledged appends checked: %llu\n", rounds,
              static_cast<unsigned long long>(total_acked));
}

}  // namespace
}  // namespace herbtrace::storage
