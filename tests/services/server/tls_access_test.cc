// Transport security and access over real mutual-TLS channels: certificates made by running
// deploy/make-certs.sh into a temporary directory, an in-process server with every service
// (Capture included) on a TLS listener, and the huangqi market of market_fixture.h.
//
// The handshake (no certificate, another CA, plaintext), the signer check on Capture, the
// access table row by row (one allowed and one refused caller per RPC), prices, suspended and
// unknown parties, and the plaintext administrative console, on and off.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "crypto/memory_tree.h"
#include "crypto/merkle.h"
#include "crypto/peer_certificate.h"
#include "google/protobuf/descriptor.h"
#include "herbtrace/v1/capture.grpc.pb.h"
#include "services/domain/signature_algorithm.h"
#include "services/server/access_policy.h"
#include "services/server/caller.h"
#include "storage/key_codec.h"
#include "tests/process_util.h"
#include "tests/services/server/service_fixture.h"

namespace herbtrace::testing {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

MATCHER_P(IsOkAndHolds, value, "is OK and holds " + ::testing::PrintToString(value)) {
  return arg.ok() && *arg == value;
}

constexpr char kTrader2Id[] = "13068300000006";
constexpr char kUnregisteredId[] = "13068300000009";

// Who calls: the market's parties, a second trader, a party the registry does not know.
enum class Who { kOperator, kRegulator, kGrower, kTrader, kTrader2, kLab, kUnregistered };

std::string Name(Who who) {
  switch (who) {
    case Who::kOperator:
      return "operator";
    case Who::kRegulator:
      return "regulator";
    case Who::kGrower:
      return "grower";
    case Who::kTrader:
      return "trader";
    case Who::kTrader2:
      return "trader2";
    case Who::kLab:
      return "lab";
    case Who::kUnregistered:
      return "unregistered";
  }
  return "?";
}

std::string PartyIdOf(Who who) {
  switch (who) {
    case Who::kOperator:
      return "13068300000001";
    case Who::kRegulator:
      return "13068300000002";
    case Who::kGrower:
      return "13068300000003";
    case Who::kTrader:
      return "13068300000004";
    case Who::kLab:
      return "13068300000005";
    case Who::kTrader2:
      return kTrader2Id;
    case Who::kUnregistered:
      return kUnregisteredId;
  }
  return "";
}

const std::vector<Who>& Everyone() {
  static const auto* everyone =
      new std::vector<Who>{Who::kOperator, Who::kRegulator, Who::kGrower, Who::kTrader,
                           Who::kTrader2,  Who::kLab,       Who::kUnregistered};
  return *everyone;
}

std::string MakeCerts(const std::filesystem::path& out, const std::vector<std::string>& args) {
  std::string command = absl::StrCat("bash ", HERBTRACE_MAKE_CERTS, " ", out.string());
  for (const std::string& arg : args) absl::StrAppend(&command, " ", arg);
  CommandResult result = RunCommand(absl::StrCat(command, " 2>&1"));
  EXPECT_EQ(result.exit_code, 0) << command << "\n" << result.output;
  return result.output;
}

// Certificates for the whole suite: made once (openssl is slow next to a test).
class Certificates {
 public:
  static Certificates& Get() {
    static Certificates* certs = new Certificates();
    return *certs;
  }
  const std::filesystem::path& dir() const { return dir_.path(); }
  const std::filesystem::path& other_ca_dir() const { return other_.path(); }
  std::string Ca() const { return ReadFileOrDie(dir() / "ca.pem"); }
  std::string Cert(Who who) const {
    return ReadFileOrDie(dir() / absl::StrCat("party-", PartyIdOf(who), ".pem"));
  }
  std::string Key(Who who) const {
    return ReadFileOrDie(dir() / absl::StrCat("party-", PartyIdOf(who), "-key.pem"));
  }
  server::ServerHostOptions::Tls ServerTls() const {
    return {ReadFileOrDie(dir() / "server.pem"), ReadFileOrDie(dir() / "server-key.pem"), Ca()};
  }

