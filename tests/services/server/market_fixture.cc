#include "tests/services/server/market_fixture.h"

#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "crypto/hash.h"
#include "crypto/signed_note.h"
#include "services/domain/identifiers.h"
#include "services/domain/verified_event.h"
#include "storage/key_codec.h"

namespace herbtrace::testing {
namespace {

const absl::TimeZone kChina = absl::FixedTimeZone(8 * 60 * 60);

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

std::unique_ptr<crypto::PrivateKey> NewKey() {
  return *crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519);
}

// A USCC with a valid check character: "91" ‖ region ‖ 9-character organization code.
std::string Uscc(absl::string_view party_id) {
  const std::string first17 = absl::StrCat("91", party_id.substr(0, 6), "MA", party_id.substr(7));
  return absl::StrCat(first17, std::string(1, *domain::UsccCheckCharacter(first17)));
}

}  // namespace

v1::NewKey NewKeyFor(const crypto::PrivateKey& key, const std::string& owner,
                     const std::string& label) {
  v1::NewKey out;
  out.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
  out.set_public_key(key.public_key().raw());
  out.set_device_label(label);
  const std::string message = absl::StrCat("herbtrace key v1\n", kMarketOrigin, "\n", owner, "\n",
                                           key.public_key().key_id(), "\n");
  out.set_proof_of_possession(*key.Sign(message));
  return out;
}

v1::Event RegisterPartyEvent(const Actor& party, const std::string& name,
                             const std::vector<v1::PartyRole>& roles) {
  v1::Event event;
  v1::RegisterParty* rp = event.mutable_register_party();
  rp->set_party_id(party.party_id);
  rp->set_name(name);
  for (v1::PartyRole role : roles) rp->add_roles(role);
  rp->set_uscc(Uscc(party.party_id));
  rp->set_region_code(party.party_id.substr(0, 6));
  rp->set_address("河北省安国市");
  *rp->add_initial_keys() = NewKeyFor(*party.key, party.party_id, absl::StrCat(name, " key 1"));
  return event;
}

v1::SignedEvent SignEvent(const Actor& actor, v1::Event& event, absl::Time now,
                          const std::string& event_id) {
  if (event.event_id().empty()) event.set_event_id(event_id);
  *event.mutable_occurred_at() = ToTimestamp(now);
  event.set_party_id(actor.party_id);
  event.set_log_origin(kMarketOrigin);
  v1::SignedEvent signed_event;
  signed_event.set_payload(event.SerializeAsString());  // once; these bytes are signed
  signed_event.set_key_id(actor.key_id());
  signed_event.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
  signed_event.set_signature(*actor.key->Sign(signed_event.payload()));
  return signed_event;
}

Market::Market(std::filesystem::path dir)
    : dir_(std::move(dir)),
      db_path_((dir_ / "db").string()),
      clock_(absl::FromCivil(absl::CivilSecond(2024, 9, 15, 10, 0, 0), kChina)) {}

absl::StatusOr<std::unique_ptr<Market>> Market::Create(const std::filesystem::path& dir) {
  std::unique_ptr<Market> market(new Market(dir));
  market->operator_ = Actor{"13068300000001", NewKey()};
  market->regulator_ = Actor{"13068300000002", NewKey()};
  market->grower_ = Actor{"13068300000003", NewKey()};
  market->trader_ = Actor{"13068300000004", NewKey()};
  market->lab_ = Actor{"13068300000005", NewKey()};
  market->base_id_ = "130683000000030001";

  auto log_key = crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519);
  if (!log_key.ok()) return log_key.status();
  auto pem = (*log_key)->ToPem();
  if (!pem.ok()) return pem.status();
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "log-key.pem") << *pem;
  auto signer = crypto::NoteSigner::Create(kMarketOrigin, *std::move(log_key));
  if (!signer.ok()) return signer.status();

  domain::DomainConfig config;
  config.log_origin = kMarketOrigin;
  config.bootstrap_key_id = market->operator_.key_id();
  config.clock = &market->clock_;
  market->rules_ = std::make_unique<domain::DomainRules>(config);
  storage::Ledger::Options options;
  options.origin = kMarketOrigin;
  options.clock = &market->clock_;
  options.rule = market->rules_.get();
  // The tests sign checkpoints when they want one.
  options.checkpoint_interval = absl::Hours(1000);
  auto ledger = storage::Ledger::Open(market->db_path_, options, *std::move(signer));
  if (!ledger.ok()) return ledger.status();
  market->ledger_ = *std::move(ledger);
  return market;
}

