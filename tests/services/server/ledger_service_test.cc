// herbtrace.v1.Ledger over real gRPC: checkpoints, proofs, entries as stored, witness
// cosignatures, the audit, and the exact status of every refusal.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crypto/checkpoint.h"
#include "crypto/merkle.h"
#include "crypto/signed_note.h"
#include "services/domain/verified_event.h"
#include "services/server/checkpoints.h"
#include "storage/log_config.h"
#include "tests/services/server/service_fixture.h"

namespace herbtrace::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

class LedgerServiceTest : public MarketServiceTest {
 protected:
  v1::Checkpoint GetCheckpoint() {
    v1::Checkpoint checkpoint;
    auto context = Context();
    EXPECT_TRUE(ledger_->GetCheckpoint(context.get(), v1::GetCheckpointRequest(), &checkpoint).ok());
    return checkpoint;
  }

  std::unique_ptr<crypto::NoteVerifier> LogVerifier() {
    return *crypto::NoteVerifier::Create(source_->config().verifier_key);
  }

  std::vector<v1::RawEntry> Entries(uint64_t start, uint64_t end, size_t* messages = nullptr,
                                    grpc::Status* status = nullptr) {
    v1::GetEntriesRequest request;
    request.set_start(start);
    request.set_end(end);
    auto context = Context();
    auto reader = ledger_->GetEntries(context.get(), request);
    std::vector<v1::RawEntry> out;
    v1::GetEntriesResponse response;
    size_t count = 0;
    while (reader->Read(&response)) {
      ++count;
      for (const v1::RawEntry& e : response.entries()) out.push_back(e);
    }
    grpc::Status s = reader->Finish();
    if (status != nullptr) *status = s;
    if (messages != nullptr) *messages = count;
    return out;
  }

  // A witness whose key is the registered regulator's device key.
  std::unique_ptr<crypto::Cosigner> RegulatorWitness(const std::string& name = "anguo-amr-witness") {
    auto pem = market_->regulator().key->ToPem();
    return *crypto::Cosigner::Create(name, *crypto::PrivateKey::FromPem(*pem));
  }

  // The cosignature line of `witness` over `checkpoint` at the market clock's time.
  std::string CosignatureLine(const crypto::Cosigner& witness, const crypto::Checkpoint& checkpoint,
                              uint64_t timestamp = 0) {
    if (timestamp == 0) timestamp = absl::ToUnixSeconds(market_->clock().Now());
    auto signature = witness.Cosign(checkpoint, timestamp);
    EXPECT_THAT(signature, IsOk());
    const std::string note = crypto::FormatNote(
        crypto::Note{crypto::FormatCheckpoint(checkpoint), {*signature}});
    return note.substr(note.find("\n\n") + 2);
  }

  grpc::Status AddCosignature(const std::string& note, const std::string& line,
                              v1::Checkpoint* out) {
    v1::AddCosignatureRequest request;
    request.set_checkpoint_note(note);
    request.set_cosignature(line);
    auto context = Context();
    return ledger_->AddCosignature(context.get(), request, out);
  }

  std::vector<server::StoredCosignature> Stored() {
    return *server::ReadCosignatures(market_->ledger().db());
  }
};

TEST_F(LedgerServiceTest, GetCheckpointReturnsTheSignedNoteAndItsParsedBody) {
  v1::Checkpoint checkpoint = GetCheckpoint();
  auto opened = crypto::OpenCheckpoint(checkpoint.note(), *LogVerifier());
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(checkpoint.size(), LogSize());
  EXPECT_EQ(opened->size, checkpoint.size());
  EXPECT_EQ(checkpoint.origin(), kMarketOrigin);
  EXPECT_EQ(Digest(checkpoint.root_hash()), RootAt(LogSize()));
  EXPECT_EQ(opened->root_hash, RootAt(LogSize()));
}

TEST_F(LedgerServiceTest, InclusionProofBySeqAgainstTheLatestCheckpoint) {
  v1::GetInclusionProofRequest request;
  request.set_seq(chain_.split_seq);
  v1::GetInclusionProofResponse response;
  auto context = Context();
  ASSERT_TRUE(ledger_->GetInclusionProof(context.get(), request, &response).ok());
  ASSERT_TRUE(response.has_checkpoint());
  EXPECT_EQ(response.proof().tree_size(), response.checkpoint().size());
  EXPECT_EQ(response.proof().leaf_index(), chain_.split_seq);
  EXPECT_THAT(crypto::VerifyInclusion(source_->hasher(), chain_.split_seq,
                                      response.proof().tree_size(),
                                      Digest(response.leaf_hash()),
                                      Digests(response.proof().hashes()),
                                      Digest(response.checkpoint().root_hash())),
              IsOk());
}