 private:
  Certificates() {
    std::vector<std::string> args;
    for (Who who : Everyone()) {
      args.push_back("--party");
      args.push_back(PartyIdOf(who));
    }
    MakeCerts(dir(), args);
    // The same trader's id, signed by a CA the server does not trust.
    MakeCerts(other_ca_dir(), {"--party", PartyIdOf(Who::kTrader)});
  }
  TempDir dir_;
  TempDir other_;
};


// The market on a mutual-TLS server with every service, and a second trader in the registry.
class TlsAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Certificates::Get();
    auto market = Market::Create(dir_.path());
    ASSERT_THAT(market, IsOk());
    market_ = *std::move(market);
    ASSERT_THAT(market_->Populate(), IsOk());
    auto chain = market_->RunHuangqiChain();
    ASSERT_THAT(chain, IsOk());
    chain_ = *std::move(chain);
    auto key = crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519);
    ASSERT_THAT(key, IsOk());
    trader2_ = Actor{kTrader2Id, *std::move(key)};
    ASSERT_THAT(market_->Submit(market_->market_operator(),
                                RegisterPartyEvent(trader2_, "安国市第二药材经营部",
                                                   {v1::PARTY_ROLE_TRADER})),
                IsOk());
    ASSERT_THAT(market_->Checkpoint(), IsOk());
    auto source = server::LogSource::ForLedger(market_->ledger());
    ASSERT_THAT(source, IsOk());
    source_ = *std::move(source);
    TestServerOptions options;
    options.capture = true;
    options.ledger.clock = &market_->clock();
    options.tls = Certificates::Get().ServerTls();
    auto server = TestServer::Start(*source_, options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
  }

  void TearDown() override {
    server_.reset();
    source_.reset();
    market_.reset();
  }

  std::shared_ptr<grpc::Channel> As(Who who) {
    auto& certs = Certificates::Get();
    auto& channel = channels_[who];
    if (channel == nullptr) {
      channel = TlsChannel(server_->address(), certs.Ca(), certs.Cert(who), certs.Key(who));
    }
    return channel;
  }

  const Actor& Signer(Who who) {
    switch (who) {
      case Who::kOperator:
        return market_->market_operator();
      case Who::kRegulator:
        return market_->regulator();
      case Who::kGrower:
        return market_->grower();
      case Who::kTrader:
        return market_->trader();
      case Who::kLab:
        return market_->lab();
      default:
        return trader2_;
    }
  }

  // A new harvest of the grower's, signed by the grower's key: what its scanner sends.
  v1::SubmitRequest GrowerHarvest() {
    v1::Event event = market_->HarvestEvent(market_->NewBatchCode(market_->grower(), 1), 5'000);
    v1::SubmitRequest request;
    *request.mutable_signed_event() =
        SignEvent(market_->grower(), event, market_->clock().Now(), market_->NewEventId());
    return request;
  }

  // The grower's harvest as a bundle of one, its root signed by the grower's key.
  v1::SubmitBundleRequest GrowerBundle() {
    v1::SubmitRequest single = GrowerHarvest();
    const crypto::Hasher& hasher = market_->ledger().hasher();
    const std::string& payload = single.signed_event().payload();
    const crypto::MemoryTree tree(hasher, {crypto::HashLeaf(hasher, payload)});
    const std::string message =
        absl::StrCat("herbtrace bundle v1\n", kMarketOrigin, "\n", 1, "\n",
                     absl::Base64Escape(crypto::AsBytes(tree.Root())), "\n");
    v1::SubmitBundleRequest bundle;
    bundle.add_events()->set_payload(payload);
    bundle.set_key_id(market_->grower().key_id());
    bundle.set_algorithm(domain::ToProtoAlgorithm(market_->grower().key->algorithm()));
    auto signature = market_->grower().key->Sign(message);
    EXPECT_THAT(signature, IsOk());
    bundle.set_root_signature(*signature);
    return bundle;
  }

  grpc::Status Submit(Who who, const v1::SubmitRequest& request,
                      v1::SubmitResponse* response = nullptr) {
    v1::SubmitResponse ignored;
    auto context = Context();
    return v1::Capture::NewStub(As(who))->Submit(context.get(), request,
                                                 response != nullptr ? response : &ignored);
  }

  grpc::Status GetCheckpoint(Who who) {
    v1::Checkpoint checkpoint;
    auto context = Context();
    return v1::Ledger::NewStub(As(who))->GetCheckpoint(context.get(), {}, &checkpoint);
  }

  grpc::Status GetTradeTerms(Who who, v1::TradeTerms* terms) {
    v1::GetTradeTermsRequest request;
    request.set_trade_event_id(chain_.trade_event_id);
    auto context = Context();
    return v1::Trace::NewStub(As(who))->GetTradeTerms(context.get(), request, terms);
  }

  grpc::Status GetRecall(Who who, v1::RecallView* view,
                         v1::RecallScopeForm form = v1::RECALL_SCOPE_FORM_UNSPECIFIED) {
    v1::GetRecallRequest request;
    request.set_recall_id(chain_.recall_id);
    request.set_form(form);
    auto context = Context();
    return v1::Recall::NewStub(As(who))->GetRecall(context.get(), request, view);
  }

  grpc::Status ListRecalls(Who who, v1::ListRecallsResponse* response) {
    auto context = Context();
    return v1::Recall::NewStub(As(who))->ListRecalls(context.get(), {}, response);
  }

  TempDir dir_;
  std::unique_ptr<Market> market_;
  HuangqiChain chain_;
  Actor trader2_;
  std::unique_ptr<server::LogSource> source_;
  std::unique_ptr<TestServer> server_;
  std::map<Who, std::shared_ptr<grpc::Channel>> channels_;
};

// ── The script ───────────────────────────────────────────────────────────────────────────────

TEST(MakeCertsTest, BindsEachPartyIdAndKeepsWhatExistsOnASecondRun) {
  TempDir out;
  MakeCerts(out.path(), {"--server-name", "herbtrace.anguo.example", "--party", "13068300000003"});
  const std::string ca = ReadFileOrDie(out.path() / "ca.pem");
  const std::string cert = ReadFileOrDie(out.path() / "party-13068300000003.pem");
  const std::string server = ReadFileOrDie(out.path() / "server.pem");
  EXPECT_THAT(crypto::PartyIdOfCertificate(cert), IsOkAndHolds(std::string("13068300000003")));

  const std::string again = MakeCerts(
      out.path(), {"--server-name", "herbtrace.anguo.example", "--party", "13068300000003"});
  EXPECT_THAT(again, IsEmpty()) << "a second run made something anew";
  EXPECT_EQ(ReadFileOrDie(out.path() / "ca.pem"), ca);
  EXPECT_EQ(ReadFileOrDie(out.path() / "party-13068300000003.pem"), cert);
  EXPECT_EQ(ReadFileOrDie(out.path() / "server.pem"), server);

  const CommandResult verify = RunCommand(absl::StrCat(
      "openssl verify -CAfile ", (out.path() / "ca.pem").string(), " ",
      (out.path() / "server.pem").string(), " ",
      (out.path() / "party-13068300000003.pem").string(), " 2>&1 && openssl x509 -noout -ext "
      "subjectAltName -in ", (out.path() / "server.pem").string()));
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_THAT(verify.output, AllOf(HasSubstr("DNS:localhost"), HasSubstr("IP Address:127.0.0.1"),
                                   HasSubstr("DNS:herbtrace.anguo.example")));
  EXPECT_EQ(std::filesystem::status(out.path() / "ca-key.pem").permissions() &
                std::filesystem::perms::others_read,
            std::filesystem::perms::none);
}

