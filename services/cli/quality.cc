// test, recall, ack, release: the quality and recall kinds of event.proto.
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "crypto/hash.h"
#include "services/cli/commands.h"
#include "services/cli/event_builder.h"
#include "services/cli/flags.h"
#include "services/cli/units.h"
#include "services/domain/file_io.h"
#include "services/domain/identifiers.h"

namespace herbtrace::cli {
namespace {

absl::StatusOr<std::string> BatchFlag(absl::string_view command) {
  auto code = RequiredFlag(FLAGS_batch, "batch", command);
  if (!code.ok()) return code.status();
  auto batch = domain::BatchIdOfTraceCode(*code, "--batch");
  if (!batch.ok()) return AsUsage(batch.status());
  return batch;
}

absl::StatusOr<google::protobuf::Timestamp> TimestampFlag(const std::string& text,
                                                          absl::string_view flag) {
  auto t = ParseTimeFlag(text, flag);
  if (!t.ok()) return t.status();
  google::protobuf::Timestamp out;
  out.set_seconds(absl::ToUnixSeconds(*t));
  out.set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(*t - absl::FromUnixSeconds(out.seconds()))));
  return out;
}

}  // namespace

absl::Status RunTest(Context& ctx) {
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  auto batch = BatchFlag("test");
  if (!batch.ok()) return batch.status();
  auto limits = RequiredFlag(FLAGS_limits_version, "limits_version", "test");
  if (!limits.ok()) return limits.status();
  const std::vector<std::string> results = absl::GetFlag(FLAGS_results);
  if (results.empty()) {
    return UsageError(
        "test: --results ANALYTE=VALUE,… is required (e.g. pb=0.8mg/kg,so2=212mg/kg)");
  }
  v1::QualityTest* test = event->mutable_quality_test();
  test->set_batch_id(*batch);
  test->set_sample_id(absl::GetFlag(FLAGS_sample));
  if (const std::string at = absl::GetFlag(FLAGS_sampled_at); !at.empty()) {
    auto ts = TimestampFlag(at, "sampled_at");
    if (!ts.ok()) return ts.status();
    *test->mutable_sampled_at() = *ts;
  } else {
    *test->mutable_sampled_at() = event->occurred_at();
  }
  if (const std::string grams = absl::GetFlag(FLAGS_sample_grams); !grams.empty()) {
    auto g = ParseGrams(grams, "--sample_grams");
    if (!g.ok()) return AsUsage(g.status());
    test->set_sample_grams(*g);
  }
  auto purpose = ParseEnum<v1::TestPurpose>(absl::GetFlag(FLAGS_purpose), "purpose");
  if (!purpose.ok()) return AsUsage(purpose.status());
  test->set_purpose(*purpose);
  test->set_limits_version(*limits);
  auto use = ParseEnum<v1::ProductUse>(absl::GetFlag(FLAGS_use), "use");
  if (!use.ok()) return AsUsage(use.status());
  test->set_use(*use);
  const std::string method = absl::GetFlag(FLAGS_method);
  for (const std::string& spec : results) {
    auto result = ParseAnalyteResult(spec, "--results");
    if (!result.ok()) return AsUsage(result.status());
    result->set_method(method);
    *test->add_results() = *std::move(result);
  }
  test->set_report_no(absl::GetFlag(FLAGS_report_no));
  if (const std::string path = absl::GetFlag(FLAGS_report_file); !path.empty()) {
    auto report = domain::ReadFileToString(path);
    if (!report.ok()) return UsageError(absl::StrCat("--report_file: ", report.status().message()));
    auto sha256 = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    if (!sha256.ok()) return sha256.status();
    test->set_report_sha256(std::string(crypto::AsBytes((*sha256)->Hash(*report))));
  }
  return SendEvent(ctx, *std::move(event));
}

