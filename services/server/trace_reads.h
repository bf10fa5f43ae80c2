// Reads the Trace and Recall services share: batch state completed from the log, and the tree
// that entries are proven against.
#ifndef HERBTRACE_SERVICES_SERVER_TRACE_READS_H_
#define HERBTRACE_SERVICES_SERVER_TRACE_READS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "herbtrace/v1/ledger.pb.h"
#include "herbtrace/v1/trace.pb.h"
#include "services/server/event_views.h"
#include "services/server/log_source.h"
#include "services/server/read_waits.h"

namespace herbtrace::server {

// The batch's derived state with head_leaf_hash (the newest entry touching it) and
// as_of_tree_size filled from the log: at least `as_of`, and never below the entries the state
// itself reflects. The state and the head are read in one MultiGet, so they agree.
// NotFound("batch_id: <id> is not in the log"). On a replica a batch not found is looked for
// again after one catch-up, so a client reading right after writing finds it (with
// Waiting::kRefused: WouldWait instead).
absl::StatusOr<v1::BatchState> ReadBatch(LogSource& source, const std::string& batch_id,
                                         uint64_t as_of, Waiting waiting = Waiting::kAllowed);

// ReadBatch at the log's size now, read in the same MultiGet as the state and the head.
struct BatchNow {
  uint64_t log_size = 0;
  v1::BatchState state;  // as_of_tree_size at least log_size
};
absl::StatusOr<BatchNow> ReadBatchNow(LogSource& source, const std::string& batch_id,
                                      Waiting waiting = Waiting::kAllowed);

// The tree entries are proven against. `requested` 0: the latest checkpoint (signed anew on the
// writer when it does not cover `needed` entries yet), returned with its cosignatures.
// Otherwise the caller's size: OUT_OF_RANGE("<field>: …") beyond the log. With
// Waiting::kRefused, WouldWait where the writer would sign a checkpoint or a replica catch up.
struct ProofTree {
  uint64_t size = 0;
  std::optional<v1::Checkpoint> checkpoint;
};
absl::StatusOr<ProofTree> ResolveProofTree(LogSource& source, uint64_t requested,
                                           uint64_t needed, absl::string_view field,
                                           Waiting waiting = Waiting::kAllowed);

// Each entry of `seqs` as stored, its leaf hash, and its inclusion proof in the tree of
// `tree_size`, in the order of `seqs`, into the message `add` gives for it. The entries and
// the tree nodes are read in batches (storage::LogView::ProvenEntries), not one by one;
// `log_size`, the log's size as the caller has just read it, if it has.
// REQUIRES: every seq < tree_size.
absl::Status AddProvenEntries(const storage::LogView& view, absl::Span<const uint64_t> seqs,
                              uint64_t tree_size, absl::FunctionRef<v1::ProvenEntry*()> add,
                              std::optional<uint64_t> log_size = std::nullopt);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_TRACE_READS_H_
