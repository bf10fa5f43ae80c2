// C2SP signed notes (c2sp.org/signed-note@v1.0.0): a text signed by one or more named keys. The
// log's checkpoints are notes (see checkpoint.h); any C2SP client can verify the Ed25519 line.
//
//   note       = text "\n" 1*sig-line           ; the text ends in "\n"; the last blank line
//                                                ; in the note separates text from signatures
//   sig-line   = "— " name " " base64(key-hash ‖ signature) "\n"      ; "—" is U+2014
//   vkey       = name "+" hex8(key-hash) "+" base64(key-material)
//   key-hash   = SHA-256(name ‖ 0x0A ‖ key-material)[0:4], a big-endian uint32
//   name       = 1*(any character but Unicode white space and "+")
//
// The whole note is UTF-8 with no control characters but "\n"; base64 is RFC 4648 §4 with padding,
// and must be canonical (one encoding per byte string).
//
// Key material is the signature type followed by the public key. The types HerbTrace uses:
//
//   0x01 ‖ Ed25519 key (32)                      C2SP Ed25519 over the note text: the log's
//                                                primary signature, what any C2SP client verifies.
//   0xff ‖ "herbtrace-sm2" ‖ SM2 point (65)      SM2 with SM3 over the note text, distinguishing
//                                                id "1234567812345678"; signature = DER (70-72
//                                                bytes). 0xff is the spec's byte for types without
//                                                an assigned one, followed (as it recommends) by an
//                                                identifier: these 13 ASCII bytes, no terminator.
//                                                The uncompressed point after them starts with 0x04,
//                                                so a longer identifier that begins the same way
//                                                ("herbtrace-sm2v2") differs there and is not taken
//                                                for this type.
//   0x04 ‖ Ed25519 key (32)                      tlog-cosignature/v1 (timestamped; see
//                                                checkpoint.h: Cosigner, CosignatureVerifier).
//
// An SM2 line is only ever an addition: clients that do not know the type ignore it, as the spec
// requires of unknown keys.
#ifndef HERBTRACE_CRYPTO_SIGNED_NOTE_H_
#define HERBTRACE_CRYPTO_SIGNED_NOTE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "crypto/signature.h"

namespace herbtrace::crypto {

// The spec asks verifiers to bound a note and accept at least 16 signatures; these leave room for
// many witnesses with post-quantum (≈5 kB) signatures while capping what a parse will allocate.
inline constexpr size_t kMaxNoteSignatures = 100;
inline constexpr size_t kMaxNoteSize = 1 << 20;

inline constexpr uint8_t kNoteTypeEd25519 = 0x01;
inline constexpr uint8_t kNoteTypeCosignatureV1 = 0x04;
inline constexpr uint8_t kNoteTypeUnassigned = 0xff;
inline constexpr absl::string_view kNoteSm2Identifier = "herbtrace-sm2";

struct NoteSignature {
  std::string name;
  uint32_t key_hash = 0;
  std::string signature;  // the bytes after the 4-byte key hash
  friend bool operator==(const NoteSignature&, const NoteSignature&) = default;
};

struct Note {
  std::string text;  // including its final "\n"
  std::vector<NoteSignature> signatures;
  friend bool operator==(const Note&, const Note&) = default;
};

// OK if `text` can be a note's text: non-empty, ends in "\n", UTF-8 without control characters but
// "\n", at most kMaxNoteSize bytes. Otherwise InvalidArgument saying which byte is wrong.
absl::Status ValidateNoteText(absl::string_view text);
// OK if `name` can be a key name: non-empty UTF-8 without Unicode white space, "+" or control
// characters.
absl::Status ValidateKeyName(absl::string_view name);

// Splits a note into text and signature lines, checking the whole grammar above (and rejecting
// two lines with the same name and key hash). Verifies nothing: the text must be ignored until
// OpenNote says a trusted key signed it. InvalidArgument naming the line on any error.
absl::StatusOr<Note> ParseNote(absl::string_view note);

// The note's bytes. REQUIRES: ValidateNoteText(note.text) and ValidateKeyName(name) of every
// signature are OK (what ParseNote returns, and what the signers below produce, always are).
std::string FormatNote(const Note& note);

// SHA-256(name ‖ 0x0A ‖ key_material)[0:4] as a big-endian uint32. Fails only if SHA-256 cannot be
// fetched from OpenSSL.
absl::StatusOr<uint32_t> NoteKeyHash(absl::string_view name, absl::string_view key_material);

// The three parts of a vkey.
struct NoteVerifierKey {
  std::string name;
  uint32_t key_hash = 0;
  std::string key_material;  // signature type ‖ public key
  friend bool operator==(const NoteVerifierKey&, const NoteVerifierKey&) = default;
};
// Checks the syntax and that the key hash is the one computed from name and key material; does not
// interpret the key material.
absl::StatusOr<NoteVerifierKey> ParseNoteVerifierKey(absl::string_view vkey);
std::string FormatNoteVerifierKey(const NoteVerifierKey& key);
// The vkey of a key named `name` with this key material, its key hash computed (NoteKeyHash).
// InvalidArgument if `name` is not a valid key name.
absl::StatusOr<NoteVerifierKey> MakeNoteVerifierKey(absl::string_view name,
                                                    std::string key_material);

namespace internal {

// What every note signer and verifier holds (the two below and checkpoint.h's Cosigner and
// CosignatureVerifier): a key, the name it signs under, their key hash and vkey. Immutable.
template <typename Key>
class NamedNoteKey {
 public:
  const std::string& name() const { return name_; }
  uint32_t key_hash() const { return key_hash_; }
  // The vkey a client needs to verify this key's lines: "name+hex8+base64(key material)".
  const std::string& VerifierKey() const { return verifier_key_; }

