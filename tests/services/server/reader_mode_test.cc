// A reader replica: a RocksDB secondary instance of the writer's database, caught up on a timer
// and on demand, serving Trace (and the ledger reads) for what the writer appended a moment ago.
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "services/domain/identifiers.h"
#include "storage/key_codec.h"
#include "storage/ledger_db.h"
#include "tests/services/server/service_fixture.h"

namespace herbtrace::testing {
namespace {

using ::testing::HasSubstr;

class ReaderModeTest : public MarketServiceTest {
 protected:
  void SetUp() override {
    MarketServiceTest::SetUp();
    if (HasFatalFailure()) return;
    server::LogSource::ReplicaOptions options;
    options.primary_db_path = market_->db_path();
    options.secondary_path = (secondary_dir_.path() / "secondary").string();
    options.catch_up_interval = absl::Milliseconds(50);
    auto replica = server::LogSource::OpenReplica(options);
    ASSERT_THAT(replica, IsOk());
    replica_ = *std::move(replica);
    auto server = TestServer::Start(*replica_);
    ASSERT_THAT(server, IsOk());
    reader_server_ = *std::move(server);
    reader_trace_ = v1::Trace::NewStub(reader_server_->channel());
    reader_ledger_ = v1::Ledger::NewStub(reader_server_->channel());
  }

  void TearDown() override {
    reader_server_.reset();
    replica_.reset();
    MarketServiceTest::TearDown();
  }

  // A new harvest appended through the writer; its batch code and receipt.
  std::pair<std::string, v1::Receipt> AppendHarvest() {
    const std::string batch = market_->NewBatchCode(market_->grower(), 1);
    auto receipt = market_->Submit(market_->grower(), market_->HarvestEvent(batch, 7'000));
    EXPECT_THAT(receipt, IsOk());
    return {batch, *receipt};
  }

  TempDir secondary_dir_;
  std::unique_ptr<server::LogSource> replica_;
  std::unique_ptr<TestServer> reader_server_;
  std::unique_ptr<v1::Trace::Stub> reader_trace_;
  std::unique_ptr<v1::Ledger::Stub> reader_ledger_;
};

TEST_F(ReaderModeTest, ASecondaryInstanceSeesAnAppendAfterCatchingUp) {
  storage::LedgerDb::Options options;
  options.mode = storage::OpenMode::kSecondary;
  options.secondary_path = (secondary_dir_.path() / "plain").string();
  auto db = storage::LedgerDb::Open(market_->db_path(), options);
  ASSERT_THAT(db, IsOk());
  auto [batch, receipt] = AppendHarvest();
  ASSERT_THAT((*db)->CatchUp(), IsOk());
  auto state = (*db)->Get(storage::Cf::kBatchState, batch);
  ASSERT_THAT(state, IsOk());
  EXPECT_TRUE(state->has_value());
  auto entry = (*db)->Get(storage::Cf::kEntries, storage::BigEndian64(receipt.seq()));
  ASSERT_THAT(entry, IsOk());
  EXPECT_TRUE(entry->has_value());
}

TEST_F(ReaderModeTest, TheReadersTraceServiceServesABatchAppendedAMomentAgo) {
  auto [batch, receipt] = AppendHarvest();
  v1::GetBatchRequest request;
  request.set_code(batch);
  v1::BatchState state;
  auto context = Context();
  grpc::Status status = reader_trace_->GetBatch(context.get(), request, &state);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(state.batch_id(), batch);
  EXPECT_EQ(state.remaining_grams(), 7'000u);
  EXPECT_EQ(state.holder_party_id(), market_->grower().party_id);
  EXPECT_EQ(Digest(state.head_leaf_hash()), Digest(receipt.leaf_hash()));
  EXPECT_GE(state.as_of_tree_size(), receipt.seq() + 1);
}

TEST_F(ReaderModeTest, TheTimerCatchesUpWithoutBeingAsked) {
  auto [batch, receipt] = AppendHarvest();
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    auto size = replica_->Size();
    seen = size.ok() && *size > receipt.seq();
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(seen);
}

TEST_F(ReaderModeTest, AProofForATreeTheReaderHasNotSeenYetCatchesUpFirst) {
  auto [batch, receipt] = AppendHarvest();
  v1::GetInclusionProofRequest request;
  request.set_seq(receipt.seq());
  request.set_tree_size(receipt.tree_size());
  v1::GetInclusionProofResponse response;
  auto context = Context();
  grpc::Status status = reader_ledger_->GetInclusionProof(context.get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(crypto::VerifyInclusion(source_->hasher(), receipt.seq(), receipt.tree_size(),
                                      Digest(receipt.leaf_hash()),
                                      Digests(response.proof().hashes()),
                                      Digest(receipt.root_hash())),
              IsOk());
}

TEST_F(ReaderModeTest, TheReaderRefusesCosignaturesAndAuditsTheWritersLog) {
  v1::AddCosignatureRequest request;
  request.set_checkpoint_note(source_->LatestCheckpoint()->note);
  request.set_cosignature("— w AAAA");
  v1::Checkpoint out;
  auto c1 = Context();
  EXPECT_THAT(S(reader_ledger_->AddCosignature(c1.get(), request, &out)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("reader replica")));
  v1::AuditReport report;
  auto c2 = Context(120);
  grpc::Status status = reader_ledger_->Audit(c2.get(), v1::AuditRequest(), &report);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(report.ok()) << report.first_failure().reason();
  EXPECT_EQ(report.entries_checked(), LogSize());
}

// A RocksDB secondary serves no snapshots: the reader audits signatures on the writer's
// database opened read-only, as it does the storage audit.
TEST_F(ReaderModeTest, TheReaderAuditsTheSignaturesOfTheWritersLog) {
  v1::AuditRequest request;
  request.set_verify_signatures(true);
  v1::AuditReport report;
  auto context = Context(120);
  grpc::Status status = reader_ledger_->Audit(context.get(), request, &report);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(report.ok()) << report.first_failure().reason();
  EXPECT_TRUE(report.signatures_checked());
  EXPECT_EQ(report.signatures_verified(), LogSize());
  EXPECT_EQ(report.keys_registered(), 5u);
}

}  // namespace
}  // namespace herbtrace::testing
