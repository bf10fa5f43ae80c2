#include "fuzz/market_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "crypto/signed_note.h"
#include "fuzz/fixed_keys.h"
#include "services/cli/event_builder.h"
#include "services/cli/trace_code.h"
#include "services/domain/catalog_files.h"
#include "services/domain/identifiers.h"
#include "services/domain/verified_event.h"
#include "storage/staged_state.h"

namespace herbtrace::fuzz {
namespace {

constexpr char kRegion[] = "130683";  // 安国市

MarketParty Party(int serial, char key_fill) {
  return MarketParty{absl::StrFormat("%s%08d", kRegion, serial), FixedKey(key_fill)};
}

std::string Uscc(int serial) {
  const std::string first17 = absl::StrFormat("91%s%09d", kRegion, serial);
  return first17 + domain::UsccCheckCharacter(first17).value_or('0');
}

absl::Status Append(storage::Ledger& ledger, const v1::Event& event, const MarketParty& signer,
                    bool self_signed = false) {
  auto sealed = cli::SealEvent(event, *signer.key);
  if (!sealed.ok()) return sealed.status();
  storage::AppendRequest request;
  request.event_id = event.event_id();
  request.signed_event = sealed->signed_event();
  auto verified = std::make_shared<domain::VerifiedEvent>();
  verified->event = event;
  verified->key_id = signer.key->public_key().key_id();
  verified->self_signed = self_signed;
  request.context = std::move(verified);
  auto receipt = ledger.Append(std::move(request));
  if (!receipt.ok()) {
    return absl::Status(receipt.status().code(),
                        absl::StrCat("market setup: ", cli::EventKindName(event), ": ",
                                     receipt.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace

Market::Market() : clock_(Now()) {}

Market::~Market() {
  db_.reset();
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

absl::Time Market::Now() {
  return absl::FromCivil(absl::CivilSecond(2024, 9, 15, 10, 0, 0), absl::FixedTimeZone(8 * 3600));
}

v1::Event Market::NewEvent(const MarketParty& party, int n) const {
  cli::EventHeader header;
  header.event_id = absl::StrFormat("00000000-0000-4000-8000-%012d", n);
  header.occurred_at = Now();
  header.party_id = party.party_id;
  header.log_origin = kLogOrigin;
  return cli::NewEvent(header);
}

std::string Market::BatchCode(const MarketParty& party, int node_type, int sequence) const {
  return cli::MakeBatchCode(node_type, party.party_id, domain::ChinaDate(Now()), sequence)
      .value_or("");
}

absl::Status Market::Judge(const v1::SubmitRequest& request, const v1::Event& event,
                           const std::function<void(const storage::StateTxn&)>& accepted) {
  storage::AppendRequest append;
  append.event_id = event.event_id();
  append.signed_event = request.signed_event();
  for (const v1::BatchLink& link : event.expected_heads()) {
    append.expected_heads.emplace_back(link.batch_id(), link.prev_leaf_hash());
  }
  auto verified = std::make_shared<domain::VerifiedEvent>();
  verified->event = event;
  verified->key_id = request.signed_event().key_id();
  verified->openings.assign(request.openings().begin(), request.openings().end());
  append.context = std::move(verified);

  // Reads the market's state and keeps the event's changes in memory, never written.
  storage::StagedState staged(*db_, 0);
  storage::StateTxn txn(staged, size_, clock_.Now());
  absl::Status status = rules_->Apply(append, txn);
  if (status.ok() && accepted) accepted(txn);
  return status;
}

absl::StatusOr<std::unique_ptr<Market>> Market::Create() {
  std::unique_ptr<Market> market(new Market());
  if (absl::Status s = market->Build(); !s.ok()) return s;
  return market;
}

absl::Status Market::Build() {
  std::string pattern = (std::filesystem::temp_directory_path() / "herbtrace-fuzz-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return absl::InternalError("market: mkdtemp failed");
  dir_ = pattern;

  operator_ = Party(1, kOperatorKeyFill);
  regulator_ = Party(2, kRegulatorKeyFill);
  grower_ = Party(3, kGrowerKeyFill);
  trader_ = Party(4, kTraderKeyFill);
  lab_ = Party(5, kLabKeyFill);
  base_id_ = grower_.party_id + "0001";

  config_.log_origin = kLogOrigin;
  config_.bootstrap_key_id = operator_.key->public_key().key_id();
  config_.clock = &clock_;
  rules_ = std::make_unique<domain::DomainRules>(config_);

  auto log_signer = crypto::NoteSigner::Create(kLogOrigin, FixedKey(kLogKeyFill));
  if (!log_signer.ok()) return log_signer.status();
  storage::Ledger::Options options;
  options.origin = kLogOrigin;
  options.clock = &clock_;
  options.rule = rules_.get();
  options.sync = false;
  options.checkpoint_interval = absl::Hours(1);
  options.block_cache_bytes = 8 << 20;
  auto ledger = storage::Ledger::Open(dir_ + "/ledger", options, *std::move(log_signer));
  if (!ledger.ok()) return ledger.status();

  int n = 0;
  auto register_party = [&](const MarketParty& registrar, const MarketParty& party,
                            v1::PartyRole role, absl::string_view name) {
    v1::Event e = NewEvent(registrar, ++n);
    v1::RegisterParty* rp = e.mutable_register_party();
    rp->set_party_id(party.party_id);
    rp->set_name(std::string(name));
    rp->add_roles(role);
    rp->set_uscc(Uscc(std::stoi(party.party_id.substr(6))));
    rp->set_region_code(kRegion);
    rp->set_address("河北省安国市");
    auto key = cli::MakeNewKey(*party.key, kLogOrigin, party.party_id, "handheld");
    if (!key.ok()) return key.status();
    *rp->add_initial_keys() = *std::move(key);
    return Append(**ledger, e, registrar, &registrar == &party);
  };
  absl::Status s = register_party(operator_, operator_, v1::PARTY_ROLE_MARKET_OPERATOR,
                                  "安国数字中药都市场管理有限公司");
  if (s.ok())
    s = register_party(operator_, regulator_, v1::PARTY_ROLE_REGULATOR, "安国市市场监督管理局");
  if (s.ok())
    s = register_party(regulator_, grower_, v1::PARTY_ROLE_GROWER, "安国市祁州黄芪种植专业合作社");
  if (s.ok()) s = register_party(operator_, trader_, v1::PARTY_ROLE_TRADER, "安国市某药材经营部");
  if (s.ok()) s = register_party(regulator_, lab_, v1::PARTY_ROLE_LAB, "河北某检测中心");
  if (!s.ok()) return s;

  auto catalog =
      domain::ReadHerbCatalogFile(HERBTRACE_SOURCE_DIR "/catalog/herbs.csv", "anguo-herbs-2024.1");
  if (!catalog.ok()) return catalog.status();
  v1::Event load_catalog = NewEvent(operator_, ++n);
  *load_catalog.mutable_load_herb_catalog() = *catalog;
  if (s = Append(**ledger, load_catalog, operator_); !s.ok()) return s;
  auto limits = domain::ReadQualityLimitsFile(HERBTRACE_SOURCE_DIR "/catalog/quality-limits.csv",
                                              *catalog, "chp2020-anguo-2024.1");
  if (!limits.ok()) return limits.status();
  v1::Event load_limits = NewEvent(regulator_, ++n);
  *load_limits.mutable_load_quality_limits() = limits->limits;
  if (s = Append(**ledger, load_limits, regulator_); !s.ok()) return s;

  v1::Event base = NewEvent(grower_, ++n);
  v1::RegisterBase* rb = base.mutable_register_base();
  rb->set_base_id(base_id_);
  rb->set_name("祁州药材基地");
  rb->set_region_code(kRegion);
  rb->mutable_location()->set_latitude_micro_deg(38418512);
  rb->mutable_location()->set_longitude_micro_deg(115323450);
  rb->set_area_centi_mu(125000);
  rb->add_herb_codes("HUANGQI");
  rb->set_cultivation(v1::CULTIVATION_KIND_CULTIVATED);
  if (s = Append(**ledger, base, grower_); !s.ok()) return s;

  lot1_ = BatchCode(grower_, 1, 1);
  lot2_ = BatchCode(grower_, 1, 2);
  for (const auto& [lot, grams] : {std::pair(lot1_, 800000), std::pair(lot2_, 500000)}) {
    v1::Event e = NewEvent(grower_, ++n);
    v1::Harvest* hv = e.mutable_harvest();
    hv->set_batch_id(lot);
    hv->set_base_id(base_id_);
    hv->set_herb_code("HUANGQI");
    hv->set_grams(grams);
    hv->mutable_harvest_date()->set_year(2024);
    hv->mutable_harvest_date()->set_month(9);
    hv->mutable_harvest_date()->set_day(12);
    hv->set_plot("东区-3号地");
    if (s = Append(**ledger, e, grower_); !s.ok()) return s;
  }

  auto note = (*ledger)->SignCheckpoint();
  if (!note.ok()) return note.status();
  checkpoint_ = *std::move(note);
  size_ = (*ledger)->size();
  ledger->reset();

  storage::LedgerDb::Options db_options;
  db_options.block_cache_bytes = 8 << 20;
  auto db = storage::LedgerDb::Open(dir_ + "/ledger", db_options);
  if (!db.ok()) return db.status();
  db_ = *std::move(db);
  return absl::OkStatus();
}

}  // namespace herbtrace::fuzz
