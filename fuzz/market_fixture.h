// A small Anguo market in a temporary ledger, for the fuzz targets that need registered parties,
// keys and lots, and for the seed generator that signs their seed inputs: the market operator
// (genesis), a regulator, a grower with its planting base, a trader and a lab, the shipped herb
// catalog and quality limits, and two huangqi harvests. Every key is a fixed key (fixed_keys.h)
// and every event id and time is fixed, so the state is the same in every run.
#ifndef HERBTRACE_FUZZ_MARKET_FIXTURE_H_
#define HERBTRACE_FUZZ_MARKET_FIXTURE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/signature.h"
#include "herbtrace/v1/capture.pb.h"
#include "herbtrace/v1/event.pb.h"
#include "services/domain/domain_rules.h"
#include "storage/clock.h"
#include "storage/ledger.h"
#include "storage/ledger_db.h"
#include "storage/state_txn.h"

namespace herbtrace::fuzz {

struct MarketParty {
  std::string party_id;
  std::unique_ptr<crypto::PrivateKey> key;
};

class Market {
 public:
  // Builds the market in a fresh directory under $TMPDIR. The ledger is closed once built and
  // only its database stays open: fuzz inputs are checked against it but never committed.
  static absl::StatusOr<std::unique_ptr<Market>> Create();
  ~Market();  // removes the directory

  // 2024-09-15 10:00 China Standard Time, the clock of every event.
  static absl::Time Now();

  storage::LedgerDb& db() { return *db_; }
  const storage::Clock& clock() const { return clock_; }
  const domain::DomainConfig& config() const { return config_; }
  domain::DomainRules& rules() { return *rules_; }
  uint64_t size() const { return size_; }
  // The latest checkpoint note the ledger signed.
  const std::string& checkpoint() const { return checkpoint_; }

  const MarketParty& market_operator() const { return operator_; }
  const MarketParty& regulator() const { return regulator_; }
  const MarketParty& grower() const { return grower_; }
  const MarketParty& trader() const { return trader_; }
  const MarketParty& lab() const { return lab_; }
  const std::string& base_id() const { return base_id_; }
  // The grower's two harvested huangqi lots, 800 kg and 500 kg.
  const std::string& lot1() const { return lot1_; }
  const std::string& lot2() const { return lot2_; }

  // The domain rules' verdict on `request`, whose payload decodes to `event`, handed over as the
  // capture layer does (key id as signed, openings beside the payload) and judged in a write
  // batch that is then discarded, so the market never changes. `accepted`, if set, sees what an
  // accepted event staged.
  absl::Status Judge(const v1::SubmitRequest& request, const v1::Event& event,
                     const std::function<void(const storage::StateTxn&)>& accepted = nullptr);

  // An event of `party` with the n-th fixed event id (n ≥ 1000 for events outside the setup).
  v1::Event NewEvent(const MarketParty& party, int n) const;
  // A batch code of `party` for today (node type, sequence).
  std::string BatchCode(const MarketParty& party, int node_type, int sequence) const;

 private:
  Market();
  absl::Status Build();

  std::string dir_;
  storage::FakeClock clock_;
  domain::DomainConfig config_;
  std::unique_ptr<domain::DomainRules> rules_;
  std::unique_ptr<storage::LedgerDb> db_;
  uint64_t size_ = 0;
  std::string checkpoint_;
  MarketParty operator_, regulator_, grower_, trader_, lab_;
  std::string base_id_, lot1_, lot2_;
};

}  // namespace herbtrace::fuzz

#endif  // HERBTRACE_FUZZ_MARKET_FIXTURE_H_
