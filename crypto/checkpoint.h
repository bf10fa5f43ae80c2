// C2SP checkpoints (c2sp.org/tlog-checkpoint@v1.0.0): the log's signed tree head, as a signed
// note (signed_note.h) whose text is
//
//   checkpoint = origin "\n" tree-size "\n" root-hash "\n" *(extension "\n")
//   origin     = 1*(UTF-8 but controls)       ; the log's identity, e.g. "anguo.herbtrace.cn/log"
//   tree-size  = "0" / %x31-39 *DIGIT          ; decimal, no leading zeros, fits in a uint64
//   root-hash  = base64 of the 32-byte RFC 9162 root, padded, canonical
//   extension  = 1*(UTF-8 but controls)       ; opaque; HerbTrace writes none
//
// and whose log signature is under a key named exactly the origin. The formatting is canonical:
// FormatCheckpoint(*ParseCheckpoint(t)) == t for every t that parses.
//
// Cosignatures (c2sp.org/tlog-cosignature, Ed25519 "cosignature/v1", note type 0x04): a witness's
// statement that, at a time, this was the largest consistent tree it had seen for the origin.
//
//   signed message = "cosignature/v1\n" "time " decimal(timestamp) "\n" checkpoint
//   signature      = timestamp (8 bytes, big-endian, ≤ 2^63 - 1) ‖ Ed25519 signature (64 bytes)
//   key hash       = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ Ed25519 public key)[0:4]
//
// The message covers extension lines, but witnesses vouch only for the first three.
#ifndef HERBTRACE_CRYPTO_CHECKPOINT_H_
#define HERBTRACE_CRYPTO_CHECKPOINT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "crypto/signed_note.h"

namespace herbtrace::crypto {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Digest root_hash{};
  std::vector<std::string> extensions;
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// OK if `checkpoint` formats to a text that parses back to it: origin and extensions non-empty and
// without "\n", the whole a valid note text. InvalidArgument naming the field otherwise.
absl::Status ValidateCheckpoint(const Checkpoint& checkpoint);

// The note text, final "\n" included. REQUIRES: ValidateCheckpoint(checkpoint) is OK.
std::string FormatCheckpoint(const Checkpoint& checkpoint);

// Strict: rejects every text FormatCheckpoint would not produce. InvalidArgument naming the line,
// e.g. "checkpoint: line 2 (tree size): leading zero in \"007\"".
absl::StatusOr<Checkpoint> ParseCheckpoint(absl::string_view text);

// The signed note: `log_signer` first (its name must equal the origin), then each extra signer
// (e.g. the log's SM2 key). InvalidArgument for an invalid checkpoint, a mismatched name, or two
// signers with the same name and key hash.
absl::StatusOr<std::string> SignCheckpoint(
    const Checkpoint& checkpoint, const NoteSigner& log_signer,
    absl::Span<const NoteSigner* const> extra_signers = {});

// Opens a checkpoint note: requires a valid signature by `log_verifier` and an origin equal to
// its name; other lines (witnesses, keys this caller does not know) are ignored. Errors as
// OpenNote, plus InvalidArgument for a malformed checkpoint or another origin.
absl::StatusOr<Checkpoint> OpenCheckpoint(absl::string_view note,
                                          const NoteVerifier& log_verifier);

// The message a cosignature/v1 signs.
std::string CosignatureV1Message(const Checkpoint& checkpoint, uint64_t timestamp);

// A witness's Ed25519 cosigning key; its VerifierKey() is the type 0x04 vkey that
// CosignatureVerifier::Create takes. Immutable and thread-safe.
class Cosigner final : public internal::NamedNoteKey<PrivateKey> {
 public:
  // InvalidArgument unless `name` is a valid key name and `key` an Ed25519 key.
  static absl::StatusOr<std::unique_ptr<Cosigner>> Create(absl::string_view name,
                                                          std::unique_ptr<PrivateKey> key);

  // The signature line to append to the checkpoint's note. `timestamp` is POSIX seconds from the
  // caller's clock. The caller must have checked the checkpoint (log signature, consistency with
  // what it saw before): this only signs. InvalidArgument for an invalid checkpoint or a timestamp
  // above 2^63 - 1.
  absl::StatusOr<NoteSignature> Cosign(const Checkpoint& checkpoint, uint64_t timestamp) const;

 private:
  using NamedNoteKey::NamedNoteKey;
};

// Verifies one witness's cosignatures. Immutable and thread-safe.
class CosignatureVerifier final : public internal::NamedNoteKey<PublicKey> {
 public:
  // From a type 0x04 vkey; InvalidArgument for any other type.
  static absl::StatusOr<std::unique_ptr<CosignatureVerifier>> Create(
      absl::string_view verifier_key);
  // From a name and an Ed25519 public key.
  static absl::StatusOr<std::unique_ptr<CosignatureVerifier>> Create(
      absl::string_view name, std::unique_ptr<PublicKey> key);

  // The cosignature's timestamp if `signature` is this witness's valid cosignature of
  // `checkpoint`. InvalidArgument if it is not by this witness or malformed (not 72 bytes,
  // timestamp above 2^63 - 1); Unauthenticated if it does not verify. Judging the timestamp
  // (e.g. rejecting one in the future) is the caller's policy, with its own clock.
  absl::StatusOr<uint64_t> Verify(const Checkpoint& checkpoint,
                                  const NoteSignature& signature) const;

  // Finds this witness's line in a checkpoint note (e.g. from ParseNote) and verifies it against
  // the note's text. NotFound if the note has no line by this witness. Does not check the log's
  // signature: open the note with OpenCheckpoint for that.
  absl::StatusOr<uint64_t> VerifyInNote(const Note& note) const;

 private:
  using NamedNoteKey::NamedNoteKey;
};

}  // namespace herbtrace::crypto

#endif  // HERBTRACE_CRYPTO_CHECKPOINT_H_
