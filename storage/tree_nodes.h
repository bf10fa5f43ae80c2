// The `tree` column family as a crypto::NodeReader, and its key encoding.
#ifndef HERBTRACE_STORAGE_TREE_NODES_H_
#define HERBTRACE_STORAGE_TREE_NODES_H_

#include <string>

#include "crypto/merkle.h"
#include "storage/ledger_db.h"

namespace herbtrace::storage {

// u8(level) ‖ u64be(index).
std::string TreeNodeKey(crypto::NodeId id);

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
