// The ledger when the disk fails it: a write that fails during a group (full disk or I/O error,
// on WAL append, WAL sync or WAL creation) refuses every append of the group with the code and
// message a client acts on, leaves the log exactly as it was, refuses further appends while the
// fault lasts and accepts them again — without a reopen — once it is gone; a group whose record
// reached the disk although its sync failed comes back with its original receipts; failed
// flushes and compactions are refused and recovered the same way; a group RocksDB holds that
// the ledger did not know of is taken onto the tree on recovery; and rounds of faults under
// concurrent appenders lose no acknowledged append.
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "crypto/checkpoint.h"
#include "crypto/merkle.h"
#include "crypto/signed_note.h"
#include "storage/audit.h"
#include "storage/clock.h"
#include "storage/ledger.h"
#include "rocksdb/write_batch.h"
#include "tests/storage/fault_file_system.h"
#include "tests/storage/ledger_fixture.h"
#include "tests/test_util.h"

namespace herbtrace::storage {
namespace {

using ::herbtrace::testing::Fault;
using ::herbtrace::testing::FaultEnv;
using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::StatusIs;
using ::herbtrace::testing::TempDir;
using ::herbtrace::testing::TestLogSigner;
using ::herbtrace::testing::TestRequest;
using ::herbtrace::testing::TouchesListedBatches;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kDiskFull[] = "ledger: the disk is full";
constexpr char kWriteFailed[] = "ledger: a write to the disk failed";
constexpr char kRetry[] = "retry with the same event_id";

// Everything a failed write must leave untouched.
struct LogState {
  uint64_t size = 0;
  crypto::Digest root{};
  std::map<std::string, std::optional<BatchHead>> heads;
  std::optional<std::string> checkpoint;

  bool operator==(const LogState& o) const {
    if (size != o.size || root != o.root || checkpoint != o.checkpoint) return false;
    if (heads.size() != o.heads.size()) return false;
    for (const auto& [id, head] : heads) {
      const auto& other = o.heads.at(id);
      if (head.has_value() != other.has_value()) return false;
      if (head.has_value() && (head->seq != other->seq || head->leaf_hash != other->leaf_hash)) {
        return false;
      }
    }
    return true;
  }
};

const std::vector<std::string> kBatches = {"lot-huangqi", "lot-dangshen", "lot-baizhi"};

std::string Payload(int i) {
  return absl::StrCat("batches=", kBatches[i % kBatches.size()], ";event ", i);
}

class LedgerFaultTest : public ::testing::Test {
 protected:
  // The ledger under test in dir_ on the fault-injecting file system; or, with `scratch`, one
  // in its own directory on the real one.
  std::unique_ptr<Ledger> OpenLedger(const Clock* clock = nullptr, const TempDir* scratch = nullptr) {
    Ledger::Options options;
    options.origin = ::herbtrace::testing::kTestOrigin;
    options.rule = &rule_;
    options.clock = clock;
    options.env = scratch == nullptr ? faults_.env() : nullptr;
    // Short, so the tests do not idle; the production default is 200 ms to 1 s.
    options.recovery_backoff_min = absl::Milliseconds(5);
    options.recovery_backoff_max = absl::Milliseconds(40);
    options.checkpoint_interval = absl::Milliseconds(50);
    auto ledger = Ledger::Open((scratch == nullptr ? dir_ : *scratch).path().string(), options,
                               TestLogSigner());
    EXPECT_THAT(ledger, IsOk());
    return ledger.ok() ? *std::move(ledger) : nullptr;
  }

  void AppendN(Ledger& ledger, int first, int n) {
    for (int i = first; i < first + n; ++i) {
      ASSERT_THAT(ledger.Append(TestRequest(absl::StrCat("event-", i), Payload(i))), IsOk());
    }
  }

  LogState State(const Ledger& ledger) {
    LogState state;
    state.size = *ledger.view().Size();
    if (state.size > 0) state.root = *ledger.view().RootAt(state.size);
    for (const std::string& id : kBatches) state.heads[id] = *ledger.view().Head(id);
    state.checkpoint = *ledger.view().LatestCheckpointNote();
    return state;
  }

