// hashes_ mirrors the binary representation of size_: one maximal complete subtree per set bit,
// the highest level first. Appending a leaf is binary increment: each trailing one bit of size_
// is a subtree of the same level as the carry, so the two merge and the carry moves up.
#include "crypto/compact_range.h"

#include <bit>

namespace herbtrace::crypto {

absl::StatusOr<CompactRange> CompactRange::FromNodes(const Hasher& hasher,
                                                     const NodeReader& nodes, uint64_t size) {
  CompactRange range(hasher);
  range.hashes_.reserve(std::popcount(size));
  for (int level = 63; level >= 0; --level) {
    const uint64_t count = size >> level;  // complete subtrees of this level that fit
    if ((count & 1) == 0) continue;
    // The subtree for this bit is the last complete one at its level: index count - 1.
    absl::StatusOr<Digest> node =
        nodes.ReadNode(NodeId{static_cast<uint8_t>(level), count - 1});
    if (!node.ok()) return node.status();
    range.hashes_.push_back(*node);
  }
  range.size_ = size;
  return range;
}

std::vector<std::pair<NodeId, Digest>> CompactRange::Append(const Digest& leaf_hash) {
  std::vector<std::pair<NodeId, Digest>> completed;
  completed.reserve(std::countr_one(size_) + 1);
  NodeId id{0, size_};
  Digest carry = leaf_hash;
  completed.emplace_back(id, carry);
  while ((size_ >> id.level) & 1) {
    carry = HashChildren(*hasher_, hashes_.back(), carry);
    hashes_.pop_back();
    ++id.level;
    id.index >>= 1;
    completed.emplace_back(id, carry);
  }
  hashes_.push_back(carry);
  ++size_;
  return completed;
}

Digest CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot(*hasher_);
  // RFC 9162 splits at the largest power of two, so the biggest subtree is the left child of the
  // root and the rest of the edge nests to its right: H(big, H(mid, small)).
  Digest root = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;) root = HashChildren(*hasher_, hashes_[i], root);
  return root;
}

}  // namespace herbtrace::crypto