TEST(MakeCertsTest, RefusesAPartyIdThatIsNot14Digits) {
  TempDir out;
  const CommandResult result = RunCommand(absl::StrCat(
      "bash ", HERBTRACE_MAKE_CERTS, " ", out.path().string(), " --party 1306830000 2>&1"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.output, HasSubstr("--party \"1306830000\" is not a 14-digit party id"));
  EXPECT_FALSE(std::filesystem::exists(out.path() / "ca.pem"));
}

TEST(PeerCertificateTest, ReadsTheUriPartyOrTheCommonNameAndRefusesAmbiguity) {
  TempDir out;
  auto self_signed = [&](const std::string& name, const std::string& subject,
                         const std::string& extension) {
    const std::filesystem::path pem = out.path() / (name + ".pem");
    const CommandResult made = RunCommand(absl::StrCat(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -keyout ",
        (out.path() / (name + "-key.pem")).string(), " -out ", pem.string(), " -subj '", subject,
        "'", extension.empty() ? "" : absl::StrCat(" -addext '", extension, "'"), " 2>&1"));
    EXPECT_EQ(made.exit_code, 0) << made.output;
    return ReadFileOrDie(pem);
  };
  EXPECT_THAT(crypto::PartyIdOfCertificate(self_signed("cn", "/CN=13068300000004", "")),
              IsOkAndHolds(std::string("13068300000004")));
  EXPECT_THAT(
      crypto::PartyIdOfCertificate(self_signed(
          "uri", "/CN=trader desk", "subjectAltName=URI:urn:herbtrace:party:13068300000004")),
      IsOkAndHolds(std::string("13068300000004")));
  EXPECT_THAT(crypto::PartyIdOfCertificate(self_signed(
                  "mixed", "/CN=13068300000003",
                  "subjectAltName=URI:urn:herbtrace:party:13068300000004")),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("client certificate"), HasSubstr("13068300000003"))));
  EXPECT_THAT(crypto::PartyIdOfCertificate(self_signed(
                  "two", "/O=HerbTrace",
                  "subjectAltName=URI:urn:herbtrace:party:13068300000004,"
                  "URI:urn:herbtrace:party:13068300000005")),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("several parties")));
  EXPECT_THAT(crypto::PartyIdOfCertificate(self_signed("none", "/O=HerbTrace", "")),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("names no party")));
  EXPECT_THAT(crypto::PartyIdOfCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n"),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("client certificate")));
}

// ── The handshake ────────────────────────────────────────────────────────────────────────────

TEST_F(TlsAccessTest, APartyWithItsCertificateCalls) {
  EXPECT_THAT(S(GetCheckpoint(Who::kTrader)), IsOk());
}

TEST_F(TlsAccessTest, AClientWithoutACertificateFailsTheHandshake) {
  auto channel = TlsChannel(server_->address(), Certificates::Get().Ca());
  v1::Checkpoint checkpoint;
  auto context = Context(10);
  EXPECT_THAT(S(v1::Ledger::NewStub(channel)->GetCheckpoint(context.get(), {}, &checkpoint)),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(TlsAccessTest, ACertificateFromAnotherCaFailsTheHandshake) {
  const auto& other = Certificates::Get().other_ca_dir();
  const std::string id = PartyIdOf(Who::kTrader);
  auto channel = TlsChannel(server_->address(), Certificates::Get().Ca(),
                            ReadFileOrDie(other / absl::StrCat("party-", id, ".pem")),
                            ReadFileOrDie(other / absl::StrCat("party-", id, "-key.pem")));
  v1::Checkpoint checkpoint;
  auto context = Context(10);
  EXPECT_THAT(S(v1::Ledger::NewStub(channel)->GetCheckpoint(context.get(), {}, &checkpoint)),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(TlsAccessTest, APlaintextClientCannotCallTheTlsListener) {
  auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  v1::Checkpoint checkpoint;
  auto context = Context(10);
  EXPECT_THAT(S(v1::Ledger::NewStub(channel)->GetCheckpoint(context.get(), {}, &checkpoint)),
              StatusIs(absl::StatusCode::kUnavailable));
}

// ── Identity ─────────────────────────────────────────────────────────────────────────────────

TEST_F(TlsAccessTest, AnUnregisteredPartyIsUnauthenticated) {
  EXPECT_THAT(S(GetCheckpoint(Who::kUnregistered)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("client certificate"), HasSubstr(kUnregisteredId),
                             HasSubstr("not registered"))));
}

TEST_F(TlsAccessTest, ASuspendedPartysCertificateIsRefusedAtOnce) {
  ASSERT_THAT(S(GetCheckpoint(Who::kTrader2)), IsOk());
  v1::Event suspend =
      RegisterPartyEvent(trader2_, "安国市第二药材经营部", {v1::PARTY_ROLE_TRADER});
  suspend.mutable_register_party()->clear_initial_keys();
  suspend.mutable_register_party()->set_status(v1::PARTY_STATUS_SUSPENDED);
  ASSERT_THAT(market_->Submit(market_->market_operator(), suspend), IsOk());
  EXPECT_THAT(S(GetCheckpoint(Who::kTrader2)),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr(kTrader2Id), HasSubstr("suspended"))));
  v1::TradeTerms terms;
  EXPECT_THAT(S(GetTradeTerms(Who::kTrader2, &terms)),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("suspended")));
}

