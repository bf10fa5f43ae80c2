// Internal to the domain rules: what one DomainRules::Apply call works with, the helpers every
// kind's rule shares (typed state access, batch bookkeeping, error constructors), and the rule of
// each event kind. Not API: only domain_rules.cc and the *_rules.cc files include it.
#ifndef HERBTRACE_SERVICES_DOMAIN_RULE_CONTEXT_H_
#define HERBTRACE_SERVICES_DOMAIN_RULE_CONTEXT_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crypto/hash.h"
#include "google/protobuf/message_lite.h"
#include "google/protobuf/timestamp.pb.h"
#include "herbtrace/v1/event.pb.h"
#include "herbtrace/v1/recall.pb.h"
#include "herbtrace/v1/registry.pb.h"
#include "herbtrace/v1/trace.pb.h"
#include "services/domain/domain_rules.h"
#include "services/domain/verified_event.h"
#include "storage/state_txn.h"

namespace herbtrace::domain::internal {

// "<field>: <message>" statuses. Every rejection starts with the path of the field at fault.
template <typename... Args>
absl::Status InvalidArgument(absl::string_view field, const Args&... args) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", args...));
}
template <typename... Args>
absl::Status NotFound(absl::string_view field, const Args&... args) {
  return absl::NotFoundError(absl::StrCat(field, ": ", args...));
}
template <typename... Args>
absl::Status PermissionDenied(absl::string_view field, const Args&... args) {
  return absl::PermissionDeniedError(absl::StrCat(field, ": ", args...));
}
template <typename... Args>
absl::Status Unauthenticated(absl::string_view field, const Args&... args) {
  return absl::UnauthenticatedError(absl::StrCat(field, ": ", args...));
}
template <typename... Args>
absl::Status FailedPrecondition(absl::string_view field, const Args&... args) {
  return absl::FailedPreconditionError(absl::StrCat(field, ": ", args...));
}
template <typename... Args>
absl::Status AlreadyExists(absl::string_view field, const Args&... args) {
  return absl::AlreadyExistsError(absl::StrCat(field, ": ", args...));
}

#define HT_RETURN_IF_ERROR(expr)                \
  do {                                          \
    if (absl::Status _st = (expr); !_st.ok()) { \
      return _st;                               \
    }                                           \
  } while (false)

#define HT_ASSIGN_OR_RETURN(lhs, rexpr) \
  HT_ASSIGN_OR_RETURN_IMPL(HT_DOMAIN_CONCAT(_status_or_, __LINE__), lhs, rexpr)
#define HT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                             \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
#define HT_DOMAIN_CONCAT(a, b) HT_DOMAIN_CONCAT_INNER(a, b)
#define HT_DOMAIN_CONCAT_INNER(a, b) a##b

// total += v; false (total unchanged) when the sum would not fit a uint64.
inline bool AddGrams(uint64_t& total, uint64_t v) {
  if (v > UINT64_MAX - total) return false;
  total += v;
  return true;
}

absl::string_view RoleName(v1::PartyRole role);
absl::string_view StatusName(v1::BatchStatus status);
bool HasRole(const v1::Party& party, v1::PartyRole role);

// A recall, test or hold that reaches a batch also reaches everything made from it. Visits the
// downstream closure of `root` (root included, at depth 0) breadth-first, each batch once, at its
// smallest depth; `visit` returning false stops the walk. Iterative: memory is the frontier and
// the visited set, never the call stack, so chains of any length are fine.
absl::Status ForEachDownstream(
    const storage::StateTxn& txn, absl::string_view root,
    const std::function<absl::StatusOr<bool>(const std::string& batch_id, uint32_t depth)>& visit);

class RuleContext {
 public:
  // REQUIRES: every reference outlives the context.
  RuleContext(const DomainConfig& config, const VerifiedEvent& verified, storage::StateTxn& txn,
              const crypto::Hasher& sha256, absl::Time occurred_at)
      : config_(config),
        verified_(verified),
        txn_(txn),
        sha256_(sha256),
        occurred_at_(occurred_at) {}

  const DomainConfig& config() const { return config_; }
  const v1::Event& event() const { return verified_.event; }
  const VerifiedEvent& verified() const { return verified_; }
  storage::StateTxn& txn() { return txn_; }
  const storage::StateTxn& txn() const { return txn_; }
  uint64_t seq() const { return txn_.seq(); }
  absl::Time occurred_at() const { return occurred_at_; }
  const crypto::Hasher& sha256() const { return sha256_; }

