// Rules of the registry kinds: parties, keys, planting bases, the herb catalog and the quality
// limits tables. Status codes and roles: see the tables at the top of domain_rules.cc.
#include <algorithm>
#include <set>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "services/domain/identifiers.h"
#include "services/domain/rule_context.h"
#include "services/domain/state_keys.h"

namespace herbtrace::domain::internal {
namespace {

bool IsPrivileged(const v1::Party& party) {
  return HasRole(party, v1::PARTY_ROLE_REGULATOR) || HasRole(party, v1::PARTY_ROLE_MARKET_OPERATOR);
}

// A party acts on its own keys; the market operator and regulators act on anyone's, except that
// only a regulator acts on the keys of a regulator or of the market operator (else the operator
// could give itself a regulator's key).
absl::Status CheckActsFor(const RuleContext& ctx, const v1::Party& target,
                          absl::string_view field) {
  if (target.party_id() == ctx.actor().party_id()) return absl::OkStatus();
  if (!ctx.ActorHas(v1::PARTY_ROLE_MARKET_OPERATOR) && !ctx.ActorHas(v1::PARTY_ROLE_REGULATOR)) {
    return PermissionDenied(field, "party ", ctx.actor().party_id(),
                            " may act only on its own keys, not on party ", target.party_id(),
                            "'s");
  }
  if (IsPrivileged(target) && !ctx.ActorHas(v1::PARTY_ROLE_REGULATOR)) {
    return PermissionDenied(field, "only a regulator acts on the keys of party ", target.party_id(),
                            ", a regulator or market operator");
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> AnyRegulatorRegistered(const RuleContext& ctx) {
  bool any = false;
  HT_RETURN_IF_ERROR(ctx.txn().ForEachWithPrefix(storage::Cf::kRegistry,
                                                 keys::PartyRolePrefix(v1::PARTY_ROLE_REGULATOR),
                                                 [&](absl::string_view, absl::string_view) {
                                                   any = true;
                                                   return false;
                                                 }));
  return any;
}

absl::Status CheckHerbCodes(const RuleContext& ctx,
                            const google::protobuf::RepeatedPtrField<std::string>& codes,
                            absl::string_view field) {
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < codes.size(); ++i) {
    const std::string f = absl::StrCat(field, "[", i, "]");
    HT_RETURN_IF_ERROR(ValidateHerbCode(codes[i], f));
    if (!seen.insert(codes[i]).second)
      return InvalidArgument(f, "herb ", codes[i], " listed twice");
    HT_ASSIGN_OR_RETURN(const bool known, ctx.HerbExists(codes[i]));
    if (!known) return NotFound(f, "herb ", codes[i], " is not in the catalog");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyRegisterParty(RuleContext& ctx) {
  const v1::RegisterParty& rp = ctx.event().register_party();
  HT_RETURN_IF_ERROR(ValidatePartyId(rp.party_id(), "register_party.party_id"));
  HT_RETURN_IF_ERROR(ValidateRegionCode(rp.region_code(), "register_party.region_code"));
  if (rp.party_id().compare(0, kRegionCodeLength, rp.region_code()) != 0) {
    return InvalidArgument("register_party.party_id", "party id ", rp.party_id(),
                           " must start with its region_code ", rp.region_code());
  }
  if (rp.name().empty()) return InvalidArgument("register_party.name", "required");
  if (rp.roles().empty()) return InvalidArgument("register_party.roles", "at least one role");
  std::set<int> roles;
  for (int i = 0; i < rp.roles_size(); ++i) {
    const int r = rp.roles(i);
    const std::string f = absl::StrCat("register_party.roles[", i, "]");
    if (r == v1::PARTY_ROLE_UNSPECIFIED || !v1::PartyRole_IsValid(r)) {
      return InvalidArgument(f, "not a party role");
    }
    if (!roles.insert(r).second) return InvalidArgument(f, RoleName(rp.roles(i)), " listed twice");
  }
  if (!v1::PartyStatus_IsValid(rp.status())) {
    return InvalidArgument("register_party.status", "not a party status");
  }
  if (rp.natural_person()) {
    if (!rp.uscc().empty()) {
      return InvalidArgument("register_party.uscc", "must be empty for a natural person");
    }
    if (rp.identity_commitment().size() != 32) {
      return InvalidArgument("register_party.identity_commitment",
                             "a natural person's identity commitment is required (32 bytes)");
    }
    HT_RETURN_IF_ERROR(
        ctx.CheckAndStoreOpening("register_party.identity_commitment", rp.identity_commitment(),
                                 [](absl::string_view value, absl::string_view field) {
                                   return ValidateResidentId(value, absl::StrCat(field, ".value"));
                                 }));
  } else {
    HT_RETURN_IF_ERROR(ValidateUscc(rp.uscc(), "register_party.uscc"));
    if (!rp.identity_commitment().empty()) {
      return InvalidArgument("register_party.identity_commitment", "only for natural persons");
    }
  }

  HT_ASSIGN_OR_RETURN(std::optional<v1::Party> existing,
                      ctx.Get<v1::Party>(storage::Cf::kRegistry, keys::Party(rp.party_id())));
  const bool genesis = ctx.verified().self_signed;
  if (existing.has_value()) {
    if (!rp.initial_keys().empty()) {
      return InvalidArgument("register_party.initial_keys", "must be empty when updating party ",
                             rp.party_id(), " (register keys with RegisterKey)");
    }
    if (HasRole(*existing, v1::PARTY_ROLE_REGULATOR) && !ctx.ActorHas(v1::PARTY_ROLE_REGULATOR)) {
      return PermissionDenied("register_party.party_id",
                              "only a regulator changes the "
                              "registration of party ",
                              rp.party_id(), ", a regulator");
    }
  }
  // Granting the registrar roles is a regulator's act (event.proto). Two exceptions: the genesis
  // operator, and the first regulator, whom only the operator can register.
  for (int i = 0; i < rp.roles_size(); ++i) {
    const v1::PartyRole role = rp.roles(i);
    if (role != v1::PARTY_ROLE_REGULATOR && role != v1::PARTY_ROLE_MARKET_OPERATOR) continue;
    if (existing.has_value() && HasRole(*existing, role)) continue;  // not a grant
    if (ctx.ActorHas(v1::PARTY_ROLE_REGULATOR)) continue;
    if (genesis && role == v1::PARTY_ROLE_MARKET_OPERATOR) continue;
    if (!genesis && role == v1::PARTY_ROLE_REGULATOR &&
        ctx.ActorHas(v1::PARTY_ROLE_MARKET_OPERATOR)) {
      HT_ASSIGN_OR_RETURN(const bool any, AnyRegulatorRegistered(ctx));
      if (!any) continue;
    }
    return PermissionDenied(absl::StrCat("register_party.roles[", i, "]"),
                            "only a regulator may grant ", RoleName(role));
  }

  v1::Party party;
  party.set_party_id(rp.party_id());
  party.set_name(rp.name());
  for (int r : rp.roles()) party.add_roles(static_cast<v1::PartyRole>(r));
  party.set_uscc(rp.uscc());
  party.set_natural_person(rp.natural_person());
  party.set_region_code(rp.region_code());
  party.set_address(rp.address());
  v1::PartyStatus status = rp.status();
  if (status == v1::PARTY_STATUS_UNSPECIFIED) {
    // On creation UNSPECIFIED means ACTIVE; on an update it keeps the status (a profile edit
    // must not silently lift a suspension).
    status = existing.has_value() ? existing->status() : v1::PARTY_STATUS_ACTIVE;
  }
  party.set_status(status);
  party.set_registered_by(existing.has_value() ? existing->registered_by()
                                               : ctx.actor().party_id());
  party.set_registered_seq(existing.has_value() ? existing->registered_seq() : ctx.seq());
  party.set_updated_seq(ctx.seq());

  if (existing.has_value()) {
    for (int r : existing->roles()) {
      HT_RETURN_IF_ERROR(ctx.Delete(storage::Cf::kRegistry, keys::PartyRole(r, rp.party_id())));
    }
  }
  for (int r : party.roles()) {
    HT_RETURN_IF_ERROR(ctx.PutRaw(storage::Cf::kRegistry, keys::PartyRole(r, rp.party_id()), ""));
  }
  absl::flat_hash_set<std::string> new_key_ids;
  for (int i = 0; i < rp.initial_keys_size(); ++i) {
    const std::string field = absl::StrCat("register_party.initial_keys[", i, "]");
    HT_ASSIGN_OR_RETURN(v1::SigningKey key,
                        CheckNewKey(ctx, rp.initial_keys(i), rp.party_id(), field));
    if (!new_key_ids.insert(key.key_id()).second) {
      return InvalidArgument(absl::StrCat(field, ".public_key"), "key ", key.key_id(),
                             " listed twice");
    }
    HT_RETURN_IF_ERROR(StoreKey(ctx, key));
  }
  return ctx.Put(storage::Cf::kRegistry, keys::Party(rp.party_id()), party);
}

absl::Status ApplyRegisterKey(RuleContext& ctx) {
  const v1::RegisterKey& rk = ctx.event().register_key();
  HT_ASSIGN_OR_RETURN(v1::Party owner, ctx.LoadParty(rk.party_id(), "register_key.party_id"));
  HT_RETURN_IF_ERROR(CheckActsFor(ctx, owner, "register_key.party_id"));
  if (!rk.has_key()) return InvalidArgument("register_key.key", "required");
  HT_ASSIGN_OR_RETURN(v1::SigningKey key,
                      CheckNewKey(ctx, rk.key(), owner.party_id(), "register_key.key"));
  return StoreKey(ctx, key);
}

absl::Status ApplyRevokeKey(RuleContext& ctx) {
  const v1::RevokeKey& rk = ctx.event().revoke_key();
  if (rk.key_id().empty()) return InvalidArgument("revoke_key.key_id", "required");
  HT_ASSIGN_OR_RETURN(std::optional<v1::SigningKey> key,
                      ctx.Get<v1::SigningKey>(storage::Cf::kRegistry, keys::Key(rk.key_id())));
  if (!key.has_value()) {
    return NotFound("revoke_key.key_id", "key ", rk.key_id(), " is not registered");
  }
  HT_ASSIGN_OR_RETURN(v1::Party owner, ctx.LoadParty(key->party_id(), "revoke_key.key_id"));
  HT_RETURN_IF_ERROR(CheckActsFor(ctx, owner, "revoke_key.key_id"));
  if (key->status() == v1::KEY_STATUS_REVOKED) {
    return FailedPrecondition("revoke_key.key_id", "key ", rk.key_id(),
                              " was already revoked at seq ", key->revoked_at_seq());
  }
  key->set_status(v1::KEY_STATUS_REVOKED);
  key->set_revoked_at_seq(ctx.seq());
  return ctx.Put(storage::Cf::kRegistry, keys::Key(rk.key_id()), *key);
}

absl::Status ApplyRegisterBase(RuleContext& ctx) {
  const v1::RegisterBase& rb = ctx.event().register_base();
  HT_RETURN_IF_ERROR(ValidateBaseId(rb.base_id(), "register_base.base_id"));
  const std::string owner = rb.base_id().substr(0, kPartyIdLength);
  if (owner != ctx.actor().party_id()) {
    return PermissionDenied("register_base.base_id", "base ", rb.base_id(), " belongs to party ",
                            owner, "; a party registers only its own bases");
  }
  if (rb.name().empty()) return InvalidArgument("register_base.name", "required");
  HT_RETURN_IF_ERROR(ValidateRegionCode(rb.region_code(), "register_base.region_code"));
  if (rb.has_location())
    HT_RETURN_IF_ERROR(ValidateGeoPoint(rb.location(), "register_base.location"));
  if (!rb.boundary().empty() && rb.boundary_size() < 3) {
    return InvalidArgument("register_base.boundary", "a polygon needs at least 3 points");
  }
  for (int i = 0; i < rb.boundary_size(); ++i) {
    HT_RETURN_IF_ERROR(
        ValidateGeoPoint(rb.boundary(i), absl::StrCat("register_base.boundary[", i, "]")));
  }
  if (rb.herb_codes().empty()) {
    return InvalidArgument("register_base.herb_codes", "at least one herb");
  }
  HT_RETURN_IF_ERROR(CheckHerbCodes(ctx, rb.herb_codes(), "register_base.herb_codes"));
  if (!v1::CultivationKind_IsValid(rb.cultivation())) {
    return InvalidArgument("register_base.cultivation", "not a cultivation kind");
  }
  HT_ASSIGN_OR_RETURN(std::optional<v1::PlantingBase> existing,
                      ctx.Get<v1::PlantingBase>(storage::Cf::kRegistry, keys::Base(rb.base_id())));
  v1::PlantingBase base;
  base.set_base_id(rb.base_id());
  base.set_owner_party_id(owner);
  base.set_name(rb.name());
  base.set_region_code(rb.region_code());
  if (rb.has_location()) *base.mutable_location() = rb.location();
  *base.mutable_boundary() = rb.boundary();
  base.set_area_centi_mu(rb.area_centi_mu());
  *base.mutable_herb_codes() = rb.herb_codes();
  base.set_cultivation(rb.cultivation());
  base.set_registered_seq(existing.has_value() ? existing->registered_seq() : ctx.seq());
  base.set_updated_seq(ctx.seq());
  return ctx.Put(storage::Cf::kRegistry, keys::Base(rb.base_id()), base);
}

absl::Status ApplyLoadHerbCatalog(RuleContext& ctx) {
  const v1::LoadHerbCatalog& cat = ctx.event().load_herb_catalog();
  HT_RETURN_IF_ERROR(ValidateVersion(cat.version(), "load_herb_catalog.version"));
  HT_ASSIGN_OR_RETURN(const bool loaded,
                      ctx.Exists(storage::Cf::kRegistry, keys::Catalog(cat.version())));
  if (loaded) {
    return AlreadyExists("load_herb_catalog.version", "catalog ", cat.version(),
                         " is already loaded; a new catalog is a new version");
  }
  if (cat.herbs().empty()) return InvalidArgument("load_herb_catalog.herbs", "at least one herb");
  absl::flat_hash_set<std::string> codes;
  for (int i = 0; i < cat.herbs_size(); ++i) {
    const v1::Herb& herb = cat.herbs(i);
    const std::string field = absl::StrCat("load_herb_catalog.herbs[", i, "]");
    HT_RETURN_IF_ERROR(ValidateHerbCode(herb.code(), absl::StrCat(field, ".code")));
    if (!codes.insert(herb.code()).second) {
      return InvalidArgument(absl::StrCat(field, ".code"), "herb ", herb.code(), " listed twice");
    }
    if (herb.zh_name().empty()) return InvalidArgument(absl::StrCat(field, ".zh_name"), "required");
  }
  HT_ASSIGN_OR_RETURN(std::optional<std::string> current,
                      ctx.txn().Get(storage::Cf::kRegistry, keys::kCatalogCurrent));
  std::string missing;
  HT_RETURN_IF_ERROR(ctx.txn().ForEachWithPrefix(
      storage::Cf::kRegistry, keys::kHerbPrefix, [&](absl::string_view key, absl::string_view) {
        const std::string code(key.substr(keys::kHerbPrefix.size()));
        if (codes.contains(code)) return true;
        missing = code;
        return false;
      }));
  if (!missing.empty()) {
    return FailedPrecondition("load_herb_catalog.herbs", "herb ", missing, " of catalog ",
                              current.value_or(""),
                              " is missing; codes are never withdrawn, since batches name them");
  }
  for (const v1::Herb& herb : cat.herbs()) {
    HT_RETURN_IF_ERROR(ctx.Put(storage::Cf::kRegistry, keys::Herb(herb.code()), herb));
  }
  HT_RETURN_IF_ERROR(ctx.PutRaw(storage::Cf::kRegistry, keys::Catalog(cat.version()),
                                storage::BigEndian64(ctx.seq())));
  return ctx.PutRaw(storage::Cf::kRegistry, keys::kCatalogCurrent, cat.version());
}

absl::Status ApplyLoadQualityLimits(RuleContext& ctx) {
  const v1::LoadQualityLimits& lim = ctx.event().load_quality_limits();
  HT_RETURN_IF_ERROR(ValidateVersion(lim.version(), "load_quality_limits.version"));
  HT_ASSIGN_OR_RETURN(const bool loaded,
                      ctx.Exists(storage::Cf::kRegistry, keys::Limits(lim.version())));
  if (loaded) {
    return AlreadyExists("load_quality_limits.version", "limits version ", lim.version(),
                         " is already loaded; a correction is a new version, never an edit");
  }
  HT_ASSIGN_OR_RETURN(std::optional<std::string> current,
                      ctx.txn().Get(storage::Cf::kRegistry, keys::kLimitsCurrent));
  if (lim.supersedes() != current.value_or("")) {
    return FailedPrecondition("load_quality_limits.supersedes", "'", lim.supersedes(),
                              "' is not the version in force (",
                              current.has_value() ? *current : std::string("none loaded"), ")");
  }
  if (lim.has_effective_from()) {
    HT_RETURN_IF_ERROR(ValidateDate(lim.effective_from(), "load_quality_limits.effective_from"));
  }
  if (lim.rows().empty()) return InvalidArgument("load_quality_limits.rows", "at least one row");
  for (int i = 0; i < lim.rows_size(); ++i) {
    const v1::LimitRow& row = lim.rows(i);
    const std::string field = absl::StrCat("load_quality_limits.rows[", i, "]");
    HT_RETURN_IF_ERROR(ValidateAnalyteCode(row.analyte(), absl::StrCat(field, ".analyte")));
    if (!v1::LimitCategory_IsValid(row.category())) {
      return InvalidArgument(absl::StrCat(field, ".category"), "not a limit category");
    }
    if (row.rule() == v1::LIMIT_RULE_UNSPECIFIED || !v1::LimitRule_IsValid(row.rule())) {
      return InvalidArgument(absl::StrCat(field, ".rule"), "required");
    }
    // NOT_DETECTED may come without a limit (the LOQ is not known): then any quantified value
    // fails and a result below its LOQ passes (see quality_rules.cc).
    if (!row.has_limit() &&
        (row.rule() == v1::LIMIT_RULE_MAX || row.rule() == v1::LIMIT_RULE_MIN)) {
      return InvalidArgument(absl::StrCat(field, ".limit"), "required for a judged rule");
    }
    if (row.has_limit()) {
      HT_RETURN_IF_ERROR(ValidateMeasurement(row.limit(), absl::StrCat(field, ".limit"), {},
                                             /*allow_negative=*/false));
    }
    if (!v1::DisplayUnit_IsValid(row.display_unit())) {
      return InvalidArgument(absl::StrCat(field, ".display_unit"), "not a display unit");
    }
    if (!v1::ProductUse_IsValid(row.use())) {
      return InvalidArgument(absl::StrCat(field, ".use"), "not a product use");
    }
    if (row.applies_to_all() == !row.herb_codes().empty()) {
      return InvalidArgument(absl::StrCat(field, ".herb_codes"),
                             "a row applies either to all herbs or to listed herb_codes");
    }
    if (!row.applies_to_all() && !row.except_herb_codes().empty()) {
      return InvalidArgument(absl::StrCat(field, ".except_herb_codes"), "only with applies_to_all");
    }
    HT_RETURN_IF_ERROR(CheckHerbCodes(ctx, row.herb_codes(), absl::StrCat(field, ".herb_codes")));
    HT_RETURN_IF_ERROR(
        CheckHerbCodes(ctx, row.except_herb_codes(), absl::StrCat(field, ".except_herb_codes")));
  }
  HT_RETURN_IF_ERROR(ctx.Put(storage::Cf::kRegistry, keys::Limits(lim.version()), lim));
  HT_RETURN_IF_ERROR(ctx.PutRaw(storage::Cf::kRegistry, keys::LimitSeq(lim.version()),
                                storage::BigEndian64(ctx.seq())));
  return ctx.PutRaw(storage::Cf::kRegistry, keys::kLimitsCurrent, lim.version());
}

}  // namespace herbtrace::domain::internal
