// The `tree` column family: the stored complete subtrees of the log's Merkle tree, grouped by the
// leaf that completed them.
//
//   key   := u64be(seq)
//   value := the hashes of the complete subtrees that leaf `seq` completed, bottom-up: the leaf
//            hash itself (level 0), then one hash per level up to the number of trailing one
//            bits of seq. 32 × (1 + trailing ones) bytes; two hashes per leaf on average.
//
// Node (level, index) is therefore the `level`-th hash stored under seq = ((index + 1) << level)
// − 1: one point read per node, one key written per append.
#ifndef HERBTRACE_STORAGE_TREE_NODES_H_
#define HERBTRACE_STORAGE_TREE_NODES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "crypto/merkle.h"
#include "storage/ledger_db.h"

namespace herbtrace::storage {

// The key under which node `id` is stored.
std::string TreeNodeKey(crypto::NodeId id);

// The value for one leaf: the nodes CompactRange::Append returned for it, in that order.
std::string EncodeTreeNodes(const std::vector<std::pair<crypto::NodeId, crypto::Digest>>& nodes);

// Thread-safe. REQUIRES: db outlives the reader.
class TreeNodeReader final : public crypto::NodeReader {
 public:
  explicit TreeNodeReader(const LedgerDb& db) : db_(db) {}
  absl::StatusOr<crypto::Digest> ReadNode(crypto::NodeId id) const override;
  // One RocksDB MultiGet for all of them (a leaf's proof nodes below the cached levels share a
  // few keys and usually one block).
  absl::StatusOr<std::vector<crypto::Digest>> ReadNodes(
      absl::Span<const crypto::NodeId> ids) const override;

 private:
  const LedgerDb& db_;
};

// Keeps the nodes of level kCachedLevel and up once read. Every inclusion proof of an entry
// below such a node reads it, and a stored complete subtree never changes, so these few nodes
// (one per 64 leaves) are read from the database once instead of on every proof: a proof in a
// tree of a million entries then reads 6 nodes, not 20. At most kMaxNodes are kept (a log of
// 16 million entries), a few tens of MiB.
//
// Thread-safe. REQUIRES: base outlives the reader.
class CachedNodeReader final : public crypto::NodeReader {
 public:
  static constexpr int kCachedLevel = 6;
  static constexpr size_t kMaxNodes = size_t{1} << 18;

  explicit CachedNodeReader(const crypto::NodeReader& base) : base_(base) {}
  absl::StatusOr<crypto::Digest> ReadNode(crypto::NodeId id) const override;
  // The cached ones from memory, the rest in one base ReadNodes call.
  absl::StatusOr<std::vector<crypto::Digest>> ReadNodes(
      absl::Span<const crypto::NodeId> ids) const override;

 private:
  const crypto::NodeReader& base_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::pair<uint8_t, uint64_t>, crypto::Digest> nodes_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_TREE_NODES_H_
