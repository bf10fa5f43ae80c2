// Rules of the quality and recall kinds: quality tests judged against the limits table in force,
// holds on failed lots and everything made from them, recalls with their scope and
// acknowledgements, and the release of holds. Status codes and roles: see the tables at the top
// of domain_rules.cc.
//
// Judging one AnalyteResult (event.proto, LimitRow / LimitRule):
//   candidate rows   analyte equal, use equal (UNSPECIFIED counts as MEDICINAL on both sides)
//   winning set      the candidates listing the batch's herb in herb_codes if any, else those
//                    with applies_to_all that do not except the herb; none → NOT_JUDGED
//   each row         MAX, NOT_DETECTED with a limit: value ≤ limit PASS else FAIL; below LOQ:
//                    loq ≤ limit PASS else NOT_JUDGED
//                    NOT_DETECTED without a limit (LOQ not known, e.g. the banned-pesticide
//                    group row): below LOQ PASS, any quantified value FAIL (it was detected)
//                    MIN: value ≥ limit PASS else FAIL; below LOQ FAIL
//                    INFORMATIONAL: NOT_JUDGED
//   result verdict   the worst over the winning set (FAIL > NOT_JUDGED > PASS): every row applies
//   test verdict     the worst over the results
// A result measured in another unit than a row's limit is INVALID_ARGUMENT: values compare only
// as integers of one unit (common.proto).
//
// Downstream walks (holds, releases, recall scopes) are breadth-first and iterative
// (ForEachDownstream), and touch — in the hash-chain sense — only the batch the event names: a
// test at the root of a long chain must not produce an entry with one batch link per lot. The
// other lots' state records why they changed (Hold.test_seq, BatchState.recall_ids).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/domain/identifiers.h"
#include "services/domain/rule_context.h"
#include "services/domain/state_keys.h"

