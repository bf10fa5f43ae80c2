// The Capture service over a real gRPC channel: Submit, SubmitStream and SubmitBundle against a
// ledger running the domain rules. Every rejection is checked for its exact status code, the
// field it names, and that the ledger did not change.
#include "services/server/capture_service.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "crypto/merkle.h"
#include "crypto/signature.h"
#include "services/domain/domain_rules.h"
#include "services/domain/signature_audit.h"
#include "services/server/server_host.h"
#include "tests/services/domain/domain_harness.h"
#include "tests/test_util.h"

namespace herbtrace::server {
namespace {

using ::herbtrace::testing::Actor;
using ::herbtrace::testing::DomainHarness;
using ::herbtrace::testing::MakeUscc;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class CaptureServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    op_ = Actor{"13068300000001", h_.operator_key()};
    CaptureOptions options;
    options.bootstrap_key_id = op_.key_id();
    options.max_bundle_events = 16;
    options.max_stream_in_flight = 8;
    Tune(options);
    service_ = NewCaptureService(Served(), options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Capture::NewStub(channel_);
  }

  void TearDown() override { server_->Shutdown(); }

  // The ledger the service appends to, and its options: the harness's, unless a test needs
  // others.
  virtual storage::Ledger& Served() { return h_.ledger(); }
  virtual void Tune(CaptureOptions& options) {}

  v1::Event RegisterPartyEvent(const Actor& registrar, const Actor& party,
                               v1::PartyRole role) {
    v1::Event e = h_.NewEvent(registrar);
    v1::RegisterParty* rp = e.mutable_register_party();
    rp->set_party_id(party.party_id);
    rp->set_name("安国市某药材经营部");
    rp->add_roles(role);
    rp->set_uscc(MakeUscc("130683", std::stoi(party.party_id.substr(6))));
    rp->set_region_code(party.party_id.substr(0, 6));
    *rp->add_initial_keys() = DomainHarness::MakeNewKey(*party.key, party.party_id);
    return e;
  }

  v1::SubmitRequest Signed(const v1::Event& event, const Actor& signer) {
    v1::SubmitRequest request;
    *request.mutable_signed_event() = h_.Request(event, signer).signed_event;
    return request;
  }

  grpc::Status Submit(const v1::SubmitRequest& request, v1::SubmitResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->Submit(&context, request, response);
  }

  void Genesis() {
    v1::SubmitResponse response;
    ASSERT_TRUE(Submit(Signed(RegisterPartyEvent(op_, op_, v1::PARTY_ROLE_MARKET_OPERATOR), op_),
                       &response)
                    .ok());
  }

  // The request must fail with `code` naming `field`, and change nothing.
  void ExpectRejected(const v1::SubmitRequest& request, grpc::StatusCode code,
                      absl::string_view field) {
    const uint64_t size = h_.ledger().size();
    const std::string state = h_.StateFingerprint();
    v1::SubmitResponse response;
    grpc::Status status = Submit(request, &response);
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_THAT(status.error_message(), StartsWith(absl::StrCat(field, ": ")));
    EXPECT_FALSE(response.has_receipt());
    EXPECT_EQ(h_.ledger().size(), size);
    EXPECT_EQ(h_.StateFingerprint(), state);
  }

  static Actor NewActor(const std::string& party_id) {
    return Actor{party_id, ::herbtrace::testing::NewKey()};
  }

