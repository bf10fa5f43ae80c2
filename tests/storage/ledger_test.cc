// The ledger on RocksDB: appends and receipts, proofs for every past size, idempotency, batch
// hash chains, rule rejections, reopen and the verification on open, group commit under
// concurrent writers.
#include "storage/ledger.h"

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "crypto/checkpoint.h"
#include "crypto/merkle.h"
#include "storage/audit.h"
#include "storage/key_codec.h"
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
using ::testing::HasSubstr;

class LedgerTest : public ::testing::Test {
 protected:
  std::unique_ptr<Ledger> OpenLedger(StateRule* rule = nullptr) {
    Ledger::Options options;
    options.origin = ::herbtrace::testing::kTestOrigin;
    options.clock = &clock_;
    options.rule = rule;
    auto ledger = Ledger::Open(dir_.path().string(), options, TestLogSigner());
    EXPECT_THAT(ledger, IsOk());
    return ledger.ok() ? *std::move(ledger) : nullptr;
  }

  void AppendN(Ledger& ledger, int n, int first = 0) {
    for (int i = first; i < first + n; ++i) {
      ASSERT_THAT(ledger.Append(TestRequest(absl::StrCat("event-", i), absl::StrCat("payload ", i))),
                  IsOk());
    }
  }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
};

TEST_F(LedgerTest, AppendReturnsReceiptMatchingTheStoredEntry) {
  auto ledger = OpenLedger();
  auto receipt = ledger->Append(TestRequest("e-1", "harvest of huangqi"));
  ASSERT_THAT(receipt, IsOk());
  EXPECT_EQ(receipt->seq(), 0u);
  EXPECT_EQ(receipt->tree_size(), 1u);
  EXPECT_EQ(receipt->received_at_unix_micros(), int64_t{1'790'000'000} * 1'000'000);

  auto bytes = ledger->view().EntryBytes(0);
  ASSERT_THAT(bytes, IsOk());
  v1::LedgerEntry entry;
  ASSERT_TRUE(entry.ParseFromString(*bytes));
  EXPECT_EQ(entry.signed_event().payload(), "harvest of huangqi");
  EXPECT_EQ(entry.event_id(), "e-1");
  const crypto::Digest leaf = crypto::HashLeaf(ledger->hasher(), *bytes);
  EXPECT_EQ(receipt->leaf_hash(), std::string(crypto::AsBytes(leaf)));
  EXPECT_EQ(receipt->root_hash(), std::string(crypto::AsBytes(leaf)));  // one-leaf tree
  EXPECT_EQ(ledger->size(), 1u);
}

TEST_F(LedgerTest, PayloadBytesAreStoredExactlyAsReceived) {
  auto ledger = OpenLedger();
  // Not a valid protobuf: the ledger must not care, and must not re-encode it.
  const std::string payload("\x0a\xff\x00\x80 raw", 8);
  ASSERT_THAT(ledger->Append(TestRequest("e-raw", payload)), IsOk());
  v1::LedgerEntry entry;
  ASSERT_TRUE(entry.ParseFromString(*ledger->view().EntryBytes(0)));
  EXPECT_EQ(entry.signed_event().payload(), payload);
}

TEST_F(LedgerTest, InclusionProofsVerifyForEveryIndexAndSizeUpTo300) {
  auto ledger = OpenLedger();
  AppendN(*ledger, 300);
  const crypto::Hasher& h = ledger->hasher();
  std::vector<crypto::Digest> leaves;
  for (uint64_t i = 0; i < 300; ++i) leaves.push_back(*ledger->view().LeafHash(i));
  for (uint64_t size = 1; size <= 300; ++size) {
    auto root = ledger->view().RootAt(size);
    ASSERT_THAT(root, IsOk());
    ASSERT_EQ(*root, crypto::RootFromLeafHashes(h, absl::MakeConstSpan(leaves).subspan(0, size)));
    for (uint64_t index = 0; index < size; ++index) {
      auto proof = ledger->view().InclusionProof(index, size);
      ASSERT_THAT(proof, IsOk());
      ASSERT_THAT(crypto::VerifyInclusion(h, index, size, leaves[index], *proof, *root), IsOk())
          << "index " << index << " size " << size;
    }
  }
}

TEST_F(LedgerTest, ConsistencyProofsVerifyForEveryPairOfSizesUpTo300) {
  auto ledger = OpenLedger();
  AppendN(*ledger, 300);
  const crypto::Hasher& h = ledger->hasher();
  std::vector<crypto::Digest> roots(301);
  for (uint64_t size = 1; size <= 300; ++size) roots[size] = *ledger->view().RootAt(size);
  for (uint64_t size2 = 1; size2 <= 300; ++size2) {
    for (uint64_t size1 = 1; size1 <= size2; ++size1) {
      auto proof = ledger->view().ConsistencyProof(size1, size2);
      ASSERT_THAT(proof, IsOk());
      ASSERT_THAT(crypto::VerifyConsistency(h, size1, size2, *proof, roots[size1], roots[size2]),
                  IsOk())
          << size1 << " -> " << size2;
    }
  }
}

TEST_F(LedgerTest, ProofsBeyondTheLogAreOutOfRange) {
  auto ledger = OpenLedger();
  AppendN(*ledger, 5);
  EXPECT_THAT(ledger->view().InclusionProof(2, 6), StatusIs(absl::StatusCode::kOutOfRange,
                                                            HasSubstr("tree_size")));
  EXPECT_THAT(ledger->view().ConsistencyProof(2, 9), StatusIs(absl::StatusCode::kOutOfRange,
                                                              HasSubstr("size2")));
  EXPECT_THAT(ledger->view().InclusionProof(5, 5), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ledger->view().EntryBytes(5), StatusIs(absl::StatusCode::kNotFound,
                                                     HasSubstr("entry 5")));
}

TEST_F(LedgerTest, SameEventIdWithSameBytesReturnsTheFirstReceipt) {
  auto ledger = OpenLedger();
  auto first = ledger->Append(TestRequest("e-1", "payload"));
  ASSERT_THAT(first, IsOk());
  AppendN(*ledger, 3);
  clock_.Advance(absl::Minutes(5));
  // A retry may carry a fresh signature (SM2 signatures are randomized): same payload, same event.
  auto retry_request = TestRequest("e-1", "payload");
  retry_request.signed_event.set_signature(std::string(64, 'r'));
  auto retry = ledger->Append(retry_request);
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->SerializeAsString(), first->SerializeAsString());
  EXPECT_EQ(ledger->size(), 4u);
}

TEST_F(LedgerTest, SameEventIdWithOtherBytesIsRejectedAndWritesNothing) {
  auto ledger = OpenLedger();
  ASSERT_THAT(ledger->Append(TestRequest("e-1", "payload")), IsOk());
  auto root_before = *ledger->view().RootAt(1);
  EXPECT_THAT(ledger->Append(TestRequest("e-1", "other payload")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("event_id: e-1")));
  EXPECT_EQ(ledger->size(), 1u);
  EXPECT_EQ(*ledger->view().Size(), 1u);
  EXPECT_EQ(*ledger->view().RootAt(1), root_before);
  EXPECT_THAT(ledger->view().EntryBytes(1), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(LedgerTest, DuplicatesWithinOneGroupAreResolvedInOrder) {
  auto ledger = OpenLedger();
  // Queue several appends at once so they share a group.
  absl::Mutex mu;
  std::vector<absl::StatusOr<v1::Receipt>> results(3);
  int done = 0;
  auto record = [&](int i) {
    return [&, i](absl::StatusOr<v1::Receipt> r) {
      absl::MutexLock lock(&mu);
      results[i] = std::move(r);
      ++done;
    };
  };
  ledger->AppendAsync(TestRequest("e-dup", "one"), record(0));
  ledger->AppendAsync(TestRequest("e-dup", "one"), record(1));
  ledger->AppendAsync(TestRequest("e-dup", "two"), record(2));
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(+[](int* d) { return *d == 3; }, &done));
  ASSERT_THAT(results[0], IsOk());
  ASSERT_THAT(results[1], IsOk());
  EXPECT_EQ(results[0]->SerializeAsString(), results[1]->SerializeAsString());
  EXPECT_THAT(results[2], StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ledger->size(), 1u);
}

// Appends `requests` with one AppendManyAsync call (one group, below max_group_size) and waits
// for every result.
std::vector<absl::StatusOr<v1::Receipt>> AppendTogether(Ledger& ledger,
                                                        std::vector<AppendRequest> requests) {
  struct Answers {
    absl::Mutex mu;
    std::vector<absl::StatusOr<v1::Receipt>> results;
    std::vector<int> calls;
    size_t done = 0;
    bool All() const { return done == results.size(); }
  } answers;
  answers.results.assign(requests.size(), absl::UnknownError("no answer"));
  answers.calls.assign(requests.size(), 0);
  ledger.AppendManyAsync(std::move(requests), [&](size_t i, absl::StatusOr<v1::Receipt> r) {
    absl::MutexLock lock(&answers.mu);
    answers.results[i] = std::move(r);
    ++answers.calls[i];
    ++answers.done;
  });
  absl::MutexLock lock(&answers.mu);
  answers.mu.Await(absl::Condition(&answers, &Answers::All));
  for (size_t i = 0; i < answers.calls.size(); ++i) {
    EXPECT_EQ(answers.calls[i], 1) << "request " << i;
  }
  return std::move(answers.results);
}

TEST_F(LedgerTest, AppendManyAnswersEveryRequestOnceInOneGroup) {
  TouchesListedBatches rule;
  auto ledger = OpenLedger(&rule);
  AppendN(*ledger, 2);
  std::vector<AppendRequest> requests;
  for (int i = 0; i < 5; ++i) {
    requests.push_back(TestRequest(absl::StrCat("many-", i), absl::StrCat("batches=M;", i)));
  }
  auto results = AppendTogether(*ledger, std::move(requests));
  ASSERT_EQ(results.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(results[i], IsOk());
    EXPECT_EQ(results[i]->event_id(), absl::StrCat("many-", i));
    EXPECT_EQ(results[i]->seq(), uint64_t(2 + i));
    // One group: every receipt names the tree the whole group committed.
    EXPECT_EQ(results[i]->tree_size(), 7u);
  }
  EXPECT_EQ(*ledger->view().BatchHistory("M"), (std::vector<uint64_t>{2, 3, 4, 5, 6}));
  EXPECT_EQ(**ledger->db().Get(Cf::kBatchState, "M"), "5");
  // Nothing to append calls nothing.
  ledger->AppendManyAsync({}, [](size_t, absl::StatusOr<v1::Receipt>) { ADD_FAILURE(); });
  EXPECT_EQ(ledger->size(), 7u);
}

TEST_F(LedgerTest, RejectedAppendBetweenTwoOnTheSameBatchInOneGroupStagesNothing) {
  TouchesListedBatches rule;
  auto ledger = OpenLedger(&rule);
  ASSERT_THAT(ledger->Append(TestRequest("h", "batches=B1;harvest")), IsOk());
  std::vector<AppendRequest> requests;
  requests.push_back(TestRequest("a", "batches=B1;a"));
  requests.push_back(TestRequest("r", "reject after staging"));
  auto stale = TestRequest("s", "batches=B1;stale head");
  stale.expected_heads = {{"B1", std::string(crypto::AsBytes(*ledger->view().LeafHash(0)))}};
  requests.push_back(std::move(stale));  // rejected by the ledger after the rule staged
  requests.push_back(TestRequest("c", "batches=B1,B2;c"));
  auto results = AppendTogether(*ledger, std::move(requests));
  ASSERT_THAT(results[0], IsOk());
  EXPECT_THAT(results[1], StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("payload")));
  EXPECT_THAT(results[2],
              StatusIs(absl::StatusCode::kAborted, HasSubstr("expected_heads[B1]: stale head")));
  ASSERT_THAT(results[3], IsOk());
  EXPECT_EQ(results[0]->seq(), 1u);
  EXPECT_EQ(results[3]->seq(), 2u);

  // The rule saw the group's own change (count 2 after a), and neither rejection's (3 for c).
  EXPECT_EQ(**ledger->db().Get(Cf::kBatchState, "B1"), "3");
  EXPECT_EQ(**ledger->db().Get(Cf::kBatchState, "B2"), "1");
  EXPECT_FALSE(ledger->db().Get(Cf::kBatchState, "rejected-state")->has_value());
  EXPECT_THAT(*ledger->view().FindEvent("r"), ::testing::Eq(std::nullopt));
  EXPECT_THAT(*ledger->view().FindEvent("s"), ::testing::Eq(std::nullopt));
  // c links to a, the head the group left, not to what was durable before the group.
  v1::LedgerEntry c;
  ASSERT_TRUE(c.ParseFromString(*ledger->view().EntryBytes(2)));
  ASSERT_EQ(c.batch_prev_size(), 2);
  EXPECT_EQ(c.batch_prev(0).prev_leaf_hash(), results[0]->leaf_hash());
  EXPECT_EQ(*ledger->view().BatchHistory("B1"), (std::vector<uint64_t>{0, 1, 2}));

  // The state and heads the sequencer keeps between groups are the durable ones.
  ASSERT_THAT(ledger->Append(TestRequest("d", "batches=B1;d")), IsOk());
  EXPECT_EQ(**ledger->db().Get(Cf::kBatchState, "B1"), "4");
  auto report = AuditLedger(ledger->db());
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->failure->reason;

  // And so does a fresh sequencer reading them all from RocksDB.
  ledger.reset();
  ledger = OpenLedger(&rule);
  ASSERT_THAT(ledger->Append(TestRequest("e", "batches=B1;e")), IsOk());
  EXPECT_EQ(**ledger->db().Get(Cf::kBatchState, "B1"), "5");
  v1::LedgerEntry e;
  ASSERT_TRUE(e.ParseFromString(*ledger->view().EntryBytes(4)));
  EXPECT_EQ(e.batch_prev(0).prev_leaf_hash(),
            std::string(crypto::AsBytes(*ledger->view().LeafHash(3))));
}

TEST_F(LedgerTest, EmptyEventIdIsRejected) {
  auto ledger = OpenLedger();
  EXPECT_THAT(ledger->Append(TestRequest("", "x")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("event_id")));
  EXPECT_EQ(ledger->size(), 0u);
}

TEST_F(LedgerTest, EntriesLinkEachTouchedBatchToItsPreviousEntry) {
  TouchesListedBatches rule;
  auto ledger = OpenLedger(&rule);
  ASSERT_THAT(ledger->Append(TestRequest("h1", "batches=B1;harvest")), IsOk());
  ASSERT_THAT(ledger->Append(TestRequest("h2", "batches=B2;harvest")), IsOk());
  ASSERT_THAT(ledger->Append(TestRequest("m", "batches=B1,B2,B3;merge")), IsOk());

  v1::LedgerEntry merge;
  ASSERT_TRUE(merge.ParseFromString(*ledger->view().EntryBytes(2)));
  ASSERT_EQ(merge.batch_prev_size(), 3);
  EXPECT_EQ(merge.batch_prev(0).batch_id(), "B1");
  EXPECT_EQ(merge.batch_prev(0).prev_leaf_hash(),
            std::string(crypto::AsBytes(*ledger->view().LeafHash(0))));
  EXPECT_EQ(merge.batch_prev(1).batch_id(), "B2");
  EXPECT_EQ(merge.batch_prev(1).prev_leaf_hash(),
            std::string(crypto::AsBytes(*ledger->view().LeafHash(1))));
  EXPECT_EQ(merge.batch_prev(2).batch_id(), "B3");
  EXPECT_TRUE(merge.batch_prev(2).prev_leaf_hash().empty());

  EXPECT_EQ(*ledger->view().BatchHistory("B1"), (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(*ledger->view().BatchHistory("B3"), (std::vector<uint64_t>{2}));
  auto head = ledger->view().Head("B2");
  ASSERT_THAT(head, IsOk());
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->seq, 2u);
  EXPECT_EQ((*head)->leaf_hash, *ledger->view().LeafHash(2));
}

TEST_F(LedgerTest, StaleExpectedHeadIsAbortedAndWritesNothing) {
  TouchesListedBatches rule;
  auto ledger = OpenLedger(&rule);
  ASSERT_THAT(ledger->Append(TestRequest("h1", "batches=B1;harvest")), IsOk());
  const std::string head0(crypto::AsBytes(*ledger->view().LeafHash(0)));
  ASSERT_THAT(ledger->Append(TestRequest("p1", "batches=B1;dry")), IsOk());

  auto stale = TestRequest("p2", "batches=B1;slice");
  stale.expected_heads = {{"B1", head0}};
  EXPECT_THAT(ledger->Append(stale),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("expected_heads[B1]: stale head")));
  EXPECT_EQ(ledger->size(), 2u);
  EXPECT_EQ(*ledger->view().BatchHistory("B1"), (std::vector<uint64_t>{0, 1}));
  auto state = ledger->db().Get(Cf::kBatchState, "B1");
  EXPECT_EQ(**state, "2");  // the rule's staged count was rolled back

  auto fresh = TestRequest("p3", "batches=B1;slice");
  fresh.expected_heads = {{"B1", std::string(crypto::AsBytes(*ledger->view().LeafHash(1)))}};
  EXPECT_THAT(ledger->Append(fresh), IsOk());
}

TEST_F(LedgerTest, RuleRejectionDiscardsItsStagedStateAndKeepsTheGroupGoing) {
  TouchesListedBatches rule;
  auto ledger = OpenLedger(&rule);
  absl::Mutex mu;
  int done = 0;
  std::vector<absl::Status> statuses(3);
  auto record = [&](int i) {
    return [&, i](absl::StatusOr<v1::Receipt> r) {
      absl::MutexLock lock(&mu);
      statuses[i] = r.status();
      ++done;
    };
  };
  ledger->AppendAsync(TestRequest("a", "batches=B1;a"), record(0));
  ledger->AppendAsync(TestRequest("b", "reject this"), record(1));
  ledger->AppendAsync(TestRequest("c", "batches=B1;c"), record(2));
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(+[](int* d) { return *d == 3; }, &done));
  }
  EXPECT_THAT(statuses[0], IsOk());
  EXPECT_THAT(statuses[1], StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("payload")));
  EXPECT_THAT(statuses[2], IsOk());
  EXPECT_EQ(ledger->size(), 2u);
  EXPECT_FALSE(ledger->db().Get(Cf::kBatchState, "rejected-state")->has_value());
  EXPECT_THAT(*ledger->view().FindEvent("b"), ::testing::Eq(std::nullopt));
  EXPECT_EQ(*ledger->view().BatchHistory("B1"), (std::vector<uint64_t>{0, 1}));
}

