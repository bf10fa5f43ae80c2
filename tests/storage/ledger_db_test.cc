// How the ledger's column families are laid out in tables: every family in ZSTD from its first
// flush, the entries in large blocks, the tree uncompressed, levels sized from the last; and a
// ledger written with the earlier layout (LZ4 everywhere, static level sizes) still opens, reads
// and compacts under the current one.
#include "storage/ledger_db.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rocksdb/table_properties.h"
#include "storage/key_codec.h"
#include "tests/test_util.h"

namespace herbtrace::storage {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::TempDir;

// An entry of a bundle: a random-looking payload and proof, the bundle's root signature again.
std::string BundledEntry(int i) {
  std::string entry = absl::StrCat("event ", i, " of the huangqi (黄芪) bundle; proof ");
  for (int h = 0; h < 10; ++h) {
    for (int b = 0; b < 32; ++b) entry.push_back(static_cast<char>((i * 131 + h * 17 + b) % 251));
  }
  entry.append(64, 'r');
  return entry;
}

struct TableLayout {
  std::vector<std::string> compressions;  // one per table file
  uint64_t data_blocks = 0;
  uint64_t data_bytes = 0;  // before compression
};

TableLayout LayoutOf(LedgerDb& db, Cf cf) {
  rocksdb::TablePropertiesCollection tables;
  EXPECT_TRUE(db.db().GetPropertiesOfAllTables(db.cf(cf), &tables).ok());
  TableLayout layout;
  for (const auto& [file, properties] : tables) {
    layout.compressions.push_back(properties->compression_name);
    layout.data_blocks += properties->num_data_blocks;
    layout.data_bytes += properties->raw_key_size + properties->raw_value_size;
  }
  return layout;
}

void Flush(LedgerDb& db, Cf cf) {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  ASSERT_TRUE(db.db().Flush(flush, db.cf(cf)).ok());
}

void CompactAll(LedgerDb& db, Cf cf) {
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  ASSERT_TRUE(db.db().CompactRange(compact, db.cf(cf), nullptr, nullptr).ok());
}

std::unique_ptr<LedgerDb> CreateDb(const TempDir& dir) {
  LedgerDb::Options options;
  options.create_if_missing = true;
  auto db = LedgerDb::Open(dir.path().string(), options);
  EXPECT_THAT(db, IsOk());
  return db.ok() ? *std::move(db) : nullptr;
}

TEST(LedgerDbTest, EntriesAreWrittenInZstdBlocksOfSixteenKibibytes) {
  TempDir dir;
  auto db = CreateDb(dir);
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kEntries), BigEndian64(i),
                             BundledEntry(i)).ok());
  }
  Flush(*db, Cf::kEntries);
  const TableLayout layout = LayoutOf(*db, Cf::kEntries);
  ASSERT_FALSE(layout.compressions.empty());
  for (const std::string& compression : layout.compressions) EXPECT_EQ(compression, "ZSTD");
  // ~170 KB of entries: at the 4 KiB default this would be more than 40 blocks.
  ASSERT_GT(layout.data_bytes, 150'000u);
  EXPECT_LE(layout.data_blocks, layout.data_bytes / (15 << 10) + 1);
}

// A read that misses the block cache loads one small index partition, not a table's whole index.
TEST(LedgerDbTest, IndexesArePartitionedAndUncompressed) {
  TempDir dir;
  auto db = CreateDb(dir);
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 20'000; ++i) {
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kBatchState),
                             absl::StrCat("513068300004072230315", 100000 + i),
                             BundledEntry(i).substr(0, 120)).ok());
  }
  Flush(*db, Cf::kBatchState);
  rocksdb::TablePropertiesCollection tables;
  ASSERT_TRUE(db->db().GetPropertiesOfAllTables(db->cf(Cf::kBatchState), &tables).ok());
  ASSERT_FALSE(tables.empty());
  for (const auto& [file, properties] : tables) {
    EXPECT_GT(properties->index_partitions, 1u) << file;
    EXPECT_GT(properties->num_filter_entries, 0u) << file;
  }
  // Every lot still reads back through the partitioned index and filter.
  for (int i = 0; i < 20'000; i += 997) {
    std::string value;
    ASSERT_TRUE(db->db().Get(rocksdb::ReadOptions(), db->cf(Cf::kBatchState),
                             absl::StrCat("513068300004072230315", 100000 + i), &value).ok());
    EXPECT_EQ(value, BundledEntry(i).substr(0, 120));
  }
  std::string value;
  EXPECT_TRUE(db->db().Get(rocksdb::ReadOptions(), db->cf(Cf::kBatchState), "5130683000040722303150000",
                           &value).IsNotFound());
}

