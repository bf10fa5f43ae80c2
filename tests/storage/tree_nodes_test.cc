// CachedNodeReader: the upper levels of the tree are read from the stored nodes once; the lower
// levels, and nodes not stored yet, every time; a cached node is the stored one.
#include "storage/tree_nodes.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "crypto/hash.h"
#include "gtest/gtest.h"

namespace herbtrace::storage {
namespace {

// Stored nodes in memory, counting the reads that reach them.
class CountingNodes final : public crypto::NodeReader {
 public:
  absl::StatusOr<crypto::Digest> ReadNode(crypto::NodeId id) const override {
    ++reads;
    auto it = stored.find({id.level, id.index});
    if (it == stored.end()) return absl::NotFoundError("not stored");
    return it->second;
  }
  std::map<std::pair<uint8_t, uint64_t>, crypto::Digest> stored;
  mutable int reads = 0;
};

crypto::Digest DigestOf(uint8_t fill) {
  crypto::Digest d;
  d.fill(fill);
  return d;
}

TEST(CachedNodeReaderTest, UpperLevelsAreReadOnceAndEqualTheStoredNodes) {
  CountingNodes base;
  const uint8_t upper = CachedNodeReader::kCachedLevel;
  base.stored[{upper, 3}] = DigestOf(7);
  CachedNodeReader cached(base);
  for (int i = 0; i < 3; ++i) {
    auto node = cached.ReadNode(crypto::NodeId{upper, 3});
    ASSERT_TRUE(node.ok()) << node.status();
    EXPECT_EQ(*node, DigestOf(7));
  }
  EXPECT_EQ(base.reads, 1);
}

TEST(CachedNodeReaderTest, LowerLevelsAreReadEveryTime) {
  CountingNodes base;
  const uint8_t lower = CachedNodeReader::kCachedLevel - 1;
  base.stored[{lower, 3}] = DigestOf(9);
  base.stored[{0, 5}] = DigestOf(1);
  CachedNodeReader cached(base);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(*cached.ReadNode(crypto::NodeId{lower, 3}), DigestOf(9));
    EXPECT_EQ(*cached.ReadNode(crypto::NodeId{0, 5}), DigestOf(1));
  }
  EXPECT_EQ(base.reads, 4);
}

TEST(CachedNodeReaderTest, ANodeNotStoredYetIsLookedForAgain) {
  CountingNodes base;
  const crypto::NodeId id{CachedNodeReader::kCachedLevel + 2, 1};
  CachedNodeReader cached(base);
  EXPECT_EQ(cached.ReadNode(id).status().code(), absl::StatusCode::kNotFound);
  base.stored[{id.level, id.index}] = DigestOf(4);  // the subtree completes
  auto node = cached.ReadNode(id);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(*node, DigestOf(4));
  EXPECT_EQ(base.reads, 2);
}

TEST(CachedNodeReaderTest, ReadNodesAnswersInOrderAndReadsUpperLevelsOnce) {
  CountingNodes base;
  const uint8_t upper = CachedNodeReader::kCachedLevel;
  base.stored[{upper, 3}] = DigestOf(7);
  base.stored[{upper + 1, 0}] = DigestOf(8);
  base.stored[{0, 5}] = DigestOf(1);
  CachedNodeReader cached(base);
  const std::vector<crypto::NodeId> ids = {{0, 5}, {upper, 3}, {uint8_t(upper + 1), 0}};
  for (int i = 0; i < 3; ++i) {
    auto nodes = cached.ReadNodes(ids);
    ASSERT_TRUE(nodes.ok()) << nodes.status();
    EXPECT_EQ(*nodes, (std::vector<crypto::Digest>{DigestOf(1), DigestOf(7), DigestOf(8)}));
  }
  // The two upper nodes once, the leaf every time.
  EXPECT_EQ(base.reads, 2 + 3);
  // ReadNode finds what ReadNodes kept.
  EXPECT_EQ(*cached.ReadNode(crypto::NodeId{upper, 3}), DigestOf(7));
  EXPECT_EQ(base.reads, 5);
}

TEST(CachedNodeReaderTest, AFailedReadNodesKeepsNothing) {
  CountingNodes base;
  const uint8_t upper = CachedNodeReader::kCachedLevel;
  base.stored[{upper, 3}] = DigestOf(7);
  CachedNodeReader cached(base);
  const std::vector<crypto::NodeId> ids = {{upper, 3}, {upper, 4}};  // (upper, 4) not stored yet
  EXPECT_EQ(cached.ReadNodes(ids).status().code(), absl::StatusCode::kNotFound);
  base.stored[{upper, 4}] = DigestOf(9);
  base.reads = 0;
  auto nodes = cached.ReadNodes(ids);
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_EQ(*nodes, (std::vector<crypto::Digest>{DigestOf(7), DigestOf(9)}));
  EXPECT_EQ(base.reads, 2);  // the failed call cached neither
}

}  // namespace
}  // namespace herbtrace::storage
