// audit: asks the server to re-check its whole log (Ledger.Audit) — for regulators and the
// market operator. With --signatures the server also checks who signed every entry. A log that
// fails is a failed command (exit 1) naming the first entry that breaks.
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/cli/commands.h"
#include "services/cli/flags.h"

namespace herbtrace::cli {

absl::Status RunAudit(Context& ctx) {
  if (ctx.args().size() > 1) {
    return UsageError(absl::StrCat("audit: unexpected argument \"", ctx.args()[1], "\""));
  }
  auto client = ctx.client();
  if (!client.ok()) return client.status();
  v1::AuditRequest request;
  request.set_verify_signatures(absl::GetFlag(FLAGS_signatures));
  v1::AuditReport report;
  auto context = (*client)->NewContext();
  if (auto s = FromGrpc((*client)->ledger().Audit(context.get(), request, &report), "Ledger.Audit",
                        (*client)->target());
      !s.ok()) {
    return s;
  }

  if (ctx.json()) {
    PrintJson(ctx.out(), ProtoToJson(report));
  } else {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"entries checked", absl::StrCat(report.entries_checked())},
        {"tree size", absl::StrCat(report.tree_size())},
        {"root", report.root_hash().empty() ? "-" : absl::BytesToHexString(report.root_hash())},
        {"checkpoint", report.has_checkpoint()
                           ? absl::StrCat("size ", report.checkpoint().size(), ", root matches")
                           : "none of this size (internal consistency only)"}};
    if (report.signatures_checked()) {
      fields.emplace_back(
          "signatures", absl::StrCat(report.signatures_verified(), " verified (",
                                     report.bundled_entries(), " entries in bundles), ",
                                     report.keys_registered(), " keys registered, ",
                                     report.keys_revoked(), " revoked"));
    } else {
      fields.emplace_back("signatures", request.verify_signatures()
                                            ? "not checked (the storage audit failed first)"
                                            : "not checked (give --signatures)");
    }
    fields.emplace_back("result", report.ok() ? "ok" : "FAILED");
    PrintFields(ctx.out(), fields);
  }
  if (!report.ok()) {
    return absl::DataLossError(absl::StrCat("the log fails the audit at seq ",
                                            report.first_failure().seq(), ": ",
                                            report.first_failure().reason()));
  }
  return absl::OkStatus();
}

}  // namespace herbtrace::cli
