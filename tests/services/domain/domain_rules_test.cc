// The domain rules on a real ledger: the genesis and every registration, the whole huangqi (黄芪)
// chain from harvest to a closed recall, every rule's rejection (exact code, a message naming the
// field, and neither the log nor the domain state changed), and a long process chain put on
// hold by one failed test at its root.
#include "services/domain/domain_rules.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "services/domain/catalog_files.h"
#include "services/domain/event_batches.h"
#include "services/domain/state_keys.h"
#include "services/server/capture_service.h"
#include "storage/audit.h"
#include "storage/key_codec.h"
#include "tests/services/domain/domain_harness.h"

namespace herbtrace::domain {
namespace {

using ::herbtrace::testing::Actor;
using ::herbtrace::testing::DomainHarness;
using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::MakeBatchId;
using ::herbtrace::testing::MakeUscc;
using ::herbtrace::testing::NewKey;
using ::herbtrace::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

constexpr char kCatalogVersion[] = "anguo-herbs-2024.1";
constexpr char kLimitsVersion[] = "chp2020-anguo-2024.1";

std::string SourcePath(absl::string_view relative) {
  return absl::StrCat(HERBTRACE_SOURCE_DIR, "/", relative);
}

Actor MakeActor(absl::string_view party_id) { return Actor{std::string(party_id), NewKey()}; }

// Every test runs twice: events handed to the ledger as the capture layer does, and events sent
// as a client does, over a real gRPC channel to the Capture service (param true), so each rule's
// rejection is also checked for its exact gRPC status and that nothing changed.
class DomainRulesTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) StartCapture();
    op_ = Actor{"13068300000001", h_.operator_key()};
    Genesis();
    Register(op_, regulator_, {v1::PARTY_ROLE_REGULATOR}, "安国市市场监督管理局");
    Register(regulator_, grower_, {v1::PARTY_ROLE_GROWER}, "安国市祁州黄芪种植专业合作社");
    Register(regulator_, grower2_, {v1::PARTY_ROLE_GROWER}, "安国市某种植户");
    Register(op_, trader_, {v1::PARTY_ROLE_TRADER}, "安国市某药材经营部");
    Register(op_, maker_a_, {v1::PARTY_ROLE_PROCESSOR}, "安国市甲饮片厂");
    Register(op_, maker_b_, {v1::PARTY_ROLE_PROCESSOR}, "安国市乙饮片厂");
    Register(regulator_, lab_, {v1::PARTY_ROLE_LAB}, "河北某检测中心");
    Register(op_, pharmacy_, {v1::PARTY_ROLE_PHARMACY}, "安国市某大药房");
    LoadCatalogAndLimits();
    RegisterBase(grower_, base_id_, {"HUANGQI", "SHANYAO"});
    RegisterBase(grower2_, base2_id_, {"HUANGQI"});
  }

  void StartCapture() {
    server::CaptureOptions options;
    options.bootstrap_key_id = h_.operator_key()->public_key().key_id();
    capture_service_ = server::NewCaptureService(h_.ledger(), options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(capture_service_.get());
    capture_server_ = builder.BuildAndStart();
    ASSERT_NE(capture_server_, nullptr);
    capture_stub_ = v1::Capture::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    h_.RouteThroughCapture(capture_stub_.get());
  }

  void TearDown() override {
    if (capture_server_ != nullptr) capture_server_->Shutdown();
  }

  std::unique_ptr<v1::Capture::CallbackService> capture_service_;
  std::unique_ptr<grpc::Server> capture_server_;
  std::unique_ptr<v1::Capture::Stub> capture_stub_;

  // ── event builders ──
  v1::Receipt Ok(const v1::Event& event, const Actor& signer,
                 std::vector<v1::Opening> openings = {}) {
    auto receipt = h_.Submit(event, signer, std::move(openings));
    EXPECT_THAT(receipt, IsOk()) << event.ShortDebugString();
    return receipt.value_or(v1::Receipt());
  }

  // Submits an event that must be rejected with `code` and a message starting with `field`,
  // and checks that neither the log nor any domain state changed.
  void ExpectRejected(const v1::Event& event, const Actor& signer, absl::StatusCode code,
                      absl::string_view field, std::vector<v1::Opening> openings = {}) {
    const uint64_t size = h_.ledger().size();
    const std::string before = h_.StateFingerprint();
    auto receipt = h_.Submit(event, signer, std::move(openings));
    EXPECT_THAT(receipt, StatusIs(code, StartsWith(absl::StrCat(field, ": "))));
    EXPECT_EQ(h_.ledger().size(), size) << "a rejected event was logged";
    EXPECT_EQ(h_.StateFingerprint(), before) << "a rejected event changed the domain state";
  }

  v1::Event RegisterPartyEvent(const Actor& registrar, const Actor& party,
                               std::vector<v1::PartyRole> roles, absl::string_view name) {
    v1::Event e = h_.NewEvent(registrar);
    v1::RegisterParty* rp = e.mutable_register_party();
    rp->set_party_id(party.party_id);
    rp->set_name(std::string(name));
    for (v1::PartyRole r : roles) rp->add_roles(r);
    rp->set_uscc(MakeUscc("130683", std::stoi(party.party_id.substr(6))));
    rp->set_region_code(party.party_id.substr(0, 6));
    rp->set_address("河北省安国市");
    *rp->add_initial_keys() = DomainHarness::MakeNewKey(*party.key, party.party_id);
    return e;
  }

  void Genesis() {
    v1::Event e = RegisterPartyEvent(op_, op_, {v1::PARTY_ROLE_MARKET_OPERATOR},
                                     "安国数字中药都市场管理有限公司");
    ASSERT_THAT(h_.Submit(e, op_, {}, /*self_signed=*/true), IsOk());
  }

  void Register(const Actor& registrar, const Actor& party, std::vector<v1::PartyRole> roles,
                absl::string_view name) {
    Ok(RegisterPartyEvent(registrar, party, std::move(roles), name), registrar);
  }

  void LoadCatalogAndLimits() {
    auto catalog = ReadHerbCatalogFile(SourcePath("catalog/herbs.csv"), kCatalogVersion);
    ASSERT_THAT(catalog, IsOk());
    v1::Event e = h_.NewEvent(op_);
    *e.mutable_load_herb_catalog() = *catalog;
    Ok(e, op_);
    auto limits =
        ReadQualityLimitsFile(SourcePath("catalog/quality-limits.csv"), *catalog, kLimitsVersion);
    ASSERT_THAT(limits, IsOk());
    v1::Event l = h_.NewEvent(regulator_);
    *l.mutable_load_quality_limits() = limits->limits;
    Ok(l, regulator_);
  }

  void RegisterBase(const Actor& grower, const std::string& base_id,
                    std::vector<std::string> herbs) {
    v1::Event e = h_.NewEvent(grower);
    v1::RegisterBase* rb = e.mutable_register_base();
    rb->set_base_id(base_id);
    rb->set_name("祁州药材基地");
    rb->set_region_code("130683");
    rb->mutable_location()->set_latitude_micro_deg(38418512);
    rb->mutable_location()->set_longitude_micro_deg(115323450);
    rb->set_area_centi_mu(125000);
    for (const auto& herb : herbs) rb->add_herb_codes(herb);
    rb->set_cultivation(v1::CULTIVATION_KIND_CULTIVATED);
    Ok(e, grower);
  }

  // A fresh batch code of `actor` for today.
  std::string NextBatchId(const Actor& actor, int node_type) {
    return MakeBatchId(node_type, actor.party_id, h_.Today(), ++sequence_[actor.party_id]);
  }

  v1::Event HarvestEvent(const Actor& grower, const std::string& batch_id, uint64_t grams,
                         const std::string& base_id, absl::string_view herb = "HUANGQI") {
    v1::Event e = h_.NewEvent(grower);
    v1::Harvest* hv = e.mutable_harvest();
    hv->set_batch_id(batch_id);
    hv->set_base_id(base_id);
    hv->set_herb_code(std::string(herb));
    hv->set_grams(grams);
    hv->mutable_harvest_date()->set_year(2024);
    hv->mutable_harvest_date()->set_month(9);
    hv->mutable_harvest_date()->set_day(12);
    hv->set_plot("东-3");
    return e;
  }

  std::string Harvest(uint64_t grams) {
    const std::string id = NextBatchId(grower_, 1);
    Ok(HarvestEvent(grower_, id, grams, base_id_), grower_);
    return id;
  }

  v1::Event ProcessEvent(const Actor& actor, const std::string& input, uint64_t in,
                         const std::string& output, uint64_t out, uint64_t loss,
                         v1::ProcessKind kind = v1::PROCESS_KIND_DRYING) {
    v1::Event e = h_.NewEvent(actor);
    v1::Process* p = e.mutable_process();
    p->set_kind(kind);
    p->mutable_input()->set_batch_id(input);
    p->mutable_input()->set_grams(in);
    p->set_output_batch_id(output);
    p->set_output_grams(out);
    p->set_loss_grams(loss);
    return e;
  }

  std::string Process(const Actor& actor, int node_type, const std::string& input, uint64_t in,
                      uint64_t out, v1::ProcessKind kind = v1::PROCESS_KIND_DRYING) {
    const std::string id = NextBatchId(actor, node_type);
    Ok(ProcessEvent(actor, input, in, id, out, in - out, kind), actor);
    return id;
  }

  v1::Event SplitEvent(const Actor& actor, const std::string& input,
                       const std::vector<std::pair<std::string, uint64_t>>& outputs) {
    v1::Event e = h_.NewEvent(actor);
    e.mutable_split()->set_input_batch_id(input);
    for (const auto& [id, grams] : outputs) {
      v1::BatchQuantity* q = e.mutable_split()->add_outputs();
      q->set_batch_id(id);
      q->set_grams(grams);
    }
    return e;
  }

  std::vector<std::string> Split(const Actor& actor, int node_type, const std::string& input,
                                 std::vector<uint64_t> grams) {
    std::vector<std::pair<std::string, uint64_t>> outputs;
    std::vector<std::string> ids;
    for (uint64_t g : grams) {
      ids.push_back(NextBatchId(actor, node_type));
      outputs.emplace_back(ids.back(), g);
    }
    Ok(SplitEvent(actor, input, outputs), actor);
    return ids;
  }

  v1::Event ShipEvent(const Actor& from, const Actor& to, const std::string& batch,
                      uint64_t grams) {
    v1::Event e = h_.NewEvent(from);
    e.mutable_ship()->set_to_party_id(to.party_id);
    v1::BatchQuantity* q = e.mutable_ship()->add_batches();
    q->set_batch_id(batch);
    q->set_grams(grams);
    e.mutable_ship()->set_vehicle_plate("冀F12345");
    return e;
  }

  std::string Ship(const Actor& from, const Actor& to, const std::string& batch, uint64_t grams) {
    v1::Event e = ShipEvent(from, to, batch, grams);
    Ok(e, from);
    return e.event_id();
  }

  v1::Event TradeEvent(const Actor& seller, const Actor& buyer, const std::string& batch,
                       uint64_t grams, const std::string& commitment) {
    v1::Event e = h_.NewEvent(seller);
    v1::Trade* t = e.mutable_trade();
    t->set_seller_party_id(seller.party_id);
    t->set_buyer_party_id(buyer.party_id);
    t->mutable_batch()->set_batch_id(batch);
    t->mutable_batch()->set_grams(grams);
    t->set_price_commitment(commitment);
    t->set_trade_no("T-20240915-0007");
    return e;
  }

  std::string Trade(const Actor& seller, const Actor& buyer, const std::string& batch,
                    uint64_t grams, uint64_t fen) {
    auto [commitment, opening] =
        DomainHarness::Commit("trade.price_commitment", DomainHarness::PriceValue(fen));
    v1::Event e = TradeEvent(seller, buyer, batch, grams, commitment);
    Ok(e, seller, {opening});
    return e.event_id();
  }

  v1::Event ReceiveEvent(const Actor& actor, const std::string& transfer,
                         const std::vector<std::pair<std::string, uint64_t>>& lots) {
    v1::Event e = h_.NewEvent(actor);
    e.mutable_receive()->set_transfer_event_id(transfer);
    for (const auto& [id, grams] : lots) {
      v1::BatchQuantity* q = e.mutable_receive()->add_received();
      q->set_batch_id(id);
      q->set_grams(grams);
    }
    return e;
  }

  void Receive(const Actor& actor, const std::string& transfer, const std::string& batch,
               uint64_t grams) {
    Ok(ReceiveEvent(actor, transfer, {{batch, grams}}), actor);
  }

  // A SO2 result in mg/kg (converted to the contract's ng/kg).
  v1::Event So2TestEvent(const std::string& batch, int64_t so2_mg_per_kg,
                         absl::string_view limits_version = kLimitsVersion) {
    v1::Event e = h_.NewEvent(lab_);
    v1::QualityTest* q = e.mutable_quality_test();
    q->set_batch_id(batch);
    q->set_sample_id("S-2024-0915-01");
    q->set_purpose(v1::TEST_PURPOSE_COMMISSIONED);
    q->set_limits_version(std::string(limits_version));
    v1::AnalyteResult* so2 = q->add_results();
    so2->set_analyte("so2");
    so2->mutable_value()->set_value(so2_mg_per_kg * 1'000'000);
    so2->mutable_value()->set_unit(v1::MEASURE_UNIT_NG_PER_KG);
    so2->set_method("ChP 2020 2331");
    so2->set_display_unit(v1::DISPLAY_UNIT_MG_PER_KG);
    v1::AnalyteResult* pb = q->add_results();
    pb->set_analyte("pb");
    pb->mutable_value()->set_value(1'200'000);  // 1.2 mg/kg ≤ 5
    pb->mutable_value()->set_unit(v1::MEASURE_UNIT_NG_PER_KG);
    return e;
  }

  v1::Event RecallEvent(const std::string& batch) {
    v1::Event e = h_.NewEvent(regulator_);
    e.mutable_recall()->set_batch_id(batch);
    e.mutable_recall()->set_reason("二氧化硫残留超标");
    e.mutable_recall()->set_severity(v1::RECALL_SEVERITY_CLASS_II);
    e.mutable_recall()->mutable_ack_deadline()->set_seconds(
        absl::ToUnixSeconds(h_.clock().Now() + absl::Hours(72)));
    return e;
  }

  v1::Event AckEvent(const Actor& holder, const std::string& recall, const std::string& batch,
                     v1::RecallAction action, uint64_t grams, const std::string& to = "") {
    v1::Event e = h_.NewEvent(holder);
    v1::RecallAck* a = e.mutable_recall_ack();
    a->set_recall_id(recall);
    a->set_batch_id(batch);
    a->set_action(action);
    a->set_grams(grams);
    a->set_returned_to_party_id(to);
    return e;
  }

  v1::BatchState Batch(const std::string& id) {
    auto batch = h_.reader().Batch(id);
    EXPECT_THAT(batch, IsOk());
    return batch.value_or(v1::BatchState());
  }

  // Every stored scope record of the recall says what its lot's state says now: holder,
  // grams, status and last seq, and nothing more of the state.
  void ExpectScopeNowIsEachLotsState(const std::string& recall_id) {
    const std::string prefix = keys::RecallLotPrefix(recall_id);
    std::unique_ptr<rocksdb::Iterator> it(h_.ledger().db().db().NewIterator(
        rocksdb::ReadOptions(), h_.ledger().db().cf(storage::Cf::kRegistry)));
    size_t lots = 0;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      v1::RecallScopeLot stored;
      ASSERT_TRUE(stored.ParseFromString(it->value().ToString()));
      SCOPED_TRACE(stored.batch_id());
      ++lots;
      ASSERT_TRUE(stored.has_current());
      const v1::BatchState& now = stored.current();
      const v1::BatchState state = Batch(stored.batch_id());
      EXPECT_EQ(now.holder_party_id(), state.holder_party_id());
      EXPECT_EQ(now.remaining_grams(), state.remaining_grams());
      EXPECT_EQ(now.status(), state.status());
      EXPECT_EQ(now.last_seq(), state.last_seq());
      EXPECT_TRUE(now.batch_id().empty());
      EXPECT_EQ(now.recall_ids_size(), 0);
      EXPECT_EQ(stored.acks_size(), 0);
    }
    auto view = h_.reader().Recall(recall_id);
    ASSERT_THAT(view, IsOk());
    EXPECT_EQ(lots, static_cast<size_t>(view->lots_size()));
  }

  // The dried lot D held by the trader, bought from the grower: the common start of many tests.
  std::string DriedLotAtTrader() {
    const std::string harvest = Harvest(100'000);
    const std::string dried = Process(grower_, 1, harvest, 100'000, 30'000);
    const std::string trade = Trade(grower_, trader_, dried, 30'000, 123'450);
    Receive(trader_, trade, dried, 30'000);
    return dried;
  }

  DomainHarness h_;
  Actor op_;
  Actor regulator_ = MakeActor("13068300000002");
  Actor grower_ = MakeActor("13068300000011");
  Actor grower2_ = MakeActor("13068300000012");
  Actor trader_ = MakeActor("13068300000021");
  Actor maker_a_ = MakeActor("13068300000031");
  Actor maker_b_ = MakeActor("13068300000032");
  Actor lab_ = MakeActor("13068300000041");
  Actor pharmacy_ = MakeActor("13068300000051");
  std::string base_id_ = "130683000000110001";
  std::string base2_id_ = "130683000000120001";
  std::map<std::string, int> sequence_;
};

// ── Genesis and registrations ────────────────────────────────────────────────────────────────

TEST_P(DomainRulesTest, GenesisAndRegistrationsBuildTheRegistry) {
  auto op = h_.reader().Party(op_.party_id);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->registered_by(), op_.party_id);
  EXPECT_EQ(op->registered_seq(), 0u);
  EXPECT_EQ(op->status(), v1::PARTY_STATUS_ACTIVE);
  ASSERT_EQ(op->keys_size(), 1);
  EXPECT_EQ(op->keys(0).key_id(), op_.key_id());
  EXPECT_EQ(op->keys(0).status(), v1::KEY_STATUS_ACTIVE);

  auto grower = h_.reader().Party(grower_.party_id);
  ASSERT_THAT(grower, IsOk());
  EXPECT_EQ(grower->registered_by(), regulator_.party_id);
  EXPECT_THAT(grower->roles(), ElementsAre(v1::PARTY_ROLE_GROWER));

  auto parties = h_.reader().Parties();
  ASSERT_THAT(parties, IsOk());
  EXPECT_EQ(parties->size(), 9u);

  auto herb = h_.reader().Herb("HUANGQI");
  ASSERT_THAT(herb, IsOk());
  EXPECT_EQ(herb->zh_name(), "黄芪");
  EXPECT_THAT(h_.reader().CurrentLimitsVersion(), IsOk());
  EXPECT_EQ(*h_.reader().CurrentLimitsVersion(), kLimitsVersion);

  auto base = h_.reader().Base(base_id_);
  ASSERT_THAT(base, IsOk());
  EXPECT_EQ(base->owner_party_id(), grower_.party_id);
  auto bases = h_.reader().Bases(grower_.party_id);
  ASSERT_THAT(bases, IsOk());
  EXPECT_EQ(bases->size(), 1u);
}

