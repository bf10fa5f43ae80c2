// A small Anguo market in a real ledger, for the service tests: a ledger with the domain rules
// and an injected clock, parties with Ed25519 keys, and signed events appended the way Capture
// appends them (serialized once, signed, handed over with a VerifiedEvent context).
//
// Populate() registers the market: the operator (genesis, self-signed with the bootstrap key),
// the herb catalog, a regulator, a grower, a trader, a lab, the grower's planting base and the
// quality limits. RunHuangqiChain() then records one batch's life:
//
//   harvest H (100 kg fresh) → process (drying) D (40 kg) → split S1 (10 kg), S2 (20 kg)
//   → trade S1 grower → trader → receive S1 → failed SO2 test on D (holds D, S1, S2)
//   → recall of D → the trader quarantines S1
#ifndef HERBTRACE_TESTS_SERVICES_SERVER_MARKET_FIXTURE_H_
#define HERBTRACE_TESTS_SERVICES_SERVER_MARKET_FIXTURE_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "crypto/signature.h"
#include "herbtrace/v1/entry.pb.h"
#include "herbtrace/v1/event.pb.h"
#include "services/domain/domain_rules.h"
#include "storage/clock.h"
#include "storage/ledger.h"

namespace herbtrace::testing {

inline constexpr char kMarketOrigin[] = "anguo.herbtrace.example/log";
inline constexpr char kLimitsVersion[] = "chp2020-anguo-2024.1";
inline constexpr char kCatalogVersion[] = "anguo-2024.1";

struct Actor {
  std::string party_id;
  std::unique_ptr<crypto::PrivateKey> key;
  const std::string& key_id() const { return key->public_key().key_id(); }
};

// What RunHuangqiChain recorded.
struct HuangqiChain {
  std::string harvest;  // H
  std::string dried;    // D
  std::string lot1;     // S1, sold to the trader
  std::string lot2;     // S2, still the grower's
  std::string trade_event_id;
  std::string test_event_id;
  std::string recall_id;
  uint64_t harvest_seq = 0;
  uint64_t process_seq = 0;
  uint64_t split_seq = 0;
  uint64_t trade_seq = 0;
  uint64_t receive_seq = 0;
  uint64_t test_seq = 0;
  uint64_t recall_seq = 0;
  uint64_t ack_seq = 0;
};

// A NewKey entry for `key` owned by `owner`, with its proof of possession.
v1::NewKey NewKeyFor(const crypto::PrivateKey& key, const std::string& owner,
                     const std::string& label);
// RegisterParty of `party` with its key as the initial key, a valid USCC, region from the id.
v1::Event RegisterPartyEvent(const Actor& party, const std::string& name,
                             const std::vector<v1::PartyRole>& roles);
// Completes `event` as Market::Submit does (event_id if unset, occurred_at = now, party_id,
// log_origin), serializes it once and signs it: what a client sends to Capture.
v1::SignedEvent SignEvent(const Actor& actor, v1::Event& event, absl::Time now,
                          const std::string& event_id);
// Batch code number `sequence` (1..999) of `creator` for `node_type`, created on `day` (China
// Standard Time), with its check digit.
std::string BatchCode(const Actor& creator, int node_type, absl::CivilDay day, int sequence);
// A version 4 (RFC 9562) event id, distinct for every (family, n).
std::string EventIdOf(uint32_t family, uint64_t n);
// Registration of the HUANGQI planting base `base_id` (the owner is the signer).
v1::Event RegisterBaseEvent(const std::string& base_id);
// A harvest of `grams` of HUANGQI from `base_id` on `day`, as batch `batch_id`.
v1::Event HarvestOf(const std::string& base_id, const std::string& batch_id, uint64_t grams,
                    absl::CivilDay day);

class Market {
 public:
  // A new ledger in `dir`/db (the layout herbtrace-server uses) and its log key in
  // `dir`/log-key.pem. The clock starts at 2024-09-15 10:00 China Standard Time.
  static absl::StatusOr<std::unique_ptr<Market>> Create(const std::filesystem::path& dir);

  storage::Ledger& ledger() { return *ledger_; }
  storage::FakeClock& clock() { return clock_; }
  const std::filesystem::path& dir() const { return dir_; }
  const std::string& db_path() const { return db_path_; }
  // Closes the ledger (drains, signs a last checkpoint); ledger() is then invalid.
  void Close() { ledger_.reset(); }

  Actor& market_operator() { return operator_; }
  Actor& regulator() { return regulator_; }
  Actor& grower() { return grower_; }
  Actor& trader() { return trader_; }
  Actor& lab() { return lab_; }
  const std::string& base_id() const { return base_id_; }

  // Fills event_id (fresh UUID) unless set, occurred_at (the clock), party_id (the actor) and
  // log_origin; serializes once, signs, appends through the domain rules.
  absl::StatusOr<v1::Receipt> Submit(const Actor& actor, v1::Event event,
                                     std::vector<v1::Opening> openings = {},
                                     bool self_signed = false);

  absl::Status Populate();
  absl::StatusOr<HuangqiChain> RunHuangqiChain();

  // A new batch code of `creator` for today (the clock's date in UTC+8).
  std::string NewBatchCode(const Actor& creator, int node_type);
  // The grower's harvest of `grams` of HUANGQI from its base today, as batch `batch_id`.
  v1::Event HarvestEvent(const std::string& batch_id, uint64_t grams);
  std::string NewEventId();

  // Signs a checkpoint of everything appended so far; returns the note.
  absl::StatusOr<std::string> Checkpoint() { return ledger_->SignCheckpoint(); }

 private:
  explicit Market(std::filesystem::path dir);
  absl::Status RegisterParty(const Actor& registrar, const Actor& party, const std::string& name,
                             std::vector<v1::PartyRole> roles);

  const std::filesystem::path dir_;
  const std::string db_path_;
  storage::FakeClock clock_;
  std::unique_ptr<domain::DomainRules> rules_;
  std::unique_ptr<storage::Ledger> ledger_;
  Actor operator_, regulator_, grower_, trader_, lab_;
  std::string base_id_;
  uint64_t next_event_ = 1;
  int next_batch_ = 1;
};

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_SERVICES_SERVER_MARKET_FIXTURE_H_