  DomainHarness h_;
  Actor op_;
  std::unique_ptr<v1::Capture::CallbackService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Capture::Stub> stub_;
};

TEST_F(CaptureServiceTest, GenesisAndARegistrationAreAcceptedWithDurableReceipts) {
  v1::SubmitResponse genesis;
  grpc::Status status =
      Submit(Signed(RegisterPartyEvent(op_, op_, v1::PARTY_ROLE_MARKET_OPERATOR), op_), &genesis);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(genesis.receipt().seq(), 0u);
  v1::SubmitResponse trader;
  status = Submit(Signed(RegisterPartyEvent(op_, NewActor("13068300000003"),
                                            v1::PARTY_ROLE_TRADER),
                         op_),
                  &trader);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(trader.receipt().seq(), 1u);
  EXPECT_EQ(h_.ledger().size(), 2u);
  // The receipt's leaf is the stored entry's leaf.
  EXPECT_EQ(trader.receipt().leaf_hash(),
            std::string(crypto::AsBytes(*h_.ledger().view().LeafHash(1))));
}

TEST_F(CaptureServiceTest, ResubmittingTheSameEventReturnsTheFirstReceipt) {
  Genesis();
  const v1::SubmitRequest request =
      Signed(RegisterPartyEvent(op_, NewActor("13068300000003"), v1::PARTY_ROLE_TRADER), op_);
  v1::SubmitResponse first, again;
  ASSERT_TRUE(Submit(request, &first).ok());
  ASSERT_TRUE(Submit(request, &again).ok());
  EXPECT_EQ(first.receipt().SerializeAsString(), again.receipt().SerializeAsString());
  EXPECT_EQ(h_.ledger().size(), 2u);
}

TEST_F(CaptureServiceTest, RejectsAFlippedSignatureBit) {
  Genesis();
  v1::SubmitRequest request =
      Signed(RegisterPartyEvent(op_, NewActor("13068300000003"), v1::PARTY_ROLE_TRADER), op_);
  (*request.mutable_signed_event()->mutable_signature())[5] ^= 0x10;
  ExpectRejected(request, grpc::StatusCode::UNAUTHENTICATED, "signed_event.signature");
}

TEST_F(CaptureServiceTest, RejectsAShortOrMissingSignature) {
  Genesis();
  v1::SubmitRequest request =
      Signed(RegisterPartyEvent(op_, NewActor("13068300000003"), v1::PARTY_ROLE_TRADER), op_);
  request.mutable_signed_event()->mutable_signature()->resize(20);
  ExpectRejected(request, grpc::StatusCode::INVALID_ARGUMENT, "signed_event.signature");
  request.mutable_signed_event()->clear_signature();
  ExpectRejected(request, grpc::StatusCode::UNAUTHENTICATED, "signed_event.signature");
}

TEST_F(CaptureServiceTest, RejectsASignatureOfAnotherAlgorithm) {
  Genesis();
  const v1::SubmitRequest request =
      Signed(RegisterPartyEvent(op_, NewActor("13068300000003"), v1::PARTY_ROLE_TRADER), op_);
  // The operator's key is Ed25519. An envelope that claims SM2 for it contradicts the registry
  // and is refused before any signature check; so is an SM2 signature of the same payload under
  // the Ed25519 key id (not an Ed25519 signature's length).
  v1::SubmitRequest claims_sm2 = request;
  claims_sm2.mutable_signed_event()->set_algorithm(v1::SIGNATURE_ALGORITHM_SM2);
  ExpectRejected(claims_sm2, grpc::StatusCode::INVALID_ARGUMENT, "signed_event.algorithm");
  v1::SubmitRequest unspecified = request;
  unspecified.mutable_signed_event()->set_algorithm(v1::SIGNATURE_ALGORITHM_UNSPECIFIED);
  ExpectRejected(unspecified, grpc::StatusCode::INVALID_ARGUMENT, "signed_event.algorithm");
  auto sm2 = crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kSm2);
  ASSERT_TRUE(sm2.ok()) << sm2.status();
  v1::SubmitRequest sm2_signed = request;
  sm2_signed.mutable_signed_event()->set_signature(
      *(*sm2)->Sign(request.signed_event().payload()));
  ExpectRejected(sm2_signed, grpc::StatusCode::INVALID_ARGUMENT, "signed_event.signature");
}

TEST_F(CaptureServiceTest, RejectsAReplayedEventIdWithOtherBytes) {
  Genesis();
  v1::Event event = RegisterPartyEvent(op_, NewActor("13068300000003"), v1::PARTY_ROLE_TRADER);
  v1::SubmitResponse first;
  ASSERT_TRUE(Submit(Signed(event, op_), &first).ok());
  // Same event id, other (validly signed) bytes: a replay that would rewrite history.
  event.mutable_register_party()->set_name("安国市另一家药材经营部");
  ExpectRejected(Signed(event, op_), grpc::StatusCode::ALREADY_EXISTS, "event_id");
  event.mutable_register_party()->set_name("安国市某药材经营部");
  v1::SubmitResponse again;
  ASSERT_TRUE(Submit(Signed(event, op_), &again).ok());
  EXPECT_EQ(again.receipt().seq(), first.receipt().seq());
}

