// LogView's batched reads: many entries with their leaf hashes and inclusion proofs at once
// equal the entry-by-entry reads, in any order; the stored tree nodes read in one batch equal
// the nodes read one by one; a batch's history lists its own entries only.
#include "storage/log_view.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crypto/merkle.h"
#include "storage/ledger.h"
#include "storage/tree_nodes.h"
#include "tests/storage/ledger_fixture.h"
#include "tests/test_util.h"

namespace herbtrace::storage {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::StatusIs;
using ::herbtrace::testing::TempDir;
using ::herbtrace::testing::TestLogSigner;
using ::herbtrace::testing::TestRequest;
using ::herbtrace::testing::TouchesListedBatches;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class LogViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Ledger::Options options;
    options.origin = ::herbtrace::testing::kTestOrigin;
    options.clock = &clock_;
    options.rule = &rule_;
    auto ledger = Ledger::Open(dir_.path().string(), options, TestLogSigner());
    ASSERT_THAT(ledger, IsOk());
    ledger_ = *std::move(ledger);
  }

  void AppendN(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_THAT(ledger_->Append(TestRequest(absl::StrCat("event-", i),
                                              absl::StrCat("payload ", i))),
                  IsOk());
    }
  }

  const LogView& view() { return ledger_->view(); }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  TouchesListedBatches rule_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LogViewTest, ProvenEntriesEqualTheEntryByEntryReadsInAnyOrder) {
  AppendN(300);
  for (uint64_t size : {1, 2, 63, 64, 65, 127, 128, 129, 200, 300}) {
    // Newest first, one entry twice.
    std::vector<uint64_t> seqs;
    for (uint64_t seq = size; seq-- > 0;) seqs.push_back(seq);
    seqs.push_back(size / 2);
    auto proven = view().ProvenEntries(seqs, size);
    ASSERT_THAT(proven, IsOk()) << "size " << size;
    ASSERT_EQ(proven->size(), seqs.size());
    auto root = view().RootAt(size);
    ASSERT_THAT(root, IsOk());
    for (size_t i = 0; i < seqs.size(); ++i) {
      const LogView::ProvenEntry& e = (*proven)[i];
      ASSERT_EQ(e.seq, seqs[i]);
      ASSERT_EQ(e.bytes, *view().EntryBytes(seqs[i]));
      ASSERT_EQ(e.leaf_hash, *view().LeafHash(seqs[i]));
      ASSERT_EQ(e.leaf_hash, crypto::HashLeaf(ledger_->hasher(), e.bytes));
      ASSERT_EQ(e.proof, *view().InclusionProof(seqs[i], size)) << seqs[i] << " of " << size;
      ASSERT_THAT(crypto::VerifyInclusion(ledger_->hasher(), e.seq, size, e.leaf_hash, e.proof,
                                          *root),
                  IsOk());
    }
  }
  auto none = view().ProvenEntries({}, 300);
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->empty());
}

TEST_F(LogViewTest, ProvenEntriesRefusals) {
  AppendN(5);
  const std::vector<uint64_t> seqs = {1, 2};
  EXPECT_THAT(view().ProvenEntries(seqs, 6),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("tree_size")));
  EXPECT_THAT(view().ProvenEntries(std::vector<uint64_t>{1, 4}, 4),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("leaf 4")));
  EXPECT_THAT(view().EntriesBytes(std::vector<uint64_t>{0, 5}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("entry 5")));
  EXPECT_EQ(ledger_->size(), 5u);
}

TEST_F(LogViewTest, ProvenEntriesWithTheLogSizeTheCallerReadAnswerTheSame) {
  AppendN(70);
  const std::vector<uint64_t> seqs = {69, 3, 64};
  auto read_here = view().ProvenEntries(seqs, 70);
  auto given = view().ProvenEntries(seqs, 70, /*log_size=*/70);
  ASSERT_THAT(read_here, IsOk());
  ASSERT_THAT(given, IsOk());
  ASSERT_EQ(given->size(), read_here->size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    EXPECT_EQ((*given)[i].seq, (*read_here)[i].seq);
    EXPECT_EQ((*given)[i].bytes, (*read_here)[i].bytes);
    EXPECT_EQ((*given)[i].leaf_hash, (*read_here)[i].leaf_hash);
    EXPECT_EQ((*given)[i].proof, (*read_here)[i].proof);
  }
  // A tree beyond the size the caller read is refused as beyond the log, as without it.
  EXPECT_THAT(view().ProvenEntries(seqs, 70, /*log_size=*/69),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("tree_size: 70 is beyond the log's size 69")));
  EXPECT_EQ(ledger_->size(), 70u);
}