TEST_F(LedgerTest, ReopensAfterCleanCloseWithTheSameTreeAndGoesOn) {
  crypto::Digest root;
  {
    auto ledger = OpenLedger();
    AppendN(*ledger, 37);
    root = *ledger->view().RootAt(37);
  }
  auto ledger = OpenLedger();
  EXPECT_EQ(ledger->size(), 37u);
  EXPECT_EQ(*ledger->view().RootAt(37), root);
  auto note = ledger->view().LatestCheckpointNote();
  ASSERT_THAT(note, IsOk());
  ASSERT_TRUE(note->has_value());
  auto verifier = crypto::NoteVerifier::Create(TestLogSigner()->VerifierKey());
  auto checkpoint = crypto::OpenCheckpoint(**note, **verifier);
  ASSERT_THAT(checkpoint, IsOk());
  EXPECT_EQ(checkpoint->size, 37u);  // the close signed everything
  EXPECT_EQ(checkpoint->root_hash, root);

  AppendN(*ledger, 5, 37);
  EXPECT_EQ(ledger->size(), 42u);
  auto proof = ledger->view().ConsistencyProof(37, 42);
  ASSERT_THAT(proof, IsOk());
  EXPECT_THAT(crypto::VerifyConsistency(ledger->hasher(), 37, 42, *proof, root,
                                        *ledger->view().RootAt(42)),
              IsOk());
}