TEST_F(CaptureServiceTest, RejectsMessagesOverTheServersSizeLimit) {
  Genesis();
  // The limits of a real herbtrace-server: a second Capture service behind a ServerHost.
  CaptureOptions options;
  options.bootstrap_key_id = op_.key_id();
  auto service = NewCaptureService(h_.ledger(), options);
  ServerHostOptions host_options;
  host_options.max_message_bytes = 64 << 10;
  auto host = ServerHost::Start(host_options, {service.get()});
  ASSERT_TRUE(host.ok()) << host.status();
  auto stub = v1::Capture::NewStub(
      grpc::CreateChannel((*host)->address(), grpc::InsecureChannelCredentials()));
  const uint64_t size = h_.ledger().size();
  const std::string state = h_.StateFingerprint();
  v1::Event event = RegisterPartyEvent(op_, NewActor("13068300000003"), v1::PARTY_ROLE_TRADER);
  event.mutable_register_party()->set_address(std::string(65 << 10, 'x'));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::SubmitResponse response;
  const grpc::Status status = stub->Submit(&context, Signed(event, op_), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("larger than max"));
  EXPECT_EQ(h_.ledger().size(), size);
  EXPECT_EQ(h_.StateFingerprint(), state);
  // The same connection still takes an event of a normal size.
  grpc::ClientContext ok_context;
  ok_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  EXPECT_TRUE(stub->Submit(&ok_context,
                           Signed(RegisterPartyEvent(op_, NewActor("13068300000004"),
                                                     v1::PARTY_ROLE_TRADER),
                                  op_),
                           &response)
                  .ok());
  (*host)->Shutdown(absl::Seconds(1));
}

TEST_F(CaptureServiceTest, RejectsAPayloadAlteredAfterSigning) {
  Genesis();
  v1::SubmitRequest request =
      Signed(RegisterPartyEvent(op_, NewActor("13068300000003"), v1::PARTY_ROLE_TRADER), op_);
  std::string& payload = *request.mutable_signed_event()->mutable_payload();
  payload[payload.size() - 3] ^= 0x01;
  // Still a valid protobuf, no longer what was signed.
  ExpectRejected(request, grpc::StatusCode::UNAUTHENTICATED, "signed_event.signature");
}

TEST_F(CaptureServiceTest, RejectsGarbageAndTruncatedPayloads) {
  Genesis();
  v1::SubmitRequest request =
      Signed(RegisterPartyEvent(op_, NewActor("13068300000003"), v1::PARTY_ROLE_TRADER), op_);
  v1::SubmitRequest truncated = request;
  truncated.mutable_signed_event()->mutable_payload()->resize(request.signed_event().payload().size() / 2);
  ExpectRejected(truncated, grpc::StatusCode::INVALID_ARGUMENT, "signed_event.payload");
  v1::SubmitRequest garbage = request;
  garbage.mutable_signed_event()->set_payload(std::string("\xff\xff\xff\xff garbage", 12));
  ExpectRejected(garbage, grpc::StatusCode::INVALID_ARGUMENT, "signed_event.payload");
  v1::SubmitRequest empty = request;
  empty.mutable_signed_event()->clear_payload();
  ExpectRejected(empty, grpc::StatusCode::INVALID_ARGUMENT, "signed_event.payload");
}

TEST_F(CaptureServiceTest, RejectsAnUnknownKey) {
  Genesis();
  const Actor stranger = NewActor("13068300000001");  // claims the operator's party id
  ExpectRejected(
      Signed(RegisterPartyEvent(stranger, NewActor("13068300000003"), v1::PARTY_ROLE_TRADER),
             stranger),
      grpc::StatusCode::UNAUTHENTICATED, "signed_event.key_id");
}

