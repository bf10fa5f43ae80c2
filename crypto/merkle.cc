// Proof generation walks the RFC 9162 recursion over [lo, hi) ranges of leaves. Every range that
// recursion visits is either a complete aligned subtree (one stored node, one read) or lies on the
// ragged right edge of the tree (hi == tree size), whose hash is folded from the maximal complete
// subtrees covering it (one read per set bit of hi - lo). A proof path descends the right edge
// until it first turns left; below that turn everything is complete, so the right edge is folded
// at most once per proof and a proof costs at most about 2 * log2(size) reads.
//
// Verification follows the RFC 9162 §2.1.3.2 and §2.1.4.2 loops literally, including their
// termination rule (sn must reach 0 exactly with the last proof hash), which is what rejects a
// truncated or padded proof; the expected length (transparency-dev/merkle's decomposition) is
// computed only to name it in that InvalidArgument.
#include "crypto/merkle.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace herbtrace::crypto {
namespace {

// The split point k of RFC 9162 §2.1.1: the largest power of two strictly below n. REQUIRES n > 1.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// Whether [lo, hi) is a single stored node: a power-of-two length starting on a multiple of it.
bool IsCompleteSubtree(uint64_t lo, uint64_t hi) {
  const uint64_t n = hi - lo;
  return std::has_single_bit(n) && (lo & (n - 1)) == 0;
}

absl::StatusOr<Digest> ReadCompleteSubtree(const NodeReader& nodes, uint64_t lo, uint64_t hi) {
  const int level = std::countr_zero(hi - lo);
  return nodes.ReadNode(NodeId{static_cast<uint8_t>(level), lo >> level});
}

// MTH(D[lo:hi]) for a range the RFC recursion visits. REQUIRES hi > lo, and either [lo, hi) is
// complete or lo is aligned to a power of two >= hi - lo (true of every right-edge range), so the
// maximal complete subtrees of [lo, hi) are, left to right, one per set bit of hi - lo from the
// highest down, and the RFC shape folds them right to left: H(big, H(mid, small)).
absl::StatusOr<Digest> SubtreeHash(const Hasher& hasher, const NodeReader& nodes, uint64_t lo,
                                   uint64_t hi) {
  if (IsCompleteSubtree(lo, hi)) return ReadCompleteSubtree(nodes, lo, hi);
  uint64_t remaining = hi - lo;  // set bits still to fold, lowest (rightmost subtree) first
  Digest acc;
  bool have_acc = false;
  while (remaining != 0) {
    const uint64_t width = remaining & (~remaining + 1);  // lowest set bit
    remaining &= remaining - 1;
    const uint64_t start = lo + remaining;  // the bigger subtrees to its left come first
    absl::StatusOr<Digest> node = ReadCompleteSubtree(nodes, start, start + width);
    if (!node.ok()) return node.status();
    acc = have_acc ? HashChildren(hasher, *node, acc) : *node;
    have_acc = true;
  }
  return acc;
}

// A range of leaves [lo, hi) whose hash a proof carries: a complete subtree, or a range on the
// ragged right edge (hi == tree size).
struct LeafRange {
  uint64_t lo;
  uint64_t hi;
};

// The ranges of PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), deepest sibling first: the RFC
// recursion unrolled. REQUIRES index < size.
std::vector<LeafRange> InclusionPathRanges(uint64_t index, uint64_t size) {
  std::vector<LeafRange> path;
  uint64_t lo = 0;
  uint64_t hi = size;
  while (hi - lo > 1) {
    const uint64_t mid = lo + SplitPoint(hi - lo);
    if (index < mid) {
      path.push_back({mid, hi});
      hi = mid;
    } else {
      path.push_back({lo, mid});
      lo = mid;
    }
  }
  std::reverse(path.begin(), path.end());
  return path;
}

// Appends the stored nodes MTH(D[lo:hi]) is folded from, as SubtreeHash reads them.
void AppendRangeNodes(const LeafRange& range, std::vector<NodeId>& ids) {
  if (IsCompleteSubtree(range.lo, range.hi)) {
    const int level = std::countr_zero(range.hi - range.lo);
    ids.push_back(NodeId{static_cast<uint8_t>(level), range.lo >> level});
    return;
  }
  uint64_t remaining = range.hi - range.lo;
  while (remaining != 0) {
    const uint64_t width = remaining & (~remaining + 1);
    remaining &= remaining - 1;
    const int level = std::countr_zero(width);
    ids.push_back(NodeId{static_cast<uint8_t>(level), (range.lo + remaining) >> level});
  }
}

bool NodeBefore(const NodeId& a, const NodeId& b) {
  return a.level != b.level ? a.level < b.level : a.index < b.index;
}

// Nodes already read, looked up by id: SubtreeHash over them instead of the database.
class ReadNodesView final : public NodeReader {
 public:
  // REQUIRES: ids sorted by NodeBefore and unique; hashes[i] is the node ids[i].
  ReadNodesView(absl::Span<const NodeId> ids, absl::Span<const Digest> hashes)
      : ids_(ids), hashes_(hashes) {}
  absl::StatusOr<Digest> ReadNode(NodeId id) const override {
    auto at = std::lower_bound(ids_.begin(), ids_.end(), id, NodeBefore);
    if (at == ids_.end() || !(*at == id)) {
      return absl::InternalError(absl::StrCat("inclusion proofs: node (level ", id.level,
                                              ", index ", id.index, ") was not planned"));
    }
    return hashes_[at - ids_.begin()];
  }

