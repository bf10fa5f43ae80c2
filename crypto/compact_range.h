// The right edge of a growing Merkle tree: the hashes of the maximal complete subtrees covering
// leaves [0, size), at most one per level (the set bits of size). Appending a leaf merges equal
// subtrees and yields every complete subtree that became final, which is exactly what a ledger
// must store so that proofs for any size can be built later (see merkle.h).
//
// Not thread-safe; owned by the single writer (the sequencer).
#ifndef HERBTRACE_CRYPTO_COMPACT_RANGE_H_
#define HERBTRACE_CRYPTO_COMPACT_RANGE_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"

namespace herbtrace::crypto {

class CompactRange {
 public:
  // REQUIRES: hasher outlives the range.
  explicit CompactRange(const Hasher& hasher) : hasher_(&hasher) {}

  // Rebuilds the right edge of a stored tree of `size` leaves with O(log size) reads.
  static absl::StatusOr<CompactRange> FromNodes(const Hasher& hasher, const NodeReader& nodes,
                                                uint64_t size);

  uint64_t size() const { return size_; }

  // Adds one leaf hash. Returns the complete subtrees this leaf completed, the leaf itself
  // first (level 0), then each parent it finished, bottom-up.
  std::vector<std::pair<NodeId, Digest>> Append(const Digest& leaf_hash);

  // The RFC 9162 root of the current size (EmptyRoot for size 0).
  Digest Root() const;

 private:
  const Hasher* hasher_;
  uint64_t size_ = 0;
  // hashes_[i] is the subtree for the i-th set bit of size_, from the highest level down.
  std::vector<Digest> hashes_;
};

}  // namespace herbtrace::crypto

#endif  // HERBTRACE_CRYPTO_COMPACT_RANGE_H_
