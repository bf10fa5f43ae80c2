// What `herbctl verify` checks on a buyer's device (services/cli/provenance_check.h): a
// Trace.GetUpstream response, with its checkpoint note, entries, inclusion proofs, signatures,
// bundle memberships and hash-chain links, all from a server the buyer does not trust. The input
// is the serialized GetUpstreamResponse; the log key is the fixed log key, the hash SHA-256.
//
// Invariants: a verified provenance counts every returned entry as proven, names the batch asked
// about among its lineage, traces it to at least one harvest of that lineage, and its checkpoint
// is the one the response carries, opened with the log key.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "crypto/checkpoint.h"
#include "crypto/hash.h"
#include "crypto/signed_note.h"
#include "fuzz/fixed_keys.h"
#include "herbtrace/v1/trace.pb.h"
#include "services/cli/provenance_check.h"

namespace herbtrace::fuzz {
namespace {

struct LogKeys {
  std::unique_ptr<crypto::NoteVerifier> log;
  std::unique_ptr<crypto::Hasher> sha256;
};

const LogKeys& Keys() {
  static const LogKeys* const keys = [] {
    auto signer = crypto::NoteSigner::Create(kLogOrigin, FixedKey(kLogKeyFill));
    if (!signer.ok()) std::abort();
    auto log = crypto::NoteVerifier::Create((*signer)->VerifierKey());
    auto sha256 = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    if (!log.ok() || !sha256.ok()) std::abort();
    return new LogKeys{*std::move(log), *std::move(sha256)};
  }();
  return *keys;
}

}  // namespace
}  // namespace herbtrace::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herbtrace;
  v1::GetUpstreamResponse response;
  if (!response.ParseFromArray(data, static_cast<int>(size))) return 0;
  const fuzz::LogKeys& keys = fuzz::Keys();
  (void)cli::SignersToFetch(response);
  cli::ProvenanceCheckOptions options;
  options.log_verifier = keys.log.get();
  options.hasher = keys.sha256.get();
  auto report = cli::CheckProvenance(response.batch_id(), response, options);
  if (!report.ok()) return 0;
  FUZZ_REQUIRE(report->entries == static_cast<size_t>(response.entries_size()));
  FUZZ_REQUIRE(report->batch_id == response.batch_id());
  const auto& lineage = report->lineage_batch_ids;
  FUZZ_REQUIRE(std::binary_search(lineage.begin(), lineage.end(), response.batch_id()));
  FUZZ_REQUIRE(!report->harvests.empty());
  for (const cli::VerifiedHarvest& h : report->harvests) {
    FUZZ_REQUIRE(std::binary_search(lineage.begin(), lineage.end(), h.batch_id));
  }
  auto checkpoint = crypto::OpenCheckpoint(response.checkpoint().note(), *keys.log);
  FUZZ_REQUIRE(checkpoint.ok() && *checkpoint == report->checkpoint);
  return 0;
}