TEST_P(DomainRulesTest, GenesisIsAcceptedOnlyOnAnEmptyRegistry) {
  Actor other = MakeActor("13068300000099");
  v1::Event e = RegisterPartyEvent(other, other, {v1::PARTY_ROLE_MARKET_OPERATOR}, "冒名者");
  const uint64_t size = h_.ledger().size();
  EXPECT_THAT(h_.Submit(e, other, {}, /*self_signed=*/true),
              StatusIs(absl::StatusCode::kUnauthenticated, StartsWith("signed_event.key_id: ")));
  EXPECT_EQ(h_.ledger().size(), size);
}

TEST(DomainGenesisTest, SelfSignedGenesisNeedsTheBootstrapKey) {
  DomainHarness h;
  Actor stranger = MakeActor("13068300000001");
  v1::Event e = h.NewEvent(stranger);
  v1::RegisterParty* rp = e.mutable_register_party();
  rp->set_party_id(stranger.party_id);
  rp->set_name("市场");
  rp->add_roles(v1::PARTY_ROLE_MARKET_OPERATOR);
  rp->set_uscc(MakeUscc("130683", 1));
  rp->set_region_code("130683");
  *rp->add_initial_keys() = DomainHarness::MakeNewKey(*stranger.key, stranger.party_id);
  EXPECT_THAT(h.Submit(e, stranger, {}, /*self_signed=*/true),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("bootstrap key")));
  // Not self-signed on an empty registry: the key is simply unknown.
  EXPECT_THAT(h.Submit(e, stranger),
              StatusIs(absl::StatusCode::kUnauthenticated, StartsWith("signed_event.key_id: ")));
  // The bootstrap key, but registering a grower instead of the operator.
  Actor op{"13068300000001", h.operator_key()};
  v1::Event g = h.NewEvent(op);
  *g.mutable_register_party() = e.register_party();
  g.mutable_register_party()->set_roles(0, v1::PARTY_ROLE_GROWER);
  *g.mutable_register_party()->mutable_initial_keys(0) =
      DomainHarness::MakeNewKey(*op.key, op.party_id);
  EXPECT_THAT(h.Submit(g, op, {}, true),
              StatusIs(absl::StatusCode::kPermissionDenied, StartsWith("register_party.roles: ")));
  EXPECT_EQ(h.ledger().size(), 0u);
}

TEST_P(DomainRulesTest, OnlyRegistrarsRegisterPartiesAndOnlyRegulatorsGrantRegulator) {
  Actor newcomer = MakeActor("13068300000061");
  ExpectRejected(RegisterPartyEvent(grower_, newcomer, {v1::PARTY_ROLE_GROWER}, "x"), grower_,
                 absl::StatusCode::kPermissionDenied, "party_id");
  // The operator registered the first regulator; a second regulator needs a regulator.
  ExpectRejected(RegisterPartyEvent(op_, newcomer, {v1::PARTY_ROLE_REGULATOR}, "x"), op_,
                 absl::StatusCode::kPermissionDenied, "register_party.roles[0]");
  Register(regulator_, newcomer, {v1::PARTY_ROLE_REGULATOR}, "省药监局");
}

