// The full audit: a sound ledger passes; one altered byte of one stored entry, an altered tree
// node, a missing entry, or a rewrite that recomputes the whole tree is found and named — the
// same entry with the same reason whether the entries are audited as one range or split into
// ranges audited side by side, and wherever the break lies relative to the splits.
#include "storage/audit.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crypto/compact_range.h"
#include "crypto/merkle.h"
#include "storage/key_codec.h"
#include "storage/ledger.h"
#include "storage/log_view.h"
#include "storage/tree_nodes.h"
#include "tests/storage/ledger_fixture.h"
#include "tests/test_util.h"

namespace herbtrace::storage {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::TempDir;
using ::herbtrace::testing::TestLogSigner;
using ::herbtrace::testing::TestRequest;
using ::herbtrace::testing::TouchesListedBatches;
using ::testing::HasSubstr;

// Every case runs with the entries audited as one range and split into several ranges audited
// side by side (the 100 entries then split at multiples of 8 or 4): what the audit finds, and the
// entry it names, must not depend on the split.
class AuditTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    TouchesListedBatches rule;
    Ledger::Options options;
    options.origin = ::herbtrace::testing::kTestOrigin;
    options.rule = &rule;
    auto ledger = Ledger::Open(dir_.path().string(), options, TestLogSigner());
    ASSERT_THAT(ledger, IsOk());
    for (int i = 0; i < kEntries; ++i) {
      ASSERT_THAT((*ledger)->Append(TestRequest(absl::StrCat("e", i),
                                                absl::StrCat("batches=B", i % 7, ";step ", i))),
                  IsOk());
    }
  }

  std::unique_ptr<LedgerDb> OpenDb() {
    auto db = LedgerDb::Open(dir_.path().string(), LedgerDb::Options());
    EXPECT_THAT(db, IsOk());
    return *std::move(db);
  }

  AuditReport Audit(AuditOptions options = {}) {
    auto db = LedgerDb::Open(dir_.path().string(), LedgerDb::Options::ReadOnly());
    EXPECT_THAT(db, IsOk());
    options.entry_ranges = GetParam();
    options.threads = 2;
    auto report = AuditLedger(**db, options);
    EXPECT_THAT(report, IsOk());
    return *report;
  }

  // Flips one byte of the stored entry; returns its bytes as they were.
  std::string AlterEntry(uint64_t seq) {
    auto db = OpenDb();
    const std::string original = **db->Get(Cf::kEntries, BigEndian64(seq));
    std::string bytes = original;
    bytes[bytes.size() - 3] ^= 0x20;
    EXPECT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kEntries), BigEndian64(seq),
                             bytes).ok());
    return original;
  }
  void PutEntry(uint64_t seq, const std::string& bytes) {
    auto db = OpenDb();
    EXPECT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kEntries), BigEndian64(seq),
                             bytes).ok());
  }
  // Flips one byte of the stored node (level, index); it is stored under the leaf that completed
  // it, at that level.
  void AlterTreeNode(crypto::NodeId id) {
    auto db = OpenDb();
    std::string nodes = **db->Get(Cf::kTree, TreeNodeKey(id));
    ASSERT_GE(nodes.size(), (id.level + 1u) * 32);
    nodes[id.level * 32 + 5] ^= 0x01;
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kTree), TreeNodeKey(id), nodes)
                    .ok());
  }

  static constexpr int kEntries = 100;
  TempDir dir_;
};

TEST_P(AuditTest, SoundLedgerPasses) {
  AuditReport report = Audit();
  EXPECT_TRUE(report.ok()) << report.failure->reason;
  EXPECT_EQ(report.entries_checked, uint64_t{kEntries});
  EXPECT_EQ(report.tree_size, uint64_t{kEntries});
  EXPECT_EQ(report.checkpoint_size, uint64_t{kEntries});
  // The root the ranges recompute together is the log's.
  auto db = OpenDb();
  auto hasher = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
  LogView view(*db, **hasher);
  auto root = view.RootAt(kEntries);
  ASSERT_THAT(root, IsOk());
  EXPECT_EQ(report.root, *root);
}