  // Appends [first, first + n) at once, so they queue as one group (or a few) behind the
  // sequencer; returns every result.
  std::vector<absl::StatusOr<v1::Receipt>> AppendGroup(Ledger& ledger, int first, int n) {
    std::vector<std::promise<absl::StatusOr<v1::Receipt>>> promises(n);
    for (int i = 0; i < n; ++i) {
      ledger.AppendAsync(TestRequest(absl::StrCat("event-", first + i), Payload(first + i)),
                         [&promises, i](absl::StatusOr<v1::Receipt> r) {
                           promises[i].set_value(std::move(r));
                         });
    }
    std::vector<absl::StatusOr<v1::Receipt>> results;
    for (auto& p : promises) results.push_back(p.get_future().get());
    return results;
  }

  // Waits (bounded) until the ledger takes appends again; false if it never does.
  static bool AwaitRecovery(const Ledger& ledger) {
    for (int i = 0; i < 3000; ++i) {
      if (ledger.write_status().ok()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // Waits (bounded) until the fault has failed `more` further operations: recovery attempts
  // while it lasts.
  void AwaitFailures(int more) {
    const int target = faults_.fs().failures() + more;
    for (int i = 0; i < 3000 && faults_.fs().failures() < target; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  static void ExpectAuditPasses(const LedgerDb& db) {
    auto report = AuditLedger(db);
    ASSERT_THAT(report, IsOk());
    EXPECT_TRUE(report->ok()) << report->failure->reason;
  }

  TempDir dir_;
  FaultEnv faults_;
  TouchesListedBatches rule_;
};

struct FaultCase {
  std::string name;
  Fault fault;
  absl::StatusCode code;
  std::string message;
};

class LedgerWriteFaultTest : public LedgerFaultTest,
                             public ::testing::WithParamInterface<FaultCase> {};

TEST_P(LedgerWriteFaultTest, FailedGroupIsRefusedWholeAndTheLedgerRecoversWithoutReopen) {
  const FaultCase& c = GetParam();
  auto ledger = OpenLedger();
  AppendN(*ledger, 0, 12);
  // The idle checkpoint the sequencer signs later is this very note (Ed25519 is deterministic).
  ASSERT_THAT(ledger->SignCheckpoint(), IsOk());
  const LogState before = State(*ledger);

  faults_.fs().Inject(c.fault);
  for (const auto& result : AppendGroup(*ledger, 100, 16)) {
    EXPECT_THAT(result, StatusIs(c.code, AllOf(HasSubstr(c.message), HasSubstr(kRetry))));
  }
  EXPECT_THAT(ledger->write_status(), StatusIs(c.code, HasSubstr(c.message)));
  // Nothing of the group is in the log or its indexes; reads keep working.
  EXPECT_TRUE(State(*ledger) == before);
  EXPECT_EQ(ledger->size(), before.size);
  for (int i = 100; i < 116; ++i) {
    auto record = ledger->view().FindEventRecord(absl::StrCat("event-", i));
    ASSERT_THAT(record, IsOk());
    EXPECT_FALSE(record->has_value()) << "event-" << i;
  }
  ExpectAuditPasses(ledger->db());

  // Refused at once while the fault lasts, recovery attempts failing behind it.
  AwaitFailures(3);
  EXPECT_THAT(ledger->Append(TestRequest("event-200", Payload(200))),
              StatusIs(c.code, HasSubstr(kRetry)));
  EXPECT_TRUE(State(*ledger) == before);

  faults_.fs().Clear();
  ASSERT_TRUE(AwaitRecovery(*ledger)) << ledger->write_status();
  // The retries of the refused event ids append anew, after what was there.
  std::set<uint64_t> seqs;
  for (int i = 100; i < 116; ++i) {
    auto receipt = ledger->Append(TestRequest(absl::StrCat("event-", i), Payload(i)));
    ASSERT_THAT(receipt, IsOk());
    EXPECT_GE(receipt->seq(), before.size);
    seqs.insert(receipt->seq());
  }
  EXPECT_EQ(seqs.size(), 16u);
  AppendN(*ledger, 200, 4);
  EXPECT_EQ(ledger->size(), before.size + 20);
  EXPECT_THAT(ledger->SignCheckpoint(), IsOk());
  ExpectAuditPasses(ledger->db());

  ledger.reset();
  ledger = OpenLedger();
  ASSERT_NE(ledger, nullptr);
  EXPECT_EQ(ledger->size(), before.size + 20);
  ExpectAuditPasses(ledger->db());
  // A retry after the reopen gets the receipt of the append that landed.
  auto again = ledger->Append(TestRequest("event-100", Payload(100)));
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(ledger->size(), before.size + 20);
}

Fault MakeFault(rocksdb::IOStatus error, unsigned files, unsigned operations) {
  Fault f;
  f.error = std::move(error);
  f.files = files;
  f.operations = operations;
  return f;
}

INSTANTIATE_TEST_SUITE_P(
    WalFaults, LedgerWriteFaultTest,
    ::testing::Values(
        FaultCase{"NoSpaceOnWalAppend",
                  MakeFault(rocksdb::IOStatus::NoSpace("injected: no space left on device"),
                            ::herbtrace::testing::kWalFiles, ::herbtrace::testing::kFailAppend),
                  absl::StatusCode::kResourceExhausted, kDiskFull},
        FaultCase{"IoErrorOnWalAppend",
                  MakeFault(rocksdb::IOStatus::IOError("injected: input/output error"),
                            ::herbtrace::testing::kWalFiles, ::herbtrace::testing::kFailAppend),
                  absl::StatusCode::kUnavailable, kWriteFailed},
        FaultCase{"NoSpaceOnWalSync",
                  MakeFault(rocksdb::IOStatus::NoSpace("injected: no space left on device"),
                            ::herbtrace::testing::kWalFiles, ::herbtrace::testing::kFailSync),
                  absl::StatusCode::kResourceExhausted, kDiskFull},
        FaultCase{"IoErrorOnWalSync",
                  MakeFault(rocksdb::IOStatus::IOError("injected: input/output error"),
                            ::herbtrace::testing::kWalFiles, ::herbtrace::testing::kFailSync),
                  absl::StatusCode::kUnavailable, kWriteFailed},
        FaultCase{"NoSpaceOnEveryWrite",
                  MakeFault(rocksdb::IOStatus::NoSpace("injected: no space left on device"),
                            ::herbtrace::testing::kAllFiles, ::herbtrace::testing::kFailWrites),
                  absl::StatusCode::kResourceExhausted, kDiskFull},
        FaultCase{"IoErrorOnEveryWrite",
                  MakeFault(rocksdb::IOStatus::IOError("injected: input/output error"),
                            ::herbtrace::testing::kAllFiles, ::herbtrace::testing::kFailWrites),
                  absl::StatusCode::kUnavailable, kWriteFailed}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return info.param.name; });

TEST_F(LedgerFaultTest, GroupThatLandedDespiteAFailedSyncGetsItsOriginalReceiptsOnRetry) {
  auto ledger = OpenLedger();
  AppendN(*ledger, 0, 5);
  const uint64_t before = ledger->size();

  // The record reaches the WAL file; only its sync fails, so the append is refused. Every
  // other sync fails too, so no recovery can flush the memtables and retire that WAL...
  faults_.fs().Inject(MakeFault(rocksdb::IOStatus::IOError("injected: sync failed"),
                                ::herbtrace::testing::kAllFiles,
                                ::herbtrace::testing::kFailSync));
  for (const auto& result : AppendGroup(*ledger, 10, 6)) {
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable, HasSubstr(kRetry)));
  }
  EXPECT_EQ(ledger->size(), before);
  // ...and the writer dies before it has recovered (the fault outlives it): the next open
  // replays the WAL, and the group is in the log after all.
  ledger.reset();
  faults_.fs().Clear();
  ledger = OpenLedger();
  ASSERT_NE(ledger, nullptr);
  // The first group written (the six appends, or the first of them if the sequencer took the
  // rest as a later group, which was refused before writing anything).
  const uint64_t landed = ledger->size() - before;
  ASSERT_GE(landed, 1u);
  ASSERT_LE(landed, 6u);
  ExpectAuditPasses(ledger->db());

  // Retries get receipts from the log: the stored entry, its leaf, the group's tree.
  for (int i = 10; i < 10 + static_cast<int>(landed); ++i) {
    const std::string id = absl::StrCat("event-", i);
    auto receipt = ledger->Append(TestRequest(id, Payload(i)));
    ASSERT_THAT(receipt, IsOk());
    EXPECT_EQ(receipt->event_id(), id);
    EXPECT_EQ(receipt->seq(), before + (i - 10));
    EXPECT_EQ(receipt->tree_size(), before + landed);
    auto bytes = ledger->view().EntryBytes(receipt->seq());
    ASSERT_THAT(bytes, IsOk());
    EXPECT_EQ(receipt->leaf_hash(),
              std::string(crypto::AsBytes(crypto::HashLeaf(ledger->hasher(), *bytes))));
    EXPECT_EQ(receipt->root_hash(),
              std::string(crypto::AsBytes(*ledger->view().RootAt(before + landed))));
    v1::LedgerEntry entry;
    ASSERT_TRUE(entry.ParseFromString(*bytes));
    EXPECT_EQ(entry.event_id(), id);
    EXPECT_EQ(entry.signed_event().payload(), Payload(i));
    // The same receipt every time.
    auto again = ledger->Append(TestRequest(id, Payload(i)));
    ASSERT_THAT(again, IsOk());
    EXPECT_EQ(again->SerializeAsString(), receipt->SerializeAsString());
  }
  EXPECT_EQ(ledger->size(), before + landed);
  // The refused rest append anew.
  for (int i = 10 + static_cast<int>(landed); i < 16; ++i) {
    auto receipt = ledger->Append(TestRequest(absl::StrCat("event-", i), Payload(i)));
    ASSERT_THAT(receipt, IsOk());
    EXPECT_GE(receipt->seq(), before + landed);
  }
  AppendN(*ledger, 20, 3);
  EXPECT_EQ(ledger->size(), before + 9);
  ExpectAuditPasses(ledger->db());
}

TEST_F(LedgerFaultTest, StateTheFailedGroupStagedIsForgottenAndReadAfreshAfterRecovery) {
  auto ledger = OpenLedger();
  AppendN(*ledger, 0, 12);  // every batch counted 4 times, kept in the sequencer's cache too
  // The idle checkpoint the sequencer signs later is this very note (Ed25519 is deterministic).
  ASSERT_THAT(ledger->SignCheckpoint(), IsOk());
  const LogState before = State(*ledger);

  faults_.fs().Inject(MakeFault(rocksdb::IOStatus::IOError("injected: input/output error"),
                                ::herbtrace::testing::kWalFiles,
                                ::herbtrace::testing::kFailAppend));
  for (const auto& result : AppendGroup(*ledger, 100, 9)) {
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable, HasSubstr(kRetry)));
  }
  // Several appends handed over at once are refused at once, each answered.
  std::vector<AppendRequest> many;
  for (int i = 0; i < 3; ++i) many.push_back(TestRequest(absl::StrCat("many-", i), Payload(i)));
  std::vector<std::promise<absl::Status>> refused(3);
  ledger->AppendManyAsync(std::move(many), [&refused](size_t i, absl::StatusOr<v1::Receipt> r) {
    refused[i].set_value(r.status());
  });
  for (auto& p : refused) {
    EXPECT_THAT(p.get_future().get(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr(kRetry)));
  }

  faults_.fs().Clear();
  ASSERT_TRUE(AwaitRecovery(*ledger)) << ledger->write_status();
  EXPECT_TRUE(State(*ledger) == before);
  for (const std::string& id : kBatches) {
    EXPECT_EQ(**ledger->db().Get(Cf::kBatchState, id), "4") << id;
  }
  // The next appends count on from what is durable, not from what the failed group staged.
  AppendN(*ledger, 200, 3);
  for (const std::string& id : kBatches) {
    EXPECT_EQ(**ledger->db().Get(Cf::kBatchState, id), "5") << id;
  }
  EXPECT_EQ(ledger->size(), before.size + 3);
  ExpectAuditPasses(ledger->db());
}

TEST_F(LedgerFaultTest, FailedFlushIsRefusedAndRecovers) {
  auto ledger = OpenLedger();
  AppendN(*ledger, 0, 20);
  ASSERT_THAT(ledger->SignCheckpoint(), IsOk());
  const LogState before = State(*ledger);

  faults_.fs().Inject(MakeFault(rocksdb::IOStatus::NoSpace("injected: no space left on device"),
                                ::herbtrace::testing::kTableFiles,
                                ::herbtrace::testing::kFailWrites));
  rocksdb::FlushOptions flush;
  std::vector<rocksdb::ColumnFamilyHandle*> all;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) all.push_back(ledger->db().cf(Cf(i)));
  EXPECT_FALSE(ledger->db().db().Flush(flush, all).ok());

