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

 private:
  const LedgerDb& db_;
};

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_TREE_NODES_H_