// The service keeps parsed signing keys by key id, so a key it has verified with stays parsed;
// a revocation must still refuse the key's next event, on Submit and on a stream alike.
TEST_F(CaptureServiceTest, RefusesAKeyRevokedAfterItSignedAcceptedEvents) {
  Genesis();
  const Actor trader = NewActor("13068300000003");
  v1::SubmitResponse response;
  ASSERT_TRUE(Submit(Signed(RegisterPartyEvent(op_, trader, v1::PARTY_ROLE_TRADER), op_),
                     &response)
                  .ok());
  auto second = ::herbtrace::testing::NewKey();
  v1::Event add = h_.NewEvent(trader);
  add.mutable_register_key()->set_party_id(trader.party_id);
  *add.mutable_register_key()->mutable_key() =
      DomainHarness::MakeNewKey(*second, trader.party_id, "scale-hall3-07");
  grpc::Status status = Submit(Signed(add, trader), &response);  // verified with trader's key
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::Event revoke = h_.NewEvent(trader);
  revoke.mutable_revoke_key()->set_key_id(trader.key_id());
  revoke.mutable_revoke_key()->set_reason("handheld lost");
  status = Submit(Signed(revoke, trader), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  v1::Event third = h_.NewEvent(trader);
  third.mutable_register_key()->set_party_id(trader.party_id);
  *third.mutable_register_key()->mutable_key() =
      DomainHarness::MakeNewKey(*::herbtrace::testing::NewKey(), trader.party_id);
  ExpectRejected(Signed(third, trader), grpc::StatusCode::UNAUTHENTICATED, "signed_event.key_id");

  const uint64_t size = h_.ledger().size();
  const std::string state = h_.StateFingerprint();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub_->SubmitStream(&context);
  ASSERT_TRUE(stream->Write(Signed(third, trader)));
  stream->WritesDone();
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.error().code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(response.error().field(), "signed_event.key_id");
  EXPECT_THAT(response.error().message(), HasSubstr("revoked"));
  EXPECT_FALSE(response.has_receipt());
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(h_.ledger().size(), size);
  EXPECT_EQ(h_.StateFingerprint(), state);

  // The party's other key still signs.
  status = Submit(Signed(third, Actor{trader.party_id, second}), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(CaptureServiceTest, RejectsASelfSignedRegistrationThatIsNotTheBootstrapKey) {
  const Actor impostor = NewActor("13068300000001");
  ExpectRejected(Signed(RegisterPartyEvent(impostor, impostor, v1::PARTY_ROLE_MARKET_OPERATOR),
                        impostor),
                 grpc::StatusCode::UNAUTHENTICATED, "signed_event.key_id");
}

TEST_F(CaptureServiceTest, PassesDomainRejectionsThroughWithTheirField) {
  Genesis();
  v1::Event event = RegisterPartyEvent(op_, NewActor("13068300000003"), v1::PARTY_ROLE_TRADER);
  event.set_log_origin("elsewhere.example/log");
  ExpectRejected(Signed(event, op_), grpc::StatusCode::INVALID_ARGUMENT, "log_origin");
  v1::Event future = RegisterPartyEvent(op_, NewActor("13068300000004"), v1::PARTY_ROLE_TRADER);
  future.mutable_occurred_at()->set_seconds(future.occurred_at().seconds() + 10 * 365 * 86400);
  ExpectRejected(Signed(future, op_), grpc::StatusCode::INVALID_ARGUMENT, "occurred_at");
}

TEST_F(CaptureServiceTest, StreamAnswersEveryEventInOrderAndKeepsGoingAfterARejection) {
  Genesis();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub_->SubmitStream(&context);
  constexpr int kEvents = 40;  // more than max_stream_in_flight, so back-pressure engages
  std::vector<bool> bad(kEvents, false);
  for (int i = 0; i < kEvents; ++i) {
    v1::SubmitRequest request = Signed(
        RegisterPartyEvent(op_, NewActor(absl::StrCat("130683", 10000000 + i)),
                           v1::PARTY_ROLE_TRADER),
        op_);
    if (i % 7 == 3) {
      (*request.mutable_signed_event()->mutable_signature())[0] ^= 0x01;
      bad[i] = true;
    }
    ASSERT_TRUE(stream->Write(request));
  }
  stream->WritesDone();
  v1::SubmitResponse response;
  int index = 0;
  uint64_t last_seq = 0;
  while (stream->Read(&response)) {
    ASSERT_EQ(response.index(), static_cast<uint64_t>(index));
    if (bad[index]) {
      EXPECT_TRUE(response.has_error());
      EXPECT_EQ(response.error().code(), grpc::StatusCode::UNAUTHENTICATED);
      EXPECT_EQ(response.error().field(), "signed_event.signature");
    } else {
      ASSERT_TRUE(response.has_receipt()) << response.error().message();
      EXPECT_GT(response.receipt().seq(), last_seq);
      last_seq = response.receipt().seq();
    }
    ++index;
  }
  EXPECT_EQ(index, kEvents);
  EXPECT_TRUE(stream->Finish().ok());
  int good = 0;
  for (bool b : bad) good += b ? 0 : 1;
  EXPECT_EQ(h_.ledger().size(), 1u + good);
}

TEST_F(CaptureServiceTest, AClientThatCancelsMidStreamLeavesTheServerServing) {
  Genesis();
  for (int round = 0; round < 5; ++round) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto stream = stub_->SubmitStream(&context);
    for (int i = 0; i < 30; ++i) {
      if (!stream->Write(Signed(RegisterPartyEvent(
                                    op_, NewActor(absl::StrCat("130683", 50000000 + round * 100 + i)),
                                    v1::PARTY_ROLE_TRADER),
                                op_))) {
        break;
      }
      if (i == 3 + round) context.TryCancel();
    }
    v1::SubmitResponse response;
    while (stream->Read(&response)) {
    }
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // The server still answers, and every stream it accepted was finished (TearDown's Shutdown
  // would hang on one that was not).
  v1::SubmitResponse response;
  EXPECT_TRUE(Submit(Signed(RegisterPartyEvent(op_, NewActor("13068360000001"),
                                               v1::PARTY_ROLE_TRADER),
                            op_),
                     &response)
                  .ok());
}

class CaptureBundleTest : public CaptureServiceTest {
 protected:
  // `n` registrations of new traders by the operator, parties 130683‖(first + i): a queue.
  std::vector<v1::Event> TraderRegistrations(int first, int n) {
    std::vector<v1::Event> events;
    for (int i = 0; i < n; ++i) events.push_back(Trader(first + i));
    return events;
  }

  v1::Event Trader(int serial) {
    return RegisterPartyEvent(op_, NewActor(absl::StrCat("130683", serial)),
                              v1::PARTY_ROLE_TRADER);
  }

  v1::SubmitBundleRequest Bundle(const std::vector<v1::Event>& events, const Actor& signer) {
    v1::SubmitBundleRequest request;
    std::vector<crypto::Digest> leaves;
    for (const v1::Event& e : events) {
      const std::string payload = e.SerializeAsString();
      request.add_events()->set_payload(payload);
      leaves.push_back(crypto::HashLeaf(h_.ledger().hasher(), payload));
    }
    const crypto::Digest root = crypto::RootFromLeafHashes(h_.ledger().hasher(), leaves);
    const std::string message =
        absl::StrCat("herbtrace bundle v1\n", ::herbtrace::testing::kTestOrigin, "\n",
                     events.size(), "\n", absl::Base64Escape(crypto::AsBytes(root)), "\n");
    request.set_key_id(signer.key_id());
    request.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
    request.set_root_signature(*signer.key->Sign(message));
    return request;
  }

  grpc::Status SubmitBundle(const v1::SubmitBundleRequest& request,
                            v1::SubmitBundleResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->SubmitBundle(&context, request, response);
  }
};

TEST_F(CaptureBundleTest, OneSignatureCoversTheQueueAndEachEntryStaysProvablySigned) {
  Genesis();
  const std::vector<v1::Event> events = TraderRegistrations(20000000, 5);
  v1::SubmitBundleResponse response;
  grpc::Status status = SubmitBundle(Bundle(events, op_), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 5);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(response.results(i).has_receipt()) << response.results(i).error().message();
    const uint64_t seq = response.results(i).receipt().seq();
    v1::LedgerEntry entry;
    ASSERT_TRUE(entry.ParseFromString(*h_.ledger().view().EntryBytes(seq)));
    EXPECT_TRUE(entry.signed_event().signature().empty());
    ASSERT_TRUE(entry.has_bundle());
    EXPECT_EQ(entry.bundle().index(), static_cast<uint64_t>(i));
    EXPECT_EQ(entry.bundle().bundle_root(), response.bundle_root());
    // The entry alone proves the event was in the signed bundle.
    std::vector<crypto::Digest> proof;
    for (const std::string& h : entry.bundle().proof()) proof.push_back(*crypto::DigestFromBytes(h, "proof"));
    EXPECT_TRUE(crypto::VerifyInclusion(
                    h_.ledger().hasher(), entry.bundle().index(), entry.bundle().size(),
                    crypto::HashLeaf(h_.ledger().hasher(), entry.signed_event().payload()), proof,
                    *crypto::DigestFromBytes(entry.bundle().bundle_root(), "root"))
                    .ok());
  }
  EXPECT_EQ(h_.ledger().size(), 6u);
  // The whole log's signature audit: genesis signed on its own, five events under one root
  // signature, verified once.
  auto audit = domain::AuditSignatures(h_.ledger().db());
  ASSERT_TRUE(audit.ok()) << audit.status();
  ASSERT_TRUE(audit->ok()) << audit->failure->reason;
  EXPECT_EQ(audit->entries_checked, 6u);
  EXPECT_EQ(audit->bundled_entries, 5u);
  EXPECT_EQ(audit->signatures_verified, 2u);
}

TEST_F(CaptureBundleTest, ABadRootSignatureRejectsTheWholeBundle) {
  Genesis();
  std::vector<v1::Event> events = {
      RegisterPartyEvent(op_, NewActor("13068330000001"), v1::PARTY_ROLE_TRADER),
      RegisterPartyEvent(op_, NewActor("13068330000002"), v1::PARTY_ROLE_TRADER)};
  v1::SubmitBundleRequest request = Bundle(events, op_);
  // Swap an event for another one after signing.
  request.mutable_events(1)->set_payload(
      RegisterPartyEvent(op_, NewActor("13068330000003"), v1::PARTY_ROLE_TRADER).SerializeAsString());
  const std::string state = h_.StateFingerprint();
  v1::SubmitBundleResponse response;
  grpc::Status status = SubmitBundle(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), StartsWith("root_signature: "));
  EXPECT_EQ(h_.ledger().size(), 1u);
  EXPECT_EQ(h_.StateFingerprint(), state);
}

TEST_F(CaptureBundleTest, AnOversizedBundleIsResourceExhausted) {
  Genesis();
  const std::vector<v1::Event> events = TraderRegistrations(40000000, 17);
  v1::SubmitBundleResponse response;
  grpc::Status status = SubmitBundle(Bundle(events, op_), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("events: 17 events"));
  EXPECT_EQ(h_.ledger().size(), 1u);
}

TEST_F(CaptureBundleTest, AnUndecodableEventFailsAloneAndTheRestAreAppended) {
  Genesis();
  std::vector<v1::Event> events = {
      RegisterPartyEvent(op_, NewActor("13068350000001"), v1::PARTY_ROLE_TRADER),
      RegisterPartyEvent(op_, NewActor("13068350000002"), v1::PARTY_ROLE_TRADER)};
  v1::SubmitBundleRequest request = Bundle(events, op_);
  // Re-sign over a queue whose second payload is garbage: the signature is valid, the event not.
  std::vector<v1::Event> dummy;
  request.mutable_events(1)->set_payload("\xff\xff not an event");
  std::vector<crypto::Digest> leaves = {
      crypto::HashLeaf(h_.ledger().hasher(), request.events(0).payload()),
      crypto::HashLeaf(h_.ledger().hasher(), request.events(1).payload())};
  const crypto::Digest root = crypto::RootFromLeafHashes(h_.ledger().hasher(), leaves);
  request.set_root_signature(*op_.key->Sign(
      absl::StrCat("herbtrace bundle v1\n", ::herbtrace::testing::kTestOrigin, "\n2\n",
                   absl::Base64Escape(crypto::AsBytes(root)), "\n")));
  v1::SubmitBundleResponse response;
  ASSERT_TRUE(SubmitBundle(request, &response).ok());
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_TRUE(response.results(0).has_receipt());
  EXPECT_EQ(response.results(1).error().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(response.results(1).error().field(), "signed_event.payload");
  EXPECT_EQ(h_.ledger().size(), 2u);
}

// The domain rules behind a gate: while it is closed the first append waits on the ledger's
// sequencer and every later one queues behind it — a ledger held busy, as under a burst of load,
// for as long as the test wants.
class GatedRules final : public storage::StateRule {
 public:
  explicit GatedRules(domain::DomainConfig config) : rules_(std::move(config)) {}

  absl::Status Apply(const storage::AppendRequest& request, storage::StateTxn& txn) override {
    {
      absl::MutexLock lock(&mu_);
      ++waiting_;
      mu_.Await(absl::Condition(&open_));
      --waiting_;
    }
    return rules_.Apply(request, txn);
  }

  void Close() {
    absl::MutexLock lock(&mu_);
    open_ = false;
  }
  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  // Until an append waits at the closed gate.
  void AwaitOneWaiting() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* waiting) { return *waiting > 0; }, &waiting_));
  }

 private:
  domain::DomainRules rules_;
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

