// Ledger benchmarks: append rate (per-append sync, no sync, group commit under concurrent
// writers), inclusion-proof latency on a large log, and the full-audit rate. Prints a table and
// writes JSON (--json FILE). bench/run.sh runs it beside the machine's own limits.
//
// usage: ledger_bench [--dir DIR] [--entries N] [--payload BYTES] [--json FILE]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "crypto/signature.h"
#include "crypto/signed_note.h"
#include "storage/audit.h"
#include "storage/ledger.h"

namespace herbtrace::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct Result {
  std::string name;
  double value;
  std::string unit;
  std::string detail;
};

std::unique_ptr<crypto::NoteSigner> LogSigner() {
  auto key = crypto::PrivateKey::FromEd25519Seed(std::string(32, 'b'));
  return *crypto::NoteSigner::Create("bench.herbtrace.example/log", *std::move(key));
}

storage::AppendRequest Request(uint64_t n, const std::string& payload) {
  storage::AppendRequest r;
  r.event_id = absl::StrFormat("%08x-0000-4000-8000-%012x", n >> 16, n);
  r.signed_event.set_payload(payload);
  r.signed_event.set_key_id("a1b2c3d4e5f60718");
  r.signed_event.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
  r.signed_event.set_signature(std::string(64, '\x5a'));
  return r;
}

