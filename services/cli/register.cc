// register party|key|base and revoke-key: the registry kinds of event.proto.
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/cli/commands.h"
#include "services/cli/event_builder.h"
#include "services/cli/flags.h"
#include "services/cli/units.h"
#include "services/domain/file_io.h"
#include "services/domain/identifiers.h"
#include "services/domain/signature_algorithm.h"

namespace herbtrace::cli {
namespace {

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The keys of --new_key: a private key PEM gets its proof of possession made here; a public one
// takes the next --pop.
absl::StatusOr<std::vector<v1::NewKey>> NewKeysFromFlags(absl::string_view owner) {
  std::vector<v1::NewKey> out;
  const std::vector<std::string> pops = absl::GetFlag(FLAGS_pop);
  size_t next_pop = 0;
  for (const std::string& path : absl::GetFlag(FLAGS_new_key)) {
    auto pem = domain::ReadFileToString(path);
    if (!pem.ok()) return UsageError(absl::StrCat("--new_key: ", pem.status().message()));
    auto private_key = crypto::PrivateKey::FromPem(*pem);
    if (private_key.ok()) {
      auto key = MakeNewKey(**private_key, absl::GetFlag(FLAGS_origin), owner,
                            absl::GetFlag(FLAGS_device_label));
      if (!key.ok()) return key.status();
      out.push_back(*std::move(key));
      continue;
    }
    auto public_key = crypto::PublicKey::FromPem(*pem);
    if (!public_key.ok()) {
      return UsageError(absl::StrCat("--new_key ", path, ": neither a private nor a public key: ",
                                     public_key.status().message()));
    }
    if (next_pop >= pops.size()) {
      return UsageError(absl::StrCat("--new_key ", path,
                                     " is a public key: give its proof of possession with --pop "
                                     "(made on the key's device by herbctl key-proof)"));
    }
    std::string proof;
    if (!absl::Base64Unescape(pops[next_pop], &proof)) {
      return UsageError(absl::StrCat("--pop: \"", pops[next_pop], "\" is not base64"));
    }
    ++next_pop;
    v1::NewKey key;
    key.set_algorithm(domain::ToProtoAlgorithm((*public_key)->algorithm()));
    key.set_public_key((*public_key)->raw());
    key.set_device_label(absl::GetFlag(FLAGS_device_label));
    key.set_proof_of_possession(std::move(proof));
    out.push_back(std::move(key));
  }
  return out;
}

absl::Status RegisterParty(Context& ctx, v1::Event event) {
  auto party_id = RequiredFlag(FLAGS_party_id, "party_id", "register party");
  if (!party_id.ok()) return party_id.status();
  if (auto s = domain::ValidatePartyId(*party_id, "--party_id"); !s.ok()) return AsUsage(s);
  BuiltEvent built;
  v1::RegisterParty* party = event.mutable_register_party();
  party->set_party_id(*party_id);
  party->set_name(absl::GetFlag(FLAGS_name));
  for (const std::string& role : absl::GetFlag(FLAGS_roles)) {
    auto value = ParseEnum<v1::PartyRole>(role, "roles");
    if (!value.ok()) return AsUsage(value.status());
    party->add_roles(*value);
  }
  party->set_uscc(absl::GetFlag(FLAGS_uscc));
  party->set_natural_person(absl::GetFlag(FLAGS_natural_person));
  if (const std::string id = absl::GetFlag(FLAGS_identity); !id.empty()) {
    if (!party->natural_person()) return UsageError("--identity: only for --natural_person");
    std::string value = id;
    if (!value.empty() && value.back() == 'x') value.back() = 'X';
    auto commitment = Commit(kIdentityPath, value);
    if (!commitment.ok()) return commitment.status();
    party->set_identity_commitment(commitment->commitment);
    built.openings.push_back(std::move(commitment->opening));
  }
  std::string region = absl::GetFlag(FLAGS_region);
  party->set_region_code(region.empty() ? party_id->substr(0, 6) : region);
  party->set_address(absl::GetFlag(FLAGS_address));
  if (const std::string status = absl::GetFlag(FLAGS_status); !status.empty()) {
    auto value = ParseEnum<v1::PartyStatus>(status, "status");
    if (!value.ok()) return AsUsage(value.status());
    party->set_status(*value);
  }
  auto keys = NewKeysFromFlags(*party_id);
  if (!keys.ok()) return keys.status();
  for (v1::NewKey& key : *keys) *party->add_initial_keys() = std::move(key);
  built.event = std::move(event);
  return SignAndSend(ctx, std::move(built));
}

absl::Status RegisterKey(Context& ctx, v1::Event event) {
  std::string owner = absl::GetFlag(FLAGS_owner);
  if (owner.empty()) owner = event.party_id();
  if (absl::GetFlag(FLAGS_new_key).size() != 1) {
    return UsageError("register key: give exactly one --new_key");
  }
  auto keys = NewKeysFromFlags(owner);
  if (!keys.ok()) return keys.status();
  event.mutable_register_key()->set_party_id(owner);
  *event.mutable_register_key()->mutable_key() = std::move(keys->front());
  BuiltEvent built;
  built.event = std::move(event);
  return SignAndSend(ctx, std::move(built));
}

absl::StatusOr<v1::GeoPoint> ParseLatLon(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ',');
  if (parts.size() != 2) return UsageError(absl::StrCat("--latlon: \"", text, "\" is not LAT,LON"));
  auto lat = ParseScaledDecimal(parts[0], 6, "--latlon latitude");
  if (!lat.ok()) return AsUsage(lat.status());
  auto lon = ParseScaledDecimal(parts[1], 6, "--latlon longitude");
  if (!lon.ok()) return AsUsage(lon.status());
  if (*lat < -90000000 || *lat > 90000000 || *lon < -180000000 || *lon > 180000000) {
    return UsageError(absl::StrCat("--latlon: \"", text, "\" is off the globe"));
  }
  v1::GeoPoint out;
  out.set_latitude_micro_deg(static_cast<int32_t>(*lat));
  out.set_longitude_micro_deg(static_cast<int32_t>(*lon));
  return out;
}

absl::Status RegisterBase(Context& ctx, v1::Event event) {
  auto base_id = RequiredFlag(FLAGS_base_id, "base_id", "register base");
  if (!base_id.ok()) return base_id.status();
  if (!AllDigits(*base_id) || (base_id->size() != 18 && base_id->size() > 4)) {
    return UsageError(absl::StrCat("--base_id: \"", *base_id,
                                   "\" is neither an 18-digit base id nor a serial 1..9999"));
  }
  if (base_id->size() <= 4) {
    *base_id = absl::StrCat(event.party_id(), std::string(4 - base_id->size(), '0'), *base_id);
  }
  v1::RegisterBase* base = event.mutable_register_base();
  base->set_base_id(*base_id);
  base->set_name(absl::GetFlag(FLAGS_name));
  const std::string region = absl::GetFlag(FLAGS_region);
  base->set_region_code(region.empty() ? base_id->substr(0, 6) : region);
  if (const std::string latlon = absl::GetFlag(FLAGS_latlon); !latlon.empty()) {
    auto point = ParseLatLon(latlon);
    if (!point.ok()) return point.status();
    *base->mutable_location() = *point;
  }
  if (const std::string area = absl::GetFlag(FLAGS_area_mu); !area.empty()) {
    auto centi_mu = ParseScaledDecimal(area, 2, "--area_mu");
    if (!centi_mu.ok() || *centi_mu <= 0) {
      return UsageError(absl::StrCat("--area_mu: \"", area, "\" is not a positive area in mu"));
    }
    base->set_area_centi_mu(static_cast<uint64_t>(*centi_mu));
  }
  for (const std::string& herb : absl::GetFlag(FLAGS_herbs)) {
    base->add_herb_codes(absl::AsciiStrToUpper(herb));
  }
  auto cultivation =
      ParseEnum<v1::CultivationKind>(absl::GetFlag(FLAGS_cultivation), "cultivation");
  if (!cultivation.ok()) return AsUsage(cultivation.status());
  base->set_cultivation(*cultivation);
  BuiltEvent built;
  built.event = std::move(event);
  return SignAndSend(ctx, std::move(built));
}

}  // namespace

absl::Status RunRegister(Context& ctx) {
  auto what = ctx.Arg(1, "what to register: party, key or base");
  if (!what.ok()) return what.status();
  if (*what != "party" && *what != "key" && *what != "base") {
    return UsageError(absl::StrCat("register: \"", *what, "\": use party, key or base"));
  }
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  if (*what == "party") return RegisterParty(ctx, *std::move(event));
  if (*what == "key") return RegisterKey(ctx, *std::move(event));
  return RegisterBase(ctx, *std::move(event));
}

absl::Status RunRevokeKey(Context& ctx) {
  auto key_id = ctx.Arg(1, "the key id to revoke");
  if (!key_id.ok()) return key_id.status();
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  event->mutable_revoke_key()->set_key_id(*key_id);
  event->mutable_revoke_key()->set_reason(absl::GetFlag(FLAGS_reason));
  BuiltEvent built;
  built.event = *std::move(event);
  return SignAndSend(ctx, std::move(built));
}

}  // namespace herbtrace::cli