// ── Capture: the certificate's party is the signer ──────────────────────────────────────────

TEST_F(TlsAccessTest, ASignerSubmitsItsOwnEvent) {
  const uint64_t before = market_->ledger().size();
  v1::SubmitResponse response;
  EXPECT_THAT(S(Submit(Who::kGrower, GrowerHarvest(), &response)), IsOk());
  EXPECT_EQ(response.receipt().seq(), before);
}

TEST_F(TlsAccessTest, AnEventSignedByAnotherPartyIsRefusedNamingTheSigner) {
  const uint64_t before = market_->ledger().size();
  EXPECT_THAT(S(Submit(Who::kTrader, GrowerHarvest())),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("signed_event.key_id"),
                             HasSubstr(PartyIdOf(Who::kGrower)),
                             HasSubstr(PartyIdOf(Who::kTrader)))));
  EXPECT_EQ(market_->ledger().size(), before);
}

TEST_F(TlsAccessTest, ABundleSignedByAnotherPartyIsRefusedNamingTheSigner) {
  const uint64_t before = market_->ledger().size();
  v1::SubmitBundleResponse response;
  auto context = Context();
  EXPECT_THAT(S(v1::Capture::NewStub(As(Who::kLab))
                    ->SubmitBundle(context.get(), GrowerBundle(), &response)),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("bundle.key_id"), HasSubstr(PartyIdOf(Who::kGrower)))));
  EXPECT_THAT(response.results(), IsEmpty());
  EXPECT_EQ(market_->ledger().size(), before);
}

TEST_F(TlsAccessTest, AStreamedEventSignedByAnotherPartyGetsItsOwnError) {
  const uint64_t before = market_->ledger().size();
  auto context = Context();
  auto stream = v1::Capture::NewStub(As(Who::kTrader))->SubmitStream(context.get());
  ASSERT_TRUE(stream->Write(GrowerHarvest()));
  ASSERT_TRUE(stream->WritesDone());
  v1::SubmitResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.error().code(), static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(response.error().field(), "signed_event.key_id");
  EXPECT_THAT(response.error().message(), HasSubstr(PartyIdOf(Who::kGrower)));
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_THAT(S(stream->Finish()), IsOk());
  EXPECT_EQ(market_->ledger().size(), before);
}

TEST_F(TlsAccessTest, AStreamFromAnUnknownPartyEndsBeforeReadingAnything) {
  const uint64_t before = market_->ledger().size();
  auto context = Context();
  auto stream = v1::Capture::NewStub(As(Who::kUnregistered))->SubmitStream(context.get());
  stream->Write(GrowerHarvest());
  stream->WritesDone();
  v1::SubmitResponse response;
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_THAT(S(stream->Finish()),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr(kUnregisteredId)));
  EXPECT_EQ(market_->ledger().size(), before);
}

TEST_F(TlsAccessTest, AGrowerCannotSignARecallEvenWithItsOwnCertificate) {
  const uint64_t before = market_->ledger().size();
  v1::Event event;
  v1::IssueRecall* recall = event.mutable_recall();
  recall->set_batch_id(chain_.lot2);
  recall->set_reason("自查");
  recall->set_severity(v1::RECALL_SEVERITY_CLASS_II);
  recall->mutable_ack_deadline()->set_seconds(
      absl::ToUnixSeconds(market_->clock().Now() + absl::Hours(72)));
  recall->set_quality_test_event_id(chain_.test_event_id);
  v1::SubmitRequest request;
  *request.mutable_signed_event() =
      SignEvent(market_->grower(), event, market_->clock().Now(), market_->NewEventId());
  EXPECT_THAT(S(Submit(Who::kGrower, request)),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("party_id")));
  EXPECT_EQ(market_->ledger().size(), before);
}

// ── Prices ───────────────────────────────────────────────────────────────────────────────────

TEST_F(TlsAccessTest, ATradesPriceIsForItsTwoPartiesAndRegulatorsOnly) {
  for (Who who : {Who::kGrower, Who::kTrader, Who::kRegulator}) {
    v1::TradeTerms terms;
    ASSERT_THAT(S(GetTradeTerms(who, &terms)), IsOk()) << Name(who);
    EXPECT_EQ(terms.price_fen(), 123450u) << Name(who);  // ¥1,234.50
    EXPECT_EQ(terms.seller_party_id(), PartyIdOf(Who::kGrower));
    EXPECT_EQ(terms.buyer_party_id(), PartyIdOf(Who::kTrader));
    EXPECT_EQ(terms.batch_id(), chain_.lot1);
    EXPECT_EQ(terms.seq(), chain_.trade_seq);
    auto sha256 = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    ASSERT_THAT(sha256, IsOk());
    EXPECT_EQ(crypto::AsBytes((*sha256)->Hash(
                  absl::StrCat(terms.price_opening().salt(), terms.price_opening().value()))),
              terms.price_commitment());
  }
  for (Who who : {Who::kTrader2, Who::kOperator, Who::kLab}) {
    v1::TradeTerms terms;
    EXPECT_THAT(S(GetTradeTerms(who, &terms)),
                StatusIs(absl::StatusCode::kPermissionDenied,
                         AllOf(HasSubstr("trade_event_id"), HasSubstr("regulators"),
                               HasSubstr(PartyIdOf(who)))))
        << Name(who);
    EXPECT_EQ(terms.price_fen(), 0u);
  }
}

