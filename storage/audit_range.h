// The full audit's pass over one range of consecutive entries, run on its own thread beside the
// passes over the other ranges; AuditLedger (audit.h) splits the log, runs the passes and joins
// what they found. Internal to the audit.
//
// A pass reads its entries and their tree nodes in one ordered scan each. Per entry it checks
// the key, re-hashes the stored bytes, recomputes the tree nodes the entry completed and
// compares them with the stored ones, reads the entry's seq, event id, payload and batch links,
// and follows each batch's chain. What needs entries outside the range is handed back for the
// join instead: the first link of each batch the range touches (its previous entry may lie in
// an earlier range), and the stored tree nodes over leaves before the range (their children).
#ifndef HERBTRACE_STORAGE_AUDIT_RANGE_H_
#define HERBTRACE_STORAGE_AUDIT_RANGE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "crypto/hash.h"
#include "rocksdb/options.h"
#include "storage/audit.h"
#include "storage/ledger_db.h"
#include "storage/log_view.h"
#include "storage/record_sum.h"

namespace herbtrace::storage::internal {

// What makes a break the one to report: the earliest entry, and at one entry the check made
// first (its bytes and tree nodes, then the checkpoint, then its contents and links in order).
enum class BreakStage : int { kTree = 0, kCheckpoint = 1, kContents = 2 };
struct Break {
  uint64_t seq = 0;
  BreakStage stage = BreakStage::kTree;
  size_t link = 0;  // which batch link of the entry, for a chain break
  std::string reason;
};
bool Earlier(const Break& a, const Break& b);
// Keeps the earlier of `*first` and `candidate`.
void KeepEarlier(std::optional<Break>& first, Break candidate);

// The first link of a batch in a range that is not the first: its previous entry, if any, is in
// an earlier range.
struct PendingLink {
  uint64_t seq = 0;
  size_t link = 0;
  std::string batch_id;
  std::string prev_leaf_hash;
};

// A stored node the range could not recompute alone: it covers leaves before the range. Always
// above the split level (see RangePlan), so its children are stored nodes of that level or above.
struct DeferredNode {
  uint64_t seq = 0;
  uint8_t level = 0;
  crypto::Digest stored{};
};

using NodeKey = std::pair<uint8_t, uint64_t>;  // (level, index)

struct RangePlan {
  uint64_t begin = 0;
  std::optional<uint64_t> end;  // nullopt: every entry stored from begin on
  // Every range begins on a multiple of 2^split_level, so the nodes of that level and below
  // completed in the range lie wholly inside it.
  int split_level = 0;
  // Tree sizes whose root the join needs (the checkpoint's, the log's): the range ending one of
  // them keeps its subtrees below split_level.
  std::vector<uint64_t> root_sizes;
};

// Copies of the batch ids a range's heads are keyed by, in 64 KiB blocks: one allocation per
// few thousand batches instead of one per batch (the per-batch strings showed in the profile).
// The copies stay where they are when the arena is moved.
class BatchIdArena {
 public:
  absl::string_view Copy(absl::string_view id);

 private:
  static constexpr size_t kBlockSize = 64 << 10;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
};

struct RangeFindings {
  uint64_t entries = 0;  // entries checked, from begin on
  std::optional<Break> failure;
  RecordSum events;  // (event id, seq, payload hash) per entry
  RecordSum links;   // (batch id, seq) per batch link
  BatchIdArena batch_ids;
  // Each batch's newest entry in the range, keyed by ids held in batch_ids.
  absl::flat_hash_map<absl::string_view, BatchHead> heads;
  RecordSum head_sum;  // (batch id, seq, leaf hash) per head
  std::vector<PendingLink> pending;
  std::vector<DeferredNode> deferred;
  // The nodes at split_level and above the range recomputed and found stored.
  absl::flat_hash_map<NodeKey, crypto::Digest> upper_nodes;
  // For each root size ending in this range: its complete subtrees below split_level, highest
  // level first.
  absl::flat_hash_map<uint64_t, std::vector<crypto::Digest>> low_edges;
};

// Runs the pass, adding the entries' index records to the findings' sums under `key`. An error
// status only when the database could not be read. `stop_at` is the
// earliest broken seq any pass has found so far: a pass past it stops (nothing it finds can be
// reported), and a pass that breaks lowers it. `advance` gets the entries checked, in steps.
absl::Status AuditEntryRange(const LedgerDb& db, const rocksdb::ReadOptions& read_options,
                             const crypto::Hasher& hasher, const RecordPrf::Key& key,
                             const AuditOptions& options, const RangePlan& plan, std::atomic<uint64_t>& stop_at,
                             const std::function<void(uint64_t)>& advance,
                             RangeFindings& findings);

}  // namespace herbtrace::storage::internal

#endif  // HERBTRACE_STORAGE_AUDIT_RANGE_H_
