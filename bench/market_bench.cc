// The market benchmark: a generated Anguo market (market_generator.h) through the real
// herbtrace-server over gRPC on loopback. Ingest with one signature per event (Ed25519 over 1, 8
// and 64 concurrent SubmitStreams; SM2 over 8) and with signed offline bundles; then the rest of
// the market in bundles, and the queries people ask of it: a lot's history with proofs, the
// upstream lineage of a lot 10 steps below its harvest, the downstream closure and the recall
// scope of the big harvest; the full audit, bytes on disk, the server's peak memory and its
// start-up time on the loaded ledger. Prints a table beside the machine's limits given with
// --limit, and writes JSON.
//
// usage: market_bench --events N --server PATH [--dir DIR] [--catalog DIR] [--json FILE]
//                     [--limit NAME=VALUE]... [--entry_size] [--reuse] [--block_cache_mib N]
//   --entry_size  only prints the mean stored entry size of the market's first events (for
//                 db_bench's --value_size) and exits.
//   --reuse       skips ingest: queries, audits, measures and restarts the market a previous run
//                 left in DIR (DIR/data and DIR/landmarks.json), so a change to a read path is
//                 measured in minutes instead of reloading the market.
//   --block_cache_mib  the server's block cache (default: half of the machine's memory).
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <condition_variable>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/market_generator.h"
#include "crypto/hash.h"
#include "herbtrace/v1/capture.grpc.pb.h"
#include "herbtrace/v1/ledger.grpc.pb.h"
#include "herbtrace/v1/recall.grpc.pb.h"
#include "herbtrace/v1/trace.grpc.pb.h"
#include "services/cli/bundle.h"
#include "tests/process_util.h"

namespace herbtrace::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testing::ChildProcess;

constexpr char kOrigin[] = "anguo.herbtrace.example/log";
// Every call has a deadline, as every client of the platform must: a stream carries a whole
// ingest phase (hours at 10M events on a slow machine), the audit reads the whole log, any
// other call is one request.
constexpr std::chrono::hours kStreamDeadline{12};
constexpr std::chrono::hours kAuditDeadline{2};
constexpr std::chrono::seconds kCallDeadline{60};
// A bundle of up to 2,048 events waits behind the other calls' bundles in the sequencer, and the
// market's last bundle holds the recall of a 12,102-lot closure.
constexpr std::chrono::minutes kBundleDeadline{10};

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU time this client has used so far (user + system, all threads), seconds. The client shares
// the machine's cores with the server, so its cost per event bounds what the server can reach.
double ClientCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "market_bench: %s\n", what.c_str());
  std::exit(1);
}

struct Options {
  uint64_t events = 1'000'000;
  uint64_t seed = 1;
  std::string server;
  std::string dir = "/tmp/herbtrace-market-bench";
  std::string catalog = "catalog";
  std::string json;
  std::map<std::string, double> limits;
  bool entry_size_only = false;
  bool reuse = false;
  int window = 32;           // requests in flight per stream
  int bundle_size = 2048;    // most events per bundle
  int bundle_calls = 4;      // concurrent SubmitBundle calls
  // The server's block cache: half of the machine's memory unless given. The server is the
  // machine's one large process, and the page cache does not hold the ledger here (README).
  uint64_t block_cache_mib = 0;
};

// Latencies in microseconds.
struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
};
Percentiles Summarize(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]; };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.max = v.back();
  return p;
}

// One row of the table.
struct Figure {
  Figure(std::string key, std::string name, double value, std::string unit)
      : key(std::move(key)), name(std::move(name)), value(value), unit(std::move(unit)) {}
  Figure& Beside(std::string what, double at) {
    limit_name = std::move(what);
    limit = at;
    return *this;
  }
  Figure& Target(std::string text, double at, bool higher = true) {
    target = std::move(text);
    target_value = at;
    higher_is_better = higher;
    return *this;
  }

  std::string key;
  std::string name;
  double value = 0;
  std::string unit;
  std::string limit_name;  // the machine's limit it is set beside
  double limit = 0;
  std::string target;      // e.g. ">= 14000"
  double target_value = 0;
  bool higher_is_better = true;
  std::string note;
};

class Report {
 public:
  void Add(Figure f) { figures_.push_back(std::move(f)); }
  nlohmann::json& extra() { return extra_; }
  void Print() const;
  void Write(const std::string& path) const;

 private:
  std::vector<Figure> figures_;
  nlohmann::json extra_ = nlohmann::json::object();
};

std::string Num(double v) {
  if (v >= 100) return absl::StrFormat("%.0f", v);
  if (v >= 10) return absl::StrFormat("%.1f", v);
  return absl::StrFormat("%.3g", v);
}

void Report::Print() const {
  std::printf("\n| figure | HerbTrace | machine limit (same run) | ratio | target | met? |\n");
  std::printf("|---|---:|---:|---:|---:|:---:|\n");
  for (const Figure& f : figures_) {
    std::string limit = "—", ratio = "—", target = f.target.empty() ? "—" : f.target, met = "—";
    if (f.limit > 0) {
      limit = absl::StrCat(f.limit_name, ": ", Num(f.limit));
      ratio = absl::StrFormat("%.2f", f.value / f.limit);
    }
    if (!f.target.empty()) {
      met = (f.higher_is_better ? f.value >= f.target_value : f.value <= f.target_value) ? "yes"
                                                                                           : "NO";
    }
    std::printf("| %s | %s %s | %s | %s | %s | %s |\n", f.name.c_str(), Num(f.value).c_str(),
                f.unit.c_str(), limit.c_str(), ratio.c_str(), target.c_str(), met.c_str());
  }
}

void Report::Write(const std::string& path) const {
  nlohmann::json out = extra_;
  for (const Figure& f : figures_) {
    nlohmann::json j = {{"name", f.name}, {"value", f.value}, {"unit", f.unit}};
    if (f.limit > 0) {
      j["limit"] = {{"name", f.limit_name}, {"value", f.limit}};
      j["ratio"] = f.value / f.limit;
    }
    if (!f.target.empty()) {
      j["target"] = f.target;
      j["met"] = f.higher_is_better ? f.value >= f.target_value : f.value <= f.target_value;
    }
    if (!f.note.empty()) j["note"] = f.note;
    out["figures"][f.key] = j;
  }
  std::ofstream(path) << out.dump(2) << "\n";
}

