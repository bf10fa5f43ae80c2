// SIGKILL soak with the real herbtrace-server: eight growers' scanners stream signed events
// (harvest, then a split of the harvested batch, over and over) on their own SubmitStream while
// the server is killed at a random moment of every round; it is started again on the same data
// directory, and then every receipt any client was ever given must be in the log at its seq with
// its leaf hash and tree root (read back through Ledger.GetEntries and re-hashed), no event may
// be logged twice, and Ledger.Audit must pass. Whatever had no receipt is sent again next round,
// with the same event ids and bytes: an event that was logged before the kill must come back
// with the seq it was logged at, and one already receipted with the identical receipt. At the
// end every event is receipted, the server stops cleanly and `herbtrace-ledger audit` passes.
//
// HERBTRACE_SOAK_ROUNDS sets the number of kills (default 30); HERBTRACE_SOAK_SEED replays a
// run's kill moments (the seed is printed).
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "herbtrace/v1/capture.grpc.pb.h"
#include "herbtrace/v1/ledger.grpc.pb.h"
#include "tests/e2e/live_market.h"
#include "tests/e2e/log_snapshot.h"
#include "tests/e2e/receipt_book.h"
#include "tests/e2e/server_process.h"
#include "tests/e2e/submit_stream_client.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace herbtrace {
namespace {

using ::herbtrace::testing::HarvestPlan;
using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::LiveMarket;
using ::herbtrace::testing::LogSnapshot;
using ::herbtrace::testing::ReceiptBook;
using ::herbtrace::testing::ServerProcess;
using ::herbtrace::testing::TempDir;

constexpr int kClients = 8;
// Events a client has queued at the start of a round: leftovers first, topped up with new units.
constexpr size_t kQueuedPerClient = 240;
// Kill moments, after the clients start streaming.
constexpr int kKillAfterMinMs = 2;
constexpr int kKillAfterMaxMs = 300;
constexpr absl::Duration kDeadline = absl::Seconds(60);

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtoull(value, nullptr, 10) : fallback;
}

// One grower's scanner: the events it has not been given a receipt for, in the order it sends
// them, and one already receipted event to send again next round.
struct Scanner {
  HarvestPlan plan;
  std::vector<v1::SubmitRequest> unreceipted;
  std::optional<v1::SubmitRequest> receipted_again;
};

struct RoundTally {
  size_t receipts = 0;
  size_t errors = 0;
};

class KillSoakTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HT_ASSERT_OK_AND_ASSIGN(market_, LiveMarket::Create(dir_.path() / "keys", kClients));
    data_dir_ = (dir_.path() / "data").string();
    server_ = std::make_unique<ServerProcess>(
        HERBTRACE_SERVER, dir_.path(),
        std::vector<std::string>{absl::StrCat("--data_dir=", data_dir_),
                                 absl::StrCat("--bootstrap_key=", market_->bootstrap_key().string()),
                                 "--shutdown_grace=5s"});
    ASSERT_THAT(server_->Start(), IsOk());
    auto capture = v1::Capture::NewStub(Channel());
    ASSERT_THAT(market_->Register(*capture, HERBTRACE_SOURCE_DIR "/catalog/herbs.csv"), IsOk());
    for (int i = 0; i < kClients; ++i) {
      scanners_.push_back(Scanner{HarvestPlan(market_->grower(i), market_->base_id(i),
                                              0xa0000000u + static_cast<uint32_t>(i)),
                                  {}, std::nullopt});
    }
  }

  std::shared_ptr<grpc::Channel> Channel() {
    return grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  }

  // Every scanner streams its queue on its own channel; after `kill_after` (if set) the server
  // is killed. Receipts go to the book and leave the queue; the last receipted request of each
  // scanner is sent again next round.
  RoundTally Stream(std::optional<absl::Duration> kill_after) {
    std::vector<testing::SubmitStreamResult> results(kClients);
    std::vector<std::vector<v1::SubmitRequest>> sent(kClients);
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i) {
      Scanner& scanner = scanners_[i];
      if (scanner.receipted_again.has_value()) sent[i].push_back(*scanner.receipted_again);
      sent[i].insert(sent[i].end(), scanner.unreceipted.begin(), scanner.unreceipted.end());
      threads.emplace_back([this, i, &results, &sent] {
        auto capture = v1::Capture::NewStub(Channel());
        grpc::ClientContext context;
        testing::SubmitStreamOptions options;
        options.deadline = kDeadline;
        results[i] = testing::RunSubmitStream(*capture, context, sent[i], options);
      });
    }
    if (kill_after.has_value()) {
      absl::SleepFor(*kill_after);
      server_->Kill();
    }
    for (std::thread& t : threads) t.join();

    RoundTally tally;
    for (int i = 0; i < kClients; ++i) {
      Scanner& scanner = scanners_[i];
      absl::flat_hash_map<std::string, const v1::Receipt*> receipt_of;
      for (const v1::SubmitResponse& response : results[i].responses) {
        if (response.has_error()) {
          ++tally.errors;
          ADD_FAILURE() << "grower " << i << ", event " << response.event_id() << ": "
                        << response.error().ShortDebugString();
          continue;
        }
        ++tally.receipts;
        receipt_of[response.event_id()] = &response.receipt();
        EXPECT_THAT(book_.Add(response.receipt()), IsOk());
        if (auto logged = logged_without_receipt_.find(response.event_id());
            logged != logged_without_receipt_.end()) {
          EXPECT_EQ(response.receipt().seq(), logged->second)
              << "event " << response.event_id() << " was logged at " << logged->second
              << " before its resubmission";
          logged_without_receipt_.erase(logged);
        }
      }
      if (!kill_after.has_value()) {
        EXPECT_TRUE(results[i].status.ok())
            << "grower " << i << ": " << results[i].status.error_message();
      }
      std::vector<v1::SubmitRequest> still;
      for (v1::SubmitRequest& request : scanner.unreceipted) {
        if (receipt_of.contains(EventIdOf(request))) {
          scanner.receipted_again = request;
        } else {
          still.push_back(std::move(request));
        }
      }
      scanner.unreceipted = std::move(still);
    }
    return tally;
  }

  static std::string EventIdOf(const v1::SubmitRequest& request) {
    v1::Event event;
    event.ParseFromString(request.signed_event().payload());
    return event.event_id();
  }

  // Reads the log back and holds every receipt against it; audits it. Returns the log.
  std::unique_ptr<LogSnapshot> CheckLog(const std::string& when) {
    auto ledger = v1::Ledger::NewStub(Channel());
    auto log = LogSnapshot::Read(*ledger, kDeadline);
    EXPECT_THAT(log, IsOk()) << when;
    if (!log.ok()) return nullptr;
    const ReceiptBook::Check check = book_.CheckAgainst(**log);
    checked_ += check.checked;
    lost_ += check.lost;
    EXPECT_EQ(check.lost, 0u) << when << ": " << absl::StrJoin(check.failures, "\n");
    auto audit = testing::AuditLog(*ledger, kDeadline);
    EXPECT_THAT(audit, IsOk()) << when;
    if (audit.ok()) {
      EXPECT_TRUE(audit->ok()) << when << ": " << audit->first_failure().ShortDebugString();
      EXPECT_EQ(audit->entries_checked(), (*log)->size()) << when;
    }
    return *std::move(log);
  }

  TempDir dir_;
  std::unique_ptr<LiveMarket> market_;
  std::string data_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::vector<Scanner> scanners_;
  ReceiptBook book_;
  // Events found in the log after a kill although their client had no receipt: the seq their
  // resubmission must be answered with.
  absl::flat_hash_map<std::string, uint64_t> logged_without_receipt_;
  absl::flat_hash_set<std::string> ever_logged_without_receipt_;
  size_t checked_ = 0;
  size_t lost_ = 0;
};

