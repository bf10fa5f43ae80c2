// The sequencer's view of the domain state: reads through staged changes to RocksDB, prefix scans
// that merge both, an append's changes undone on their own, the commit's changes and the cache
// kept (or dropped) between groups.
#include "storage/staged_state.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/ledger_db.h"
#include "tests/test_util.h"

namespace herbtrace::storage {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::Optional;
using ::testing::Pair;
using namespace std::string_literals;  // keys with NUL separators

class StagedStateTest : public ::testing::Test {
 protected:
  StagedStateTest() {
    LedgerDb::Options options;
    options.create_if_missing = true;
    auto db = LedgerDb::Open(dir_.path().string(), options);
    EXPECT_THAT(db, IsOk());
    db_ = *std::move(db);
  }

  // Writes straight to RocksDB, as a committed group left it.
  void Store(Cf cf, const std::string& key, const std::string& value) {
    ASSERT_TRUE(db_->db().Put(rocksdb::WriteOptions(), db_->cf(cf), key, value).ok());
  }

  std::optional<std::string> Read(StagedState& state, Cf cf, const std::string& key) {
    auto value = state.Get(cf, key);
    EXPECT_THAT(value, IsOk());
    if (!value.ok() || !value->has_value()) return std::nullopt;
    return std::string(**value);
  }

  std::vector<std::pair<std::string, std::string>> Scan(const StagedState& state, Cf cf,
                                                        const std::string& prefix) {
    std::vector<std::pair<std::string, std::string>> seen;
    EXPECT_THAT(state.ForEachWithPrefix(cf, prefix,
                                        [&](absl::string_view k, absl::string_view v) {
                                          seen.emplace_back(std::string(k), std::string(v));
                                          return true;
                                        }),
                IsOk());
    return seen;
  }

  // Writes the staged changes as the ledger's commit does.
  void Commit(StagedState& state) {
    rocksdb::WriteBatch batch;
    state.AddChangesTo(batch);
    ASSERT_TRUE(db_->db().Write(rocksdb::WriteOptions(), &batch).ok());
    state.Committed();
  }

