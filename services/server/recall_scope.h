// A recall's scope read from the state the domain rules keep (encodings: state_reader.h) in a
// few passes over sorted keys — one scan of the scope (whose records the rules keep up to date
// with each lot's holder, grams and status), one of the acknowledgements — instead of an
// iterator and a read per lot: a 10,000-lot scope is read in milliseconds.
//
// The lots are RecallScopeLot messages as stored (without acks); the Fill functions
// complete any subset of them, so a paged call reads the acknowledgements and states of its page
// only.
//
// Thread-safe (RocksDB reads only). REQUIRES: db outlives every call.
#ifndef HERBTRACE_SERVICES_SERVER_RECALL_SCOPE_H_
#define HERBTRACE_SERVICES_SERVER_RECALL_SCOPE_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "herbtrace/v1/recall.pb.h"
#include "storage/ledger_db.h"

namespace herbtrace::server {

// The recall's own fields, holders and counters, without lots; each holder's `overdue` is
// filled from this machine's clock. NotFound("recall_id: <id> is not a recall").
absl::StatusOr<v1::RecallView> ReadRecallHeader(const storage::LedgerDb& db,
                                                absl::string_view recall_id);

// Every lot of the scope as stored, by batch_id, appended to `lots`.
absl::Status ReadScopeLots(const storage::LedgerDb& db, absl::string_view recall_id,
                           google::protobuf::RepeatedPtrField<v1::RecallScopeLot>* lots);

// Whether `batch_id` is in the recall's scope: one point read.
absl::StatusOr<bool> ScopeHasLot(const storage::LedgerDb& db, absl::string_view recall_id,
                                 absl::string_view batch_id);

// Appends to each lot its acknowledgements, by seq. `lots` in any order (in batch_id order it
// saves a sort), no lot twice.
absl::Status FillAcks(const storage::LedgerDb& db, absl::string_view recall_id,
                      const std::vector<v1::RecallScopeLot*>& lots);

enum class CurrentState {
  // holder_party_id, remaining_grams, status and last_seq only: what a scope summary shows.
  kSummary,
  // The whole BatchState as the rules keep it.
  kWhole,
};

// Sets `current` of the lots. kSummary: only of lots whose stored record has none (written
// before the rules kept it), from their batch states; kWhole: of every lot, the whole batch
// state. `lots` in any order (in batch_id order it saves a sort). DataLoss naming the batch
// when a lot of the scope has no state (the rules write both in one batch).
absl::Status FillCurrent(const storage::LedgerDb& db, const std::vector<v1::RecallScopeLot*>& lots,
                         CurrentState what);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_RECALL_SCOPE_H_