// Entries at the edges of every split (multiples of 4 and 8) and inside the ranges.
TEST_P(AuditTest, AnAlteredEntryIsNamedWhereverTheRangesSplit) {
  for (const uint64_t victim : {0, 7, 8, 19, 20, 31, 32, 40, 47, 48, 59, 60, 63, 64, 80, 98, 99}) {
    const std::string original = AlterEntry(victim);
    AuditReport report = Audit();
    ASSERT_FALSE(report.ok()) << victim;
    EXPECT_EQ(report.failure->seq, victim);
    EXPECT_THAT(report.failure->reason,
                HasSubstr(absl::StrCat("entry ", victim, ": its bytes do not hash")));
    EXPECT_EQ(report.entries_checked, victim);
    PutEntry(victim, original);
  }
  EXPECT_TRUE(Audit().ok());
}

TEST_P(AuditTest, OfBreaksInSeveralRangesTheEarliestIsNamed) {
  AlterTreeNode({0, 90});
  AlterEntry(70);
  {
    AuditReport report = Audit();
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.failure->seq, 70u);
  }
  AlterTreeNode({1, 22});  // under leaf 45
  {
    AuditReport report = Audit();
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.failure->seq, 45u);
    EXPECT_THAT(report.failure->reason, HasSubstr("entry 45: the tree nodes it completed differ"));
  }
  AlterEntry(3);
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.failure->seq, 3u);
  EXPECT_THAT(report.failure->reason, HasSubstr("entry 3: its bytes do not hash"));
}

// Nodes over leaves of more than one range (with 2 ranges split at 48, 3 at 32 and 64, 5 at
// multiples of 20) are checked from the nodes below them.
TEST_P(AuditTest, AlteredNodesOverSeveralRangesAreFound) {
  for (const crypto::NodeId id : {crypto::NodeId{6, 0}, crypto::NodeId{5, 1},
                                  crypto::NodeId{4, 2}, crypto::NodeId{4, 3}}) {
    const uint64_t seq = ((id.index + 1) << id.level) - 1;
    std::string original;
    {
      auto db = OpenDb();
      original = **db->Get(Cf::kTree, TreeNodeKey(id));
    }
    AlterTreeNode(id);
    AuditReport report = Audit();
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.failure->seq, seq);
    EXPECT_THAT(report.failure->reason,
                HasSubstr(absl::StrCat("entry ", seq, ": the tree nodes it completed differ")));
    auto db = OpenDb();
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kTree), TreeNodeKey(id),
                             original).ok());
  }
  EXPECT_TRUE(Audit().ok());
}

TEST_P(AuditTest, MissingEntriesAtRangeEdgesAreFound) {
  for (const uint64_t victim : {19, 20, 31, 32, 47, 48, 64}) {
    std::string original;
    {
      auto db = OpenDb();
      original = **db->Get(Cf::kEntries, BigEndian64(victim));
      ASSERT_TRUE(db->db().Delete(rocksdb::WriteOptions(), db->cf(Cf::kEntries),
                                  BigEndian64(victim)).ok());
    }
    AuditReport report = Audit();
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.failure->seq, victim);
    EXPECT_THAT(report.failure->reason,
                HasSubstr(absl::StrCat("entry ", victim, ": missing (the next stored entry is ",
                                       victim + 1, ")")));
    PutEntry(victim, original);
  }
  EXPECT_TRUE(Audit().ok());
}

TEST_P(AuditTest, EntriesMissingAtTheEndAreCounted) {
  {
    auto db = OpenDb();
    for (uint64_t seq = 40; seq < kEntries; ++seq) {
      ASSERT_TRUE(db->db().Delete(rocksdb::WriteOptions(), db->cf(Cf::kEntries),
                                  BigEndian64(seq)).ok());
    }
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_FALSE(report.failure->seq.has_value());
  EXPECT_THAT(report.failure->reason, HasSubstr("entries: 40 stored but the tree size says 100"));
}

TEST_P(AuditTest, MalformedEntryKeyIsFound) {
  {
    auto db = OpenDb();
    // Sorts right after entry 47: the 48th key is then malformed.
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kEntries),
                             BigEndian64(47) + "x", "stray").ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.failure->seq, 48u);
  EXPECT_THAT(report.failure->reason, HasSubstr("entry 48: malformed key"));
}

