// Test vectors (see tests/data/test-vectors/SOURCE.md):
// - vectors.json "merkle_rfc6962_reference_tree": transparency-dev/merkle testonly/constants.go at
//   417fb0c314750d94e53942e9f92e79b6d35915db (Apache-2.0).
// - merkle/inclusion/** and merkle/consistency/**: transparency-dev/merkle testdata/ at
//   417fb0c314750d94e53942e9f92e79b6d35915db (Apache-2.0). The sibling subtreeinclusion/ and
//   subtreeconsistency/ folders test proofs between arbitrary subtrees, which HerbTrace does not
//   offer, so they are deliberately not read.
#include "crypto/merkle.h"

#include <bit>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/compact_range.h"
#include "crypto/hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace herbtrace::crypto {
namespace {

using ::herbtrace::testing::HexOrDie;
using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::LoadVectors;
using ::herbtrace::testing::ReadJsonOrDie;
using ::herbtrace::testing::StatusIs;
using ::herbtrace::testing::TestDataPath;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<Hasher> MakeHasher(HashAlgorithm algorithm) {
  absl::StatusOr<std::unique_ptr<Hasher>> hasher = Hasher::Create(algorithm);
  EXPECT_THAT(hasher, IsOk());
  return hasher.ok() ? std::move(hasher).value() : nullptr;
}

// Every complete subtree a ledger would have stored, kept in memory.
class MemoryNodes final : public NodeReader {
 public:
  void Store(const std::vector<std::pair<NodeId, Digest>>& nodes) {
    for (const auto& [id, hash] : nodes) nodes_[{id.level, id.index}] = hash;
  }
  void Erase(NodeId id) { nodes_.erase({id.level, id.index}); }

  absl::StatusOr<Digest> ReadNode(NodeId id) const override {
    auto it = nodes_.find({id.level, id.index});
    if (it == nodes_.end()) {
      return absl::NotFoundError(
          absl::StrCat("node level ", id.level, " index ", id.index, " not stored"));
    }
    return it->second;
  }

 private:
  std::map<std::pair<uint8_t, uint64_t>, Digest> nodes_;
};

// The first `size` leaves of a larger store: a node that is not complete within them is NotFound,
// so a proof for an old size cannot lean on subtrees that only exist in a later tree.
class TreeView final : public NodeReader {
 public:
  TreeView(const NodeReader& nodes, uint64_t size) : nodes_(nodes), size_(size) {}

  absl::StatusOr<Digest> ReadNode(NodeId id) const override {
    if (id.level >= 64 || id.index >= (size_ >> id.level)) {
      return absl::NotFoundError(absl::StrCat("node level ", id.level, " index ", id.index,
                                              " is not complete at size ", size_));
    }
    return nodes_.ReadNode(id);
  }

 private:
  const NodeReader& nodes_;
  uint64_t size_;
};

class CountingReader final : public NodeReader {
 public:
  explicit CountingReader(const NodeReader& nodes) : nodes_(nodes) {}

  absl::StatusOr<Digest> ReadNode(NodeId id) const override {
    ++reads_;
    return nodes_.ReadNode(id);
  }
  int TakeReads() { return std::exchange(reads_, 0); }

 private:
  const NodeReader& nodes_;
  mutable int reads_ = 0;
};

// Records every batched read: how many calls, and the ids each asked for.
class BatchRecordingReader final : public NodeReader {
 public:
  explicit BatchRecordingReader(const NodeReader& nodes) : nodes_(nodes) {}

  absl::StatusOr<Digest> ReadNode(NodeId id) const override { return nodes_.ReadNode(id); }
  absl::StatusOr<std::vector<Digest>> ReadNodes(absl::Span<const NodeId> ids) const override {
    batches_.emplace_back(ids.begin(), ids.end());
    return nodes_.ReadNodes(ids);
  }
  std::vector<std::vector<NodeId>> TakeBatches() { return std::exchange(batches_, {}); }