  // The acting party as registered (for the genesis event: as it is being registered).
  const v1::Party& actor() const { return actor_; }
  void set_actor(v1::Party actor) { actor_ = std::move(actor); }
  bool ActorHas(v1::PartyRole role) const { return HasRole(actor_, role); }

  // Typed state access. Values are serialized herbtrace.v1 messages.
  template <typename M>
  absl::StatusOr<std::optional<M>> Get(storage::Cf cf, absl::string_view key) const {
    auto bytes = txn_.View(cf, key);
    if (!bytes.ok()) return bytes.status();
    if (!bytes->has_value()) return std::optional<M>();
    M message;
    if (!message.ParseFromArray((*bytes)->data(), static_cast<int>((*bytes)->size()))) {
      return absl::DataLossError(absl::StrCat("state value under '", key, "' does not parse"));
    }
    return std::optional<M>(std::move(message));
  }
  absl::StatusOr<bool> Exists(storage::Cf cf, absl::string_view key) const;
  absl::Status Put(storage::Cf cf, absl::string_view key, const google::protobuf::MessageLite& m);
  absl::Status PutRaw(storage::Cf cf, absl::string_view key, absl::string_view value) {
    return txn_.Put(cf, key, value);
  }
  absl::Status Delete(storage::Cf cf, absl::string_view key) { return txn_.Delete(cf, key); }

  // NotFound("<field>: party P is not registered").
  absl::StatusOr<v1::Party> LoadParty(absl::string_view party_id, absl::string_view field) const;
  // As LoadParty, and FailedPrecondition unless the party is ACTIVE: for counterparties
  // (recipients, buyers, …).
  absl::StatusOr<v1::Party> LoadActiveParty(absl::string_view party_id,
                                            absl::string_view field) const;
  absl::StatusOr<bool> HerbExists(absl::string_view herb_code) const;

  // Validates the code's format, then NotFound("<field>: batch B is not in the log").
  absl::StatusOr<v1::BatchState> LoadBatch(absl::string_view batch_id,
                                           absl::string_view field) const;
  // A batch the acting party may move: PermissionDenied unless it is the holder (`holder` names
  // the party that must hold it, normally the actor), FailedPrecondition unless it is ACTIVE and
  // not in transit.
  absl::Status CheckMovable(const v1::BatchState& batch, absl::string_view holder,
                            absl::string_view field) const;
  // A batch code this event creates: valid, node type among the actor's roles (`node_type` when
  // the kind fixes it), company code = the actor, date = occurred_at's date (CST), and unused
  // (AlreadyExists).
  absl::Status CheckNewBatchId(absl::string_view batch_id, absl::string_view field,
                               int node_type = 0) const;

  // A new batch created by this event, held by the actor.
  v1::BatchState NewBatch(absl::string_view batch_id, absl::string_view herb_code,
                          uint64_t grams) const;
  // Stages the batch (status recomputed, last_seq = this entry) and keeps the holder index in
  // step: `previous_holder` is the holder before this event (empty for a new batch).
  absl::Status SaveBatch(v1::BatchState& batch, absl::string_view previous_holder);
  // Stages a batch this event changes without touching it (holds and recalls reaching
  // downstream lots): last_seq stays, since the entry does not join the batch's hash chain.
  absl::Status SaveBatchQuietly(v1::BatchState& batch);

  // Checks the opening sent for the commitment at `field_path` and stores it in the
  // confidential family. InvalidArgument("openings[<path>]: ...") when missing or wrong.
  // `check_value`, if set, checks the opened value's encoding (field = "openings[<path>]").
  absl::Status CheckAndStoreOpening(
      absl::string_view field_path, absl::string_view commitment,
      const std::function<absl::Status(absl::string_view value, absl::string_view field)>&
          check_value = nullptr);
  // Every opening sent must open a commitment the kind's rule checked (InvalidArgument).
  absl::Status CheckNoStrayOpenings() const;

 private:
  const DomainConfig& config_;
  const VerifiedEvent& verified_;
  storage::StateTxn& txn_;
  const crypto::Hasher& sha256_;
  const absl::Time occurred_at_;
  v1::Party actor_;
  std::vector<std::string> opened_paths_;
};