TEST_P(AuditTest, EntryThatDoesNotParseIsNamed) {
  {
    // An entry of other bytes, with its leaf and every node above it rebuilt.
    auto db = OpenDb();
    auto hasher = *crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    rocksdb::WriteBatch batch;
    crypto::CompactRange tree(*hasher);
    for (uint64_t seq = 0; seq < kEntries; ++seq) {
      std::string bytes = **db->Get(Cf::kEntries, BigEndian64(seq));
      if (seq == 52) {
        bytes = "\xff\xff not an entry";
        batch.Put(db->cf(Cf::kEntries), BigEndian64(seq), bytes);
      }
      batch.Put(db->cf(Cf::kTree), BigEndian64(seq),
                EncodeTreeNodes(tree.Append(crypto::HashLeaf(*hasher, bytes))));
    }
    ASSERT_TRUE(db->db().Write(rocksdb::WriteOptions(), &batch).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.failure->seq, 52u);
  EXPECT_THAT(report.failure->reason,
              HasSubstr("entry 52: stored bytes do not parse as LedgerEntry"));
}

TEST_P(AuditTest, OneAlteredByteOfOneEntryIsFoundAndNamed) {
  {
    auto db = OpenDb();
    std::string bytes = **db->Get(Cf::kEntries, BigEndian64(42));
    bytes[bytes.size() - 3] ^= 0x20;
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kEntries), BigEndian64(42), bytes).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.failure->seq, 42u);
  EXPECT_THAT(report.failure->reason, HasSubstr("entry 42"));
  EXPECT_THAT(report.failure->reason, HasSubstr("do not hash to the stored leaf"));
  EXPECT_EQ(report.entries_checked, 42u);
}

TEST_P(AuditTest, AlteredTreeNodeIsFound) {
  {
    auto db = OpenDb();
    // Node (level 1, index 20) covers leaves 40 and 41; it is the second hash under leaf 41.
    std::string nodes = **db->Get(Cf::kTree, TreeNodeKey({1, 20}));
    ASSERT_EQ(nodes.size(), 2u * 32);
    nodes[32 + 7] ^= 0x01;
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kTree), TreeNodeKey({1, 20}),
                             nodes).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.failure->seq, 41u);  // the entry that completed that node
  EXPECT_THAT(report.failure->reason, HasSubstr("entry 41: the tree nodes it completed differ"));
}

TEST_P(AuditTest, MissingEntryIsFound) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->db().Delete(rocksdb::WriteOptions(), db->cf(Cf::kEntries), BigEndian64(17)).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.failure->seq, 17u);
  EXPECT_THAT(report.failure->reason, HasSubstr("entry 17: missing"));
}

// An insider alters one entry and rebuilds every tree node so the tree is self-consistent.
void RewriteEntryAndRebuildTree(LedgerDb& db, uint64_t victim, uint64_t entries) {
  auto hasher = *crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
  rocksdb::WriteBatch batch;
  crypto::CompactRange tree(*hasher);
  for (uint64_t seq = 0; seq < entries; ++seq) {
    std::string bytes = **db.Get(Cf::kEntries, BigEndian64(seq));
    if (seq == victim) {
      v1::LedgerEntry entry;
      ASSERT_TRUE(entry.ParseFromString(bytes));
      entry.mutable_signed_event()->set_payload("a different story");
      bytes = entry.SerializeAsString();
      batch.Put(db.cf(Cf::kEntries), BigEndian64(seq), bytes);
    }
    batch.Put(db.cf(Cf::kTree), BigEndian64(seq),
              EncodeTreeNodes(tree.Append(crypto::HashLeaf(*hasher, bytes))));
  }
  ASSERT_TRUE(db.db().Write(rocksdb::WriteOptions(), &batch).ok());
}