TEST_P(DomainRulesTest, RegisterPartyChecksIdsAndTheUsccCheckCharacter) {
  Actor newcomer = MakeActor("13068300000061");
  v1::Event e = RegisterPartyEvent(op_, newcomer, {v1::PARTY_ROLE_TRADER}, "x");
  std::string uscc = e.register_party().uscc();
  uscc.back() = uscc.back() == '0' ? '1' : '0';
  e.mutable_register_party()->set_uscc(uscc);
  ExpectRejected(e, op_, absl::StatusCode::kInvalidArgument, "register_party.uscc");

  e = RegisterPartyEvent(op_, newcomer, {v1::PARTY_ROLE_TRADER}, "x");
  e.mutable_register_party()->set_region_code("130600");
  ExpectRejected(e, op_, absl::StatusCode::kInvalidArgument, "register_party.party_id");

  e = RegisterPartyEvent(op_, newcomer, {v1::PARTY_ROLE_TRADER}, "x");
  e.mutable_register_party()->mutable_initial_keys(0)->set_proof_of_possession(
      std::string(64, 'x'));
  ExpectRejected(e, op_, absl::StatusCode::kInvalidArgument,
                 "register_party.initial_keys[0].proof_of_possession");

  // A key already registered (the trader's).
  e = RegisterPartyEvent(op_, newcomer, {v1::PARTY_ROLE_TRADER}, "x");
  *e.mutable_register_party()->mutable_initial_keys(0) =
      DomainHarness::MakeNewKey(*trader_.key, newcomer.party_id);
  ExpectRejected(e, op_, absl::StatusCode::kAlreadyExists,
                 "register_party.initial_keys[0].public_key");
}

TEST_P(DomainRulesTest, NaturalPersonNeedsAnOpenedIdentityCommitment) {
  Actor farmer = MakeActor("13068300000071");
  v1::Event e = RegisterPartyEvent(op_, farmer, {v1::PARTY_ROLE_GROWER}, "张三");
  e.mutable_register_party()->clear_uscc();
  e.mutable_register_party()->set_natural_person(true);
  // 11010519491231002X: the GB 11643 example number.
  auto [commitment, opening] =
      DomainHarness::Commit("register_party.identity_commitment", "11010519491231002X");
  e.mutable_register_party()->set_identity_commitment(commitment);
  ExpectRejected(e, op_, absl::StatusCode::kInvalidArgument,
                 "openings[register_party.identity_commitment]");
  Ok(e, op_, {opening});
  auto party = h_.reader().Party(farmer.party_id);
  ASSERT_THAT(party, IsOk());
  EXPECT_TRUE(party->natural_person());
}