 private:
  absl::Span<const NodeId> ids_;
  absl::Span<const Digest> hashes_;
};

// Appends SUBPROOF(size1 - lo, D[lo:hi], whole) (RFC 9162 §2.1.4.1) to `proof`.
absl::Status AppendConsistencyPath(const Hasher& hasher, const NodeReader& nodes, uint64_t size1,
                                   uint64_t lo, uint64_t hi, bool whole,
                                   std::vector<Digest>& proof) {
  if (size1 == hi) {
    if (whole) return absl::OkStatus();
    // Only reached inside a complete subtree (size1 < size2 keeps the right edge out of it).
    absl::StatusOr<Digest> node = SubtreeHash(hasher, nodes, lo, hi);
    if (!node.ok()) return node.status();
    proof.push_back(*node);
    return absl::OkStatus();
  }
  const uint64_t mid = lo + SplitPoint(hi - lo);
  const bool left = size1 <= mid;
  absl::Status status = left ? AppendConsistencyPath(hasher, nodes, size1, lo, mid, whole, proof)
                             : AppendConsistencyPath(hasher, nodes, size1, mid, hi, false, proof);
  if (!status.ok()) return status;
  absl::StatusOr<Digest> sibling =
      left ? SubtreeHash(hasher, nodes, mid, hi) : ReadCompleteSubtree(nodes, lo, mid);
  if (!sibling.ok()) return sibling.status();
  proof.push_back(*sibling);
  return absl::OkStatus();
}

// transparency-dev/merkle's decomposition of an inclusion proof for `index` in a tree of `size`:
// `inner` nodes below the point where the path to index leaves the path to the last leaf, then
// `border` nodes along the right edge.
struct InclusionShape {
  int inner;
  int border;
};
InclusionShape DecomposeInclusion(uint64_t index, uint64_t size) {
  const int inner = std::bit_width(index ^ (size - 1));
  // index >> 64 would be undefined; inner == 64 leaves no bits of index above it.
  const int border = inner >= 64 ? 0 : std::popcount(index >> inner);
  return {inner, border};
}

absl::Status WrongInclusionLength(uint64_t index, uint64_t size, size_t got) {
  const InclusionShape shape = DecomposeInclusion(index, size);
  return absl::InvalidArgumentError(absl::StrCat("inclusion proof: has ", got, " hashes, want ",
                                                 shape.inner + shape.border, " for leaf ", index,
                                                 " of ", size));
}

// REQUIRES 0 < size1 < size2.
absl::Status WrongConsistencyLength(uint64_t size1, uint64_t size2, size_t got) {
  const InclusionShape shape = DecomposeInclusion(size1 - 1, size2);
  // Levels below the largest complete subtree ending at size1 are not in the proof; that
  // subtree's own hash is, unless it is the whole old tree (root1).
  const int want = (std::has_single_bit(size1) ? 0 : 1) +
                   (shape.inner - std::countr_zero(size1)) + shape.border;
  return absl::InvalidArgumentError(absl::StrCat("consistency proof: has ", got, " hashes, want ",
                                                 want, " from size ", size1, " to ", size2));
}

// "<proof>: calculated root … does not match expected root … <which>".
absl::Status RootMismatch(absl::string_view proof, const Digest& calculated,
                          const Digest& expected, absl::string_view which) {
  return absl::DataLossError(absl::StrCat(proof, ": calculated root ", ToHex(calculated),
                                          " does not match expected root ", ToHex(expected), " ",
                                          which));
}

// The verification loops' step after hashing in a left sibling (RFC 9162 §2.1.3.2 and §2.1.4.2):
// "if LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set or
// fn is 0". fn was the last node of its level, with no right sibling, so it is carried up
// unchanged until it becomes a right child; the proof has no hashes for those levels.
void CarryUpLastNode(uint64_t& fn, uint64_t& sn) {
  while ((fn & 1) == 0 && fn != 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

// RFC 9162 §2.1.1 MTH, PATH and PROOF written as the RFC states them: O(n) hashes per call.
Digest ReferenceRoot(const Hasher& hasher, absl::Span<const Digest> leaves) {
  if (leaves.empty()) return EmptyRoot(hasher);
  if (leaves.size() == 1) return leaves[0];
  const size_t k = SplitPoint(leaves.size());
  return HashChildren(hasher, ReferenceRoot(hasher, leaves.subspan(0, k)),
                      ReferenceRoot(hasher, leaves.subspan(k)));
}

void ReferencePath(const Hasher& hasher, absl::Span<const Digest> leaves, uint64_t index,
                   std::vector<Digest>& proof) {
  if (leaves.size() <= 1) return;
  const size_t k = SplitPoint(leaves.size());
  if (index < k) {
    ReferencePath(hasher, leaves.subspan(0, k), index, proof);
    proof.push_back(ReferenceRoot(hasher, leaves.subspan(k)));
  } else {
    ReferencePath(hasher, leaves.subspan(k), index - k, proof);
    proof.push_back(ReferenceRoot(hasher, leaves.subspan(0, k)));
  }
}

void ReferenceSubproof(const Hasher& hasher, absl::Span<const Digest> leaves, uint64_t size1,
                       bool whole, std::vector<Digest>& proof) {
  if (size1 == leaves.size()) {
    if (!whole) proof.push_back(ReferenceRoot(hasher, leaves));
    return;
  }
  const size_t k = SplitPoint(leaves.size());
  if (size1 <= k) {
    ReferenceSubproof(hasher, leaves.subspan(0, k), size1, whole, proof);
    proof.push_back(ReferenceRoot(hasher, leaves.subspan(k)));
  } else {
    ReferenceSubproof(hasher, leaves.subspan(k), size1 - k, false, proof);
    proof.push_back(ReferenceRoot(hasher, leaves.subspan(0, k)));
  }
}

}  // namespace

Digest HashLeaf(const Hasher& hasher, absl::string_view entry) {
  return hasher.HashWithPrefix(kLeafPrefix, entry);
}

Digest HashChildren(const Hasher& hasher, const Digest& left, const Digest& right) {
  return hasher.HashPair(kNodePrefix, left, right);
}

Digest EmptyRoot(const Hasher& hasher) { return hasher.Hash(""); }

absl::StatusOr<Digest> TreeRoot(const Hasher& hasher, const NodeReader& nodes, uint64_t size) {
  if (size == 0) return EmptyRoot(hasher);
  return SubtreeHash(hasher, nodes, 0, size);
}

absl::StatusOr<std::vector<Digest>> NodeReader::ReadNodes(absl::Span<const NodeId> ids) const {
  std::vector<Digest> out;
  out.reserve(ids.size());
  for (const NodeId& id : ids) {
    absl::StatusOr<Digest> node = ReadNode(id);
    if (!node.ok()) return node.status();
    out.push_back(*node);
  }
  return out;
}

absl::StatusOr<std::vector<Digest>> InclusionProof(const Hasher& hasher, const NodeReader& nodes,
                                                   uint64_t index, uint64_t size) {
  absl::StatusOr<std::vector<std::vector<Digest>>> proofs =
      InclusionProofs(hasher, nodes, absl::MakeConstSpan(&index, 1), size);
  if (!proofs.ok()) return proofs.status();
  return std::move(proofs->front());
}

absl::StatusOr<std::vector<std::vector<Digest>>> InclusionProofs(const Hasher& hasher,
                                                                 const NodeReader& nodes,
                                                                 absl::Span<const uint64_t> indices,
                                                                 uint64_t size) {
  std::vector<std::vector<LeafRange>> paths;
  paths.reserve(indices.size());
  std::vector<NodeId> ids;
  for (uint64_t index : indices) {
    if (index >= size) {
      return absl::InvalidArgumentError(absl::StrCat("inclusion proof: leaf ", index,
                                                     " is not in a tree of size ", size));
    }
    paths.push_back(InclusionPathRanges(index, size));
    for (const LeafRange& range : paths.back()) AppendRangeNodes(range, ids);
  }
  std::sort(ids.begin(), ids.end(), NodeBefore);
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  absl::StatusOr<std::vector<Digest>> hashes = nodes.ReadNodes(ids);
  if (!hashes.ok()) return hashes.status();
  if (hashes->size() != ids.size()) {
    return absl::InternalError(absl::StrCat("inclusion proofs: asked for ", ids.size(),
                                            " stored nodes, got ", hashes->size()));
  }
  const ReadNodesView read(ids, *hashes);

  // The right edge's ranges, folded once: proofs of old entries share the top ones.
  std::vector<std::pair<LeafRange, Digest>> right_edge;
  std::vector<std::vector<Digest>> proofs;
  proofs.reserve(paths.size());
  for (const std::vector<LeafRange>& path : paths) {
    std::vector<Digest>& proof = proofs.emplace_back();
    proof.reserve(path.size());
    for (const LeafRange& range : path) {
      if (!IsCompleteSubtree(range.lo, range.hi)) {
        auto known = std::find_if(right_edge.begin(), right_edge.end(),
                                  [&range](const auto& e) {
                                    return e.first.lo == range.lo && e.first.hi == range.hi;
                                  });
        if (known != right_edge.end()) {
          proof.push_back(known->second);
          continue;
        }
      }
      absl::StatusOr<Digest> hash = SubtreeHash(hasher, read, range.lo, range.hi);
      if (!hash.ok()) return hash.status();
      if (!IsCompleteSubtree(range.lo, range.hi)) right_edge.emplace_back(range, *hash);
      proof.push_back(*hash);
    }
  }
  return proofs;
}

absl::StatusOr<std::vector<Digest>> ConsistencyProof(const Hasher& hasher,
                                                     const NodeReader& nodes, uint64_t size1,
                                                     uint64_t size2) {
  if (size1 == 0 || size1 > size2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "consistency proof: need 0 < size1 <= size2, got size1 ", size1, " size2 ", size2));
  }
  std::vector<Digest> proof;
  if (size1 == size2) return proof;
  absl::Status status = AppendConsistencyPath(hasher, nodes, size1, 0, size2, true, proof);
  if (!status.ok()) return status;
  return proof;
}