 private:
  const NodeReader& nodes_;
  mutable std::vector<std::vector<NodeId>> batches_;
};

// A tree of 2^64 - 1 copies of one leaf, without storing it: every complete subtree of a level
// has the same hash, so the hashes are consistent and proofs at any size verify.
class UniformTree final : public NodeReader {
 public:
  UniformTree(const Hasher& hasher, uint64_t size) : size_(size) {
    levels_.push_back(HashLeaf(hasher, "the same leaf"));
    for (int level = 1; level < 64; ++level) {
      levels_.push_back(HashChildren(hasher, levels_.back(), levels_.back()));
    }
  }

  absl::StatusOr<Digest> ReadNode(NodeId id) const override {
    if (id.level >= 64 || id.index >= (size_ >> id.level)) {
      return absl::NotFoundError("not a complete subtree");
    }
    return levels_[id.level];
  }

 private:
  uint64_t size_;
  std::vector<Digest> levels_;
};

std::vector<Digest> LeafHashes(const Hasher& hasher, int count) {
  std::vector<Digest> leaves;
  for (int i = 0; i < count; ++i) leaves.push_back(HashLeaf(hasher, absl::StrCat("harvest-", i)));
  return leaves;
}

// Stores every node a CompactRange emits while appending `leaves`.
void StoreTree(const Hasher& hasher, absl::Span<const Digest> leaves, MemoryNodes& nodes) {
  CompactRange range(hasher);
  for (const Digest& leaf : leaves) nodes.Store(range.Append(leaf));
}

Digest FlipBit(Digest d, int bit) {
  d[(bit / 8) % kDigestSize] ^= static_cast<uint8_t>(1u << (bit % 8));
  return d;
}

class MerkleTest : public ::testing::Test {
 protected:
  std::unique_ptr<Hasher> sha256_ = MakeHasher(HashAlgorithm::kSha256);
  const Hasher& hasher_ = *sha256_;
};

TEST_F(MerkleTest, RootsMatchRfc6962ReferenceTree) {
  const nlohmann::json vectors = LoadVectors();
  ASSERT_FALSE(vectors.is_discarded());
  const nlohmann::json& tree = vectors["merkle_rfc6962_reference_tree"];
  std::vector<Digest> leaves;
  for (const auto& hex : tree["leaf_inputs_hex"]) {
    leaves.push_back(HashLeaf(hasher_, HexOrDie(hex.get<std::string>())));
  }
  ASSERT_EQ(leaves.size(), 8u);
  const nlohmann::json& roots = tree["root_hashes_hex_by_size"];
  ASSERT_EQ(roots.size(), 9u);

  MemoryNodes nodes;
  StoreTree(hasher_, leaves, nodes);
  for (size_t size = 0; size <= 8; ++size) {
    const std::string want = roots[size].get<std::string>();
    EXPECT_EQ(ToHex(RootFromLeafHashes(hasher_, absl::MakeConstSpan(leaves).subspan(0, size))),
              want)
        << "size " << size;
    absl::StatusOr<Digest> stored = TreeRoot(hasher_, TreeView(nodes, size), size);
    ASSERT_THAT(stored, IsOk());
    EXPECT_EQ(ToHex(*stored), want) << "size " << size;
  }
}

// A published vector's hash field, which must be valid base64 of exactly one digest.
absl::StatusOr<Digest> VectorDigest(const nlohmann::json& c, const char* field) {
  if (!c.contains(field) || !c[field].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": missing"));
  }
  std::string bytes;
  if (!absl::Base64Unescape(c[field].get<std::string>(), &bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not base64"));
  }
  return DigestFromBytes(bytes, field);
}

absl::StatusOr<std::vector<Digest>> VectorProof(const nlohmann::json& c) {
  std::vector<Digest> proof;
  if (c["proof"].is_null()) return proof;  // Go's nil slice: the empty proof
  for (const auto& item : c["proof"]) {
    std::string bytes;
    if (!item.is_string() || !absl::Base64Unescape(item.get<std::string>(), &bytes)) {
      return absl::InvalidArgumentError("proof: not base64");
    }
    absl::StatusOr<Digest> d = DigestFromBytes(bytes, "proof");
    if (!d.ok()) return d.status();
    proof.push_back(*d);
  }
  return proof;
}

