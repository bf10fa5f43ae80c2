// The full audit: a sound ledger passes; one altered byte of one stored entry, an altered tree
// node, a missing entry, or a rewrite that recomputes the whole tree is found and named.
#include "storage/audit.h"

#include "absl/strings/str_cat.h"
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

class AuditTest : public ::testing::Test {
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

  AuditReport Audit() {
    auto db = LedgerDb::Open(dir_.path().string(), LedgerDb::Options::ReadOnly());
    EXPECT_THAT(db, IsOk());
    auto report = AuditLedger(**db);
    EXPECT_THAT(report, IsOk());
    return *report;
  }

  static constexpr int kEntries = 100;
  TempDir dir_;
};

TEST_F(AuditTest, SoundLedgerPasses) {
  AuditReport report = Audit();
  EXPECT_TRUE(report.ok()) << report.failure->reason;
  EXPECT_EQ(report.entries_checked, uint64_t{kEntries});
  EXPECT_EQ(report.tree_size, uint64_t{kEntries});
  EXPECT_EQ(report.checkpoint_size, uint64_t{kEntries});
}

TEST_F(AuditTest, OneAlteredByteOfOneEntryIsFoundAndNamed) {
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

TEST_F(AuditTest, AlteredTreeNodeIsFound) {
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

TEST_F(AuditTest, MissingEntryIsFound) {
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

TEST_F(AuditTest, RewriteWithRebuiltTreeBreaksTheNextEntryOfTheBatchChain) {
  RewriteEntryAndRebuildTree(*OpenDb(), 5, kEntries);
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  // Entry 12 is the next entry of batch B5; it still links to the original entry 5.
  EXPECT_EQ(report.failure->seq, 12u);
  EXPECT_THAT(report.failure->reason, HasSubstr("entry 12: batch_prev[B5] does not link"));
}

TEST_F(AuditTest, RewriteOfTheNewestEntryWithRebuiltTreeIsCaughtByTheSignedCheckpoint) {
  RewriteEntryAndRebuildTree(*OpenDb(), kEntries - 1, kEntries);
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.failure->seq, uint64_t{kEntries - 1});
  EXPECT_THAT(report.failure->reason, HasSubstr("signed checkpoint says"));
}

TEST_F(AuditTest, EventIndexRecordPointingElsewhereIsFound) {
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

TEST_F(AuditTest, StrayEventIndexRecordIsFound) {
  {
    auto db = OpenDb();
    std::string record = **db->Get(Cf::kEventIds, "e30");
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kEventIds), "e-stray", record).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.failure->reason, HasSubstr("event_ids: holds 101 records for 100 entries"));
}

TEST_F(AuditTest, BatchHeadPointingAtAnOlderEntryIsFound) {
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

TEST_F(AuditTest, MissingBatchHistoryKeyIsFound) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->db().Delete(rocksdb::WriteOptions(), db->cf(Cf::kBatchEntries),
                                BatchEntryKey("B2", 9)).ok());
  }
  AuditReport report = Audit();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.failure->reason, HasSubstr("batch_entries: holds 99 (batch, entry) links"));
}

TEST_F(AuditTest, ForgedCheckpointIsRejected) {
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

}  // namespace
}  // namespace herbtrace::storage