  // A background error, not a failed append: the next append is refused at once, naming it.
  EXPECT_THAT(ledger->write_status(),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("flush")));
  EXPECT_THAT(ledger->Append(TestRequest("event-50", Payload(50))),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr(kDiskFull), HasSubstr("flush"), HasSubstr(kRetry))));
  EXPECT_TRUE(State(*ledger) == before);
  EXPECT_THAT(ledger->view().EntryBytes(3), IsOk());
  ExpectAuditPasses(ledger->db());

  faults_.fs().Clear();
  ASSERT_TRUE(AwaitRecovery(*ledger)) << ledger->write_status();
  AppendN(*ledger, 50, 5);
  EXPECT_EQ(ledger->size(), before.size + 5);
  ExpectAuditPasses(ledger->db());
  ledger.reset();
  ledger = OpenLedger();
  ASSERT_NE(ledger, nullptr);
  EXPECT_EQ(ledger->size(), before.size + 5);
  ExpectAuditPasses(ledger->db());
}

TEST_F(LedgerFaultTest, FailedCompactionIsRefusedAndRecovers) {
  auto ledger = OpenLedger();
  rocksdb::DB& db = ledger->db().db();
  // Every append rewrites its batch's head: two flushes leave two overlapping tables to
  // compact, and nothing else writes that family, so compacting it needs no flush first.
  rocksdb::ColumnFamilyHandle* heads = ledger->db().cf(Cf::kBatchHeads);
  AppendN(*ledger, 0, 10);
  ASSERT_TRUE(db.Flush(rocksdb::FlushOptions(), heads).ok());
  AppendN(*ledger, 10, 10);
  ASSERT_TRUE(db.Flush(rocksdb::FlushOptions(), heads).ok());
  ASSERT_THAT(ledger->SignCheckpoint(), IsOk());
  const LogState before = State(*ledger);

  faults_.fs().Inject(MakeFault(rocksdb::IOStatus::NoSpace("injected: no space left on device"),
                                ::herbtrace::testing::kTableFiles,
                                ::herbtrace::testing::kFailWrites));
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  EXPECT_FALSE(db.CompactRange(compact, heads, nullptr, nullptr).ok());
  EXPECT_THAT(ledger->write_status(),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("compaction")));
  EXPECT_THAT(ledger->Append(TestRequest("event-50", Payload(50))),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr(kDiskFull), HasSubstr("compaction"))));
  EXPECT_TRUE(State(*ledger) == before);

  faults_.fs().Clear();
  ASSERT_TRUE(AwaitRecovery(*ledger)) << ledger->write_status();
  AppendN(*ledger, 50, 5);
  EXPECT_TRUE(db.CompactRange(compact, heads, nullptr, nullptr).ok());
  EXPECT_EQ(ledger->size(), before.size + 5);
  ExpectAuditPasses(ledger->db());
}