TEST_F(LedgerTest, RefusesToOpenWithAnotherLogKey) {
  { auto ledger = OpenLedger(); AppendN(*ledger, 2); }
  Ledger::Options options;
  options.origin = ::herbtrace::testing::kTestOrigin;
  EXPECT_THAT(Ledger::Open(dir_.path().string(), options, TestLogSigner(9)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("log key")));
}

TEST_F(LedgerTest, RefusesToOpenWithAnotherOriginOrHash) {
  { auto ledger = OpenLedger(); AppendN(*ledger, 2); }
  Ledger::Options options;
  options.origin = "elsewhere.example/log";
  auto key = crypto::PrivateKey::FromEd25519Seed(std::string(32, 7));
  auto elsewhere = crypto::NoteSigner::Create(options.origin, *std::move(key));
  EXPECT_THAT(Ledger::Open(dir_.path().string(), options, *std::move(elsewhere)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("origin")));
  // The origin is the log key's name: a mismatch is the caller's mistake.
  EXPECT_THAT(Ledger::Open(dir_.path().string(), options, TestLogSigner()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("log key's name")));
  options.origin = ::herbtrace::testing::kTestOrigin;
  options.hash = crypto::HashAlgorithm::kSm3;
  EXPECT_THAT(Ledger::Open(dir_.path().string(), options, TestLogSigner()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("hash")));
}