// ── The server ──────────────────────────────────────────────────────────────────────────────

class Server {
 public:
  Server(const Options& options, const std::filesystem::path& data_dir,
         const std::filesystem::path& bootstrap_key, const std::string& name)
      : port_file_(std::filesystem::path(options.dir) / (name + ".port")) {
    // A reused folder holds the last run's port file and log, whose "listening on" would end the
    // wait for this server before it has started.
    std::filesystem::remove(port_file_);
    std::filesystem::remove(std::filesystem::path(options.dir) / (name + ".log"));
    const std::vector<std::string> args = {
        absl::StrCat("--data_dir=", data_dir.string()),
        absl::StrCat("--bootstrap_key=", bootstrap_key.string()),
        "--listen=127.0.0.1:0",
        absl::StrCat("--port_file=", port_file_.string()),
        "--shutdown_grace=5s",
        // The big closure is larger than the default cap of one lineage query.
        "--max_lineage_lots=1000000",
        "--max_message_bytes=268435456",
        absl::StrCat("--block_cache_mib=", options.block_cache_mib),
    };
    start_ = Clock::now();
    process_ = std::make_unique<ChildProcess>(options.server, args,
                                              std::filesystem::path(options.dir) / (name + ".log"));
    if (!process_->WaitForOutput("listening on", absl::Minutes(30))) {
      Die(absl::StrCat("the server did not start:\n", process_->Output()));
    }
    startup_seconds_ = Seconds(start_, Clock::now());
    std::string port;
    for (int i = 0; i < 500 && port.empty(); ++i) {
      std::ifstream(port_file_) >> port;
      if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    grpc::ChannelArguments channel_args;
    channel_args.SetMaxReceiveMessageSize(256 << 20);
    channel_args.SetMaxSendMessageSize(256 << 20);
    channel_ = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                         grpc::InsecureChannelCredentials(), channel_args);
  }

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  double startup_seconds() const { return startup_seconds_; }
  // Peak resident memory (VmHWM) so far, bytes.
  uint64_t PeakMemory() const {
    std::ifstream in(absl::StrCat("/proc/", process_->pid(), "/status"));
    std::string line;
    while (std::getline(in, line)) {
      uint64_t kb = 0;
      if (line.rfind("VmHWM:", 0) == 0 &&
          absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::StripSuffix(line.substr(6), "kB")), &kb)) {
        return kb * 1024;
      }
    }
    return 0;
  }
  // CPU time the server has used so far (user + system), seconds: on a shared machine this,
  // not the wall clock, says what the server itself costs.
  double CpuSeconds() const {
    std::ifstream in(absl::StrCat("/proc/", process_->pid(), "/stat"));
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
    if (fields.size() < 13) return 0;
    double utime = 0, stime = 0;
    if (!absl::SimpleAtod(fields[11], &utime) || !absl::SimpleAtod(fields[12], &stime)) return 0;
    return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  void Stop() { process_->Stop(SIGTERM, absl::Minutes(5)); }

 private:
  std::filesystem::path port_file_;
  std::unique_ptr<ChildProcess> process_;
  Clock::time_point start_;
  double startup_seconds_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

// ── Ingest ──────────────────────────────────────────────────────────────────────────────────

struct IngestResult {
  uint64_t events = 0;
  uint64_t rejected = 0;
  double seconds = 0;
  std::vector<double> latencies_us;  // per event (streams) or per bundle (bundles)
  double rate() const { return seconds > 0 ? events / seconds : 0; }
};

void NoteRejection(std::atomic<uint64_t>& rejected, const v1::SubmitResponse& r) {
  if (rejected.fetch_add(1) < 5) {
    std::fprintf(stderr, "rejected event %lu %s: %s (%s)\n", static_cast<unsigned long>(r.index()), r.event_id().c_str(),
                 r.error().message().c_str(), r.error().field().c_str());
  }
}

// The events in `waves` (each a list of events that may go concurrently), over `streams`
// SubmitStreams, each keeping `window` requests in flight; a wave is durable before the next.
IngestResult StreamIngest(grpc::Channel& channel,
                          const std::vector<std::vector<GeneratedEvent>>& waves, int streams,
                          int window) {
  auto stub = v1::Capture::NewStub(std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  // Each stream's share of each wave: whole sessions, so a session keeps its order.
  std::vector<std::vector<std::vector<const v1::SubmitRequest*>>> share(
      streams, std::vector<std::vector<const v1::SubmitRequest*>>(waves.size()));
  uint64_t total = 0;
  for (size_t w = 0; w < waves.size(); ++w) {
    for (const GeneratedEvent& e : waves[w]) {
      share[e.session % streams][w].push_back(&e.request);
      ++total;
    }
  }
  std::atomic<uint64_t> rejected{0};
  std::vector<std::vector<double>> latencies(streams);
  std::barrier wave_done(streams);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&, s] {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + kStreamDeadline);
      auto stream = stub->SubmitStream(&context);
      std::mutex mu;
      std::condition_variable cv;
      int in_flight = 0;
      std::vector<Clock::time_point> sent;
      uint64_t expected = 0;
      for (const auto& w : share[s]) expected += w.size();
      sent.resize(expected);
      std::thread reader([&] {
        v1::SubmitResponse response;
        for (uint64_t got = 0; got < expected && stream->Read(&response); ++got) {
          const auto now = Clock::now();
          if (response.has_error()) NoteRejection(rejected, response);
          latencies[s].push_back(
              std::chrono::duration<double, std::micro>(now - sent[response.index()]).count());
          std::lock_guard<std::mutex> lock(mu);
          --in_flight;
          cv.notify_all();
        }
      });
      uint64_t index = 0;
      for (const auto& wave : share[s]) {
        for (const v1::SubmitRequest* request : wave) {
          {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return in_flight < window; });
            ++in_flight;
          }
          sent[index++] = Clock::now();
          if (!stream->Write(*request)) Die("SubmitStream: the server closed the stream");
        }
        {
          // A wave ends when every receipt is in; a receipt that never comes is reported, not
          // waited for forever.
          std::unique_lock<std::mutex> lock(mu);
          if (!cv.wait_for(lock, std::chrono::minutes(2), [&] { return in_flight == 0; })) {
            Die(absl::StrCat("SubmitStream ", s, ": no receipt for ", in_flight,
                             " request(s) after 2 minutes"));
          }
        }
        wave_done.arrive_and_wait();
      }
      stream->WritesDone();
      reader.join();
      const grpc::Status status = stream->Finish();
      if (!status.ok()) Die(absl::StrCat("SubmitStream: ", status.error_message()));
    });
  }
  for (auto& t : threads) t.join();
  IngestResult result;
  result.seconds = Seconds(start, Clock::now());
  result.events = total;
  result.rejected = rejected.load();
  for (auto& l : latencies) result.latencies_us.insert(result.latencies_us.end(), l.begin(), l.end());
  return result;
}