TEST_P(AuditTest, RewriteWithRebuiltTreeBreaksTheNextEntryOfTheBatchChain) {
  RewriteEntryAndRebuildTree(*OpenDb(), 5, kEntries);
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  // Entry 12 is the next entry of batch B5; it still links to the original entry 5.
  EXPECT_EQ(report.failure->seq, 12u);
  EXPECT_THAT(report.failure->reason, HasSubstr("entry 12: batch_prev[B5] does not link"));
}

// Each batch's next entry lies across a split for some of the splits: 45 → 52 across 48,
// 59 → 66 across 60 and 64.
TEST_P(AuditTest, RewriteBreaksTheBatchChainAcrossRanges) {
  for (const auto& [victim, next] : {std::pair<uint64_t, uint64_t>{45, 52}, {59, 66}}) {
    TempDir copy;
    std::filesystem::copy(dir_.path(), copy.path() / "log", std::filesystem::copy_options::recursive);
    RewriteEntryAndRebuildTree(*OpenDb(), victim, kEntries);
    AuditReport report = Audit();
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.failure->seq, next);
    EXPECT_THAT(report.failure->reason,
                HasSubstr(absl::StrCat("entry ", next, ": batch_prev[B3] does not link")));
    std::filesystem::remove_all(dir_.path());
    std::filesystem::copy(copy.path() / "log", dir_.path(), std::filesystem::copy_options::recursive);
  }
  EXPECT_TRUE(Audit().ok());
}

TEST_P(AuditTest, RewriteOfTheNewestEntryWithRebuiltTreeIsCaughtByTheSignedCheckpoint) {
  RewriteEntryAndRebuildTree(*OpenDb(), kEntries - 1, kEntries);
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.failure->seq, uint64_t{kEntries - 1});
  EXPECT_THAT(report.failure->reason, HasSubstr("signed checkpoint says"));
}

TEST_P(AuditTest, EventIndexRecordPointingElsewhereIsFound) {
  {
    auto db = OpenDb();
    std::string record = **db->Get(Cf::kEventIds, "e30");
    record[7] = 29;  // claim seq 29
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kEventIds), "e30", record).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.failure->seq, 30u);
  EXPECT_THAT(report.failure->reason, HasSubstr("event_ids[e30] does not point back"));
}

TEST_P(AuditTest, StrayEventIndexRecordIsFound) {
  {
    auto db = OpenDb();
    std::string record = **db->Get(Cf::kEventIds, "e30");
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kEventIds), "e-stray", record).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.failure->reason, HasSubstr("event_ids: holds 101 records for 100 entries"));
}

TEST_P(AuditTest, BatchHeadPointingAtAnOlderEntryIsFound) {
  {
    auto db = OpenDb();
    auto hasher = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    LogView view(*db, **hasher);
    // B3's newest entry is 94; make its head name entry 3.
    auto old_leaf = view.LeafHash(3);
    ASSERT_THAT(old_leaf, IsOk());
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kBatchHeads), "B3",
                             EncodeBatchHead(BatchHead{3, *old_leaf})).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.failure->reason,
              HasSubstr("batch_heads[B3]: names entry 3 but the batch's newest entry is 94"));
}

TEST_P(AuditTest, MissingBatchHeadIsCounted) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->db().Delete(rocksdb::WriteOptions(), db->cf(Cf::kBatchHeads), "B6").ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.failure->reason, HasSubstr("batch_heads: holds 6 batches, the entries 7"));
}

TEST_P(AuditTest, BatchHeadNoEntryTouchesIsFound) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kBatchHeads), "B9",
                             **db->Get(Cf::kBatchHeads, "B2")).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.failure->reason, HasSubstr("batch_heads[B9]: no entry touches it"));
}

TEST_P(AuditTest, ProgressCountsEveryEntryOnce) {
  std::vector<uint64_t> reported;
  AuditOptions options;
  options.progress_every = 25;
  options.progress = [&](uint64_t n) { reported.push_back(n); };
  EXPECT_TRUE(Audit(options).ok());
  ASSERT_FALSE(reported.empty());
  EXPECT_EQ(reported.back(), uint64_t{kEntries});
  for (size_t i = 0; i < reported.size(); ++i) {
    EXPECT_EQ(reported[i] % 25, 0u);
    if (i > 0) {
      EXPECT_GT(reported[i], reported[i - 1]);
    }
  }
}