TEST_F(TlsAccessTest, TradeTermsOfAnUnknownOrNonTradeEventAreNamed) {
  v1::GetTradeTermsRequest request;
  v1::TradeTerms terms;
  request.set_trade_event_id(chain_.recall_id);
  auto context = Context();
  EXPECT_THAT(S(v1::Trace::NewStub(As(Who::kRegulator))
                    ->GetTradeTerms(context.get(), request, &terms)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("trade_event_id"), HasSubstr("not a Trade"))));
  request.set_trade_event_id("not an id");
  context = Context();
  EXPECT_THAT(S(v1::Trace::NewStub(As(Who::kRegulator))
                    ->GetTradeTerms(context.get(), request, &terms)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("trade_event_id")));
}

// ── Recalls and downstream ───────────────────────────────────────────────────────────────────

TEST_F(TlsAccessTest, AHolderSeesARecallLimitedToItsLots) {
  v1::RecallView full;
  ASSERT_THAT(S(GetRecall(Who::kRegulator, &full)), IsOk());
  ASSERT_GT(full.lots_size(), 1);
  v1::RecallView trader;
  ASSERT_THAT(S(GetRecall(Who::kTrader, &trader)), IsOk());
  ASSERT_THAT(trader.lots(), SizeIs(1));
  EXPECT_EQ(trader.lots(0).batch_id(), chain_.lot1);
  for (const v1::HolderAckStatus& holder : trader.holders()) {
    EXPECT_EQ(holder.party_id(), PartyIdOf(Who::kTrader));
  }
  v1::RecallView lab;
  EXPECT_THAT(S(GetRecall(Who::kLab, &lab)),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("recall_id"), HasSubstr(PartyIdOf(Who::kLab)),
                             HasSubstr("regulators"))));
}

TEST_F(TlsAccessTest, AHoldersRecallByHolderHasItsOwnLotsOnly) {
  v1::RecallView full;
  ASSERT_THAT(S(GetRecall(Who::kRegulator, &full, v1::RECALL_SCOPE_FORM_BY_HOLDER)), IsOk());
  EXPECT_THAT(full.lots_by_holder(), SizeIs(2));
  EXPECT_EQ(full.scope_lots(), 3u);
  v1::RecallView trader;
  ASSERT_THAT(S(GetRecall(Who::kTrader, &trader, v1::RECALL_SCOPE_FORM_BY_HOLDER)), IsOk());
  EXPECT_EQ(trader.scope_lots(), 1u);
  ASSERT_THAT(trader.lots_by_holder(), SizeIs(1));
  EXPECT_EQ(trader.lots_by_holder(0).party_id(), PartyIdOf(Who::kTrader));
  EXPECT_THAT(trader.lots_by_holder(0).batch_ids(), ElementsAre(chain_.lot1));
  ASSERT_THAT(trader.holders(), SizeIs(1));
  EXPECT_EQ(trader.holders(0).party_id(), PartyIdOf(Who::kTrader));
  v1::RecallView lab;
  EXPECT_THAT(S(GetRecall(Who::kLab, &lab, v1::RECALL_SCOPE_FORM_BY_HOLDER)),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("recall_id")));
}

TEST_F(TlsAccessTest, ListRecallsShowsAHolderOnlyTheRecallsNamingItsLots) {
  v1::ListRecallsResponse regulator, trader, lab;
  ASSERT_THAT(S(ListRecalls(Who::kRegulator, &regulator)), IsOk());
  ASSERT_THAT(S(ListRecalls(Who::kTrader, &trader)), IsOk());
  ASSERT_THAT(S(ListRecalls(Who::kLab, &lab)), IsOk());
  ASSERT_THAT(regulator.recalls(), SizeIs(1));
  ASSERT_THAT(trader.recalls(), SizeIs(1));
  EXPECT_EQ(trader.recalls(0).recall_id(), chain_.recall_id);
  EXPECT_THAT(lab.recalls(), IsEmpty());
}

TEST_F(TlsAccessTest, DownstreamIsForOversightAndThoseWhoHeldTheBatch) {
  auto downstream = [&](Who who, const std::string& code) {
    v1::GetDownstreamRequest request;
    request.set_code(code);
    v1::GetDownstreamResponse response;
    auto context = Context();
    return S(v1::Trace::NewStub(As(who))->GetDownstream(context.get(), request, &response));
  };
  // The grower harvested and dried it; the trader received S1 only; the lab tested D but never
  // held anything.
  EXPECT_THAT(downstream(Who::kGrower, chain_.harvest), IsOk());
  EXPECT_THAT(downstream(Who::kTrader, chain_.lot1), IsOk());
  EXPECT_THAT(downstream(Who::kOperator, chain_.dried), IsOk());
  EXPECT_THAT(downstream(Who::kTrader, chain_.dried),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("code"), HasSubstr(chain_.dried),
                             HasSubstr("hold or held"))));
  EXPECT_THAT(downstream(Who::kLab, chain_.dried),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(PartyIdOf(Who::kLab))));
}

// ── The access table, row by row ─────────────────────────────────────────────────────────────