TEST_F(LedgerServiceTest, InclusionProofByLeafHashForAnOlderTreeSize) {
  const crypto::Digest leaf = *source_->view().LeafHash(chain_.harvest_seq);
  v1::GetInclusionProofRequest request;
  request.set_leaf_hash(std::string(crypto::AsBytes(leaf)));
  request.set_tree_size(chain_.split_seq + 1);
  v1::GetInclusionProofResponse response;
  auto context = Context();
  ASSERT_TRUE(ledger_->GetInclusionProof(context.get(), request, &response).ok());
  EXPECT_FALSE(response.has_checkpoint());
  EXPECT_EQ(response.proof().leaf_index(), chain_.harvest_seq);
  EXPECT_THAT(crypto::VerifyInclusion(source_->hasher(), chain_.harvest_seq,
                                      chain_.split_seq + 1, leaf,
                                      Digests(response.proof().hashes()),
                                      RootAt(chain_.split_seq + 1)),
              IsOk());
}

TEST_F(LedgerServiceTest, InclusionProofRefusals) {
  auto call = [&](const v1::GetInclusionProofRequest& request) {
    v1::GetInclusionProofResponse response;
    auto context = Context();
    return S(ledger_->GetInclusionProof(context.get(), request, &response));
  };
  v1::GetInclusionProofRequest beyond;
  beyond.set_seq(0);
  beyond.set_tree_size(LogSize() + 1);
  EXPECT_THAT(call(beyond), StatusIs(absl::StatusCode::kOutOfRange,
                                     HasSubstr(absl::StrCat("tree_size: ", LogSize() + 1,
                                                            " is beyond the log's size"))));
  v1::GetInclusionProofRequest not_in_tree;
  not_in_tree.set_seq(chain_.ack_seq);
  not_in_tree.set_tree_size(chain_.ack_seq);
  EXPECT_THAT(call(not_in_tree), StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("seq: entry")));
  v1::GetInclusionProofRequest unknown;
  unknown.set_leaf_hash(std::string(32, '\x11'));
  EXPECT_THAT(call(unknown), StatusIs(absl::StatusCode::kNotFound,
                                      HasSubstr("leaf_hash: 1111111111111111")));
  v1::GetInclusionProofRequest short_hash;
  short_hash.set_leaf_hash("abc");
  EXPECT_THAT(call(short_hash), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("leaf_hash")));
  EXPECT_THAT(call(v1::GetInclusionProofRequest()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("leaf: set seq or leaf_hash")));
}

TEST_F(LedgerServiceTest, ConsistencyProofToTheLatestCheckpointVerifies) {
  v1::GetConsistencyProofRequest request;
  request.set_size1(3);
  v1::ConsistencyProof proof;
  auto context = Context();
  ASSERT_TRUE(ledger_->GetConsistencyProof(context.get(), request, &proof).ok());
  EXPECT_EQ(proof.size2(), GetCheckpoint().size());
  EXPECT_THAT(crypto::VerifyConsistency(source_->hasher(), 3, proof.size2(), Digests(proof.hashes()),
                                        RootAt(3), RootAt(proof.size2())),
              IsOk());
}

TEST_F(LedgerServiceTest, ConsistencyProofRefusals) {
  auto call = [&](uint64_t size1, uint64_t size2) {
    v1::GetConsistencyProofRequest request;
    request.set_size1(size1);
    request.set_size2(size2);
    v1::ConsistencyProof proof;
    auto context = Context();
    return S(ledger_->GetConsistencyProof(context.get(), request, &proof));
  };
  EXPECT_THAT(call(0, 5), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("size1")));
  EXPECT_THAT(call(6, 5), StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr("size1: 6 is larger than size2 5")));
  EXPECT_THAT(call(1, LogSize() + 5), StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("size2")));
  EXPECT_THAT(call(LogSize() + 5, 0), StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("size1")));
}

