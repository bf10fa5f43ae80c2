// Bounded load on one real herbtrace-server over loopback, everything at once for
// HERBTRACE_LOAD_SECONDS (default 20):
//   - 32 scanners, each streaming chunks of signed events on SubmitStream and reading every
//     response;
//   - 4 clients submitting one event at a time (unary Submit);
//   - 2 readers going through Trace, Registry and Ledger reads;
//   - 2 clients that keep writing on a SubmitStream and never read a response: the server's
//     back-pressure must hold them (it stops reading a stream with max_stream_in_flight
//     responses unread) instead of buffering without bound;
//   - 2 clients that cancel their stream after a few responses, and one whose stream deadline
//     cuts it off mid-stream;
//   - one client that opens twice the server's max_concurrent_streams on a single connection.
// Meanwhile a probe keeps reading (GetCheckpoint, GetParty), each call with a deadline; every
// probe call must succeed. Every RPC of every client has a deadline.
//
// Afterwards every receipt any client read is in the log at its seq with its leaf hash and tree
// root, Ledger.Audit passes, the server stops cleanly on SIGTERM and `herbtrace-ledger audit`
// passes. The server's peak resident memory (VmHWM) must stay under kPeakResidentBound, and of
// the events of a client that never reads the server must have taken only a bounded number
// (its in-flight limit per stream, and what the client's window held), not all it was sent.
// The server runs with deliberately small limits here: 20 streams per connection and 64 MiB of
// transport memory.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "herbtrace/v1/capture.grpc.pb.h"
#include "herbtrace/v1/ledger.grpc.pb.h"
#include "herbtrace/v1/registry.grpc.pb.h"
#include "herbtrace/v1/trace.grpc.pb.h"
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
using ::herbtrace::testing::SubmitStreamOptions;
using ::herbtrace::testing::SubmitStreamResult;
using ::herbtrace::testing::TempDir;

constexpr int kScanners = 32;
constexpr int kUnaryClients = 4;
constexpr int kReaders = 2;
constexpr int kNeverReading = 2;
constexpr int kCancelling = 2;
// One grower per writing client, so that no two clients' events depend on each other.
constexpr int kGrowers = kScanners + kUnaryClients + kNeverReading + kCancelling + 2;
constexpr int kDeadlineCutGrower = kGrowers - 2;
constexpr int kGreedyGrower = kGrowers - 1;

// The server's per-connection stream limit in this test (the flag; 100 by default).
constexpr int kMaxConcurrentStreams = 20;
// The server's transport memory in this test (the flag; 256 MiB by default).
constexpr int kMaxTransportMemoryMib = 64;
// What a client that never reads tries to write: far more than the server may keep unanswered.
constexpr int kNeverReadUnits = 6000;
// Peak resident memory the server may reach. A generous bound (the server idles at tens of MiB)
// that an unbounded buffer of unread responses or queued requests would cross.
constexpr uint64_t kPeakResidentBound = 1ull << 30;

constexpr int kUnitsPerStream = 16;
constexpr absl::Duration kCallDeadline = absl::Seconds(60);
constexpr absl::Duration kProbeDeadline = absl::Seconds(15);

