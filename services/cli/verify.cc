// verify: a batch's whole provenance checked on this device against the log's public key
// (provenance_check.h does the checking; this fetches and prints).
#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/cli/commands.h"
#include "services/cli/flags.h"
#include "services/cli/provenance_check.h"
#include "services/cli/units.h"
#include "services/domain/file_io.h"
#include "services/domain/identifiers.h"

namespace herbtrace::cli {
namespace {

absl::Status Failed(Context& ctx, const std::string& batch_id, const absl::Status& status) {
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"verified", false},
                          {"batch_id", batch_id},
                          {"code", absl::StatusCodeToString(status.code())},
                          {"reason", std::string(status.message())}});
  }
  return absl::Status(status.code(),
                      absl::StrCat("verification FAILED for ", batch_id, ": ", status.message()));
}

}  // namespace

absl::Status RunVerify(Context& ctx) {
  auto code = ctx.Arg(1, "the batch (or package) code to verify");
  if (!code.ok()) return code.status();
  auto batch_id = domain::BatchIdOfTraceCode(*code, "code");
  if (!batch_id.ok()) return AsUsage(batch_id.status());
  const std::string vkey = absl::GetFlag(FLAGS_log_key);
  if (vkey.empty()) return UsageError("verify: --log_key (the log's verifier key) is required");
  auto verifier = crypto::NoteVerifier::Create(vkey);
  if (!verifier.ok()) return UsageError(absl::StrCat("--log_key: ", verifier.status().message()));
  auto hasher = ctx.hasher();
  if (!hasher.ok()) return hasher.status();
  auto client = ctx.client();
  if (!client.ok()) return client.status();

  v1::GetUpstreamRequest request;
  request.set_code(*code);
  request.set_include_proofs(true);
  v1::GetUpstreamResponse response;
  {
    auto context = (*client)->NewContext();
    if (auto s = FromGrpc((*client)->trace().GetUpstream(context.get(), request, &response),
                          "Trace.GetUpstream", (*client)->target());
        !s.ok()) {
      return s;
    }
  }

  ProvenanceCheckOptions options;
  options.log_verifier = verifier->get();
  options.hasher = *hasher;
  for (const std::string& key_id : SignersToFetch(response)) {
    v1::GetKeyRequest key_request;
    key_request.set_key_id(key_id);
    v1::SigningKey key;
    auto context = (*client)->NewContext();
    const grpc::Status s = (*client)->registry().GetKey(context.get(), key_request, &key);
    if (s.ok()) {
      options.server_keys.emplace(key_id, std::move(key));
    } else if (s.error_code() != grpc::StatusCode::NOT_FOUND) {
      return FromGrpc(s, "Registry.GetKey", (*client)->target());
    }
    // NOT_FOUND: the check below fails naming the entry that key signed.
  }

  auto report = CheckProvenance(*batch_id, response, options);
  if (!report.ok()) return Failed(ctx, *batch_id, report.status());

  std::string consistency;
  if (const std::string path = absl::GetFlag(FLAGS_trusted_checkpoint); !path.empty()) {
    auto note = domain::ReadFileToString(path);
    if (!note.ok())
      return UsageError(absl::StrCat("--trusted_checkpoint: ", note.status().message()));
    auto trusted = OpenLogCheckpoint(*note, **verifier);
    if (!trusted.ok()) {
      return Failed(
          ctx, *batch_id,
          absl::Status(trusted.status().code(), absl::StrCat("--trusted_checkpoint ", path, ": ",
                                                             trusted.status().message())));
    }
    v1::ConsistencyProof proof;
    proof.set_size1(trusted->size);
    proof.set_size2(report->checkpoint.size);
    if (trusted->size > 0 && trusted->size < report->checkpoint.size) {
      v1::GetConsistencyProofRequest proof_request;
      proof_request.set_size1(trusted->size);
      proof_request.set_size2(report->checkpoint.size);
      auto context = (*client)->NewContext();
      if (auto s = FromGrpc(
              (*client)->ledger().GetConsistencyProof(context.get(), proof_request, &proof),
              "Ledger.GetConsistencyProof", (*client)->target());
          !s.ok()) {
        return s;
      }
    }
    if (auto s = CheckConsistency(*trusted, report->checkpoint, proof, **hasher); !s.ok()) {
      return Failed(ctx, *batch_id, s);
    }
    consistency = absl::StrCat("extends the trusted checkpoint of size ", trusted->size);
  }

  const ProvenanceReport& r = *report;
  if (ctx.json()) {
    nlohmann::json harvests = nlohmann::json::array();
    std::vector<std::string> herb_codes;
    for (const VerifiedHarvest& h : r.harvests) {
      herb_codes.push_back(h.herb_code);
      harvests.push_back({{"batch_id", h.batch_id},
                          {"seq", h.seq},
                          {"grower_party_id", h.grower_party_id},
                          {"base_id", h.base_id},
                          {"herb_code", h.herb_code},
                          {"grams", h.grams},
                          {"harvest_date", domain::FormatDate(h.harvest_date)}});
    }
    nlohmann::json out = {{"verified", true},
                          {"batch_id", r.batch_id},
                          {"checkpoint",
                           {{"origin", r.checkpoint.origin},
                            {"size", r.checkpoint.size},
                            {"root_hash", crypto::ToHex(r.checkpoint.root_hash)}}},
                          {"entries", r.entries},
                          {"signatures", r.signatures},
                          {"bundled", r.bundled},
                          {"keys_from_entries", r.keys_from_entries},
                          {"keys_from_server", r.keys_from_server},
                          {"chain_links", r.chain_links},
                          {"lineage_batch_ids", r.lineage_batch_ids},
                          {"harvests", harvests},
                          {"signer_party_ids", r.signer_party_ids},
                          {"herb_names", ctx.herbs().Json(herb_codes)}};
    if (!consistency.empty()) out["consistency"] = consistency;
    PrintJson(ctx.out(), out);
    return absl::OkStatus();
  }
  ctx.out() << "verified: " << r.batch_id << "\n";
  std::vector<std::pair<std::string, std::string>> fields = {
      {"checkpoint", absl::StrCat(r.checkpoint.origin, ", tree size ", r.checkpoint.size, ", root ",
                                  crypto::ToHex(r.checkpoint.root_hash).substr(0, 16),
                                  "…, signed by the log key")},
      {"entries", absl::StrCat(r.entries, " proven in that tree")},
      {"signatures",
       absl::StrCat(r.signatures, " verified (", r.bundled,
                    " through bundles); keys: ", r.keys_from_entries,
                    " from proven registrations, ", r.keys_from_server, " from the server")},
      {"hash chains", absl::StrCat(r.chain_links, " batch_prev links intact")},
      {"lineage", absl::StrCat(r.lineage_batch_ids.size(), " batches back to ", r.harvests.size(),
                               " harvest(s)")},
      {"signers", absl::StrJoin(r.signer_party_ids, ", ")},
  };
  if (!consistency.empty()) fields.emplace_back("consistency", consistency);
  PrintFields(ctx.out(), fields);
  ctx.out() << "\n";
  Table harvests({"harvest batch", "herb", "grower", "base", "harvested", "grams", "seq"});
  for (const VerifiedHarvest& h : r.harvests) {
    harvests.AddRow({h.batch_id, ctx.herbs().Label(h.herb_code), h.grower_party_id, h.base_id,
                     domain::FormatDate(h.harvest_date), FormatGrams(h.grams),
                     absl::StrCat(h.seq)});
  }
  harvests.Print(ctx.out());
  return absl::OkStatus();
}

}  // namespace herbtrace::cli