TEST_F(KillSoakTest, EveryReceiptSurvivesSigkillAndTheAuditPasses) {
  const int rounds = static_cast<int>(EnvOr("HERBTRACE_SOAK_ROUNDS", 30));
  const uint64_t seed = EnvOr("HERBTRACE_SOAK_SEED", std::random_device()());
  std::cout << "kill soak: " << rounds << " rounds, " << kClients
            << " streaming clients, seed " << seed << " (HERBTRACE_SOAK_SEED=" << seed
            << " replays the kill moments)\n";
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> kill_after_ms(kKillAfterMinMs, kKillAfterMaxMs);
  const absl::Time start = absl::Now();
  size_t sent_total = 0, receipts_total = 0;

  for (int round = 1; round <= rounds && !HasFailure(); ++round) {
    for (Scanner& scanner : scanners_) {
      while (scanner.unreceipted.size() < kQueuedPerClient) {
        for (v1::SubmitRequest& r : scanner.plan.NextUnit()) scanner.unreceipted.push_back(r);
      }
      sent_total += scanner.unreceipted.size();
    }
    const int kill_ms = kill_after_ms(rng);
    const RoundTally tally = Stream(absl::Milliseconds(kill_ms));
    receipts_total += tally.receipts;
    ASSERT_THAT(server_->Start(), IsOk()) << "restart after round " << round;
    std::unique_ptr<LogSnapshot> log = CheckLog(absl::StrCat("after the kill of round ", round));
    ASSERT_NE(log, nullptr);
    size_t logged_unreceipted = 0;
    for (const Scanner& scanner : scanners_) {
      for (const v1::SubmitRequest& request : scanner.unreceipted) {
        const std::string id = EventIdOf(request);
        if (std::optional<uint64_t> seq = log->SeqOf(id); seq.has_value()) {
          logged_without_receipt_[id] = *seq;
          ever_logged_without_receipt_.insert(id);
          ++logged_unreceipted;
        }
      }
    }

    std::cout << "round " << round << ": killed at " << kill_ms << " ms, " << tally.receipts
              << " receipts, " << logged_unreceipted << " logged without a receipt, log "
              << log->size() << " entries, " << book_.size()
              << " receipts held against it, audit ok, lost 0\n"
              << std::flush;
  }
  ASSERT_FALSE(HasFailure());

  // The last round is not interrupted: every event gets its receipt.
  const RoundTally tally = Stream(std::nullopt);
  receipts_total += tally.receipts;
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(scanners_[i].unreceipted.empty()) << "grower " << i;
  }
  EXPECT_TRUE(logged_without_receipt_.empty())
      << logged_without_receipt_.size() << " events logged before a kill never got a receipt";
  std::unique_ptr<LogSnapshot> log = CheckLog("after the last round");
  ASSERT_NE(log, nullptr);
  ASSERT_THAT(server_->Stop(), IsOk());
  const testing::CommandResult audit =
      testing::RunCommand(absl::StrCat(HERBTRACE_LEDGER_TOOL, " audit --dir ", data_dir_));
  EXPECT_EQ(audit.exit_code, 0) << audit.output;

  std::cout << "kill soak: " << rounds << " kills, " << server_->starts() << " starts, "
            << sent_total << " events sent (with resubmissions), " << receipts_total
            << " receipts (" << book_.repeats() << " repeated, identical), "
            << ever_logged_without_receipt_.size()
            << " events found logged without a receipt after a kill (then resubmitted), "
            << book_.size() << " distinct receipts, " << checked_
            << " receipt checks against the log, lost " << lost_ << ", log " << log->size()
            << " entries, herbtrace-ledger audit "
            << (audit.exit_code == 0 ? "ok" : "FAILED") << ", "
            << absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(100)))
            << "\n";
}

}  // namespace
}  // namespace herbtrace
