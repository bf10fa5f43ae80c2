#include "services/server/access_policy.h"

#include <cstddef>

#include "absl/strings/str_cat.h"

namespace herbtrace::server {
namespace {

using A = Audience;

// The access table. Read it as: who may call each RPC, then what the service narrows.
constexpr AccessRule kRules[] = {
    // Capture: a party submits what it signed itself (the domain rules then check the signer's
    // roles, keys and custody for the event's kind).
    {Rpc::kCaptureSubmit, "/herbtrace.v1.Capture/Submit", A::kAnyParty,
     "the event's signer is the caller"},
    {Rpc::kCaptureSubmitStream, "/herbtrace.v1.Capture/SubmitStream", A::kAnyParty,
     "each event's signer is the caller"},
    {Rpc::kCaptureSubmitBundle, "/herbtrace.v1.Capture/SubmitBundle", A::kAnyParty,
     "the bundle's signer is the caller"},
    // Registry: who is who at the market is public to its parties.
    {Rpc::kRegistryGetParty, "/herbtrace.v1.Registry/GetParty", A::kAnyParty, ""},
    {Rpc::kRegistryListParties, "/herbtrace.v1.Registry/ListParties", A::kAnyParty, ""},
    {Rpc::kRegistryGetKey, "/herbtrace.v1.Registry/GetKey", A::kAnyParty, ""},
    {Rpc::kRegistryGetBase, "/herbtrace.v1.Registry/GetBase", A::kAnyParty, ""},
    {Rpc::kRegistryListBases, "/herbtrace.v1.Registry/ListBases", A::kAnyParty, ""},
    {Rpc::kRegistryGetHerb, "/herbtrace.v1.Registry/GetHerb", A::kAnyParty, ""},
    {Rpc::kRegistryListHerbs, "/herbtrace.v1.Registry/ListHerbs", A::kAnyParty, ""},
    // Ledger: checkpoints and proofs let anyone check what they were shown; the raw log
    // (who traded with whom, every entry) and the audit are for oversight.
    {Rpc::kLedgerGetCheckpoint, "/herbtrace.v1.Ledger/GetCheckpoint", A::kAnyParty, ""},
    {Rpc::kLedgerGetInclusionProof, "/herbtrace.v1.Ledger/GetInclusionProof", A::kAnyParty, ""},
    {Rpc::kLedgerGetConsistencyProof, "/herbtrace.v1.Ledger/GetConsistencyProof", A::kAnyParty,
     ""},
    {Rpc::kLedgerGetEntries, "/herbtrace.v1.Ledger/GetEntries", A::kOversight, ""},
    {Rpc::kLedgerAddCosignature, "/herbtrace.v1.Ledger/AddCosignature", A::kRegulator, ""},
    {Rpc::kLedgerAudit, "/herbtrace.v1.Ledger/Audit", A::kOversight, ""},
    // Trace: a buyer checks provenance before buying (来源可知); where a lot went (去向可追)
    // reveals customers, so only oversight and those who held the lot see it.
    {Rpc::kTraceGetBatch, "/herbtrace.v1.Trace/GetBatch", A::kAnyParty, ""},
    {Rpc::kTraceGetHistory, "/herbtrace.v1.Trace/GetHistory", A::kAnyParty, ""},
    {Rpc::kTraceGetUpstream, "/herbtrace.v1.Trace/GetUpstream", A::kAnyParty, ""},
    {Rpc::kTraceGetDownstream, "/herbtrace.v1.Trace/GetDownstream", A::kAnyParty,
     "oversight, or a party that holds or held the batch"},
    {Rpc::kTraceGetTradeTerms, "/herbtrace.v1.Trace/GetTradeTerms", A::kAnyParty,
     "regulators, or the trade's seller or buyer"},
    // Recall: oversight sees every recall in full; a holder the recalls naming its lots, with
    // only its lots.
    {Rpc::kRecallGetRecall, "/herbtrace.v1.Recall/GetRecall", A::kAnyParty,
     "oversight in full; a party holding or having held a lot in the scope, that lot only"},
    {Rpc::kRecallListRecalls, "/herbtrace.v1.Recall/ListRecalls", A::kAnyParty,
     "oversight all; any other party the recalls naming its lots"},
    {Rpc::kRecallExportRecallCsv, "/herbtrace.v1.Recall/ExportRecallCsv", A::kOversight, ""},
};

static_assert(sizeof(kRules) / sizeof(kRules[0]) ==
                  static_cast<size_t>(Rpc::kRecallExportRecallCsv) + 1,
              "one access rule per Rpc");

constexpr bool InRpcOrder() {
  for (size_t i = 0; i < sizeof(kRules) / sizeof(kRules[0]); ++i) {
    if (static_cast<size_t>(kRules[i].rpc) != i) return false;
  }
  return true;
}
static_assert(InRpcOrder(), "kRules is indexed by Rpc");

bool Admits(Audience audience, const Caller& caller) {
  switch (audience) {
    case Audience::kAnyParty:
      return true;
    case Audience::kOversight:
      return HasOversight(caller);
    case Audience::kRegulator:
      return caller.host_admin || caller.Has(v1::PARTY_ROLE_REGULATOR);
  }
  return false;
}

}  // namespace

absl::Span<const AccessRule> AccessRules() { return kRules; }

const AccessRule& RuleOf(Rpc rpc) { return kRules[static_cast<size_t>(rpc)]; }

absl::string_view AudienceWords(Audience audience) {
  switch (audience) {
    case Audience::kAnyParty:
      return "any registered party";
    case Audience::kOversight:
      return "regulators and the market operator";
    case Audience::kRegulator:
      return "regulators";
  }
  return "nobody";
}

bool HasOversight(const Caller& caller) {
  return caller.host_admin || caller.Has(v1::PARTY_ROLE_REGULATOR) ||
         caller.Has(v1::PARTY_ROLE_MARKET_OPERATOR);
}

bool ReadsEveryPrice(const Caller& caller) {
  return caller.host_admin || caller.Has(v1::PARTY_ROLE_REGULATOR);
}

absl::Status CheckSigner(const Caller& caller, absl::string_view signer_party_id,
                         absl::string_view field) {
  if (caller.host_admin || caller.party_id == signer_party_id) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      field, ": signed by party ", signer_party_id, ", but the caller is ", caller.Describe(),
      "; a party submits only what it signed itself (the signer's own client certificate)"));
}

absl::Status Denied(const Caller& caller, absl::string_view field, absl::string_view what,
                    absl::string_view who) {
  return absl::PermissionDeniedError(
      absl::StrCat(field, ": ", what, " is for ", who, "; the caller is ", caller.Describe()));
}

absl::StatusOr<Caller> AccessControl::Admit(const grpc::ServerContextBase& context,
                                            Rpc rpc) const {
  auto caller = callers_.Identify(context);
  if (!caller.ok()) return caller.status();
  const AccessRule& rule = RuleOf(rpc);
  if (!Admits(rule.audience, *caller)) {
    return absl::PermissionDeniedError(absl::StrCat(rule.method, ": for ",
                                                    AudienceWords(rule.audience),
                                                    " only; the caller is ", caller->Describe()));
  }
  return caller;
}

}  // namespace herbtrace::server