TEST_P(AuditTest, MissingBatchHistoryKeyIsFound) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->db().Delete(rocksdb::WriteOptions(), db->cf(Cf::kBatchEntries),
                                BatchEntryKey("B2", 9)).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.failure->reason, HasSubstr("batch_entries: holds 99 (batch, entry) links"));
}

// The index sums keep the count: a key moved to another entry is found by the sum alone.
TEST_P(AuditTest, BatchHistoryKeyNamingAnotherEntryIsFound) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->db().Delete(rocksdb::WriteOptions(), db->cf(Cf::kBatchEntries),
                                BatchEntryKey("B2", 9)).ok());
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kBatchEntries),
                             BatchEntryKey("B2", 10), "").ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.failure->reason,
              HasSubstr("batch_entries: holds 100 (batch, entry) links, as many as the entries, "
                        "but not the same"));
}

TEST_P(AuditTest, EventIndexRecordWithAnotherPayloadHashIsNamed) {
  {
    auto db = OpenDb();
    std::string record = **db->Get(Cf::kEventIds, "e30");
    record[8 + 5] ^= 0x01;  // inside H(payload)
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kEventIds), "e30", record).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.failure->seq, 30u);
  EXPECT_THAT(report.failure->reason, HasSubstr("event_ids[e30] does not point back"));
}

TEST_P(AuditTest, EventIndexRecordsWithSwappedSeqsAreNamedAtTheFirst) {
  {
    auto db = OpenDb();
    std::string e30 = **db->Get(Cf::kEventIds, "e30");
    std::string e31 = **db->Get(Cf::kEventIds, "e31");
    std::swap(e30[7], e31[7]);    // seq
    std::swap(e30[47], e31[47]);  // the committed size, so that both still lie in the log
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kEventIds), "e30", e30).ok());
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kEventIds), "e31", e31).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.failure->seq, 30u);
  EXPECT_THAT(report.failure->reason, HasSubstr("event_ids[e30] does not point back"));
}

TEST_P(AuditTest, BatchHeadWithTheRightSeqButAnotherLeafHashIsFound) {
  {
    auto db = OpenDb();
    auto hasher = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    LogView view(*db, **hasher);
    auto other_leaf = view.LeafHash(93);
    ASSERT_THAT(other_leaf, IsOk());
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kBatchHeads), "B3",
                             EncodeBatchHead(BatchHead{94, *other_leaf})).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.failure->reason,
              HasSubstr("batch_heads[B3]: names entry 94 with a leaf hash other than its own"));
}

// Each audit draws its own key for the index sums; what it finds does not depend on the key.
TEST_P(AuditTest, RepeatedAuditsFindTheSame) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->db().Delete(rocksdb::WriteOptions(), db->cf(Cf::kBatchHeads), "B6").ok());
  }
  const AuditReport first = Audit();
  ASSERT_FALSE(first.ok());
  for (int i = 0; i < 3; ++i) {
    const AuditReport again = Audit();
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.failure->reason, first.failure->reason);
    EXPECT_EQ(again.failure->seq, first.failure->seq);
    EXPECT_EQ(again.entries_checked, first.entries_checked);
  }
}

TEST_P(AuditTest, ForgedCheckpointIsRejected) {
  {
    auto db = OpenDb();
    std::string note = **db->Get(Cf::kMeta, kMetaCheckpoint);
    note[note.find('\n') + 1] = '9';  // claim another tree size
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kMeta),
                             rocksdb::Slice(kMetaCheckpoint.data(), kMetaCheckpoint.size()), note)
                    .ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.failure->reason, HasSubstr("checkpoint: does not verify"));
}

INSTANTIATE_TEST_SUITE_P(Ranges, AuditTest, ::testing::Values(1, 2, 3, 5),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat(info.param, "Ranges");
                         });

}  // namespace
}  // namespace herbtrace::storage
