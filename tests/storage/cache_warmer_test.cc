// The cache warmer reads a ledger at rest into its block cache — index families chosen first,
// the entries newest first, up to a budget — so that the ledger's own reads then load no block from
// a table file; it reads nothing while the ledger changes, and a later pass reads only the
// tables that are new.
#include "storage/cache_warmer.h"

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "rocksdb/cache.h"
#include "rocksdb/perf_context.h"
#include "rocksdb/perf_level.h"
#include "storage/key_codec.h"
#include "tests/test_util.h"

namespace herbtrace::storage {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::TempDir;

constexpr int kLots = 3000;

std::string LotId(int i) { return absl::StrCat("5130683000040722303150", 1000 + i); }

// A stored entry: text that compresses a little and hashes that do not.
std::string EntryBytes(int i) {
  std::string entry = absl::StrCat("entry ", i, " of huangqi (黄芪) lot ", LotId(i % kLots), ": ");
  for (int b = 0; b < 400; ++b) entry.push_back(static_cast<char>((i * 131 + b * 17) % 251));
  return entry;
}

std::unique_ptr<LedgerDb> OpenDb(const TempDir& dir) {
  LedgerDb::Options options;
  options.create_if_missing = true;
  options.block_cache_bytes = 64 << 20;
  auto db = LedgerDb::Open(dir.path().string(), options);
  EXPECT_THAT(db, IsOk());
  return db.ok() ? *std::move(db) : nullptr;
}

void Put(LedgerDb& db, Cf cf, const std::string& key, const std::string& value) {
  ASSERT_TRUE(db.db().Put(rocksdb::WriteOptions(), db.cf(cf), key, value).ok());
}

void FlushAll(LedgerDb& db) {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    ASSERT_TRUE(db.db().Flush(flush, db.cf(static_cast<Cf>(i))).ok());
  }
}

// RocksDB's flush and compaction threads finish their bookkeeping a moment after a waited-for
// flush returns; the warmer rightly takes a running job for a ledger that changes.
void WaitForBackgroundWork(const LedgerDb& db) {
  uint64_t flushes = 1, compactions = 1;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(60);
       (flushes > 0 || compactions > 0) && absl::Now() < deadline;) {
    ASSERT_TRUE(db.db().GetIntProperty("rocksdb.num-running-flushes", &flushes));
    ASSERT_TRUE(db.db().GetIntProperty("rocksdb.num-running-compactions", &compactions));
    if (flushes > 0 || compactions > 0) absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(flushes, 0u);
  ASSERT_EQ(compactions, 0u);
}

// Entries `from`…`to` with their lots' states and tree nodes, in tables of their own.
void WriteEntries(LedgerDb& db, int from, int to) {
  for (int i = from; i < to; ++i) {
    Put(db, Cf::kEntries, BigEndian64(i), EntryBytes(i));
    Put(db, Cf::kTree, BigEndian64(i), EntryBytes(i).substr(40, 32));
    Put(db, Cf::kBatchState, LotId(i % kLots), EntryBytes(i).substr(0, 120));
  }
  Put(db, Cf::kMeta, std::string(kMetaTreeSize), BigEndian64(to));
  FlushAll(db);
  WaitForBackgroundWork(db);
}

// Blocks read from table files (not from the block cache) while reading every key of `cf`.
uint64_t BlocksReadFromDisk(const LedgerDb& db, Cf cf) {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(rocksdb::ReadOptions(), db.cf(cf)));
  uint64_t keys = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++keys;
  EXPECT_TRUE(it->status().ok());
  EXPECT_GT(keys, 0u) << CfName(cf);
  const uint64_t reads = rocksdb::get_perf_context()->block_read_count;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  return reads;
}

CacheWarmer::Options Budget(size_t bytes) {
  CacheWarmer::Options options;
  options.budget_bytes = bytes;
  return options;
}

// A ledger of two generations of tables, closed and opened again: its block cache is cold.
std::unique_ptr<LedgerDb> ColdLedger(const TempDir& dir) {
  {
    auto db = OpenDb(dir);
    if (db == nullptr) return nullptr;
    WriteEntries(*db, 0, 4000);
    WriteEntries(*db, 4000, 8000);
  }
  auto db = OpenDb(dir);
  if (db != nullptr) WaitForBackgroundWork(*db);
  return db;
}

TEST(CacheWarmerTest, AfterAPassTheLedgerReadsNoBlockFromItsTables) {
  TempDir dir;
  auto db = ColdLedger(dir);
  ASSERT_NE(db, nullptr);
  // Cold: reading every entry loads blocks from the tables.
  EXPECT_GT(BlocksReadFromDisk(*db, Cf::kEntries), 10u);

  TempDir dir2;
  auto warm = ColdLedger(dir2);
  ASSERT_NE(warm, nullptr);
  CacheWarmer warmer(*warm, {});
  const CacheWarmer::Pass pass = warmer.WarmNow();
  std::vector<rocksdb::LiveFileMetaData> live;
  warm->db().GetLiveFilesMetaData(&live);
  int tables = 0;
  uint64_t bytes = 0;
  for (const auto& f : live) {
    if (f.column_family_name == "default") continue;
    ++tables;
    bytes += f.size;
  }
  EXPECT_GE(tables, 8);  // two generations of entries, tree nodes, states and meta
  EXPECT_EQ(pass.tables_read, tables);
  EXPECT_EQ(pass.bytes_read, bytes);
  EXPECT_FALSE(pass.budget_reached);
  for (Cf cf : {Cf::kEntries, Cf::kTree, Cf::kBatchState, Cf::kMeta}) {
    EXPECT_EQ(BlocksReadFromDisk(*warm, cf), 0u) << CfName(cf);
  }
  // Point reads too.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  for (int i = 0; i < 8000; i += 7) {
    auto value = warm->Get(Cf::kEntries, BigEndian64(i));
    ASSERT_THAT(value, IsOk());
    ASSERT_TRUE(value->has_value());
    EXPECT_EQ(**value, EntryBytes(i));
  }
  EXPECT_EQ(rocksdb::get_perf_context()->block_read_count, 0u);
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);

  // Nothing new: the next pass reads nothing.
  EXPECT_EQ(warmer.WarmNow().tables_read, 0);
}