struct MatrixRow {
  server::Rpc rpc;
  Who allowed;
  grpc::StatusCode allowed_code;  // OK, or the service's own answer past the access check
  Who denied;
  grpc::StatusCode denied_code;
};

TEST_F(TlsAccessTest, EveryRpcAdmitsItsAudienceAndRefusesOthers) {
  using server::Rpc;
  using C = grpc::StatusCode;
  // One call per RPC, as `who`.
  std::map<Rpc, std::function<grpc::Status(Who)>> call;
  auto unary = [this](auto stub_of, auto method, auto request, auto response) {
    return [this, stub_of, method, request, response](Who who) mutable {
      auto stub = stub_of(As(who));
      auto context = Context();
      return ((*stub).*method)(context.get(), request, &response);
    };
  };
  auto ledger = [](auto channel) { return v1::Ledger::NewStub(channel); };
  auto registry = [](auto channel) { return v1::Registry::NewStub(channel); };
  auto trace = [](auto channel) { return v1::Trace::NewStub(channel); };
  auto recall = [](auto channel) { return v1::Recall::NewStub(channel); };
  auto capture = [](auto channel) { return v1::Capture::NewStub(channel); };

  call[Rpc::kCaptureSubmit] = [this](Who who) { return Submit(who, GrowerHarvest()); };
  call[Rpc::kCaptureSubmitStream] = [this](Who who) {
    auto context = Context();
    auto stream = v1::Capture::NewStub(As(who))->SubmitStream(context.get());
    stream->Write(GrowerHarvest());
    stream->WritesDone();
    v1::SubmitResponse response;
    const bool got = stream->Read(&response);
    grpc::Status finished = stream->Finish();
    if (!finished.ok() || !got || !response.has_error()) return finished;
    return grpc::Status(static_cast<grpc::StatusCode>(response.error().code()),
                        response.error().message());
  };
  call[Rpc::kCaptureSubmitBundle] = [this, capture](Who who) {
    v1::SubmitBundleResponse response;
    auto context = Context();
    return capture(As(who))->SubmitBundle(context.get(), GrowerBundle(), &response);
  };
  v1::GetPartyRequest get_party;
  get_party.set_party_id(PartyIdOf(Who::kGrower));
  call[Rpc::kRegistryGetParty] =
      unary(registry, &v1::Registry::Stub::GetParty, get_party, v1::Party());
  call[Rpc::kRegistryListParties] = unary(registry, &v1::Registry::Stub::ListParties,
                                          v1::ListPartiesRequest(), v1::ListPartiesResponse());
  v1::GetKeyRequest get_key;
  get_key.set_key_id(market_->grower().key_id());
  call[Rpc::kRegistryGetKey] =
      unary(registry, &v1::Registry::Stub::GetKey, get_key, v1::SigningKey());
  v1::GetBaseRequest get_base;
  get_base.set_base_id(market_->base_id());
  call[Rpc::kRegistryGetBase] =
      unary(registry, &v1::Registry::Stub::GetBase, get_base, v1::PlantingBase());
  call[Rpc::kRegistryListBases] = unary(registry, &v1::Registry::Stub::ListBases,
                                        v1::ListBasesRequest(), v1::ListBasesResponse());
  v1::GetHerbRequest get_herb;
  get_herb.set_code("HUANGQI");
  call[Rpc::kRegistryGetHerb] = unary(registry, &v1::Registry::Stub::GetHerb, get_herb, v1::Herb());
  call[Rpc::kRegistryListHerbs] = unary(registry, &v1::Registry::Stub::ListHerbs,
                                        v1::ListHerbsRequest(), v1::ListHerbsResponse());
  call[Rpc::kLedgerGetCheckpoint] = unary(ledger, &v1::Ledger::Stub::GetCheckpoint,
                                          v1::GetCheckpointRequest(), v1::Checkpoint());
  v1::GetInclusionProofRequest inclusion;
  inclusion.set_seq(0);
  call[Rpc::kLedgerGetInclusionProof] = unary(ledger, &v1::Ledger::Stub::GetInclusionProof,
                                              inclusion, v1::GetInclusionProofResponse());
  v1::GetConsistencyProofRequest consistency;
  consistency.set_size1(1);
  call[Rpc::kLedgerGetConsistencyProof] = unary(ledger, &v1::Ledger::Stub::GetConsistencyProof,
                                                consistency, v1::ConsistencyProof());
  call[Rpc::kLedgerGetEntries] = [this](Who who) {
    v1::GetEntriesRequest request;
    request.set_end(3);
    auto context = Context();
    auto reader = v1::Ledger::NewStub(As(who))->GetEntries(context.get(), request);
    v1::GetEntriesResponse message;
    while (reader->Read(&message)) {
    }
    return reader->Finish();
  };
  // Past the access check an empty request is the service's own INVALID_ARGUMENT.
  call[Rpc::kLedgerAddCosignature] = unary(ledger, &v1::Ledger::Stub::AddCosignature,
                                           v1::AddCosignatureRequest(), v1::Checkpoint());
  call[Rpc::kLedgerAudit] =
      unary(ledger, &v1::Ledger::Stub::Audit, v1::AuditRequest(), v1::AuditReport());
  v1::GetBatchRequest get_batch;
  get_batch.set_code(chain_.dried);
  call[Rpc::kTraceGetBatch] = unary(trace, &v1::Trace::Stub::GetBatch, get_batch, v1::BatchState());
  v1::GetHistoryRequest history;
  history.set_code(chain_.dried);
  call[Rpc::kTraceGetHistory] =
      unary(trace, &v1::Trace::Stub::GetHistory, history, v1::GetHistoryResponse());
  v1::GetUpstreamRequest upstream;
  upstream.set_code(chain_.lot1);
  call[Rpc::kTraceGetUpstream] =
      unary(trace, &v1::Trace::Stub::GetUpstream, upstream, v1::GetUpstreamResponse());
  v1::GetDownstreamRequest downstream;
  downstream.set_code(chain_.dried);
  call[Rpc::kTraceGetDownstream] =
      unary(trace, &v1::Trace::Stub::GetDownstream, downstream, v1::GetDownstreamResponse());
  v1::GetTradeTermsRequest terms;
  terms.set_trade_event_id(chain_.trade_event_id);
  call[Rpc::kTraceGetTradeTerms] =
      unary(trace, &v1::Trace::Stub::GetTradeTerms, terms, v1::TradeTerms());
  v1::GetRecallRequest get_recall;
  get_recall.set_recall_id(chain_.recall_id);
  call[Rpc::kRecallGetRecall] =
      unary(recall, &v1::Recall::Stub::GetRecall, get_recall, v1::RecallView());
  call[Rpc::kRecallListRecalls] = unary(recall, &v1::Recall::Stub::ListRecalls,
                                        v1::ListRecallsRequest(), v1::ListRecallsResponse());
  call[Rpc::kRecallExportRecallCsv] = [this](Who who) {
    v1::ExportRecallCsvRequest request;
    request.set_recall_id(chain_.recall_id);
    auto context = Context();
    auto reader = v1::Recall::NewStub(As(who))->ExportRecallCsv(context.get(), request);
    v1::CsvChunk chunk;
    while (reader->Read(&chunk)) {
    }
    return reader->Finish();
  };

  const std::vector<MatrixRow> rows = {
      {Rpc::kCaptureSubmit, Who::kGrower, C::OK, Who::kTrader, C::PERMISSION_DENIED},
      {Rpc::kCaptureSubmitStream, Who::kGrower, C::OK, Who::kLab, C::PERMISSION_DENIED},
      {Rpc::kCaptureSubmitBundle, Who::kGrower, C::OK, Who::kRegulator, C::PERMISSION_DENIED},
      {Rpc::kRegistryGetParty, Who::kTrader, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kRegistryListParties, Who::kLab, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kRegistryGetKey, Who::kTrader2, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kRegistryGetBase, Who::kTrader, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kRegistryListBases, Who::kGrower, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kRegistryGetHerb, Who::kLab, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kRegistryListHerbs, Who::kTrader, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kLedgerGetCheckpoint, Who::kTrader2, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kLedgerGetInclusionProof, Who::kLab, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kLedgerGetConsistencyProof, Who::kGrower, C::OK, Who::kUnregistered,
       C::UNAUTHENTICATED},
      {Rpc::kLedgerGetEntries, Who::kOperator, C::OK, Who::kTrader, C::PERMISSION_DENIED},
      {Rpc::kLedgerAddCosignature, Who::kRegulator, C::INVALID_ARGUMENT, Who::kOperator,
       C::PERMISSION_DENIED},
      {Rpc::kLedgerAudit, Who::kRegulator, C::OK, Who::kGrower, C::PERMISSION_DENIED},
      {Rpc::kTraceGetBatch, Who::kTrader2, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kTraceGetHistory, Who::kTrader2, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kTraceGetUpstream, Who::kTrader2, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kTraceGetDownstream, Who::kGrower, C::OK, Who::kTrader2, C::PERMISSION_DENIED},
      {Rpc::kTraceGetTradeTerms, Who::kTrader, C::OK, Who::kTrader2, C::PERMISSION_DENIED},
      {Rpc::kRecallGetRecall, Who::kTrader, C::OK, Who::kLab, C::PERMISSION_DENIED},
      {Rpc::kRecallListRecalls, Who::kLab, C::OK, Who::kUnregistered, C::UNAUTHENTICATED},
      {Rpc::kRecallExportRecallCsv, Who::kOperator, C::OK, Who::kTrader, C::PERMISSION_DENIED},
  };

  std::set<Rpc> covered;
  for (const MatrixRow& row : rows) {
    const server::AccessRule& rule = server::RuleOf(row.rpc);
    covered.insert(row.rpc);
    ASSERT_TRUE(call.contains(row.rpc)) << rule.method;
    const grpc::Status allowed = call[row.rpc](row.allowed);
    EXPECT_EQ(allowed.error_code(), row.allowed_code)
        << rule.method << " as " << Name(row.allowed) << ": " << allowed.error_message();
    const uint64_t size = market_->ledger().size();
    const grpc::Status denied = call[row.rpc](row.denied);
    EXPECT_EQ(denied.error_code(), row.denied_code)
        << rule.method << " as " << Name(row.denied) << ": " << denied.error_message();
    EXPECT_THAT(denied.error_message(), HasSubstr(PartyIdOf(row.denied))) << rule.method;
    EXPECT_EQ(market_->ledger().size(), size) << rule.method << " changed the log when refused";
  }
  for (const server::AccessRule& rule : server::AccessRules()) {
    EXPECT_TRUE(covered.contains(rule.rpc)) << rule.method << " has no row in the matrix";
  }
}