// A group that RocksDB holds although the ledger does not know it — the case the recovery
// re-reads the stored tree size for. RocksDB 7.8 applies no write whose WAL write failed, so the
// group is put there behind the idle ledger's back (the very bytes another ledger with the same
// history and clock wrote for it), and then a write fails and the ledger recovers.
TEST_F(LedgerFaultTest, GroupFoundInTheLogOnRecoveryIsTakenOntoTheTreeAndAnswersItsRetries) {
  FakeClock clock(absl::FromUnixSeconds(1'790'000'000));
  TempDir scratch_dir;
  auto ledger = OpenLedger(&clock);
  auto scratch = OpenLedger(&clock, &scratch_dir);
  rocksdb::DB& db = ledger->db().db();
  rocksdb::ColumnFamilyHandle* heads = ledger->db().cf(Cf::kBatchHeads);
  AppendN(*ledger, 0, 10);
  AppendN(*scratch, 0, 10);
  ASSERT_TRUE(db.Flush(rocksdb::FlushOptions(), heads).ok());
  AppendN(*ledger, 10, 10);
  AppendN(*scratch, 10, 10);
  ASSERT_TRUE(db.Flush(rocksdb::FlushOptions(), heads).ok());
  const uint64_t before = ledger->size();
  // The group, as the scratch ledger commits it.
  std::vector<v1::Receipt> originals;
  for (auto& r : AppendGroup(*scratch, 30, 5)) {
    ASSERT_THAT(r, IsOk());
    originals.push_back(*r);
  }
  ASSERT_EQ(scratch->size(), before + 5);

  // Every key of the log's families as the scratch ledger has them, checkpoint aside.
  rocksdb::WriteBatch landed;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    std::unique_ptr<rocksdb::Iterator> it(scratch->db().db().NewIterator(
        rocksdb::ReadOptions(), scratch->db().cf(Cf(i))));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (Cf(i) == Cf::kMeta && it->key() != rocksdb::Slice(kMetaTreeSize.data(),
                                                              kMetaTreeSize.size())) {
        continue;
      }
      ASSERT_TRUE(landed.Put(ledger->db().cf(Cf(i)), it->key(), it->value()).ok());
    }
  }
  rocksdb::WriteOptions synced;
  synced.sync = true;
  ASSERT_TRUE(db.Write(synced, &landed).ok());
  EXPECT_EQ(ledger->size(), before);  // durable to RocksDB, not to the ledger

  // Then a write fails (a compaction on a full disk) and the ledger recovers from it.
  faults_.fs().Inject(MakeFault(rocksdb::IOStatus::NoSpace("injected: no space left on device"),
                                ::herbtrace::testing::kTableFiles,
                                ::herbtrace::testing::kFailWrites));
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  EXPECT_FALSE(db.CompactRange(compact, heads, nullptr, nullptr).ok());
  ASSERT_THAT(ledger->write_status(), StatusIs(absl::StatusCode::kResourceExhausted));

  faults_.fs().Clear();
  ASSERT_TRUE(AwaitRecovery(*ledger)) << ledger->write_status();
  EXPECT_EQ(ledger->size(), before + 5);
  for (int i = 0; i < 5; ++i) {
    auto receipt = ledger->Append(TestRequest(absl::StrCat("event-", 30 + i), Payload(30 + i)));
    ASSERT_THAT(receipt, IsOk());
    EXPECT_EQ(receipt->SerializeAsString(), originals[i].SerializeAsString());
  }
  AppendN(*ledger, 40, 3);
  EXPECT_EQ(ledger->size(), before + 8);
  ASSERT_THAT(ledger->SignCheckpoint(), IsOk());
  ExpectAuditPasses(ledger->db());
  ledger.reset();
  ledger = OpenLedger(&clock);
  ASSERT_NE(ledger, nullptr);
  EXPECT_EQ(ledger->size(), before + 8);
  ExpectAuditPasses(ledger->db());
}