TEST(CacheWarmerTest, StopsAtItsBudgetHavingChosenTheIndexFamiliesBeforeTheEntries) {
  TempDir dir;
  auto db = ColdLedger(dir);
  ASSERT_NE(db, nullptr);
  // Room for the newest table of lot states (3,000 lots of ~154 bytes with RocksDB's key
  // suffix, ~460 KB, which holds every lot's latest state) and not for the next: no entries.
  CacheWarmer warmer(*db, Budget(600 << 10));
  const CacheWarmer::Pass pass = warmer.WarmNow();
  EXPECT_TRUE(pass.budget_reached);
  EXPECT_EQ(pass.tables_read, 1);
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  for (int i = 0; i < kLots; i += 7) {
    auto state = db->Get(Cf::kBatchState, LotId(i));
    ASSERT_THAT(state, IsOk());
    ASSERT_TRUE(state->has_value());
  }
  EXPECT_EQ(rocksdb::get_perf_context()->block_read_count, 0u);
  ASSERT_THAT(db->Get(Cf::kEntries, BigEndian64(7999)), IsOk());
  EXPECT_GT(rocksdb::get_perf_context()->block_read_count, 0u);
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
}

TEST(CacheWarmerTest, ReadsNothingWhileTheLogGrowsAndOnlyNewTablesAfterwards) {
  TempDir dir;
  auto db = ColdLedger(dir);
  ASSERT_NE(db, nullptr);
  // No compaction may rewrite the tables counted below: none is started from now on, and one
  // the reopen started is waited for.
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    ASSERT_TRUE(
        db->db().SetOptions(db->cf(static_cast<Cf>(i)), {{"disable_auto_compactions", "true"}}).ok());
  }
  WaitForBackgroundWork(*db);
  CacheWarmer warmer(*db, {});
  ASSERT_GT(warmer.WarmNow().tables_read, 0);

  WriteEntries(*db, 8000, 9000);  // the log's size moved since the last look
  EXPECT_EQ(warmer.WarmNow().tables_read, 0);
  EXPECT_GT(BlocksReadFromDisk(*db, Cf::kEntries), 0u);  // the new table is cold

  // At rest again: only the tables the last write made are read (entries, tree, states, meta).
  const CacheWarmer::Pass pass = warmer.WarmNow();
  EXPECT_EQ(pass.tables_read, 4);
  EXPECT_EQ(BlocksReadFromDisk(*db, Cf::kEntries), 0u);
}

TEST(CacheWarmerTest, TheBackgroundThreadWarmsTheLedgerAtRest) {
  TempDir dir;
  auto db = ColdLedger(dir);
  ASSERT_NE(db, nullptr);
  absl::Notification passed;
  CacheWarmer::Pass seen;
  CacheWarmer::Options options;
  options.interval = absl::Milliseconds(10);
  options.on_pass = [&](const CacheWarmer::Pass& pass) {
    if (passed.HasBeenNotified()) return;
    seen = pass;
    passed.Notify();
  };
  auto warmer = CacheWarmer::Start(*db, options);
  ASSERT_TRUE(passed.WaitForNotificationWithTimeout(absl::Seconds(60)));
  warmer.reset();
  EXPECT_GE(seen.tables_read, 8);
  EXPECT_FALSE(seen.budget_reached);
  EXPECT_EQ(BlocksReadFromDisk(*db, Cf::kEntries), 0u);
  EXPECT_EQ(BlocksReadFromDisk(*db, Cf::kBatchState), 0u);
}

// Compacting two tables of lot states into one frees what the first was counted for: the
// next pass reads the compacted table, then stops at the budget again.
TEST(CacheWarmerTest, ACompactionFreesTheBudgetOfTheTablesItReplaced) {
  TempDir dir;
  auto db = ColdLedger(dir);
  ASSERT_NE(db, nullptr);
  CacheWarmer warmer(*db, Budget(600 << 10));
  ASSERT_EQ(warmer.WarmNow().tables_read, 1);
  // The tables are those of the last pass: nothing to look at.
  const CacheWarmer::Pass again = warmer.WarmNow();
  EXPECT_EQ(again.tables_read, 0);
  EXPECT_FALSE(again.budget_reached);

  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  ASSERT_TRUE(db->db().CompactRange(compact, db->cf(Cf::kBatchState), nullptr, nullptr).ok());
  WaitForBackgroundWork(*db);
  EXPECT_EQ(warmer.WarmNow().tables_read, 0);  // the tables changed since the last look
  // The compacted lot states, and the two small tables of the log's size; not the tree nodes.
  const CacheWarmer::Pass after = warmer.WarmNow();
  EXPECT_EQ(after.tables_read, 3);
  EXPECT_TRUE(after.budget_reached);
  EXPECT_EQ(BlocksReadFromDisk(*db, Cf::kBatchState), 0u);
}

}  // namespace
}  // namespace herbtrace::storage
