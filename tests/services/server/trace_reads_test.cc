// The reads the Trace service is made of, on a real ledger and a replica of it: a batch's state
// read with the log's size and its head, the proof tree, the latest checkpoint's cosignatures
// kept between reads, and reads that refuse to wait (they run on a gRPC thread first).
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "crypto/checkpoint.h"
#include "crypto/signed_note.h"
#include "rocksdb/db.h"
#include "services/server/checkpoints.h"
#include "services/server/cosigned_notes.h"
#include "services/server/read_waits.h"
#include "services/server/trace_reads.h"
#include "tests/services/server/service_fixture.h"

namespace herbtrace::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class TraceReadsTest : public MarketServiceTest {
 protected:
  // A cosignature of `checkpoint` by a witness holding the regulator's device key.
  server::StoredCosignature Cosignature(const crypto::Checkpoint& checkpoint,
                                        const std::string& witness_name, uint64_t timestamp) {
    auto pem = market_->regulator().key->ToPem();
    auto witness = crypto::Cosigner::Create(witness_name, *crypto::PrivateKey::FromPem(*pem));
    EXPECT_THAT(witness, IsOk());
    auto signature = (*witness)->Cosign(checkpoint, timestamp);
    EXPECT_THAT(signature, IsOk());
    return server::StoredCosignature{crypto::FormatCheckpoint(checkpoint), checkpoint, *signature,
                                     timestamp};
  }

  // A new harvest appended after the last checkpoint; its batch code and seq.
  std::pair<std::string, uint64_t> AppendHarvest() {
    const std::string batch = market_->NewBatchCode(market_->grower(), 1);
    auto receipt = market_->Submit(market_->grower(), market_->HarvestEvent(batch, 3'000));
    EXPECT_THAT(receipt, IsOk());
    return {batch, receipt.ok() ? receipt->seq() : 0};
  }
};

TEST(ReadWaitsTest, OnlyAWouldWaitStatusSaysSo) {
  const absl::Status would_wait = server::WouldWait("a new checkpoint to be signed");
  EXPECT_TRUE(server::IsWouldWait(would_wait));
  EXPECT_THAT(would_wait.message(), HasSubstr("a new checkpoint to be signed"));
  EXPECT_FALSE(server::IsWouldWait(absl::UnavailableError("this read would wait for a disk")));
  EXPECT_FALSE(server::IsWouldWait(absl::OkStatus()));
}

TEST_F(TraceReadsTest, ABatchIsReadWithTheLogSizeAndItsHeadTogether) {
  auto read = server::ReadBatchNow(*source_, chain_.lot1);
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->log_size, LogSize());
  EXPECT_EQ(read->state.batch_id(), chain_.lot1);
  EXPECT_EQ(read->state.as_of_tree_size(), LogSize());
  EXPECT_EQ(Digest(read->state.head_leaf_hash()), *source_->view().LeafHash(chain_.ack_seq));

  // At a size given: the same state, as of at least that size.
  auto at = server::ReadBatch(*source_, chain_.lot1, LogSize() + 5);
  ASSERT_THAT(at, IsOk());
  EXPECT_EQ(at->as_of_tree_size(), LogSize() + 5);
  EXPECT_EQ(at->head_leaf_hash(), read->state.head_leaf_hash());
  EXPECT_EQ(at->remaining_grams(), read->state.remaining_grams());
}

TEST_F(TraceReadsTest, ABatchNotInTheLogIsNotFoundNamingTheBatch) {
  const std::string unknown = market_->NewBatchCode(market_->grower(), 1);
  const uint64_t size = LogSize();
  for (server::Waiting waiting : {server::Waiting::kAllowed, server::Waiting::kRefused}) {
    EXPECT_THAT(server::ReadBatchNow(*source_, unknown, waiting),
                StatusIs(absl::StatusCode::kNotFound,
                         HasSubstr(absl::StrCat("batch_id: ", unknown, " is not in the log"))));
  }
  EXPECT_EQ(LogSize(), size);
}

TEST_F(TraceReadsTest, AProofTreeThatWouldNeedANewCheckpointWaitsOnlyWhereAllowed) {
  const std::string note_before = source_->LatestCheckpoint()->note;
  auto [batch, seq] = AppendHarvest();

  // Refused: nothing signed, nothing stored.
  auto refused = server::ResolveProofTree(*source_, 0, seq + 1, "tree_size",
                                          server::Waiting::kRefused);
  EXPECT_TRUE(server::IsWouldWait(refused.status())) << refused.status();
  EXPECT_EQ(source_->LatestCheckpoint()->note, note_before);

  // Allowed: the writer signs one covering the new entry.
  auto allowed = server::ResolveProofTree(*source_, 0, seq + 1, "tree_size",
                                          server::Waiting::kAllowed);
  ASSERT_THAT(allowed, IsOk());
  EXPECT_GE(allowed->size, seq + 1);
  ASSERT_TRUE(allowed->checkpoint.has_value());
  EXPECT_NE(allowed->checkpoint->note(), note_before);
}

TEST_F(TraceReadsTest, AProofTreeTheCheckpointCoversNeedsNoWait) {
  auto tree = server::ResolveProofTree(*source_, 0, chain_.ack_seq + 1, "tree_size",
                                       server::Waiting::kRefused);
  ASSERT_THAT(tree, IsOk());
  EXPECT_EQ(tree->size, LogSize());
  ASSERT_TRUE(tree->checkpoint.has_value());
  EXPECT_EQ(tree->checkpoint->note(), source_->LatestCheckpoint()->note);

  // A size the caller gives is checked against the log on the writer without waiting either.
  auto given = server::ResolveProofTree(*source_, chain_.trade_seq + 1, 0, "tree_size",
                                        server::Waiting::kRefused);
  ASSERT_THAT(given, IsOk());
  EXPECT_EQ(given->size, chain_.trade_seq + 1);
  EXPECT_FALSE(given->checkpoint.has_value());
  EXPECT_THAT(server::ResolveProofTree(*source_, LogSize() + 1, 0, "tree_size",
                                       server::Waiting::kRefused),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("tree_size: ")));
}

