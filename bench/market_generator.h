// A whole Anguo market, generated: thousands of growers and their planting bases, a few hundred
// traders, processors, warehouses, labs and pharmacies, and years of their events — harvests of
// the catalog's herbs, drying, storage, trades with committed prices, cleaning, splits into many
// lots (now and then into hundreds), merges, decoction-piece processing, shipments, dispensing and
// lab tests (a small share failing). Every event is one the domain rules accept, in an order they
// accept, signed by the party that makes it with keys derived from the seed: the same seed and
// scale give the same market, byte for byte (Ed25519 signatures are deterministic; SM2's are not).
//
// The market is produced one session at a time — the events one party records in one sitting,
// which is also what its scanner would upload as one offline bundle — so ten million events never
// sit in memory at once. Sessions come in waves: a session depends only on earlier waves and on
// its own earlier events, so the sessions of one wave may be submitted concurrently, and a wave
// must be durable before the next one starts.
//
// One designated harvest (huangqi, 黄芪) is split by a trader into lots sold to processors, who
// split them again into packs: its downstream closure holds about `big_closure_lots` lots
// (≥ 10,000 from one million events on). The last event is the regulator's recall of it. Failing
// tests only fall on pharmacy lots with no descendants, so the big closure stays clean.
//
// Not thread-safe: one generator, one reader.
#ifndef HERBTRACE_BENCH_MARKET_GENERATOR_H_
#define HERBTRACE_BENCH_MARKET_GENERATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/signature.h"
#include "herbtrace/v1/capture.pb.h"
#include "herbtrace/v1/event.pb.h"

namespace herbtrace::bench {

struct MarketOptions {
  uint64_t seed = 1;
  uint64_t target_events = 1'000'000;  // the market stops at exactly this many events
  std::string log_origin = "anguo.herbtrace.example/log";
  std::string catalog_dir = "catalog";  // herbs.csv and quality-limits.csv
};

// How the next events are signed.
enum class Signing {
  kEd25519,  // one Ed25519 signature per event
  kSm2,      // one SM2 signature per event, with the party's second (SM2) key
  kNone,     // unsigned, key id of the party's Ed25519 key: for offline bundles
};

struct GeneratedEvent {
  uint64_t wave = 0;     // sessions of one wave are independent of each other
  uint64_t session = 0;  // one party's sitting; events of one session keep their order
  int party = 0;         // index into the generator's parties, the signer
  v1::SubmitRequest request;
};

// Lots worth querying, noted as the market is generated.
struct Landmarks {
  std::string big_harvest;          // the harvest with the big downstream closure
  uint64_t big_closure_lots = 0;    // lots in that closure, the harvest included
  std::string big_recall_id;        // the recall of it (the market's last event)
  std::vector<std::string> deep_lots;     // the deepest lots: 10 steps below their harvest
  int deep_lot_depth = 0;
  std::vector<std::string> sample_lots;   // processor lots, for batch history
  uint64_t failing_tests = 0;
  uint64_t tests = 0;
};

class MarketGenerator {
 public:
  static absl::StatusOr<std::unique_ptr<MarketGenerator>> Create(const MarketOptions& options);
  ~MarketGenerator();

  // The next event, or false after the last one. Errors only from signing.
  absl::StatusOr<bool> Next(GeneratedEvent& out);
  uint64_t emitted() const;

  void set_signing(Signing signing);
  // The market operator's key: the server's bootstrap key (its genesis signer).
  const crypto::PrivateKey& operator_key() const;
  // The party's Ed25519 key, the one bundles are signed with.
  const crypto::PrivateKey& bundle_key(int party) const;
  const Landmarks& landmarks() const;
  size_t party_count() const;

 private:
  class Impl;
  explicit MarketGenerator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace herbtrace::bench

#endif  // HERBTRACE_BENCH_MARKET_GENERATOR_H_