TEST_F(LedgerTest, RefusesToOpenWhenTheNewestEntryWasAltered) {
  { auto ledger = OpenLedger(); AppendN(*ledger, 10); }
  {
    LedgerDb::Options o;
    auto db = LedgerDb::Open(dir_.path().string(), o);
    ASSERT_THAT(db, IsOk());
    std::string bytes = **(*db)->Get(Cf::kEntries, BigEndian64(9));
    bytes[bytes.size() / 2] ^= 0x01;
    rocksdb::WriteOptions wo;
    ASSERT_TRUE((*db)->db().Put(wo, (*db)->cf(Cf::kEntries), BigEndian64(9), bytes).ok());
  }
  Ledger::Options options;
  options.origin = ::herbtrace::testing::kTestOrigin;
  EXPECT_THAT(Ledger::Open(dir_.path().string(), options, TestLogSigner()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entry 9: leaf hash")));
}

TEST_F(LedgerTest, RefusesToOpenWhenTheTreeNoLongerGivesTheSignedRoot) {
  { auto ledger = OpenLedger(); AppendN(*ledger, 8); }
  {
    LedgerDb::Options o;
    auto db = LedgerDb::Open(dir_.path().string(), o);
    ASSERT_THAT(db, IsOk());
    // Alter the level-3 node (leaves 0..7), stored as the 4th hash under leaf 7.
    std::string nodes = **(*db)->Get(Cf::kTree, TreeNodeKey({3, 0}));
    ASSERT_EQ(nodes.size(), 4u * 32);
    nodes[3 * 32 + 5] ^= 0x40;
    rocksdb::WriteOptions wo;
    ASSERT_TRUE((*db)->db().Put(wo, (*db)->cf(Cf::kTree), TreeNodeKey({3, 0}), nodes).ok());
  }
  Ledger::Options options;
  options.origin = ::herbtrace::testing::kTestOrigin;
  EXPECT_THAT(Ledger::Open(dir_.path().string(), options, TestLogSigner()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("signed checkpoint says")));
}

TEST_F(LedgerTest, RefusesToOpenWhenAnEntryAfterTheCheckpointWasAltered) {
  {
    auto ledger = OpenLedger();
    AppendN(*ledger, 10);
    ASSERT_THAT(ledger->SignCheckpoint(), IsOk());
    AppendN(*ledger, 10, 10);
  }
  {
    LedgerDb::Options o;
    auto db = LedgerDb::Open(dir_.path().string(), o);
    ASSERT_THAT(db, IsOk());
    // Put back the checkpoint at 10, as if the later ones were lost in a crash, and alter an
    // entry after it (not the newest one).
    auto signer = TestLogSigner();
    crypto::Checkpoint at10;
    at10.origin = ::herbtrace::testing::kTestOrigin;
    at10.size = 10;
    auto hasher = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    LogView view(**db, **hasher);
    at10.root_hash = *view.RootAt(10);
    auto note = crypto::SignCheckpoint(at10, *signer);
    ASSERT_THAT(note, IsOk());
    rocksdb::WriteOptions wo;
    ASSERT_TRUE((*db)->db().Put(wo, (*db)->cf(Cf::kMeta),
                                rocksdb::Slice(kMetaCheckpoint.data(), kMetaCheckpoint.size()),
                                *note).ok());
    std::string bytes = **(*db)->Get(Cf::kEntries, BigEndian64(14));
    bytes[bytes.size() - 2] ^= 0x08;
    ASSERT_TRUE((*db)->db().Put(wo, (*db)->cf(Cf::kEntries), BigEndian64(14), bytes).ok());
  }
  Ledger::Options options;
  options.origin = ::herbtrace::testing::kTestOrigin;
  EXPECT_THAT(Ledger::Open(dir_.path().string(), options, TestLogSigner()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entry 14:")));
}

TEST_F(LedgerTest, ConcurrentWritersShareGroupsAndGetDistinctSequenceNumbers) {
  TouchesListedBatches rule;
  auto ledger = OpenLedger(&rule);
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  absl::Mutex mu;
  std::set<uint64_t> seqs;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = ledger->Append(TestRequest(absl::StrCat("t", t, "-", i),
                                            absl::StrCat("batches=T", t, ";step ", i)));
        ASSERT_THAT(r, IsOk());
        absl::MutexLock lock(&mu);
        seqs.insert(r->seq());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seqs.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(*seqs.rbegin(), uint64_t{kThreads * kPerThread - 1});
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(ledger->view().BatchHistory(absl::StrCat("T", t))->size(), size_t{kPerThread});
  }
  auto report = AuditLedger(ledger->db());
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->failure->reason;
  EXPECT_EQ(report->entries_checked, uint64_t{kThreads * kPerThread});
}

TEST_F(LedgerTest, SignCheckpointSignsTheDurableTree) {
  auto ledger = OpenLedger();
  AppendN(*ledger, 11);
  auto note = ledger->SignCheckpoint();
  ASSERT_THAT(note, IsOk());
  auto verifier = crypto::NoteVerifier::Create(ledger->log_signer().VerifierKey());
  auto checkpoint = crypto::OpenCheckpoint(*note, **verifier);
  ASSERT_THAT(checkpoint, IsOk());
  EXPECT_EQ(checkpoint->origin, ::herbtrace::testing::kTestOrigin);
  EXPECT_EQ(checkpoint->size, 11u);
  EXPECT_EQ(checkpoint->root_hash, *ledger->view().RootAt(11));
  EXPECT_EQ(**ledger->view().LatestCheckpointNote(), *note);
}

TEST_F(LedgerTest, Sm3LedgerProvesAndAuditsToo) {
  Ledger::Options options;
  options.origin = ::herbtrace::testing::kTestOrigin;
  options.hash = crypto::HashAlgorithm::kSm3;
  auto ledger = Ledger::Open(dir_.path().string(), options, TestLogSigner());
  ASSERT_THAT(ledger, IsOk());
  AppendN(**ledger, 20);
  auto root = (*ledger)->view().RootAt(20);
  auto proof = (*ledger)->view().InclusionProof(13, 20);
  EXPECT_THAT(crypto::VerifyInclusion((*ledger)->hasher(), 13, 20,
                                      *(*ledger)->view().LeafHash(13), *proof, *root),
              IsOk());
  auto sha = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
  EXPECT_FALSE(crypto::VerifyInclusion(**sha, 13, 20, *(*ledger)->view().LeafHash(13), *proof,
                                       *root).ok());
  auto report = AuditLedger((*ledger)->db());
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok());
}

}  // namespace
}  // namespace herbtrace::storage
