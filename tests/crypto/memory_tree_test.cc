// MemoryTree gives the same roots and inclusion proofs as the RFC 9162 reference functions.
#include "crypto/memory_tree.h"

#include "absl/strings/str_cat.h"
#include "tests/test_util.h"

namespace herbtrace::crypto {
namespace {

TEST(MemoryTreeTest, MatchesTheReferenceForEverySizeAndIndexUpTo130) {
  auto hasher = Hasher::Create(HashAlgorithm::kSha256);
  ASSERT_TRUE(hasher.ok());
  std::vector<Digest> leaves;
  for (uint64_t n = 1; n <= 130; ++n) {
    leaves.push_back(HashLeaf(**hasher, absl::StrCat("bundled event ", n)));
    const MemoryTree tree(**hasher, leaves);
    ASSERT_EQ(tree.size(), n);
    const Digest root = RootFromLeafHashes(**hasher, leaves);
    ASSERT_EQ(tree.Root(), root) << n;
    for (uint64_t i = 0; i < n; ++i) {
      const std::vector<Digest> proof = tree.InclusionProof(i);
      ASSERT_EQ(proof, InclusionProofFromLeafHashes(**hasher, leaves, i)) << i << " of " << n;
      ASSERT_TRUE(VerifyInclusion(**hasher, i, n, leaves[i], proof, root).ok());
    }
  }
}

TEST(MemoryTreeTest, IncompleteNodesAreNotFound) {
  auto hasher = Hasher::Create(HashAlgorithm::kSm3);
  ASSERT_TRUE(hasher.ok());
  const MemoryTree tree(**hasher, std::vector<Digest>(5, HashLeaf(**hasher, "x")));
  EXPECT_TRUE(tree.ReadNode({2, 0}).ok());   // leaves 0..3
  EXPECT_FALSE(tree.ReadNode({2, 1}).ok());  // leaves 4..7: only one exists
  EXPECT_FALSE(tree.ReadNode({0, 5}).ok());
}

}  // namespace
}  // namespace herbtrace::crypto
