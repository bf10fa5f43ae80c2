// DomainRules: the checks every event passes (envelope, time, signer, roles), then the rule of
// its kind (registry_rules.cc, custody_rules.cc, quality_rules.cc). A rule stages its state
// changes as it goes; when it returns an error the ledger discards everything it staged, so a
// rejected event changes nothing.
//
// ── Which status each rejection gets ─────────────────────────────────────────────────────────
// The codes follow capture.proto's table; the message always starts with the field path.
//
//   INTERNAL             the append carries no VerifiedEvent; the capture layer's key id or
//                        expected heads disagree with the envelope (a bug, not a client error)
//   INVALID_ARGUMENT     event_id malformed or not the envelope's; log_origin of another log;
//                        occurred_at missing, before 2000-01-01 or beyond the allowed skew;
//                        no kind; any malformed field (ids, check digits, dates, enums, units,
//                        measurements); zero grams; a harvest over 100,000 t (a negative
//                        weight sent unsigned); a sum of grams that overflows; an impossible
//                        quantity within the event itself (process output + loss ≠ input, merge
//                        or transform outputs > inputs, receive > shipped); an output equal to
//                        an input or listed twice; a batch code whose node type, company code or
//                        date does not fit the event; a missing, stray or wrong opening; a proof
//                        of possession that does not verify; a result in another unit than its
//                        limit
//   UNAUTHENTICATED      the signing key is not registered or is revoked (whenever the event was
//                        signed); a self-signed event that is not the valid genesis
//   PERMISSION_DENIED    the key belongs to another party than party_id; the acting party is
//                        suspended or its roles do not allow the kind (table below); not the
//                        holder of a batch; not the recipient of a transfer; a base or batch code
//                        of another party; keys or registrations of another party without the
//                        registrar's role; granting REGULATOR/MARKET_OPERATOR without being a
//                        regulator
//   NOT_FOUND            unknown party, key (to revoke), base, herb, batch, transfer, recall,
//                        lot outside a recall's scope, retest
//   ALREADY_EXISTS       batch code in use; key already registered; catalog or limits version
//                        already loaded (a new version is a new event, never an edit)
//   FAILED_PRECONDITION  batch not movable (HELD, RECALLED, in transit, or closed: CONSUMED,
//                        DISPENSED, DESTROYED); not enough grams left, or not the whole lot where
//                        whole lots are required; transfer already received; limits version not
//                        in force; `supersedes` not the version in force; counterparty suspended
//                        or unable to hold lots; a catalog that drops a code; key already
//                        revoked; base does not list the herb; nothing to release or acknowledge
//
// ── Which roles may sign each kind ───────────────────────────────────────────────────────────
// "custody" = GROWER, COOPERATIVE, PROCESSOR, WAREHOUSE, TRADER, PHARMACY, HOSPITAL: the roles
// that hold lots. The kind's rule adds its own party checks (holder only, own bases, …).
//
//   register_party        MARKET_OPERATOR, REGULATOR. Granting REGULATOR or MARKET_OPERATOR,
//                         or changing a regulator's registration, needs REGULATOR — except that
//                         the market operator may register the first regulator while none is
//                         registered (otherwise, with genesis creating only the operator, no
//                         regulator could ever exist).
//   register_key          any role, for its own party; MARKET_OPERATOR or REGULATOR for another
//   revoke_key            party (REGULATOR only when that party is a regulator or operator)
//   register_base         GROWER, COOPERATIVE (base_id[0..14) = the signer)
//   load_herb_catalog     MARKET_OPERATOR, REGULATOR
//   load_quality_limits   REGULATOR
//   harvest               GROWER, COOPERATIVE
//   process               GROWER, COOPERATIVE, PROCESSOR, TRADER (drying at the yard, cleaning
//                         and grading at the trader's, decoction pieces at the processor's)
//   transform             GROWER, COOPERATIVE, PROCESSOR, TRADER
//   merge                 GROWER, COOPERATIVE, PROCESSOR, WAREHOUSE, TRADER
//   split, ship, receive, custody (splitting is how part of any lot moves; pharmacies and
//   store, dispense,      hospitals receive, store and dispense)
//   recall_ack
//   trade                 custody (the seller), or MARKET_OPERATOR (its trade desk, for a seller)
//   quality_test          LAB
//   recall, release_hold  REGULATOR
#include "services/domain/domain_rules.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "crypto/signature.h"
#include "services/domain/event_batches.h"
#include "services/domain/identifiers.h"
#include "services/domain/lineage_indexer.h"
#include "services/domain/rule_context.h"
#include "services/domain/signature_algorithm.h"
#include "services/domain/state_keys.h"

