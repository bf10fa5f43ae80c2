// RFC 9162 (Certificate Transparency v2) Merkle trees: the hash of a tree of n leaves splits at
// the largest power of two strictly below n; leaf = H(0x00 ‖ entry), node = H(0x01 ‖ left ‖ right).
//
// Proofs are built from *stored complete subtrees*: the node at (level, index) is the hash of the
// 2^level leaves [index << level, (index + 1) << level). Only complete subtrees are ever stored
// (they never change once the tree grows past them); the ragged right edge of a tree of any size
// is recomputed from O(log n) of them. So a proof for any past tree size costs O(log n) reads.
#ifndef HERBTRACE_CRYPTO_MERKLE_H_
#define HERBTRACE_CRYPTO_MERKLE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "crypto/hash.h"

namespace herbtrace::crypto {

inline constexpr uint8_t kLeafPrefix = 0x00;
inline constexpr uint8_t kNodePrefix = 0x01;

Digest HashLeaf(const Hasher& hasher, absl::string_view entry);
Digest HashChildren(const Hasher& hasher, const Digest& left, const Digest& right);

// The hash of the empty tree: H("").
Digest EmptyRoot(const Hasher& hasher);

// Where a stored complete subtree lives.
struct NodeId {
  uint8_t level = 0;   // 0 = leaf hashes
  uint64_t index = 0;  // covers leaves [index << level, (index + 1) << level)
  friend bool operator==(const NodeId&, const NodeId&) = default;
};

// Source of stored complete-subtree hashes (a RocksDB column family, or memory in tests).
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  // NotFound if the node is not stored; other errors are passed through to the caller.
  virtual absl::StatusOr<Digest> ReadNode(NodeId id) const = 0;
  // The nodes of `ids`, in that order, or the first error ReadNode would give. The default
  // calls ReadNode for each; a reader backed by a database overrides it with one batched read.
  virtual absl::StatusOr<std::vector<Digest>> ReadNodes(absl::Span<const NodeId> ids) const;
};

// The root of the first `size` leaves. REQUIRES: every complete subtree of those leaves is
// readable. size 0 gives EmptyRoot.
absl::StatusOr<Digest> TreeRoot(const Hasher& hasher, const NodeReader& nodes, uint64_t size);

// RFC 9162 §2.1.3.1 PATH(index, D[0:size]). InvalidArgument unless index < size.
absl::StatusOr<std::vector<Digest>> InclusionProof(const Hasher& hasher, const NodeReader& nodes,
                                                   uint64_t index, uint64_t size);

// InclusionProof of each of `indices` in the same tree, in the order given. The stored nodes
// they need are read in one NodeReader::ReadNodes call, each node once however many proofs
// share it, and each ragged right-edge range is folded once: a batch history or a lineage's
// entries cost one batched read instead of a few dozen point reads. InvalidArgument unless
// every index < size.
absl::StatusOr<std::vector<std::vector<Digest>>> InclusionProofs(const Hasher& hasher,
                                                                 const NodeReader& nodes,
                                                                 absl::Span<const uint64_t> indices,
                                                                 uint64_t size);

// RFC 9162 §2.1.4.1 PROOF(size1, D[0:size2]). InvalidArgument unless 0 < size1 <= size2.
// size1 == size2 gives an empty proof.
absl::StatusOr<std::vector<Digest>> ConsistencyProof(const Hasher& hasher,
                                                     const NodeReader& nodes, uint64_t size1,
                                                     uint64_t size2);

// RFC 9162 §2.1.3.2. OK, or InvalidArgument for impossible arguments (index >= size, proof of
// the wrong length), or DataLoss("inclusion proof: calculated root ... does not match ...").
absl::Status VerifyInclusion(const Hasher& hasher, uint64_t index, uint64_t size,
                             const Digest& leaf_hash, absl::Span<const Digest> proof,
                             const Digest& root);

// The root a proof leads to; what VerifyInclusion compares against `root`.
absl::StatusOr<Digest> RootFromInclusionProof(const Hasher& hasher, uint64_t index, uint64_t size,
                                              const Digest& leaf_hash,
                                              absl::Span<const Digest> proof);

// RFC 9162 §2.1.4.2. size1 == 0 is rejected (a proof from the empty tree proves nothing), as is
// size1 > size2; size1 == size2 requires an empty proof and root1 == root2.
absl::Status VerifyConsistency(const Hasher& hasher, uint64_t size1, uint64_t size2,
                               absl::Span<const Digest> proof, const Digest& root1,
                               const Digest& root2);

// Reference implementations over leaf hashes held in memory (RFC 9162 §2.1.1 MTH, PATH, PROOF),
// for tests and for small trees a client rebuilds itself. Each call costs O(n) hashes.
// Arguments outside the RFC's domain give an empty proof: index >= leaves.size(), or size1 == 0
// or size1 >= leaves.size() (size1 == leaves.size() is the RFC's empty proof).
Digest RootFromLeafHashes(const Hasher& hasher, absl::Span<const Digest> leaves);
std::vector<Digest> InclusionProofFromLeafHashes(const Hasher& hasher,
                                                 absl::Span<const Digest> leaves, uint64_t index);
std::vector<Digest> ConsistencyProofFromLeafHashes(const Hasher& hasher,
                                                   absl::Span<const Digest> leaves,
                                                   uint64_t size1);

}  // namespace herbtrace::crypto

#endif  // HERBTRACE_CRYPTO_MERKLE_H_
