// The path every event command ends in: header, --extra, seal (serialize once, sign), then
// submit, queue or print.
#include <google/protobuf/text_format.h>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "services/cli/commands.h"
#include "services/cli/event_builder.h"
#include "services/cli/flags.h"
#include "services/cli/offline_queue.h"
#include "services/domain/identifiers.h"

namespace herbtrace::cli {
namespace {

absl::StatusOr<absl::Time> OccurredAt() {
  const std::string at = absl::GetFlag(FLAGS_at);
  if (at.empty()) return absl::Now();
  return ParseTimeFlag(at, "at");
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ExpectedHeads() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& spec : absl::GetFlag(FLAGS_expect_head)) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) {
      return UsageError(absl::StrCat("--expect_head: \"", spec, "\" is not BATCH=HEX"));
    }
    const std::string hex = spec.substr(eq + 1);
    std::string bytes = absl::HexStringToBytes(hex);
    if (!hex.empty() &&
        (hex.size() != 64 || absl::BytesToHexString(bytes) != absl::AsciiStrToLower(hex))) {
      return UsageError(absl::StrCat("--expect_head: \"", hex, "\" is not 64 hex digits"));
    }
    out.emplace_back(spec.substr(0, eq), std::move(bytes));
  }
  return out;
}

void PrintRejected(Context& ctx, const BuiltEvent& built, const absl::Status& status) {
  if (!ctx.json()) return;
  PrintJson(ctx.out(), {{"result", "rejected"},
                        {"kind", EventKindName(built.event)},
                        {"event_id", built.event.event_id()},
                        {"code", absl::StatusCodeToString(status.code())},
                        {"message", std::string(status.message())}});
}

}  // namespace

std::string SubmitErrorText(const v1::SubmitError& error) {
  if (error.field().empty() ||
      absl::StartsWith(error.message(), absl::StrCat(error.field(), ":"))) {
    return error.message();
  }
  return absl::StrCat(error.field(), ": ", error.message());
}

absl::StatusOr<v1::Event> EventFromFlags(Context& ctx) {
  auto party = ctx.party();
  if (!party.ok()) return party.status();
  auto at = OccurredAt();
  if (!at.ok()) return at.status();
  auto heads = ExpectedHeads();
  if (!heads.ok()) return heads.status();
  EventHeader header;
  header.event_id = absl::GetFlag(FLAGS_event_id);
  if (header.event_id.empty()) {
    auto id = NewEventId(absl::Now());
    if (!id.ok()) return id.status();
    header.event_id = *std::move(id);
  } else if (auto s = domain::ValidateEventId(header.event_id, "--event_id"); !s.ok()) {
    return AsUsage(s);
  }
  header.occurred_at = *at;
  header.party_id = *std::move(party);
  header.log_origin = absl::GetFlag(FLAGS_origin);
  header.expected_heads = *std::move(heads);
  return NewEvent(header);
}

absl::StatusOr<std::string> RequiredFlag(const absl::Flag<std::string>& flag,
                                         absl::string_view name, absl::string_view command) {
  std::string value = absl::GetFlag(flag);
  if (value.empty()) return UsageError(absl::StrCat(command, ": --", name, " is required"));
  return value;
}

absl::StatusOr<absl::Time> ParseTimeFlag(absl::string_view text, absl::string_view flag) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return UsageError(absl::StrCat("--", flag, ": \"", text, "\" is not RFC 3339 (", error, ")"));
  }
  return t;
}

absl::StatusOr<uint64_t> RemainingGrams(Context& ctx, const std::string& batch_id) {
  auto client = ctx.client();
  if (!client.ok()) return client.status();
  v1::GetBatchRequest request;
  request.set_code(batch_id);
  v1::BatchState state;
  auto context = (*client)->NewContext();
  if (auto s = FromGrpc((*client)->trace().GetBatch(context.get(), request, &state),
                        "Trace.GetBatch", (*client)->target());
      !s.ok()) {
    return s;
  }
  return state.remaining_grams();
}

absl::Status SendEvent(Context& ctx, v1::Event event, std::vector<std::string> new_batches,
                       std::vector<v1::Opening> openings) {
  BuiltEvent built;
  built.event = std::move(event);
  built.new_batches = std::move(new_batches);
  built.openings = std::move(openings);
  return SignAndSend(ctx, std::move(built));
}