TEST(LedgerDbTest, TreeNodesAreStoredUncompressed) {
  TempDir dir;
  auto db = CreateDb(dir);
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kTree), BigEndian64(i),
                             BundledEntry(i).substr(40, 64)).ok());
  }
  Flush(*db, Cf::kTree);
  CompactAll(*db, Cf::kTree);
  const TableLayout layout = LayoutOf(*db, Cf::kTree);
  ASSERT_FALSE(layout.compressions.empty());
  for (const std::string& compression : layout.compressions) {
    EXPECT_EQ(compression, "NoCompression");
  }
}

TEST(LedgerDbTest, IndexesAreZstdWhenFlushedAndCompactIntoTheLastLevel) {
  TempDir dir;
  auto db = CreateDb(dir);
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 1000; ++i) {
    const std::string event_id = absl::StrCat("6f1c2a40-0000-4000-8000-", 100000000000 + i);
    ASSERT_TRUE(db->db().Put(rocksdb::WriteOptions(), db->cf(Cf::kEventIds), event_id,
                             BigEndian64(i) + BundledEntry(i).substr(40, 40)).ok());
  }
  Flush(*db, Cf::kEventIds);
  TableLayout layout = LayoutOf(*db, Cf::kEventIds);
  ASSERT_EQ(layout.compressions.size(), 1u);
  EXPECT_EQ(layout.compressions[0], "ZSTD");

  CompactAll(*db, Cf::kEventIds);
  rocksdb::ColumnFamilyMetaData meta;
  db->db().GetColumnFamilyMetaData(db->cf(Cf::kEventIds), &meta);
  ASSERT_FALSE(meta.levels.empty());
  // Dynamic level sizes: a compacted family lives in the last level, not in L1.
  EXPECT_EQ(meta.levels.back().files.size(), 1u);
  EXPECT_EQ(meta.levels[1].files.size(), 0u);
  layout = LayoutOf(*db, Cf::kEventIds);
  ASSERT_EQ(layout.compressions.size(), 1u);
  EXPECT_EQ(layout.compressions[0], "ZSTD");
  auto value = db->Get(Cf::kEventIds, "6f1c2a40-0000-4000-8000-100000000999");
  ASSERT_THAT(value, IsOk());
  ASSERT_TRUE(value->has_value());
  EXPECT_EQ(**value, BigEndian64(999) + BundledEntry(999).substr(40, 40));
}

TEST(LedgerDbTest, OpensAndCompactsALedgerWrittenWithTheEarlierLayout) {
  TempDir dir;
  {
    // The layout before: LZ4 at every level, static level sizes, data in L1.
    rocksdb::DBOptions db_options;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
    for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
      rocksdb::ColumnFamilyOptions cf_options;
      cf_options.compression = rocksdb::kLZ4Compression;
      descriptors.emplace_back(std::string(CfName(static_cast<Cf>(i))), cf_options);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(db_options, dir.path().string(), descriptors, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> earlier(raw);
    rocksdb::ColumnFamilyHandle* entries = handles[1 + static_cast<int>(Cf::kEntries)];
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(
          earlier->Put(rocksdb::WriteOptions(), entries, BigEndian64(i), BundledEntry(i)).ok());
    }
    ASSERT_TRUE(earlier->Flush(rocksdb::FlushOptions(), entries).ok());
    ASSERT_TRUE(earlier->CompactRange(rocksdb::CompactRangeOptions(), entries, nullptr, nullptr)
                    .ok());
    rocksdb::ColumnFamilyMetaData meta;
    earlier->GetColumnFamilyMetaData(entries, &meta);
    ASSERT_EQ(meta.levels[1].files.size(), 1u);
    for (auto* h : handles) ASSERT_TRUE(earlier->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(earlier->Close().ok());
  }

  auto db = LedgerDb::Open(dir.path().string(), LedgerDb::Options());
  ASSERT_THAT(db, IsOk());
  for (int i = 200; i < 400; ++i) {
    ASSERT_TRUE((*db)->db().Put(rocksdb::WriteOptions(), (*db)->cf(Cf::kEntries), BigEndian64(i),
                                BundledEntry(i)).ok());
  }
  Flush(**db, Cf::kEntries);
  CompactAll(**db, Cf::kEntries);
  for (const std::string& compression : LayoutOf(**db, Cf::kEntries).compressions) {
    EXPECT_EQ(compression, "ZSTD");
  }
  for (int i : {0, 199, 200, 399}) {
    auto value = (*db)->Get(Cf::kEntries, BigEndian64(i));
    ASSERT_THAT(value, IsOk());
    ASSERT_TRUE(value->has_value()) << i;
    EXPECT_EQ(**value, BundledEntry(i)) << i;
  }
}

}  // namespace
}  // namespace herbtrace::storage