  // True if `signature` claims to be by this key (same name and key hash).
  bool Matches(const NoteSignature& signature) const {
    return signature.name == name_ && signature.key_hash == key_hash_;
  }

 protected:
  // REQUIRES: `verifier_key` is the vkey of `name`, `key_hash` and `key`; `key` is not null.
  NamedNoteKey(std::string name, uint32_t key_hash, std::string verifier_key,
               std::unique_ptr<Key> key)
      : name_(std::move(name)),
        key_hash_(key_hash),
        verifier_key_(std::move(verifier_key)),
        key_(std::move(key)) {}

  const Key& key() const { return *key_; }

 private:
  const std::string name_;
  const uint32_t key_hash_;
  const std::string verifier_key_;
  const std::unique_ptr<Key> key_;
};

}  // namespace internal

// Signs note texts under a key name: type 0x01 for an Ed25519 key, the HerbTrace SM2 type for an
// SM2 key. Immutable and thread-safe.
class NoteSigner final : public internal::NamedNoteKey<PrivateKey> {
 public:
  // InvalidArgument if `name` is not a valid key name or `key` is null.
  static absl::StatusOr<std::unique_ptr<NoteSigner>> Create(absl::string_view name,
                                                            std::unique_ptr<PrivateKey> key);

  using NamedNoteKey::key;

  // InvalidArgument unless ValidateNoteText(text) is OK.
  absl::StatusOr<NoteSignature> Sign(absl::string_view text) const;

 private:
  using NamedNoteKey::NamedNoteKey;
};

// Verifies the signature lines of one key (type 0x01 or the HerbTrace SM2 type). Immutable and
// thread-safe.
class NoteVerifier final : public internal::NamedNoteKey<PublicKey> {
 public:
  // From a vkey. InvalidArgument for bad syntax, a key hash that does not match, a cosignature
  // (0x04) key (use CosignatureVerifier), or any other type.
  static absl::StatusOr<std::unique_ptr<NoteVerifier>> Create(absl::string_view verifier_key);
  // From a key name and a public key of either algorithm.
  static absl::StatusOr<std::unique_ptr<NoteVerifier>> Create(absl::string_view name,
                                                              std::unique_ptr<PublicKey> key);

  using NamedNoteKey::key;

  // OK if `signature` is this key's valid signature of `text`. InvalidArgument if it is not by
  // this key (see Matches) or malformed for the key's algorithm; Unauthenticated if it does not
  // verify.
  absl::Status Verify(absl::string_view text, const NoteSignature& signature) const;

 private:
  using NamedNoteKey::NamedNoteKey;
};

struct OpenedNote {
  Note note;                    // every signature, including those of unknown keys
  std::vector<size_t> verified;  // indices into note.signatures that a verifier checked, ascending
};

// Parses `note` and checks it against the trusted `verifiers`, per the spec: a line whose name and
// key hash match no verifier is ignored (it may be a witness, or a key this client does not
// trust); a line that matches one must verify, or the whole note is rejected (Unauthenticated, or
// InvalidArgument if malformed); and at least one line must verify (else Unauthenticated).
// InvalidArgument if two verifiers share a name and key hash.
absl::StatusOr<OpenedNote> OpenNote(absl::string_view note,
                                    absl::Span<const NoteVerifier* const> verifiers);

}  // namespace herbtrace::crypto

#endif  // HERBTRACE_CRYPTO_SIGNED_NOTE_H_
