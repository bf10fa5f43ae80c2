// A whole Merkle tree over leaf hashes held in memory, stored as its complete subtrees (the
// layout merkle.h's proof functions read), so every proof costs O(log n) hashes once it is
// built in O(n). For trees a process builds and proves in one go, such as an offline scanner's
// bundle; the ledger keeps its tree in RocksDB instead.
//
// Immutable after construction; thread-safe.
#ifndef HERBTRACE_CRYPTO_MEMORY_TREE_H_
#define HERBTRACE_CRYPTO_MEMORY_TREE_H_

#include <vector>

#include "crypto/hash.h"
#include "crypto/merkle.h"

namespace herbtrace::crypto {

class MemoryTree final : public NodeReader {
 public:
  // REQUIRES: hasher outlives the tree.
  MemoryTree(const Hasher& hasher, std::vector<Digest> leaves);

  uint64_t size() const { return levels_.front().size(); }
  Digest Root() const;
  // REQUIRES: index < size().
  std::vector<Digest> InclusionProof(uint64_t index) const;

  absl::StatusOr<Digest> ReadNode(NodeId id) const override;

 private:
  const Hasher& hasher_;
  // levels_[l][i] is node (l, i): only complete subtrees.
  std::vector<std::vector<Digest>> levels_;
};

}  // namespace herbtrace::crypto

#endif  // HERBTRACE_CRYPTO_MEMORY_TREE_H_