absl::Status SignAndSend(Context& ctx, BuiltEvent built) {
  if (const std::string extra = absl::GetFlag(FLAGS_extra); !extra.empty()) {
    if (auto s = MergeEventText(extra, built.event); !s.ok()) return AsUsage(s);
  }
  if (absl::GetFlag(FLAGS_dry_run)) {
    if (ctx.json()) {
      nlohmann::json openings = nlohmann::json::array();
      for (const v1::Opening& o : built.openings) openings.push_back(ProtoToJson(o));
      PrintJson(
          ctx.out(),
          {{"result", "dry_run"}, {"event", ProtoToJson(built.event)}, {"openings", openings}});
    } else {
      google::protobuf::TextFormat::Printer printer;
      printer.SetUseUtf8StringEscaping(true);
      std::string text;
      printer.PrintToString(built.event, &text);
      ctx.out() << "# dry run: " << EventKindName(built.event) << " event, not signed or sent\n"
                << text;
      for (const v1::Opening& o : built.openings) {
        ctx.out() << "# opening " << o.field_path() << " (sent beside the signed bytes)\n";
      }
    }
    return absl::OkStatus();
  }
  auto key = ctx.key();
  if (!key.ok()) return key.status();
  auto request = SealEvent(built.event, **key, std::move(built.openings));
  if (!request.ok()) return request.status();
  const std::string kind = EventKindName(built.event);

  if (ctx.offline()) {
    const std::string path = absl::GetFlag(FLAGS_queue);
    auto count = AppendToQueue(path, *request);
    if (!count.ok()) return count.status();
    if (ctx.json()) {
      PrintJson(ctx.out(), {{"result", "queued"},
                            {"kind", kind},
                            {"event_id", built.event.event_id()},
                            {"queue", path},
                            {"queued_events", *count},
                            {"new_batches", built.new_batches}});
    } else {
      ctx.out() << "queued    " << kind << " event " << built.event.event_id() << "\n";
      std::vector<std::pair<std::string, std::string>> fields = {
          {"queue", absl::StrCat(path, " (", *count, " events)")}};
      for (const std::string& b : built.new_batches) fields.emplace_back("new batch", b);
      PrintFields(ctx.out(), fields);
      ctx.out() << "upload with: herbctl upload --queue " << path << "\n";
    }
    return absl::OkStatus();
  }

  auto client = ctx.client();
  if (!client.ok()) return client.status();
  v1::SubmitResponse response;
  auto context = (*client)->NewContext();
  const grpc::Status status = (*client)->capture().Submit(context.get(), *request, &response);
  if (!status.ok()) {
    const auto code = static_cast<absl::StatusCode>(status.error_code());
    if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded) {
      const absl::Status transport = FromGrpc(status, "Capture.Submit", (*client)->target());
      return absl::Status(
          code, absl::StrCat(transport.message(), "; nothing is lost: retry with --event_id ",
                             built.event.event_id(), ", or queue it with --queue"));
    }
    const absl::Status rejected(code, status.error_message());
    PrintRejected(ctx, built, rejected);
    return absl::Status(code, absl::StrCat("rejected (", absl::StatusCodeToString(code),
                                           "): ", status.error_message()));
  }
  if (response.has_error()) {
    const auto code = static_cast<absl::StatusCode>(response.error().code());
    const std::string message = SubmitErrorText(response.error());
    PrintRejected(ctx, built, absl::Status(code, message));
    return absl::Status(code == absl::StatusCode::kOk ? absl::StatusCode::kUnknown : code,
                        absl::StrCat("rejected (", absl::StatusCodeToString(code), "): ", message));
  }
  const v1::Receipt& receipt = response.receipt();
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"result", "accepted"},
                          {"kind", kind},
                          {"event_id", receipt.event_id()},
                          {"seq", receipt.seq()},
                          {"tree_size", receipt.tree_size()},
                          {"leaf_hash", absl::BytesToHexString(receipt.leaf_hash())},
                          {"root_hash", absl::BytesToHexString(receipt.root_hash())},
                          {"received_at_unix_micros", receipt.received_at_unix_micros()},
                          {"new_batches", built.new_batches}});
    return absl::OkStatus();
  }
  ctx.out() << "accepted  " << kind << " event " << receipt.event_id() << "\n";
  std::vector<std::pair<std::string, std::string>> fields = {
      {"seq", absl::StrCat(receipt.seq())},
      {"tree size", absl::StrCat(receipt.tree_size())},
      {"leaf hash", absl::BytesToHexString(receipt.leaf_hash())},
  };
  for (const std::string& b : built.new_batches) fields.emplace_back("new batch", b);
  PrintFields(ctx.out(), fields);
  return absl::OkStatus();
}

}  // namespace herbtrace::cli