absl::Status RunInclusionVector(const Hasher& hasher, const nlohmann::json& c) {
  absl::StatusOr<Digest> root = VectorDigest(c, "root");
  if (!root.ok()) return root.status();
  absl::StatusOr<Digest> leaf = VectorDigest(c, "leafHash");
  if (!leaf.ok()) return leaf.status();
  absl::StatusOr<std::vector<Digest>> proof = VectorProof(c);
  if (!proof.ok()) return proof.status();
  return VerifyInclusion(hasher, c["leafIdx"].get<uint64_t>(), c["treeSize"].get<uint64_t>(),
                         *leaf, *proof, *root);
}

absl::Status RunConsistencyVector(const Hasher& hasher, const nlohmann::json& c) {
  absl::StatusOr<Digest> root1 = VectorDigest(c, "root1");
  if (!root1.ok()) return root1.status();
  absl::StatusOr<Digest> root2 = VectorDigest(c, "root2");
  if (!root2.ok()) return root2.status();
  absl::StatusOr<std::vector<Digest>> proof = VectorProof(c);
  if (!proof.ok()) return proof.status();
  return VerifyConsistency(hasher, c["size1"].get<uint64_t>(), c["size2"].get<uint64_t>(), *proof,
                           *root1, *root2);
}

struct VectorCounts {
  int accepted = 0;
  int rejected = 0;
};

// Runs every case under merkle/<kind>; each failure names its file.
VectorCounts RunPublishedVectors(
    const std::string& kind, const std::set<std::string>& stricter_than_upstream,
    absl::Status (*run)(const Hasher&, const nlohmann::json&), const Hasher& hasher) {
  VectorCounts counts;
  const std::filesystem::path root = TestDataPath("test-vectors/merkle");
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root / kind)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    const std::string name = std::filesystem::relative(entry.path(), root).generic_string();
    const nlohmann::json c = ReadJsonOrDie(entry.path());
    if (c.is_discarded() || !c.contains("wantErr")) {
      ADD_FAILURE() << name << ": not a test case";
      continue;
    }
    const absl::Status status = run(hasher, c);
    if (stricter_than_upstream.count(name) != 0) {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32 bytes")))
          << name;
      ++counts.rejected;
    } else if (c["wantErr"].get<bool>()) {
      EXPECT_THAT(status, Not(IsOk())) << name << ": " << c.value("desc", "");
      ++counts.rejected;
    } else {
      EXPECT_THAT(status, IsOk()) << name << ": " << c.value("desc", "");
      ++counts.accepted;
    }
  }
  return counts;
}

TEST_F(MerkleTest, PublishedInclusionVectors) {
  const VectorCounts counts = RunPublishedVectors("inclusion", {}, RunInclusionVector, hasher_);
  // 98 files at the pinned commit; the floor keeps the test from passing on an empty folder.
  EXPECT_GE(counts.accepted + counts.rejected, 98);
  EXPECT_GE(counts.accepted, 6);
}

TEST_F(MerkleTest, PublishedConsistencyVectors) {
  // Upstream compares roots of equal-size trees as opaque bytes, so this case passes 12-byte
  // "roots" there; a Digest is exactly 32 bytes, so HerbTrace rejects it while decoding.
  // VerifiesEqualSizesWithEqualRoots covers the same rule with real digests.
  const std::set<std::string> stricter = {
      "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"};
  const VectorCounts counts =
      RunPublishedVectors("consistency", stricter, RunConsistencyVector, hasher_);
  EXPECT_GE(counts.accepted + counts.rejected, 98);
  EXPECT_GE(counts.accepted, 5);
}

constexpr int kMaxExhaustiveSize = 300;

// Shared by the exhaustive tests: the leaves, their stored subtrees and every reference root.
class ExhaustiveMerkleTest : public MerkleTest {
 protected:
  void SetUp() override {
    leaves_ = LeafHashes(hasher_, kMaxExhaustiveSize);
    StoreTree(hasher_, leaves_, nodes_);
    for (int size = 0; size <= kMaxExhaustiveSize; ++size) {
      roots_.push_back(RootFromLeafHashes(hasher_, Prefix(size)));
    }
  }
  absl::Span<const Digest> Prefix(uint64_t size) const {
    return absl::MakeConstSpan(leaves_).subspan(0, size);
  }