// One wave's offline bundles: each session's events, in order, in bundles of at most `size`.
// Bundles of one session go one after the other; sessions go `calls` at a time.
struct SessionBundles {
  std::vector<v1::SubmitBundleRequest> bundles;
  uint64_t events = 0;
};

std::vector<SessionBundles> BuildBundles(const MarketGenerator& market,
                                         const std::vector<GeneratedEvent>& wave, int size,
                                         const crypto::Hasher& hasher, const std::string& origin) {
  std::vector<SessionBundles> out;
  size_t i = 0;
  while (i < wave.size()) {
    SessionBundles session;
    size_t end = i;
    while (end < wave.size() && wave[end].session == wave[i].session) ++end;
    const crypto::PrivateKey& key = market.bundle_key(wave[i].party);
    for (size_t from = i; from < end; from += size) {
      // The queue's payloads as they are, one root signature over them (bundle.h). BuildBundle
      // would check a per-event signature these offline events do not carry.
      v1::SubmitBundleRequest bundle;
      std::vector<std::string> payloads;
      for (size_t k = from; k < std::min(end, from + size); ++k) {
        v1::BundledEvent* bundled = bundle.add_events();
        bundled->set_payload(wave[k].request.signed_event().payload());
        *bundled->mutable_openings() = wave[k].request.openings();
        payloads.push_back(wave[k].request.signed_event().payload());
      }
      const crypto::Digest root = cli::BundleRoot(hasher, payloads);
      auto signature = key.Sign(cli::BundleMessage(origin, payloads.size(), root));
      if (!signature.ok()) Die(absl::StrCat("bundle: ", signature.status().message()));
      bundle.set_key_id(key.public_key().key_id());
      bundle.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
      bundle.set_root_signature(*std::move(signature));
      session.events += payloads.size();
      session.bundles.push_back(std::move(bundle));
    }
    out.push_back(std::move(session));
    i = end;
  }
  return out;
}