TEST(AccessRulesTest, EveryMethodOfEveryServiceHasExactlyOneRule) {
  std::set<std::string> methods;
  for (const char* name : {"herbtrace.v1.Capture", "herbtrace.v1.Registry", "herbtrace.v1.Ledger",
                           "herbtrace.v1.Trace", "herbtrace.v1.Recall"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      methods.insert(absl::StrCat("/", service->full_name(), "/", service->method(i)->name()));
    }
  }
  std::set<std::string> ruled;
  for (const server::AccessRule& rule : server::AccessRules()) {
    EXPECT_TRUE(ruled.insert(std::string(rule.method)).second) << rule.method << " twice";
  }
  EXPECT_EQ(ruled, methods);
}

// ── The plaintext console ────────────────────────────────────────────────────────────────────

class PlaintextConsoleTest : public MarketServiceTest {};

TEST_F(PlaintextConsoleTest, TheLoopbackConsoleReadsEverything) {
  auto context = Context();
  v1::TradeTerms terms;
  v1::GetTradeTermsRequest request;
  request.set_trade_event_id(chain_.trade_event_id);
  EXPECT_THAT(S(trace_->GetTradeTerms(context.get(), request, &terms)), IsOk());
  EXPECT_EQ(terms.price_fen(), 123450u);
  context = Context();
  v1::AuditReport report;
  EXPECT_THAT(S(ledger_->Audit(context.get(), {}, &report)), IsOk());
  EXPECT_TRUE(report.ok());
}