absl::Status RunRecall(Context& ctx) {
  if (ctx.args().size() > 1) {
    const std::string& sub = ctx.args()[1];
    if (sub == "show") return RunRecallShow(ctx);
    if (sub == "list") return RunRecallList(ctx);
    if (sub == "export") return RunRecallExport(ctx);
    return UsageError(
        absl::StrCat("recall: \"", sub, "\": use show ID, list, export ID, or flags to issue one"));
  }
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  auto batch = BatchFlag("recall");
  if (!batch.ok()) return batch.status();
  auto reason = RequiredFlag(FLAGS_reason, "reason", "recall");
  if (!reason.ok()) return reason.status();
  v1::IssueRecall* recall = event->mutable_recall();
  recall->set_batch_id(*batch);
  recall->set_reason(*reason);
  std::string severity = absl::AsciiStrToLower(absl::GetFlag(FLAGS_severity));
  if (severity == "1" || severity == "i") severity = "class_i";
  if (severity == "2" || severity == "ii") severity = "class_ii";
  if (severity == "3" || severity == "iii") severity = "class_iii";
  auto parsed = ParseEnum<v1::RecallSeverity>(severity, "severity");
  if (!parsed.ok()) return AsUsage(parsed.status());
  recall->set_severity(*parsed);
  if (const std::string by = absl::GetFlag(FLAGS_ack_by); !by.empty()) {
    int days = 0;
    if (absl::EndsWith(by, "d") && absl::SimpleAtoi(by.substr(0, by.size() - 1), &days) &&
        days > 0) {
      recall->mutable_ack_deadline()->set_seconds(event->occurred_at().seconds() +
                                                  int64_t{days} * 86400);
    } else {
      auto ts = TimestampFlag(by, "ack_by");
      if (!ts.ok()) return ts.status();
      *recall->mutable_ack_deadline() = *ts;
    }
  }
  recall->set_quality_test_event_id(absl::GetFlag(FLAGS_test_event));
  return SendEvent(ctx, *std::move(event));
}

absl::Status RunAck(Context& ctx) {
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  auto recall_id = RequiredFlag(FLAGS_recall_id, "recall_id", "ack");
  if (!recall_id.ok()) return recall_id.status();
  auto batch = BatchFlag("ack");
  if (!batch.ok()) return batch.status();
  auto action = ParseEnum<v1::RecallAction>(absl::GetFlag(FLAGS_action), "action");
  if (!action.ok()) return AsUsage(action.status());
  v1::RecallAck* ack = event->mutable_recall_ack();
  ack->set_recall_id(*recall_id);
  ack->set_batch_id(*batch);
  ack->set_action(*action);
  if (const std::string grams = absl::GetFlag(FLAGS_grams); !grams.empty()) {
    auto g = ParseGrams(grams, "--grams");
    if (!g.ok()) return AsUsage(g.status());
    ack->set_grams(*g);
  } else if (ctx.offline()) {
    return UsageError("ack: offline, --grams is required");
  } else {
    // Quarantine and return cover the whole lot: what is left of it now.
    auto remaining = RemainingGrams(ctx, *batch);
    if (!remaining.ok()) return remaining.status();
    ack->set_grams(*remaining);
  }
  ack->set_returned_to_party_id(absl::GetFlag(FLAGS_return_to));
  if (*action == v1::RECALL_ACTION_RETURNED && ack->returned_to_party_id().empty()) {
    return UsageError("ack: --action returned needs --return_to PARTY");
  }
  ack->set_note(absl::GetFlag(FLAGS_note));
  return SendEvent(ctx, *std::move(event));
}

absl::Status RunRelease(Context& ctx) {
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  auto batch = BatchFlag("release");
  if (!batch.ok()) return batch.status();
  auto reason = RequiredFlag(FLAGS_reason, "reason", "release");
  if (!reason.ok()) return reason.status();
  v1::ReleaseHold* release = event->mutable_release_hold();
  release->set_batch_id(*batch);
  release->set_reason(*reason);
  release->set_retest_event_id(absl::GetFlag(FLAGS_retest_event));
  return SendEvent(ctx, *std::move(event));
}

}  // namespace herbtrace::cli
