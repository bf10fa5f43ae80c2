// The BY_HOLDER form of a whole recall scope read straight into its columns: one scan of the
// stored scope records (which the rules keep up to date with each lot's holder, grams and status
// now), each record's fields decoded from the stored bytes into the holders' columns, without a
// RecallScopeLot built per lot. For callers who see every lot of the scope (regulators, the
// market operator); a holder's view, filtered by acknowledgements, is read through
// recall_scope.h and put in the same columns by GroupByHolder.
//
// Thread-safe (RocksDB reads only). REQUIRES: db outlives every call.
#ifndef HERBTRACE_SERVICES_SERVER_RECALL_COLUMNS_H_
#define HERBTRACE_SERVICES_SERVER_RECALL_COLUMNS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "herbtrace/v1/recall.pb.h"
#include "storage/ledger_db.h"

namespace herbtrace::server {

// Fills view.lots_by_holder (holders by party_id; each holder's lots by depth, then batch_id),
// view.scope_herb_codes (in the order the columns first name them) and view.scope_lots. Lots
// whose record has no state now (written before the rules kept it) are read from their batch
// states. Returns the highest last_seq of any lot now. DataLoss naming the record that does not
// parse, or the batch that has no state.
absl::StatusOr<uint64_t> ReadScopeByHolder(const storage::LedgerDb& db,
                                           absl::string_view recall_id, v1::RecallView& view);

// The same columns from lots already read (a holder's own lots, with `current` filled), in
// batch_id order or by depth then batch_id. Returns the highest last_seq of any lot now.
uint64_t GroupByHolder(const std::vector<v1::RecallScopeLot*>& lots, v1::RecallView& view);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_RECALL_COLUMNS_H_