TEST_F(LedgerServiceTest, GetEntriesStreamsTheStoredBytesExactlyInChunks) {
  size_t messages = 0;
  grpc::Status status;
  std::vector<v1::RawEntry> entries = Entries(0, 0, &messages, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(entries.size(), LogSize());
  for (uint64_t seq = 0; seq < entries.size(); ++seq) {
    EXPECT_EQ(entries[seq].seq(), seq);
    EXPECT_EQ(entries[seq].entry(), *source_->view().EntryBytes(seq));
    EXPECT_EQ(Digest(entries[seq].leaf_hash()),
              crypto::HashLeaf(source_->hasher(), entries[seq].entry()));
  }
  EXPECT_EQ(messages, 1u);  // under 256 entries: one message
  std::vector<v1::RawEntry> middle = Entries(2, 5);
  ASSERT_THAT(middle, SizeIs(3));
  EXPECT_EQ(middle[0].seq(), 2u);
}

class SmallChunksLedgerServiceTest : public LedgerServiceTest {
 protected:
  TestServerOptions Options() override {
    TestServerOptions options;
    options.ledger.max_entries_per_message = 4;
    return options;
  }
};

TEST_F(SmallChunksLedgerServiceTest, GetEntriesSplitsIntoMessagesOfTheConfiguredSize) {
  size_t messages = 0;
  std::vector<v1::RawEntry> entries = Entries(0, 10, &messages);
  EXPECT_EQ(entries.size(), 10u);
  EXPECT_EQ(messages, 3u);
}

TEST_F(LedgerServiceTest, GetEntriesRefusals) {
  grpc::Status status;
  Entries(0, LogSize() + 1, nullptr, &status);
  EXPECT_THAT(S(status), StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("end: ")));
  Entries(5, 3, nullptr, &status);
  EXPECT_THAT(S(status), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("start: 5 is beyond end 3")));
  size_t messages = 7;
  EXPECT_THAT(Entries(4, 4, &messages, &status), SizeIs(0));
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(messages, 0u);
}

TEST_F(LedgerServiceTest, AddCosignatureStoresItAndReturnsTheCosignedCheckpoint) {
  const v1::Checkpoint latest = GetCheckpoint();
  const crypto::Checkpoint body = *crypto::ParseCheckpoint(crypto::ParseNote(latest.note())->text);
  auto witness = RegulatorWitness();
  v1::Checkpoint cosigned;
  grpc::Status status = AddCosignature(latest.note(), CosignatureLine(*witness, body), &cosigned);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(cosigned.size(), body.size);
  auto note = crypto::ParseNote(cosigned.note());
  ASSERT_THAT(note, IsOk());
  EXPECT_THAT(note->signatures, SizeIs(2));
  EXPECT_THAT(crypto::OpenCheckpoint(cosigned.note(), *LogVerifier()), IsOk());
  auto verifier = *crypto::CosignatureVerifier::Create(witness->VerifierKey());
  EXPECT_THAT(verifier->VerifyInNote(*note), IsOk());

  ASSERT_THAT(Stored(), SizeIs(1));
  EXPECT_EQ(Stored()[0].signature.name, "anguo-amr-witness");
  // The latest checkpoint now carries it.
  auto again = crypto::ParseNote(GetCheckpoint().note());
  EXPECT_THAT(verifier->VerifyInNote(*again), IsOk());
}

TEST_F(LedgerServiceTest, AnOlderCheckpointOfThisLogMayBeCosignedWithoutItsSignatureLines) {
  crypto::Checkpoint older{kMarketOrigin, 4, RootAt(4), {}};
  auto witness = RegulatorWitness();
  v1::Checkpoint cosigned;
  grpc::Status status =
      AddCosignature(crypto::FormatCheckpoint(older), CosignatureLine(*witness, older), &cosigned);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(cosigned.size(), 4u);
  // Re-signed by the log: Ed25519 is deterministic, so this is the line it signed at size 4.
  EXPECT_THAT(crypto::OpenCheckpoint(cosigned.note(), *LogVerifier()), IsOk());
  // Not the latest checkpoint, so GetCheckpoint does not show it.
  EXPECT_THAT(crypto::ParseNote(GetCheckpoint().note())->signatures, SizeIs(1));
}

TEST_F(LedgerServiceTest, TheNewestCosignatureOfAWitnessIsKept) {
  auto witness = RegulatorWitness();
  const crypto::Checkpoint small{kMarketOrigin, 4, RootAt(4), {}};
  const crypto::Checkpoint large{kMarketOrigin, 8, RootAt(8), {}};
  v1::Checkpoint out;
  ASSERT_TRUE(AddCosignature(crypto::FormatCheckpoint(large), CosignatureLine(*witness, large), &out).ok());
  ASSERT_TRUE(AddCosignature(crypto::FormatCheckpoint(small), CosignatureLine(*witness, small), &out).ok());
  ASSERT_THAT(Stored(), SizeIs(1));
  EXPECT_EQ(Stored()[0].checkpoint.size, 8u);
}