struct Counts {
  std::atomic<size_t> stream_calls{0}, unary_calls{0}, read_calls{0}, probe_calls{0},
      cancelled_streams{0}, deadline_cut_streams{0}, greedy_streams{0};
};

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HT_ASSERT_OK_AND_ASSIGN(market_, LiveMarket::Create(dir_.path() / "keys", kGrowers));
    data_dir_ = (dir_.path() / "data").string();
    server_ = std::make_unique<ServerProcess>(
        HERBTRACE_SERVER, dir_.path(),
        std::vector<std::string>{
            absl::StrCat("--data_dir=", data_dir_),
            absl::StrCat("--bootstrap_key=", market_->bootstrap_key().string()),
            absl::StrCat("--max_concurrent_streams=", kMaxConcurrentStreams),
            absl::StrCat("--max_transport_memory_mib=", kMaxTransportMemoryMib),
            "--shutdown_grace=5s"});
    ASSERT_THAT(server_->Start(), IsOk());
    auto capture = v1::Capture::NewStub(NewChannel());
    ASSERT_THAT(market_->Register(*capture, HERBTRACE_SOURCE_DIR "/catalog/herbs.csv"), IsOk());
  }

  std::shared_ptr<grpc::Channel> NewChannel() {
    return grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  }

  HarvestPlan PlanOf(int grower) {
    return HarvestPlan(market_->grower(grower), market_->base_id(grower),
                       0xb0000000u + static_cast<uint32_t>(grower));
  }

  static std::vector<v1::SubmitRequest> Units(HarvestPlan& plan, int units) {
    std::vector<v1::SubmitRequest> requests;
    for (int u = 0; u < units; ++u) {
      for (v1::SubmitRequest& r : plan.NextUnit()) requests.push_back(std::move(r));
    }
    return requests;
  }

  // Books the receipts read; an error response is a failure (every event sent is valid).
  void Book(const std::string& who, const std::vector<v1::SubmitResponse>& responses) {
    for (const v1::SubmitResponse& response : responses) {
      if (response.has_error()) {
        ADD_FAILURE() << who << ", event " << response.event_id() << ": "
                      << response.error().ShortDebugString();
        continue;
      }
      EXPECT_THAT(book_.Add(response.receipt()), IsOk()) << who;
    }
  }

  void AddReadableBatch(const std::string& batch) {
    absl::MutexLock lock(&batches_mu_);
    batches_.push_back(batch);
  }

  std::string SomeBatch(std::mt19937& rng) {
    absl::MutexLock lock(&batches_mu_);
    if (batches_.empty()) return "";
    return batches_[std::uniform_int_distribution<size_t>(0, batches_.size() - 1)(rng)];
  }

  static void Expire(grpc::ClientContext& context, absl::Duration deadline) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  }

  static void NoteSlowest(std::atomic<int64_t>& slowest_us, absl::Duration took) {
    const int64_t us = absl::ToInt64Microseconds(took);
    int64_t seen = slowest_us.load();
    while (us > seen && !slowest_us.compare_exchange_weak(seen, us)) {
    }
  }

  // ── the clients ────────────────────────────────────────────────────────────────────────────

  void Scanner(int grower) {
    HarvestPlan plan = PlanOf(grower);
    auto capture = v1::Capture::NewStub(NewChannel());
    while (!stop_.load()) {
      const std::vector<v1::SubmitRequest> requests = Units(plan, kUnitsPerStream);
      grpc::ClientContext context;
      SubmitStreamOptions options;
      options.deadline = kCallDeadline;
      const SubmitStreamResult result =
          testing::RunSubmitStream(*capture, context, requests, options);
      counts_.stream_calls.fetch_add(1);
      Book(absl::StrCat("scanner ", grower), result.responses);
      EXPECT_TRUE(result.status.ok()) << "scanner " << grower << ": " << result.status.error_message();
      EXPECT_EQ(result.responses.size(), requests.size()) << "scanner " << grower;
      if (!result.responses.empty() && result.responses.front().has_receipt()) {
        AddReadableBatch(plan.batches()[plan.batches().size() - 3 * kUnitsPerStream]);
      }
    }
  }

  void UnaryClient(int grower) {
    HarvestPlan plan = PlanOf(grower);
    auto capture = v1::Capture::NewStub(NewChannel());
    while (!stop_.load()) {
      for (const v1::SubmitRequest& request : plan.NextUnit()) {
        grpc::ClientContext context;
        Expire(context, kCallDeadline);
        v1::SubmitResponse response;
        const grpc::Status status = capture->Submit(&context, request, &response);
        counts_.unary_calls.fetch_add(1);
        ASSERT_TRUE(status.ok()) << "unary client " << grower << ": " << status.error_message();
        EXPECT_THAT(book_.Add(response.receipt()), IsOk());
      }
    }
  }

  void Reader(int id) {
    std::mt19937 rng(id);
    auto channel = NewChannel();
    auto ledger = v1::Ledger::NewStub(channel);
    auto registry = v1::Registry::NewStub(channel);
    auto trace = v1::Trace::NewStub(channel);
    while (!stop_.load()) {
      v1::Checkpoint checkpoint;
      {
        grpc::ClientContext context;
        Expire(context, kCallDeadline);
        const grpc::Status s = ledger->GetCheckpoint(&context, {}, &checkpoint);
        ASSERT_TRUE(s.ok()) << "GetCheckpoint: " << s.error_message();
      }
      if (checkpoint.size() > 0) {
        v1::GetInclusionProofRequest request;
        request.set_seq(std::uniform_int_distribution<uint64_t>(0, checkpoint.size() - 1)(rng));
        request.set_tree_size(checkpoint.size());
        grpc::ClientContext context;
        Expire(context, kCallDeadline);
        v1::GetInclusionProofResponse response;
        const grpc::Status s = ledger->GetInclusionProof(&context, request, &response);
        ASSERT_TRUE(s.ok()) << "GetInclusionProof: " << s.error_message();
      }
      {
        v1::GetPartyRequest request;
        request.set_party_id(market_->grower(static_cast<int>(rng() % kGrowers)).party_id);
        grpc::ClientContext context;
        Expire(context, kCallDeadline);
        v1::Party party;
        const grpc::Status s = registry->GetParty(&context, request, &party);
        ASSERT_TRUE(s.ok()) << "GetParty: " << s.error_message();
      }
      if (const std::string batch = SomeBatch(rng); !batch.empty()) {
        v1::GetHistoryRequest request;
        request.set_code(batch);
        grpc::ClientContext context;
        Expire(context, kCallDeadline);
        v1::GetHistoryResponse history;
        const grpc::Status s = trace->GetHistory(&context, request, &history);
        ASSERT_TRUE(s.ok()) << "GetHistory " << batch << ": " << s.error_message();
      }
      counts_.read_calls.fetch_add(4);
    }
  }

  // Writes `requests` and never reads; ends when the main thread cancels `context`. Its
  // connection keeps a small receive window (64 KiB per stream, not grown by BDP probing, as on
  // a handheld), so unread responses soon stay on the server's side and its back-pressure has
  // to hold the stream.
  void NeverReading(const std::vector<v1::SubmitRequest>& requests, grpc::ClientContext& context,
                    SubmitStreamResult& result) {
    grpc::ChannelArguments small_window;
    small_window.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    small_window.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 << 10);
    auto capture = v1::Capture::NewStub(grpc::CreateCustomChannel(
        server_->address(), grpc::InsecureChannelCredentials(), small_window));
    SubmitStreamOptions options;
    options.never_read = true;
    options.deadline = load_time_ + kCallDeadline;
    result = testing::RunSubmitStream(*capture, context, requests, options);
  }

  void Cancelling(int grower) {
    HarvestPlan plan = PlanOf(grower);
    std::mt19937 rng(grower);
    auto capture = v1::Capture::NewStub(NewChannel());
    while (!stop_.load()) {
      const std::vector<v1::SubmitRequest> requests = Units(plan, kUnitsPerStream);
      grpc::ClientContext context;
      SubmitStreamOptions options;
      options.deadline = kCallDeadline;
      options.cancel_after_responses = rng() % 8;
      const SubmitStreamResult result =
          testing::RunSubmitStream(*capture, context, requests, options);
      counts_.cancelled_streams.fetch_add(1);
      Book(absl::StrCat("cancelling client ", grower), result.responses);
      // OK when the whole stream was answered before the cancel reached the call.
      EXPECT_TRUE(result.status.ok() ||
                  result.status.error_code() == grpc::StatusCode::CANCELLED)
          << result.status.error_message();
    }
  }

  void DeadlineCut() {
    HarvestPlan plan = PlanOf(kDeadlineCutGrower);
    std::mt19937 rng(kDeadlineCutGrower);
    auto capture = v1::Capture::NewStub(NewChannel());
    while (!stop_.load()) {
      const std::vector<v1::SubmitRequest> requests = Units(plan, 4 * kUnitsPerStream);
      grpc::ClientContext context;
      SubmitStreamOptions options;
      options.deadline = absl::Milliseconds(5 + rng() % 60);
      const SubmitStreamResult result =
          testing::RunSubmitStream(*capture, context, requests, options);
      counts_.deadline_cut_streams.fetch_add(1);
      Book("deadline-cut client", result.responses);
      EXPECT_TRUE(result.status.ok() ||
                  result.status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
          << result.status.error_message();
    }
  }

  // Twice the stream limit on one connection: the client queues the streams beyond it until
  // earlier ones end; each stream holds on for a moment after its responses.
  void Greedy() {
    HarvestPlan plan = PlanOf(kGreedyGrower);
    auto capture = v1::Capture::NewStub(NewChannel());
    while (!stop_.load()) {
      std::vector<std::vector<v1::SubmitRequest>> units;
      for (int i = 0; i < 2 * kMaxConcurrentStreams; ++i) units.push_back(plan.NextUnit());
      std::vector<std::thread> streams;
      for (int i = 0; i < 2 * kMaxConcurrentStreams; ++i) {
        streams.emplace_back([this, &capture, &units, i] {
          grpc::ClientContext context;
          Expire(context, kCallDeadline);
          auto stream = capture->SubmitStream(&context);
          std::vector<v1::SubmitResponse> responses;
          for (const v1::SubmitRequest& request : units[i]) {
            if (!stream->Write(request)) break;
            v1::SubmitResponse response;
            if (!stream->Read(&response)) break;
            responses.push_back(std::move(response));
          }
          absl::SleepFor(absl::Milliseconds(200));
          stream->WritesDone();
          const grpc::Status status = stream->Finish();
          EXPECT_TRUE(status.ok()) << "greedy stream " << i << ": " << status.error_message();
          EXPECT_EQ(responses.size(), units[i].size()) << "greedy stream " << i;
          Book("greedy client", responses);
          counts_.greedy_streams.fetch_add(1);
        });
      }
      for (std::thread& t : streams) t.join();
    }
  }

  // Reads with deadlines while everything else runs; every call must succeed.
  void Probe() {
    auto channel = NewChannel();
    auto ledger = v1::Ledger::NewStub(channel);
    auto registry = v1::Registry::NewStub(channel);
    while (!stop_.load()) {
      {
        grpc::ClientContext context;
        Expire(context, kProbeDeadline);
        v1::Checkpoint checkpoint;
        const absl::Time sent = absl::Now();
        const grpc::Status s = ledger->GetCheckpoint(&context, {}, &checkpoint);
        NoteSlowest(probe_checkpoint_us_, absl::Now() - sent);
        EXPECT_TRUE(s.ok()) << "probe GetCheckpoint: " << s.error_message();
      }
      {
        grpc::ClientContext context;
        Expire(context, kProbeDeadline);
        v1::GetPartyRequest request;
        request.set_party_id(market_->grower(0).party_id);
        v1::Party party;
        const absl::Time sent = absl::Now();
        const grpc::Status s = registry->GetParty(&context, request, &party);
        NoteSlowest(probe_party_us_, absl::Now() - sent);
        EXPECT_TRUE(s.ok()) << "probe GetParty: " << s.error_message();
      }
      counts_.probe_calls.fetch_add(2);
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  TempDir dir_;
  std::unique_ptr<LiveMarket> market_;
  std::string data_dir_;
  std::unique_ptr<ServerProcess> server_;
  ReceiptBook book_;
  Counts counts_;
  std::atomic<bool> stop_{false};
  // The probe's slowest answers, for the report (no assertion: performance is bench/'s).
  std::atomic<int64_t> probe_checkpoint_us_{0}, probe_party_us_{0};
  absl::Duration load_time_;
  absl::Mutex batches_mu_;
  std::vector<std::string> batches_ ABSL_GUARDED_BY(batches_mu_);
};

TEST_F(LoadTest, ServesEveryoneUnderAbuseWithBoundedMemoryAndLosesNoReceipt) {
  const char* seconds_env = std::getenv("HERBTRACE_LOAD_SECONDS");
  load_time_ = absl::Seconds(seconds_env != nullptr ? std::atoi(seconds_env) : 20);
  std::cout << "load: " << absl::FormatDuration(load_time_) << " on " << server_->address()
            << ", " << kScanners << " scanners, " << kUnaryClients << " unary clients, "
            << kReaders << " readers, " << kNeverReading << " clients that never read, "
            << kCancelling << " cancelling clients, 1 deadline-cut client, 1 client opening "
            << 2 * kMaxConcurrentStreams << " streams (limit " << kMaxConcurrentStreams
            << "), 1 probe\n"
            << std::flush;
  const absl::Time start = absl::Now();

  std::vector<std::thread> clients;
  for (int i = 0; i < kScanners; ++i) clients.emplace_back([this, i] { Scanner(i); });
  for (int i = 0; i < kUnaryClients; ++i) {
    clients.emplace_back([this, i] { UnaryClient(kScanners + i); });
  }
  for (int i = 0; i < kReaders; ++i) clients.emplace_back([this, i] { Reader(i + 1); });
  std::vector<grpc::ClientContext> never_read_contexts(kNeverReading);
  std::vector<SubmitStreamResult> never_read_results(kNeverReading);
  std::vector<std::vector<v1::SubmitRequest>> never_read_requests;
  for (int i = 0; i < kNeverReading; ++i) {
    HarvestPlan plan = PlanOf(kScanners + kUnaryClients + i);
    never_read_requests.push_back(Units(plan, kNeverReadUnits));
  }
  std::vector<std::thread> never_reading;
  for (int i = 0; i < kNeverReading; ++i) {
    never_reading.emplace_back([this, i, &never_read_contexts, &never_read_results,
                                &never_read_requests] {
      NeverReading(never_read_requests[i], never_read_contexts[i], never_read_results[i]);
    });
  }
  for (int i = 0; i < kCancelling; ++i) {
    clients.emplace_back(
        [this, i] { Cancelling(kScanners + kUnaryClients + kNeverReading + i); });
  }
  clients.emplace_back([this] { DeadlineCut(); });
  clients.emplace_back([this] { Greedy(); });
  clients.emplace_back([this] { Probe(); });

  absl::SleepFor(load_time_);
  stop_.store(true);
  for (std::thread& t : clients) t.join();
  // Still held by back-pressure after the whole run: now they give up.
  for (grpc::ClientContext& context : never_read_contexts) context.TryCancel();
  for (std::thread& t : never_reading) t.join();
  const absl::Duration elapsed = absl::Now() - start;

  HT_ASSERT_OK_AND_ASSIGN(const uint64_t peak, server_->PeakResidentBytes());
  EXPECT_LT(peak, kPeakResidentBound);

  auto ledger = v1::Ledger::NewStub(NewChannel());
  HT_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogSnapshot> log,
                          LogSnapshot::Read(*ledger, kCallDeadline));
  // What held the clients that never read: the server appended a bounded number of their
  // events (max_stream_in_flight, plus the responses their small windows took), not all.
  std::vector<std::string> never_read_figures;
  for (int i = 0; i < kNeverReading; ++i) {
    const SubmitStreamResult& result = never_read_results[i];
    size_t logged = 0;
    for (const v1::SubmitRequest& request : never_read_requests[i]) {
      v1::Event event;
      ASSERT_TRUE(event.ParseFromString(request.signed_event().payload()));
      logged += log->SeqOf(event.event_id()).has_value() ? 1 : 0;
    }
    EXPECT_LT(logged, never_read_requests[i].size())
        << "the server took every event of a client that never read its responses";
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::CANCELLED)
        << result.status.error_message();
    never_read_figures.push_back(absl::StrCat(result.requests_written, " written, ", logged,
                                              " logged of ", never_read_requests[i].size()));
  }
  const ReceiptBook::Check check = book_.CheckAgainst(*log);
  EXPECT_EQ(check.lost, 0u) << absl::StrJoin(check.failures, "\n");
  HT_ASSERT_OK_AND_ASSIGN(const v1::AuditReport audit, testing::AuditLog(*ledger, kCallDeadline));
  EXPECT_TRUE(audit.ok()) << audit.first_failure().ShortDebugString();
  EXPECT_EQ(audit.entries_checked(), log->size());
  ASSERT_THAT(server_->Stop(), IsOk());
  const testing::CommandResult tool_audit =
      testing::RunCommand(absl::StrCat(HERBTRACE_LEDGER_TOOL, " audit --dir ", data_dir_));
  EXPECT_EQ(tool_audit.exit_code, 0) << tool_audit.output;

  std::cout << "load: " << absl::FormatDuration(absl::Trunc(elapsed, absl::Milliseconds(100)))
            << " of load; " << counts_.stream_calls.load() << " scanner streams, "
            << counts_.unary_calls.load() << " unary submits, " << counts_.read_calls.load()
            << " reads, " << counts_.probe_calls.load()
            << " probe reads (all answered; slowest GetCheckpoint "
            << probe_checkpoint_us_.load() / 1000 << " ms, slowest GetParty "
            << probe_party_us_.load() / 1000 << " ms), "
            << counts_.cancelled_streams.load() << " cancelled streams, "
            << counts_.deadline_cut_streams.load() << " deadline-cut streams, "
            << counts_.greedy_streams.load() << " greedy streams; clients that never read: "
            << absl::StrJoin(never_read_figures, "; ") << "\n"
            << "load: " << book_.size() << " receipts held against a log of " << log->size()
            << " entries, lost " << check.lost << "; Audit " << (audit.ok() ? "ok" : "FAILED")
            << ", herbtrace-ledger audit " << (tool_audit.exit_code == 0 ? "ok" : "FAILED")
            << "; server peak resident memory (VmHWM) " << peak / (1 << 20) << " MiB (bound "
            << kPeakResidentBound / (1 << 20) << " MiB)\n";
}