std::string EventIdOf(uint32_t family, uint64_t n) {
  // Version 4, RFC 9562 variant; the family in the first group, a counter in the low bits.
  return absl::StrFormat("%08x-0000-4000-8000-%012x", family, n);
}

std::string Market::NewEventId() { return EventIdOf(0x1ce0000u, next_event_++); }

std::string BatchCode(const Actor& creator, int node_type, absl::CivilDay day, int sequence) {
  const std::string body =
      absl::StrFormat("%d%s%02d%02d%02d%03d", node_type, creator.party_id, day.year() % 100,
                      day.month(), day.day(), sequence);
  return absl::StrCat(body, std::string(1, domain::TraceCheckDigit(body)));
}

v1::Event RegisterBaseEvent(const std::string& base_id) {
  v1::Event event;
  v1::RegisterBase* rb = event.mutable_register_base();
  rb->set_base_id(base_id);
  rb->set_name("北段村黄芪基地");
  rb->set_region_code("130683");
  rb->mutable_location()->set_latitude_micro_deg(38418512);
  rb->mutable_location()->set_longitude_micro_deg(115323450);
  rb->set_area_centi_mu(1250);
  rb->add_herb_codes("HUANGQI");
  rb->set_cultivation(v1::CULTIVATION_KIND_CULTIVATED);
  return event;
}

v1::Event HarvestOf(const std::string& base_id, const std::string& batch_id, uint64_t grams,
                    absl::CivilDay day) {
  v1::Event event;
  v1::Harvest* h = event.mutable_harvest();
  h->set_batch_id(batch_id);
  h->set_base_id(base_id);
  h->set_herb_code("HUANGQI");
  h->set_grams(grams);
  h->mutable_harvest_date()->set_year(static_cast<int>(day.year()));
  h->mutable_harvest_date()->set_month(day.month());
  h->mutable_harvest_date()->set_day(day.day());
  return event;
}

std::string Market::NewBatchCode(const Actor& creator, int node_type) {
  return BatchCode(creator, node_type, absl::ToCivilDay(clock_.Now(), kChina), next_batch_++);
}

absl::StatusOr<v1::Receipt> Market::Submit(const Actor& actor, v1::Event event,
                                           std::vector<v1::Opening> openings, bool self_signed) {
  const std::string event_id = event.event_id().empty() ? NewEventId() : event.event_id();
  v1::SignedEvent signed_event = SignEvent(actor, event, clock_.Now(), event_id);
  storage::AppendRequest request;
  request.event_id = event.event_id();
  request.signed_event = std::move(signed_event);
  for (const v1::BatchLink& link : event.expected_heads()) {
    request.expected_heads.emplace_back(link.batch_id(), link.prev_leaf_hash());
  }
  auto verified = std::make_shared<domain::VerifiedEvent>();
  verified->key_id = actor.key_id();
  verified->self_signed = self_signed;
  verified->openings = std::move(openings);
  verified->event = std::move(event);
  request.context = std::move(verified);
  // Each event a minute after the last, as at a real yard.
  clock_.Advance(absl::Minutes(1));
  return ledger_->Append(std::move(request));
}

absl::Status Market::RegisterParty(const Actor& registrar, const Actor& party,
                                   const std::string& name, std::vector<v1::PartyRole> roles) {
  auto receipt = Submit(registrar, RegisterPartyEvent(party, name, roles), {}, &registrar == &party);
  return receipt.status();
}