class ConsoleOffTest : public MarketServiceTest {
 protected:
  TestServerOptions Options() override {
    TestServerOptions options;
    options.callers.plaintext_admin = false;
    return options;
  }
};

TEST_F(ConsoleOffTest, EveryPlaintextCallIsUnauthenticated) {
  auto context = Context();
  v1::Checkpoint checkpoint;
  EXPECT_THAT(S(ledger_->GetCheckpoint(context.get(), {}, &checkpoint)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("plaintext"), HasSubstr("console is off"))));
  context = Context();
  v1::BatchState state;
  v1::GetBatchRequest request;
  request.set_code(chain_.dried);
  EXPECT_THAT(S(trace_->GetBatch(context.get(), request, &state)),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(CallerTest, OnlyLoopbackPeersAreTheConsoleUnlessRemoteIsAllowed) {
  EXPECT_TRUE(server::IsLoopbackPeer("ipv4:127.0.0.1:5000"));
  EXPECT_TRUE(server::IsLoopbackPeer("ipv6:[::1]:5000"));
  EXPECT_TRUE(server::IsLoopbackPeer("ipv6:%5B::1%5D:5000"));
  EXPECT_TRUE(server::IsLoopbackPeer("unix:/run/herbtrace.sock"));
  EXPECT_FALSE(server::IsLoopbackPeer("ipv4:10.1.2.3:5000"));
  EXPECT_FALSE(server::IsLoopbackPeer("ipv6:[2001:db8::1]:5000"));
  EXPECT_FALSE(server::IsLoopbackPeer("ipv4:128.0.0.1:5000"));
}

// ── Listeners ────────────────────────────────────────────────────────────────────────────────

TEST_F(TlsAccessTest, ANonLoopbackListenerNeedsTlsAndServesWithIt) {
  TestServerOptions plaintext;
  plaintext.listen = "0.0.0.0:0";
  EXPECT_THAT(TestServer::Start(*source_, plaintext),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("listen"), HasSubstr("--tls_cert"))));
  TestServerOptions tls;
  tls.listen = "0.0.0.0:0";
  tls.tls = Certificates::Get().ServerTls();
  auto server = TestServer::Start(*source_, tls);
  ASSERT_THAT(server, IsOk());
  auto& certs = Certificates::Get();
  auto channel = TlsChannel(absl::StrCat("127.0.0.1:", (*server)->port()), certs.Ca(),
                            certs.Cert(Who::kTrader), certs.Key(Who::kTrader));
  v1::Checkpoint checkpoint;
  auto context = Context();
  EXPECT_THAT(S(v1::Ledger::NewStub(channel)->GetCheckpoint(context.get(), {}, &checkpoint)),
              IsOk());
}

TEST_F(TlsAccessTest, ATlsServersConsoleListensOnLoopbackOnlyAndReadsEverything) {
  TestServerOptions remote;
  remote.tls = Certificates::Get().ServerTls();
  remote.admin_listen = "0.0.0.0:0";
  EXPECT_THAT(TestServer::Start(*source_, remote),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("admin_listen")));

  TestServerOptions options;
  options.tls = Certificates::Get().ServerTls();
  options.admin_listen = "127.0.0.1:0";
  auto server = TestServer::Start(*source_, options);
  ASSERT_THAT(server, IsOk());
  auto console =
      grpc::CreateChannel((*server)->admin_address(), grpc::InsecureChannelCredentials());
  v1::GetTradeTermsRequest request;
  request.set_trade_event_id(chain_.trade_event_id);
  v1::TradeTerms terms;
  auto context = Context();
  EXPECT_THAT(S(v1::Trace::NewStub(console)->GetTradeTerms(context.get(), request, &terms)),
              IsOk());
  EXPECT_EQ(terms.price_fen(), 123450u);
  // The TLS listener of the same server still wants a certificate.
  auto plaintext = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
  context = Context(10);
  EXPECT_THAT(S(v1::Trace::NewStub(plaintext)->GetTradeTerms(context.get(), request, &terms)),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ServerHostTlsTest, TlsWithoutItsFilesIsRefused) {
  server::ServerHostOptions options;
  options.tls = server::ServerHostOptions::Tls{"cert", "", "ca"};
  EXPECT_THAT(server::ServerHost::Start(options, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tls")));
}

}  // namespace
}  // namespace herbtrace::testing
