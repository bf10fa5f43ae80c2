// upload: an offline queue submitted as ONE signed bundle (capture.proto, SubmitBundle).
#include <cstdio>
#include <filesystem>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/cli/bundle.h"
#include "services/cli/commands.h"
#include "services/cli/event_builder.h"
#include "services/cli/flags.h"
#include "services/cli/offline_queue.h"

namespace herbtrace::cli {

absl::Status RunUpload(Context& ctx) {
  std::string path = absl::GetFlag(FLAGS_queue);
  if (path.empty() && ctx.args().size() > 1) path = ctx.args()[1];
  if (path.empty()) return UsageError("upload: --queue FILE names the queue to submit");
  auto queued = ReadQueue(path);
  if (!queued.ok()) return queued.status();
  auto key = ctx.key();
  if (!key.ok()) return key.status();
  auto hasher = ctx.hasher();
  if (!hasher.ok()) return hasher.status();
  auto request = BuildBundle(*queued, **key, **hasher, absl::GetFlag(FLAGS_origin));
  if (!request.ok()) return request.status();

  auto client = ctx.client();
  if (!client.ok()) return client.status();
  v1::SubmitBundleResponse response;
  auto context = (*client)->NewContext();
  const grpc::Status status = (*client)->capture().SubmitBundle(context.get(), *request, &response);
  if (!status.ok()) {
    const absl::Status s = FromGrpc(status, "Capture.SubmitBundle", (*client)->target());
    if (s.code() == absl::StatusCode::kUnavailable ||
        s.code() == absl::StatusCode::kDeadlineExceeded) {
      return absl::Status(s.code(), absl::StrCat(s.message(), "; the queue is kept: upload again"));
    }
    return absl::Status(s.code(),
                        absl::StrCat("bundle rejected (", absl::StatusCodeToString(s.code()),
                                     "): ", status.error_message()));
  }

  std::vector<std::string> payloads;
  for (const v1::BundledEvent& e : request->events()) payloads.push_back(e.payload());
  const crypto::Digest root = BundleRoot(**hasher, payloads);
  const bool root_matches = response.bundle_root() == crypto::AsBytes(root);

  size_t accepted = 0;
  nlohmann::json results = nlohmann::json::array();
  Table table({"#", "event id", "kind", "result", "seq", "detail"});
  for (size_t i = 0; i < payloads.size(); ++i) {
    v1::Event event;
    event.ParseFromString(payloads[i]);
    const v1::SubmitResponse* result = nullptr;
    for (const v1::SubmitResponse& r : response.results()) {
      if (r.index() == i) result = &r;
    }
    nlohmann::json row = {
        {"index", i}, {"event_id", event.event_id()}, {"kind", EventKindName(event)}};
    if (result != nullptr && result->has_receipt()) {
      ++accepted;
      row["result"] = "accepted";
      row["seq"] = result->receipt().seq();
      row["leaf_hash"] = absl::BytesToHexString(result->receipt().leaf_hash());
      table.AddRow({absl::StrCat(i), event.event_id(), EventKindName(event), "accepted",
                    absl::StrCat(result->receipt().seq()),
                    ShortHexOf(result->receipt().leaf_hash())});
    } else {
      const std::string code =
          result == nullptr
              ? "MISSING"
              : absl::StatusCodeToString(static_cast<absl::StatusCode>(result->error().code()));
      std::string detail = result == nullptr ? "no result returned for this event" : "";
      if (result != nullptr) {
        detail = SubmitErrorText(result->error());
      }
      row["result"] = "rejected";
      row["code"] = code;
      row["message"] = detail;
      table.AddRow({absl::StrCat(i), event.event_id(), EventKindName(event),
                    absl::StrCat("rejected ", code), "", detail});
    }
    results.push_back(std::move(row));
  }
  const size_t rejected = payloads.size() - accepted;
  std::string kept = path;
  if (rejected == 0 && !absl::EndsWith(path, ".uploaded")) {
    // Everything is in the log; resubmitting would only return the same receipts.
    const std::string done = path + ".uploaded";
    std::error_code ec;
    std::filesystem::rename(path, done, ec);
    if (!ec) kept = done;
  }
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"bundle_root", absl::BytesToHexString(response.bundle_root())},
                          {"bundle_root_matches", root_matches},
                          {"events", payloads.size()},
                          {"accepted", accepted},
                          {"rejected", rejected},
                          {"queue", kept},
                          {"results", results}});
  } else {
    table.Print(ctx.out());
    ctx.out() << "bundle of " << payloads.size() << " events, root "
              << ShortHexOf(response.bundle_root()) << (root_matches ? "" : " (differs from ours!)")
              << ": " << accepted << " accepted, " << rejected << " rejected\n";
    ctx.out() << (rejected == 0 ? "queue moved to " : "queue kept in ") << kept << "\n";
  }
  if (!root_matches) {
    return absl::DataLossError(absl::StrCat(
        "the server computed bundle root ", ShortHexOf(response.bundle_root()), ", not ours (",
        ShortHexOf(crypto::AsBytes(root)), "): is --hash the log's hash?"));
  }
  if (rejected > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(rejected, " of ", payloads.size(), " events rejected"));
  }
  return absl::OkStatus();
}

}  // namespace herbtrace::cli