std::unique_ptr<storage::Ledger> OpenFresh(const std::filesystem::path& dir, bool sync) {
  std::filesystem::remove_all(dir);
  storage::Ledger::Options options;
  options.origin = "bench.herbtrace.example/log";
  options.sync = sync;
  auto ledger = storage::Ledger::Open(dir.string(), options, LogSigner());
  if (!ledger.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(ledger.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(ledger);
}

// Appends `total` entries from `writers` threads, each waiting for its receipt before the next
// append (a scanner or service thread waiting for durability).
double AppendRate(storage::Ledger& ledger, int writers, uint64_t total, const std::string& payload,
                  uint64_t first_id) {
  std::atomic<uint64_t> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&] {
      for (uint64_t i; (i = next.fetch_add(1)) < total;) {
        auto r = ledger.Append(Request(first_id + i, payload));
        if (!r.ok()) {
          std::fprintf(stderr, "append: %s\n", std::string(r.status().message()).c_str());
          std::exit(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return total / Seconds(start, Clock::now());
}

// `streams` threads each keep `window` appends in flight, as a scanner's SubmitStream does: the
// next event goes out without waiting for the previous receipt.
double PipelinedRate(storage::Ledger& ledger, int streams, int window, uint64_t total,
                     const std::string& payload) {
  std::atomic<uint64_t> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < streams; ++t) {
    threads.emplace_back([&] {
      struct Window {
        int in_flight = 0;
        int limit = 0;
        bool HasRoom() const { return in_flight < limit; }
        bool Drained() const { return in_flight == 0; }
      };
      absl::Mutex mu;
      Window w{0, window};
      for (uint64_t i; (i = next.fetch_add(1)) < total;) {
        {
          absl::MutexLock lock(&mu);
          mu.Await(absl::Condition(&w, &Window::HasRoom));
          ++w.in_flight;
        }
        ledger.AppendAsync(Request(i, payload), [&](absl::StatusOr<v1::Receipt> r) {
          if (!r.ok()) std::exit(1);
          absl::MutexLock lock(&mu);
          --w.in_flight;
        });
      }
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(&w, &Window::Drained));
    });
  }
  for (auto& t : threads) t.join();
  return total / Seconds(start, Clock::now());
}

// Fills a log fast: many writers without sync, so groups are large.
void Fill(storage::Ledger& ledger, uint64_t total, const std::string& payload) {
  std::atomic<uint64_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 64; ++t) {
    threads.emplace_back([&] {
      for (uint64_t i; (i = next.fetch_add(1)) < total;) {
        ledger.AppendAsync(Request(i, payload), [](absl::StatusOr<v1::Receipt> r) {
          if (!r.ok()) std::exit(1);
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  while (ledger.size() < total) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace
}  // namespace herbtrace::bench

int main(int argc, char** argv) {
  using namespace herbtrace;
  using namespace herbtrace::bench;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "herbtrace-ledger-bench";
  uint64_t entries = 1'000'000;
  size_t payload_size = 250;
  std::string json_path;
  std::string only;  // one scenario, for profiling: sync1, nosync1, group8, streams8, group64, large;
  // "audit" re-audits the large log a previous "--only large" run left in --dir
  // Machine limits measured by bench/run.sh in the same run: name=value.
  std::vector<std::pair<std::string, double>> limits;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--limit") {
      const std::string kv = argv[i + 1];
      const size_t eq = kv.find('=');
      if (eq == std::string::npos) return 2;
      limits.emplace_back(kv.substr(0, eq), std::strtod(kv.c_str() + eq + 1, nullptr));
    } else if (flag == "--only") only = argv[i + 1];
    else if (flag == "--dir") dir = argv[i + 1];
    else if (flag == "--entries") entries = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--payload") payload_size = std::strtoul(argv[i + 1], nullptr, 10);
    else if (flag == "--json") json_path = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  const std::string payload(payload_size, 'p');
  std::vector<Result> results;
  auto report = [&](Result r) {
    std::printf("  %-44s %14.1f %-12s %s\n", r.name.c_str(), r.value, r.unit.c_str(),
                r.detail.c_str());
    std::fflush(stdout);
    results.push_back(std::move(r));
  };
  std::printf("HerbTrace ledger benchmark: payload %zu bytes, large log %llu entries\n",
              payload_size, static_cast<unsigned long long>(entries));

  if (only.empty() || only == "sync1") {
    auto ledger = OpenFresh(dir / "sync1", true);
    report({"append_sync_1_writer", AppendRate(*ledger, 1, 2000, payload, 0), "appends/s",
            "one WAL fsync per append"});
  }
  if (only.empty() || only == "nosync1") {
    auto ledger = OpenFresh(dir / "nosync1", false);
    report({"append_nosync_1_writer", AppendRate(*ledger, 1, 200'000, payload, 0), "appends/s",
            "no fsync; one writer waiting for each receipt"});
  }
  if (only.empty() || only == "group8") {
    auto ledger = OpenFresh(dir / "group8", true);
    report({"append_group_commit_8_writers", AppendRate(*ledger, 8, 40'000, payload, 0),
            "appends/s", "fsync per group; 8 writers"});
  }
  if (only.empty() || only == "streams8") {
    auto ledger = OpenFresh(dir / "streams8", true);
    report({"append_group_commit_8_streams", PipelinedRate(*ledger, 8, 256, 300'000, payload),
            "appends/s", "fsync per group; 8 streams, 256 appends in flight each"});
  }
  if (only.empty() || only == "group64") {
    auto ledger = OpenFresh(dir / "group64", true);
    report({"append_group_commit_64_writers", AppendRate(*ledger, 64, 100'000, payload, 0),
            "appends/s", "fsync per group; 64 writers"});
  }

  // The large log: proof latency and audit rate.
  if (only.empty() || only == "large") {
    auto ledger = OpenFresh(dir / "large", false);
    const auto start = Clock::now();
    Fill(*ledger, entries, payload);
    report({"fill_nosync_64_async", entries / Seconds(start, Clock::now()), "appends/s",
            "bulk load, no fsync"});
    (void)ledger->SignCheckpoint();

    std::mt19937_64 rng(7);
    std::vector<double> micros;
    const uint64_t size = ledger->size();
    for (int i = 0; i < 20'000; ++i) {
      const uint64_t index = rng() % size;
      const auto t0 = Clock::now();
      auto proof = ledger->view().InclusionProof(index, size);
      micros.push_back(Seconds(t0, Clock::now()) * 1e6);
      if (!proof.ok()) return 1;
    }
    std::sort(micros.begin(), micros.end());
    report({"inclusion_proof_p50", micros[micros.size() / 2], "us",
            absl::StrCat("tree of ", size, " entries")});
    report({"inclusion_proof_p99", micros[micros.size() * 99 / 100], "us",
            absl::StrCat("tree of ", size, " entries")});
  }
  if (only.empty() || only == "large" || only == "audit") {
    auto db = storage::LedgerDb::Open((dir / "large").string(),
                                      storage::LedgerDb::Options::ReadOnly());
    if (!db.ok()) return 1;
    const auto start = Clock::now();
    auto audit = storage::AuditLedger(**db);
    const double secs = Seconds(start, Clock::now());
    if (!audit.ok() || !audit->ok()) {
      std::fprintf(stderr, "audit failed\n");
      return 1;
    }
    report({"audit", audit->entries_checked / secs, "entries/s",
            "leaf + tree nodes + batch chains + event index + checkpoint"});
  }

  auto find = [&](const std::string& name) -> double {
    for (const auto& r : results) if (r.name == name) return r.value;
    for (const auto& [k, v] : limits) if (k == name) return v;
    return 0;
  };
  std::vector<std::tuple<std::string, double, double, std::string>> ratios;
  if (!limits.empty()) {
    std::printf("\nMachine limits measured in the same run:\n");
    for (const auto& [k, v] : limits) std::printf("  %-44s %14.1f\n", k.c_str(), v);
    std::printf("\nHerbTrace beside the machine:\n");
    const std::pair<const char*, const char*> pairs[] = {
        {"append_group_commit_8_writers", "db_bench_fillseq_sync_ops_per_s"},
        {"append_group_commit_8_streams", "db_bench_fillseq_ops_per_s"},
        {"append_group_commit_64_writers", "db_bench_fillseq_sync_ops_per_s"},
        {"append_group_commit_64_writers", "db_bench_fillseq_ops_per_s"},
        {"append_nosync_1_writer", "db_bench_fillseq_ops_per_s"},
        {"fill_nosync_64_async", "db_bench_fillseq_ops_per_s"},
        {"append_sync_1_writer", "db_bench_fillseq_sync_ops_per_s"},
        {"audit", "sha256_leaf_hashes_per_s"},
    };
    for (const auto& [ours, theirs] : pairs) {
      const double a = find(ours), b = find(theirs);
      if (a > 0 && b > 0) {
        std::printf("  %-34s / %-34s = %6.2f\n", ours, theirs, a / b);
        ratios.emplace_back(ours, a, b, theirs);
      }
    }
  }

  if (!json_path.empty()) {
    nlohmann::json out;
    for (const auto& [k, v] : limits) out["machine_limits"][k] = v;
    for (const auto& [ours, a, b, theirs] : ratios) {
      out["ratios"].push_back({{"ours", ours}, {"limit", theirs}, {"ratio", a / b}});
    }
    out["payload_bytes"] = payload_size;
    out["entries"] = entries;
    for (const Result& r : results) {
      out["results"].push_back({{"name", r.name}, {"value", r.value}, {"unit", r.unit},
                                {"detail", r.detail}});
    }
    std::ofstream(json_path) << out.dump(2) << "\n";
  }
  if (only.empty()) std::filesystem::remove_all(dir);
  return 0;
}