absl::StatusOr<Digest> RootFromInclusionProof(const Hasher& hasher, uint64_t index, uint64_t size,
                                              const Digest& leaf_hash,
                                              absl::Span<const Digest> proof) {
  if (index >= size) {
    return absl::InvalidArgumentError(absl::StrCat("inclusion proof: leaf ", index,
                                                   " is not in a tree of size ", size));
  }
  // RFC 9162 §2.1.3.2: fn walks up from the leaf, sn from the last leaf; they meet at the root.
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Digest r = leaf_hash;
  for (const Digest& p : proof) {
    if (sn == 0) return WrongInclusionLength(index, size, proof.size());
    if ((fn & 1) != 0 || fn == sn) {
      r = HashChildren(hasher, p, r);
      CarryUpLastNode(fn, sn);
    } else {
      r = HashChildren(hasher, r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return WrongInclusionLength(index, size, proof.size());
  return r;
}

absl::Status VerifyInclusion(const Hasher& hasher, uint64_t index, uint64_t size,
                             const Digest& leaf_hash, absl::Span<const Digest> proof,
                             const Digest& root) {
  absl::StatusOr<Digest> calculated = RootFromInclusionProof(hasher, index, size, leaf_hash, proof);
  if (!calculated.ok()) return calculated.status();
  if (*calculated != root) {
    return RootMismatch("inclusion proof", *calculated, root,
                        absl::StrCat("for leaf ", index, " of ", size));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(const Hasher& hasher, uint64_t size1, uint64_t size2,
                               absl::Span<const Digest> proof, const Digest& root1,
                               const Digest& root2) {
  if (size1 > size2) {
    return absl::InvalidArgumentError(absl::StrCat("consistency proof: size1 ", size1,
                                                   " is greater than size2 ", size2));
  }
  // transparency-dev policy: every tree is trivially consistent with the empty one, so a proof
  // from size 0 proves nothing and accepting it would hide a caller that forgot its checkpoint.
  if (size1 == 0) {
    return absl::InvalidArgumentError("consistency proof: size1 is 0 (nothing to prove)");
  }
  if (size1 == size2) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("consistency proof: has ", proof.size(),
                                                     " hashes, want 0 for equal sizes ", size1));
    }
    if (root1 != root2) {
      return absl::DataLossError(absl::StrCat("consistency proof: trees of equal size ", size1,
                                              " have different roots ", ToHex(root1), " and ",
                                              ToHex(root2)));
    }
    return absl::OkStatus();
  }

  // RFC 9162 §2.1.4.2. The proof starts from the largest complete subtree ending at size1; when
  // that subtree is the whole old tree its hash is root1 itself and the proof omits it.
  const bool size1_is_subtree = std::has_single_bit(size1);
  if (proof.empty()) return WrongConsistencyLength(size1, size2, proof.size());
  size_t next = 0;
  const Digest seed = size1_is_subtree ? root1 : proof[next++];
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Digest fr = seed;
  Digest sr = seed;
  for (; next < proof.size(); ++next) {
    if (sn == 0) return WrongConsistencyLength(size1, size2, proof.size());
    const Digest& c = proof[next];
    if ((fn & 1) != 0 || fn == sn) {
      fr = HashChildren(hasher, c, fr);
      sr = HashChildren(hasher, c, sr);
      CarryUpLastNode(fn, sn);
    } else {
      sr = HashChildren(hasher, sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return WrongConsistencyLength(size1, size2, proof.size());
  if (fr != root1) {
    return RootMismatch("consistency proof", fr, root1,
                        absl::StrCat("for old size ", size1, " (new size ", size2, ")"));
  }
  if (sr != root2) {
    return RootMismatch("consistency proof", sr, root2,
                        absl::StrCat("for new size ", size2, " (old size ", size1, ")"));
  }
  return absl::OkStatus();
}

Digest RootFromLeafHashes(const Hasher& hasher, absl::Span<const Digest> leaves) {
  return ReferenceRoot(hasher, leaves);
}

std::vector<Digest> InclusionProofFromLeafHashes(const Hasher& hasher,
                                                 absl::Span<const Digest> leaves, uint64_t index) {
  std::vector<Digest> proof;
  if (index >= leaves.size()) return proof;
  ReferencePath(hasher, leaves, index, proof);
  return proof;
}

std::vector<Digest> ConsistencyProofFromLeafHashes(const Hasher& hasher,
                                                   absl::Span<const Digest> leaves,
                                                   uint64_t size1) {
  std::vector<Digest> proof;
  if (size1 == 0 || size1 >= leaves.size()) return proof;
  ReferenceSubproof(hasher, leaves, size1, true, proof);
  return proof;
}

}  // namespace herbtrace::crypto