TEST_F(LogViewTest, TheStoredTreeSizeDecodesOnlyFromEightBytes) {
  AppendN(3);
  auto stored = ledger_->db().Get(Cf::kMeta, kMetaTreeSize);
  ASSERT_THAT(stored, IsOk());
  ASSERT_TRUE(stored->has_value());
  auto size = DecodeTreeSize(**stored);
  ASSERT_THAT(size, IsOk());
  EXPECT_EQ(*size, 3u);
  EXPECT_THAT(DecodeTreeSize("1234567"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("meta tree_size: stored value has 7")));
}

TEST_F(LogViewTest, EntriesBytesAnswerInTheOrderAsked) {
  AppendN(10);
  auto bytes = view().EntriesBytes(std::vector<uint64_t>{7, 2, 9, 2});
  ASSERT_THAT(bytes, IsOk());
  EXPECT_THAT(*bytes, ElementsAre(*view().EntryBytes(7), *view().EntryBytes(2),
                                  *view().EntryBytes(9), *view().EntryBytes(2)));
}

TEST_F(LogViewTest, StoredNodesReadInOneBatchEqualThemReadOneByOne) {
  AppendN(100);
  const TreeNodeReader stored(ledger_->db());
  std::vector<crypto::NodeId> ids;
  for (uint8_t level = 0; (uint64_t{1} << level) <= 100; ++level) {
    for (uint64_t index = 0; ((index + 1) << level) <= 100; ++index) {
      ids.push_back(crypto::NodeId{level, index});
    }
  }
  std::reverse(ids.begin(), ids.end());
  ids.push_back(ids.front());
  auto batched = stored.ReadNodes(ids);
  ASSERT_THAT(batched, IsOk());
  ASSERT_EQ(batched->size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ((*batched)[i], *stored.ReadNode(ids[i]))
        << "level " << int{ids[i].level} << " index " << ids[i].index;
  }
  // Leaves 96..99 complete no level-3 subtree: (3, 12) is not stored.
  EXPECT_THAT(stored.ReadNodes(std::vector<crypto::NodeId>{{0, 1}, {3, 12}}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("level 3, index 12")));
  EXPECT_THAT(stored.ReadNodes(std::vector<crypto::NodeId>{{0, 200}}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("not stored")));
  EXPECT_THAT(stored.ReadNodes(std::vector<crypto::NodeId>{{63, 2}}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("beyond any tree")));
}

TEST_F(LogViewTest, BatchHistoryListsOnlyTheBatchsOwnEntries) {
  // Ids that share a prefix: the history of "lot-1" must not run into "lot-10" or "lot-1x".
  const std::vector<std::string> payloads = {"batches=lot-1",  "batches=lot-10", "batches=lot-1x",
                                             "batches=lot-1",  "batches=lot-0",  "batches=lot-2",
                                             "batches=lot-10", "batches=lot-1"};
  for (size_t i = 0; i < payloads.size(); ++i) {
    ASSERT_THAT(ledger_->Append(TestRequest(absl::StrCat("e-", i), payloads[i])), IsOk());
  }
  auto history = view().BatchHistory("lot-1");
  ASSERT_THAT(history, IsOk());
  EXPECT_THAT(*history, ElementsAre(0u, 3u, 7u));
  EXPECT_THAT(*view().BatchHistory("lot-10"), ElementsAre(1u, 6u));
  EXPECT_THAT(*view().BatchHistory("lot-2"), ElementsAre(5u));
  EXPECT_TRUE(view().BatchHistory("lot-3")->empty());
}

}  // namespace
}  // namespace herbtrace::storage