void SubmitBundles(v1::Capture::Stub& stub, std::vector<SessionBundles>& sessions, int calls,
                   IngestResult& result) {
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> rejected{0};
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int c = 0; c < calls; ++c) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      for (size_t s; (s = next.fetch_add(1)) < sessions.size();) {
        for (const v1::SubmitBundleRequest& bundle : sessions[s].bundles) {
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + kBundleDeadline);
          v1::SubmitBundleResponse response;
          const auto start = Clock::now();
          const grpc::Status status = stub.SubmitBundle(&context, bundle, &response);
          mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
          if (!status.ok()) Die(absl::StrCat("SubmitBundle: ", status.error_message()));
          for (const v1::SubmitResponse& r : response.results()) {
            if (r.has_error()) NoteRejection(rejected, r);
          }
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      result.latencies_us.insert(result.latencies_us.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  for (const SessionBundles& s : sessions) result.events += s.events;
  result.rejected += rejected.load();
}

// Reads the market in whole waves. The generator's next event is kept, since only it tells
// where a wave ends.
class WaveReader {
 public:
  explicit WaveReader(MarketGenerator& market) : market_(market) {}
  // Up to `max_events` events, cut into waves; stops early at the end of the market, or at
  // the end of the wave when `whole_waves`.
  std::vector<std::vector<GeneratedEvent>> Read(uint64_t max_events) {
    return ReadUntil(max_events, UINT64_MAX);
  }
  // The next `n` whole waves.
  std::vector<std::vector<GeneratedEvent>> ReadWaves(size_t n) { return ReadUntil(UINT64_MAX, n); }

 private:
  std::vector<std::vector<GeneratedEvent>> ReadUntil(uint64_t max_events, size_t max_waves) {
    std::vector<std::vector<GeneratedEvent>> waves;
    uint64_t n = 0;
    uint64_t wave = UINT64_MAX;
    while (n < max_events) {
      if (!has_next_) {
        auto more = market_.Next(next_);
        if (!more.ok()) Die(absl::StrCat("generator: ", more.status().message()));
        if (!*more) break;
        has_next_ = true;
      }
      if (next_.wave != wave && waves.size() == max_waves) break;
      if (waves.empty() || next_.wave != wave) {
        waves.emplace_back();
        wave = next_.wave;
      }
      waves.back().push_back(std::move(next_));
      has_next_ = false;
      ++n;
    }
    return waves;
  }

  MarketGenerator& market_;
  GeneratedEvent next_;
  bool has_next_ = false;
};

uint64_t Count(const std::vector<std::vector<GeneratedEvent>>& waves) {
  uint64_t n = 0;
  for (const auto& w : waves) n += w.size();
  return n;
}

// ── Queries ─────────────────────────────────────────────────────────────────────────────────

struct QueryResult {
  Percentiles latency_us;
  uint64_t calls = 0;
  double mean_response_bytes = 0;
  double server_cpu_ms = 0;  // per call
};

template <typename Call>
QueryResult Measure(const Server& server, int calls, Call call) {
  QueryResult r;
  const double cpu0 = server.CpuSeconds();
  std::vector<double> latencies;
  double bytes = 0;
  for (int i = 0; i < calls; ++i) {
    const auto start = Clock::now();
    bytes += static_cast<double>(call(i));
    latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  r.latency_us = Summarize(latencies);
  r.server_cpu_ms = (server.CpuSeconds() - cpu0) * 1e3 / calls;
  r.calls = calls;
  r.mean_response_bytes = bytes / calls;
  return r;
}

uint64_t DirectoryBytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

// The landmarks of a loaded market, kept beside it for --reuse.
void SaveLandmarks(const std::filesystem::path& file, const Landmarks& marks, uint64_t events) {
  std::ofstream(file) << nlohmann::json{{"events", events},
                                        {"big_harvest", marks.big_harvest},
                                        {"big_closure_lots", marks.big_closure_lots},
                                        {"big_recall_id", marks.big_recall_id},
                                        {"deep_lots", marks.deep_lots},
                                        {"deep_lot_depth", marks.deep_lot_depth},
                                        {"sample_lots", marks.sample_lots},
                                        {"tests", marks.tests},
                                        {"failing_tests", marks.failing_tests}}
                             .dump();
}

Landmarks LoadLandmarks(const std::filesystem::path& file, uint64_t& events) {
  const nlohmann::json saved =
      nlohmann::json::parse(std::ifstream(file), nullptr, /*allow_exceptions=*/false);
  if (saved.is_discarded()) Die(absl::StrCat(file.string(), ": not JSON"));
  Landmarks marks;
  events = saved.value("events", uint64_t{0});
  marks.big_harvest = saved.value("big_harvest", "");
  marks.big_closure_lots = saved.value("big_closure_lots", uint64_t{0});
  marks.big_recall_id = saved.value("big_recall_id", "");
  marks.deep_lots = saved.value("deep_lots", std::vector<std::string>{});
  marks.deep_lot_depth = saved.value("deep_lot_depth", 0);
  marks.sample_lots = saved.value("sample_lots", std::vector<std::string>{});
  marks.tests = saved.value("tests", uint64_t{0});
  marks.failing_tests = saved.value("failing_tests", uint64_t{0});
  return marks;
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(absl::StrCat(arg, " needs a value"));
      return argv[++i];
    };
    auto number = [&]() -> uint64_t {
      uint64_t n = 0;
      const std::string v = value();
      if (!absl::SimpleAtoi(v, &n)) Die(absl::StrCat(arg, ": not a number: ", v));
      return n;
    };
    if (arg == "--events") o.events = number();
    else if (arg == "--seed") o.seed = number();
    else if (arg == "--server") o.server = value();
    else if (arg == "--dir") o.dir = value();
    else if (arg == "--catalog") o.catalog = value();
    else if (arg == "--json") o.json = value();
    else if (arg == "--window") o.window = static_cast<int>(number());
    else if (arg == "--bundle_size") o.bundle_size = static_cast<int>(number());
    else if (arg == "--bundle_calls") o.bundle_calls = static_cast<int>(number());
    else if (arg == "--entry_size") o.entry_size_only = true;
    else if (arg == "--reuse") o.reuse = true;
    else if (arg == "--block_cache_mib") o.block_cache_mib = number();
    else if (arg == "--limit") {
      const std::string v = value();
      std::vector<std::string> kv = absl::StrSplit(v, absl::MaxSplits('=', 1));
      double d = 0;
      if (kv.size() != 2 || !absl::SimpleAtod(kv[1], &d)) Die(absl::StrCat("--limit ", v));
      o.limits[kv[0]] = d;
    } else {
      Die(absl::StrCat("unknown flag ", arg));
    }
  }
  if (o.block_cache_mib == 0) {
    o.block_cache_mib = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                        static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE)) / 2 / (1 << 20);
  }
  return o;
}

double Limit(const Options& o, const std::string& name) {
  auto it = o.limits.find(name);
  return it == o.limits.end() ? 0 : it->second;
}