  std::vector<Digest> leaves_;
  MemoryNodes nodes_;
  std::vector<Digest> roots_;
};

TEST_F(ExhaustiveMerkleTest, InclusionProofsFromStoredSubtreesMatchReferenceAndVerify) {
  for (uint64_t size = 1; size <= kMaxExhaustiveSize; ++size) {
    const TreeView view(nodes_, size);
    absl::StatusOr<Digest> root = TreeRoot(hasher_, view, size);
    ASSERT_THAT(root, IsOk());
    ASSERT_EQ(*root, roots_[size]) << "size " << size;
    for (uint64_t index = 0; index < size; ++index) {
      absl::StatusOr<std::vector<Digest>> proof = InclusionProof(hasher_, view, index, size);
      ASSERT_THAT(proof, IsOk()) << "leaf " << index << " of " << size;
      ASSERT_EQ(*proof, InclusionProofFromLeafHashes(hasher_, Prefix(size), index))
          << "leaf " << index << " of " << size;
      const Digest& leaf = leaves_[index];
      ASSERT_THAT(VerifyInclusion(hasher_, index, size, leaf, *proof, roots_[size]), IsOk())
          << "leaf " << index << " of " << size;
      ASSERT_THAT(VerifyInclusion(hasher_, index, size, FlipBit(leaf, index + size), *proof,
                                  roots_[size]),
                  StatusIs(absl::StatusCode::kDataLoss))
          << "leaf " << index << " of " << size;
      std::vector<Digest> padded = *proof;
      padded.push_back(leaf);
      ASSERT_THAT(VerifyInclusion(hasher_, index, size, leaf, padded, roots_[size]),
                  StatusIs(absl::StatusCode::kInvalidArgument))
          << "leaf " << index << " of " << size;
      if (!proof->empty()) {
        ASSERT_THAT(VerifyInclusion(hasher_, index, size, leaf,
                                    absl::MakeConstSpan(*proof).first(proof->size() - 1),
                                    roots_[size]),
                    StatusIs(absl::StatusCode::kInvalidArgument))
            << "leaf " << index << " of " << size;
      }
      for (size_t i = 0; i < proof->size(); ++i) {
        std::vector<Digest> tampered = *proof;
        tampered[i] = FlipBit(tampered[i], index * 31 + i);
        ASSERT_THAT(VerifyInclusion(hasher_, index, size, leaf, tampered, roots_[size]),
                    StatusIs(absl::StatusCode::kDataLoss))
            << "leaf " << index << " of " << size << ", proof hash " << i;
      }
    }
  }
}

TEST_F(ExhaustiveMerkleTest, BatchedInclusionProofsEqualSingleOnesAndReadEachNodeOnce) {
  for (uint64_t size = 1; size <= kMaxExhaustiveSize; ++size) {
    const TreeView view(nodes_, size);
    BatchRecordingReader recording(view);
    // Every leaf, newest first, and the oldest twice: any order, repeats allowed.
    std::vector<uint64_t> indices;
    for (uint64_t index = size; index-- > 0;) indices.push_back(index);
    indices.push_back(0);
    absl::StatusOr<std::vector<std::vector<Digest>>> proofs =
        InclusionProofs(hasher_, recording, indices, size);
    ASSERT_THAT(proofs, IsOk()) << "size " << size;
    ASSERT_EQ(proofs->size(), indices.size());
    for (size_t i = 0; i < indices.size(); ++i) {
      ASSERT_EQ((*proofs)[i], InclusionProofFromLeafHashes(hasher_, Prefix(size), indices[i]))
          << "leaf " << indices[i] << " of " << size;
      ASSERT_THAT(VerifyInclusion(hasher_, indices[i], size, leaves_[indices[i]], (*proofs)[i],
                                  roots_[size]),
                  IsOk());
    }
    const std::vector<std::vector<NodeId>> batches = recording.TakeBatches();
    ASSERT_EQ(batches.size(), 1u) << "size " << size;
    std::set<std::pair<uint8_t, uint64_t>> distinct;
    for (const NodeId& id : batches[0]) distinct.insert({id.level, id.index});
    EXPECT_EQ(distinct.size(), batches[0].size()) << "a node asked for twice at size " << size;
  }
}