TEST_F(LedgerFaultTest, CheckpointIsNeverSignedBeyondWhatIsDurable) {
  auto ledger = OpenLedger();
  AppendN(*ledger, 0, 7);
  faults_.fs().Inject(Fault{});
  EXPECT_THAT(AppendGroup(*ledger, 10, 4)[0], StatusIs(absl::StatusCode::kResourceExhausted));
  // Storing a checkpoint needs a write: refused; what is stored never covers more than the log.
  EXPECT_THAT(ledger->SignCheckpoint(), StatusIs(absl::StatusCode::kResourceExhausted));
  auto stored_size = [&]() -> uint64_t {
    auto note = ledger->view().LatestCheckpointNote();
    EXPECT_THAT(note, IsOk());
    if (!note.ok() || !note->has_value()) return 0;
    auto parsed = crypto::ParseNote(**note);
    EXPECT_THAT(parsed, IsOk());
    auto checkpoint = crypto::ParseCheckpoint(parsed->text);
    EXPECT_THAT(checkpoint, IsOk());
    return checkpoint.ok() ? checkpoint->size : 0;
  };
  EXPECT_LE(stored_size(), 7u);
  EXPECT_EQ(ledger->size(), 7u);
  faults_.fs().Clear();
  ASSERT_TRUE(AwaitRecovery(*ledger)) << ledger->write_status();
  auto signed_note = ledger->SignCheckpoint();
  ASSERT_THAT(signed_note, IsOk());
  EXPECT_THAT(*signed_note, HasSubstr("\n7\n"));
  EXPECT_EQ(stored_size(), 7u);
  ExpectAuditPasses(ledger->db());
  ledger.reset();
  ledger = OpenLedger();  // verifies the stored checkpoint against the stored tree
  ASSERT_NE(ledger, nullptr);
  EXPECT_EQ(stored_size(), 7u);
}

