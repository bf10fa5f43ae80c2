// Offline bundles (capture.proto, "Bundles"): a scanner that was offline signs ONE hash over its
// whole queue instead of each event.
//
//   leaf_i  = H(0x00 ‖ payload_i)
//   root    = RFC 9162 Merkle tree hash over leaf_0 … leaf_{n-1}
//   message = "herbtrace bundle v1\n" ‖ origin ‖ "\n" ‖ decimal(n) ‖ "\n" ‖ base64(root) ‖ "\n"
//   root_signature = Sign(key, message)
//
// H is the log's hash (SHA-256, or SM3 on national-algorithm deployments).
#ifndef HERBTRACE_SERVICES_CLI_BUNDLE_H_
#define HERBTRACE_SERVICES_CLI_BUNDLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "herbtrace/v1/capture.pb.h"
#include "services/domain/bundle_message.h"

namespace herbtrace::cli {

// The most events one bundle may carry (capture.proto: 1 ≤ n ≤ 4096).
inline constexpr size_t kMaxBundleEvents = 4096;

// The Merkle root over the payloads' leaf hashes. REQUIRES: !payloads.empty().
crypto::Digest BundleRoot(const crypto::Hasher& hasher, absl::Span<const std::string> payloads);

// The text the root signature signs: the log's own definition.
using domain::BundleMessage;

// One SubmitBundleRequest for the queued events, in queue order, signed once with `key`. Each
// event keeps its payload bytes and openings exactly as queued; the per-event signatures are
// dropped (the root signature replaces them). Checks first, naming the queue position: 1..4096
// events; every payload parses as an Event whose log_origin is `log_origin` and whose party_id is
// the same for all; every queued event was signed by `key` and its signature verifies over its
// payload (so the bundle signer is the signer, and a queue edited after signing is refused).
absl::StatusOr<v1::SubmitBundleRequest> BuildBundle(absl::Span<const v1::SubmitRequest> queued,
                                                    const crypto::PrivateKey& key,
                                                    const crypto::Hasher& hasher,
                                                    absl::string_view log_origin);

}  // namespace herbtrace::cli

#endif  // HERBTRACE_SERVICES_CLI_BUNDLE_H_