TEST_F(ExhaustiveMerkleTest, ConsistencyProofsFromStoredSubtreesMatchReferenceAndVerify) {
  for (uint64_t size2 = 1; size2 <= kMaxExhaustiveSize; ++size2) {
    const TreeView view(nodes_, size2);
    for (uint64_t size1 = 1; size1 <= size2; ++size1) {
      absl::StatusOr<std::vector<Digest>> proof = ConsistencyProof(hasher_, view, size1, size2);
      ASSERT_THAT(proof, IsOk()) << size1 << " -> " << size2;
      ASSERT_EQ(*proof, ConsistencyProofFromLeafHashes(hasher_, Prefix(size2), size1))
          << size1 << " -> " << size2;
      ASSERT_THAT(VerifyConsistency(hasher_, size1, size2, *proof, roots_[size1], roots_[size2]),
                  IsOk())
          << size1 << " -> " << size2;
      std::vector<Digest> padded = *proof;
      padded.push_back(roots_[size1]);
      ASSERT_THAT(VerifyConsistency(hasher_, size1, size2, padded, roots_[size1], roots_[size2]),
                  StatusIs(absl::StatusCode::kInvalidArgument))
          << size1 << " -> " << size2;
      if (!proof->empty()) {
        ASSERT_THAT(VerifyConsistency(hasher_, size1, size2,
                                      absl::MakeConstSpan(*proof).first(proof->size() - 1),
                                      roots_[size1], roots_[size2]),
                    StatusIs(absl::StatusCode::kInvalidArgument))
            << size1 << " -> " << size2;
      }
      for (size_t i = 0; i < proof->size(); ++i) {
        std::vector<Digest> tampered = *proof;
        tampered[i] = FlipBit(tampered[i], size1 * 17 + i);
        ASSERT_THAT(
            VerifyConsistency(hasher_, size1, size2, tampered, roots_[size1], roots_[size2]),
            StatusIs(absl::StatusCode::kDataLoss))
            << size1 << " -> " << size2 << ", proof hash " << i;
      }
      ASSERT_THAT(VerifyConsistency(hasher_, size1, size2, *proof, FlipBit(roots_[size1], size2),
                                    roots_[size2]),
                  StatusIs(absl::StatusCode::kDataLoss))
          << size1 << " -> " << size2;
    }
  }
}

// The bound the proof builders promise: a path down plus one fold of the right edge.
int ReadBound(uint64_t size) { return 2 * std::bit_width(size) + 2; }

TEST_F(MerkleTest, ProofsReadLogarithmicallyManyStoredSubtrees) {
  constexpr uint64_t kSize = 100'003;
  std::vector<Digest> leaves = LeafHashes(hasher_, kSize);
  MemoryNodes stored;
  CompactRange range(hasher_);
  std::vector<Digest> roots(kSize + 1);
  roots[0] = range.Root();
  for (const Digest& leaf : leaves) {
    stored.Store(range.Append(leaf));
    roots[range.size()] = range.Root();
  }
  const TreeView view(stored, kSize);
  CountingReader counting(view);

  absl::StatusOr<Digest> root = TreeRoot(hasher_, counting, kSize);
  ASSERT_THAT(root, IsOk());
  EXPECT_EQ(*root, roots[kSize]);
  EXPECT_EQ(counting.TakeReads(), std::popcount(kSize));

  for (uint64_t index : {0ul, 1ul, 65535ul, 65536ul, 98303ul, 98304ul, 99999ul, 100000ul,
                         100001ul, 100002ul, 54321ul}) {
    absl::StatusOr<std::vector<Digest>> proof = InclusionProof(hasher_, counting, index, kSize);
    ASSERT_THAT(proof, IsOk());
    EXPECT_LE(counting.TakeReads(), ReadBound(kSize)) << "leaf " << index;
    EXPECT_THAT(VerifyInclusion(hasher_, index, kSize, leaves[index], *proof, roots[kSize]),
                IsOk())
        << "leaf " << index;
  }
  for (uint64_t size1 : {1ul, 2ul, 3ul, 4095ul, 65535ul, 65536ul, 65537ul, 99999ul, 100002ul}) {
    absl::StatusOr<std::vector<Digest>> proof = ConsistencyProof(hasher_, counting, size1, kSize);
    ASSERT_THAT(proof, IsOk());
    EXPECT_LE(counting.TakeReads(), ReadBound(kSize)) << size1;
    EXPECT_THAT(VerifyConsistency(hasher_, size1, kSize, *proof, roots[size1], roots[kSize]),
                IsOk())
        << size1;
  }
}