namespace herbtrace::domain {
namespace {

using internal::FailedPrecondition;
using internal::InvalidArgument;
using internal::PermissionDenied;
using internal::RuleContext;
using internal::Unauthenticated;

using RoleSet = uint32_t;

constexpr RoleSet Roles(std::initializer_list<v1::PartyRole> roles) {
  RoleSet set = 0;
  for (v1::PartyRole r : roles) set |= RoleSet{1} << r;
  return set;
}

constexpr RoleSet kAnyRole = ~RoleSet{0};
constexpr RoleSet kCustody =
    Roles({v1::PARTY_ROLE_GROWER, v1::PARTY_ROLE_COOPERATIVE, v1::PARTY_ROLE_PROCESSOR,
           v1::PARTY_ROLE_WAREHOUSE, v1::PARTY_ROLE_TRADER, v1::PARTY_ROLE_PHARMACY,
           v1::PARTY_ROLE_HOSPITAL});
constexpr RoleSet kRegistrars = Roles({v1::PARTY_ROLE_MARKET_OPERATOR, v1::PARTY_ROLE_REGULATOR});
constexpr RoleSet kGrowers = Roles({v1::PARTY_ROLE_GROWER, v1::PARTY_ROLE_COOPERATIVE});
constexpr RoleSet kMakers = Roles({v1::PARTY_ROLE_GROWER, v1::PARTY_ROLE_COOPERATIVE,
                                   v1::PARTY_ROLE_PROCESSOR, v1::PARTY_ROLE_TRADER});
constexpr RoleSet kRegulator = Roles({v1::PARTY_ROLE_REGULATOR});

struct KindRule {
  v1::Event::KindCase kind;
  const char* name;  // the oneof field name, as in field paths
  RoleSet roles;
  absl::Status (*apply)(RuleContext&);
};

// The table above, in code.
constexpr KindRule kKindRules[] = {
    {v1::Event::kRegisterParty, "register_party", kRegistrars, internal::ApplyRegisterParty},
    {v1::Event::kRegisterKey, "register_key", kAnyRole, internal::ApplyRegisterKey},
    {v1::Event::kRevokeKey, "revoke_key", kAnyRole, internal::ApplyRevokeKey},
    {v1::Event::kRegisterBase, "register_base", kGrowers, internal::ApplyRegisterBase},
    {v1::Event::kLoadHerbCatalog, "load_herb_catalog", kRegistrars, internal::ApplyLoadHerbCatalog},
    {v1::Event::kLoadQualityLimits, "load_quality_limits", kRegulator,
     internal::ApplyLoadQualityLimits},
    {v1::Event::kHarvest, "harvest", kGrowers, internal::ApplyHarvest},
    {v1::Event::kProcess, "process", kMakers, internal::ApplyProcess},
    {v1::Event::kSplit, "split", kCustody, internal::ApplySplit},
    {v1::Event::kMerge, "merge", kMakers | Roles({v1::PARTY_ROLE_WAREHOUSE}), internal::ApplyMerge},
    {v1::Event::kTransform, "transform", kMakers, internal::ApplyTransform},
    {v1::Event::kShip, "ship", kCustody, internal::ApplyShip},
    {v1::Event::kReceive, "receive", kCustody, internal::ApplyReceive},
    {v1::Event::kStore, "store", kCustody, internal::ApplyStore},
    {v1::Event::kTrade, "trade", kCustody | Roles({v1::PARTY_ROLE_MARKET_OPERATOR}),
     internal::ApplyTrade},
    {v1::Event::kDispense, "dispense", kCustody, internal::ApplyDispense},
    {v1::Event::kQualityTest, "quality_test", Roles({v1::PARTY_ROLE_LAB}),
     internal::ApplyQualityTest},
    {v1::Event::kRecall, "recall", kRegulator, internal::ApplyIssueRecall},
    {v1::Event::kRecallAck, "recall_ack", kCustody, internal::ApplyRecallAck},
    {v1::Event::kReleaseHold, "release_hold", kRegulator, internal::ApplyReleaseHold},
};

const KindRule* FindKindRule(v1::Event::KindCase kind) {
  for (const KindRule& rule : kKindRules) {
    if (rule.kind == kind) return &rule;
  }
  return nullptr;
}

std::string RoleList(RoleSet set) {
  std::vector<std::string> names;
  for (int r = v1::PartyRole_MIN; r <= v1::PartyRole_MAX; ++r) {
    if (r != v1::PARTY_ROLE_UNSPECIFIED && (set & (RoleSet{1} << r)) != 0) {
      names.emplace_back(internal::RoleName(static_cast<v1::PartyRole>(r)));
    }
  }
  return absl::StrJoin(names, ", ");
}

RoleSet RolesOf(const v1::Party& party) {
  RoleSet set = 0;
  for (int r : party.roles()) {
    if (r > 0 && r < 32) set |= RoleSet{1} << r;
  }
  return set;
}

// 2000-01-01T00:00:00Z: nothing in the log happened earlier.
constexpr int64_t kEarliestOccurredAt = 946684800;

absl::StatusOr<absl::Time> CheckOccurredAt(const v1::Event& event, const DomainConfig& config,
                                           const storage::Clock& clock) {
  if (!event.has_occurred_at()) return InvalidArgument("occurred_at", "required");
  const auto& ts = event.occurred_at();
  if (ts.nanos() < 0 || ts.nanos() > 999'999'999) {
    return InvalidArgument("occurred_at", "nanos ", ts.nanos(), " out of range");
  }
  if (ts.seconds() < kEarliestOccurredAt) {
    return InvalidArgument("occurred_at", "before 2000-01-01 (", ts.seconds(),
                           " s since the Unix epoch)");
  }
  // Far beyond any plausible clock; also keeps the conversion below in range.
  if (ts.seconds() > int64_t{253402300799}) {
    return InvalidArgument("occurred_at", "after 9999-12-31");
  }
  const absl::Time at = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  const absl::Time now = clock.Now();
  if (at > now + config.max_future_skew) {
    return InvalidArgument("occurred_at", absl::FormatTime(at), " is ",
                           absl::FormatDuration(at - now), " ahead of the server clock; at most ",
                           absl::FormatDuration(config.max_future_skew), " is allowed");
  }
  return at;
}

// Optimistic concurrency is the ledger's check (AppendRequest::expected_heads); the signed
// event's copy must name only batches the event touches, and the capture layer must have passed
// every one of them on, or the check would silently not happen.
absl::Status CheckExpectedHeads(const storage::AppendRequest& request, const v1::Event& event) {
  if (event.expected_heads().empty()) return absl::OkStatus();
  const std::vector<std::string> touched = TouchedBatchIds(event);
  for (int i = 0; i < event.expected_heads_size(); ++i) {
    const v1::BatchLink& link = event.expected_heads(i);
    const std::string field = absl::StrCat("expected_heads[", i, "].batch_id");
    if (!std::binary_search(touched.begin(), touched.end(), link.batch_id())) {
      return InvalidArgument(field, "batch ", link.batch_id(), " is not touched by this event");
    }
    if (!link.prev_leaf_hash().empty() && link.prev_leaf_hash().size() != crypto::kDigestSize) {
      return InvalidArgument(absl::StrCat("expected_heads[", i, "].prev_leaf_hash"),
                             "must be empty or 32 bytes");
    }
    bool passed = false;
    for (const auto& [batch_id, head] : request.expected_heads) {
      if (batch_id == link.batch_id() && head == link.prev_leaf_hash()) passed = true;
    }
    if (!passed) {
      return absl::InternalError(
          absl::StrCat(field, ": the signed event expects a head for batch ", link.batch_id(),
                       " but the append request does not carry it (capture layer bug)"));
    }
  }
  return absl::OkStatus();
}

// The genesis: on an empty registry, exactly one self-signed RegisterParty of the market
// operator with the configured bootstrap key among its initial keys.
absl::Status CheckGenesis(RuleContext& ctx, absl::string_view key_id) {
  const v1::Event& event = ctx.event();
  if (event.kind_case() != v1::Event::kRegisterParty) {
    return Unauthenticated("signed_event.key_id",
                           "a self-signed event must be the genesis RegisterParty; key ", key_id,
                           " is not registered");
  }
  bool registry_empty = true;
  HT_RETURN_IF_ERROR(ctx.txn().ForEachWithPrefix(storage::Cf::kRegistry, keys::kPartyPrefix,
                                                 [&](absl::string_view, absl::string_view) {
                                                   registry_empty = false;
                                                   return false;
                                                 }));
  if (!registry_empty) {
    return Unauthenticated("signed_event.key_id", "key ", key_id,
                           " is not registered; self-signed registration is accepted only on an "
                           "empty registry (genesis)");
  }
  if (ctx.config().bootstrap_key_id.empty() || key_id != ctx.config().bootstrap_key_id) {
    return Unauthenticated("signed_event.key_id", "key ", key_id,
                           " is not the configured bootstrap key of the market operator");
  }
  const v1::RegisterParty& rp = event.register_party();
  if (rp.party_id() != event.party_id()) {
    return InvalidArgument("register_party.party_id",
                           "the genesis registers the signing party itself (", event.party_id(),
                           ")");
  }
  v1::Party actor;
  actor.set_party_id(rp.party_id());
  for (int r : rp.roles()) actor.add_roles(static_cast<v1::PartyRole>(r));
  actor.set_status(v1::PARTY_STATUS_ACTIVE);
  if (!internal::HasRole(actor, v1::PARTY_ROLE_MARKET_OPERATOR)) {
    return PermissionDenied("register_party.roles",
                            "the genesis registers the market operator (MARKET_OPERATOR role)");
  }
  bool key_listed = false;
  for (const v1::NewKey& key : rp.initial_keys()) {
    auto algorithm = FromProtoAlgorithm(key.algorithm(), "");
    if (!algorithm.ok()) continue;
    auto pk = crypto::PublicKey::FromRaw(*algorithm, key.public_key());
    if (pk.ok() && (*pk)->key_id() == key_id) key_listed = true;
  }
  if (!key_listed) {
    return Unauthenticated("signed_event.key_id", "bootstrap key ", key_id,
                           " is not among register_party.initial_keys");
  }
  ctx.set_actor(std::move(actor));
  return absl::OkStatus();
}

// The signing key is registered, active and the acting party's; the party is active.
absl::Status CheckSigner(RuleContext& ctx, absl::string_view key_id) {
  const v1::Event& event = ctx.event();
  HT_ASSIGN_OR_RETURN(std::optional<v1::SigningKey> key,
                      ctx.Get<v1::SigningKey>(storage::Cf::kRegistry, keys::Key(key_id)));
  if (!key.has_value()) {
    return Unauthenticated("signed_event.key_id", "key ", key_id, " is not registered");
  }
  if (key->status() != v1::KEY_STATUS_ACTIVE) {
    return Unauthenticated("signed_event.key_id", "key ", key_id, " was revoked at seq ",
                           key->revoked_at_seq(), "; events it signs are rejected");
  }
  if (key->party_id() != event.party_id()) {
    return PermissionDenied("signed_event.key_id", "key ", key_id, " belongs to party ",
                            key->party_id(), ", not to party_id ", event.party_id());
  }
  HT_ASSIGN_OR_RETURN(v1::Party party, ctx.LoadParty(event.party_id(), "party_id"));
  if (party.status() == v1::PARTY_STATUS_SUSPENDED) {
    return PermissionDenied("party_id", "party ", party.party_id(), " is suspended");
  }
  ctx.set_actor(std::move(party));
  return absl::OkStatus();
}

}  // namespace

DomainRules::DomainRules(DomainConfig config) : config_(std::move(config)) {
  if (config_.clock == nullptr) config_.clock = &storage::Clock::Real();
}

absl::Status DomainRules::Apply(const storage::AppendRequest& request, storage::StateTxn& txn) {
  const auto* verified = dynamic_cast<const VerifiedEvent*>(request.context.get());
  if (verified == nullptr) {
    return absl::InternalError(
        "context: the append carries no domain::VerifiedEvent (the capture layer decodes and "
        "verifies every event before it reaches the ledger)");
  }
  const v1::Event& event = verified->event;
  if (event.event_id() != request.event_id) {
    return InvalidArgument("event_id", "the envelope says '", request.event_id,
                           "' but the signed payload says '", event.event_id(), "'");
  }
  HT_RETURN_IF_ERROR(ValidateEventId(event.event_id(), "event_id"));
  if (event.log_origin() != config_.log_origin) {
    return InvalidArgument("log_origin", "'", event.log_origin(), "' is not this log ('",
                           config_.log_origin,
                           "'); an event signed for one log cannot be "
                           "replayed into another");
  }
  HT_ASSIGN_OR_RETURN(const absl::Time occurred_at,
                      CheckOccurredAt(event, config_, *config_.clock));
  HT_RETURN_IF_ERROR(ValidatePartyId(event.party_id(), "party_id"));
  const KindRule* rule = FindKindRule(event.kind_case());
  if (rule == nullptr) return InvalidArgument("kind", "the event carries no known kind");
  HT_RETURN_IF_ERROR(CheckExpectedHeads(request, event));

  std::string key_id = verified->key_id;
  if (key_id.empty()) key_id = request.signed_event.key_id();
  if (!request.signed_event.key_id().empty() && request.signed_event.key_id() != key_id) {
    return absl::InternalError(absl::StrCat("signed_event.key_id: the envelope names key ",
                                            request.signed_event.key_id(),
                                            " but the capture layer verified key ", key_id));
  }
  if (key_id.empty()) return Unauthenticated("signed_event.key_id", "required");

  if (sha256_ == nullptr) {
    auto hasher = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    if (!hasher.ok()) return hasher.status();
    sha256_ = *std::move(hasher);
  }
  RuleContext ctx(config_, *verified, txn, *sha256_, occurred_at);
  if (verified->self_signed) {
    HT_RETURN_IF_ERROR(CheckGenesis(ctx, key_id));
  } else {
    HT_RETURN_IF_ERROR(CheckSigner(ctx, key_id));
  }
  if ((RolesOf(ctx.actor()) & rule->roles) == 0) {
    return PermissionDenied("party_id", "party ", event.party_id(), " (",
                            RoleList(RolesOf(ctx.actor())), ") may not sign ", rule->name,
                            "; allowed roles: ", RoleList(rule->roles));
  }

  HT_RETURN_IF_ERROR(rule->apply(ctx));
  HT_RETURN_IF_ERROR(ctx.CheckNoStrayOpenings());
  HT_RETURN_IF_ERROR(StageLineageEdges(event, txn));
  for (const std::string& batch_id : TouchedBatchIds(event)) txn.TouchBatch(batch_id);
  return absl::OkStatus();
}

}  // namespace herbtrace::domain