// max_appends_in_flight over a ledger the test holds busy: a bundle of two takes the whole
// budget of two while its first event waits at the gate.
class CaptureBudgetTest : public CaptureBundleTest {
 protected:
  CaptureBudgetTest() : rules_(Config()) {
    storage::Ledger::Options options;
    options.origin = ::herbtrace::testing::kTestOrigin;
    options.clock = &h_.clock();
    options.rule = &rules_;
    options.sync = false;
    options.checkpoint_interval = absl::Hours(1);
    auto ledger = storage::Ledger::Open(dir_.path().string(), options,
                                        ::herbtrace::testing::TestLogSigner());
    EXPECT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = *std::move(ledger);
  }

  void TearDown() override {
    rules_.Open();
    CaptureBundleTest::TearDown();
  }

  storage::Ledger& Served() override { return *ledger_; }
  void Tune(CaptureOptions& options) override {
    options.max_bundle_events = 2;
    options.max_appends_in_flight = 2;
  }

  domain::DomainConfig Config() {
    domain::DomainConfig config;
    config.log_origin = ::herbtrace::testing::kTestOrigin;
    config.bootstrap_key_id = h_.operator_key()->public_key().key_id();
    config.clock = &h_.clock();
    return config;
  }

  // A bundle of two sent while the gate is closed; returns once its first event waits there,
  // so both of its events are in flight. `held_done_` is notified with its status.
  void HoldTheBudget() {
    rules_.Close();
    held_context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    held_ = Bundle({Trader(70000001), Trader(70000002)}, op_);
    stub_->async()->SubmitBundle(&held_context_, &held_, &held_response_, [this](grpc::Status s) {
      held_status_ = std::move(s);
      held_done_.Notify();
    });
    rules_.AwaitOneWaiting();
  }

