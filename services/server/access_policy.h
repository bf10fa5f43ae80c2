// Who may call what: one rule per RPC of every HerbTrace service, in one table
// (access_policy.cc), checked by every RPC before it reads or writes anything.
//
// A rule has two parts. Its audience is checked first, from the caller alone (AccessControl::
// Admit): any registered party, oversight (regulators and the market operator), or regulators.
// Some rules then narrow by what the request names, checked by the service with the helpers
// below: the signer of a submitted event must be the calling party; the downstream closure of a
// batch is for oversight and the parties that hold or held it; a trade's price for its two
// parties and regulators; a recall for oversight, and for a holder only its own lots.
//
// The host's administrative console (caller.h) passes every rule. Denials are
// PERMISSION_DENIED, the message naming the field or party and the role the rule requires.
//
// Thread-safe.
#ifndef HERBTRACE_SERVICES_SERVER_ACCESS_POLICY_H_
#define HERBTRACE_SERVICES_SERVER_ACCESS_POLICY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "grpcpp/grpcpp.h"
#include "services/server/caller.h"

namespace herbtrace::server {

enum class Rpc {
  kCaptureSubmit,
  kCaptureSubmitStream,
  kCaptureSubmitBundle,
  kRegistryGetParty,
  kRegistryListParties,
  kRegistryGetKey,
  kRegistryGetBase,
  kRegistryListBases,
  kRegistryGetHerb,
  kRegistryListHerbs,
  kLedgerGetCheckpoint,
  kLedgerGetInclusionProof,
  kLedgerGetConsistencyProof,
  kLedgerGetEntries,
  kLedgerAddCosignature,
  kLedgerAudit,
  kTraceGetBatch,
  kTraceGetHistory,
  kTraceGetUpstream,
  kTraceGetDownstream,
  kTraceGetTradeTerms,
  kRecallGetRecall,
  kRecallListRecalls,
  kRecallExportRecallCsv,
};

enum class Audience {
  kAnyParty,   // every registered, active party
  kOversight,  // regulators and the market operator
  kRegulator,  // regulators
};

struct AccessRule {
  Rpc rpc;
  absl::string_view method;  // "/herbtrace.v1.Trace/GetDownstream", as gRPC names it
  Audience audience;
  // What the service checks beyond the audience, in words (empty: nothing).
  absl::string_view narrowed_by;
};

// The table, in the order of Rpc.
absl::Span<const AccessRule> AccessRules();
const AccessRule& RuleOf(Rpc rpc);

// "regulator or market operator", for messages.
absl::string_view AudienceWords(Audience audience);

// Regulators, the market operator and the host's console see every batch, recall and entry.
bool HasOversight(const Caller& caller);
// Regulators and the host's console read every price.
bool ReadsEveryPrice(const Caller& caller);

// PERMISSION_DENIED unless the console or `signer_party_id` is the calling party:
// "<field>: signed by party S, but the caller is party C; ...".
absl::Status CheckSigner(const Caller& caller, absl::string_view signer_party_id,
                         absl::string_view field);

// PERMISSION_DENIED "<field>: <what> is for <who>; the caller is <caller>".
absl::Status Denied(const Caller& caller, absl::string_view field, absl::string_view what,
                    absl::string_view who);

// Identifies callers and checks audiences. One per service; REQUIRES: state outlives it.
class AccessControl {
 public:
  AccessControl(const domain::StateReader& state, CallerOptions options)
      : callers_(state, options) {}

  // The caller, if the rule's audience admits it; else UNAUTHENTICATED (no identity) or
  // PERMISSION_DENIED naming the RPC and the roles it needs.
  absl::StatusOr<Caller> Admit(const grpc::ServerContextBase& context, Rpc rpc) const;

 private:
  CallerIdentifier callers_;
};

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_ACCESS_POLICY_H_
