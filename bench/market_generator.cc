#include "bench/market_generator.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "crypto/hash.h"
#include "services/cli/event_builder.h"
#include "services/domain/catalog_files.h"
#include "services/domain/identifiers.h"
#include "services/domain/signature_algorithm.h"

namespace herbtrace::bench {
namespace {

const absl::TimeZone kChina = absl::FixedTimeZone(8 * 60 * 60);
constexpr char kRegion[] = "130683";  // 安国市
constexpr char kCatalogVersion[] = "anguo-catalog-1";
constexpr char kLimitsVersion[] = "chp2020-anguo-1";
// Codes are YYMMDD SSS: a party creates at most 999 batches a day.
constexpr int kCodesPerDay = 999;

enum class Role { kOperator, kRegulator, kGrower, kTrader, kProcessor, kWarehouse, kLab, kPharmacy };

struct Party {
  std::string id;
  Role role;
  std::string name;
  std::unique_ptr<crypto::PrivateKey> ed25519;
  std::unique_ptr<crypto::PrivateKey> sm2;
  std::vector<std::string> bases;
  std::vector<std::vector<std::string>> base_herbs;
  int64_t code_day = -1;
  int codes_today = 0;
};

struct Lot {
  std::string id;
  std::string herb;
  uint64_t grams = 0;
  int depth = 0;  // steps below its harvest
};

// A trade or shipment waiting for the recipient's Receive.
struct Pending {
  std::string transfer_id;
  std::vector<Lot> lots;
};

// The SM2 private scalar `d` as an unencrypted PKCS#8 PrivateKeyInfo without the public point,
// which OpenSSL recomputes on load: id-ecPublicKey on curve SM2 (1.2.156.10197.1.301).
std::string Sm2Pkcs8(absl::string_view d) {
  static constexpr unsigned char kHead[] = {
      0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
      0x02, 0x01, 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d, 0x04, 0x27,
      0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20};
  return absl::StrCat(absl::string_view(reinterpret_cast<const char*>(kHead), sizeof(kHead)), d);
}

}  // namespace

class MarketGenerator::Impl {
 public:
  explicit Impl(const MarketOptions& options) : options_(options), rng_(options.seed) {}

  absl::Status Init();
  absl::StatusOr<bool> Next(GeneratedEvent& out);

  MarketOptions options_;
  std::mt19937_64 rng_;
  std::unique_ptr<crypto::Hasher> sha256_;
  Signing signing_ = Signing::kEd25519;
  Landmarks landmarks_;
  std::vector<Party> parties_;
  std::vector<int> growers_, traders_, processors_, warehouses_, labs_, pharmacies_;
  v1::LoadHerbCatalog catalog_;
  v1::LoadQualityLimits limits_;
  std::map<std::string, std::vector<const v1::LimitRow*>> rows_by_herb_;

  // Where the market is.
  uint64_t emitted_ = 0;
  uint64_t wave_ = 0;
  uint64_t session_ = 0;
  int round_ = 0;
  int stage_ = -1;
  bool finished_ = false;
  bool recalled_ = false;
  absl::Time wave_time_;
  uint64_t event_in_wave_ = 0;
  // Events of the session being produced, signed only when they leave (Seal).
  struct Unsigned {
    uint64_t wave, session;
    int party;
    v1::Event event;
    std::vector<v1::Opening> openings;
  };
  std::deque<Unsigned> buffer_;
  std::vector<std::function<void()>> wave_sessions_;
  size_t next_session_ = 0;
  std::vector<std::vector<Pending>> inbox_;
  std::vector<Lot> test_candidates_;
  uint64_t big_children_ = 0, big_packs_ = 0;
  absl::Status error_;

  // Randomness, the same on every platform (no std distributions).
  uint64_t Uniform(uint64_t lo, uint64_t hi) { return lo + rng_() % (hi - lo + 1); }
  bool Chance(double p) { return static_cast<double>(rng_() >> 11) * 0x1.0p-53 < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[rng_() % v.size()]; }
  std::string RandomBytes(size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(rng_());
    return out;
  }
  std::string EventId() {
    const uint64_t a = rng_(), b = rng_();
    return absl::StrFormat("%08x-%04x-4%03x-%x%03x-%012x", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                           8 + (b >> 62), (b >> 48) & 0xfff, b & 0xffffffffffffULL);
  }
  std::string Derive(const Party& p, absl::string_view what) {
    return std::string(crypto::AsBytes(sha256_->Hash(
        absl::StrCat("herbtrace bench market\n", options_.seed, "\n", p.id, "\n", what))));
  }

  absl::Time Now() { return wave_time_ + absl::Seconds(event_in_wave_ % 7000); }
  v1::Date Today() {
    const absl::CivilDay day = absl::ToCivilDay(Now(), kChina);
    v1::Date d;
    d.set_year(static_cast<int>(day.year()));
    d.set_month(day.month());
    d.set_day(day.day());
    return d;
  }
  // A new batch code of `p` for today, or "" when it has used up the day's codes.
  std::string NewCode(int p);
  v1::Event NewEvent(int p);
  void Emit(int p, const v1::Event& event, std::vector<v1::Opening> openings = {});
  absl::Status Seal(Unsigned& in, GeneratedEvent& out);
  v1::Opening PriceOpening(uint64_t fen, std::string& commitment);