TEST_F(LedgerServiceTest, RefusedCosignaturesHaveExactCodesAndChangeNothing) {
  const v1::Checkpoint latest = GetCheckpoint();
  const crypto::Checkpoint body = *crypto::ParseCheckpoint(crypto::ParseNote(latest.note())->text);
  auto witness = RegulatorWitness();
  const std::string good_line = CosignatureLine(*witness, body);
  const uint64_t size_before = LogSize();
  v1::Checkpoint out;

  EXPECT_THAT(S(AddCosignature(latest.note(), "— anguo-amr-witness not-base64!", &out)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cosignature: ")));
  EXPECT_THAT(S(AddCosignature(latest.note(), "", &out)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cosignature: required")));
  EXPECT_THAT(S(AddCosignature(latest.note(), good_line + good_line, &out)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cosignature: ")));

  // A key no regulator registered.
  auto stranger = *crypto::Cosigner::Create(
      "anguo-amr-witness", *crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519));
  EXPECT_THAT(S(AddCosignature(latest.note(), CosignatureLine(*stranger, body), &out)),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("not an active Ed25519 key of a registered regulator")));
  // The grower's key is registered, but the grower is no regulator.
  auto grower = *crypto::Cosigner::Create(
      "grower-witness", *crypto::PrivateKey::FromPem(*market_->grower().key->ToPem()));
  EXPECT_THAT(S(AddCosignature(latest.note(), CosignatureLine(*grower, body), &out)),
              StatusIs(absl::StatusCode::kPermissionDenied));

  // The regulator's key, but over another checkpoint: a bad signature for this one.
  const crypto::Checkpoint other{kMarketOrigin, 4, RootAt(4), {}};
  EXPECT_THAT(S(AddCosignature(latest.note(), CosignatureLine(*witness, other), &out)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cosignature: ")));
  // A timestamp a day ahead of the server clock.
  const uint64_t tomorrow = absl::ToUnixSeconds(market_->clock().Now() + absl::Hours(24));
  EXPECT_THAT(S(AddCosignature(latest.note(), CosignatureLine(*witness, body, tomorrow), &out)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ahead of the server clock")));

  // Checkpoints this log did not sign.
  const crypto::Checkpoint foreign{"other.example/log", body.size, body.root_hash, {}};
  EXPECT_THAT(S(AddCosignature(crypto::FormatCheckpoint(foreign), CosignatureLine(*witness, foreign), &out)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("origin")));
  const crypto::Checkpoint forked{kMarketOrigin, body.size, RootAt(4), {}};
  EXPECT_THAT(S(AddCosignature(crypto::FormatCheckpoint(forked), CosignatureLine(*witness, forked), &out)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not this log's root")));
  const crypto::Checkpoint future{kMarketOrigin, size_before + 10, body.root_hash, {}};
  EXPECT_THAT(S(AddCosignature(crypto::FormatCheckpoint(future), CosignatureLine(*witness, future), &out)),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("beyond the log's size")));
  EXPECT_THAT(S(AddCosignature("not a checkpoint\n", good_line, &out)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("checkpoint_note: ")));

  EXPECT_THAT(Stored(), SizeIs(0));
  EXPECT_EQ(LogSize(), size_before);
  EXPECT_EQ(GetCheckpoint().note(), latest.note());
}

TEST_F(LedgerServiceTest, AuditChecksTheWholeLogAgainstTheCheckpoint) {
  v1::AuditReport report;
  auto context = Context(120);
  ASSERT_TRUE(ledger_->Audit(context.get(), v1::AuditRequest(), &report).ok());
  EXPECT_TRUE(report.ok()) << report.first_failure().reason();
  EXPECT_EQ(report.entries_checked(), LogSize());
  EXPECT_EQ(report.tree_size(), LogSize());
  EXPECT_EQ(Digest(report.root_hash()), RootAt(LogSize()));
  EXPECT_EQ(report.checkpoint().size(), LogSize());
}

TEST_F(LedgerServiceTest, AuditOfAPrefixReportsThatPrefixRoot) {
  v1::AuditRequest request;
  request.set_tree_size(5);
  v1::AuditReport report;
  auto context = Context(120);
  ASSERT_TRUE(ledger_->Audit(context.get(), request, &report).ok());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.tree_size(), 5u);
  EXPECT_EQ(Digest(report.root_hash()), RootAt(5));
  EXPECT_FALSE(report.has_checkpoint());
}

TEST_F(LedgerServiceTest, AuditRefusals) {
  v1::AuditReport report;
  v1::AuditRequest beyond;
  beyond.set_tree_size(LogSize() + 1);
  auto context2 = Context();
  EXPECT_THAT(S(ledger_->Audit(context2.get(), beyond, &report)),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("tree_size")));
  // A refused audit does not keep the next one from running.
  auto context3 = Context(120);
  EXPECT_TRUE(ledger_->Audit(context3.get(), v1::AuditRequest(), &report).ok());
}

TEST_F(LedgerServiceTest, AuditWithSignaturesChecksWhoSignedEveryEntry) {
  v1::AuditRequest request;
  request.set_verify_signatures(true);
  v1::AuditReport report;
  auto context = Context(120);
  ASSERT_TRUE(ledger_->Audit(context.get(), request, &report).ok());
  EXPECT_TRUE(report.ok()) << report.first_failure().reason();
  EXPECT_FALSE(report.has_first_failure());
  EXPECT_EQ(report.entries_checked(), LogSize());
  EXPECT_TRUE(report.signatures_checked());
  // The huangqi chain has no bundles: one event signature per entry.
  EXPECT_EQ(report.signatures_verified(), LogSize());
  EXPECT_EQ(report.bundled_entries(), 0u);
  // The operator, regulator, grower, trader and lab, one initial key each; none revoked.
  EXPECT_EQ(report.keys_registered(), 5u);
  EXPECT_EQ(report.keys_revoked(), 0u);
  EXPECT_EQ(report.checkpoint().size(), LogSize());

  // Not asked: the storage audit alone, the signature counts left unset.
  v1::AuditReport plain;
  auto context2 = Context(120);
  ASSERT_TRUE(ledger_->Audit(context2.get(), v1::AuditRequest(), &plain).ok());
  EXPECT_TRUE(plain.ok());
  EXPECT_FALSE(plain.signatures_checked());
  EXPECT_EQ(plain.signatures_verified(), 0u);
}

// An entry written past Capture's signature check — by whoever can append to the database
// directly — is stored and hashed like any other: the storage audit passes it, the signature
// audit names it.
TEST_F(LedgerServiceTest, AuditWithSignaturesNamesAnEntryWithAForgedSignature) {
  const Actor& trader = market_->trader();
  auto new_key = crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519);
  ASSERT_THAT(new_key, IsOk());
  v1::Event event;
  event.mutable_register_key()->set_party_id(trader.party_id);
  *event.mutable_register_key()->mutable_key() =
      NewKeyFor(**new_key, trader.party_id, "second handheld");
  storage::AppendRequest forged;
  forged.event_id = market_->NewEventId();
  forged.signed_event = SignEvent(trader, event, market_->clock().Now(), forged.event_id);
  (*forged.signed_event.mutable_signature())[7] ^= 0x20;
  auto verified = std::make_shared<domain::VerifiedEvent>();
  verified->key_id = trader.key_id();
  verified->event = event;
  forged.context = std::move(verified);
  auto receipt = market_->ledger().Append(std::move(forged));
  ASSERT_THAT(receipt, IsOk());
  const uint64_t forged_seq = receipt->seq();
  ASSERT_THAT(market_->Checkpoint(), IsOk());

  v1::AuditReport plain;
  auto context = Context(120);
  ASSERT_TRUE(ledger_->Audit(context.get(), v1::AuditRequest(), &plain).ok());
  EXPECT_TRUE(plain.ok()) << plain.first_failure().reason();

  v1::AuditRequest request;
  request.set_verify_signatures(true);
  v1::AuditReport report;
  auto context2 = Context(120);
  ASSERT_TRUE(ledger_->Audit(context2.get(), request, &report).ok());
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(report.signatures_checked());
  EXPECT_EQ(report.first_failure().seq(), forged_seq);
  EXPECT_THAT(report.first_failure().reason(),
              HasSubstr("signature does not verify with key " + trader.key_id()));
  // The storage checks passed: the root is still reported, and the audit changed nothing.
  EXPECT_EQ(Digest(report.root_hash()), RootAt(LogSize()));
  EXPECT_EQ(LogSize(), forged_seq + 1);
}

}  // namespace
}  // namespace herbtrace::testing
