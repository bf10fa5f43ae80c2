#include "tests/e2e/live_market.h"

#include <chrono>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "herbtrace/v1/ids.pb.h"
#include "services/domain/catalog_files.h"

namespace herbtrace::testing {
namespace {

const absl::TimeZone kChina = absl::FixedTimeZone(8 * 60 * 60);
// Batch codes carry a three-digit sequence per creator and day.
constexpr int kCodesPerDay = 999;
constexpr int kCodesPerUnit = 3;  // the harvested batch and the two lots split from it

absl::StatusOr<std::unique_ptr<crypto::PrivateKey>> NewKey() {
  return crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519);
}

}  // namespace

absl::StatusOr<std::unique_ptr<LiveMarket>> LiveMarket::Create(const std::filesystem::path& dir,
                                                               int growers) {
  if (growers < 1 || growers > 99) {
    return absl::InvalidArgumentError(absl::StrCat("growers: ", growers, " is not 1..99"));
  }
  std::unique_ptr<LiveMarket> market(new LiveMarket());
  auto key = NewKey();
  if (!key.ok()) return key.status();
  market->operator_ = Actor{"13068300000001", *std::move(key)};
  for (int i = 0; i < growers; ++i) {
    key = NewKey();
    if (!key.ok()) return key.status();
    market->growers_.push_back(
        Actor{absl::StrFormat("130683000001%02d", i + 1), *std::move(key)});
  }
  auto pem = market->operator_.key->public_key().ToPem();
  if (!pem.ok()) return pem.status();
  std::filesystem::create_directories(dir);
  market->bootstrap_key_ = dir / "operator.pub";
  std::ofstream out(market->bootstrap_key_);
  out << *pem;
  if (!out.flush()) {
    return absl::UnavailableError(absl::StrCat(market->bootstrap_key_.string(), ": cannot write"));
  }
  return market;
}

absl::Status LiveMarket::Submit(v1::Capture::Stub& capture, const Actor& signer, v1::Event event,
                                absl::Duration deadline) {
  v1::SubmitRequest request;
  *request.mutable_signed_event() =
      SignEvent(signer, event, absl::Now(), EventIdOf(0x5eed0000u, next_event_++));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  v1::SubmitResponse response;
  const grpc::Status status = capture.Submit(&context, request, &response);
  if (!status.ok()) {
    const auto* kind = v1::Event::descriptor()->FindFieldByNumber(event.kind_case());
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat(kind == nullptr ? "event" : kind->name(), " by ",
                                     signer.party_id, ": ", status.error_message()));
  }
  return absl::OkStatus();
}

absl::Status LiveMarket::Register(v1::Capture::Stub& capture, const std::string& herbs_csv,
                                  absl::Duration deadline) {
  if (auto s = Submit(capture, operator_,
                      RegisterPartyEvent(operator_, "安国数字中药都追溯服务中心",
                                         {v1::PARTY_ROLE_MARKET_OPERATOR}),
                      deadline);
      !s.ok()) {
    return s;
  }
  auto catalog = domain::ReadHerbCatalogFile(herbs_csv, kCatalogVersion);
  if (!catalog.ok()) return catalog.status();
  v1::Event load;
  *load.mutable_load_herb_catalog() = *std::move(catalog);
  if (auto s = Submit(capture, operator_, std::move(load), deadline); !s.ok()) return s;
  for (int i = 0; i < growers(); ++i) {
    const std::string name = absl::StrCat("安国市祁州黄芪种植专业合作社第", i + 1, "社");
    if (auto s = Submit(capture, operator_,
                        RegisterPartyEvent(growers_[i], name, {v1::PARTY_ROLE_GROWER}), deadline);
        !s.ok()) {
      return s;
    }
    if (auto s = Submit(capture, growers_[i], RegisterBaseEvent(base_id(i)), deadline); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

HarvestPlan::HarvestPlan(const Actor& grower, std::string base_id, uint32_t family)
    : grower_(grower), base_id_(std::move(base_id)), family_(family), day_(2024, 10, 1) {}

v1::SubmitRequest HarvestPlan::Signed(v1::Event event, absl::Time at) {
  v1::SubmitRequest request;
  *request.mutable_signed_event() = SignEvent(grower_, event, at, EventIdOf(family_, next_event_++));
  return request;
}

std::vector<v1::SubmitRequest> HarvestPlan::NextUnit() {
  if (next_sequence_ + kCodesPerUnit - 1 > kCodesPerDay) {
    ++day_;
    next_sequence_ = 1;
  }
  const absl::Time at = absl::FromCivil(absl::CivilSecond(day_.year(), day_.month(), day_.day(),
                                                          10, 0, next_sequence_ % 60),
                                        kChina);
  const std::string harvested = BatchCode(grower_, v1::NODE_TYPE_PLANTING, day_, next_sequence_++);
  const std::string lot1 = BatchCode(grower_, v1::NODE_TYPE_PLANTING, day_, next_sequence_++);
  const std::string lot2 = BatchCode(grower_, v1::NODE_TYPE_PLANTING, day_, next_sequence_++);
  batches_.insert(batches_.end(), {harvested, lot1, lot2});

  std::vector<v1::SubmitRequest> unit;
  unit.push_back(Signed(HarvestOf(base_id_, harvested, 100'000, day_), at));
  v1::Event split;
  v1::Split* s = split.mutable_split();
  s->set_input_batch_id(harvested);
  v1::BatchQuantity* first = s->add_outputs();
  first->set_batch_id(lot1);
  first->set_grams(30'000);
  v1::BatchQuantity* second = s->add_outputs();
  second->set_batch_id(lot2);
  second->set_grams(50'000);
  unit.push_back(Signed(std::move(split), at));
  return unit;
}

}  // namespace herbtrace::testing