  ::herbtrace::testing::TempDir dir_;
  GatedRules rules_;
  std::unique_ptr<storage::Ledger> ledger_;
  v1::SubmitBundleRequest held_;
  grpc::ClientContext held_context_;
  v1::SubmitBundleResponse held_response_;
  grpc::Status held_status_;
  absl::Notification held_done_;
};

TEST_F(CaptureBudgetTest, ASubmitOverTheBudgetIsRefusedUntilTheAppendsInFlightAreAnswered) {
  Genesis();
  HoldTheBudget();
  const uint64_t size = ledger_->size();
  const crypto::Digest root = *ledger_->view().RootAt(size);

  const v1::SubmitRequest late = Signed(Trader(70000003), op_);
  v1::SubmitResponse refused;
  grpc::Status status = Submit(late, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), StartsWith("signed_event: 1 event does not fit"));
  EXPECT_THAT(status.error_message(), HasSubstr("max_appends_in_flight = 2"));
  EXPECT_THAT(status.error_message(), HasSubstr("retry with the same event_id"));
  EXPECT_FALSE(refused.has_receipt());

  const v1::SubmitBundleRequest late_bundle = Bundle({Trader(70000004)}, op_);
  v1::SubmitBundleResponse refused_bundle;
  status = SubmitBundle(late_bundle, &refused_bundle);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), StartsWith("events: 1 event does not fit"));
  EXPECT_EQ(refused_bundle.results_size(), 0);
  EXPECT_EQ(ledger_->size(), size);
  EXPECT_EQ(*ledger_->view().RootAt(size), root);

  // Once the held appends are answered the same requests go through.
  rules_.Open();
  held_done_.WaitForNotification();
  ASSERT_TRUE(held_status_.ok()) << held_status_.error_message();
  ASSERT_EQ(held_response_.results_size(), 2);
  EXPECT_TRUE(held_response_.results(1).has_receipt());
  v1::SubmitResponse accepted;
  status = Submit(late, &accepted);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(accepted.receipt().seq(), size + 2);
  v1::SubmitBundleResponse accepted_bundle;
  status = SubmitBundle(late_bundle, &accepted_bundle);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(accepted_bundle.results_size(), 1);
  EXPECT_EQ(accepted_bundle.results(0).receipt().seq(), size + 3);
  EXPECT_EQ(ledger_->size(), size + 4);
}