  int AddParty(Role role, std::string id, std::string name);
  void StartWave(std::vector<std::function<void()>> sessions);
  void PlanNextWave();

  // Sessions.
  // The genesis alone (its key is registered only once it is in the log), or all the rest.
  void RegistrationSession(bool genesis);
  void LimitsSession();
  void BaseSession(int grower);
  void GrowerSession(int grower, std::vector<std::pair<int, std::string>> harvests);
  void BigHarvestSession(int grower);
  void BigTraderSession(int trader);
  void TraderSession(int trader);
  void ProcessorSession(int processor);
  void PharmacySession(int pharmacy);
  void LabSession(int lab, std::vector<Lot> lots);
  void RecallSession();

  // Keeps the deepest lots seen (10 steps below the harvest once a merged lot is fried).
  void NoteDeepLot(const Lot& lot) {
    if (lot.depth > landmarks_.deep_lot_depth) {
      landmarks_.deep_lot_depth = lot.depth;
      landmarks_.deep_lots.clear();
    }
    if (lot.depth == landmarks_.deep_lot_depth && landmarks_.deep_lots.size() < 100) {
      landmarks_.deep_lots.push_back(lot.id);
    }
  }

  // Event helpers: each emits one event and returns the new lot (empty id when out of codes).
  Lot ProcessLot(int p, const Lot& in, v1::ProcessKind kind, double loss_lo, double loss_hi);
  std::vector<Lot> SplitLot(int p, Lot& in, size_t n, uint64_t each);
  std::string Trade(int seller, int buyer, const Lot& lot);
  void ReceiveAll(int p);
};

int MarketGenerator::Impl::AddParty(Role role, std::string id, std::string name) {
  Party p;
  p.id = std::move(id);
  p.role = role;
  p.name = std::move(name);
  parties_.push_back(std::move(p));
  return static_cast<int>(parties_.size()) - 1;
}

absl::Status MarketGenerator::Impl::Init() {
  auto hasher = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
  if (!hasher.ok()) return hasher.status();
  sha256_ = *std::move(hasher);
  auto catalog = domain::ReadHerbCatalogFile(options_.catalog_dir + "/herbs.csv", kCatalogVersion);
  if (!catalog.ok()) return catalog.status();
  catalog_ = *std::move(catalog);
  auto limits = domain::ReadQualityLimitsFile(options_.catalog_dir + "/quality-limits.csv",
                                              catalog_, kLimitsVersion);
  if (!limits.ok()) return limits.status();
  limits_ = std::move(limits->limits);
  // The rows a lab checks for each herb: upper limits in mass fraction that apply to it.
  for (const v1::Herb& herb : catalog_.herbs()) {
    auto& rows = rows_by_herb_[herb.code()];
    for (const v1::LimitRow& row : limits_.rows()) {
      if (row.rule() != v1::LIMIT_RULE_MAX || !row.has_limit() || row.limit().value() <= 0 ||
          row.use() == v1::PRODUCT_USE_FOOD || rows.size() >= 6) {
        continue;
      }
      const auto& except = row.except_herb_codes();
      const auto& only = row.herb_codes();
      const bool applies =
          row.applies_to_all()
              ? std::find(except.begin(), except.end(), herb.code()) == except.end()
              : std::find(only.begin(), only.end(), herb.code()) != only.end();
      if (applies) rows.push_back(&row);
    }
  }

  // The market's size follows the scale up to one million events, then stays: a bigger ledger
  // is more years of the same market.
  const double f = std::min(1.0, static_cast<double>(options_.target_events) / 1e6);
  auto count = [f](int at_scale, int least) { return std::max(least, static_cast<int>(at_scale * f)); };
  AddParty(Role::kOperator, "13068300000001", "安国数字中药都市场管理有限公司");
  AddParty(Role::kRegulator, "13068300000002", "安国市市场监督管理局");
  int serial = 1000;
  auto add = [&](Role role, int n, std::vector<int>& into, absl::string_view before,
                 absl::string_view after) {
    for (int i = 0; i < n; ++i) {
      into.push_back(AddParty(role, absl::StrCat(kRegion, absl::StrFormat("%08d", serial++)),
                              absl::StrCat(before, i + 1, after)));
    }
  };
  add(Role::kGrower, count(2500, 20), growers_, "安国市第", "药材种植专业合作社");
  add(Role::kTrader, count(300, 5), traders_, "东方药城第", "药材经营部");
  add(Role::kProcessor, count(200, 5), processors_, "安国市第", "中药饮片有限公司");
  add(Role::kWarehouse, count(50, 2), warehouses_, "安国中药材第", "仓储物流有限公司");
  add(Role::kLab, count(20, 2), labs_, "河北安国第", "中药材检测中心");
  add(Role::kPharmacy, count(100, 5), pharmacies_, "第", "中医医院药房");
  for (Party& p : parties_) {
    auto ed = crypto::PrivateKey::FromEd25519Seed(Derive(p, "ed25519"));
    if (!ed.ok()) return ed.status();
    p.ed25519 = *std::move(ed);
    std::string d = Derive(p, "sm2");
    d[0] = static_cast<char>(static_cast<unsigned char>(d[0]) & 0x7f);  // below the group order
    auto sm2 = crypto::PrivateKey::FromDer(Sm2Pkcs8(d));
    if (!sm2.ok()) return sm2.status();
    p.sm2 = *std::move(sm2);
  }
  inbox_.resize(parties_.size());
  // Planting bases: the first grower is a large cooperative growing huangqi; the others have
  // one to three bases of one to three catalog herbs each.
  for (size_t i = 0; i < growers_.size(); ++i) {
    Party& g = parties_[growers_[i]];
    const int bases = i == 0 ? 1 : static_cast<int>(Uniform(1, 3));
    for (int b = 0; b < bases; ++b) {
      g.bases.push_back(absl::StrFormat("%s%04d", g.id, b + 1));
      std::vector<std::string> herbs;
      if (i == 0) {
        herbs.push_back("HUANGQI");
      } else {
        for (int n = static_cast<int>(Uniform(1, 3)); n > 0; --n) {
          const std::string& code = catalog_.herbs(rng_() % catalog_.herbs_size()).code();
          if (std::find(herbs.begin(), herbs.end(), code) == herbs.end()) herbs.push_back(code);
        }
      }
      g.base_herbs.push_back(std::move(herbs));
    }
  }
  // The big closure: `children` lots of the dried harvest, each split into `packs` packs.
  const uint64_t big_lots =
      std::clamp<uint64_t>(options_.target_events / 80, 100, 12'000);
  big_children_ = std::min<uint64_t>(100, std::max<uint64_t>(5, std::llround(std::sqrt(big_lots))));
  big_packs_ = std::max<uint64_t>(2, big_lots / big_children_);
  return absl::OkStatus();
}

std::string MarketGenerator::Impl::NewCode(int p) {
  Party& party = parties_[p];
  const absl::CivilDay day = absl::ToCivilDay(Now(), kChina);
  const int64_t day_number = day - absl::CivilDay(2000, 1, 1);
  if (party.code_day != day_number) {
    party.code_day = day_number;
    party.codes_today = 0;
  }
  if (party.codes_today >= kCodesPerDay) return "";
  int node_type = 0;
  switch (party.role) {
    case Role::kGrower: node_type = 1; break;
    case Role::kProcessor: node_type = 2; break;
    case Role::kWarehouse: node_type = 3; break;
    case Role::kTrader: node_type = 4; break;
    case Role::kPharmacy: node_type = 5; break;
    default: node_type = 9; break;
  }
  const std::string body =
      absl::StrFormat("%d%s%02d%02d%02d%03d", node_type, party.id, day.year() % 100, day.month(),
                      day.day(), ++party.codes_today);
  return absl::StrCat(body, std::string(1, domain::TraceCheckDigit(body)));
}

v1::Event MarketGenerator::Impl::NewEvent(int p) {
  cli::EventHeader header;
  header.event_id = EventId();
  header.occurred_at = Now();
  header.party_id = parties_[p].id;
  header.log_origin = options_.log_origin;
  return cli::NewEvent(header);
}

void MarketGenerator::Impl::Emit(int p, const v1::Event& event, std::vector<v1::Opening> openings) {
  ++event_in_wave_;
  buffer_.push_back(Unsigned{wave_, session_, p, event, std::move(openings)});
}

// Signed as it leaves the generator, so a change of signing applies from the next event on.
absl::Status MarketGenerator::Impl::Seal(Unsigned& in, GeneratedEvent& out) {
  out.wave = in.wave;
  out.session = in.session;
  out.party = in.party;
  const Party& party = parties_[in.party];
  if (signing_ == Signing::kNone) {
    out.request.Clear();
    v1::SignedEvent* signed_event = out.request.mutable_signed_event();
    signed_event->set_payload(in.event.SerializeAsString());  // once; these bytes are bundled
    signed_event->set_key_id(party.ed25519->public_key().key_id());
    signed_event->set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
    for (v1::Opening& o : in.openings) *out.request.add_openings() = std::move(o);
    return absl::OkStatus();
  }
  const crypto::PrivateKey& key = signing_ == Signing::kSm2 ? *party.sm2 : *party.ed25519;
  auto sealed = cli::SealEvent(in.event, key, std::move(in.openings));
  if (!sealed.ok()) return sealed.status();
  out.request = *std::move(sealed);
  return absl::OkStatus();
}

v1::Opening MarketGenerator::Impl::PriceOpening(uint64_t fen, std::string& commitment) {
  auto c = cli::CommitWithSalt(cli::kTradePricePath, RandomBytes(32), cli::PriceValue(fen));
  commitment = c->commitment;
  return c->opening;
}

// ── Registration ────────────────────────────────────────────────────────────────────────────

void MarketGenerator::Impl::RegistrationSession(bool genesis) {
  auto register_party = [&](int p) {
    const Party& party = parties_[p];
    v1::Event event = NewEvent(0);
    v1::RegisterParty* rp = event.mutable_register_party();
    rp->set_party_id(party.id);
    rp->set_name(party.name);
    switch (party.role) {
      case Role::kOperator: rp->add_roles(v1::PARTY_ROLE_MARKET_OPERATOR); break;
      case Role::kRegulator: rp->add_roles(v1::PARTY_ROLE_REGULATOR); break;
      case Role::kGrower: rp->add_roles(v1::PARTY_ROLE_COOPERATIVE); break;
      case Role::kTrader: rp->add_roles(v1::PARTY_ROLE_TRADER); break;
      case Role::kProcessor: rp->add_roles(v1::PARTY_ROLE_PROCESSOR); break;
      case Role::kWarehouse: rp->add_roles(v1::PARTY_ROLE_WAREHOUSE); break;
      case Role::kLab: rp->add_roles(v1::PARTY_ROLE_LAB); break;
      case Role::kPharmacy: rp->add_roles(v1::PARTY_ROLE_HOSPITAL); break;
    }
    const std::string first17 = absl::StrCat("91", party.id.substr(0, 6), "MA", party.id.substr(7));
    rp->set_uscc(absl::StrCat(first17, std::string(1, *domain::UsccCheckCharacter(first17))));
    rp->set_region_code(kRegion);
    rp->set_address("河北省保定市安国市");
    for (const crypto::PrivateKey* key : {party.ed25519.get(), party.sm2.get()}) {
      auto new_key = cli::MakeNewKey(*key, options_.log_origin, party.id,
                                     key == party.ed25519.get() ? "扫码枪 1" : "扫码枪 2 (SM2)");
      if (!new_key.ok()) {
        error_ = new_key.status();
        return;
      }
      *rp->add_initial_keys() = *std::move(new_key);
    }
    Emit(0, event);
  };
  if (genesis) {
    register_party(0);  // the operator, self-signed with the bootstrap key
    return;
  }
  v1::Event catalog = NewEvent(0);
  *catalog.mutable_load_herb_catalog() = catalog_;
  Emit(0, catalog);
  for (size_t p = 1; p < parties_.size(); ++p) register_party(static_cast<int>(p));
}

void MarketGenerator::Impl::LimitsSession() {
  v1::Event event = NewEvent(1);
  *event.mutable_load_quality_limits() = limits_;
  Emit(1, event);
}

void MarketGenerator::Impl::BaseSession(int grower) {
  const Party& g = parties_[grower];
  for (size_t b = 0; b < g.bases.size(); ++b) {
    v1::Event event = NewEvent(grower);
    v1::RegisterBase* rb = event.mutable_register_base();
    rb->set_base_id(g.bases[b]);
    rb->set_name(absl::StrCat(g.name, "第", b + 1, "基地"));
    rb->set_region_code(kRegion);
    rb->mutable_location()->set_latitude_micro_deg(38'300'000 + static_cast<int>(Uniform(0, 250'000)));
    rb->mutable_location()->set_longitude_micro_deg(115'200'000 + static_cast<int>(Uniform(0, 250'000)));
    rb->set_area_centi_mu(grower == growers_[0] ? 200'000 : Uniform(2'000, 50'000));
    for (const std::string& herb : g.base_herbs[b]) rb->add_herb_codes(herb);
    rb->set_cultivation(v1::CULTIVATION_KIND_CULTIVATED);
    Emit(grower, event);
  }
}

// ── Custody ─────────────────────────────────────────────────────────────────────────────────

Lot MarketGenerator::Impl::ProcessLot(int p, const Lot& in,
                                                               v1::ProcessKind kind,
                                                               double loss_lo, double loss_hi) {
  Lot out{NewCode(p), in.herb, 0, in.depth + 1};
  if (out.id.empty()) return out;
  const double loss = loss_lo + (loss_hi - loss_lo) * static_cast<double>(Uniform(0, 1000)) / 1000;
  out.grams = std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(in.grams) * (1 - loss)));
  v1::Event event = NewEvent(p);
  v1::Process* pr = event.mutable_process();
  pr->set_kind(kind);
  pr->mutable_input()->set_batch_id(in.id);
  pr->mutable_input()->set_grams(in.grams);
  pr->set_output_batch_id(out.id);
  pr->set_output_grams(out.grams);
  pr->set_loss_grams(in.grams - out.grams);
  if (kind == v1::PROCESS_KIND_STIR_FRYING_WITH_ADJUVANT) {
    v1::Adjuvant* honey = pr->add_adjuvants();
    honey->set_name("蜂蜜");
    honey->mutable_amount()->set_value(static_cast<int64_t>(in.grams / 4));
    honey->mutable_amount()->set_unit(v1::MEASURE_UNIT_GRAMS);
  }
  Emit(p, event);
  return out;
}

std::vector<Lot> MarketGenerator::Impl::SplitLot(int p, Lot& in, size_t n,
                                                                         uint64_t each) {
  std::vector<Lot> outs;
  v1::Event event = NewEvent(p);
  v1::Split* s = event.mutable_split();
  s->set_input_batch_id(in.id);
  for (size_t i = 0; i < n && each * (i + 1) <= in.grams; ++i) {
    Lot out{NewCode(p), in.herb, each, in.depth + 1};
    if (out.id.empty()) break;
    v1::BatchQuantity* q = s->add_outputs();
    q->set_batch_id(out.id);
    q->set_grams(each);
    outs.push_back(std::move(out));
  }
  if (outs.empty()) return outs;
  in.grams -= each * outs.size();
  Emit(p, event);
  return outs;
}

std::string MarketGenerator::Impl::Trade(int seller, int buyer, const Lot& lot) {
  const uint64_t yuan_per_kg = Uniform(20, 260);
  std::string commitment;
  v1::Opening opening = PriceOpening(lot.grams * yuan_per_kg / 10, commitment);  // fen
  v1::Event event = NewEvent(seller);
  v1::Trade* t = event.mutable_trade();
  t->set_seller_party_id(parties_[seller].id);
  t->set_buyer_party_id(parties_[buyer].id);
  t->mutable_batch()->set_batch_id(lot.id);
  t->mutable_batch()->set_grams(lot.grams);
  t->set_price_commitment(commitment);
  t->set_trade_no(absl::StrFormat("AG%010d", Uniform(0, 9'999'999'999)));
  Emit(seller, event, {opening});
  inbox_[buyer].push_back(Pending{event.event_id(), {lot}});
  return event.event_id();
}

void MarketGenerator::Impl::ReceiveAll(int p) {
  for (const Pending& pending : inbox_[p]) {
    v1::Event event = NewEvent(p);
    v1::Receive* r = event.mutable_receive();
    r->set_transfer_event_id(pending.transfer_id);
    for (const Lot& lot : pending.lots) {
      v1::BatchQuantity* q = r->add_received();
      q->set_batch_id(lot.id);
      q->set_grams(lot.grams);
    }
    Emit(p, event);
  }
}

void MarketGenerator::Impl::GrowerSession(int grower,
                                          std::vector<std::pair<int, std::string>> harvests) {
  for (const auto& [base, herb] : harvests) {
    Lot fresh{NewCode(grower), herb, Uniform(300, 3'000) * 1000, 0};
    if (fresh.id.empty()) return;
    v1::Event event = NewEvent(grower);
    v1::Harvest* h = event.mutable_harvest();
    h->set_batch_id(fresh.id);
    h->set_base_id(parties_[grower].bases[base]);
    h->set_herb_code(herb);
    h->set_grams(fresh.grams);
    *h->mutable_harvest_date() = Today();
    h->set_plot(absl::StrCat(Uniform(1, 12), "号地"));
    Emit(grower, event);
    const Lot dried = ProcessLot(grower, fresh, v1::PROCESS_KIND_DRYING, 0.60, 0.72);
    if (dried.id.empty()) return;
    if (Chance(0.5)) {
      const int warehouse = Pick(warehouses_);
      for (v1::StoreAction action : {v1::STORE_ACTION_IN, v1::STORE_ACTION_OUT}) {
        v1::Event store = NewEvent(grower);
        v1::Store* s = store.mutable_store();
        s->set_action(action);
        s->add_batch_ids(dried.id);
        s->set_warehouse_party_id(parties_[warehouse].id);
        if (action == v1::STORE_ACTION_IN) {
          s->set_location(absl::StrFormat("%c库-%d区-%d排", static_cast<char>('A' + Uniform(0, 5)),
                                          Uniform(1, 9), Uniform(1, 30)));
          s->set_storage_class(v1::STORAGE_CLASS_COOL);
        }
        Emit(grower, store);
      }
    }
    Trade(grower, Pick(traders_), dried);
  }
}

void MarketGenerator::Impl::TraderSession(int trader) {
  ReceiveAll(trader);
  std::vector<Pending> received = std::move(inbox_[trader]);
  inbox_[trader].clear();
  std::vector<Lot> for_sale;
  std::map<std::string, Lot> first_of_herb;  // one lot per herb, waiting for a merge partner
  for (Pending& pending : received) {
    Lot cleaned = ProcessLot(trader, pending.lots[0], v1::PROCESS_KIND_CLEANING, 0.02, 0.05);
    if (cleaned.id.empty()) continue;
    // Most lots go out in a few parts; now and then one is split into hundreds for retail.
    const double r = static_cast<double>(Uniform(0, 999)) / 1000;
    size_t n = r < 0.02 ? Uniform(100, 300) : r < 0.15 ? Uniform(9, 40) : Uniform(2, 8);
    n = std::min<size_t>(n, cleaned.grams / 2'000);
    if (n == 0) continue;
    std::vector<Lot> parts = SplitLot(trader, cleaned, n, cleaned.grams / n);
    if (parts.empty()) continue;
    // Two lots of one herb from different harvests become one grade lot.
    auto [it, inserted] = first_of_herb.try_emplace(parts[0].herb, parts[0]);
    size_t first_sold = 0;
    if (!inserted) {
      Lot merged{NewCode(trader), parts[0].herb, 0,
                 std::max(it->second.depth, parts[0].depth) + 1};
      if (!merged.id.empty()) {
        v1::Event event = NewEvent(trader);
        v1::Merge* m = event.mutable_merge();
        for (const Lot* in : {&it->second, &parts[0]}) {
          v1::BatchQuantity* q = m->add_inputs();
          q->set_batch_id(in->id);
          q->set_grams(in->grams);
          merged.grams += in->grams;
        }
        m->set_output_batch_id(merged.id);
        m->set_output_grams(merged.grams);
        Emit(trader, event);
        for_sale.push_back(merged);
        first_of_herb.erase(it);
        first_sold = 1;
      }
    } else {
      first_sold = 1;  // held back for a merge; sold below if none comes
    }
    // Of a lot split into hundreds, twenty parts go to processors; the rest stay in stock.
    for (size_t i = first_sold; i < std::min<size_t>(parts.size(), 20); ++i) {
      for_sale.push_back(parts[i]);
    }
  }
  for (auto& [herb, lot] : first_of_herb) for_sale.push_back(lot);
  for (const Lot& lot : for_sale) Trade(trader, Pick(processors_), lot);
}

void MarketGenerator::Impl::ProcessorSession(int processor) {
  ReceiveAll(processor);
  std::vector<Pending> received = std::move(inbox_[processor]);
  inbox_[processor].clear();
  for (Pending& pending : received) {
    Lot lot = pending.lots[0];
    lot = ProcessLot(processor, lot, v1::PROCESS_KIND_SLICING, 0.03, 0.08);
    if (lot.id.empty()) continue;
    if (Chance(0.5)) {
      lot = ProcessLot(processor, lot, v1::PROCESS_KIND_STIR_FRYING_WITH_ADJUVANT, 0.05, 0.10);
      if (lot.id.empty()) continue;
    }
    lot = ProcessLot(processor, lot, v1::PROCESS_KIND_DRYING, 0.02, 0.05);
    if (lot.id.empty()) continue;
    if (landmarks_.sample_lots.size() < 1000) {
      landmarks_.sample_lots.push_back(lot.id);
    } else if (Chance(0.01)) {
      landmarks_.sample_lots[rng_() % 1000] = lot.id;
    }
    const uint64_t pack = lot.grams >= 20'000 ? 1'000 : 500;
    std::vector<Lot> packs = SplitLot(processor, lot, Uniform(5, 20), pack);
    if (packs.empty()) continue;
    // To one to three hospital pharmacies, one shipment each.
    const size_t buyers = std::min<size_t>(packs.size(), Uniform(1, 3));
    for (size_t b = 0; b < buyers; ++b) {
      const int to = Pick(pharmacies_);
      v1::Event event = NewEvent(processor);
      v1::Ship* s = event.mutable_ship();
      s->set_to_party_id(parties_[to].id);
      Pending pending_ship{event.event_id(), {}};
      for (size_t i = b; i < packs.size(); i += buyers) {
        v1::BatchQuantity* q = s->add_batches();
        q->set_batch_id(packs[i].id);
        q->set_grams(packs[i].grams);
        pending_ship.lots.push_back(packs[i]);
      }
      s->set_carrier("安国顺达物流有限公司");
      s->set_vehicle_plate(absl::StrFormat("冀F%05d", Uniform(10'000, 99'999)));
      s->set_waybill_no(absl::StrFormat("SD%012d", Uniform(0, 999'999'999'999)));
      Emit(processor, event);
      inbox_[to].push_back(std::move(pending_ship));
    }
  }
}

void MarketGenerator::Impl::PharmacySession(int pharmacy) {
  ReceiveAll(pharmacy);
  std::vector<Pending> received = std::move(inbox_[pharmacy]);
  inbox_[pharmacy].clear();
  for (Pending& pending : received) {
    for (Lot& pack : pending.lots) {
      std::vector<Lot> leaves;
      if (Chance(0.25)) {
        std::vector<Lot> parts = SplitLot(pharmacy, pack, Uniform(2, 3), pack.grams / 4);
        if (!parts.empty() && Chance(0.5)) {
          std::vector<Lot> smaller = SplitLot(pharmacy, parts[0], 2, parts[0].grams / 2);
          for (const Lot& l : smaller) NoteDeepLot(l);
          leaves.insert(leaves.end(), smaller.begin(), smaller.end());
          parts.erase(parts.begin());
        }
        leaves.insert(leaves.end(), parts.begin(), parts.end());
      } else {
        leaves.push_back(pack);
      }
      // Prescriptions: a few doses of 9-30 g from each lot.
      for (Lot& leaf : leaves) {
        for (uint64_t d = Uniform(0, 4); d > 0 && leaf.grams > 100; --d) {
          const uint64_t dose = Uniform(9, 30);
          v1::Event event = NewEvent(pharmacy);
          v1::Dispense* ds = event.mutable_dispense();
          ds->set_batch_id(leaf.id);
          ds->set_grams(dose);
          ds->set_recipient(v1::DISPENSE_RECIPIENT_CONSUMER);
          Emit(pharmacy, event);
          leaf.grams -= dose;
        }
        if (Chance(0.1)) test_candidates_.push_back(leaf);
      }
    }
  }
}

void MarketGenerator::Impl::LabSession(int lab, std::vector<Lot> lots) {
  for (const Lot& lot : lots) {
    const auto& rows = rows_by_herb_[lot.herb];
    if (rows.empty()) continue;
    const bool fail = Chance(0.03);
    v1::Event event = NewEvent(lab);
    v1::QualityTest* q = event.mutable_quality_test();
    q->set_batch_id(lot.id);
    q->set_sample_id(absl::StrFormat("S%08d", ++landmarks_.tests));
    q->set_purpose(v1::TEST_PURPOSE_COMMISSIONED);
    q->set_limits_version(kLimitsVersion);
    q->set_use(v1::PRODUCT_USE_MEDICINAL);
    q->set_sample_grams(50);
    q->set_report_no(absl::StrFormat("AGJC-%08d", landmarks_.tests));
    for (size_t i = 0; i < rows.size(); ++i) {
      const v1::LimitRow& row = *rows[i];
      v1::AnalyteResult* r = q->add_results();
      r->set_analyte(row.analyte());
      const int64_t limit = row.limit().value();
      const int64_t value = fail && i == 0 ? limit + limit * static_cast<int64_t>(Uniform(30, 100)) / 100
                                           : limit * static_cast<int64_t>(Uniform(5, 60)) / 100;
      r->mutable_value()->set_value(value);
      r->mutable_value()->set_unit(row.limit().unit());
      r->set_display_unit(row.display_unit());
      r->set_method("ChP 2020 通则");
    }
    if (fail) ++landmarks_.failing_tests;
    Emit(lab, event);
  }
}

void MarketGenerator::Impl::BigHarvestSession(int grower) {
  // Enough dried root for every pack at 1 kg, a little over.
  const uint64_t dried_grams = big_children_ * big_packs_ * 1'200;
  Lot fresh{NewCode(grower), "HUANGQI", dried_grams * 10 / 3, 0};
  landmarks_.big_harvest = fresh.id;
  v1::Event event = NewEvent(grower);
  v1::Harvest* h = event.mutable_harvest();
  h->set_batch_id(fresh.id);
  h->set_base_id(parties_[grower].bases[0]);
  h->set_herb_code(fresh.herb);
  h->set_grams(fresh.grams);
  *h->mutable_harvest_date() = Today();
  h->set_plot("东区1-40号地");
  Emit(grower, event);
  v1::Event dry = NewEvent(grower);
  const Lot dried{NewCode(grower), fresh.herb, dried_grams, 1};
  v1::Process* p = dry.mutable_process();
  p->set_kind(v1::PROCESS_KIND_DRYING);
  p->mutable_input()->set_batch_id(fresh.id);
  p->mutable_input()->set_grams(fresh.grams);
  p->set_output_batch_id(dried.id);
  p->set_output_grams(dried.grams);
  p->set_loss_grams(fresh.grams - dried.grams);
  Emit(grower, dry);
  Trade(grower, traders_[0], dried);
  landmarks_.big_closure_lots = 2;
}

void MarketGenerator::Impl::BigTraderSession(int trader) {
  ReceiveAll(trader);
  Lot dried = inbox_[trader][0].lots[0];
  inbox_[trader].clear();
  std::vector<Lot> parts = SplitLot(trader, dried, big_children_, big_packs_ * 1'200);
  landmarks_.big_closure_lots += parts.size();
  for (size_t i = 0; i < parts.size(); ++i) {
    Trade(trader, processors_[i % processors_.size()], parts[i]);
  }
}

void MarketGenerator::Impl::RecallSession() {
  v1::Event event = NewEvent(1);
  landmarks_.big_recall_id = event.event_id();
  v1::IssueRecall* rc = event.mutable_recall();
  rc->set_batch_id(landmarks_.big_harvest);
  rc->set_reason("黄芪 (Astragali Radix) 批次农残复检存疑, 召回其全部下游批次");
  rc->set_severity(v1::RECALL_SEVERITY_CLASS_II);
  rc->mutable_ack_deadline()->set_seconds(absl::ToUnixSeconds(Now() + absl::Hours(24 * 30)));
  Emit(1, event);
}

// ── Waves ───────────────────────────────────────────────────────────────────────────────────

void MarketGenerator::Impl::StartWave(std::vector<std::function<void()>> sessions) {
  ++wave_;
  // Round 0 is registration day; the big harvest is the week after; then one round a week.
  const absl::CivilDay day = absl::CivilDay(2023, 3, 1) + 7 * round_;
  wave_time_ = absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), 6 + 2 * stage_, 0, 0),
                               kChina);
  event_in_wave_ = 0;
  wave_sessions_ = std::move(sessions);
  next_session_ = 0;
}

void MarketGenerator::Impl::PlanNextWave() {
  std::vector<std::function<void()>> sessions;
  auto with_inbox = [&](const std::vector<int>& parties, void (Impl::*session)(int)) {
    for (int p : parties) {
      if (!inbox_[p].empty()) sessions.push_back([this, p, session] { (this->*session)(p); });
    }
  };
  ++stage_;
  if (round_ == 0) {
    if (stage_ == 0) {
      sessions.push_back([this] { RegistrationSession(true); });
    } else if (stage_ == 1) {
      sessions.push_back([this] { RegistrationSession(false); });
    } else if (stage_ == 2) {
      sessions.push_back([this] { LimitsSession(); });
      for (int g : growers_) sessions.push_back([this, g] { BaseSession(g); });
    } else {
      round_ = 1;
      stage_ = 0;
    }
  }
  if (round_ == 1) {
    if (stage_ == 0) {
      sessions.push_back([this] { BigHarvestSession(growers_[0]); });
    } else if (stage_ == 1) {
      sessions.push_back([this] { BigTraderSession(traders_[0]); });
    } else if (stage_ == 2) {
      for (int p : processors_) {
        if (inbox_[p].empty()) continue;
        sessions.push_back([this, p] {
          ReceiveAll(p);
          for (Pending& pending : inbox_[p]) {
            std::vector<Lot> packs = SplitLot(p, pending.lots[0], big_packs_, 1'000);
            landmarks_.big_closure_lots += packs.size();
          }
          inbox_[p].clear();
        });
      }
    } else {
      round_ = 2;
      stage_ = 0;
    }
  }
  if (round_ >= 2) {
    if (stage_ == 0) {
      // A quarter of the growers bring in one harvest each, round-robin over the years.
      std::map<int, std::vector<std::pair<int, std::string>>> harvests;
      const size_t n = std::max<size_t>(10, growers_.size() / 4);
      for (size_t i = 0; i < n; ++i) {
        const int g = growers_[1 + (round_ * n + i) % (growers_.size() - 1)];
        const Party& party = parties_[g];
        const int base = static_cast<int>(rng_() % party.bases.size());
        harvests[g].emplace_back(base, Pick(party.base_herbs[base]));
      }
      for (auto& [g, list] : harvests) {
        sessions.push_back([this, g = g, list = std::move(list)] { GrowerSession(g, list); });
      }
    } else if (stage_ == 1) {
      with_inbox(traders_, &Impl::TraderSession);
    } else if (stage_ == 2) {
      with_inbox(processors_, &Impl::ProcessorSession);
    } else if (stage_ == 3) {
      with_inbox(pharmacies_, &Impl::PharmacySession);
    } else if (stage_ == 4) {
      std::vector<std::vector<Lot>> by_lab(labs_.size());
      for (size_t i = 0; i < test_candidates_.size(); ++i) {
        by_lab[i % labs_.size()].push_back(test_candidates_[i]);
      }
      test_candidates_.clear();
      for (size_t l = 0; l < labs_.size(); ++l) {
        if (by_lab[l].empty()) continue;
        sessions.push_back(
            [this, lab = labs_[l], lots = std::move(by_lab[l])] { LabSession(lab, lots); });
      }
    } else {
      ++round_;
      stage_ = -1;
      PlanNextWave();
      return;
    }
  }
  StartWave(std::move(sessions));
}

absl::StatusOr<bool> MarketGenerator::Impl::Next(GeneratedEvent& out) {
  if (emitted_ >= options_.target_events) return false;
  const bool last = emitted_ + 1 == options_.target_events;
  if (last && !landmarks_.big_harvest.empty() && !recalled_) {
    // The market's last event: the regulator recalls the big harvest and all made from it.
    buffer_.clear();
    ++stage_;
    StartWave({});
    ++session_;
    RecallSession();
    recalled_ = true;
  }
  while (buffer_.empty()) {
    if (next_session_ >= wave_sessions_.size()) {
      PlanNextWave();
      continue;
    }
    ++session_;
    wave_sessions_[next_session_++]();
    if (!error_.ok()) return error_;
  }
  Unsigned next = std::move(buffer_.front());
  buffer_.pop_front();
  if (auto s = Seal(next, out); !s.ok()) return s;
  ++emitted_;
  return true;
}

MarketGenerator::MarketGenerator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MarketGenerator::~MarketGenerator() = default;

absl::StatusOr<std::unique_ptr<MarketGenerator>> MarketGenerator::Create(
    const MarketOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  if (auto s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<MarketGenerator>(new MarketGenerator(std::move(impl)));
}

absl::StatusOr<bool> MarketGenerator::Next(GeneratedEvent& out) { return impl_->Next(out); }
uint64_t MarketGenerator::emitted() const { return impl_->emitted_; }
void MarketGenerator::set_signing(Signing signing) { impl_->signing_ = signing; }
const crypto::PrivateKey& MarketGenerator::operator_key() const {
  return *impl_->parties_[0].ed25519;
}
const crypto::PrivateKey& MarketGenerator::bundle_key(int party) const {
  return *impl_->parties_[party].ed25519;
}
const Landmarks& MarketGenerator::landmarks() const { return impl_->landmarks_; }
size_t MarketGenerator::party_count() const { return impl_->parties_.size(); }

}  // namespace herbtrace::bench