// Memory settings are deliberate: a transport memory limit too small to hold a single message,
// or a negative block cache, is refused at start, before anything is created.
void ExpectRefusedAtStart(absl::string_view flag, absl::string_view message) {
  TempDir dir;
  HT_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LiveMarket> market,
                          LiveMarket::Create(dir.path() / "keys", 1));
  const std::filesystem::path data = dir.path() / "data";
  // Under `timeout`: a server that accepted the setting would serve until killed.
  const testing::CommandResult result = testing::RunCommand(absl::StrCat(
      "timeout 30 ", HERBTRACE_SERVER, " --data_dir=", data.string(), " --bootstrap_key=",
      market->bootstrap_key().string(), " --listen=127.0.0.1:0 ", flag));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_THAT(result.output, ::testing::HasSubstr(message));
  EXPECT_FALSE(std::filesystem::exists(data));
}

TEST(LoadLimitsTest, RefusesATransportMemoryLimitBelow16MiB) {
  ExpectRefusedAtStart("--max_transport_memory_mib=8",
                       "--max_transport_memory_mib must be at least 16");
}

TEST(LoadLimitsTest, RefusesANegativeBlockCache) {
  ExpectRefusedAtStart("--block_cache_mib=-1", "--block_cache_mib must be >= 0");
}