TEST_F(MerkleTest, ProofsAtHugeSizesReadLogarithmicallyAndVerify) {
  constexpr uint64_t kMax = ~uint64_t{0};
  for (uint64_t size : {uint64_t{1'000'003}, (uint64_t{1} << 40) + 12345, uint64_t{1} << 63,
                        (uint64_t{1} << 63) + 1, kMax}) {
    const UniformTree tree(hasher_, size);
    CountingReader counting(tree);
    absl::StatusOr<Digest> root = TreeRoot(hasher_, counting, size);
    ASSERT_THAT(root, IsOk());
    EXPECT_EQ(counting.TakeReads(), std::popcount(size));
    absl::StatusOr<Digest> leaf = tree.ReadNode(NodeId{0, 0});
    ASSERT_THAT(leaf, IsOk());

    for (uint64_t index : {uint64_t{0}, size / 3, size / 2, size - 2, size - 1}) {
      absl::StatusOr<std::vector<Digest>> proof = InclusionProof(hasher_, counting, index, size);
      ASSERT_THAT(proof, IsOk());
      EXPECT_LE(counting.TakeReads(), ReadBound(size)) << "leaf " << index << " of " << size;
      EXPECT_THAT(VerifyInclusion(hasher_, index, size, *leaf, *proof, *root), IsOk())
          << "leaf " << index << " of " << size;
    }
    for (uint64_t size1 : {uint64_t{1}, uint64_t{3}, size / 3, size / 2, size - 1}) {
      const UniformTree old_tree(hasher_, size1);
      absl::StatusOr<Digest> root1 = TreeRoot(hasher_, old_tree, size1);
      ASSERT_THAT(root1, IsOk());
      absl::StatusOr<std::vector<Digest>> proof = ConsistencyProof(hasher_, counting, size1, size);
      ASSERT_THAT(proof, IsOk());
      EXPECT_LE(counting.TakeReads(), ReadBound(size)) << size1 << " -> " << size;
      EXPECT_THAT(VerifyConsistency(hasher_, size1, size, *proof, *root1, *root), IsOk())
          << size1 << " -> " << size;
    }
  }
}

TEST_F(MerkleTest, ProofBuildersRejectImpossibleArguments) {
  const std::vector<Digest> leaves = LeafHashes(hasher_, 7);
  MemoryNodes nodes;
  StoreTree(hasher_, leaves, nodes);
  EXPECT_THAT(InclusionProof(hasher_, nodes, 7, 7),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("leaf 7")));
  EXPECT_THAT(InclusionProof(hasher_, nodes, 0, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ConsistencyProof(hasher_, nodes, 5, 4), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ConsistencyProof(hasher_, nodes, 0, 4), StatusIs(absl::StatusCode::kInvalidArgument));
  absl::StatusOr<std::vector<Digest>> same = ConsistencyProof(hasher_, nodes, 4, 4);
  ASSERT_THAT(same, IsOk());
  EXPECT_TRUE(same->empty());
  absl::StatusOr<Digest> empty = TreeRoot(hasher_, nodes, 0);
  ASSERT_THAT(empty, IsOk());
  EXPECT_EQ(*empty, EmptyRoot(hasher_));
}

