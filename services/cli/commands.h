// herbctl's commands and what they share. Each command is a function of the Context returning a
// status; main maps it to the exit code: OK 0, a usage error 2, anything else (a rejection, a
// failed verification, an unreachable server) 1.
#ifndef HERBTRACE_SERVICES_CLI_COMMANDS_H_
#define HERBTRACE_SERVICES_CLI_COMMANDS_H_

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/flags/declare.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "herbtrace/v1/capture.pb.h"
#include "herbtrace/v1/event.pb.h"
#include "services/cli/client.h"
#include "services/cli/output.h"

namespace herbtrace::cli {

// A status that means "the command line is wrong" (exit code 2).
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);
// A usage error if `status` is an InvalidArgument about the command line, else `status`.
absl::Status AsUsage(absl::Status status);

// The global flags, the positional arguments, and what commands create lazily and share.
class Context {
 public:
  // args[0] is the command name.
  Context(std::vector<std::string> args, std::ostream& out) : args_(std::move(args)), out_(out) {}

  const std::vector<std::string>& args() const { return args_; }
  // args[i], or a usage error naming `what` when absent.
  absl::StatusOr<std::string> Arg(size_t i, absl::string_view what) const;
  std::ostream& out() { return out_; }
  bool json() const;
  // --queue set: event commands append to it instead of submitting.
  bool offline() const;

  absl::StatusOr<Client*> client();
  // The signer's key (--key). Usage error if --key is not set.
  absl::StatusOr<const crypto::PrivateKey*> key();
  // The log's tree hash (--hash).
  absl::StatusOr<const crypto::Hasher*> hasher();
  // --party, required.
  absl::StatusOr<std::string> party() const;
  // Herb names, from the server unless offline.
  HerbNames& herbs();

 private:
  std::vector<std::string> args_;
  std::ostream& out_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<crypto::PrivateKey> key_;
  std::unique_ptr<crypto::Hasher> hasher_;
  std::unique_ptr<HerbNames> herbs_;
};

// Event commands share this: header from the global flags (event id, --at, --party, --origin,
// --expect_head), then `build` fills the kind and any openings, then --extra is merged, then the
// event is serialized once, signed and submitted (or queued, or printed with --dry_run), and the
// receipt printed.
struct BuiltEvent {
  v1::Event event;
  std::vector<v1::Opening> openings;
  // Batches the event creates, printed with the receipt.
  std::vector<std::string> new_batches;
};
absl::StatusOr<v1::Event> EventFromFlags(Context& ctx);
// "<field>: <message>" of a rejection (without repeating a field the message already names).
std::string SubmitErrorText(const v1::SubmitError& error);
absl::Status SignAndSend(Context& ctx, BuiltEvent built);
// SignAndSend of a BuiltEvent made of these.
absl::Status SendEvent(Context& ctx, v1::Event event, std::vector<std::string> new_batches = {},
                       std::vector<v1::Opening> openings = {});

// The value of --`name`; a usage error "<command>: --<name> is required" when it is empty.
absl::StatusOr<std::string> RequiredFlag(const absl::Flag<std::string>& flag,
                                         absl::string_view name, absl::string_view command);
// RFC 3339 text given to --`flag`; a usage error naming the flag otherwise.
absl::StatusOr<absl::Time> ParseTimeFlag(absl::string_view text, absl::string_view flag);
// What is left of `batch_id` now, asked from Trace.GetBatch (online only).
absl::StatusOr<uint64_t> RemainingGrams(Context& ctx, const std::string& batch_id);

// keys.cc
absl::Status RunKeygen(Context& ctx);
absl::Status RunKeyProof(Context& ctx);
// register.cc
absl::Status RunRegister(Context& ctx);
absl::Status RunRevokeKey(Context& ctx);
absl::Status RunCatalog(Context& ctx);
absl::Status RunLimits(Context& ctx);
// custody.cc
absl::Status RunHarvest(Context& ctx);
absl::Status RunProcess(Context& ctx);
absl::Status RunSplit(Context& ctx);
absl::Status RunMerge(Context& ctx);
absl::Status RunShip(Context& ctx);
absl::Status RunReceive(Context& ctx);
absl::Status RunStore(Context& ctx);
absl::Status RunTrade(Context& ctx);
absl::Status RunDispense(Context& ctx);
// quality.cc
absl::Status RunTest(Context& ctx);
absl::Status RunRecall(Context& ctx);  // issue, or show / list / export
absl::Status RunAck(Context& ctx);
absl::Status RunRelease(Context& ctx);
// upload.cc
absl::Status RunUpload(Context& ctx);
// queries.cc
absl::Status RunBatch(Context& ctx);
absl::Status RunHistory(Context& ctx);
absl::Status RunTrace(Context& ctx);
absl::Status RunCheckpoint(Context& ctx);
absl::Status RunPrice(Context& ctx);
absl::Status RunRecallShow(Context& ctx);
absl::Status RunRecallList(Context& ctx);
absl::Status RunRecallExport(Context& ctx);
// verify.cc
absl::Status RunVerify(Context& ctx);
// audit.cc
absl::Status RunAudit(Context& ctx);
// health.cc
absl::Status RunHealth(Context& ctx);

}  // namespace herbtrace::cli

#endif  // HERBTRACE_SERVICES_CLI_COMMANDS_H_
