// RFC 9162 proofs as a verifier receives them (herbctl verify, a witness, an auditor), and the
// tree code that builds them. The first byte picks the hash (bit 7: SM3, else SHA-256) and the
// mode (the rest, mod 3):
//
//   0  inclusion    index u64 ‖ size u64 ‖ leaf hash ‖ root ‖ proof hashes (32 bytes each)
//   1  consistency  size1 u64 ‖ size2 u64 ‖ root1 ‖ root2 ‖ proof hashes
//   2  tree         size1 u8 ‖ size2 u8 ‖ entries, each a length byte and its bytes (at most 64)
//
// Invariants: an accepted inclusion proof leads to the root it was checked against; a tree built
// in memory, appended leaf by leaf (CompactRange) and rebuilt from its stored nodes has one root,
// the reference one; every proof it serves, for the whole tree and for a past size, equals the
// reference proof and verifies, and the same proof fails against any other leaf or root.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "crypto/compact_range.h"
#include "crypto/hash.h"
#include "crypto/memory_tree.h"
#include "crypto/merkle.h"
#include "fuzz/fixed_keys.h"
#include "fuzz/fuzz_input.h"

namespace herbtrace::fuzz {
namespace {

constexpr size_t kMaxTreeLeaves = 64;

const crypto::Hasher& HasherFor(bool sm3) {
  static const crypto::Hasher* const hashers[2] = {
      crypto::Hasher::Create(crypto::HashAlgorithm::kSha256).value().release(),
      crypto::Hasher::Create(crypto::HashAlgorithm::kSm3).value().release()};
  return *hashers[sm3 ? 1 : 0];
}

std::vector<crypto::Digest> ProofHashes(FuzzInput& in) {
  std::vector<crypto::Digest> proof;
  while (in.remaining() >= crypto::kDigestSize) proof.push_back(in.Digest());
  return proof;
}

crypto::Digest Flipped(crypto::Digest d) {
  d[0] ^= 1;
  return d;
}

void Inclusion(const crypto::Hasher& hasher, FuzzInput& in) {
  const uint64_t index = in.U64();
  const uint64_t size = in.U64();
  const crypto::Digest leaf = in.Digest();
  const crypto::Digest root = in.Digest();
  const std::vector<crypto::Digest> proof = ProofHashes(in);
  const absl::Status verified = crypto::VerifyInclusion(hasher, index, size, leaf, proof, root);
  auto computed = crypto::RootFromInclusionProof(hasher, index, size, leaf, proof);
  if (verified.ok()) {
    FUZZ_REQUIRE(computed.ok() && *computed == root);
    FUZZ_REQUIRE(!crypto::VerifyInclusion(hasher, index, size, leaf, proof, Flipped(root)).ok());
  }
  if (computed.ok())
    FUZZ_REQUIRE(crypto::VerifyInclusion(hasher, index, size, leaf, proof, *computed).ok());
}

void Consistency(const crypto::Hasher& hasher, FuzzInput& in) {
  const uint64_t size1 = in.U64();
  const uint64_t size2 = in.U64();
  const crypto::Digest root1 = in.Digest();
  const crypto::Digest root2 = in.Digest();
  const std::vector<crypto::Digest> proof = ProofHashes(in);
  if (!crypto::VerifyConsistency(hasher, size1, size2, proof, root1, root2).ok()) return;
  FUZZ_REQUIRE(size1 != 0 && size1 <= size2);
  FUZZ_REQUIRE(!crypto::VerifyConsistency(hasher, size1, size2, proof, root1, Flipped(root2)).ok());
  if (size1 != size2) {
    FUZZ_REQUIRE(
        !crypto::VerifyConsistency(hasher, size1, size2, proof, Flipped(root1), root2).ok());
  }
}

void VerifyEveryProof(const crypto::Hasher& hasher, const crypto::MemoryTree& tree,
                      const std::vector<crypto::Digest>& leaves, uint64_t size) {
  const absl::Span<const crypto::Digest> prefix(leaves.data(), size);
  const crypto::Digest root = crypto::RootFromLeafHashes(hasher, prefix);
  auto stored_root = crypto::TreeRoot(hasher, tree, size);
  FUZZ_REQUIRE(stored_root.ok() && *stored_root == root);
  for (uint64_t i = 0; i < size; ++i) {
    auto proof = crypto::InclusionProof(hasher, tree, i, size);
    FUZZ_REQUIRE(proof.ok() && *proof == crypto::InclusionProofFromLeafHashes(hasher, prefix, i));
    FUZZ_REQUIRE(crypto::VerifyInclusion(hasher, i, size, leaves[i], *proof, root).ok());
    FUZZ_REQUIRE(!crypto::VerifyInclusion(hasher, i, size, Flipped(leaves[i]), *proof, root).ok());
  }
  FUZZ_REQUIRE(!crypto::InclusionProof(hasher, tree, size, size).ok());
}

void Tree(const crypto::Hasher& hasher, FuzzInput& in) {
  const uint8_t size1_byte = in.U8();
  const uint8_t size2_byte = in.U8();
  std::vector<crypto::Digest> leaves;
  while (in.remaining() > 0 && leaves.size() < kMaxTreeLeaves) {
    leaves.push_back(crypto::HashLeaf(hasher, in.Short()));
  }
  const uint64_t n = leaves.size();

  crypto::MemoryTree tree(hasher, leaves);
  FUZZ_REQUIRE(tree.size() == n);
  const crypto::Digest root = crypto::RootFromLeafHashes(hasher, leaves);
  FUZZ_REQUIRE(n == 0 ? root == crypto::EmptyRoot(hasher) : tree.Root() == root);

  // Leaf by leaf, as the ledger's sequencer grows the tree: every node it finishes is the one
  // the whole tree stores, and the root after i leaves is the stored tree's root of size i.
  crypto::CompactRange range(hasher);
  for (uint64_t i = 0; i < n; ++i) {
    for (const auto& [id, hash] : range.Append(leaves[i])) {
      auto stored = tree.ReadNode(id);
      FUZZ_REQUIRE(stored.ok() && *stored == hash);
    }
    auto stored_root = crypto::TreeRoot(hasher, tree, i + 1);
    FUZZ_REQUIRE(stored_root.ok() && range.Root() == *stored_root);
  }
  FUZZ_REQUIRE(range.size() == n && range.Root() == root);
  if (n == 0) return;

  // A past size, as a proof for an old checkpoint needs, and the right edge rebuilt from it.
  const uint64_t size1 = 1 + size1_byte % n;
  const uint64_t size2 = size1 + size2_byte % (n - size1 + 1);
  VerifyEveryProof(hasher, tree, leaves, n);
  VerifyEveryProof(hasher, tree, leaves, size1);
  auto rebuilt = crypto::CompactRange::FromNodes(hasher, tree, size1);
  FUZZ_REQUIRE(rebuilt.ok() && rebuilt->size() == size1);
  for (uint64_t i = size1; i < n; ++i) rebuilt->Append(leaves[i]);
  FUZZ_REQUIRE(rebuilt->Root() == root);

  const absl::Span<const crypto::Digest> all(leaves);
  const crypto::Digest root1 = crypto::RootFromLeafHashes(hasher, all.subspan(0, size1));
  const crypto::Digest root2 = crypto::RootFromLeafHashes(hasher, all.subspan(0, size2));
  auto consistency = crypto::ConsistencyProof(hasher, tree, size1, size2);
  FUZZ_REQUIRE(consistency.ok());
  FUZZ_REQUIRE(*consistency ==
               crypto::ConsistencyProofFromLeafHashes(hasher, all.subspan(0, size2), size1));
  FUZZ_REQUIRE(crypto::VerifyConsistency(hasher, size1, size2, *consistency, root1, root2).ok());
  if (size1 < size2) {
    FUZZ_REQUIRE(
        !crypto::VerifyConsistency(hasher, size1, size2, *consistency, Flipped(root1), root2).ok());
  }
}

}  // namespace
}  // namespace herbtrace::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  herbtrace::fuzz::FuzzInput in(data, size);
  const uint8_t selector = in.U8();
  const herbtrace::crypto::Hasher& hasher = herbtrace::fuzz::HasherFor((selector & 0x80) != 0);
  switch ((selector & 0x7f) % 3) {
    case 0:
      herbtrace::fuzz::Inclusion(hasher, in);
      break;
    case 1:
      herbtrace::fuzz::Consistency(hasher, in);
      break;
    default:
      herbtrace::fuzz::Tree(hasher, in);
      break;
  }
  return 0;
}