TEST_F(MerkleTest, BatchedInclusionProofsRejectALeafOutsideTheTree) {
  const std::vector<Digest> leaves = LeafHashes(hasher_, 7);
  MemoryNodes nodes;
  StoreTree(hasher_, leaves, nodes);
  const std::vector<uint64_t> indices = {0, 7, 3};
  EXPECT_THAT(InclusionProofs(hasher_, nodes, indices, 7),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("leaf 7")));
  absl::StatusOr<std::vector<std::vector<Digest>>> none = InclusionProofs(hasher_, nodes, {}, 7);
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->empty());
  nodes.Erase(NodeId{1, 2});
  EXPECT_THAT(InclusionProofs(hasher_, nodes, std::vector<uint64_t>{0, 1}, 7),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(InclusionProofs(hasher_, nodes, std::vector<uint64_t>{0, 1}, 4), IsOk());
}

TEST_F(MerkleTest, MissingStoredSubtreeIsNotFound) {
  const std::vector<Digest> leaves = LeafHashes(hasher_, 7);
  MemoryNodes nodes;
  StoreTree(hasher_, leaves, nodes);
  nodes.Erase(NodeId{1, 2});  // leaves 4 and 5: on every path that touches the right half
  EXPECT_THAT(TreeRoot(hasher_, nodes, 7), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(InclusionProof(hasher_, nodes, 0, 7), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(InclusionProof(hasher_, nodes, 6, 7), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ConsistencyProof(hasher_, nodes, 3, 7), StatusIs(absl::StatusCode::kNotFound));
  // A proof that does not need the node still works.
  EXPECT_THAT(InclusionProof(hasher_, nodes, 0, 4), IsOk());
}

TEST_F(MerkleTest, ReaderErrorsArePassedThrough) {
  class FailingReader final : public NodeReader {
   public:
    absl::StatusOr<Digest> ReadNode(NodeId) const override {
      return absl::UnavailableError("disk on fire");
    }
  } failing;
  EXPECT_THAT(TreeRoot(hasher_, failing, 3),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("disk on fire")));
  EXPECT_THAT(InclusionProof(hasher_, failing, 1, 3), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(ConsistencyProof(hasher_, failing, 1, 3),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(MerkleTest, VerifyInclusionNamesWhatIsWrong) {
  const std::vector<Digest> leaves = LeafHashes(hasher_, 7);
  const Digest root = RootFromLeafHashes(hasher_, leaves);
  const std::vector<Digest> proof = InclusionProofFromLeafHashes(hasher_, leaves, 4);
  ASSERT_THAT(VerifyInclusion(hasher_, 4, 7, leaves[4], proof, root), IsOk());

  EXPECT_THAT(VerifyInclusion(hasher_, 7, 7, leaves[4], proof, root),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyInclusion(hasher_, 0, 0, leaves[4], {}, root),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<Digest> longer = proof;
  longer.push_back(root);
  EXPECT_THAT(VerifyInclusion(hasher_, 4, 7, leaves[4], longer, root),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("want 3")));
  EXPECT_THAT(
      VerifyInclusion(hasher_, 4, 7, leaves[4], absl::MakeConstSpan(proof).subspan(1), root),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("want 3")));

  const Digest wrong_root = FlipBit(root, 0);
  EXPECT_THAT(
      VerifyInclusion(hasher_, 4, 7, leaves[4], proof, wrong_root),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr(absl::StrCat("inclusion proof: calculated root ", ToHex(root),
                                      " does not match expected root ", ToHex(wrong_root),
                                      " for leaf 4 of 7"))));
  // The right hashes for the wrong position.
  EXPECT_THAT(VerifyInclusion(hasher_, 5, 7, leaves[4], proof, root),
              StatusIs(absl::StatusCode::kDataLoss));
  absl::StatusOr<Digest> calculated = RootFromInclusionProof(hasher_, 4, 7, leaves[4], proof);
  ASSERT_THAT(calculated, IsOk());
  EXPECT_EQ(*calculated, root);
}

TEST_F(MerkleTest, VerifyConsistencyNamesWhatIsWrong) {
  const std::vector<Digest> leaves = LeafHashes(hasher_, 7);
  const absl::Span<const Digest> all = leaves;
  const Digest root3 = RootFromLeafHashes(hasher_, all.subspan(0, 3));
  const Digest root7 = RootFromLeafHashes(hasher_, all);
  const std::vector<Digest> proof = ConsistencyProofFromLeafHashes(hasher_, all, 3);
  ASSERT_THAT(VerifyConsistency(hasher_, 3, 7, proof, root3, root7), IsOk());

  EXPECT_THAT(VerifyConsistency(hasher_, 7, 3, proof, root7, root3),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("greater")));
  EXPECT_THAT(VerifyConsistency(hasher_, 0, 7, {}, EmptyRoot(hasher_), root7),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("size1 is 0")));
  EXPECT_THAT(VerifyConsistency(hasher_, 0, 0, {}, EmptyRoot(hasher_), EmptyRoot(hasher_)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyConsistency(hasher_, 3, 7, absl::MakeConstSpan(proof).subspan(1), root3, root7),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("want")));
  EXPECT_THAT(VerifyConsistency(hasher_, 3, 7, {}, root3, root7),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyConsistency(hasher_, 3, 7, proof, FlipBit(root3, 1), root7),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("for old size 3")));
  EXPECT_THAT(VerifyConsistency(hasher_, 3, 7, proof, root3, FlipBit(root7, 1)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("for new size 7")));
}

