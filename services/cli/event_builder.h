// Building, committing and signing events on the client, the way event.proto and capture.proto
// require: an Event is serialized exactly ONCE, those bytes are signed, and those same bytes are
// what is submitted (SignedEvent.payload), queued offline, or bundled. Nothing here talks to a
// server, so every function works offline and in tests.
//
// Thread-safe: free functions without shared state (randomness comes from the kernel's CSPRNG).
#ifndef HERBTRACE_SERVICES_CLI_EVENT_BUILDER_H_
#define HERBTRACE_SERVICES_CLI_EVENT_BUILDER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crypto/signature.h"
#include "herbtrace/v1/capture.pb.h"
#include "herbtrace/v1/entry.pb.h"
#include "herbtrace/v1/event.pb.h"

namespace herbtrace::cli {

// `n` bytes from the kernel CSPRNG (getrandom(2)). Internal on failure.
absl::StatusOr<std::string> RandomBytes(size_t n);

// RFC 9562 UUID version 7 text (lowercase, 8-4-4-4-12): 48-bit Unix milliseconds of `now`, then
// 74 random bits. Time-ordered, as ids.proto recommends for event ids.
absl::StatusOr<std::string> NewEventId(absl::Time now);

// The fields every event carries (event.proto, Event 1..5).
struct EventHeader {
  std::string event_id;
  absl::Time occurred_at;
  std::string party_id;
  std::string log_origin;
  // batch id → head leaf hash the signer expects (32 bytes; empty: the batch must not exist).
  std::vector<std::pair<std::string, std::string>> expected_heads;
};

// An Event with the header set and no kind yet.
v1::Event NewEvent(const EventHeader& header);

// Serializes `event` once and signs exactly those bytes; the returned request carries them
// unchanged as signed_event.payload, with `openings` beside them (never inside the payload).
absl::StatusOr<v1::SubmitRequest> SealEvent(const v1::Event& event, const crypto::PrivateKey& key,
                                            std::vector<v1::Opening> openings = {});

// A commitment to a confidential field (event.proto, "Confidential fields"):
// commitment = SHA-256(salt ‖ value), opened by `opening` sent beside the signed bytes.
struct Commitment {
  std::string commitment;  // 32 bytes, goes into the event
  v1::Opening opening;     // goes into SubmitRequest.openings
};
// With a fresh 32-byte salt from the CSPRNG.
absl::StatusOr<Commitment> Commit(absl::string_view field_path, absl::string_view value);
// With the given salt; for tests and for checking an opening. REQUIRES: salt is 32 bytes.
absl::StatusOr<Commitment> CommitWithSalt(absl::string_view field_path, absl::string_view salt,
                                          absl::string_view value);
// The committed encoding of a trade price: total fen as 8 bytes big-endian.
std::string PriceValue(uint64_t fen);
inline constexpr absl::string_view kTradePricePath = "trade.price_commitment";
inline constexpr absl::string_view kIdentityPath = "register_party.identity_commitment";

// The text a new key signs to prove possession (event.proto, NewKey.proof_of_possession):
// "herbtrace key v1\n" ‖ log_origin ‖ "\n" ‖ owner party_id ‖ "\n" ‖ key_id ‖ "\n".
std::string KeyPossessionMessage(absl::string_view log_origin, absl::string_view owner_party_id,
                                 absl::string_view key_id);
// A NewKey for `key`'s public half, with its proof of possession signed by `key`.
absl::StatusOr<v1::NewKey> MakeNewKey(const crypto::PrivateKey& key, absl::string_view log_origin,
                                      absl::string_view owner_party_id,
                                      absl::string_view device_label);

// Parses protobuf text format into a fresh Event and merges it into `event` (repeated fields
// append), for the rarely used fields the command line has no flag for. InvalidArgument naming
// the parser's line and column.
absl::Status MergeEventText(absl::string_view text, v1::Event& event);

// "harvest", "trade", …: the oneof field name of the event's kind; "none" if unset.
std::string EventKindName(const v1::Event& event);

}  // namespace herbtrace::cli

#endif  // HERBTRACE_SERVICES_CLI_EVENT_BUILDER_H_