absl::Status Market::Populate() {
  if (auto s = RegisterParty(operator_, operator_, "安国数字中药都追溯服务中心",
                             {v1::PARTY_ROLE_MARKET_OPERATOR});
      !s.ok()) {
    return s;
  }
  {
    v1::Event event;
    v1::LoadHerbCatalog* cat = event.mutable_load_herb_catalog();
    cat->set_version(kCatalogVersion);
    v1::Herb* huangqi = cat->add_herbs();
    huangqi->set_code("HUANGQI");
    huangqi->set_zh_name("黄芪");
    huangqi->set_pinyin("Huangqi");
    huangqi->set_latin_name("Astragali Radix");
    huangqi->set_medicinal_part("root");
    v1::Herb* shanyao = cat->add_herbs();
    shanyao->set_code("SHANYAO");
    shanyao->set_zh_name("山药");
    shanyao->set_pinyin("Shanyao");
    shanyao->set_latin_name("Dioscoreae Rhizoma");
    shanyao->set_qi_yao(true);
    if (auto r = Submit(operator_, std::move(event)); !r.ok()) return r.status();
  }
  if (auto s = RegisterParty(operator_, regulator_, "安国市市场监督管理局",
                             {v1::PARTY_ROLE_REGULATOR});
      !s.ok()) {
    return s;
  }
  if (auto s = RegisterParty(operator_, grower_, "安国市祁州药材种植专业合作社",
                             {v1::PARTY_ROLE_GROWER});
      !s.ok()) {
    return s;
  }
  if (auto s = RegisterParty(operator_, trader_, "安国市药都药材经营部, \"东方\"",
                             {v1::PARTY_ROLE_TRADER});
      !s.ok()) {
    return s;
  }
  if (auto s = RegisterParty(operator_, lab_, "河北省中药材检验检测中心", {v1::PARTY_ROLE_LAB});
      !s.ok()) {
    return s;
  }
  if (auto r = Submit(grower_, RegisterBaseEvent(base_id_)); !r.ok()) return r.status();
  {
    v1::Event event;
    v1::LoadQualityLimits* lim = event.mutable_load_quality_limits();
    lim->set_version(kLimitsVersion);
    lim->set_source_document("ChP 2020 四部 0212");
    v1::LimitRow* so2 = lim->add_rows();
    so2->set_analyte("so2");
    so2->set_analyte_name("Sulfur dioxide residue / 二氧化硫残留");
    so2->set_category(v1::LIMIT_CATEGORY_SULFUR_DIOXIDE);
    so2->set_rule(v1::LIMIT_RULE_MAX);
    so2->mutable_limit()->set_value(150'000'000);  // 150 mg/kg
    so2->mutable_limit()->set_unit(v1::MEASURE_UNIT_NG_PER_KG);
    so2->set_display_unit(v1::DISPLAY_UNIT_MG_PER_KG);
    so2->set_applies_to_all(true);
    if (auto r = Submit(regulator_, std::move(event)); !r.ok()) return r.status();
  }
  return absl::OkStatus();
}

v1::Event Market::HarvestEvent(const std::string& batch_id, uint64_t grams) {
  return HarvestOf(base_id_, batch_id, grams, absl::ToCivilDay(clock_.Now(), kChina));
}

