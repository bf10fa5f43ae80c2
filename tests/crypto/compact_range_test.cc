// No published vectors here: every expectation is checked against the RFC 9162 reference
// functions in crypto/merkle.h (RootFromLeafHashes), which merkle_test.cc pins to the RFC 6962
// reference tree from transparency-dev/merkle testonly/constants.go at
// 417fb0c314750d94e53942e9f92e79b6d35915db (see tests/data/test-vectors/SOURCE.md).
#include "crypto/compact_range.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace herbtrace::crypto {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::StatusIs;

using Nodes = std::vector<std::pair<NodeId, Digest>>;

class MemoryNodes final : public NodeReader {
 public:
  void Store(const Nodes& nodes) {
    for (const auto& [id, hash] : nodes) nodes_[{id.level, id.index}] = hash;
  }
  void Erase(NodeId id) { nodes_.erase({id.level, id.index}); }

  absl::StatusOr<Digest> ReadNode(NodeId id) const override {
    ++reads_;
    auto it = nodes_.find({id.level, id.index});
    if (it == nodes_.end()) {
      return absl::NotFoundError(
          absl::StrCat("node level ", id.level, " index ", id.index, " not stored"));
    }
    return it->second;
  }
  int TakeReads() { return std::exchange(reads_, 0); }

 private:
  std::map<std::pair<uint8_t, uint64_t>, Digest> nodes_;
  mutable int reads_ = 0;
};

class CompactRangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Hasher>> hasher = Hasher::Create(HashAlgorithm::kSha256);
    ASSERT_THAT(hasher, IsOk());
    hasher_ = std::move(hasher).value();
    for (int i = 0; i < kLeaves; ++i) {
      leaves_.push_back(HashLeaf(*hasher_, absl::StrCat("batch-", i)));
    }
  }
  absl::Span<const Digest> Prefix(uint64_t size) const {
    return absl::MakeConstSpan(leaves_).subspan(0, size);
  }

  static constexpr int kLeaves = 1000;
  std::unique_ptr<Hasher> hasher_;
  std::vector<Digest> leaves_;
};

TEST_F(CompactRangeTest, RootMatchesReferenceAfterEveryAppend) {
  CompactRange range(*hasher_);
  EXPECT_EQ(range.size(), 0u);
  EXPECT_EQ(range.Root(), EmptyRoot(*hasher_));
  for (uint64_t size = 1; size <= kLeaves; ++size) {
    range.Append(leaves_[size - 1]);
    ASSERT_EQ(range.size(), size);
    ASSERT_EQ(range.Root(), RootFromLeafHashes(*hasher_, Prefix(size))) << "size " << size;
  }
}

TEST_F(CompactRangeTest, AppendEmitsExactlyTheCompleteSubtrees) {
  CompactRange range(*hasher_);
  std::set<std::pair<uint8_t, uint64_t>> seen;
  for (uint64_t size = 1; size <= kLeaves; ++size) {
    const Nodes emitted = range.Append(leaves_[size - 1]);
    ASSERT_FALSE(emitted.empty());
    // The leaf first, then one parent per level it completed, bottom-up.
    ASSERT_EQ(emitted.size(), static_cast<size_t>(std::countr_one(size - 1) + 1)) << size;
    for (size_t i = 0; i < emitted.size(); ++i) {
      const auto& [id, hash] = emitted[i];
      ASSERT_EQ(int{id.level}, static_cast<int>(i)) << "size " << size;
      ASSERT_EQ(id.index, (size - 1) >> i) << "size " << size;
      const uint64_t lo = id.index << id.level;
      const uint64_t hi = (id.index + 1) << id.level;
      ASSERT_LE(hi, size) << "size " << size << " emitted an incomplete subtree";
      ASSERT_EQ(hash, RootFromLeafHashes(*hasher_, Prefix(hi).subspan(lo)))
          << "level " << int{id.level} << " index " << id.index;
      ASSERT_TRUE(seen.insert({id.level, id.index}).second)
          << "level " << int{id.level} << " index " << id.index << " emitted twice";
    }
    // Distinct complete subtrees, and as many as a tree of this size has: so all of them.
    ASSERT_EQ(seen.size(), 2 * size - std::popcount(size)) << "size " << size;
  }
}

TEST_F(CompactRangeTest, FromNodesRebuildsRangeThatContinuesIdentically) {
  constexpr uint64_t kMaxSize = 300;
  MemoryNodes stored;
  CompactRange writer(*hasher_);
  for (uint64_t size = 0; size <= kMaxSize; ++size) {
    stored.TakeReads();
    absl::StatusOr<CompactRange> rebuilt = CompactRange::FromNodes(*hasher_, stored, size);
    ASSERT_THAT(rebuilt, IsOk()) << "size " << size;
    EXPECT_EQ(stored.TakeReads(), std::popcount(size)) << "size " << size;
    ASSERT_EQ(rebuilt->size(), size);
    ASSERT_EQ(rebuilt->Root(), writer.Root()) << "size " << size;

    // Both ranges must keep producing the same nodes and roots.
    CompactRange original = writer;
    for (uint64_t next = size; next < std::min<uint64_t>(kLeaves, size + 70); ++next) {
      ASSERT_EQ(rebuilt->Append(leaves_[next]), original.Append(leaves_[next]))
          << "rebuilt at " << size << ", leaf " << next;
      ASSERT_EQ(rebuilt->Root(), original.Root()) << "rebuilt at " << size << ", leaf " << next;
    }
    if (size < kMaxSize) stored.Store(writer.Append(leaves_[size]));
  }
}

TEST_F(CompactRangeTest, FromNodesAtLargeSizesReadsOneNodePerSetBit) {
  for (uint64_t size : {uint64_t{511}, uint64_t{512}, uint64_t{1000}}) {
    MemoryNodes stored;
    CompactRange writer(*hasher_);
    for (uint64_t i = 0; i < size; ++i) stored.Store(writer.Append(leaves_[i]));
    stored.TakeReads();
    absl::StatusOr<CompactRange> rebuilt = CompactRange::FromNodes(*hasher_, stored, size);
    ASSERT_THAT(rebuilt, IsOk());
    EXPECT_EQ(stored.TakeReads(), std::popcount(size));
    EXPECT_EQ(rebuilt->Root(), RootFromLeafHashes(*hasher_, Prefix(size)));
  }
}

TEST_F(CompactRangeTest, FromNodesPropagatesMissingNode) {
  MemoryNodes stored;
  CompactRange writer(*hasher_);
  for (uint64_t i = 0; i < 6; ++i) stored.Store(writer.Append(leaves_[i]));
  stored.Erase(NodeId{1, 2});  // leaves 4 and 5, the right edge of size 6
  EXPECT_THAT(CompactRange::FromNodes(*hasher_, stored, 6),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(CompactRange::FromNodes(*hasher_, stored, 4), IsOk());
}

}  // namespace
}  // namespace herbtrace::crypto