TEST_P(DomainRulesTest, PartyRegistersItsOwnKeysAndRevokedKeysStopSigning) {
  std::shared_ptr<crypto::PrivateKey> second = NewKey();
  v1::Event add = h_.NewEvent(grower_);
  add.mutable_register_key()->set_party_id(grower_.party_id);
  *add.mutable_register_key()->mutable_key() =
      DomainHarness::MakeNewKey(*second, grower_.party_id, "scale-hall3-07");
  Ok(add, grower_);

  // Another party cannot add keys to the grower.
  v1::Event foreign = h_.NewEvent(trader_);
  foreign.mutable_register_key()->set_party_id(grower_.party_id);
  *foreign.mutable_register_key()->mutable_key() =
      DomainHarness::MakeNewKey(*NewKey(), grower_.party_id);
  ExpectRejected(foreign, trader_, absl::StatusCode::kPermissionDenied, "register_key.party_id");

  v1::Event revoke = h_.NewEvent(grower_);
  revoke.mutable_revoke_key()->set_key_id(grower_.key_id());
  revoke.mutable_revoke_key()->set_reason("handheld lost");
  const uint64_t revoked_at = Ok(revoke, grower_).seq();

  // Events signed with the revoked key are rejected; the new key works.
  const std::string id = NextBatchId(grower_, 1);
  ExpectRejected(HarvestEvent(grower_, id, 1'000, base_id_), grower_,
                 absl::StatusCode::kUnauthenticated, "signed_event.key_id");
  Actor grower_new{grower_.party_id, second};
  Ok(HarvestEvent(grower_new, id, 1'000, base_id_), grower_new);

  auto key = h_.reader().Key(grower_.key_id());
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(key->status(), v1::KEY_STATUS_REVOKED);
  EXPECT_EQ(key->revoked_at_seq(), revoked_at);
  auto party = h_.reader().Party(grower_.party_id);
  ASSERT_THAT(party, IsOk());
  EXPECT_EQ(party->keys_size(), 2);

  v1::Event again = h_.NewEvent(grower_new);
  again.mutable_revoke_key()->set_key_id(grower_.key_id());
  ExpectRejected(again, grower_new, absl::StatusCode::kFailedPrecondition, "revoke_key.key_id");
}

TEST_P(DomainRulesTest, RegisterBaseOnlyForOwnBasesAndCatalogHerbs) {
  v1::Event e = h_.NewEvent(grower_);
  e.mutable_register_base()->set_base_id(base2_id_);  // the other grower's id prefix
  e.mutable_register_base()->set_name("x");
  e.mutable_register_base()->set_region_code("130683");
  e.mutable_register_base()->add_herb_codes("HUANGQI");
  ExpectRejected(e, grower_, absl::StatusCode::kPermissionDenied, "register_base.base_id");

  e.mutable_register_base()->set_base_id("130683000000110002");
  e.mutable_register_base()->set_herb_codes(0, "NOSUCHHERB");
  ExpectRejected(e, grower_, absl::StatusCode::kNotFound, "register_base.herb_codes[0]");

  e.mutable_register_base()->set_herb_codes(0, "HUANGQI");
  ExpectRejected(e, trader_, absl::StatusCode::kPermissionDenied, "signed_event.key_id");
  Ok(e, grower_);
}

TEST_P(DomainRulesTest, CatalogAndLimitsAreNewVersionsNeverEdits) {
  auto catalog = ReadHerbCatalogFile(SourcePath("catalog/herbs.csv"), kCatalogVersion);
  ASSERT_THAT(catalog, IsOk());
  v1::Event same = h_.NewEvent(op_);
  *same.mutable_load_herb_catalog() = *catalog;
  ExpectRejected(same, op_, absl::StatusCode::kAlreadyExists, "load_herb_catalog.version");

  // A new version may not withdraw a code.
  v1::Event shrink = h_.NewEvent(op_);
  *shrink.mutable_load_herb_catalog() = *catalog;
  shrink.mutable_load_herb_catalog()->set_version("anguo-herbs-2024.2");
  shrink.mutable_load_herb_catalog()->mutable_herbs()->RemoveLast();
  ExpectRejected(shrink, op_, absl::StatusCode::kFailedPrecondition, "load_herb_catalog.herbs");

  auto limits = h_.reader().Limits(kLimitsVersion);
  ASSERT_THAT(limits, IsOk());
  v1::Event edit = h_.NewEvent(regulator_);
  *edit.mutable_load_quality_limits() = *limits;
  edit.mutable_load_quality_limits()->mutable_rows(0)->mutable_limit()->set_value(1);
  ExpectRejected(edit, regulator_, absl::StatusCode::kAlreadyExists, "load_quality_limits.version");

  v1::Event stale = h_.NewEvent(regulator_);
  *stale.mutable_load_quality_limits() = *limits;
  stale.mutable_load_quality_limits()->set_version("chp2020-anguo-2024.2");
  stale.mutable_load_quality_limits()->set_supersedes("");
  ExpectRejected(stale, regulator_, absl::StatusCode::kFailedPrecondition,
                 "load_quality_limits.supersedes");

  // Only a regulator loads limits.
  v1::Event by_operator = h_.NewEvent(op_);
  *by_operator.mutable_load_quality_limits() = *limits;
  by_operator.mutable_load_quality_limits()->set_version("chp2020-anguo-2024.2");
  by_operator.mutable_load_quality_limits()->set_supersedes(kLimitsVersion);
  ExpectRejected(by_operator, op_, absl::StatusCode::kPermissionDenied, "party_id");

  stale.mutable_load_quality_limits()->set_supersedes(kLimitsVersion);
  Ok(stale, regulator_);
  EXPECT_EQ(*h_.reader().CurrentLimitsVersion(), "chp2020-anguo-2024.2");
}

// ── The huangqi chain ────────────────────────────────────────────────────────────────────────

TEST_P(DomainRulesTest, HuangqiChainFromHarvestToClosedRecall) {
  // Harvest at the grower's base, dried at the yard: 100 kg fresh → 30 kg dry.
  const std::string harvest = Harvest(100'000);
  const std::string dried = Process(grower_, 1, harvest, 100'000, 30'000);
  EXPECT_EQ(Batch(harvest).status(), v1::BATCH_STATUS_CONSUMED);
  v1::BatchState d = Batch(dried);
  EXPECT_EQ(d.herb_code(), "HUANGQI");
  EXPECT_EQ(d.remaining_grams(), 30'000u);
  EXPECT_THAT(d.origin_batch_ids(), ElementsAre(harvest));
  EXPECT_THAT(d.parent_batch_ids(), ElementsAre(harvest));

  // Stored at the grower's own store.
  v1::Event store = h_.NewEvent(grower_);
  store.mutable_store()->set_action(v1::STORE_ACTION_IN);
  store.mutable_store()->add_batch_ids(dried);
  store.mutable_store()->set_warehouse_party_id(grower_.party_id);
  store.mutable_store()->set_location("A库-3区-12排");
  store.mutable_store()->set_storage_class(v1::STORAGE_CLASS_COOL);
  Ok(store, grower_);
  EXPECT_EQ(Batch(dried).location(), "A库-3区-12排");

  // Sold at the market to the trader; the price is a commitment with its opening.
  auto [commitment, opening] =
      DomainHarness::Commit("trade.price_commitment", DomainHarness::PriceValue(123'450));
  v1::Event trade = TradeEvent(grower_, trader_, dried, 30'000, commitment);
  const uint64_t trade_seq = Ok(trade, grower_, {opening}).seq();
  auto stored = h_.ledger().db().Get(storage::Cf::kConfidential,
                                     storage::BigEndian64(trade_seq) + "trade.price_commitment");
  ASSERT_THAT(stored, IsOk());
  ASSERT_TRUE(stored->has_value());
  v1::Opening kept;
  ASSERT_TRUE(kept.ParseFromString(**stored));
  EXPECT_EQ(kept.value(), DomainHarness::PriceValue(123'450));
  d = Batch(dried);
  EXPECT_TRUE(d.has_in_transit());
  EXPECT_EQ(d.in_transit().kind(), v1::TRANSFER_KIND_TRADE);
  EXPECT_EQ(d.holder_party_id(), grower_.party_id);
  EXPECT_TRUE(d.warehouse_party_id().empty());

  Receive(trader_, trade.event_id(), dried, 30'000);
  d = Batch(dried);
  EXPECT_FALSE(d.has_in_transit());
  EXPECT_EQ(d.holder_party_id(), trader_.party_id);
  EXPECT_THAT(*h_.reader().HeldBy(trader_.party_id), ElementsAre(dried));
  EXPECT_THAT(*h_.reader().HeldBy(grower_.party_id), ElementsAre(harvest));

  // Split into three lots; the dried lot keeps 1 kg.
  const std::vector<std::string> lots = Split(trader_, 4, dried, {10'000, 10'000, 9'000});
  EXPECT_EQ(Batch(dried).remaining_grams(), 1'000u);
  EXPECT_THAT(*h_.reader().Children(dried), UnorderedElementsAre(lots[0], lots[1], lots[2]));
  EXPECT_THAT(*h_.reader().Parents(lots[0]), ElementsAre(dried));
  EXPECT_THAT(Batch(lots[2]).origin_batch_ids(), ElementsAre(harvest));

  // Two decoction-piece makers each receive one.
  const std::string ship_a = Ship(trader_, maker_a_, lots[0], 10'000);
  const std::string ship_b = Ship(trader_, maker_b_, lots[1], 10'000);
  Receive(maker_a_, ship_a, lots[0], 10'000);
  Receive(maker_b_, ship_b, lots[1], 10'000);
  EXPECT_EQ(Batch(lots[1]).holder_party_id(), maker_b_.party_id);

  // Maker B slices 8 kg of its lot into decoction pieces.
  const std::string pieces = Process(maker_b_, 2, lots[1], 8'000, 7'600, v1::PROCESS_KIND_SLICING);

  // The lab finds 500 mg/kg SO2 in maker B's lot: FAIL against the general 150.
  v1::Event test = So2TestEvent(lots[1], 500);
  const uint64_t test_seq = Ok(test, lab_).seq();
  auto tests = h_.reader().Tests(lots[1]);
  ASSERT_THAT(tests, IsOk());
  ASSERT_EQ(tests->size(), 1u);
  EXPECT_EQ((*tests)[0].verdict(), v1::VERDICT_FAIL);
  EXPECT_EQ((*tests)[0].results(0).verdict(), v1::VERDICT_FAIL);
  EXPECT_EQ((*tests)[0].results(1).verdict(), v1::VERDICT_PASS);
  ASSERT_EQ((*tests)[0].results(0).applied_limits_size(), 1);
  EXPECT_EQ((*tests)[0].results(0).applied_limits(0).limit().value(), 150'000'000);
  v1::BatchState failed = Batch(lots[1]);
  EXPECT_EQ(failed.status(), v1::BATCH_STATUS_HELD);
  EXPECT_EQ(failed.latest_verdict(), v1::VERDICT_FAIL);
  ASSERT_EQ(failed.holds_size(), 1);
  EXPECT_EQ(failed.holds(0).test_seq(), test_seq);
  EXPECT_THAT(failed.holds(0).reason(), HasSubstr("so2 500 mg/kg > 150 mg/kg"));
  v1::BatchState held_pieces = Batch(pieces);
  EXPECT_EQ(held_pieces.status(), v1::BATCH_STATUS_HELD);
  EXPECT_EQ(held_pieces.holds(0).source_batch_id(), lots[1]);
  // Neither the failed lot nor what was made from it can move.
  ExpectRejected(ShipEvent(maker_b_, pharmacy_, pieces, 7'600), maker_b_,
                 absl::StatusCode::kFailedPrecondition, "ship.batches[0].batch_id");
  // Siblings and the parent are not affected.
  EXPECT_EQ(Batch(lots[0]).status(), v1::BATCH_STATUS_ACTIVE);
  EXPECT_EQ(Batch(dried).status(), v1::BATCH_STATUS_ACTIVE);

  // The regulator recalls the dried lot: the scope is its downstream closure now.
  v1::Event recall = RecallEvent(dried);
  Ok(recall, regulator_);
  const std::string recall_id = recall.event_id();
  ExpectScopeNowIsEachLotsState(recall_id);
  auto view = h_.reader().Recall(recall_id);
  ASSERT_THAT(view, IsOk());
  EXPECT_EQ(view->status(), v1::RECALL_STATUS_OPEN);
  EXPECT_EQ(view->herb_code(), "HUANGQI");
  ASSERT_EQ(view->lots_size(), 5);
  struct Expected {
    std::string batch;
    uint32_t depth;
    std::string holder;
    uint64_t grams;
  };
  std::vector<Expected> expected = {{dried, 0, trader_.party_id, 1'000},
                                    {lots[0], 1, maker_a_.party_id, 10'000},
                                    {lots[1], 1, maker_b_.party_id, 2'000},
                                    {lots[2], 1, trader_.party_id, 9'000},
                                    {pieces, 2, maker_b_.party_id, 7'600}};
  std::sort(expected.begin() + 1, expected.begin() + 4,
            [](const Expected& a, const Expected& b) { return a.batch < b.batch; });
  for (size_t i = 0; i < expected.size(); ++i) {
    const v1::RecallScopeLot& lot = view->lots(static_cast<int>(i));
    EXPECT_EQ(lot.batch_id(), expected[i].batch);
    EXPECT_EQ(lot.depth(), expected[i].depth);
    EXPECT_EQ(lot.holder_at_recall(), expected[i].holder);
    EXPECT_EQ(lot.grams_at_recall(), expected[i].grams);
    EXPECT_TRUE(lot.ack_required());
    EXPECT_EQ(lot.current().status(), v1::BATCH_STATUS_RECALLED);
  }
  EXPECT_EQ(view->grams_at_recall(), 29'600u);
  ASSERT_EQ(view->holders_size(), 3);
  EXPECT_EQ(view->holders(0).party_id(), trader_.party_id);
  EXPECT_EQ(view->holders(0).lots(), 2u);
  EXPECT_EQ(view->holders(0).grams_at_recall(), 10'000u);
  EXPECT_EQ(view->holders(1).party_id(), maker_a_.party_id);
  EXPECT_EQ(view->holders(2).party_id(), maker_b_.party_id);
  EXPECT_EQ(view->holders(2).lots(), 2u);
  EXPECT_EQ(view->holders(2).name(), "安国市乙饮片厂");
  // The harvest upstream is not in the scope.
  EXPECT_EQ(Batch(harvest).recall_ids_size(), 0);
  // Recalled lots cannot be split or shipped.
  ExpectRejected(SplitEvent(trader_, lots[2], {{NextBatchId(trader_, 4), 1'000}}), trader_,
                 absl::StatusCode::kFailedPrecondition, "split.input_batch_id");

  // Acknowledgements: only the lot's holder, with grams that fit the action.
  ExpectRejected(AckEvent(maker_a_, recall_id, dried, v1::RECALL_ACTION_QUARANTINED, 1'000),
                 maker_a_, absl::StatusCode::kPermissionDenied, "recall_ack.batch_id");
  ExpectRejected(AckEvent(trader_, recall_id, dried, v1::RECALL_ACTION_QUARANTINED, 999), trader_,
                 absl::StatusCode::kFailedPrecondition, "recall_ack.grams");
  Ok(AckEvent(trader_, recall_id, dried, v1::RECALL_ACTION_QUARANTINED, 1'000), trader_);
  Ok(AckEvent(trader_, recall_id, lots[2], v1::RECALL_ACTION_DESTROYED, 4'000), trader_);
  view = h_.reader().Recall(recall_id);
  EXPECT_EQ(view->grams_acknowledged(), 5'000u);
  EXPECT_EQ(view->holders(0).lots_acknowledged(), 1u);
  ExpectScopeNowIsEachLotsState(recall_id);
  Ok(AckEvent(trader_, recall_id, lots[2], v1::RECALL_ACTION_DESTROYED, 5'000), trader_);
  EXPECT_EQ(Batch(lots[2]).status(), v1::BATCH_STATUS_DESTROYED);
  Ok(AckEvent(maker_b_, recall_id, lots[1], v1::RECALL_ACTION_DESTROYED, 2'000), maker_b_);
  Ok(AckEvent(maker_b_, recall_id, pieces, v1::RECALL_ACTION_QUARANTINED, 7'600), maker_b_);
  // Maker A returns its lot to the trader: acknowledged, but the recall stays open until the
  // return is received.
  v1::Event ret =
      AckEvent(maker_a_, recall_id, lots[0], v1::RECALL_ACTION_RETURNED, 10'000, trader_.party_id);
  Ok(ret, maker_a_);
  ExpectScopeNowIsEachLotsState(recall_id);  // in transit
  view = h_.reader().Recall(recall_id);
  EXPECT_EQ(view->grams_acknowledged(), 29'600u);
  EXPECT_EQ(view->status(), v1::RECALL_STATUS_OPEN);
  Receive(trader_, ret.event_id(), lots[0], 10'000);
  view = h_.reader().Recall(recall_id);
  EXPECT_EQ(view->status(), v1::RECALL_STATUS_CLOSED);
  v1::BatchState returned = Batch(lots[0]);
  EXPECT_EQ(returned.holder_party_id(), trader_.party_id);
  EXPECT_EQ(returned.status(), v1::BATCH_STATUS_RECALLED);
  ExpectScopeNowIsEachLotsState(recall_id);
  EXPECT_EQ(view->lots(1).acks_size(), 1);
  EXPECT_EQ(view->lots(1).acks(0).action(), v1::RECALL_ACTION_RETURNED);

  auto recalls = h_.reader().Recalls();
  ASSERT_THAT(recalls, IsOk());
  ASSERT_EQ(recalls->size(), 1u);
  EXPECT_EQ((*recalls)[0].lots(), 5u);
  EXPECT_EQ((*recalls)[0].lots_acknowledged(), 5u);
  EXPECT_EQ((*recalls)[0].status(), v1::RECALL_STATUS_CLOSED);
}

TEST_P(DomainRulesTest, So2OverrideOf400AppliesToShanyaoOnly) {
  const std::string shanyao = NextBatchId(grower_, 1);
  Ok(HarvestEvent(grower_, shanyao, 50'000, base_id_, "SHANYAO"), grower_);
  Ok(So2TestEvent(shanyao, 300), lab_);  // ≤ 400 for 山药
  EXPECT_EQ(Batch(shanyao).latest_verdict(), v1::VERDICT_PASS);
  EXPECT_EQ(Batch(shanyao).status(), v1::BATCH_STATUS_ACTIVE);
  const std::string huangqi = Harvest(50'000);
  Ok(So2TestEvent(huangqi, 300), lab_);  // > 150 for 黄芪
  EXPECT_EQ(Batch(huangqi).status(), v1::BATCH_STATUS_HELD);
}

TEST_P(DomainRulesTest, ReleaseHoldLiftsTheHoldDownstream) {
  const std::string harvest = Harvest(10'000);
  const std::string dried = Process(grower_, 1, harvest, 10'000, 4'000);
  Ok(So2TestEvent(harvest, 200), lab_);
  EXPECT_EQ(Batch(dried).status(), v1::BATCH_STATUS_HELD);
  v1::Event release = h_.NewEvent(regulator_);
  release.mutable_release_hold()->set_batch_id(dried);
  release.mutable_release_hold()->set_reason("复检合格");
  ExpectRejected(release, regulator_, absl::StatusCode::kFailedPrecondition,
                 "release_hold.batch_id");
  release.mutable_release_hold()->set_batch_id(harvest);
  v1::Event by_lab = release;
  by_lab.set_party_id(lab_.party_id);
  ExpectRejected(by_lab, lab_, absl::StatusCode::kPermissionDenied, "party_id");
  Ok(release, regulator_);
  EXPECT_EQ(Batch(dried).status(), v1::BATCH_STATUS_ACTIVE);
  EXPECT_EQ(Batch(dried).holds_size(), 0);
}

TEST_P(DomainRulesTest, ReleaseHoldNeedsARetestAfterTheFailure) {
  const std::string harvest = Harvest(10'000);
  const v1::Event passed = So2TestEvent(harvest, 90);
  Ok(passed, lab_);
  Ok(So2TestEvent(harvest, 200), lab_);
  ASSERT_EQ(Batch(harvest).status(), v1::BATCH_STATUS_HELD);
  v1::Event release = h_.NewEvent(regulator_);
  release.mutable_release_hold()->set_batch_id(harvest);
  release.mutable_release_hold()->set_reason("复检合格");
  release.mutable_release_hold()->set_retest_event_id(passed.event_id());
  // The pass came before the failure: it is no retest.
  ExpectRejected(release, regulator_, absl::StatusCode::kFailedPrecondition,
                 "release_hold.retest_event_id");
  const v1::Event retest = So2TestEvent(harvest, 80);
  Ok(retest, lab_);
  release = h_.NewEvent(regulator_);
  release.mutable_release_hold()->set_batch_id(harvest);
  release.mutable_release_hold()->set_reason("复检合格");
  release.mutable_release_hold()->set_retest_event_id(retest.event_id());
  Ok(release, regulator_);
  EXPECT_EQ(Batch(harvest).status(), v1::BATCH_STATUS_ACTIVE);
}

TEST_P(DomainRulesTest, DispenseClosesTheLotAtZero) {
  const std::string dried = DriedLotAtTrader();
  const std::string ship = Ship(trader_, pharmacy_, dried, 30'000);
  Receive(pharmacy_, ship, dried, 30'000);
  v1::Event d = h_.NewEvent(pharmacy_);
  d.mutable_dispense()->set_batch_id(dried);
  d.mutable_dispense()->set_grams(29'000);
  d.mutable_dispense()->set_recipient(v1::DISPENSE_RECIPIENT_CONSUMER);
  Ok(d, pharmacy_);
  EXPECT_EQ(Batch(dried).status(), v1::BATCH_STATUS_ACTIVE);
  d = h_.NewEvent(pharmacy_);
  d.mutable_dispense()->set_batch_id(dried);
  d.mutable_dispense()->set_grams(1'001);
  d.mutable_dispense()->set_recipient(v1::DISPENSE_RECIPIENT_CONSUMER);
  ExpectRejected(d, pharmacy_, absl::StatusCode::kFailedPrecondition, "dispense.grams");
  d.mutable_dispense()->set_grams(1'000);
  Ok(d, pharmacy_);
  EXPECT_EQ(Batch(dried).status(), v1::BATCH_STATUS_DISPENSED);
  EXPECT_EQ(Batch(dried).remaining_grams(), 0u);
}

TEST_P(DomainRulesTest, MergeAndTransformKeepMassBalanceAndLineage) {
  const std::string a = Harvest(5'000);
  const std::string b = Harvest(7'000);
  const std::string merged = NextBatchId(grower_, 1);
  v1::Event m = h_.NewEvent(grower_);
  for (const auto& [id, g] : {std::pair{a, uint64_t{5'000}}, std::pair{b, uint64_t{7'000}}}) {
    v1::BatchQuantity* q = m.mutable_merge()->add_inputs();
    q->set_batch_id(id);
    q->set_grams(g);
  }
  m.mutable_merge()->set_output_batch_id(merged);
  m.mutable_merge()->set_output_grams(12'001);
  ExpectRejected(m, grower_, absl::StatusCode::kInvalidArgument, "merge.output_grams");
  m.mutable_merge()->set_output_grams(11'900);
  Ok(m, grower_);
  EXPECT_THAT(Batch(merged).origin_batch_ids(), UnorderedElementsAre(a, b));
  EXPECT_THAT(*h_.reader().Parents(merged), UnorderedElementsAre(a, b));

  v1::Event t = h_.NewEvent(grower_);
  v1::BatchQuantity* in = t.mutable_transform()->add_inputs();
  in->set_batch_id(merged);
  in->set_grams(11'900);
  const std::string grade1 = NextBatchId(grower_, 1), grade2 = NextBatchId(grower_, 1);
  for (const auto& [id, g] :
       {std::pair{grade1, uint64_t{6'000}}, std::pair{grade2, uint64_t{6'000}}}) {
    v1::TransformOutput* o = t.mutable_transform()->add_outputs();
    o->set_batch_id(id);
    o->set_grams(g);
  }
  ExpectRejected(t, grower_, absl::StatusCode::kInvalidArgument, "transform.outputs");
  t.mutable_transform()->mutable_outputs(1)->set_grams(5'800);
  Ok(t, grower_);
  EXPECT_EQ(Batch(merged).status(), v1::BATCH_STATUS_CONSUMED);
  EXPECT_THAT(Batch(grade2).origin_batch_ids(), UnorderedElementsAre(a, b));
}

TEST_P(DomainRulesTest, WarehouseBooksLotsInSignsReadingsAndTheHolderTakesThemOut) {
  Actor warehouse = MakeActor("13068300000081");
  Register(op_, warehouse, {v1::PARTY_ROLE_WAREHOUSE}, "安国市某仓储公司");
  const std::string lot = Harvest(10'000);
  auto store = [&](const Actor& signer, v1::StoreAction action) {
    v1::Event e = h_.NewEvent(signer);
    e.mutable_store()->set_action(action);
    e.mutable_store()->add_batch_ids(lot);
    e.mutable_store()->set_warehouse_party_id(warehouse.party_id);
    e.mutable_store()->set_location("B库-1区");
    if (action == v1::STORE_ACTION_READING) {
      v1::SensorReading* r = e.mutable_store()->add_readings();
      r->set_sensor_id("t-01");
      r->set_channel("temperature");
      r->mutable_value()->set_value(-2'500);
      r->mutable_value()->set_unit(v1::MEASURE_UNIT_MILLI_CELSIUS);
    }
    return e;
  };
  // A reading before the lot is in: the warehouse does not store it yet.
  ExpectRejected(store(warehouse, v1::STORE_ACTION_READING), warehouse,
                 absl::StatusCode::kPermissionDenied, "store.batch_ids[0]");
  Ok(store(warehouse, v1::STORE_ACTION_IN), warehouse);
  EXPECT_EQ(Batch(lot).warehouse_party_id(), warehouse.party_id);
  EXPECT_EQ(Batch(lot).holder_party_id(), grower_.party_id);  // storage is not custody
  Ok(store(warehouse, v1::STORE_ACTION_READING), warehouse);
  ExpectRejected(store(trader_, v1::STORE_ACTION_OUT), trader_, absl::StatusCode::kPermissionDenied,
                 "store.batch_ids[0]");
  Ok(store(grower_, v1::STORE_ACTION_OUT), grower_);
  EXPECT_TRUE(Batch(lot).warehouse_party_id().empty());
  ExpectRejected(store(grower_, v1::STORE_ACTION_OUT), grower_,
                 absl::StatusCode::kFailedPrecondition, "store.batch_ids[0]");
}

TEST_P(DomainRulesTest, RecallAckOnlyForLotsInTheScope) {
  const std::string in_scope = Harvest(1'000);
  const std::string outside = Harvest(1'000);
  v1::Event recall = RecallEvent(in_scope);
  Ok(recall, regulator_);
  ExpectRejected(
      AckEvent(grower_, recall.event_id(), outside, v1::RECALL_ACTION_QUARANTINED, 1'000), grower_,
      absl::StatusCode::kNotFound, "recall_ack.batch_id");
  ExpectRejected(AckEvent(grower_, h_.NewEventId(), in_scope, v1::RECALL_ACTION_QUARANTINED, 1'000),
                 grower_, absl::StatusCode::kNotFound, "recall_ack.recall_id");
  ExpectRejected(AckEvent(grower_, recall.event_id(), in_scope, v1::RECALL_ACTION_DESTROYED, 1'001),
                 grower_, absl::StatusCode::kFailedPrecondition, "recall_ack.grams");
  Ok(AckEvent(grower_, recall.event_id(), in_scope, v1::RECALL_ACTION_DESTROYED, 1'000), grower_);
  EXPECT_EQ(h_.reader().Recall(recall.event_id())->status(), v1::RECALL_STATUS_CLOSED);
  EXPECT_EQ(Batch(in_scope).status(), v1::BATCH_STATUS_DESTROYED);
}

// ── Rejections: one per rule ─────────────────────────────────────────────────────────────────

TEST_P(DomainRulesTest, RejectsEventForAnotherLog) {
  v1::Event e = HarvestEvent(grower_, NextBatchId(grower_, 1), 1'000, base_id_);
  e.set_log_origin("other.herbtrace.example/log");
  ExpectRejected(e, grower_, absl::StatusCode::kInvalidArgument, "log_origin");
}

TEST_P(DomainRulesTest, RejectsOccurredAtYearsAheadBeforeTheEpochOrBefore2000) {
  v1::Event e = HarvestEvent(grower_, NextBatchId(grower_, 1), 1'000, base_id_);
  e.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(h_.clock().Now() + absl::Minutes(6)));
  ExpectRejected(e, grower_, absl::StatusCode::kInvalidArgument, "occurred_at");
  e.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(h_.clock().Now() + absl::Hours(24 * 365 * 5)));
  ExpectRejected(e, grower_, absl::StatusCode::kInvalidArgument, "occurred_at");
  e.mutable_occurred_at()->set_seconds(946684799);
  ExpectRejected(e, grower_, absl::StatusCode::kInvalidArgument, "occurred_at");
  e.mutable_occurred_at()->set_seconds(-86'400);  // 1969-12-31
  ExpectRejected(e, grower_, absl::StatusCode::kInvalidArgument, "occurred_at");
  e.mutable_occurred_at()->set_seconds(INT64_MIN);
  ExpectRejected(e, grower_, absl::StatusCode::kInvalidArgument, "occurred_at");
  e.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(h_.clock().Now()));
  e.mutable_occurred_at()->set_nanos(-1);
  ExpectRejected(e, grower_, absl::StatusCode::kInvalidArgument, "occurred_at");
  e.clear_occurred_at();
  ExpectRejected(e, grower_, absl::StatusCode::kInvalidArgument, "occurred_at");
  // Within the skew is fine.
  e = HarvestEvent(grower_, NextBatchId(grower_, 1), 1'000, base_id_);
  e.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(h_.clock().Now() + absl::Minutes(4)));
  Ok(e, grower_);
}

TEST_P(DomainRulesTest, RejectsMalformedEventIdAndMissingKind) {
  v1::Event e = HarvestEvent(grower_, NextBatchId(grower_, 1), 1'000, base_id_);
  e.set_event_id("not-a-uuid");
  ExpectRejected(e, grower_, absl::StatusCode::kInvalidArgument, "event_id");
  v1::Event empty = h_.NewEvent(grower_);
  ExpectRejected(empty, grower_, absl::StatusCode::kInvalidArgument, "kind");
}

TEST_P(DomainRulesTest, RejectsKeyOfAnotherParty) {
  v1::Event e = HarvestEvent(grower_, NextBatchId(grower_, 1), 1'000, base_id_);
  ExpectRejected(e, trader_, absl::StatusCode::kPermissionDenied, "signed_event.key_id");
}

TEST_P(DomainRulesTest, RejectsUnregisteredKey) {
  Actor impostor{grower_.party_id, NewKey()};
  ExpectRejected(HarvestEvent(impostor, NextBatchId(grower_, 1), 1'000, base_id_), impostor,
                 absl::StatusCode::kUnauthenticated, "signed_event.key_id");
}

TEST_P(DomainRulesTest, RejectsKindTheRolesDoNotAllow) {
  // A trader cannot harvest, a grower cannot test, a lab cannot recall.
  ExpectRejected(HarvestEvent(trader_, NextBatchId(trader_, 1), 1'000, base_id_), trader_,
                 absl::StatusCode::kPermissionDenied, "party_id");
  const std::string lot = Harvest(1'000);
  v1::Event test = So2TestEvent(lot, 10);
  test.set_party_id(grower_.party_id);
  ExpectRejected(test, grower_, absl::StatusCode::kPermissionDenied, "party_id");
  v1::Event recall = RecallEvent(lot);
  recall.set_party_id(lab_.party_id);
  ExpectRejected(recall, lab_, absl::StatusCode::kPermissionDenied, "party_id");
}

TEST_P(DomainRulesTest, RejectsSuspendedParty) {
  v1::Event suspend = RegisterPartyEvent(op_, grower_, {v1::PARTY_ROLE_GROWER}, "停业");
  suspend.mutable_register_party()->clear_initial_keys();
  suspend.mutable_register_party()->set_status(v1::PARTY_STATUS_SUSPENDED);
  Ok(suspend, op_);
  ExpectRejected(HarvestEvent(grower_, NextBatchId(grower_, 1), 1'000, base_id_), grower_,
                 absl::StatusCode::kPermissionDenied, "party_id");
}

TEST_P(DomainRulesTest, RejectsActingOnALotItDoesNotHold) {
  const std::string dried = DriedLotAtTrader();
  ExpectRejected(SplitEvent(maker_a_, dried, {{NextBatchId(maker_a_, 2), 1'000}}), maker_a_,
                 absl::StatusCode::kPermissionDenied, "split.input_batch_id");
  ExpectRejected(ShipEvent(grower_, maker_a_, dried, 30'000), grower_,
                 absl::StatusCode::kPermissionDenied, "ship.batches[0].batch_id");
}

TEST_P(DomainRulesTest, RejectsMovingAHeldLot) {
  const std::string lot = Harvest(10'000);
  Ok(So2TestEvent(lot, 151), lab_);
  ExpectRejected(ShipEvent(grower_, trader_, lot, 10'000), grower_,
                 absl::StatusCode::kFailedPrecondition, "ship.batches[0].batch_id");
  ExpectRejected(ProcessEvent(grower_, lot, 10'000, NextBatchId(grower_, 1), 5'000, 5'000), grower_,
                 absl::StatusCode::kFailedPrecondition, "process.input.batch_id");
}

TEST_P(DomainRulesTest, RejectsMovingARecalledLot) {
  const std::string lot = Harvest(10'000);
  Ok(RecallEvent(lot), regulator_);
  auto [commitment, opening] =
      DomainHarness::Commit("trade.price_commitment", DomainHarness::PriceValue(100));
  ExpectRejected(TradeEvent(grower_, trader_, lot, 10'000, commitment), grower_,
                 absl::StatusCode::kFailedPrecondition, "trade.batch.batch_id", {opening});
}

TEST_P(DomainRulesTest, RejectsUsingAConsumedLot) {
  const std::string harvest = Harvest(10'000);
  Process(grower_, 1, harvest, 10'000, 3'000);
  ExpectRejected(ProcessEvent(grower_, harvest, 1'000, NextBatchId(grower_, 1), 500, 500), grower_,
                 absl::StatusCode::kFailedPrecondition, "process.input.batch_id");
}

TEST_P(DomainRulesTest, RejectsShippingOrTradingALotThatCannotMove) {
  const std::string not_held = DriedLotAtTrader();  // the trader's, not the grower's
  const std::string held = Harvest(10'000);
  Ok(So2TestEvent(held, 151), lab_);
  const std::string recalled = Harvest(10'000);
  Ok(RecallEvent(recalled), regulator_);
  const std::string consumed = Harvest(10'000);
  Process(grower_, 1, consumed, 10'000, 3'000);
  struct Case {
    const char* what;
    const std::string& lot;
    absl::StatusCode code;
    const char* reason;
  };
  const Case cases[] = {
      {"not held", not_held, absl::StatusCode::kPermissionDenied, "is held by party"},
      {"held", held, absl::StatusCode::kFailedPrecondition, "is HELD"},
      {"recalled", recalled, absl::StatusCode::kFailedPrecondition, "is RECALLED"},
      {"consumed", consumed, absl::StatusCode::kFailedPrecondition, "is CONSUMED"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectRejected(ShipEvent(grower_, maker_a_, c.lot, 1'000), grower_, c.code,
                   "ship.batches[0].batch_id");
    EXPECT_THAT(
        std::string(h_.Submit(ShipEvent(grower_, maker_a_, c.lot, 1'000), grower_, {})
                        .status()
                        .message()),
        HasSubstr(c.reason));
    auto [commitment, opening] =
        DomainHarness::Commit("trade.price_commitment", DomainHarness::PriceValue(100));
    ExpectRejected(TradeEvent(grower_, trader_, c.lot, 1'000, commitment), grower_, c.code,
                   "trade.batch.batch_id", {opening});
  }
}

TEST_P(DomainRulesTest, RejectsMovingALotInTransit) {
  const std::string lot = Harvest(10'000);
  Ship(grower_, trader_, lot, 10'000);
  ExpectRejected(SplitEvent(grower_, lot, {{NextBatchId(grower_, 1), 1'000}}), grower_,
                 absl::StatusCode::kFailedPrecondition, "split.input_batch_id");
  ExpectRejected(ShipEvent(grower_, maker_a_, lot, 10'000), grower_,
                 absl::StatusCode::kFailedPrecondition, "ship.batches[0].batch_id");
}

TEST_P(DomainRulesTest, RejectsASecondReceiveOfTheSameTransfer) {
  const std::string lot = Harvest(10'000);
  const std::string ship = Ship(grower_, trader_, lot, 10'000);
  Receive(trader_, ship, lot, 10'000);
  ExpectRejected(ReceiveEvent(trader_, ship, {{lot, 10'000}}), trader_,
                 absl::StatusCode::kFailedPrecondition, "receive.transfer_event_id");
}

TEST_P(DomainRulesTest, RejectsReceiveByANonRecipientOrOfMoreThanShipped) {
  const std::string lot = Harvest(10'000);
  const std::string ship = Ship(grower_, trader_, lot, 10'000);
  ExpectRejected(ReceiveEvent(maker_a_, ship, {{lot, 10'000}}), maker_a_,
                 absl::StatusCode::kPermissionDenied, "receive.transfer_event_id");
  ExpectRejected(ReceiveEvent(trader_, ship, {{lot, 10'001}}), trader_,
                 absl::StatusCode::kInvalidArgument, "receive.received[0].grams");
  ExpectRejected(ReceiveEvent(trader_, ship, {}), trader_, absl::StatusCode::kInvalidArgument,
                 "receive.received");
  ExpectRejected(ReceiveEvent(trader_, h_.NewEventId(), {{lot, 10'000}}), trader_,
                 absl::StatusCode::kNotFound, "receive.transfer_event_id");
  // A short receipt is transit loss.
  Receive(trader_, ship, lot, 9'950);
  EXPECT_EQ(Batch(lot).remaining_grams(), 9'950u);
}

TEST_P(DomainRulesTest, RejectsSplitOutputsExceedingTheInput) {
  const std::string lot = Harvest(10'000);
  ExpectRejected(SplitEvent(grower_, lot,
                            {{NextBatchId(grower_, 1), 6'000}, {NextBatchId(grower_, 1), 4'001}}),
                 grower_, absl::StatusCode::kFailedPrecondition, "split.outputs");
  EXPECT_EQ(Batch(lot).remaining_grams(), 10'000u);
}

// Events queued together are sequenced in one group: each sees the state the group's earlier
// events left (a lot's remaining grams, a transfer's lots), and a rejected one leaves nothing
// for the events after it.
TEST_P(DomainRulesTest, OneGroupSeesItsOwnChangesAndNothingOfItsRejectedEvents) {
  const std::string lot = Harvest(10'000);
  const std::string a = NextBatchId(grower_, 1);
  const std::string b = NextBatchId(grower_, 1);
  const std::string c = NextBatchId(grower_, 1);
  const std::string dried = NextBatchId(grower_, 1);
  const v1::Event ship = ShipEvent(grower_, trader_, a, 3'000);
  std::vector<storage::AppendRequest> requests;
  // 0: 3,000 g of the 10,000 into a.
  requests.push_back(h_.Request(SplitEvent(grower_, lot, {{a, 3'000}}), grower_));
  // 1: 8,000 g into b: only 7,000 are left after 0.
  requests.push_back(h_.Request(SplitEvent(grower_, lot, {{b, 8'000}}), grower_));
  // 2: b was never made.
  requests.push_back(
      h_.Request(ProcessEvent(grower_, b, 8'000, dried, 3'000, 5'000), grower_));
  // 3: the remaining 7,000 g into c, closing the lot.
  requests.push_back(h_.Request(SplitEvent(grower_, lot, {{c, 7'000}}), grower_));
  // 4, 5: a shipped and received within the group (the receive reads the transfer's lots).
  requests.push_back(h_.Request(ship, grower_));
  requests.push_back(h_.Request(ReceiveEvent(trader_, ship.event_id(), {{a, 3'000}}), trader_));
  // 6: the lot is closed now.
  requests.push_back(h_.Request(SplitEvent(grower_, lot, {{dried, 1}}), grower_));

  const uint64_t size = h_.ledger().size();
  struct Answers {
    absl::Mutex mu;
    std::vector<absl::Status> statuses;
    size_t done = 0;
    bool All() const { return done == statuses.size(); }
  } answers;
  answers.statuses.assign(requests.size(), absl::UnknownError("no answer"));
  h_.ledger().AppendManyAsync(std::move(requests),
                              [&](size_t i, absl::StatusOr<v1::Receipt> r) {
                                absl::MutexLock lock(&answers.mu);
                                answers.statuses[i] = r.status();
                                ++answers.done;
                              });
  {
    absl::MutexLock lock(&answers.mu);
    answers.mu.Await(absl::Condition(&answers, &Answers::All));
  }
  const std::vector<absl::Status>& st = answers.statuses;
  EXPECT_THAT(st[0], IsOk());
  EXPECT_THAT(st[1], StatusIs(absl::StatusCode::kFailedPrecondition,
                              AllOf(StartsWith("split.outputs: "), HasSubstr("7000 g left"))));
  EXPECT_THAT(st[2], StatusIs(absl::StatusCode::kNotFound, StartsWith("process.input.batch_id: ")));
  EXPECT_THAT(st[3], IsOk());
  EXPECT_THAT(st[4], IsOk());
  EXPECT_THAT(st[5], IsOk());
  EXPECT_THAT(st[6], StatusIs(absl::StatusCode::kFailedPrecondition,
                              StartsWith("split.input_batch_id: ")));
  EXPECT_EQ(h_.ledger().size(), size + 4);

  EXPECT_EQ(Batch(lot).remaining_grams(), 0u);
  EXPECT_EQ(Batch(lot).status(), v1::BATCH_STATUS_CONSUMED);
  EXPECT_EQ(Batch(c).remaining_grams(), 7'000u);
  EXPECT_EQ(Batch(a).holder_party_id(), trader_.party_id);
  EXPECT_FALSE(Batch(a).has_in_transit());
  EXPECT_THAT(h_.reader().Batch(b), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(h_.reader().Batch(dried), StatusIs(absl::StatusCode::kNotFound));
  // The lot's chain holds the harvest and the two accepted splits, linked in order.
  auto history = h_.ledger().view().BatchHistory(lot);
  ASSERT_THAT(history, IsOk());
  EXPECT_EQ(history->size(), 3u);
  auto report = storage::AuditLedger(h_.ledger().db());
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->failure->reason;
}

TEST_P(DomainRulesTest, RejectsZeroGrams) {
  ExpectRejected(HarvestEvent(grower_, NextBatchId(grower_, 1), 0, base_id_), grower_,
                 absl::StatusCode::kInvalidArgument, "harvest.grams");
  const std::string lot = Harvest(10'000);
  ExpectRejected(SplitEvent(grower_, lot, {{NextBatchId(grower_, 1), 0}}), grower_,
                 absl::StatusCode::kInvalidArgument, "split.outputs[0].grams");
}

TEST_P(DomainRulesTest, RejectsOverflowingGrams) {
  const std::string lot = Harvest(10'000);
  ExpectRejected(SplitEvent(grower_, lot,
                            {{NextBatchId(grower_, 1), UINT64_MAX}, {NextBatchId(grower_, 1), 2}}),
                 grower_, absl::StatusCode::kInvalidArgument, "split.outputs[1].grams");
  ExpectRejected(ProcessEvent(grower_, lot, 10'000, NextBatchId(grower_, 1), UINT64_MAX, 10'001),
                 grower_, absl::StatusCode::kInvalidArgument, "process.loss_grams");
}

TEST_P(DomainRulesTest, RejectsNegativeWeightsSentThroughUnsignedFields) {
  // A scanner's -1000 g arrives as 2^64 - 1000 g.
  const uint64_t minus_1000 = static_cast<uint64_t>(int64_t{-1'000});
  ExpectRejected(HarvestEvent(grower_, NextBatchId(grower_, 1), minus_1000, base_id_), grower_,
                 absl::StatusCode::kInvalidArgument, "harvest.grams");
  ExpectRejected(HarvestEvent(grower_, NextBatchId(grower_, 1), 100'000'000'001, base_id_),
                 grower_, absl::StatusCode::kInvalidArgument, "harvest.grams");
  Ok(HarvestEvent(grower_, NextBatchId(grower_, 1), 100'000'000'000, base_id_), grower_);
  const std::string lot = Harvest(10'000);
  ExpectRejected(SplitEvent(grower_, lot, {{NextBatchId(grower_, 1), minus_1000}}), grower_,
                 absl::StatusCode::kFailedPrecondition, "split.outputs");
  ExpectRejected(ProcessEvent(grower_, lot, minus_1000, NextBatchId(grower_, 1), 9'000, 1'000),
                 grower_, absl::StatusCode::kFailedPrecondition, "process.input.grams");
  EXPECT_EQ(Batch(lot).remaining_grams(), 10'000u);
}

TEST_P(DomainRulesTest, RejectsEveryAttemptAtALineageCycle) {
  // Lineage only ever points from a new batch to existing ones, so a cycle needs an output that
  // already exists: the input itself, or one of its ancestors.
  const std::string harvest = Harvest(10'000);
  const std::string dried = Process(grower_, 1, harvest, 10'000, 4'000);
  ExpectRejected(SplitEvent(grower_, dried, {{dried, 1'000}}), grower_,
                 absl::StatusCode::kInvalidArgument, "split.outputs[0].batch_id");
  ExpectRejected(SplitEvent(grower_, dried, {{NextBatchId(grower_, 1), 1'000}, {harvest, 1'000}}),
                 grower_, absl::StatusCode::kAlreadyExists, "split.outputs[1].batch_id");
  ExpectRejected(ProcessEvent(grower_, dried, 4'000, harvest, 3'000, 1'000), grower_,
                 absl::StatusCode::kAlreadyExists, "process.output_batch_id");

  const std::string other = Harvest(2'000);
  v1::Event m = h_.NewEvent(grower_);
  for (const auto& [id, g] : {std::pair{dried, uint64_t{4'000}}, std::pair{other, uint64_t{2'000}}}) {
    v1::BatchQuantity* q = m.mutable_merge()->add_inputs();
    q->set_batch_id(id);
    q->set_grams(g);
  }
  m.mutable_merge()->set_output_batch_id(other);
  m.mutable_merge()->set_output_grams(6'000);
  ExpectRejected(m, grower_, absl::StatusCode::kInvalidArgument, "merge.output_batch_id");
  m.mutable_merge()->set_output_batch_id(harvest);
  ExpectRejected(m, grower_, absl::StatusCode::kAlreadyExists, "merge.output_batch_id");

  v1::Event t = h_.NewEvent(grower_);
  v1::BatchQuantity* in = t.mutable_transform()->add_inputs();
  in->set_batch_id(dried);
  in->set_grams(4'000);
  v1::TransformOutput* out = t.mutable_transform()->add_outputs();
  out->set_batch_id(harvest);
  out->set_grams(3'000);
  ExpectRejected(t, grower_, absl::StatusCode::kAlreadyExists, "transform.outputs[0].batch_id");
  EXPECT_THAT(*h_.reader().Parents(dried), ElementsAre(harvest));
  EXPECT_THAT(*h_.reader().Parents(harvest), IsEmpty());
}

TEST_P(DomainRulesTest, RejectsProcessThatDoesNotBalance) {
  const std::string lot = Harvest(10'000);
  ExpectRejected(ProcessEvent(grower_, lot, 10'000, NextBatchId(grower_, 1), 9'000, 500), grower_,
                 absl::StatusCode::kInvalidArgument, "process.output_grams");
  ExpectRejected(ProcessEvent(grower_, lot, 10'001, NextBatchId(grower_, 1), 9'000, 1'001), grower_,
                 absl::StatusCode::kFailedPrecondition, "process.input.grams");
  ExpectRejected(ProcessEvent(grower_, lot, 10'000, lot, 9'000, 1'000), grower_,
                 absl::StatusCode::kInvalidArgument, "process.output_batch_id");
}

TEST_P(DomainRulesTest, RejectsUnknownHerb) {
  ExpectRejected(HarvestEvent(grower_, NextBatchId(grower_, 1), 1'000, base_id_, "WUHERB"), grower_,
                 absl::StatusCode::kNotFound, "harvest.herb_code");
  // In the catalog but not grown on the base.
  ExpectRejected(HarvestEvent(grower_, NextBatchId(grower_, 1), 1'000, base_id_, "GANCAO"), grower_,
                 absl::StatusCode::kFailedPrecondition, "harvest.herb_code");
}

TEST_P(DomainRulesTest, RejectsHarvestFromABaseOfAnotherParty) {
  ExpectRejected(HarvestEvent(grower_, NextBatchId(grower_, 1), 1'000, base2_id_), grower_,
                 absl::StatusCode::kPermissionDenied, "harvest.base_id");
}

TEST_P(DomainRulesTest, RejectsBadBatchCodes) {
  std::string id = NextBatchId(grower_, 1);
  id.back() = static_cast<char>('0' + (id.back() - '0' + 1) % 10);
  ExpectRejected(HarvestEvent(grower_, id, 1'000, base_id_), grower_,
                 absl::StatusCode::kInvalidArgument, "harvest.batch_id");
  // Another party's company code, the wrong node type, another day.
  ExpectRejected(HarvestEvent(grower_, NextBatchId(grower2_, 1), 1'000, base_id_), grower_,
                 absl::StatusCode::kInvalidArgument, "harvest.batch_id");
  ExpectRejected(HarvestEvent(grower_, NextBatchId(grower_, 4), 1'000, base_id_), grower_,
                 absl::StatusCode::kInvalidArgument, "harvest.batch_id");
  ExpectRejected(
      HarvestEvent(grower_, MakeBatchId(1, grower_.party_id, h_.Today() - 1, 900), 1'000, base_id_),
      grower_, absl::StatusCode::kInvalidArgument, "harvest.batch_id");
}

TEST_P(DomainRulesTest, RejectsDuplicateBatchCode) {
  const std::string lot = Harvest(1'000);
  ExpectRejected(HarvestEvent(grower_, lot, 1'000, base_id_), grower_,
                 absl::StatusCode::kAlreadyExists, "harvest.batch_id");
}

TEST_P(DomainRulesTest, RejectsTradeWhosePriceOpeningDoesNotMatch) {
  const std::string lot = Harvest(10'000);
  auto [commitment, opening] =
      DomainHarness::Commit("trade.price_commitment", DomainHarness::PriceValue(123'450));
  v1::Opening wrong = opening;
  wrong.set_value(DomainHarness::PriceValue(12'345));
  const v1::Event trade = TradeEvent(grower_, trader_, lot, 10'000, commitment);
  ExpectRejected(trade, grower_, absl::StatusCode::kInvalidArgument,
                 "openings[trade.price_commitment]", {wrong});
  ExpectRejected(trade, grower_, absl::StatusCode::kInvalidArgument,
                 "openings[trade.price_commitment]");
  v1::Opening stray = opening;
  stray.set_field_path("register_party.identity_commitment");
  ExpectRejected(trade, grower_, absl::StatusCode::kInvalidArgument, "openings[1].field_path",
                 {opening, stray});
  Ok(trade, grower_, {opening});
}

TEST_P(DomainRulesTest, RejectsTestAgainstALimitsVersionNotInForce) {
  const std::string lot = Harvest(1'000);
  ExpectRejected(So2TestEvent(lot, 10, "chp2015"), lab_, absl::StatusCode::kFailedPrecondition,
                 "quality_test.limits_version");
  v1::Event bad_unit = So2TestEvent(lot, 10);
  bad_unit.mutable_quality_test()->mutable_results(0)->mutable_value()->set_unit(
      v1::MEASURE_UNIT_CFU_PER_G);
  ExpectRejected(bad_unit, lab_, absl::StatusCode::kInvalidArgument,
                 "quality_test.results[0].value.unit");
}

// A time outside google.protobuf.Timestamp's range has no meaning; stored, it would make every
// JSON view of the recall or test unprintable (protobuf refuses to print it).
TEST_P(DomainRulesTest, RejectsTimestampsOutsideTheirRange) {
  const std::string lot = Harvest(1'000);
  v1::Event recall = RecallEvent(lot);
  recall.mutable_recall()->mutable_ack_deadline()->set_nanos(-1);
  ExpectRejected(recall, regulator_, absl::StatusCode::kInvalidArgument, "recall.ack_deadline");
  recall.mutable_recall()->mutable_ack_deadline()->set_nanos(0);
  recall.mutable_recall()->mutable_ack_deadline()->set_seconds(int64_t{253402300800});
  ExpectRejected(recall, regulator_, absl::StatusCode::kInvalidArgument, "recall.ack_deadline");

  v1::Event test = So2TestEvent(lot, 10);
  test.mutable_quality_test()->mutable_sampled_at()->set_seconds(int64_t{-62135596801});
  ExpectRejected(test, lab_, absl::StatusCode::kInvalidArgument, "quality_test.sampled_at");
  test.mutable_quality_test()->mutable_sampled_at()->set_seconds(
      absl::ToUnixSeconds(h_.clock().Now()));
  test.mutable_quality_test()->mutable_sampled_at()->set_nanos(1'000'000'000);
  ExpectRejected(test, lab_, absl::StatusCode::kInvalidArgument, "quality_test.sampled_at");
  test.mutable_quality_test()->mutable_sampled_at()->set_nanos(999'999'999);
  Ok(test, lab_);

  v1::Event reading = h_.NewEvent(grower_);
  reading.mutable_store()->set_action(v1::STORE_ACTION_READING);
  reading.mutable_store()->add_batch_ids(lot);
  reading.mutable_store()->set_warehouse_party_id(grower_.party_id);
  v1::SensorReading* r = reading.mutable_store()->add_readings();
  r->set_sensor_id("t-01");
  r->set_channel("temperature");
  r->mutable_value()->set_value(-2'500);
  r->mutable_value()->set_unit(v1::MEASURE_UNIT_MILLI_CELSIUS);
  r->mutable_measured_at()->set_nanos(-5);
  ExpectRejected(reading, grower_, absl::StatusCode::kInvalidArgument,
                 "store.readings[0].measured_at");
}

TEST_P(DomainRulesTest, RejectsExpectedHeadsOfBatchesNotTouched) {
  const std::string lot = Harvest(1'000);
  v1::Event e = HarvestEvent(grower_, NextBatchId(grower_, 1), 1'000, base_id_);
  v1::BatchLink* link = e.add_expected_heads();
  link->set_batch_id(lot);
  link->set_prev_leaf_hash(std::string(32, 'h'));
  ExpectRejected(e, grower_, absl::StatusCode::kInvalidArgument, "expected_heads[0].batch_id");
}

TEST_P(DomainRulesTest, StaleExpectedHeadIsAbortedByTheLedger) {
  const std::string lot = Harvest(10'000);
  v1::Event e = SplitEvent(grower_, lot, {{NextBatchId(grower_, 1), 1'000}});
  v1::BatchLink* link = e.add_expected_heads();
  link->set_batch_id(lot);
  link->set_prev_leaf_hash(std::string(32, 'h'));
  ExpectRejected(e, grower_, absl::StatusCode::kAborted, absl::StrCat("expected_heads[", lot, "]"));
}

TEST_P(DomainRulesTest, RejectsAppendWithoutAVerifiedEvent) {
  storage::AppendRequest request = h_.Request(h_.NewEvent(grower_), grower_);
  request.context.reset();
  EXPECT_THAT(h_.ledger().Append(std::move(request)),
              StatusIs(absl::StatusCode::kInternal, StartsWith("context: ")));
}

// ── A long chain ─────────────────────────────────────────────────────────────────────────────

// A 100,000-step process chain, then a failed test at its root: the hold reaches every lot by an
// iterative walk (a recursive one would overflow the stack). About 13 s on the 2-core build
// machine (sync off), so the full length is the default; HERBTRACE_LONG_CHAIN=<steps> overrides
// it, e.g. HERBTRACE_LONG_CHAIN=20000 for a quick run on a busy machine.
TEST(DomainLongChainTest, FailedTestAtTheRootHoldsTheWholeChain) {
  const char* env = std::getenv("HERBTRACE_LONG_CHAIN");
  const int steps = env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 100'000;
  DomainHarness h;
  Actor op{"13068300000001", h.operator_key()};
  Actor regulator = MakeActor("13068300000002");
  Actor grower = MakeActor("13068300000011");
  Actor lab = MakeActor("13068300000041");
  auto party = [&](const Actor& registrar, const Actor& a, v1::PartyRole role, bool self = false) {
    v1::Event e = h.NewEvent(registrar);
    v1::RegisterParty* rp = e.mutable_register_party();
    rp->set_party_id(a.party_id);
    rp->set_name("p");
    rp->add_roles(role);
    rp->set_uscc(MakeUscc("130683", std::stoi(a.party_id.substr(6))));
    rp->set_region_code("130683");
    *rp->add_initial_keys() = DomainHarness::MakeNewKey(*a.key, a.party_id);
    ASSERT_THAT(h.Submit(e, registrar, {}, self), IsOk());
  };
  party(op, op, v1::PARTY_ROLE_MARKET_OPERATOR, true);
  party(op, regulator, v1::PARTY_ROLE_REGULATOR);
  party(regulator, grower, v1::PARTY_ROLE_GROWER);
  party(regulator, lab, v1::PARTY_ROLE_LAB);
  v1::Event cat = h.NewEvent(op);
  cat.mutable_load_herb_catalog()->set_version("c1");
  cat.mutable_load_herb_catalog()->add_herbs()->set_code("HUANGQI");
  cat.mutable_load_herb_catalog()->mutable_herbs(0)->set_zh_name("黄芪");
  ASSERT_THAT(h.Submit(cat, op), IsOk());
  v1::Event lim = h.NewEvent(regulator);
  lim.mutable_load_quality_limits()->set_version("l1");
  v1::LimitRow* row = lim.mutable_load_quality_limits()->add_rows();
  row->set_analyte("so2");
  row->set_rule(v1::LIMIT_RULE_MAX);
  row->mutable_limit()->set_value(150'000'000);
  row->mutable_limit()->set_unit(v1::MEASURE_UNIT_NG_PER_KG);
  row->set_applies_to_all(true);
  ASSERT_THAT(h.Submit(lim, regulator), IsOk());
  v1::Event base = h.NewEvent(grower);
  base.mutable_register_base()->set_base_id(grower.party_id + "0001");
  base.mutable_register_base()->set_name("b");
  base.mutable_register_base()->set_region_code("130683");
  base.mutable_register_base()->add_herb_codes("HUANGQI");
  ASSERT_THAT(h.Submit(base, grower), IsOk());

  const auto start = std::chrono::steady_clock::now();
  int sequence = 0;
  auto next_id = [&] {
    if (sequence == 999) {  // 999 codes a day: the chain moves on to the next day
      h.clock().Advance(absl::Hours(24));
      sequence = 0;
    }
    return MakeBatchId(1, grower.party_id, h.Today(), ++sequence);
  };
  const std::string root = next_id();
  v1::Event harvest = h.NewEvent(grower);
  harvest.mutable_harvest()->set_batch_id(root);
  harvest.mutable_harvest()->set_base_id(grower.party_id + "0001");
  harvest.mutable_harvest()->set_herb_code("HUANGQI");
  harvest.mutable_harvest()->set_grams(1'000'000);
  *harvest.mutable_harvest()->mutable_harvest_date() = ChinaDate(h.clock().Now());
  ASSERT_THAT(h.Submit(harvest, grower), IsOk());

  // Queued asynchronously so the sequencer commits them in groups; each step reads the previous
  // step's output from the same uncommitted group.
  std::string previous = root;
  std::string last;
  absl::BlockingCounter pending(steps);
  std::atomic<int> failures{0};
  std::string first_failure;
  absl::Mutex failure_mu;
  for (int i = 0; i < steps; ++i) {
    const std::string output = next_id();
    v1::Event e = h.NewEvent(grower);
    v1::Process* p = e.mutable_process();
    p->set_kind(v1::PROCESS_KIND_CLEANING);
    p->mutable_input()->set_batch_id(previous);
    p->mutable_input()->set_grams(1'000'000);
    p->set_output_batch_id(output);
    p->set_output_grams(1'000'000);
    h.ledger().AppendAsync(h.Request(e, grower), [&](absl::StatusOr<v1::Receipt> r) {
      if (!r.ok() && failures.fetch_add(1) == 0) {
        absl::MutexLock lock(&failure_mu);
        first_failure = std::string(r.status().message());
      }
      pending.DecrementCount();
    });
    previous = output;
  }
  pending.Wait();
  last = previous;
  {
    absl::MutexLock lock(&failure_mu);
    ASSERT_EQ(failures.load(), 0) << first_failure;
  }
  const auto built = std::chrono::steady_clock::now();

  v1::Event test = h.NewEvent(lab);
  test.mutable_quality_test()->set_batch_id(root);
  test.mutable_quality_test()->set_limits_version("l1");
  v1::AnalyteResult* so2 = test.mutable_quality_test()->add_results();
  so2->set_analyte("so2");
  so2->mutable_value()->set_value(400'000'000);
  so2->mutable_value()->set_unit(v1::MEASURE_UNIT_NG_PER_KG);
  auto receipt = h.Submit(test, lab);
  ASSERT_THAT(receipt, IsOk());
  const auto held = std::chrono::steady_clock::now();

  auto tip = h.reader().Batch(last);
  ASSERT_THAT(tip, IsOk());
  EXPECT_EQ(tip->status(), v1::BATCH_STATUS_HELD);
  ASSERT_EQ(tip->holds_size(), 1);
  EXPECT_EQ(tip->holds(0).source_batch_id(), root);
  EXPECT_EQ(tip->holds(0).test_seq(), receipt->seq());
  auto middle = h.reader().Batch(*h.reader().Parents(last)->begin());
  ASSERT_THAT(middle, IsOk());
  EXPECT_EQ(middle->status(), v1::BATCH_STATUS_CONSUMED);
  EXPECT_EQ(middle->holds_size(), 1);
  // The test's entry links only the tested batch, not one link per held lot.
  v1::LedgerEntry entry;
  ASSERT_TRUE(entry.ParseFromString(*h.ledger().view().EntryBytes(receipt->seq())));
  EXPECT_EQ(entry.batch_prev_size(), 1);

  const auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  std::printf("long chain: %d steps built in %lld ms, held in %lld ms\n", steps,
              static_cast<long long>(ms(built - start)), static_cast<long long>(ms(held - built)));
}

INSTANTIATE_TEST_SUITE_P(LedgerAndGrpc, DomainRulesTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "OverCaptureGrpc" : "ThroughTheLedger";
                         });

}  // namespace
}  // namespace herbtrace::domain
