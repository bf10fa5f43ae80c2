// herbtrace.v1.Trace over real gRPC: batch state, history with proofs, upstream lineage with
// everything needed to verify it offline, downstream closure, and the bounds.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "crypto/checkpoint.h"
#include "crypto/signature.h"
#include "crypto/signed_note.h"
#include "services/domain/identifiers.h"
#include "tests/services/server/service_fixture.h"

namespace herbtrace::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;
using ::testing::SizeIs;

class TraceServiceTest : public MarketServiceTest {
 protected:
  grpc::Status GetBatch(const std::string& code, v1::BatchState* state) {
    v1::GetBatchRequest request;
    request.set_code(code);
    auto context = Context();
    return trace_->GetBatch(context.get(), request, state);
  }

  grpc::Status GetHistory(const std::string& code, uint64_t tree_size,
                          v1::GetHistoryResponse* response) {
    v1::GetHistoryRequest request;
    request.set_code(code);
    request.set_tree_size(tree_size);
    auto context = Context();
    return trace_->GetHistory(context.get(), request, response);
  }

  grpc::Status GetUpstream(const std::string& code, bool proofs,
                           v1::GetUpstreamResponse* response) {
    v1::GetUpstreamRequest request;
    request.set_code(code);
    request.set_include_proofs(proofs);
    auto context = Context();
    return trace_->GetUpstream(context.get(), request, response);
  }

  grpc::Status GetDownstream(const std::string& code, bool include_empty,
                             v1::GetDownstreamResponse* response) {
    v1::GetDownstreamRequest request;
    request.set_code(code);
    request.set_include_empty(include_empty);
    auto context = Context();
    return trace_->GetDownstream(context.get(), request, response);
  }

  // A 28-digit bag code of a batch: batch code without its check digit, bag 001, check digit.
  static std::string BagCode(const std::string& batch) {
    const std::string body = absl::StrCat(batch.substr(0, 24), "001");
    return absl::StrCat(body, std::string(1, domain::TraceCheckDigit(body)));
  }
};