TEST_F(TraceReadsTest, TheCosignedNoteIsKeptUntilACosignatureIsStored) {
  auto latest = source_->LatestCheckpoint();
  ASSERT_THAT(latest, IsOk());
  const std::string first = *source_->cosigned_notes().Attach(source_->db(), latest->note);
  EXPECT_EQ(first, latest->note);

  // A cosignature written under the cosigned notes' back is not seen: they are kept...
  const server::StoredCosignature c =
      Cosignature(latest->checkpoint, "anguo-amr-witness", 1'790'000'100);
  const std::string key = absl::StrCat(server::kMetaCosignaturePrefix, c.signature.name);
  const std::string value = crypto::FormatNote(crypto::Note{c.body, {c.signature}});
  ASSERT_TRUE(market_->ledger()
                  .db()
                  .db()
                  .Put(rocksdb::WriteOptions(), market_->ledger().db().cf(storage::Cf::kMeta),
                       key, value)
                  .ok());
  EXPECT_EQ(*source_->cosigned_notes().Attach(source_->db(), latest->note), first);

  // ...until invalidated, as StoreCosignature does.
  source_->cosigned_notes().Invalidate();
  const std::string cosigned = *source_->cosigned_notes().Attach(source_->db(), latest->note);
  EXPECT_THAT(cosigned, HasSubstr("— anguo-amr-witness "));
  EXPECT_THAT(cosigned, HasSubstr(latest->note.substr(0, latest->note.size() - 1)));
}

TEST_F(TraceReadsTest, StoringACosignatureShowsItInTheNextCosignedCheckpoint) {
  auto latest = source_->LatestCheckpoint();
  ASSERT_THAT(latest, IsOk());
  auto before = server::CosignedCheckpoint(*source_, *latest);
  ASSERT_THAT(before, IsOk());
  EXPECT_THAT(before->note(), Not(HasSubstr("anguo-amr-witness")));

  auto stored = server::StoreCosignature(
      *source_, Cosignature(latest->checkpoint, "anguo-amr-witness", 1'790'000'100));
  ASSERT_THAT(stored, IsOk());
  EXPECT_TRUE(*stored);
  auto after = server::CosignedCheckpoint(*source_, *latest);
  ASSERT_THAT(after, IsOk());
  EXPECT_THAT(after->note(), HasSubstr("— anguo-amr-witness "));
  EXPECT_EQ(after->size(), before->size());
  EXPECT_EQ(after->root_hash(), before->root_hash());

  // A new checkpoint has no cosignature yet: its note is built again, without the old one's.
  AppendHarvest();
  ASSERT_THAT(market_->Checkpoint(), IsOk());
  auto newer = source_->LatestCheckpoint();
  ASSERT_THAT(newer, IsOk());
  auto newer_cosigned = server::CosignedCheckpoint(*source_, *newer);
  ASSERT_THAT(newer_cosigned, IsOk());
  EXPECT_EQ(newer_cosigned->note(), newer->note);
}

// A replica that catches up only when asked (its timer is an hour).
class ReplicaTraceReadsTest : public TraceReadsTest {
 protected:
  void SetUp() override {
    TraceReadsTest::SetUp();
    if (HasFatalFailure()) return;
    server::LogSource::ReplicaOptions options;
    options.primary_db_path = market_->db_path();
    options.secondary_path = (secondary_dir_.path() / "secondary").string();
    options.catch_up_interval = absl::Hours(1);
    auto replica = server::LogSource::OpenReplica(options);
    ASSERT_THAT(replica, IsOk());
    replica_ = *std::move(replica);
  }

  void TearDown() override {
    replica_.reset();
    TraceReadsTest::TearDown();
  }

  TempDir secondary_dir_;
  std::unique_ptr<server::LogSource> replica_;
};

TEST_F(ReplicaTraceReadsTest, ABatchTheReplicaHasNotSeenWaitsForACatchUpOnlyWhereAllowed) {
  auto [batch, seq] = AppendHarvest();
  EXPECT_TRUE(server::IsWouldWait(
      server::ReadBatchNow(*replica_, batch, server::Waiting::kRefused).status()));
  EXPECT_LE(*replica_->Size(), seq);  // the refused read did not catch up

  auto read = server::ReadBatchNow(*replica_, batch, server::Waiting::kAllowed);
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->state.batch_id(), batch);
  EXPECT_GT(read->log_size, seq);
}

TEST_F(ReplicaTraceReadsTest, ATreeSizeTheReplicaHasNotSeenWaitsForACatchUpOnlyWhereAllowed) {
  auto [batch, seq] = AppendHarvest();
  EXPECT_TRUE(server::IsWouldWait(server::ResolveProofTree(*replica_, seq + 1, 0, "tree_size",
                                                           server::Waiting::kRefused)
                                      .status()));
  auto tree = server::ResolveProofTree(*replica_, seq + 1, 0, "tree_size",
                                       server::Waiting::kAllowed);
  ASSERT_THAT(tree, IsOk());
  EXPECT_EQ(tree->size, seq + 1);
}

TEST_F(ReplicaTraceReadsTest, AReplicaSeesACosignatureTheWriterStoredAfterItsCatchUp) {
  auto latest = replica_->LatestCheckpoint();
  ASSERT_THAT(latest, IsOk());
  auto before = server::CosignedCheckpoint(*replica_, *latest);
  ASSERT_THAT(before, IsOk());
  EXPECT_THAT(before->note(), Not(HasSubstr("anguo-amr-witness")));

  ASSERT_THAT(server::StoreCosignature(
                  *source_, Cosignature(latest->checkpoint, "anguo-amr-witness", 1'790'000'100)),
              IsOk());
  // The replica refuses to store one itself.
  EXPECT_THAT(server::StoreCosignature(
                  *replica_, Cosignature(latest->checkpoint, "other-witness", 1'790'000'100)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cosignature: ")));
  ASSERT_THAT(replica_->CatchUp(), IsOk());
  auto after = server::CosignedCheckpoint(*replica_, *latest);
  ASSERT_THAT(after, IsOk());
  EXPECT_THAT(after->note(), HasSubstr("— anguo-amr-witness "));
  EXPECT_THAT(after->note(), Not(HasSubstr("other-witness")));
}

}  // namespace
}  // namespace herbtrace::testing