absl::StatusOr<HuangqiChain> Market::RunHuangqiChain() {
  HuangqiChain chain;
  chain.harvest = NewBatchCode(grower_, 1);
  chain.dried = NewBatchCode(grower_, 1);
  chain.lot1 = NewBatchCode(grower_, 1);
  chain.lot2 = NewBatchCode(grower_, 1);
  {
    v1::Event event = HarvestEvent(chain.harvest, 100'000);
    event.mutable_harvest()->set_plot("3号地");
    auto r = Submit(grower_, std::move(event));
    if (!r.ok()) return r.status();
    chain.harvest_seq = r->seq();
  }
  {
    v1::Event event;
    v1::Process* p = event.mutable_process();
    p->set_kind(v1::PROCESS_KIND_DRYING);
    p->mutable_input()->set_batch_id(chain.harvest);
    p->mutable_input()->set_grams(100'000);
    p->set_output_batch_id(chain.dried);
    p->set_output_grams(40'000);
    p->set_loss_grams(60'000);
    auto r = Submit(grower_, std::move(event));
    if (!r.ok()) return r.status();
    chain.process_seq = r->seq();
  }
  {
    v1::Event event;
    v1::Split* s = event.mutable_split();
    s->set_input_batch_id(chain.dried);
    v1::BatchQuantity* o1 = s->add_outputs();
    o1->set_batch_id(chain.lot1);
    o1->set_grams(10'000);
    v1::BatchQuantity* o2 = s->add_outputs();
    o2->set_batch_id(chain.lot2);
    o2->set_grams(20'000);
    auto r = Submit(grower_, std::move(event));
    if (!r.ok()) return r.status();
    chain.split_seq = r->seq();
  }
  {
    auto sha256 = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    if (!sha256.ok()) return sha256.status();
    const std::string salt(32, '\x5a');
    const std::string value = storage::BigEndian64(123450);  // ¥1,234.50
    const crypto::Digest commitment = (*sha256)->Hash(absl::StrCat(salt, value));
    v1::Event event;
    chain.trade_event_id = NewEventId();
    event.set_event_id(chain.trade_event_id);
    v1::Trade* t = event.mutable_trade();
    t->set_seller_party_id(grower_.party_id);
    t->set_buyer_party_id(trader_.party_id);
    t->mutable_batch()->set_batch_id(chain.lot1);
    t->mutable_batch()->set_grams(10'000);
    t->set_price_commitment(std::string(crypto::AsBytes(commitment)));
    v1::Opening opening;
    opening.set_field_path("trade.price_commitment");
    opening.set_salt(salt);
    opening.set_value(value);
    auto r = Submit(grower_, std::move(event), {opening});
    if (!r.ok()) return r.status();
    chain.trade_seq = r->seq();
  }
  {
    v1::Event event;
    v1::Receive* rc = event.mutable_receive();
    rc->set_transfer_event_id(chain.trade_event_id);
    v1::BatchQuantity* q = rc->add_received();
    q->set_batch_id(chain.lot1);
    q->set_grams(10'000);
    auto r = Submit(trader_, std::move(event));
    if (!r.ok()) return r.status();
    chain.receive_seq = r->seq();
  }
  {
    v1::Event event;
    chain.test_event_id = NewEventId();
    event.set_event_id(chain.test_event_id);
    v1::QualityTest* q = event.mutable_quality_test();
    q->set_batch_id(chain.dried);
    q->set_sample_id("S-2024-0915-01");
    q->set_purpose(v1::TEST_PURPOSE_SUPERVISORY);
    q->set_limits_version(kLimitsVersion);
    q->set_use(v1::PRODUCT_USE_MEDICINAL);
    v1::AnalyteResult* so2 = q->add_results();
    so2->set_analyte("so2");
    so2->mutable_value()->set_value(212'000'000);  // 212 mg/kg > 150
    so2->mutable_value()->set_unit(v1::MEASURE_UNIT_NG_PER_KG);
    so2->set_method("ChP 2020 2331");
    so2->set_display_unit(v1::DISPLAY_UNIT_MG_PER_KG);
    auto r = Submit(lab_, std::move(event));
    if (!r.ok()) return r.status();
    chain.test_seq = r->seq();
  }
  {
    v1::Event event;
    chain.recall_id = NewEventId();
    event.set_event_id(chain.recall_id);
    v1::IssueRecall* rc = event.mutable_recall();
    rc->set_batch_id(chain.dried);
    rc->set_reason("二氧化硫超标 (SO2 212 mg/kg)");
    rc->set_severity(v1::RECALL_SEVERITY_CLASS_II);
    rc->mutable_ack_deadline()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(72)));
    rc->set_quality_test_event_id(chain.test_event_id);
    auto r = Submit(regulator_, std::move(event));
    if (!r.ok()) return r.status();
    chain.recall_seq = r->seq();
  }
  {
    v1::Event event;
    v1::RecallAck* a = event.mutable_recall_ack();
    a->set_recall_id(chain.recall_id);
    a->set_batch_id(chain.lot1);
    a->set_action(v1::RECALL_ACTION_QUARANTINED);
    a->set_grams(10'000);
    auto r = Submit(trader_, std::move(event));
    if (!r.ok()) return r.status();
    chain.ack_seq = r->seq();
  }
  return chain;
}

}  // namespace herbtrace::testing