TEST_F(TraceServiceTest, GetBatchFillsHeadAndTreeSizeFromTheLog) {
  v1::BatchState state;
  ASSERT_TRUE(GetBatch(chain_.lot1, &state).ok());
  EXPECT_EQ(state.batch_id(), chain_.lot1);
  EXPECT_EQ(state.holder_party_id(), market_->trader().party_id);
  EXPECT_EQ(state.remaining_grams(), 10'000u);
  EXPECT_EQ(state.status(), v1::BATCH_STATUS_RECALLED);
  EXPECT_EQ(Digest(state.head_leaf_hash()), *source_->view().LeafHash(chain_.ack_seq));
  EXPECT_EQ(state.as_of_tree_size(), LogSize());
  EXPECT_THAT(state.recall_ids(), Contains(chain_.recall_id));
}

TEST_F(TraceServiceTest, APackageCodeAnswersForItsBatch) {
  v1::BatchState state;
  ASSERT_TRUE(GetBatch(BagCode(chain_.lot2), &state).ok());
  EXPECT_EQ(state.batch_id(), chain_.lot2);
  EXPECT_EQ(state.status(), v1::BATCH_STATUS_RECALLED);
}

TEST_F(TraceServiceTest, GetBatchRefusals) {
  v1::BatchState state;
  // A well-formed code nobody used.
  const std::string body = absl::StrCat("1", market_->grower().party_id, "240915", "999");
  const std::string unknown = absl::StrCat(body, std::string(1, domain::TraceCheckDigit(body)));
  EXPECT_THAT(S(GetBatch(unknown, &state)),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr(absl::StrCat("batch_id: ", unknown, " is not in the log"))));
  std::string wrong_check = chain_.lot1;
  wrong_check.back() = wrong_check.back() == '0' ? '1' : '0';
  EXPECT_THAT(S(GetBatch(wrong_check, &state)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("code: ")));
  EXPECT_THAT(S(GetBatch("12345", &state)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(TraceServiceTest, GetHistoryProvesEveryEntryAndTheChainLinksThem) {
  v1::GetHistoryResponse response;
  ASSERT_TRUE(GetHistory(chain_.lot1, 0, &response).ok());
  ASSERT_TRUE(response.has_checkpoint());
  EXPECT_EQ(response.checkpoint().size(), LogSize());
  EXPECT_EQ(response.state().batch_id(), chain_.lot1);
  std::vector<uint64_t> seqs;
  std::string previous_leaf;  // the lot's chain starts at the split that created it
  for (const v1::HistoryEntry& h : response.entries()) {
    seqs.push_back(h.entry().entry().seq());
    EXPECT_THAT(VerifyProven(h.entry(), Digest(response.checkpoint().root_hash())), IsOk());
    EXPECT_THAT(h.openings(), SizeIs(0));  // never without authentication
    v1::LedgerEntry entry;
    ASSERT_TRUE(entry.ParseFromString(h.entry().entry().entry()));
    bool linked = false;
    for (const v1::BatchLink& link : entry.batch_prev()) {
      if (link.batch_id() != chain_.lot1) continue;
      EXPECT_EQ(link.prev_leaf_hash(), previous_leaf);
      linked = true;
    }
    EXPECT_TRUE(linked);
    previous_leaf = h.entry().entry().leaf_hash();
  }
  EXPECT_THAT(seqs, ElementsAre(chain_.split_seq, chain_.trade_seq, chain_.receive_seq,
                                chain_.ack_seq));
  EXPECT_EQ(previous_leaf, response.state().head_leaf_hash());
}

TEST_F(TraceServiceTest, GetHistoryAgainstAnOlderTreeSizeStopsThere) {
  v1::GetHistoryResponse response;
  ASSERT_TRUE(GetHistory(chain_.lot1, chain_.trade_seq + 1, &response).ok());
  EXPECT_FALSE(response.has_checkpoint());
  ASSERT_THAT(response.entries(), SizeIs(2));
  for (const v1::HistoryEntry& h : response.entries()) {
    EXPECT_EQ(h.entry().inclusion_proof().tree_size(), chain_.trade_seq + 1);
    EXPECT_THAT(VerifyProven(h.entry(), RootAt(chain_.trade_seq + 1)), IsOk());
  }
  EXPECT_THAT(S(GetHistory(chain_.lot1, LogSize() + 1, &response)),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("tree_size")));
}

TEST_F(TraceServiceTest, GetHistoryOfAnEntryNewerThanTheCheckpointSignsANewOne) {
  // A second harvest, appended after the last checkpoint.
  const std::string batch = market_->NewBatchCode(market_->grower(), 1);
  auto receipt = market_->Submit(market_->grower(), market_->HarvestEvent(batch, 5'000));
  ASSERT_THAT(receipt, IsOk());
  v1::GetHistoryResponse response;
  ASSERT_TRUE(GetHistory(batch, 0, &response).ok());
  ASSERT_THAT(response.entries(), SizeIs(1));
  EXPECT_GT(response.checkpoint().size(), receipt->seq());
  EXPECT_THAT(VerifyProven(response.entries(0).entry(), Digest(response.checkpoint().root_hash())),
              IsOk());
}

TEST_F(TraceServiceTest, ACosignatureStoredAfterAHistoryAppearsInTheNextOne) {
  v1::GetHistoryResponse first;
  ASSERT_TRUE(GetHistory(chain_.lot1, 0, &first).ok());
  ASSERT_TRUE(first.has_checkpoint());
  EXPECT_THAT(first.checkpoint().note(), Not(HasSubstr("anguo-amr-witness")));

  // A regulator's witness cosigns the very checkpoint the history was proven against.
  auto pem = market_->regulator().key->ToPem();
  auto witness = crypto::Cosigner::Create("anguo-amr-witness", *crypto::PrivateKey::FromPem(*pem));
  ASSERT_THAT(witness, IsOk());
  auto body = crypto::ParseCheckpoint(crypto::ParseNote(first.checkpoint().note())->text);
  ASSERT_THAT(body, IsOk());
  auto signature =
      (*witness)->Cosign(*body, static_cast<uint64_t>(absl::ToUnixSeconds(market_->clock().Now())));
  ASSERT_THAT(signature, IsOk());
  const std::string cosigned =
      crypto::FormatNote(crypto::Note{crypto::FormatCheckpoint(*body), {*signature}});
  v1::AddCosignatureRequest request;
  request.set_checkpoint_note(first.checkpoint().note());
  request.set_cosignature(cosigned.substr(cosigned.find("\n\n") + 2));
  v1::Checkpoint out;
  auto context = Context();
  grpc::Status added = ledger_->AddCosignature(context.get(), request, &out);
  ASSERT_TRUE(added.ok()) << added.error_message();

  v1::GetHistoryResponse next;
  ASSERT_TRUE(GetHistory(chain_.lot1, 0, &next).ok());
  EXPECT_EQ(next.checkpoint().size(), first.checkpoint().size());
  EXPECT_THAT(next.checkpoint().note(), HasSubstr("— anguo-amr-witness "));
  // The log's own line stays first: the note the history had, then the witness's line.
  EXPECT_EQ(next.checkpoint().note().substr(0, first.checkpoint().note().size()),
            first.checkpoint().note());
  auto verifier = crypto::CosignatureVerifier::Create((*witness)->VerifierKey());
  ASSERT_THAT(verifier, IsOk());
  auto parsed = crypto::ParseNote(next.checkpoint().note());
  ASSERT_THAT(parsed, IsOk());
  bool verified = false;
  for (const crypto::NoteSignature& line : parsed->signatures) {
    verified = verified || (*verifier)->Verify(*body, line).ok();
  }
  EXPECT_TRUE(verified);
}

TEST_F(TraceServiceTest, AnswersProveAgainstEachNewlySignedCheckpoint) {
  v1::GetHistoryResponse before;
  ASSERT_TRUE(GetHistory(chain_.lot1, 0, &before).ok());
  const std::string first_note = before.checkpoint().note();
  EXPECT_EQ(source_->LatestCheckpoint()->note, first_note);

  // The log grows and signs a new checkpoint: the server's parsed checkpoint must follow it.
  const std::string batch = market_->NewBatchCode(market_->grower(), 1);
  ASSERT_THAT(market_->Submit(market_->grower(), market_->HarvestEvent(batch, 5'000)), IsOk());
  auto note = market_->Checkpoint();
  ASSERT_THAT(note, IsOk());
  ASSERT_NE(*note, first_note);
  auto latest = source_->LatestCheckpoint();
  ASSERT_THAT(latest, IsOk());
  EXPECT_EQ(latest->note, *note);
  EXPECT_EQ(latest->checkpoint.size, LogSize());

  for (const std::string& code : {chain_.lot1, batch}) {
    v1::GetHistoryResponse after;
    ASSERT_TRUE(GetHistory(code, 0, &after).ok());
    EXPECT_EQ(after.checkpoint().note(), *note);
    EXPECT_EQ(after.checkpoint().size(), LogSize());
    ASSERT_FALSE(after.entries().empty());
    for (const v1::HistoryEntry& h : after.entries()) {
      EXPECT_EQ(h.entry().inclusion_proof().tree_size(), LogSize());
      EXPECT_THAT(VerifyProven(h.entry(), RootAt(LogSize())), IsOk());
    }
  }
  v1::GetUpstreamResponse upstream;
  ASSERT_TRUE(GetUpstream(chain_.lot1, true, &upstream).ok());
  EXPECT_EQ(upstream.checkpoint().note(), *note);
  for (const v1::ProvenEntry& e : upstream.entries()) {
    EXPECT_THAT(VerifyProven(e, RootAt(LogSize())), IsOk());
  }
}

TEST_F(TraceServiceTest, GetUpstreamReachesTheHarvestWithEverythingToVerifyIt) {
  v1::GetUpstreamResponse response;
  ASSERT_TRUE(GetUpstream(chain_.lot1, true, &response).ok());
  EXPECT_EQ(response.batch_id(), chain_.lot1);
  std::vector<std::string> batches;
  for (const v1::BatchState& b : response.batches()) batches.push_back(b.batch_id());
  EXPECT_THAT(batches, ElementsAre(chain_.lot1, chain_.dried, chain_.harvest));

  ASSERT_THAT(response.edges(), SizeIs(2));
  for (const v1::LineageEdge& edge : response.edges()) {
    if (edge.child_batch_id() == chain_.lot1) {
      EXPECT_EQ(edge.parent_batch_id(), chain_.dried);
      EXPECT_EQ(edge.kind(), v1::LINEAGE_STEP_KIND_SPLIT);
      EXPECT_EQ(edge.seq(), chain_.split_seq);
      EXPECT_EQ(edge.grams_consumed(), 10'000u);
    } else {
      EXPECT_EQ(edge.child_batch_id(), chain_.dried);
      EXPECT_EQ(edge.parent_batch_id(), chain_.harvest);
      EXPECT_EQ(edge.kind(), v1::LINEAGE_STEP_KIND_PROCESS);
      EXPECT_EQ(edge.process_kind(), v1::PROCESS_KIND_DRYING);
      EXPECT_EQ(edge.grams_consumed(), 100'000u);
    }
  }
  ASSERT_THAT(response.harvests(), SizeIs(1));
  EXPECT_EQ(response.harvests(0).batch_id(), chain_.harvest);
  EXPECT_EQ(response.harvests(0).base_id(), market_->base_id());
  EXPECT_EQ(response.harvests(0).grower_party_id(), market_->grower().party_id);
  EXPECT_EQ(response.harvests(0).grams(), 100'000u);
  ASSERT_THAT(response.bases(), SizeIs(1));
  ASSERT_THAT(response.tests(), SizeIs(1));
  EXPECT_EQ(response.tests(0).verdict(), v1::VERDICT_FAIL);
  EXPECT_EQ(response.tests(0).batch_id(), chain_.dried);

  std::set<std::string> parties;
  for (const v1::Party& p : response.parties()) {
    parties.insert(p.party_id());
    EXPECT_THAT(p.keys(), SizeIs(0));
  }
  EXPECT_THAT(parties, IsSupersetOf({market_->grower().party_id, market_->trader().party_id,
                                     market_->lab().party_id}));
  std::vector<v1::CustodyStepKind> custody;
  for (const v1::CustodyStep& step : response.custody()) custody.push_back(step.kind());
  EXPECT_THAT(custody, IsSupersetOf({v1::CUSTODY_STEP_KIND_TRADE, v1::CUSTODY_STEP_KIND_RECEIVE,
                                     v1::CUSTODY_STEP_KIND_RECALL_ACK}));
  for (const v1::CustodyStep& step : response.custody()) {
    if (step.kind() == v1::CUSTODY_STEP_KIND_RECEIVE) {
      EXPECT_EQ(step.from_party_id(), market_->grower().party_id);
      EXPECT_EQ(step.to_party_id(), market_->trader().party_id);
    }
  }

  // Every entry behind it, in seq order, each proven against the checkpoint.
  ASSERT_TRUE(response.has_checkpoint());
  const crypto::Digest root = Digest(response.checkpoint().root_hash());
  std::vector<uint64_t> seqs;
  for (const v1::ProvenEntry& e : response.entries()) {
    seqs.push_back(e.entry().seq());
    EXPECT_THAT(VerifyProven(e, root), IsOk());
  }
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  EXPECT_THAT(seqs, IsSupersetOf({uint64_t{0}, uint64_t{1}, chain_.harvest_seq,
                                  chain_.process_seq, chain_.split_seq, chain_.trade_seq,
                                  chain_.receive_seq, chain_.test_seq, chain_.ack_seq}));
  // The registrations: the base, the limits table the test was judged by.
  EXPECT_THAT(seqs, Contains(response.bases(0).registered_seq()));
  EXPECT_GE(response.as_of_tree_size(), LogSize());
}

TEST_F(TraceServiceTest, GetUpstreamWithoutProofsReturnsNoEntries) {
  v1::GetUpstreamResponse response;
  ASSERT_TRUE(GetUpstream(chain_.lot2, false, &response).ok());
  EXPECT_THAT(response.entries(), SizeIs(0));
  EXPECT_THAT(response.batches(), SizeIs(3));
}

class BoundedTraceServiceTest : public TraceServiceTest {
 protected:
  TestServerOptions Options() override {
    TestServerOptions options;
    options.trace.max_lineage_lots = 2;
    options.trace.max_entries = 3;
    return options;
  }
};

TEST_F(BoundedTraceServiceTest, LineageBeyondTheServerMaximumIsResourceExhausted) {
  v1::GetUpstreamResponse up;
  EXPECT_THAT(S(GetUpstream(chain_.lot1, false, &up)),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr(absl::StrCat("upstream of ", chain_.lot1,
                                              " has more than 2 lots"))));
  v1::GetDownstreamResponse down;
  EXPECT_THAT(S(GetDownstream(chain_.harvest, false, &down)),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("downstream of")));
}

TEST_F(BoundedTraceServiceTest, AHistoryLongerThanTheServerMaximumIsResourceExhausted) {
  v1::GetHistoryResponse response;
  EXPECT_THAT(S(GetHistory(chain_.lot1, 0, &response)),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr(absl::StrCat("the history of ", chain_.lot1,
                                              " rests on 4 log entries"))));
  // A shorter one is served.
  EXPECT_TRUE(GetHistory(chain_.lot2, 0, &response).ok());
}

// Histories longer than one entry go to the executor: the same answers as on the gRPC thread.
class ExecutorHistoryTraceServiceTest : public TraceServiceTest {
 protected:
  TestServerOptions Options() override {
    TestServerOptions options;
    options.trace.max_entries_answered_here = 1;
    return options;
  }
};

TEST_F(ExecutorHistoryTraceServiceTest, ALongHistoryIsAnsweredAsAShortOneIs) {
  v1::GetHistoryResponse response;
  ASSERT_TRUE(GetHistory(chain_.lot1, 0, &response).ok());
  ASSERT_THAT(response.entries(), SizeIs(4));
  for (const v1::HistoryEntry& h : response.entries()) {
    EXPECT_THAT(VerifyProven(h.entry(), Digest(response.checkpoint().root_hash())), IsOk());
  }
  EXPECT_EQ(response.state().batch_id(), chain_.lot1);
  EXPECT_EQ(response.state().as_of_tree_size(), LogSize());
  EXPECT_EQ(response.entries(3).entry().entry().leaf_hash(), response.state().head_leaf_hash());
  EXPECT_EQ(response.checkpoint().note(), source_->LatestCheckpoint()->note);

  v1::GetHistoryResponse older;
  ASSERT_TRUE(GetHistory(chain_.lot1, chain_.trade_seq + 1, &older).ok());
  EXPECT_THAT(older.entries(), SizeIs(2));
  EXPECT_THAT(S(GetHistory(chain_.lot1, LogSize() + 1, &older)),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("tree_size")));
}

TEST_F(TraceServiceTest, GetDownstreamListsEveryLotWithItsHolderAndGrams) {
  v1::GetDownstreamResponse response;
  ASSERT_TRUE(GetDownstream(chain_.harvest, false, &response).ok());
  std::vector<std::pair<std::string, uint32_t>> lots;
  for (const v1::DownstreamLot& lot : response.lots()) {
    lots.emplace_back(lot.state().batch_id(), lot.depth());
  }
  std::vector<std::string> split = {chain_.lot1, chain_.lot2};
  std::sort(split.begin(), split.end());
  EXPECT_THAT(lots, ElementsAre(std::make_pair(chain_.harvest, 0u),
                                std::make_pair(chain_.dried, 1u), std::make_pair(split[0], 2u),
                                std::make_pair(split[1], 2u)));
  EXPECT_EQ(response.total_remaining_grams(), 10'000u + 10'000u + 20'000u);
  ASSERT_THAT(response.edges(), SizeIs(3));
  std::set<std::string> holders;
  for (const v1::Party& p : response.parties()) holders.insert(p.party_id());
  EXPECT_EQ(holders, (std::set<std::string>{market_->grower().party_id,
                                           market_->trader().party_id}));
  EXPECT_EQ(response.as_of_tree_size(), LogSize());
}

TEST_F(TraceServiceTest, GetDownstreamRefusals) {
  v1::GetDownstreamResponse response;
  const std::string body = absl::StrCat("1", market_->grower().party_id, "240915", "998");
  const std::string unknown = absl::StrCat(body, std::string(1, domain::TraceCheckDigit(body)));
  EXPECT_THAT(S(GetDownstream(unknown, false, &response)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(unknown)));
  EXPECT_THAT(S(GetDownstream("", false, &response)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("code: required")));
}

TEST_F(TraceServiceTest, FailedReadsChangeNothing) {
  const uint64_t size = LogSize();
  auto checkpoint = source_->LatestCheckpoint();
  v1::BatchState state;
  v1::GetHistoryResponse history;
  EXPECT_FALSE(GetBatch("1", &state).ok());
  EXPECT_FALSE(GetHistory(chain_.lot1, size + 100, &history).ok());
  EXPECT_EQ(LogSize(), size);
  EXPECT_EQ(source_->LatestCheckpoint()->note, checkpoint->note);
}

}  // namespace
}  // namespace herbtrace::testing