// Loads the whole market through the server: the registry one event at a time; the ingest
// figures (per-event Ed25519 at 1, 8 and 64 streams, SM2, offline bundles) into `report`; then
// the rest of the market in bundles as fast as the generator makes it.
void LoadMarket(const Options& options, MarketGenerator& market, const Server& server,
                crypto::Hasher& hasher, Report& report, const std::function<void()>& note_load) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const double ed_all_cores = Limit(options, "ed25519_verify_per_s_1core") * cores;
  const double sm2_all_cores = Limit(options, "sm2_verify_per_s_1core") * cores;
  auto capture = v1::Capture::NewStub(server.channel());
  WaveReader reader(market);

  auto load_waves = [&](std::vector<std::vector<GeneratedEvent>>& waves, IngestResult& result) {
    for (auto& wave : waves) {
      auto sessions = BuildBundles(market, wave, options.bundle_size, hasher, kOrigin);
      SubmitBundles(*capture, sessions, options.bundle_calls, result);
    }
    if (result.rejected > 0) Die(absl::StrCat(result.rejected, " events rejected"));
  };

  // Registration: the operator, the catalog, every party, the limits and the bases. One event
  // at a time: the genesis is self-signed, and no bundle key is registered before it.
  market.set_signing(Signing::kEd25519);
  {
    auto waves = reader.ReadWaves(3);
    const IngestResult registry = StreamIngest(*server.channel(), waves, 8, options.window);
    if (registry.rejected > 0) Die(absl::StrCat("registry: ", registry.rejected, " rejected"));
    std::printf("registry: %lu events (%zu parties) in %.2f s\n",
                static_cast<unsigned long>(registry.events), market.party_count(),
                registry.seconds);
  }

  // Ingest with one signature per event, signed before the clock starts.
  const uint64_t slice = std::clamp<uint64_t>(options.events / 50, 200, 20'000);
  struct StreamCase {
    const char* key;
    const char* name;
    Signing signing;
    int streams;
  };
  const StreamCase cases[] = {
      {"ingest_ed25519_1_stream", "ingest, Ed25519 per event, 1 stream", Signing::kEd25519, 1},
      {"ingest_ed25519_8_streams", "ingest, Ed25519 per event, 8 streams", Signing::kEd25519, 8},
      {"ingest_ed25519_64_streams", "ingest, Ed25519 per event, 64 streams", Signing::kEd25519, 64},
      {"ingest_sm2_8_streams", "ingest, SM2 per event, 8 streams", Signing::kSm2, 8},
  };
  nlohmann::json ingest = nlohmann::json::object();
  for (const StreamCase& c : cases) {
    market.set_signing(c.signing);
    auto waves = reader.Read(slice);
    note_load();
    const double cpu0 = server.CpuSeconds();
    const double client0 = ClientCpuSeconds();
    const IngestResult r = StreamIngest(*server.channel(), waves, c.streams, options.window);
    const double cpu_us = (server.CpuSeconds() - cpu0) * 1e6 / static_cast<double>(r.events);
    const double client_us = (ClientCpuSeconds() - client0) * 1e6 / static_cast<double>(r.events);
    if (r.rejected > 0) Die(absl::StrCat(c.name, ": ", r.rejected, " events rejected"));
    const Percentiles p = Summarize(r.latencies_us);
    std::printf("%s: %lu events in %.2f s, %.0f /s, p50 %.2f ms, p99 %.2f ms (%zu waves); CPU per "
                "event: server %.0f µs, client %.0f µs\n", c.name,
                static_cast<unsigned long>(r.events), r.seconds, r.rate(), p.p50 / 1000,
                p.p99 / 1000, waves.size(), cpu_us, client_us);
    Figure f{c.key, absl::StrFormat("%s (CPU per event: server %.0f µs, client %.0f µs)", c.name,
                                    cpu_us, client_us),
             r.rate(), "events/s"};
    if (c.signing == Signing::kSm2) {
      f.limit_name = "SM2 verify, all cores";
      f.limit = sm2_all_cores;
    } else {
      f.limit_name = "Ed25519 verify, all cores";
      f.limit = ed_all_cores;
      if (c.streams == 64 && ed_all_cores > 0) {
        f.target_value = 0.8 * ed_all_cores;
        f.target = absl::StrFormat(">= %.0f", f.target_value);
      }
    }
    report.Add(f);
    Figure lat{absl::StrCat(c.key, "_receipt_ms"), absl::StrCat("  time to receipt (", c.streams,
               " × ", options.window, " in flight) p50 / p99"), p.p50 / 1000, "ms"};
    lat.note = absl::StrFormat("p99 %.2f ms", p.p99 / 1000);
    lat.name = absl::StrFormat("  time to receipt, %d stream(s) × %d in flight: p50 (p99 %.2f ms)",
                               c.streams, options.window, p.p99 / 1000);
    report.Add(lat);
    ingest[c.key] = {{"events", r.events}, {"seconds", r.seconds}, {"rate", r.rate()},
                     {"server_cpu_us_per_event", cpu_us}, {"client_cpu_us_per_event", client_us},
                     {"p50_ms", p.p50 / 1000}, {"p99_ms", p.p99 / 1000}, {"waves", waves.size()}};
  }
  // Durable single inserts, as a scanner sends them one by one.
  report.Add(Figure{"ingest_1_stream_vs_fsync", "ingest, 1 stream (vs one fsync per insert)",
                    ingest["ingest_ed25519_1_stream"]["rate"].get<double>(), "events/s"}
                 .Beside("db_bench fillseq --sync=1",
                         Limit(options, "db_bench_fillseq_sync_ops_per_s")));

  // Offline bundles: built and signed before the clock starts.
  market.set_signing(Signing::kNone);
  {
    auto waves = reader.Read(std::clamp<uint64_t>(options.events / 5, 1'000, 200'000));
    std::vector<std::vector<SessionBundles>> built;
    uint64_t bundles = 0;
    for (auto& wave : waves) {
      built.push_back(BuildBundles(market, wave, options.bundle_size, hasher, kOrigin));
      for (const auto& s : built.back()) bundles += s.bundles.size();
    }
    waves.clear();
    note_load();
    IngestResult r;
    const double cpu0 = server.CpuSeconds();
    const double client0 = ClientCpuSeconds();
    const auto start = Clock::now();
    for (auto& sessions : built) SubmitBundles(*capture, sessions, options.bundle_calls, r);
    r.seconds = Seconds(start, Clock::now());
    const double cpu_us = (server.CpuSeconds() - cpu0) * 1e6 / static_cast<double>(r.events);
    const double client_us = (ClientCpuSeconds() - client0) * 1e6 / static_cast<double>(r.events);
    if (r.rejected > 0) Die(absl::StrCat("bundles: ", r.rejected, " events rejected"));
    const Percentiles p = Summarize(r.latencies_us);
    const double mean_size = static_cast<double>(r.events) / static_cast<double>(bundles);
    std::printf("bundles: %lu events in %lu bundles (mean %.0f) in %.2f s, %.0f /s, bundle p50 %.2f "
                "ms, p99 %.2f ms\n", static_cast<unsigned long>(r.events),
                static_cast<unsigned long>(bundles), mean_size, r.seconds, r.rate(), p.p50 / 1000,
                p.p99 / 1000);
    Figure f{"ingest_bundles",
             absl::StrFormat("ingest, offline bundles (mean %.0f events, %d calls; CPU per event: "
                             "server %.0f µs, client %.0f µs)", mean_size, options.bundle_calls,
                             cpu_us, client_us),
             r.rate(), "events/s"};
    f.Beside("db_bench fillseq (no sync)", Limit(options, "db_bench_fillseq_ops_per_s"))
        .Target(">= 100000", 100'000);
    report.Add(f);
    report.Add(Figure{"ingest_bundles_receipt_ms",
                      absl::StrFormat("  time to receipt of a bundle: p50 (p99 %.2f ms)", p.p99 / 1000),
                      p.p50 / 1000, "ms"});
    ingest["ingest_bundles"] = {{"events", r.events}, {"bundles", bundles}, {"seconds", r.seconds},
                                {"server_cpu_us_per_event", cpu_us},
                                {"client_cpu_us_per_event", client_us},
                                {"rate", r.rate()}, {"p50_ms", p.p50 / 1000},
                                {"p99_ms", p.p99 / 1000}};
  }

  // The rest of the market, in bundles, as fast as the generator makes it.
  {
    note_load();
    IngestResult load;
    const double cpu0 = server.CpuSeconds();
    const auto start = Clock::now();
    for (;;) {
      auto waves = reader.Read(100'000);
      if (waves.empty()) break;
      load_waves(waves, load);
      std::printf("  loaded %lu events\r", static_cast<unsigned long>(market.emitted()));
      std::fflush(stdout);
    }
    load.seconds = Seconds(start, Clock::now());
    std::printf("loaded the rest: %lu events in %.1f s (%.0f /s, generating included)\n",
                static_cast<unsigned long>(load.events), load.seconds, load.rate());
    const double cpu_us = (server.CpuSeconds() - cpu0) * 1e6 / static_cast<double>(load.events);
    const Percentiles p = Summarize(load.latencies_us);
    std::printf("  server CPU %.0f µs/event; a bundle's response p50 %.2f ms, p99 %.2f ms, slowest "
                "%.2f s\n", cpu_us, p.p50 / 1000, p.p99 / 1000, p.max / 1e6);
    ingest["load_rest"] = {{"events", load.events}, {"seconds", load.seconds}, {"rate", load.rate()},
                           {"server_cpu_us_per_event", cpu_us}, {"bundle_p50_ms", p.p50 / 1000},
                           {"bundle_p99_ms", p.p99 / 1000}, {"slowest_bundle_s", p.max / 1e6}};
  }
  report.extra()["ingest"] = ingest;
}

int Run(const Options& options) {
  MarketOptions market_options;
  market_options.seed = options.seed;
  market_options.target_events = options.events;
  market_options.catalog_dir = options.catalog;
  auto created = MarketGenerator::Create(market_options);
  if (!created.ok()) Die(absl::StrCat("generator: ", created.status().message()));
  MarketGenerator& market = **created;
  auto hasher = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
  if (!hasher.ok()) Die("sha256");

  if (options.entry_size_only) {
    // Signed events as Capture stores them; the entry adds the envelope (~120 bytes).
    WaveReader reader(market);
    const auto waves = reader.Read(std::min<uint64_t>(options.events, 50'000));
    double bytes = 0;
    for (const auto& w : waves) {
      for (const auto& e : w) bytes += static_cast<double>(e.request.signed_event().ByteSizeLong());
    }
    std::printf("%.0f\n", bytes / static_cast<double>(Count(waves)) + 120);
    return 0;
  }
  if (options.server.empty()) Die("--server is required");

  const std::filesystem::path dir(options.dir);
  const std::filesystem::path data = dir / "data";
  const std::filesystem::path bootstrap = dir / "operator.pub.pem";
  const std::filesystem::path landmarks_file = dir / "landmarks.json";
  if (options.reuse) {
    if (!std::filesystem::exists(data)) {
      Die(absl::StrCat("--reuse: ", dir.string(), " holds no market of an earlier run"));
    }
    if (!std::filesystem::exists(landmarks_file)) {
      // A run cut short after loading: the same seed and size give the same landmarks.
      std::printf("no %s: generating the market again (unsigned) for its landmarks...\n",
                  landmarks_file.string().c_str());
      market.set_signing(Signing::kNone);
      GeneratedEvent event;
      for (;;) {
        auto more = market.Next(event);
        if (!more.ok()) Die(absl::StrCat("generator: ", more.status().message()));
        if (!*more) break;
      }
      SaveLandmarks(landmarks_file, market.landmarks(), market.emitted());
    }
  } else {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::ofstream(bootstrap) << *market.operator_key().public_key().ToPem();
  }

  Report report;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  std::vector<std::string> loads;
  auto note_load = [&] { loads.push_back(LoadAverage()); };
  note_load();

  Server server(options, data, bootstrap, "server");
  std::printf("server started in %.2f s (block cache %lu MiB)\n", server.startup_seconds(),
              static_cast<unsigned long>(options.block_cache_mib));
  report.extra()["server_block_cache_mib"] = options.block_cache_mib;
  Landmarks marks;
  uint64_t total_events = 0;
  if (options.reuse) {
    marks = LoadLandmarks(landmarks_file, total_events);
    std::printf("reusing the market in %s: %lu events\n", dir.string().c_str(),
                static_cast<unsigned long>(total_events));
  } else {
    LoadMarket(options, market, server, **hasher, report, note_load);
    marks = market.landmarks();
    total_events = market.emitted();
    SaveLandmarks(landmarks_file, marks, total_events);
  }
  // The sequencer signs a checkpoint once the log is idle; proofs and the audit use it. Then the
  // queries wait for the flushes, compactions and cache warming the load left behind (the
  // server's CPU under 5% of a core for three seconds in a row, at most 5 minutes): they
  // measure the ledger at rest, not background work, which the server's CPU per call would
  // otherwise include.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  {
    const auto start = Clock::now();
    // Three quiet seconds in a row: the server's cache warmer looks for tables to read once a
    // second after the last compaction, and a single quiet second can fall in between.
    int quiet = 0;
    for (double before = server.CpuSeconds(); quiet < 3 && Seconds(start, Clock::now()) < 300;) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const double now = server.CpuSeconds();
      quiet = now - before < 0.05 ? quiet + 1 : 0;
      before = now;
    }
    const double waited = Seconds(start, Clock::now());
    std::printf("the server was idle after %.0f s\n", waited);
    report.extra()["settle_seconds"] = waited;
  }

  // ── Queries ──
  note_load();
  if (marks.deep_lots.empty() || marks.sample_lots.empty() || marks.big_recall_id.empty()) {
    Die("the market is too small for the queries (no deep lot, sample lot or recall)");
  }
  auto trace = v1::Trace::NewStub(server.channel());
  auto recall = v1::Recall::NewStub(server.channel());
  const int calls = 1'000;
  auto check = [](const grpc::Status& s, const char* what) {
    if (!s.ok()) Die(absl::StrCat(what, ": ", s.error_message()));
  };
  // The machine's floor for any query: a call through the same channel, server and access check
  // that the server refuses before reading anything (a code that is no trace code).
  const QueryResult round_trip = Measure(server, calls, [&](int) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    v1::GetHistoryRequest request;
    request.set_code("not a trace code");
    v1::GetHistoryResponse response;
    const grpc::Status status = trace->GetHistory(&context, request, &response);
    if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
      Die(absl::StrCat("GetHistory of no trace code: ", status.error_message()));
    }
    return 0;
  });
  double proof_bytes = 0, proofs = 0;
  const QueryResult history = Measure(server, calls, [&](int i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    v1::GetHistoryRequest request;
    request.set_code(marks.sample_lots[i % marks.sample_lots.size()]);
    v1::GetHistoryResponse response;
    check(trace->GetHistory(&context, request, &response), "GetHistory");
    for (const v1::HistoryEntry& e : response.entries()) {
      proof_bytes += static_cast<double>(e.entry().inclusion_proof().ByteSizeLong());
      ++proofs;
    }
    return response.ByteSizeLong();
  });
  uint64_t upstream_entries = 0, upstream_lots = 0;
  const QueryResult upstream = Measure(server, calls, [&](int i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    v1::GetUpstreamRequest request;
    request.set_code(marks.deep_lots[i % marks.deep_lots.size()]);
    request.set_include_proofs(true);
    v1::GetUpstreamResponse response;
    check(trace->GetUpstream(&context, request, &response), "GetUpstream");
    upstream_entries = response.entries_size();
    upstream_lots = response.batches_size();
    return response.ByteSizeLong();
  });
  const int big_calls = 50;
  uint64_t downstream_lots = 0, recall_lots = 0, recall_holders = 0;
  const QueryResult downstream = Measure(server, big_calls, [&](int) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    v1::GetDownstreamRequest request;
    request.set_code(marks.big_harvest);
    request.set_include_empty(true);
    v1::GetDownstreamResponse response;
    check(trace->GetDownstream(&context, request, &response), "GetDownstream");
    downstream_lots = response.lots_size();
    return response.ByteSizeLong();
  });
  const QueryResult scope = Measure(server, big_calls, [&](int) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    v1::GetRecallRequest request;
    request.set_recall_id(marks.big_recall_id);
    // Every lot with its holder, grams and state now, and the holders' acknowledgements.
    request.set_form(v1::RECALL_SCOPE_FORM_BY_HOLDER);
    v1::RecallView response;
    check(recall->GetRecall(&context, request, &response), "GetRecall");
    recall_lots = 0;
    for (const v1::RecallHolderLots& held : response.lots_by_holder()) {
      recall_lots += static_cast<uint64_t>(held.batch_ids_size());
    }
    recall_holders = response.holders_size();
    return response.ByteSizeLong();
  });
  // The same scope in the LOTS form, whole in one answer: every lot's full current state.
  uint64_t recall_full_lots = 0;
  const QueryResult scope_full = Measure(server, big_calls, [&](int) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    v1::GetRecallRequest request;
    request.set_recall_id(marks.big_recall_id);
    v1::RecallView response;
    check(recall->GetRecall(&context, request, &response), "GetRecall (lots)");
    recall_full_lots = response.lots_size();
    return response.ByteSizeLong();
  });
  auto ms = [](double us) { return us / 1000; };
  auto query_figure = [&](const char* key, std::string name, const QueryResult& q, double target,
                          std::pair<std::string, double> beside = {}) {
    Figure f{key, std::move(name), ms(q.latency_us.p99), "ms p99"};
    if (!beside.first.empty()) f.Beside(std::move(beside.first), beside.second);
    if (target > 0) {
      f.target = absl::StrFormat("<= %g", target);
      f.target_value = target;
      f.higher_is_better = false;
    }
    f.note = absl::StrFormat("p50 %.3f ms, %lu calls, mean response %.0f bytes, server CPU %.3f "
                             "ms/call", ms(q.latency_us.p50), static_cast<unsigned long>(q.calls),
                             q.mean_response_bytes, q.server_cpu_ms);
    f.name = absl::StrFormat("%s (p50 %.3f ms; server CPU %.2f ms/call)", f.name,
                             ms(q.latency_us.p50), q.server_cpu_ms);
    report.Add(f);
  };
  const std::string round_trip_limit = absl::StrFormat(
      "gRPC round trip, a call refused at once, p99 (p50 %.3f ms; server CPU %.3f ms/call)",
      ms(round_trip.latency_us.p50), round_trip.server_cpu_ms);
  query_figure("history_p99_ms", "batch history with proofs", history, 0.3,
               {round_trip_limit, ms(round_trip.latency_us.p99)});
  query_figure("upstream_p99_ms",
               absl::StrFormat("upstream of a %d-step lot with proofs (%lu lots, %lu entries)",
                               marks.deep_lot_depth,
                               static_cast<unsigned long>(upstream_lots),
                               static_cast<unsigned long>(upstream_entries)),
               upstream, 4);
  query_figure("downstream_p99_ms",
               absl::StrFormat("downstream closure of the big harvest (%lu lots)",
                               static_cast<unsigned long>(downstream_lots)),
               downstream, 0);
  query_figure("recall_scope_p99_ms",
               absl::StrFormat("recall scope with holders (%lu lots, %lu holders)",
                               static_cast<unsigned long>(recall_lots),
                               static_cast<unsigned long>(recall_holders)),
               scope, 15);
  query_figure("recall_lots_p99_ms",
               absl::StrFormat("recall scope, every lot's full state in one answer (%lu lots)",
                               static_cast<unsigned long>(recall_full_lots)),
               scope_full, 0);
  report.extra()["queries"] = {
      {"round_trip", {{"server_cpu_ms_per_call", round_trip.server_cpu_ms}, {"p50_ms", ms(round_trip.latency_us.p50)}, {"p99_ms", ms(round_trip.latency_us.p99)}}},
      {"history", {{"server_cpu_ms_per_call", history.server_cpu_ms}, {"p50_ms", ms(history.latency_us.p50)}, {"p99_ms", ms(history.latency_us.p99)},
                   {"mean_bytes", history.mean_response_bytes}}},
      {"upstream", {{"server_cpu_ms_per_call", upstream.server_cpu_ms}, {"p50_ms", ms(upstream.latency_us.p50)}, {"p99_ms", ms(upstream.latency_us.p99)},
                    {"mean_bytes", upstream.mean_response_bytes}, {"lots", upstream_lots},
                    {"entries", upstream_entries}}},
      {"downstream", {{"server_cpu_ms_per_call", downstream.server_cpu_ms}, {"p50_ms", ms(downstream.latency_us.p50)},
                      {"p99_ms", ms(downstream.latency_us.p99)},
                      {"mean_bytes", downstream.mean_response_bytes}, {"lots", downstream_lots}}},
      {"recall_scope", {{"server_cpu_ms_per_call", scope.server_cpu_ms}, {"p50_ms", ms(scope.latency_us.p50)}, {"p99_ms", ms(scope.latency_us.p99)},
                        {"mean_bytes", scope.mean_response_bytes}, {"lots", recall_lots},
                        {"holders", recall_holders}}},
      {"recall_lots", {{"server_cpu_ms_per_call", scope_full.server_cpu_ms},
                       {"p50_ms", ms(scope_full.latency_us.p50)},
                       {"p99_ms", ms(scope_full.latency_us.p99)},
                       {"mean_bytes", scope_full.mean_response_bytes},
                       {"lots", recall_full_lots}}},
  };
  report.Add(Figure{"inclusion_proof_bytes", "inclusion proof, mean size",
                    proofs > 0 ? proof_bytes / proofs : 0, "bytes"});

  // ── Audit ──
  note_load();
  {
    auto ledger = v1::Ledger::NewStub(server.channel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kAuditDeadline);
    v1::AuditRequest request;
    v1::AuditReport audit;
    const double cpu0 = server.CpuSeconds();
    const auto start = Clock::now();
    check(ledger->Audit(&context, request, &audit), "Audit");
    const double seconds = Seconds(start, Clock::now());
    const double cpu = server.CpuSeconds() - cpu0;
    report.extra()["audit"] = {{"entries", audit.entries_checked()}, {"seconds", seconds},
                               {"server_cpu_s", cpu}};
    if (!audit.ok()) Die(absl::StrCat("audit failed at ", audit.first_failure().seq()));
    const double rate = static_cast<double>(audit.entries_checked()) / seconds;
    std::printf("audit: %lu entries in %.2f s\n", static_cast<unsigned long>(audit.entries_checked()),
                seconds);
    report.Add(Figure{"audit_entries_per_s",
                      absl::StrFormat("full audit (Ledger.Audit, %lu entries; %.2f s server CPU)",
                                      static_cast<unsigned long>(audit.entries_checked()), cpu),
                      rate, "entries/s"}
                   .Beside("SHA-256 at the entry size, all cores",
                           Limit(options, "sha256_entry_hashes_per_s_1core") * cores)
                   .Target(">= 1000000", 1'000'000));
  }
  const uint64_t peak = server.PeakMemory();
  server.Stop();
  const uint64_t disk = DirectoryBytes(data);
  report.Add(Figure{"bytes_per_event", "bytes on disk per event (after a clean close)",
                    static_cast<double>(disk) / static_cast<double>(total_events), "bytes"}
                 .Beside("stored entry, mean", Limit(options, "entry_bytes"))
                 .Target("<= 500", 500, /*higher=*/false));
  report.Add(Figure{"server_peak_rss_mib", "server peak memory (VmHWM)",
                    static_cast<double>(peak) / (1 << 20), "MiB"});

  // ── Start-up on the loaded ledger ──
  note_load();
  {
    Server restarted(options, data, bootstrap, "restarted");
    report.Add(Figure{"startup_s", absl::StrFormat("start-up on %lu events (process start to "
                                                   "listening)", static_cast<unsigned long>(total_events)),
                      restarted.startup_seconds(), "s"});
    restarted.Stop();
  }

  report.extra()["events"] = total_events;
  report.extra()["disk_bytes"] = disk;
  report.extra()["landmarks"] = {{"big_harvest", marks.big_harvest},
                                 {"big_closure_lots", marks.big_closure_lots},
                                 {"big_recall_id", marks.big_recall_id},
                                 {"deep_lots", marks.deep_lots.size()},
                                 {"tests", marks.tests},
                                 {"failing_tests", marks.failing_tests}};
  report.extra()["load_average_during_phases"] = loads;
  report.extra()["limits"] = options.limits;
  report.extra()["cores"] = cores;
  std::printf("\nmarket: %lu events, big closure %lu lots, %lu lab tests (%lu failing)\n",
              static_cast<unsigned long>(total_events),
              static_cast<unsigned long>(marks.big_closure_lots),
              static_cast<unsigned long>(marks.tests),
              static_cast<unsigned long>(marks.failing_tests));
  std::printf("load average (1/5/15 min) at each phase: %s\n", absl::StrJoin(loads, " | ").c_str());
  report.Print();
  if (!options.json.empty()) {
    report.Write(options.json);
    std::printf("\nJSON: %s\n", options.json.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace herbtrace::bench

int main(int argc, char** argv) {
  return herbtrace::bench::Run(herbtrace::bench::Parse(argc, argv));
}