TEST_F(CaptureBudgetTest, ABundleLargerThanWhatIsLeftIsRefusedWhole) {
  Genesis();
  rules_.Close();
  // One event in flight, waiting at the gate: one of the two left.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  const v1::SubmitRequest first = Signed(Trader(70000010), op_);
  v1::SubmitResponse first_response;
  grpc::Status first_status;
  absl::Notification first_done;
  stub_->async()->Submit(&context, &first, &first_response,
                         [&first_status, &first_done](grpc::Status s) {
                           first_status = std::move(s);
                           first_done.Notify();
                         });
  rules_.AwaitOneWaiting();
  const uint64_t size = ledger_->size();

  const v1::SubmitBundleRequest pair = Bundle({Trader(70000011), Trader(70000012)}, op_);
  v1::SubmitBundleResponse refused;
  grpc::Status status = SubmitBundle(pair, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), StartsWith("events: 2 events do not fit"));
  EXPECT_EQ(ledger_->size(), size);

  rules_.Open();
  first_done.WaitForNotification();
  ASSERT_TRUE(first_status.ok()) << first_status.error_message();
  v1::SubmitBundleResponse accepted;
  ASSERT_TRUE(SubmitBundle(pair, &accepted).ok());
  ASSERT_EQ(accepted.results_size(), 2);
  EXPECT_TRUE(accepted.results(0).has_receipt());
  EXPECT_TRUE(accepted.results(1).has_receipt());
  EXPECT_EQ(ledger_->size(), size + 3);
}

// A stream is held, never refused, while the budget is spent: every event it sent is answered
// with a receipt once the ledger moves again.
TEST_F(CaptureBudgetTest, AStreamWaitsForTheBudgetInsteadOfFailing) {
  Genesis();
  HoldTheBudget();
  const uint64_t size = ledger_->size();

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = stub_->SubmitStream(&context);
  constexpr int kEvents = 5;
  for (int i = 0; i < kEvents; ++i) ASSERT_TRUE(stream->Write(Signed(Trader(70000020 + i), op_)));
  stream->WritesDone();
  rules_.Open();
  v1::SubmitResponse response;
  int answered = 0;
  while (stream->Read(&response)) {
    EXPECT_TRUE(response.has_receipt()) << response.error().message();
    ++answered;
  }
  EXPECT_EQ(answered, kEvents);
  EXPECT_TRUE(stream->Finish().ok());
  held_done_.WaitForNotification();
  EXPECT_TRUE(held_status_.ok());
  EXPECT_EQ(ledger_->size(), size + 2 + kEvents);
}

}  // namespace
}  // namespace herbtrace::server