TEST_F(MerkleTest, VerifiesEqualSizesWithEqualRoots) {
  const std::vector<Digest> leaves = LeafHashes(hasher_, 5);
  const Digest root = RootFromLeafHashes(hasher_, leaves);
  EXPECT_THAT(VerifyConsistency(hasher_, 5, 5, {}, root, root), IsOk());
  EXPECT_THAT(VerifyConsistency(hasher_, 5, 5, {root}, root, root),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyConsistency(hasher_, 5, 5, {}, root, FlipBit(root, 3)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("equal size 5")));
}

TEST_F(MerkleTest, Sm3TreesVerifyAndDifferFromSha256) {
  std::unique_ptr<Hasher> sm3 = MakeHasher(HashAlgorithm::kSm3);
  ASSERT_NE(sm3, nullptr);
  std::vector<Digest> sm3_leaves;
  std::vector<Digest> sha_leaves;
  for (absl::string_view entry : {"ginseng", "astragalus", "licorice"}) {
    sm3_leaves.push_back(HashLeaf(*sm3, entry));
    sha_leaves.push_back(HashLeaf(hasher_, entry));
  }
  const Digest sm3_root = RootFromLeafHashes(*sm3, sm3_leaves);
  EXPECT_NE(sm3_root, RootFromLeafHashes(hasher_, sha_leaves));

  MemoryNodes nodes;
  StoreTree(*sm3, sm3_leaves, nodes);
  absl::StatusOr<Digest> stored_root = TreeRoot(*sm3, nodes, 3);
  ASSERT_THAT(stored_root, IsOk());
  EXPECT_EQ(*stored_root, sm3_root);
  for (uint64_t index = 0; index < 3; ++index) {
    absl::StatusOr<std::vector<Digest>> proof = InclusionProof(*sm3, nodes, index, 3);
    ASSERT_THAT(proof, IsOk());
    EXPECT_THAT(VerifyInclusion(*sm3, index, 3, sm3_leaves[index], *proof, sm3_root), IsOk());
    EXPECT_THAT(VerifyInclusion(hasher_, index, 3, sm3_leaves[index], *proof, sm3_root),
                StatusIs(absl::StatusCode::kDataLoss));
  }
  absl::StatusOr<std::vector<Digest>> proof = ConsistencyProof(*sm3, nodes, 2, 3);
  ASSERT_THAT(proof, IsOk());
  EXPECT_THAT(VerifyConsistency(*sm3, 2, 3, *proof,
                                RootFromLeafHashes(*sm3, absl::MakeConstSpan(sm3_leaves).subspan(0, 2)),
                                sm3_root),
              IsOk());
}

}  // namespace
}  // namespace herbtrace::crypto