namespace herbtrace::domain::internal {
namespace {

int Severity(v1::Verdict v) {
  switch (v) {
    case v1::VERDICT_FAIL:
      return 3;
    case v1::VERDICT_NOT_JUDGED:
      return 2;
    case v1::VERDICT_PASS:
      return 1;
    default:
      return 0;
  }
}

v1::Verdict Worst(v1::Verdict a, v1::Verdict b) { return Severity(a) >= Severity(b) ? a : b; }

v1::ProductUse NormalUse(v1::ProductUse use) {
  return use == v1::PRODUCT_USE_UNSPECIFIED ? v1::PRODUCT_USE_MEDICINAL : use;
}

// v / scale as an exact decimal: 212500000 / 1000000 → "212.5".
std::string Decimal(int64_t v, int64_t scale) {
  std::string sign = v < 0 ? "-" : "";
  const uint64_t a = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  const uint64_t s = static_cast<uint64_t>(scale);
  std::string out = absl::StrCat(sign, a / s);
  uint64_t frac = a % s;
  if (frac != 0) {
    std::string digits;
    for (uint64_t d = s / 10; d > 0; d /= 10) {
      digits.push_back(static_cast<char>('0' + frac / d));
      frac %= d;
    }
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    absl::StrAppend(&out, ".", digits);
  }
  return out;
}

std::string FormatAmount(const v1::Measurement& m, v1::DisplayUnit display) {
  if (m.unit() != v1::MEASURE_UNIT_NG_PER_KG) {
    return absl::StrCat(m.value(), " ", v1::MeasureUnit_Name(m.unit()));
  }
  switch (display) {
    case v1::DISPLAY_UNIT_UG_PER_KG:
      return absl::StrCat(Decimal(m.value(), 1'000), " µg/kg");
    case v1::DISPLAY_UNIT_PERCENT:
      return absl::StrCat(Decimal(m.value(), 10'000'000'000), " %");
    default:
      return absl::StrCat(Decimal(m.value(), 1'000'000), " mg/kg");
  }
}

struct Judgement {
  v1::Verdict verdict = v1::VERDICT_NOT_JUDGED;
  std::string why;  // for a FAIL: "so2 212 mg/kg > 150 mg/kg"
};

absl::StatusOr<Judgement> JudgeRow(const v1::AnalyteResult& r, const v1::LimitRow& row,
                                   absl::string_view field) {
  if (row.rule() == v1::LIMIT_RULE_INFORMATIONAL) return Judgement{v1::VERDICT_NOT_JUDGED, ""};
  const v1::Measurement& measured = r.below_loq() ? r.loq() : r.value();
  if (row.has_limit() && measured.unit() != row.limit().unit()) {
    return InvalidArgument(absl::StrCat(field, r.below_loq() ? ".loq.unit" : ".value.unit"),
                           v1::MeasureUnit_Name(measured.unit()), " cannot be judged against a ",
                           v1::MeasureUnit_Name(row.limit().unit()), " limit of ", row.analyte());
  }
  const std::string shown = FormatAmount(measured, row.display_unit());
  switch (row.rule()) {
    case v1::LIMIT_RULE_MAX:
    case v1::LIMIT_RULE_NOT_DETECTED:
      if (!row.has_limit()) {
        if (r.below_loq()) return Judgement{v1::VERDICT_PASS, ""};
        return Judgement{v1::VERDICT_FAIL,
                         absl::StrCat(r.analyte(), " detected at ", shown, " (must not be)")};
      }
      if (r.below_loq()) {
        return Judgement{
            r.loq().value() <= row.limit().value() ? v1::VERDICT_PASS : v1::VERDICT_NOT_JUDGED, ""};
      }
      if (r.value().value() <= row.limit().value()) return Judgement{v1::VERDICT_PASS, ""};
      return Judgement{v1::VERDICT_FAIL,
                       absl::StrCat(r.analyte(), " ", shown, " > ",
                                    FormatAmount(row.limit(), row.display_unit()))};
    case v1::LIMIT_RULE_MIN:
      if (r.below_loq()) {
        return Judgement{v1::VERDICT_FAIL,
                         absl::StrCat(r.analyte(), " below LOQ ", shown, " < ",
                                      FormatAmount(row.limit(), row.display_unit()))};
      }
      if (r.value().value() >= row.limit().value()) return Judgement{v1::VERDICT_PASS, ""};
      return Judgement{v1::VERDICT_FAIL,
                       absl::StrCat(r.analyte(), " ", shown, " < ",
                                    FormatAmount(row.limit(), row.display_unit()))};
    default:
      return Judgement{v1::VERDICT_NOT_JUDGED, ""};
  }
}

absl::StatusOr<Judgement> JudgeResult(const v1::AnalyteResult& r,
                                      const v1::LoadQualityLimits& limits, absl::string_view herb,
                                      v1::ProductUse use, absl::string_view field,
                                      v1::JudgedResult& out) {
  std::vector<const v1::LimitRow*> specific, general;
  for (const v1::LimitRow& row : limits.rows()) {
    if (row.analyte() != r.analyte() || NormalUse(row.use()) != use) continue;
    if (std::find(row.herb_codes().begin(), row.herb_codes().end(), herb) !=
        row.herb_codes().end()) {
      specific.push_back(&row);
    } else if (row.applies_to_all() &&
               std::find(row.except_herb_codes().begin(), row.except_herb_codes().end(), herb) ==
                   row.except_herb_codes().end()) {
      general.push_back(&row);
    }
  }
  const std::vector<const v1::LimitRow*>& winning = specific.empty() ? general : specific;
  Judgement result{winning.empty() ? v1::VERDICT_NOT_JUDGED : v1::VERDICT_PASS, ""};
  for (const v1::LimitRow* row : winning) {
    *out.add_applied_limits() = *row;
    HT_ASSIGN_OR_RETURN(Judgement j, JudgeRow(r, *row, field));
    if (Severity(j.verdict) > Severity(result.verdict)) result = std::move(j);
  }
  out.set_verdict(result.verdict);
  return result;
}

absl::Status CheckResult(const v1::AnalyteResult& r, absl::string_view field) {
  HT_RETURN_IF_ERROR(ValidateAnalyteCode(r.analyte(), absl::StrCat(field, ".analyte")));
  const auto units = {v1::MEASURE_UNIT_NG_PER_KG, v1::MEASURE_UNIT_CFU_PER_G};
  if (r.below_loq()) {
    if (r.has_value()) {
      return InvalidArgument(absl::StrCat(field, ".value"), "must be unset when below_loq");
    }
    if (!r.has_loq())
      return InvalidArgument(absl::StrCat(field, ".loq"), "required when below_loq");
  } else if (!r.has_value()) {
    return InvalidArgument(absl::StrCat(field, ".value"), "required unless below_loq");
  }
  if (r.has_value()) {
    HT_RETURN_IF_ERROR(ValidateMeasurement(r.value(), absl::StrCat(field, ".value"), units, false));
  }
  if (r.has_loq()) {
    HT_RETURN_IF_ERROR(ValidateMeasurement(r.loq(), absl::StrCat(field, ".loq"), units, false));
  }
  if (!v1::DisplayUnit_IsValid(r.display_unit())) {
    return InvalidArgument(absl::StrCat(field, ".display_unit"), "not a display unit");
  }
  return absl::OkStatus();
}

void RemoveHoldsFrom(v1::BatchState& batch, absl::string_view source) {
  auto* holds = batch.mutable_holds();
  holds->erase(std::remove_if(holds->begin(), holds->end(),
                              [&](const v1::Hold& h) { return h.source_batch_id() == source; }),
               holds->end());
}

v1::HolderAckStatus* FindHolder(v1::RecallView& view, absl::string_view party_id) {
  for (v1::HolderAckStatus& h : *view.mutable_holders()) {
    if (h.party_id() == party_id) return &h;
  }
  return nullptr;
}

}  // namespace

absl::Status ApplyQualityTest(RuleContext& ctx) {
  const v1::QualityTest& q = ctx.event().quality_test();
  HT_ASSIGN_OR_RETURN(v1::BatchState batch, ctx.LoadBatch(q.batch_id(), "quality_test.batch_id"));
  HT_RETURN_IF_ERROR(ValidateVersion(q.limits_version(), "quality_test.limits_version"));
  if (q.has_sampled_at()) {
    HT_RETURN_IF_ERROR(ValidateTimestamp(q.sampled_at(), "quality_test.sampled_at"));
  }
  HT_ASSIGN_OR_RETURN(std::optional<std::string> current,
                      ctx.txn().Get(storage::Cf::kRegistry, keys::kLimitsCurrent));
  if (current.value_or("") != q.limits_version()) {
    return FailedPrecondition("quality_test.limits_version", "'", q.limits_version(),
                              "' is not the limits version in force (",
                              current.has_value() ? *current : std::string("none loaded"),
                              "); judge against it and re-sign");
  }
  HT_ASSIGN_OR_RETURN(
      std::optional<v1::LoadQualityLimits> limits,
      ctx.Get<v1::LoadQualityLimits>(storage::Cf::kRegistry, keys::Limits(q.limits_version())));
  if (!limits.has_value()) {
    return absl::DataLossError(
        absl::StrCat("limits version ", q.limits_version(), " is in force but not stored"));
  }
  if (!v1::TestPurpose_IsValid(q.purpose())) {
    return InvalidArgument("quality_test.purpose", "not a test purpose");
  }
  if (!v1::ProductUse_IsValid(q.use()))
    return InvalidArgument("quality_test.use", "not a product use");
  if (!q.report_sha256().empty() && q.report_sha256().size() != 32) {
    return InvalidArgument("quality_test.report_sha256", "must be empty or 32 bytes");
  }
  if (q.results().empty()) return InvalidArgument("quality_test.results", "at least one result");

  v1::JudgedTest judged;
  judged.set_event_id(ctx.event().event_id());
  judged.set_seq(ctx.seq());
  judged.set_batch_id(q.batch_id());
  judged.set_lab_party_id(ctx.actor().party_id());
  judged.set_limits_version(q.limits_version());
  if (q.has_sampled_at()) *judged.mutable_sampled_at() = q.sampled_at();
  v1::Verdict verdict = v1::VERDICT_PASS;
  std::string why;
  for (int i = 0; i < q.results_size(); ++i) {
    const std::string field = absl::StrCat("quality_test.results[", i, "]");
    HT_RETURN_IF_ERROR(CheckResult(q.results(i), field));
    v1::JudgedResult* out = judged.add_results();
    *out->mutable_result() = q.results(i);
    HT_ASSIGN_OR_RETURN(Judgement j, JudgeResult(q.results(i), *limits, batch.herb_code(),
                                                 NormalUse(q.use()), field, *out));
    if (j.verdict == v1::VERDICT_FAIL && why.empty()) why = j.why;
    verdict = Worst(verdict, j.verdict);
  }
  judged.set_verdict(verdict);
  HT_RETURN_IF_ERROR(ctx.Put(storage::Cf::kRegistry, keys::Test(q.batch_id(), ctx.seq()), judged));

  batch.set_latest_verdict(verdict);
  if (verdict != v1::VERDICT_FAIL) return ctx.SaveBatch(batch, batch.holder_party_id());

  v1::Hold hold;
  hold.set_source_batch_id(q.batch_id());
  hold.set_test_seq(ctx.seq());
  hold.set_reason(absl::StrCat(why, " (", q.limits_version(), ")"));
  *batch.add_holds() = hold;
  HT_RETURN_IF_ERROR(ctx.SaveBatch(batch, batch.holder_party_id()));
  return ForEachDownstream(
      ctx.txn(), q.batch_id(),
      [&](const std::string& batch_id, uint32_t depth) -> absl::StatusOr<bool> {
        if (depth == 0) return true;
        HT_ASSIGN_OR_RETURN(v1::BatchState lot, ctx.LoadBatch(batch_id, "quality_test.batch_id"));
        *lot.add_holds() = hold;
        HT_RETURN_IF_ERROR(ctx.SaveBatchQuietly(lot));
        return true;
      });
}

absl::Status ApplyReleaseHold(RuleContext& ctx) {
  const v1::ReleaseHold& rh = ctx.event().release_hold();
  HT_ASSIGN_OR_RETURN(v1::BatchState batch, ctx.LoadBatch(rh.batch_id(), "release_hold.batch_id"));
  if (rh.reason().empty()) return InvalidArgument("release_hold.reason", "required");
  const bool own_hold =
      std::any_of(batch.holds().begin(), batch.holds().end(),
                  [&](const v1::Hold& h) { return h.source_batch_id() == rh.batch_id(); });
  if (!own_hold) {
    if (!batch.holds().empty()) {
      return FailedPrecondition("release_hold.batch_id", "batch ", rh.batch_id(),
                                " is held because of batch ", batch.holds(0).source_batch_id(),
                                "; release that batch");
    }
    return FailedPrecondition("release_hold.batch_id", "batch ", rh.batch_id(), " is not held");
  }
  if (!rh.retest_event_id().empty()) {
    HT_RETURN_IF_ERROR(ValidateEventId(rh.retest_event_id(), "release_hold.retest_event_id"));
    std::optional<v1::JudgedTest> retest;
    absl::Status parse = absl::OkStatus();
    HT_RETURN_IF_ERROR(
        ctx.txn().ForEachWithPrefix(storage::Cf::kRegistry, keys::TestPrefix(rh.batch_id()),
                                    [&](absl::string_view, absl::string_view value) {
                                      v1::JudgedTest t;
                                      if (!t.ParseFromString(std::string(value))) {
                                        parse = absl::DataLossError("a stored test does not parse");
                                        return false;
                                      }
                                      if (t.event_id() != rh.retest_event_id()) return true;
                                      retest = std::move(t);
                                      return false;
                                    }));
    HT_RETURN_IF_ERROR(parse);
    if (!retest.has_value()) {
      return NotFound("release_hold.retest_event_id", "no test ", rh.retest_event_id(),
                      " of batch ", rh.batch_id());
    }
    if (retest->verdict() != v1::VERDICT_PASS) {
      return FailedPrecondition("release_hold.retest_event_id", "test ", rh.retest_event_id(),
                                " did not pass");
    }
    // A retest must come after the failure it answers: a pass from before the hold says
    // nothing about what the failing test found.
    uint64_t failed_at = 0;
    for (const v1::Hold& h : batch.holds()) {
      if (h.source_batch_id() == rh.batch_id()) failed_at = std::max(failed_at, h.test_seq());
    }
    if (retest->seq() <= failed_at) {
      return FailedPrecondition("release_hold.retest_event_id", "test ", rh.retest_event_id(),
                                " (seq ", retest->seq(), ") is not a retest after the failing test (seq ",
                                failed_at, ")");
    }
  }
  RemoveHoldsFrom(batch, rh.batch_id());
  HT_RETURN_IF_ERROR(ctx.SaveBatch(batch, batch.holder_party_id()));
  return ForEachDownstream(
      ctx.txn(), rh.batch_id(),
      [&](const std::string& batch_id, uint32_t depth) -> absl::StatusOr<bool> {
        if (depth == 0) return true;
        HT_ASSIGN_OR_RETURN(v1::BatchState lot, ctx.LoadBatch(batch_id, "release_hold.batch_id"));
        const int before = lot.holds_size();
        RemoveHoldsFrom(lot, rh.batch_id());
        if (lot.holds_size() != before) HT_RETURN_IF_ERROR(ctx.SaveBatchQuietly(lot));
        return true;
      });
}

absl::Status ApplyIssueRecall(RuleContext& ctx) {
  const v1::IssueRecall& rc = ctx.event().recall();
  HT_ASSIGN_OR_RETURN(v1::BatchState root, ctx.LoadBatch(rc.batch_id(), "recall.batch_id"));
  if (rc.reason().empty()) return InvalidArgument("recall.reason", "required");
  if (rc.severity() == v1::RECALL_SEVERITY_UNSPECIFIED ||
      !v1::RecallSeverity_IsValid(rc.severity())) {
    return InvalidArgument("recall.severity", "required");
  }
  if (!rc.quality_test_event_id().empty()) {
    HT_RETURN_IF_ERROR(ValidateEventId(rc.quality_test_event_id(), "recall.quality_test_event_id"));
  }
  if (rc.has_ack_deadline()) {
    HT_RETURN_IF_ERROR(ValidateTimestamp(rc.ack_deadline(), "recall.ack_deadline"));
  }
  const std::string& recall_id = ctx.event().event_id();
  v1::RecallView view;
  view.set_recall_id(recall_id);
  view.set_seq(ctx.seq());
  view.set_batch_id(rc.batch_id());
  view.set_herb_code(root.herb_code());
  view.set_regulator_party_id(ctx.actor().party_id());
  view.set_reason(rc.reason());
  view.set_severity(rc.severity());
  *view.mutable_issued_at() = ctx.event().occurred_at();
  if (rc.has_ack_deadline()) *view.mutable_ack_deadline() = rc.ack_deadline();

  // Holders in party id order; one entry per party holding lots that need an acknowledgement.
  std::map<std::string, v1::HolderAckStatus> holders;
  uint64_t grams_at_recall = 0;
  HT_RETURN_IF_ERROR(ForEachDownstream(
      ctx.txn(), rc.batch_id(),
      [&](const std::string& batch_id, uint32_t depth) -> absl::StatusOr<bool> {
        HT_ASSIGN_OR_RETURN(v1::BatchState lot, ctx.LoadBatch(batch_id, "recall.batch_id"));
        v1::RecallScopeLot scope;
        scope.set_batch_id(batch_id);
        scope.set_herb_code(lot.herb_code());
        scope.set_depth(depth);
        scope.set_holder_at_recall(lot.holder_party_id());
        scope.set_grams_at_recall(lot.remaining_grams());
        scope.set_ack_required(lot.remaining_grams() > 0);
        HT_RETURN_IF_ERROR(
            ctx.Put(storage::Cf::kRegistry, keys::RecallLot(recall_id, batch_id), scope));
        if (scope.ack_required()) {
          v1::HolderAckStatus& h = holders[lot.holder_party_id()];
          h.set_party_id(lot.holder_party_id());
          h.set_lots(h.lots() + 1);
          h.set_grams_at_recall(h.grams_at_recall() + lot.remaining_grams());
          if (!AddGrams(grams_at_recall, lot.remaining_grams())) {
            return absl::DataLossError("the recall's grams overflow");
          }
        }
        lot.add_recall_ids(recall_id);
        if (depth == 0) {
          HT_RETURN_IF_ERROR(ctx.SaveBatch(lot, lot.holder_party_id()));
        } else {
          HT_RETURN_IF_ERROR(ctx.SaveBatchQuietly(lot));
        }
        return true;
      }));
  for (auto& [party_id, h] : holders) {
    HT_ASSIGN_OR_RETURN(v1::Party party, ctx.LoadParty(party_id, "recall.batch_id"));
    h.set_name(party.name());
    h.set_region_code(party.region_code());
    *view.add_holders() = std::move(h);
  }
  view.set_grams_at_recall(grams_at_recall);
  view.set_status(holders.empty() ? v1::RECALL_STATUS_CLOSED : v1::RECALL_STATUS_OPEN);
  return ctx.Put(storage::Cf::kRegistry, keys::Recall(recall_id), view);
}

absl::Status ApplyRecallAck(RuleContext& ctx) {
  const v1::RecallAck& a = ctx.event().recall_ack();
  HT_RETURN_IF_ERROR(ValidateEventId(a.recall_id(), "recall_ack.recall_id"));
  HT_ASSIGN_OR_RETURN(std::optional<v1::RecallView> view,
                      ctx.Get<v1::RecallView>(storage::Cf::kRegistry, keys::Recall(a.recall_id())));
  if (!view.has_value()) return NotFound("recall_ack.recall_id", "no recall ", a.recall_id());
  HT_RETURN_IF_ERROR(ValidateBatchId(a.batch_id(), "recall_ack.batch_id"));
  const std::string lot_key = keys::RecallLot(a.recall_id(), a.batch_id());
  HT_ASSIGN_OR_RETURN(std::optional<v1::RecallScopeLot> scope,
                      ctx.Get<v1::RecallScopeLot>(storage::Cf::kRegistry, lot_key));
  if (!scope.has_value()) {
    return NotFound("recall_ack.batch_id", "batch ", a.batch_id(),
                    " is not in the scope of recall ", a.recall_id());
  }
  if (!scope->ack_required()) {
    return FailedPrecondition("recall_ack.batch_id", "batch ", a.batch_id(),
                              " was empty at the recall; there is nothing to acknowledge");
  }
  HT_ASSIGN_OR_RETURN(v1::BatchState lot, ctx.LoadBatch(a.batch_id(), "recall_ack.batch_id"));
  const std::string& actor = ctx.actor().party_id();
  if (lot.holder_party_id() != actor) {
    return PermissionDenied("recall_ack.batch_id", "batch ", a.batch_id(), " is held by party ",
                            lot.holder_party_id(), ", not by ", actor);
  }
  if (lot.has_in_transit()) {
    return FailedPrecondition("recall_ack.batch_id", "batch ", a.batch_id(),
                              " is in transit to party ", lot.in_transit().to_party_id(),
                              "; it acknowledges after receiving it");
  }
  if (lot.remaining_grams() == 0) {
    return FailedPrecondition("recall_ack.batch_id", "batch ", a.batch_id(), " has no grams left");
  }
  if (a.action() == v1::RECALL_ACTION_UNSPECIFIED || !v1::RecallAction_IsValid(a.action())) {
    return InvalidArgument("recall_ack.action", "required");
  }
  if ((a.action() == v1::RECALL_ACTION_RETURNED) == a.returned_to_party_id().empty()) {
    return InvalidArgument(
        "recall_ack.returned_to_party_id",
        a.action() == v1::RECALL_ACTION_RETURNED ? "required for RETURNED" : "only for RETURNED");
  }
  if (a.grams() == 0) return InvalidArgument("recall_ack.grams", "must be positive");
  if (a.action() == v1::RECALL_ACTION_DESTROYED) {
    if (a.grams() > lot.remaining_grams()) {
      return FailedPrecondition("recall_ack.grams", a.grams(), " g exceeds the ",
                                lot.remaining_grams(), " g left in batch ", a.batch_id());
    }
  } else if (a.grams() != lot.remaining_grams()) {
    return FailedPrecondition("recall_ack.grams", a.grams(), " g, but batch ", a.batch_id(),
                              " has ", lot.remaining_grams(), " g left; ",
                              v1::RecallAction_Name(a.action()), " covers the whole lot");
  }

  // Grams of this lot acknowledged before this ack: all of them once acknowledged, else what
  // earlier partial destructions covered.
  uint64_t destroyed_before = 0;
  HT_RETURN_IF_ERROR(ctx.txn().ForEachWithPrefix(
      storage::Cf::kRegistry, keys::RecallAckLotPrefix(a.recall_id(), a.batch_id()),
      [&](absl::string_view, absl::string_view value) {
        v1::RecallAckRecord record;
        if (record.ParseFromString(std::string(value)) &&
            record.action() == v1::RECALL_ACTION_DESTROYED) {
          AddGrams(destroyed_before, record.grams());
        }
        return true;
      }));
  const uint64_t at_recall = scope->grams_at_recall();
  const uint64_t acked_before =
      scope->acknowledged() ? at_recall : std::min(at_recall, destroyed_before);

  switch (a.action()) {
    case v1::RECALL_ACTION_DESTROYED:
      lot.set_remaining_grams(lot.remaining_grams() - a.grams());
      if (lot.remaining_grams() == 0) lot.set_status(v1::BATCH_STATUS_DESTROYED);
      HT_RETURN_IF_ERROR(ctx.SaveBatch(lot, actor));
      break;
    case v1::RECALL_ACTION_RETURNED: {
      HT_RETURN_IF_ERROR(
          CheckRecipient(ctx, a.returned_to_party_id(), actor, "recall_ack.returned_to_party_id"));
      std::vector<v1::BatchState> lots;
      lots.push_back(std::move(lot));
      HT_RETURN_IF_ERROR(StartTransfer(ctx, v1::TRANSFER_KIND_RECALL_RETURN, actor,
                                       a.returned_to_party_id(), lots, "recall_ack.grams"));
      lot = std::move(lots[0]);
      // The recall stays open until the return is received.
      for (const std::string& recall_id : lot.recall_ids()) {
        HT_RETURN_IF_ERROR(ctx.PutRaw(storage::Cf::kRegistry,
                                      keys::RecallReturn(recall_id, a.batch_id()),
                                      ctx.event().event_id()));
      }
      break;
    }
    default:  // QUARANTINED: isolated in place, stays RECALLED.
      HT_RETURN_IF_ERROR(ctx.SaveBatch(lot, actor));
      break;
  }

  v1::RecallAckRecord record;
  record.set_event_id(ctx.event().event_id());
  record.set_seq(ctx.seq());
  record.set_party_id(actor);
  record.set_action(a.action());
  record.set_grams(a.grams());
  record.set_returned_to_party_id(a.returned_to_party_id());
  *record.mutable_occurred_at() = ctx.event().occurred_at();
  HT_RETURN_IF_ERROR(ctx.Put(storage::Cf::kRegistry,
                             keys::RecallAck(a.recall_id(), a.batch_id(), ctx.seq()), record));

  const bool covers_all = a.action() != v1::RECALL_ACTION_DESTROYED || lot.remaining_grams() == 0;
  const bool newly_acknowledged = covers_all && !scope->acknowledged();
  if (covers_all) scope->set_acknowledged(true);
  uint64_t acked_after = scope->acknowledged() ? at_recall : destroyed_before;
  if (!scope->acknowledged()) AddGrams(acked_after, a.grams());
  acked_after = std::min(at_recall, acked_after);
  const uint64_t delta = acked_after - acked_before;
  // `scope` was read before the lot was saved: it takes the lot as saved.
  SetLotNow(lot, *scope);
  HT_RETURN_IF_ERROR(ctx.Put(storage::Cf::kRegistry, lot_key, *scope));

  view->set_grams_acknowledged(view->grams_acknowledged() + delta);
  if (v1::HolderAckStatus* h = FindHolder(*view, scope->holder_at_recall()); h != nullptr) {
    h->set_grams_acknowledged(h->grams_acknowledged() + delta);
    if (newly_acknowledged) h->set_lots_acknowledged(h->lots_acknowledged() + 1);
  }
  HT_RETURN_IF_ERROR(ctx.Put(storage::Cf::kRegistry, keys::Recall(a.recall_id()), *view));
  return UpdateRecallStatus(ctx, a.recall_id());
}

absl::Status UpdateRecallStatus(RuleContext& ctx, absl::string_view recall_id) {
  HT_ASSIGN_OR_RETURN(std::optional<v1::RecallView> view,
                      ctx.Get<v1::RecallView>(storage::Cf::kRegistry, keys::Recall(recall_id)));
  if (!view.has_value()) {
    return absl::DataLossError(absl::StrCat("recall ", recall_id, " is named but not stored"));
  }
  bool all_acknowledged = true;
  for (const v1::HolderAckStatus& h : view->holders()) {
    all_acknowledged &= h.lots_acknowledged() >= h.lots();
  }
  bool return_pending = false;
  HT_RETURN_IF_ERROR(ctx.txn().ForEachWithPrefix(storage::Cf::kRegistry,
                                                 keys::RecallReturnPrefix(recall_id),
                                                 [&](absl::string_view, absl::string_view) {
                                                   return_pending = true;
                                                   return false;
                                                 }));
  const v1::RecallStatus status =
      all_acknowledged && !return_pending ? v1::RECALL_STATUS_CLOSED : v1::RECALL_STATUS_OPEN;
  if (status == view->status()) return absl::OkStatus();
  view->set_status(status);
  return ctx.Put(storage::Cf::kRegistry, keys::Recall(recall_id), *view);
}

}  // namespace herbtrace::domain::internal