// Recomputes status from remaining grams, recalls and holds (trace.proto precedence). A batch
// at 0 grams keeps its closing status (`closed_as` if it was still open).
void SettleStatus(v1::BatchState& batch, v1::BatchStatus closed_as = v1::BATCH_STATUS_CONSUMED);

// What a recall's scope record shows of a lot now (RecallScopeLot.current): holder, remaining
// grams, status and last seq, nothing else. SaveBatch keeps it for every recall naming the lot.
void SetLotNow(const v1::BatchState& batch, v1::RecallScopeLot& scope);

// The rule of each kind. REQUIRES: common checks (origin, time, signer, roles) already passed.
absl::Status ApplyRegisterParty(RuleContext& ctx);
absl::Status ApplyRegisterKey(RuleContext& ctx);
absl::Status ApplyRevokeKey(RuleContext& ctx);
absl::Status ApplyRegisterBase(RuleContext& ctx);
absl::Status ApplyLoadHerbCatalog(RuleContext& ctx);
absl::Status ApplyLoadQualityLimits(RuleContext& ctx);
absl::Status ApplyHarvest(RuleContext& ctx);
absl::Status ApplyProcess(RuleContext& ctx);
absl::Status ApplySplit(RuleContext& ctx);
absl::Status ApplyMerge(RuleContext& ctx);
absl::Status ApplyTransform(RuleContext& ctx);
absl::Status ApplyShip(RuleContext& ctx);
absl::Status ApplyTrade(RuleContext& ctx);
absl::Status ApplyReceive(RuleContext& ctx);
absl::Status ApplyStore(RuleContext& ctx);
absl::Status ApplyDispense(RuleContext& ctx);
absl::Status ApplyQualityTest(RuleContext& ctx);
absl::Status ApplyIssueRecall(RuleContext& ctx);
absl::Status ApplyRecallAck(RuleContext& ctx);
absl::Status ApplyReleaseHold(RuleContext& ctx);

// Shared by Receive (recall returns) and RecallAck: re-evaluates whether every lot of the recall
// that needed an acknowledgement has one and no return is in transit, and stores the status.
absl::Status UpdateRecallStatus(RuleContext& ctx, absl::string_view recall_id);

// Starts a transfer of whole lots (their remaining grams) from `from` to `to`, named by this
// event's id: stages the transfer record and puts each lot in transit. Ship, Trade and RecallAck
// (RETURNED) share it; `field` names the lots in errors.
absl::Status StartTransfer(RuleContext& ctx, v1::TransferKind kind, absl::string_view from,
                           absl::string_view to, std::vector<v1::BatchState>& lots,
                           absl::string_view field);
// The recipient of a transfer: registered, active (FailedPrecondition), not `from`
// (InvalidArgument), holding a role that holds lots (FailedPrecondition).
absl::Status CheckRecipient(const RuleContext& ctx, absl::string_view to, absl::string_view from,
                            absl::string_view field);

// Validation of value types shared by several kinds.
absl::Status ValidateMeasurement(const v1::Measurement& m, absl::string_view field,
                                 std::initializer_list<v1::MeasureUnit> units, bool allow_negative);
absl::Status ValidateGeoPoint(const v1::GeoPoint& p, absl::string_view field);
// A time an event states besides occurred_at (a recall's deadline, a sampling or sensor time):
// nanos 0..999,999,999 and a date in 0001..9999, the range google.protobuf.Timestamp defines.
// Outside it the value has no meaning, and no JSON or RFC 3339 form to show it in.
absl::Status ValidateTimestamp(const google::protobuf::Timestamp& ts, absl::string_view field);
// A NewKey for `owner`: algorithm, public key, unused key id, proof of possession. Returns the
// SigningKey to store.
absl::StatusOr<v1::SigningKey> CheckNewKey(RuleContext& ctx, const v1::NewKey& key,
                                           absl::string_view owner, absl::string_view field);
// Stages a SigningKey and its owner index entry.
absl::Status StoreKey(RuleContext& ctx, const v1::SigningKey& key);

}  // namespace herbtrace::domain::internal

#endif  // HERBTRACE_SERVICES_DOMAIN_RULE_CONTEXT_H_
