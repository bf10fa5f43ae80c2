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

namespace herbtrace::server {

// The batch's derived state with head_leaf_hash (the newest entry touching it) and
// as_of_tree_size filled from the log: at least `as_of`, and never below the entries the state
// itself reflects. NotFound("batch_id: <id> is not in the log"). On a replica a batch not found
// is looked for again after one catch-up, so a client reading right after writing finds it.
absl::StatusOr<v1::BatchState> ReadBatch(LogSource& source, const std::string& batch_id,
                                         uint64_t as_of);

// The tree entries are proven against. `requested` 0: the latest checkpoint (signed anew on the
// writer when it does not cover `needed` entries yet), returned with its cosignatures.
// Otherwise the caller's size: OUT_OF_RANGE("<field>: …") beyond the log.
struct ProofTree {
  uint64_t size = 0;
  std::optional<v1::Checkpoint> checkpoint;
};
absl::StatusOr<ProofTree> ResolveProofTree(LogSource& source, uint64_t requested,
                                           uint64_t needed, absl::string_view field);

// Each entry of `seqs` as stored, its leaf hash, and its inclusion proof in the tree of
// `tree_size`, in the order of `seqs`, into the message `add` gives for it. The entries and
// the tree nodes are read in batches (storage::LogView::ProvenEntries), not one by one.
// REQUIRES: every seq < tree_size.
absl::Status AddProvenEntries(const storage::LogView& view, absl::Span<const uint64_t> seqs,
                              uint64_t tree_size, absl::FunctionRef<v1::ProvenEntry*()> add);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_TRACE_READS_H_
