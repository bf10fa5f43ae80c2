#include "services/domain/rule_context.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "crypto/signature.h"
#include "services/domain/identifiers.h"
#include "services/domain/signature_algorithm.h"
#include "services/domain/state_keys.h"

namespace herbtrace::domain::internal {
namespace {

// Which node type digit (ids.proto NodeType) each role may put first in a batch code.
bool NodeTypeFitsRoles(int node_type, const v1::Party& party) {
  switch (node_type) {
    case 1:
      return HasRole(party, v1::PARTY_ROLE_GROWER) || HasRole(party, v1::PARTY_ROLE_COOPERATIVE);
    case 2:
      return HasRole(party, v1::PARTY_ROLE_PROCESSOR);
    case 3:
      return HasRole(party, v1::PARTY_ROLE_WAREHOUSE);
    case 4:
      return HasRole(party, v1::PARTY_ROLE_TRADER);
    case 5:
      return HasRole(party, v1::PARTY_ROLE_PHARMACY) || HasRole(party, v1::PARTY_ROLE_HOSPITAL);
    case 9:
      return HasRole(party, v1::PARTY_ROLE_MARKET_OPERATOR);
    default:
      return false;
  }
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
  return ts;
}

bool IsClosed(v1::BatchStatus status) {
  return status == v1::BATCH_STATUS_CONSUMED || status == v1::BATCH_STATUS_DISPENSED ||
         status == v1::BATCH_STATUS_DESTROYED;
}

}  // namespace

absl::string_view RoleName(v1::PartyRole role) {
  switch (role) {
    case v1::PARTY_ROLE_MARKET_OPERATOR:
      return "MARKET_OPERATOR";
    case v1::PARTY_ROLE_REGULATOR:
      return "REGULATOR";
    case v1::PARTY_ROLE_GROWER:
      return "GROWER";
    case v1::PARTY_ROLE_COOPERATIVE:
      return "COOPERATIVE";
    case v1::PARTY_ROLE_PROCESSOR:
      return "PROCESSOR";
    case v1::PARTY_ROLE_WAREHOUSE:
      return "WAREHOUSE";
    case v1::PARTY_ROLE_TRADER:
      return "TRADER";
    case v1::PARTY_ROLE_LAB:
      return "LAB";
    case v1::PARTY_ROLE_PHARMACY:
      return "PHARMACY";
    case v1::PARTY_ROLE_HOSPITAL:
      return "HOSPITAL";
    default:
      return "UNSPECIFIED";
  }
}

absl::string_view StatusName(v1::BatchStatus status) {
  switch (status) {
    case v1::BATCH_STATUS_ACTIVE:
      return "ACTIVE";
    case v1::BATCH_STATUS_HELD:
      return "HELD";
    case v1::BATCH_STATUS_RECALLED:
      return "RECALLED";
    case v1::BATCH_STATUS_CONSUMED:
      return "CONSUMED";
    case v1::BATCH_STATUS_DISPENSED:
      return "DISPENSED";
    case v1::BATCH_STATUS_DESTROYED:
      return "DESTROYED";
    default:
      return "UNSPECIFIED";
  }
}

bool HasRole(const v1::Party& party, v1::PartyRole role) {
  return std::find(party.roles().begin(), party.roles().end(), role) != party.roles().end();
}

void SettleStatus(v1::BatchState& batch, v1::BatchStatus closed_as) {
  if (batch.remaining_grams() == 0) {
    if (!IsClosed(batch.status())) batch.set_status(closed_as);
  } else if (!batch.recall_ids().empty()) {
    batch.set_status(v1::BATCH_STATUS_RECALLED);
  } else if (!batch.holds().empty()) {
    batch.set_status(v1::BATCH_STATUS_HELD);
  } else {
    batch.set_status(v1::BATCH_STATUS_ACTIVE);
  }
}

void SetLotNow(const v1::BatchState& batch, v1::RecallScopeLot& scope) {
  v1::BatchState& now = *scope.mutable_current();
  now.Clear();
  now.set_holder_party_id(batch.holder_party_id());
  now.set_remaining_grams(batch.remaining_grams());
  now.set_status(batch.status());
  now.set_last_seq(batch.last_seq());
}

absl::Status ForEachDownstream(
    const storage::StateTxn& txn, absl::string_view root,
    const std::function<absl::StatusOr<bool>(const std::string&, uint32_t)>& visit) {
  std::deque<std::pair<std::string, uint32_t>> frontier;
  absl::flat_hash_set<std::string> seen;
  frontier.emplace_back(std::string(root), 0);
  seen.emplace(root);
  while (!frontier.empty()) {
    // Named variables, not a structured binding: the lambda below captures depth, which clang 14
    // (the fuzz build's compiler) does not allow for a binding.
    const std::string batch_id = std::move(frontier.front().first);
    const uint32_t depth = frontier.front().second;
    frontier.pop_front();
    absl::StatusOr<bool> more = visit(batch_id, depth);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    const std::string prefix = keys::LineagePrefix(batch_id);
    HT_RETURN_IF_ERROR(txn.ForEachWithPrefix(
        storage::Cf::kLineageDown, prefix, [&](absl::string_view key, absl::string_view) {
          absl::string_view child = key.substr(prefix.size());
          if (seen.emplace(child).second) frontier.emplace_back(std::string(child), depth + 1);
          return true;
        }));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> RuleContext::Exists(storage::Cf cf, absl::string_view key) const {
  auto value = txn_.View(cf, key);
  if (!value.ok()) return value.status();
  return value->has_value();
}

absl::Status RuleContext::Put(storage::Cf cf, absl::string_view key,
                              const google::protobuf::MessageLite& m) {
  return txn_.Put(cf, key, m.SerializeAsString());
}

absl::StatusOr<v1::Party> RuleContext::LoadParty(absl::string_view party_id,
                                                 absl::string_view field) const {
  HT_RETURN_IF_ERROR(ValidatePartyId(party_id, field));
  HT_ASSIGN_OR_RETURN(std::optional<v1::Party> party,
                      Get<v1::Party>(storage::Cf::kRegistry, keys::Party(party_id)));
  if (!party.has_value()) return NotFound(field, "party ", party_id, " is not registered");
  return *std::move(party);
}

absl::StatusOr<v1::Party> RuleContext::LoadActiveParty(absl::string_view party_id,
                                                       absl::string_view field) const {
  HT_ASSIGN_OR_RETURN(v1::Party party, LoadParty(party_id, field));
  if (party.status() == v1::PARTY_STATUS_SUSPENDED) {
    return FailedPrecondition(field, "party ", party_id, " is suspended");
  }
  return party;
}

absl::StatusOr<bool> RuleContext::HerbExists(absl::string_view herb_code) const {
  return Exists(storage::Cf::kRegistry, keys::Herb(herb_code));
}

absl::StatusOr<v1::BatchState> RuleContext::LoadBatch(absl::string_view batch_id,
                                                      absl::string_view field) const {
  HT_RETURN_IF_ERROR(ValidateBatchId(batch_id, field));
  HT_ASSIGN_OR_RETURN(std::optional<v1::BatchState> batch,
                      Get<v1::BatchState>(storage::Cf::kBatchState, batch_id));
  if (!batch.has_value()) return NotFound(field, "batch ", batch_id, " is not in the log");
  return *std::move(batch);
}

absl::Status RuleContext::CheckMovable(const v1::BatchState& batch, absl::string_view holder,
                                       absl::string_view field) const {
  if (batch.holder_party_id() != holder) {
    return PermissionDenied(field, "batch ", batch.batch_id(), " is held by party ",
                            batch.holder_party_id(), ", not by ", holder);
  }
  if (batch.remaining_grams() == 0 || IsClosed(batch.status())) {
    return FailedPrecondition(field, "batch ", batch.batch_id(), " is ", StatusName(batch.status()),
                              " (0 g left)");
  }
  if (batch.has_in_transit()) {
    return FailedPrecondition(field, "batch ", batch.batch_id(), " is in transit to party ",
                              batch.in_transit().to_party_id(), " (transfer ",
                              batch.in_transit().transfer_event_id(), ")");
  }
  if (batch.status() == v1::BATCH_STATUS_RECALLED) {
    return FailedPrecondition(field, "batch ", batch.batch_id(), " is RECALLED (recall ",
                              batch.recall_ids(batch.recall_ids_size() - 1),
                              "); it moves only by RecallAck");
  }
  if (batch.status() == v1::BATCH_STATUS_HELD) {
    const v1::Hold& hold = batch.holds(0);
    return FailedPrecondition(field, "batch ", batch.batch_id(), " is HELD: ", hold.reason(),
                              " (batch ", hold.source_batch_id(), ", test at seq ", hold.test_seq(),
                              ")");
  }
  if (batch.status() != v1::BATCH_STATUS_ACTIVE) {
    return FailedPrecondition(field, "batch ", batch.batch_id(), " is ",
                              StatusName(batch.status()));
  }
  return absl::OkStatus();
}

absl::Status RuleContext::CheckNewBatchId(absl::string_view batch_id, absl::string_view field,
                                          int node_type) const {
  HT_RETURN_IF_ERROR(ValidateBatchId(batch_id, field));
  const BatchIdParts parts = ParseBatchId(batch_id);
  if (node_type != 0 && parts.node_type != node_type) {
    return InvalidArgument(field, "batch code ", batch_id, " has node type ", parts.node_type,
                           "; this event creates node type ", node_type);
  }
  if (!NodeTypeFitsRoles(parts.node_type, actor_)) {
    return InvalidArgument(field, "batch code ", batch_id, " has node type ", parts.node_type,
                           ", which none of party ", actor_.party_id(), "'s roles may use");
  }
  if (parts.company != actor_.party_id()) {
    return InvalidArgument(field, "batch code ", batch_id, " has company code ", parts.company,
                           "; a party creates codes under its own id ", actor_.party_id());
  }
  const v1::Date today = ChinaDate(occurred_at_);
  if (CompareDates(parts.date, today) != 0) {
    return InvalidArgument(field, "batch code ", batch_id, " is dated ", FormatDate(parts.date),
                           " but the event occurred on ", FormatDate(today), " (UTC+8)");
  }
  HT_ASSIGN_OR_RETURN(const bool exists, Exists(storage::Cf::kBatchState, batch_id));
  if (exists) return AlreadyExists(field, "batch code ", batch_id, " is already in the log");
  return absl::OkStatus();
}

v1::BatchState RuleContext::NewBatch(absl::string_view batch_id, absl::string_view herb_code,
                                     uint64_t grams) const {
  v1::BatchState batch;
  batch.set_batch_id(std::string(batch_id));
  batch.set_herb_code(std::string(herb_code));
  batch.set_holder_party_id(actor_.party_id());
  batch.set_remaining_grams(grams);
  batch.set_created_grams(grams);
  batch.set_status(v1::BATCH_STATUS_ACTIVE);
  *batch.mutable_created_at() = ToTimestamp(occurred_at_);
  batch.set_created_seq(seq());
  return batch;
}

absl::Status RuleContext::SaveBatch(v1::BatchState& batch, absl::string_view previous_holder) {
  batch.set_last_seq(seq());
  if (previous_holder != batch.holder_party_id()) {
    if (!previous_holder.empty()) {
      HT_RETURN_IF_ERROR(txn_.Delete(storage::Cf::kHolderBatches,
                                     keys::Holder(previous_holder, batch.batch_id())));
    }
    HT_RETURN_IF_ERROR(txn_.Put(storage::Cf::kHolderBatches,
                                keys::Holder(batch.holder_party_id(), batch.batch_id()), ""));
  }
  return SaveBatchQuietly(batch);
}

absl::Status RuleContext::SaveBatchQuietly(v1::BatchState& batch) {
  SettleStatus(batch);
  // Filled by readers from the log's own families.
  batch.clear_head_leaf_hash();
  batch.clear_as_of_tree_size();
  // Each recall's scope record of the lot says what the lot is now, so a 10,000-lot scope is
  // one ordered scan instead of 10,000 reads scattered over every batch of the market.
  for (const std::string& recall_id : batch.recall_ids()) {
    const std::string key = keys::RecallLot(recall_id, batch.batch_id());
    HT_ASSIGN_OR_RETURN(std::optional<v1::RecallScopeLot> scope,
                        Get<v1::RecallScopeLot>(storage::Cf::kRegistry, key));
    if (!scope.has_value()) {
      return absl::DataLossError(absl::StrCat("batch ", batch.batch_id(), " names recall ",
                                              recall_id, " whose scope does not hold it"));
    }
    SetLotNow(batch, *scope);
    HT_RETURN_IF_ERROR(Put(storage::Cf::kRegistry, key, *scope));
  }
  return Put(storage::Cf::kBatchState, batch.batch_id(), batch);
}

absl::Status RuleContext::CheckAndStoreOpening(
    absl::string_view field_path, absl::string_view commitment,
    const std::function<absl::Status(absl::string_view value, absl::string_view field)>&
        check_value) {
  const std::string field = absl::StrCat("openings[", field_path, "]");
  const v1::Opening* opening = nullptr;
  for (const v1::Opening& o : verified_.openings) {
    if (o.field_path() != field_path) continue;
    if (opening != nullptr) return InvalidArgument(field, "sent twice");
    opening = &o;
  }
  if (opening == nullptr) {
    return InvalidArgument(field, "required: the opening of ", field_path,
                           " must accompany the event");
  }
  if (opening->salt().size() != 32) {
    return InvalidArgument(field, "salt must be 32 bytes, got ", opening->salt().size());
  }
  std::string preimage = opening->salt();
  preimage.append(opening->value());
  const crypto::Digest digest = sha256_.Hash(preimage);
  if (crypto::AsBytes(digest) != commitment) {
    return InvalidArgument(field, "SHA-256(salt ‖ value) does not match ", field_path);
  }
  if (check_value) HT_RETURN_IF_ERROR(check_value(opening->value(), field));
  opened_paths_.emplace_back(field_path);
  return Put(storage::Cf::kConfidential, keys::Opening(seq(), field_path), *opening);
}

absl::Status RuleContext::CheckNoStrayOpenings() const {
  for (size_t i = 0; i < verified_.openings.size(); ++i) {
    const std::string& path = verified_.openings[i].field_path();
    if (std::find(opened_paths_.begin(), opened_paths_.end(), path) == opened_paths_.end()) {
      return InvalidArgument(absl::StrCat("openings[", i, "].field_path"), "'", path,
                             "' names no commitment of this event");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateMeasurement(const v1::Measurement& m, absl::string_view field,
                                 std::initializer_list<v1::MeasureUnit> units,
                                 bool allow_negative) {
  if (m.unit() == v1::MEASURE_UNIT_UNSPECIFIED || !v1::MeasureUnit_IsValid(m.unit())) {
    return InvalidArgument(absl::StrCat(field, ".unit"), "required");
  }
  if (units.size() > 0 && std::find(units.begin(), units.end(), m.unit()) == units.end()) {
    return InvalidArgument(absl::StrCat(field, ".unit"), v1::MeasureUnit_Name(m.unit()),
                           " is not a unit for this value");
  }
  if (!allow_negative && m.value() < 0) {
    return InvalidArgument(absl::StrCat(field, ".value"), "must not be negative");
  }
  return absl::OkStatus();
}

absl::Status ValidateTimestamp(const google::protobuf::Timestamp& ts, absl::string_view field) {
  if (ts.nanos() < 0 || ts.nanos() > 999'999'999) {
    return InvalidArgument(field, "nanos ", ts.nanos(), " out of range");
  }
  // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
  if (ts.seconds() < int64_t{-62135596800} || ts.seconds() > int64_t{253402300799}) {
    return InvalidArgument(field, "seconds ", ts.seconds(), " outside 0001-01-01..9999-12-31");
  }
  return absl::OkStatus();
}

absl::Status ValidateGeoPoint(const v1::GeoPoint& p, absl::string_view field) {
  if (p.latitude_micro_deg() < -90'000'000 || p.latitude_micro_deg() > 90'000'000) {
    return InvalidArgument(absl::StrCat(field, ".latitude_micro_deg"), "out of range");
  }
  if (p.longitude_micro_deg() < -180'000'000 || p.longitude_micro_deg() > 180'000'000) {
    return InvalidArgument(absl::StrCat(field, ".longitude_micro_deg"), "out of range");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SigningKey> CheckNewKey(RuleContext& ctx, const v1::NewKey& key,
                                           absl::string_view owner, absl::string_view field) {
  auto algorithm = FromProtoAlgorithm(key.algorithm(), "");
  if (!algorithm.ok()) {
    return InvalidArgument(absl::StrCat(field, ".algorithm"), "must be ED25519 or SM2");
  }
  auto public_key = crypto::PublicKey::FromRaw(*algorithm, key.public_key());
  if (!public_key.ok()) {
    return InvalidArgument(absl::StrCat(field, ".public_key"), public_key.status().message());
  }
  const std::string& key_id = (*public_key)->key_id();
  HT_ASSIGN_OR_RETURN(std::optional<v1::SigningKey> existing,
                      ctx.Get<v1::SigningKey>(storage::Cf::kRegistry, keys::Key(key_id)));
  if (existing.has_value()) {
    return AlreadyExists(absl::StrCat(field, ".public_key"), "key ", key_id,
                         " is already registered to party ", existing->party_id());
  }
  const std::string message =
      absl::StrCat("herbtrace key v1\n", ctx.config().log_origin, "\n", owner, "\n", key_id, "\n");
  if (absl::Status s = (*public_key)->Verify(message, key.proof_of_possession()); !s.ok()) {
    return InvalidArgument(absl::StrCat(field, ".proof_of_possession"), "does not verify for key ",
                           key_id, " and owner ", owner, ": ", s.message());
  }
  v1::SigningKey stored;
  stored.set_key_id(key_id);
  stored.set_party_id(std::string(owner));
  stored.set_algorithm(key.algorithm());
  stored.set_public_key(key.public_key());
  stored.set_device_label(key.device_label());
  stored.set_status(v1::KEY_STATUS_ACTIVE);
  stored.set_registered_seq(ctx.seq());
  return stored;
}

absl::Status StoreKey(RuleContext& ctx, const v1::SigningKey& key) {
  HT_RETURN_IF_ERROR(ctx.Put(storage::Cf::kRegistry, keys::Key(key.key_id()), key));
  return ctx.PutRaw(storage::Cf::kRegistry, keys::PartyKey(key.party_id(), key.key_id()), "");
}

}  // namespace herbtrace::domain::internal