  TempDir dir_;
  std::unique_ptr<LedgerDb> db_;
};

TEST_F(StagedStateTest, ReadsThroughToRocksDbAndSeesItsOwnChanges) {
  Store(Cf::kBatchState, "lot-1", "stored");
  StagedState state(*db_, 1 << 20);
  EXPECT_THAT(Read(state, Cf::kBatchState, "lot-1"), Optional(Eq("stored")));
  EXPECT_EQ(Read(state, Cf::kBatchState, "lot-2"), std::nullopt);
  // Families are separate key spaces.
  EXPECT_EQ(Read(state, Cf::kRegistry, "lot-1"), std::nullopt);

  state.BeginAppend();
  state.Put(Cf::kBatchState, "lot-2", "new");
  state.Delete(Cf::kBatchState, "lot-1");
  state.AcceptAppend();
  EXPECT_THAT(Read(state, Cf::kBatchState, "lot-2"), Optional(Eq("new")));
  EXPECT_EQ(Read(state, Cf::kBatchState, "lot-1"), std::nullopt);
  EXPECT_EQ(state.staged_keys(), 2u);
  // Nothing reaches RocksDB before the commit.
  EXPECT_THAT(*db_->Get(Cf::kBatchState, "lot-1"), Optional(Eq("stored")));
  EXPECT_EQ(*db_->Get(Cf::kBatchState, "lot-2"), std::nullopt);
}

TEST_F(StagedStateTest, RejectedAppendLeavesEveryEarlierChangeOfTheGroup) {
  Store(Cf::kBatchState, "lot-1", "v0");
  StagedState state(*db_, 1 << 20);
  state.BeginAppend();
  state.Put(Cf::kBatchState, "lot-1", "v1");
  state.AcceptAppend();

  // The same lot changed twice, a new key and a delete, all in one rejected append.
  state.BeginAppend();
  state.Put(Cf::kBatchState, "lot-1", "v2");
  state.Put(Cf::kBatchState, "lot-1", "v3");
  state.Put(Cf::kBatchState, "lot-9", "never");
  state.Delete(Cf::kHolderBatches, "holder\0lot-1"s);
  EXPECT_THAT(Read(state, Cf::kBatchState, "lot-1"), Optional(Eq("v3")));
  state.RejectAppend();

  EXPECT_THAT(Read(state, Cf::kBatchState, "lot-1"), Optional(Eq("v1")));
  EXPECT_EQ(Read(state, Cf::kBatchState, "lot-9"), std::nullopt);
  EXPECT_EQ(state.staged_keys(), 1u);
  Commit(state);
  EXPECT_THAT(*db_->Get(Cf::kBatchState, "lot-1"), Optional(Eq("v1")));
  EXPECT_EQ(*db_->Get(Cf::kBatchState, "lot-9"), std::nullopt);
}

TEST_F(StagedStateTest, RejectedFirstChangeOfACachedKeyRestoresTheCachedValue) {
  Store(Cf::kRegistry, "party/P", "registered");
  StagedState state(*db_, 1 << 20);
  EXPECT_THAT(Read(state, Cf::kRegistry, "party/P"), Optional(Eq("registered")));
  state.BeginAppend();
  state.Put(Cf::kRegistry, "party/P", "suspended");
  state.RejectAppend();
  EXPECT_THAT(Read(state, Cf::kRegistry, "party/P"), Optional(Eq("registered")));
  EXPECT_EQ(state.staged_keys(), 0u);
  rocksdb::WriteBatch batch;
  state.AddChangesTo(batch);
  EXPECT_EQ(batch.Count(), 0u);
}

TEST_F(StagedStateTest, PrefixScanMergesStagedChangesWithRocksDbInKeyOrder) {
  Store(Cf::kLineageDown, "P\0a"s, "stored-a");
  Store(Cf::kLineageDown, "P\0c"s, "stored-c");
  Store(Cf::kLineageDown, "P\0e"s, "stored-e");
  Store(Cf::kLineageDown, "Q\0a"s, "other parent");
  Store(Cf::kLineageDown, "P"s, "the prefix without its separator");
  StagedState state(*db_, 1 << 20);
  // Cached reads change nothing in a scan.
  EXPECT_THAT(Read(state, Cf::kLineageDown, "P\0a"s), Optional(Eq("stored-a")));
  state.BeginAppend();
  state.Put(Cf::kLineageDown, "P\0b"s, "staged-b");        // between two stored keys
  state.Put(Cf::kLineageDown, "P\0c"s, "staged-c");        // over a stored key
  state.Delete(Cf::kLineageDown, "P\0e"s);                 // a stored key deleted
  state.Put(Cf::kLineageDown, "P\0z"s, "staged-z");        // after every stored key
  state.Put(Cf::kLineageDown, "P\0d"s, "gone");            // staged, then deleted
  state.Delete(Cf::kLineageDown, "P\0d"s);
  state.AcceptAppend();
  EXPECT_THAT(Scan(state, Cf::kLineageDown, "P\0"s),
              ElementsAre(Pair("P\0a"s, "stored-a"), Pair("P\0b"s, "staged-b"),
                          Pair("P\0c"s, "staged-c"), Pair("P\0z"s, "staged-z")));
  EXPECT_THAT(Scan(state, Cf::kLineageDown, "R\0"s), ElementsAre());

  // The same scan once the group is durable, and from a fresh state (RocksDB alone).
  Commit(state);
  const auto expected = ElementsAre(Pair("P\0a"s, "stored-a"), Pair("P\0b"s, "staged-b"),
                                    Pair("P\0c"s, "staged-c"), Pair("P\0z"s, "staged-z"));
  EXPECT_THAT(Scan(state, Cf::kLineageDown, "P\0"s), expected);
  StagedState fresh(*db_, 1 << 20);
  EXPECT_THAT(Scan(fresh, Cf::kLineageDown, "P\0"s), expected);
}

TEST_F(StagedStateTest, PrefixScanStopsWhenTheVisitorSaysSo) {
  Store(Cf::kRegistry, "party/A", "a");
  Store(Cf::kRegistry, "party/C", "c");
  StagedState state(*db_, 1 << 20);
  state.Put(Cf::kRegistry, "party/B", "b");
  std::vector<std::string> seen;
  ASSERT_THAT(state.ForEachWithPrefix(Cf::kRegistry, "party/",
                                      [&](absl::string_view k, absl::string_view) {
                                        seen.emplace_back(k);
                                        return seen.size() < 2;
                                      }),
              IsOk());
  EXPECT_THAT(seen, ElementsAre("party/A", "party/B"));
}

TEST_F(StagedStateTest, PrefixOfAllFfBytesScansToTheEndOfTheFamily) {
  const std::string ff = "\xff\xff"s;
  Store(Cf::kRegistry, ff + "1", "stored");
  StagedState state(*db_, 1 << 20);
  state.Put(Cf::kRegistry, ff + "2", "staged");
  EXPECT_THAT(Scan(state, Cf::kRegistry, ff),
              ElementsAre(Pair(ff + "1", "stored"), Pair(ff + "2", "staged")));
}

TEST_F(StagedStateTest, CommitWritesTheChangesAndKeepsThemCachedForTheNextGroup) {
  Store(Cf::kBatchState, "lot-1", "v0");
  StagedState state(*db_, 1 << 20);
  state.BeginAppend();
  state.Put(Cf::kBatchState, "lot-1", "v1");
  state.Put(Cf::kHolderBatches, "P\0lot-1"s, "");
  state.AcceptAppend();
  Commit(state);
  EXPECT_THAT(*db_->Get(Cf::kBatchState, "lot-1"), Optional(Eq("v1")));
  EXPECT_THAT(*db_->Get(Cf::kHolderBatches, "P\0lot-1"s), Optional(Eq("")));
  EXPECT_EQ(state.staged_keys(), 0u);
  EXPECT_EQ(state.cached_keys(), 2u);
  // The next group's commit writes only its own changes.
  rocksdb::WriteBatch batch;
  state.AddChangesTo(batch);
  EXPECT_EQ(batch.Count(), 0u);
  EXPECT_THAT(Read(state, Cf::kBatchState, "lot-1"), Optional(Eq("v1")));
}

TEST_F(StagedStateTest, DiscardForgetsStagedChangesAndReadsRocksDbAfresh) {
  Store(Cf::kBatchState, "lot-1", "v0");
  StagedState state(*db_, 1 << 20);
  EXPECT_THAT(Read(state, Cf::kBatchState, "lot-1"), Optional(Eq("v0")));
  state.Put(Cf::kBatchState, "lot-1", "v1");
  state.Put(Cf::kBatchState, "lot-2", "new");
  // RocksDB holds something else now (as after a write whose outcome was unknown).
  Store(Cf::kBatchState, "lot-1", "landed");
  state.Discard();
  EXPECT_EQ(state.cached_keys(), 0u);
  EXPECT_EQ(state.staged_keys(), 0u);
  EXPECT_THAT(Read(state, Cf::kBatchState, "lot-1"), Optional(Eq("landed")));
  EXPECT_EQ(Read(state, Cf::kBatchState, "lot-2"), std::nullopt);
}

TEST_F(StagedStateTest, CacheOverItsBudgetIsDroppedAfterTheCommit) {
  StagedState state(*db_, 1000);
  state.Put(Cf::kBatchState, "lot-1", std::string(2000, 'x'));
  // Within a group nothing is dropped: the group needs its changes.
  EXPECT_EQ(state.staged_keys(), 1u);
  Commit(state);
  EXPECT_EQ(state.cached_keys(), 0u);
  EXPECT_THAT(Read(state, Cf::kBatchState, "lot-1"), Optional(Eq(std::string(2000, 'x'))));
}

}  // namespace
}  // namespace herbtrace::storage
