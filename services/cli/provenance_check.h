// What `herbctl verify` checks, as a library over the response messages, so that a batch's
// provenance is verified on the buyer's own device with nothing but the log's public key, and
// so that every check is testable without a server.
//
// Given Trace.GetUpstream(include_proofs) for a batch, CheckProvenance establishes, in order:
//   1. the checkpoint note is well formed and signed by the log key, for its origin;
//   2. every returned entry is in that checkpoint's tree: its bytes, hashed exactly as received
//      (leaf = H(0x00 ‖ entry bytes)), lead through its RFC 9162 inclusion proof to the
//      checkpoint's root; entries come in increasing seq order, each parses, and its payload is
//      an Event for this log (log_origin == the checkpoint's origin, event_id == the entry's);
//   3. every event is signed by its key: directly (signature over the payload bytes) or through
//      its offline bundle (membership proof to the bundle root, root signature over the bundle
//      message). A key comes from a registration entry among the returned ones (RegisterParty
//      initial_keys, RegisterKey; its proof of possession is checked too) or, failing that, from
//      the server (Registry.GetKey, or keys inside the response's parties); either way the key id
//      must be the one its bytes hash to, the key must belong to the event's party, be
//      registered no later than the entry, and not be revoked before it;
//   4. the lineage connects the batch to its harvests: each batch of it is created by exactly
//      one returned entry, and following the inputs of process/split/merge/transform entries
//      ends at Harvest entries only; where the response lists harvests, they are exactly these;
//   5. each lineage batch's hash chain is whole: every returned entry touching it links it in
//      batch_prev to the leaf hash of the previous returned entry touching it, the first one
//      (its creation) with an empty link, so no entry of its history is missing or forged; and
//      where the server's BatchState is as of the checkpoint, its head is the last such entry.
//
// Every failure is a status whose message starts with where it is ("checkpoint: …",
// "entry seq 7 (event …): …", "batch 1130…: …") and says what differs. Malformed input of any
// kind (truncated hashes, unparsable bytes, wrong sizes) is an error, never a crash.
#ifndef HERBTRACE_SERVICES_CLI_PROVENANCE_CHECK_H_
#define HERBTRACE_SERVICES_CLI_PROVENANCE_CHECK_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/checkpoint.h"
#include "crypto/hash.h"
#include "crypto/signed_note.h"
#include "herbtrace/v1/common.pb.h"
#include "herbtrace/v1/ledger.pb.h"
#include "herbtrace/v1/registry.pb.h"
#include "herbtrace/v1/trace.pb.h"

namespace herbtrace::cli {

struct ProvenanceCheckOptions {
  // The log's checkpoint key (from its C2SP verifier key). Required; must outlive the call.
  const crypto::NoteVerifier* log_verifier = nullptr;
  // The log's tree hash (SHA-256 or SM3). Required; must outlive the call.
  const crypto::Hasher* hasher = nullptr;
  // Signing keys the server vouched for (Registry.GetKey), by key id. Only used for signers that
  // no returned registration entry registers; each is checked against its own bytes.
  std::map<std::string, v1::SigningKey> server_keys;
};

struct VerifiedHarvest {
  std::string batch_id;
  uint64_t seq = 0;
  std::string grower_party_id;
  std::string base_id;
  std::string herb_code;
  uint64_t grams = 0;
  v1::Date harvest_date;
};

struct ProvenanceReport {
  crypto::Checkpoint checkpoint;
  std::string batch_id;
  size_t entries = 0;            // proven in the checkpoint's tree
  size_t signatures = 0;         // events whose signature verified (bundled ones included)
  size_t bundled = 0;            // of which through a bundle's root signature
  size_t keys_from_entries = 0;  // signing keys taken from proven registration entries
  size_t keys_from_server = 0;   // signing keys the server supplied
  size_t chain_links = 0;        // batch_prev links checked
  std::vector<std::string> lineage_batch_ids;  // the batch and its ancestors, sorted
  std::vector<VerifiedHarvest> harvests;       // by batch_id
  std::vector<std::string> signer_party_ids;   // every party whose event was verified, sorted
};

// Key ids that sign returned entries (directly or through a bundle) but are registered by no
// returned entry and included in no returned party: the ones to fetch with Registry.GetKey
// before calling CheckProvenance. Sorted; entries that do not parse are skipped (CheckProvenance
// reports them).
std::vector<std::string> SignersToFetch(const v1::GetUpstreamResponse& response);

// `batch_id` is the 25-digit batch code the caller asked about (a package code resolved to its
// batch by the caller). REQUIRES: options.log_verifier and options.hasher are set.
absl::StatusOr<ProvenanceReport> CheckProvenance(absl::string_view batch_id,
                                                 const v1::GetUpstreamResponse& response,
                                                 const ProvenanceCheckOptions& options);

// Opens a checkpoint note with the log key, with the error prefixed "checkpoint: " and saying
// whether it is malformed or not signed by the key.
absl::StatusOr<crypto::Checkpoint> OpenLogCheckpoint(absl::string_view note,
                                                     const crypto::NoteVerifier& log_verifier);

// That `newer` extends `older` (RFC 9162 consistency proof from older.size to newer.size), for
// a client that kept an earlier checkpoint. Same sizes need equal roots and an empty proof.
absl::Status CheckConsistency(const crypto::Checkpoint& older, const crypto::Checkpoint& newer,
                              const v1::ConsistencyProof& proof, const crypto::Hasher& hasher);

}  // namespace herbtrace::cli

#endif  // HERBTRACE_SERVICES_CLI_PROVENANCE_CHECK_H_
