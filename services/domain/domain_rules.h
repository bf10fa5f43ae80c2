// The domain rules of HerbTrace, enforced on the ledger's sequencer thread for every append in
// sequence order (storage::StateRule). Each rule that rejects an event returns its own status
// with a message naming the field; a rejected event changes nothing.
//
// The rules keep the derived state the services read (see state_reader.h for the encodings):
// the registry (parties, keys, bases, herb catalog, quality-limit tables), every batch's state
// (herb, holder, remaining grams, status, holds, transfers in transit), the holder index, the
// lineage indexes, lab verdicts, recalls with their scope and acknowledgements, and the openings
// of committed fields.
#ifndef HERBTRACE_SERVICES_DOMAIN_DOMAIN_RULES_H_
#define HERBTRACE_SERVICES_DOMAIN_DOMAIN_RULES_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "crypto/hash.h"
#include "services/domain/verified_event.h"
#include "storage/clock.h"
#include "storage/ledger.h"

namespace herbtrace::domain {

struct DomainConfig {
  // Every event's log_origin must equal this (an event signed for one log cannot be replayed
  // into another).
  std::string log_origin;
  // Key id of the market operator's bootstrap key: the one key that may self-sign the genesis
  // RegisterParty of the market operator while the registry is empty.
  std::string bootstrap_key_id;
  // How far into the future occurred_at may be (scanner clocks drift); event.proto's default.
  absl::Duration max_future_skew = absl::Minutes(5);
  // Not owned; default storage::Clock::Real().
  const storage::Clock* clock = nullptr;
};

// Which status each rejection gets, and which roles may sign each kind, are tabled at the top of
// domain_rules.cc.
//
// Thread-compatible: called only from the ledger's sequencer thread.
class DomainRules final : public storage::StateRule {
 public:
  explicit DomainRules(DomainConfig config);
  // REQUIRES: request.context is a VerifiedEvent (Internal otherwise).
  absl::Status Apply(const storage::AppendRequest& request, storage::StateTxn& txn) override;

 private:
  DomainConfig config_;
  // SHA-256 for commitments (every deployment, SM3 ones included); fetched on first use.
  std::unique_ptr<crypto::Hasher> sha256_;
};

}  // namespace herbtrace::domain

#endif  // HERBTRACE_SERVICES_DOMAIN_DOMAIN_RULES_H_
