// Reads of the state the domain rules keep, for the services (Registry, Trace, Recall) and
// herbctl's server side. Works on the writer's database and on a reader's secondary instance.
//
// Encodings (values are serialized herbtrace.v1 messages unless stated; derived state, not
// hashed; keys are built in state_keys.h):
//   registry       "party/" party_id        → Party (without keys)
//                  "party-role/" NN "/" party_id → ""  (NN = the PartyRole number, 2 digits)
//                  "party-key/" party_id 0x00 key_id → ""
//                  "key/" key_id            → SigningKey
//                  "base/" base_id          → PlantingBase (base_id starts with the owner's id)
//                  "herb/" herb_code        → Herb
//                  "catalog/" version       → u64be(seq of its LoadHerbCatalog)
//                  "catalog-current"        → version of the newest catalog
//                  "limits/" version        → LoadQualityLimits (as loaded, with its seq in
//                                             "limitseq/" version → u64be)
//                  "limits-current"         → version of the newest table
//                  "recall/" recall_id      → RecallView without lots (holders and counters
//                                             included; `overdue` is filled by readers)
//                  "recall-lot/" recall_id 0x00 batch_id → RecallScopeLot without acks; its
//                                             `current` holds the lot's holder, remaining grams,
//                                             status and last_seq now, rewritten with every save
//                                             of the lot's state (none in records written before
//                                             it was kept: readers read the batch state)
//                  "recall-ack/" recall_id 0x00 batch_id 0x00 u64be(seq) → RecallAckRecord
//                  "recall-return/" recall_id 0x00 batch_id → event_id of a RETURNED ack whose
//                                             return is still in transit
//                  "test/" batch_id 0x00 u64be(seq)      → JudgedTest
//                  "transfer/" event_id     → PendingTransfer (grams = Σ of its lots)
//                  "transfer-lot/" event_id 0x00 batch_id → u64be(grams sent)
//                  "transfer-done/" event_id → u64be(seq of the Receive that ended it)
//   batch_state    batch_id                 → BatchState (head and as_of filled by readers)
//   holder_batches holder_party_id 0x00 batch_id → ""  (every batch whose holder_party_id it is,
//                                             closed ones included)
//   lineage_down / lineage_up: see lineage_indexer.h
//   confidential   u64be(seq) ‖ field_path  → Opening
//
// Thread-safe. REQUIRES: db outlives the reader.
#ifndef HERBTRACE_SERVICES_DOMAIN_STATE_READER_H_
#define HERBTRACE_SERVICES_DOMAIN_STATE_READER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "herbtrace/v1/event.pb.h"
#include "herbtrace/v1/recall.pb.h"
#include "herbtrace/v1/registry.pb.h"
#include "herbtrace/v1/trace.pb.h"
#include "storage/ledger_db.h"

namespace herbtrace::domain {

class StateReader {
 public:
  explicit StateReader(const storage::LedgerDb& db) : db_(db) {}

  // NotFound("<field>: <id> is not registered") when absent. Party() includes the party's keys,
  // revoked ones too; Parties() lists them without keys.
  absl::StatusOr<v1::Party> Party(absl::string_view party_id) const;
  absl::StatusOr<std::vector<v1::Party>> Parties() const;
  absl::StatusOr<v1::SigningKey> Key(absl::string_view key_id) const;
  absl::StatusOr<v1::PlantingBase> Base(absl::string_view base_id) const;
  // Every base, or the bases of one owner when owner_party_id is not empty.
  absl::StatusOr<std::vector<v1::PlantingBase>> Bases(absl::string_view owner_party_id) const;
  absl::StatusOr<v1::Herb> Herb(absl::string_view herb_code) const;
  absl::StatusOr<std::vector<v1::Herb>> Herbs() const;

  // NotFound("batch_id: <id> is not in the log") when absent.
  absl::StatusOr<v1::BatchState> Batch(absl::string_view batch_id) const;
  // Direct lineage: lots made from `batch_id`, and the lots it was made from.
  absl::StatusOr<std::vector<std::string>> Children(absl::string_view batch_id) const;
  absl::StatusOr<std::vector<std::string>> Parents(absl::string_view batch_id) const;
  absl::StatusOr<std::vector<std::string>> HeldBy(absl::string_view party_id) const;
  absl::StatusOr<std::vector<v1::JudgedTest>> Tests(absl::string_view batch_id) const;

  absl::StatusOr<std::string> CurrentLimitsVersion() const;
  absl::StatusOr<v1::LoadQualityLimits> Limits(absl::string_view version) const;

  // The recall with its scope (fixed when it was issued), acknowledgements and status per holder.
  absl::StatusOr<v1::RecallView> Recall(absl::string_view recall_id) const;
  absl::StatusOr<std::vector<v1::RecallSummary>> Recalls() const;

 private:
  const storage::LedgerDb& db_;
};

}  // namespace herbtrace::domain

#endif  // HERBTRACE_SERVICES_DOMAIN_STATE_READER_H_