TEST_F(LedgerFaultTest, RoundsOfFaultsUnderConcurrentAppendersLoseNoAcknowledgedAppend) {
  auto ledger = OpenLedger();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 60;
  absl::Mutex mu;
  std::map<std::string, v1::Receipt> acknowledged;
  std::atomic<int> refusals{0};
  std::atomic<bool> other_error{false};
  std::vector<std::thread> appenders;
  for (int t = 0; t < kThreads; ++t) {
    appenders.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int n = t * 1000 + i;
        const std::string id = absl::StrCat("event-", n);
        // A refused append is retried with the same event id until it is acknowledged.
        for (int attempt = 0; attempt < 5000; ++attempt) {
          auto receipt = ledger->Append(TestRequest(id, Payload(n)));
          if (receipt.ok()) {
            absl::MutexLock lock(&mu);
            acknowledged.emplace(id, *receipt);
            break;
          }
          if (absl::IsResourceExhausted(receipt.status()) ||
              absl::IsUnavailable(receipt.status())) {
            ++refusals;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            continue;
          }
          other_error = true;
          ADD_FAILURE() << receipt.status();
          return;
        }
      }
    });
  }
  const std::vector<Fault> faults = {
      Fault{},
      MakeFault(rocksdb::IOStatus::IOError("injected: input/output error"),
                ::herbtrace::testing::kWalFiles, ::herbtrace::testing::kFailAppend),
      MakeFault(rocksdb::IOStatus::NoSpace("injected"), ::herbtrace::testing::kWalFiles,
                ::herbtrace::testing::kFailSync),
      MakeFault(rocksdb::IOStatus::IOError("injected"), ::herbtrace::testing::kAllFiles,
                ::herbtrace::testing::kFailCreate | ::herbtrace::testing::kFailSync),
  };
  for (int round = 0; round < 12; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    faults_.fs().Inject(faults[round % faults.size()]);
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    faults_.fs().Clear();
  }
  for (auto& t : appenders) t.join();
  ASSERT_FALSE(other_error.load());
  EXPECT_GT(refusals.load(), 0);
  ASSERT_EQ(acknowledged.size(), static_cast<size_t>(kThreads * kPerThread));

  auto check = [&](Ledger& l) {
    EXPECT_EQ(l.size(), static_cast<uint64_t>(kThreads * kPerThread));
    for (const auto& [id, receipt] : acknowledged) {
      auto bytes = l.view().EntryBytes(receipt.seq());
      ASSERT_THAT(bytes, IsOk()) << id;
      EXPECT_EQ(receipt.leaf_hash(),
                std::string(crypto::AsBytes(crypto::HashLeaf(l.hasher(), *bytes))))
          << id;
      auto root = l.view().RootAt(receipt.tree_size());
      ASSERT_THAT(root, IsOk());
      EXPECT_EQ(receipt.root_hash(), std::string(crypto::AsBytes(*root))) << id;
    }
    ExpectAuditPasses(l.db());
  };
  ASSERT_TRUE(AwaitRecovery(*ledger));
  check(*ledger);
  ledger.reset();
  ledger = OpenLedger();
  ASSERT_NE(ledger, nullptr);
  check(*ledger);
}

}  // namespace
}  // namespace herbtrace::storage