// Server reflection is the one service on gRPC's synchronous API, where every call holds a
// thread while it lasts. A client keeping 90 reflection streams open (on three connections)
// must not get 90 threads: beyond the server's limit (ServerHostOptions::max_sync_threads, 32)
// its calls wait, and HerbTrace's own services keep answering meanwhile.
TEST(LoadLimitsTest, ReflectionStreamsDoNotTakeAThreadEach) {
  constexpr int kConnections = 3;
  constexpr int kStreamsPerConnection = 30;
  constexpr int kStreams = kConnections * kStreamsPerConnection;
  TempDir dir;
  HT_ASSERT_OK_AND_ASSIGN(std::unique_ptr<LiveMarket> market,
                          LiveMarket::Create(dir.path() / "keys", 1));
  ServerProcess server(HERBTRACE_SERVER, dir.path(),
                       {absl::StrCat("--data_dir=", (dir.path() / "data").string()),
                        absl::StrCat("--bootstrap_key=", market->bootstrap_key().string()),
                        "--shutdown_grace=2s"});
  ASSERT_THAT(server.Start(), IsOk());
  HT_ASSERT_OK_AND_ASSIGN(const uint64_t threads_before, server.Threads());

  grpc::CompletionQueue queue;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::GenericClientAsyncReaderWriter>> calls;
  for (int c = 0; c < kConnections; ++c) {
    grpc::ChannelArguments own_connection;
    own_connection.SetInt("herbtrace.test.connection", c);
    stubs.push_back(std::make_unique<grpc::GenericStub>(grpc::CreateCustomChannel(
        server.address(), grpc::InsecureChannelCredentials(), own_connection)));
    for (int i = 0; i < kStreamsPerConnection; ++i) {
      contexts.push_back(std::make_unique<grpc::ClientContext>());
      contexts.back()->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
      calls.push_back(stubs.back()->PrepareCall(
          contexts.back().get(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
          &queue));
      calls.back()->StartCall(nullptr);
    }
  }
  for (int i = 0; i < kStreams; ++i) {
    void* tag;
    bool ok;
    ASSERT_TRUE(queue.Next(&tag, &ok));
  }
  // The server starts a call's thread when the call arrives; give them all time to arrive.
  absl::SleepFor(absl::Seconds(1));
  HT_ASSERT_OK_AND_ASSIGN(const uint64_t threads_during, server.Threads());
  {
    auto ledger = v1::Ledger::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
    v1::Checkpoint checkpoint;
    const grpc::Status s = ledger->GetCheckpoint(&context, {}, &checkpoint);
    EXPECT_TRUE(s.ok()) << "GetCheckpoint beside the reflection streams: " << s.error_message();
  }
  std::vector<grpc::Status> statuses(kStreams);
  for (int i = 0; i < kStreams; ++i) {
    contexts[i]->TryCancel();
    calls[i]->Finish(&statuses[i], &statuses[i]);
  }
  for (int i = 0; i < kStreams; ++i) {
    void* tag;
    bool ok;
    ASSERT_TRUE(queue.Next(&tag, &ok));
  }
  int refused = 0;
  for (const grpc::Status& s : statuses) {
    refused += s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ? 1 : 0;
  }
  std::cout << "reflection: " << kStreams << " streams held open (" << refused
            << " refused with RESOURCE_EXHAUSTED, the rest waited or ran); server threads "
            << threads_before << " before, " << threads_during << " with the streams open\n";
  // A thread per stream would be threads_before + 90.
  EXPECT_LT(threads_during, threads_before + kStreams / 2);
  EXPECT_THAT(server.Stop(), IsOk());
  queue.Shutdown();
  void* tag;
  bool ok;
  while (queue.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace herbtrace
