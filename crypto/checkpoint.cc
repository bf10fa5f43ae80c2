#include "crypto/checkpoint.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace herbtrace::crypto {
namespace {

constexpr absl::string_view kCosignatureV1Header = "cosignature/v1";
constexpr size_t kTimestampSize = 8;
constexpr size_t kEd25519SignatureSize = 64;
constexpr uint64_t kMaxTimestamp = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

std::string Hex8(uint32_t v) { return absl::StrFormat("%08x", v); }

// A line quoted for an error message: escaped, and cut short so a megabyte line cannot become a
// megabyte message.
std::string Quote(absl::string_view s) {
  constexpr size_t kMax = 48;
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, kMax)), s.size() > kMax ? "...\"" : "\"");
}

absl::Status LineError(int line, absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("checkpoint: line ", line, " (", field, "): ", what));
}

// Key material of a cosignature/v1 vkey: type 0x04 ‖ the Ed25519 public key.
std::string CosignatureKeyMaterial(const PublicKey& key) {
  return absl::StrCat(absl::string_view("\x04", 1), key.raw());
}

// cosignature/v1 signs with Ed25519 only; `who` starts the message.
absl::Status CheckCosignatureAlgorithm(SignatureAlgorithm algorithm, absl::string_view who) {
  if (algorithm == SignatureAlgorithm::kEd25519) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      who, ": cosignature/v1 needs an ed25519 key, got ", SignatureAlgorithmName(algorithm)));
}

std::string BigEndian64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

uint64_t ReadBigEndian64(absl::string_view b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

absl::StatusOr<uint64_t> ParseTreeSize(absl::string_view s) {
  constexpr int kLine = 2;
  constexpr absl::string_view kField = "tree size";
  if (s.empty()) return LineError(kLine, kField, "empty");
  for (char c : s) {
    if (c < '0' || c > '9') {
      return LineError(kLine, kField, absl::StrCat(Quote(s), " is not a decimal number"));
    }
  }
  if (s.size() > 1 && s[0] == '0') {
    return LineError(kLine, kField, absl::StrCat("leading zero in ", Quote(s)));
  }
  uint64_t v = 0;
  for (char c : s) {
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return LineError(kLine, kField, absl::StrCat(Quote(s), " does not fit in 64 bits"));
    }
    v = v * 10 + digit;
  }
  return v;
}

absl::StatusOr<Digest> ParseRootHash(absl::string_view s) {
  constexpr int kLine = 3;
  constexpr absl::string_view kField = "root hash";
  if (s.empty()) return LineError(kLine, kField, "empty");
  std::string raw;
  // Canonical only, so that one tree head has one text (and one set of signed bytes).
  if (!absl::Base64Unescape(s, &raw) || absl::Base64Escape(raw) != s) {
    return LineError(kLine, kField,
                     absl::StrCat(Quote(s), " is not canonical base64 (RFC 4648 §4, padded)"));
  }
  if (raw.size() != kDigestSize) {
    return LineError(kLine, kField,
                     absl::StrCat("decodes to ", raw.size(), " bytes, want ", kDigestSize));
  }
  return DigestFromBytes(raw, "checkpoint: root hash");
}

absl::Status CheckCosignatureTimestamp(uint64_t timestamp) {
  if (timestamp > kMaxTimestamp) {
    return absl::InvalidArgumentError(
        absl::StrCat("cosignature: timestamp ", timestamp, " exceeds 2^63 - 1"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCheckpoint(const Checkpoint& checkpoint) {
  if (checkpoint.origin.empty()) return LineError(1, "origin", "empty");
  if (checkpoint.origin.find('\n') != std::string::npos) {
    return LineError(1, "origin", "contains a newline");
  }
  for (size_t i = 0; i < checkpoint.extensions.size(); ++i) {
    const int line = static_cast<int>(i + 4);
    if (checkpoint.extensions[i].empty()) return LineError(line, "extension", "empty");
    if (checkpoint.extensions[i].find('\n') != std::string::npos) {
      return LineError(line, "extension", "contains a newline");
    }
  }
  if (absl::Status s = ValidateNoteText(FormatCheckpoint(checkpoint)); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint: ", s.message()));
  }
  return absl::OkStatus();
}

std::string FormatCheckpoint(const Checkpoint& checkpoint) {
  std::string out = absl::StrCat(checkpoint.origin, "\n", checkpoint.size, "\n",
                                 absl::Base64Escape(AsBytes(checkpoint.root_hash)), "\n");
  for (const std::string& extension : checkpoint.extensions) {
    absl::StrAppend(&out, extension, "\n");
  }
  return out;
}

absl::StatusOr<Checkpoint> ParseCheckpoint(absl::string_view text) {
  if (absl::Status s = ValidateNoteText(text); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint: ", s.message()));
  }
  text.remove_suffix(1);  // the final "\n", present per ValidateNoteText
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.size() < 3) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint: ", lines.size(),
                                                   " lines, want at least 3 (origin, tree size, "
                                                   "root hash)"));
  }
  Checkpoint out;
  if (lines[0].empty()) return LineError(1, "origin", "empty");
  out.origin = std::string(lines[0]);
  auto size = ParseTreeSize(lines[1]);
  if (!size.ok()) return size.status();
  out.size = *size;
  auto root = ParseRootHash(lines[2]);
  if (!root.ok()) return root.status();
  out.root_hash = *root;
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return LineError(static_cast<int>(i + 1), "extension", "empty");
    out.extensions.emplace_back(lines[i]);
  }
  return out;
}

absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& checkpoint,
                                           const NoteSigner& log_signer,
                                           absl::Span<const NoteSigner* const> extra_signers) {
  if (absl::Status s = ValidateCheckpoint(checkpoint); !s.ok()) return s;
  if (log_signer.name() != checkpoint.origin) {
    // Clients find the log's line by the origin; a mismatched name would sign a checkpoint that
    // OpenCheckpoint refuses.
    return absl::InvalidArgumentError(absl::StrCat("checkpoint: log key name ",
                                                   Quote(log_signer.name()),
                                                   " is not the origin ",
                                                   Quote(checkpoint.origin)));
  }
  std::vector<const NoteSigner*> signers = {&log_signer};
  for (const NoteSigner* extra : extra_signers) {
    if (extra == nullptr) return absl::InvalidArgumentError("checkpoint: an extra signer is null");
    for (const NoteSigner* earlier : signers) {
      if (earlier->name() == extra->name() && earlier->key_hash() == extra->key_hash()) {
        return absl::InvalidArgumentError(absl::StrCat("checkpoint: two signers ",
                                                       extra->name(), " with key hash ",
                                                       Hex8(extra->key_hash())));
      }
    }
    signers.push_back(extra);
  }
  Note note{FormatCheckpoint(checkpoint), {}};
  for (const NoteSigner* signer : signers) {
    auto signature = signer->Sign(note.text);
    if (!signature.ok()) return signature.status();
    note.signatures.push_back(*std::move(signature));
  }
  return FormatNote(note);
}

absl::StatusOr<Checkpoint> OpenCheckpoint(absl::string_view note,
                                          const NoteVerifier& log_verifier) {
  auto opened = OpenNote(note, {&log_verifier});
  if (!opened.ok()) return opened.status();
  auto checkpoint = ParseCheckpoint(opened->note.text);
  if (!checkpoint.ok()) return checkpoint.status();
  if (checkpoint->origin != log_verifier.name()) {
    // Signed by the log's key, but naming another log: the key may serve several origins, and a
    // client asked about this one.
    return absl::InvalidArgumentError(absl::StrCat("checkpoint: origin ",
                                                   Quote(checkpoint->origin),
                                                   " is not the log key's name ",
                                                   Quote(log_verifier.name())));
  }
  return checkpoint;
}

std::string CosignatureV1Message(const Checkpoint& checkpoint, uint64_t timestamp) {
  return absl::StrCat(kCosignatureV1Header, "\ntime ", timestamp, "\n",
                      FormatCheckpoint(checkpoint));
}

absl::StatusOr<std::unique_ptr<Cosigner>> Cosigner::Create(absl::string_view name,
                                                            std::unique_ptr<PrivateKey> key) {
  if (key == nullptr) return absl::InvalidArgumentError("cosigner: key is null");
  if (auto s = CheckCosignatureAlgorithm(key->algorithm(), "cosigner"); !s.ok()) return s;
  auto vkey = MakeNoteVerifierKey(name, CosignatureKeyMaterial(key->public_key()));
  if (!vkey.ok()) return vkey.status();
  std::string verifier_key = FormatNoteVerifierKey(*vkey);
  return std::unique_ptr<Cosigner>(new Cosigner(std::move(vkey->name), vkey->key_hash,
                                                std::move(verifier_key), std::move(key)));
}

absl::StatusOr<NoteSignature> Cosigner::Cosign(const Checkpoint& checkpoint,
                                               uint64_t timestamp) const {
  if (absl::Status s = ValidateCheckpoint(checkpoint); !s.ok()) return s;
  if (absl::Status s = CheckCosignatureTimestamp(timestamp); !s.ok()) return s;
  auto signature = key().Sign(CosignatureV1Message(checkpoint, timestamp));
  if (!signature.ok()) return signature.status();
  return NoteSignature{name(), key_hash(), absl::StrCat(BigEndian64(timestamp), *signature)};
}

absl::StatusOr<std::unique_ptr<CosignatureVerifier>> CosignatureVerifier::Create(
    absl::string_view verifier_key) {
  auto parsed = ParseNoteVerifierKey(verifier_key);
  if (!parsed.ok()) return parsed.status();
  const uint8_t type = static_cast<uint8_t>(parsed->key_material[0]);  // non-empty once parsed
  if (type != kNoteTypeCosignatureV1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cosignature verifier key: type 0x%02x, want 0x04 (cosignature/v1)", type));
  }
  auto key = PublicKey::FromRaw(SignatureAlgorithm::kEd25519,
                                absl::string_view(parsed->key_material).substr(1));
  if (!key.ok()) return key.status();
  return std::unique_ptr<CosignatureVerifier>(new CosignatureVerifier(
      std::move(parsed->name), parsed->key_hash, std::string(verifier_key), *std::move(key)));
}

absl::StatusOr<std::unique_ptr<CosignatureVerifier>> CosignatureVerifier::Create(
    absl::string_view name, std::unique_ptr<PublicKey> key) {
  if (key == nullptr) return absl::InvalidArgumentError("cosignature verifier: key is null");
  if (auto s = CheckCosignatureAlgorithm(key->algorithm(), "cosignature verifier"); !s.ok()) {
    return s;
  }
  auto vkey = MakeNoteVerifierKey(name, CosignatureKeyMaterial(*key));
  if (!vkey.ok()) return vkey.status();
  std::string verifier_key = FormatNoteVerifierKey(*vkey);
  return std::unique_ptr<CosignatureVerifier>(new CosignatureVerifier(
      std::move(vkey->name), vkey->key_hash, std::move(verifier_key), std::move(key)));
}

absl::StatusOr<uint64_t> CosignatureVerifier::Verify(const Checkpoint& checkpoint,
                                                     const NoteSignature& signature) const {
  if (!Matches(signature)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cosignature: line by ", signature.name, " (key hash ", Hex8(signature.key_hash),
        ") is not for witness ", name(), " (key hash ", Hex8(key_hash()), ")"));
  }
  if (signature.signature.size() != kTimestampSize + kEd25519SignatureSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("cosignature: ", signature.signature.size(), " bytes, want ",
                     kTimestampSize + kEd25519SignatureSize,
                     " (8-byte timestamp, 64-byte Ed25519 signature)"));
  }
  const uint64_t timestamp = ReadBigEndian64(signature.signature);
  if (absl::Status s = CheckCosignatureTimestamp(timestamp); !s.ok()) return s;
  if (absl::Status s = ValidateCheckpoint(checkpoint); !s.ok()) return s;
  absl::Status s = key().Verify(CosignatureV1Message(checkpoint, timestamp),
                                absl::string_view(signature.signature).substr(kTimestampSize));
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("cosignature: by ", name(), " (key hash ",
                                               Hex8(key_hash()), ") of ", checkpoint.origin,
                                               " at size ", checkpoint.size, ": ", s.message()));
  }
  return timestamp;
}

absl::StatusOr<uint64_t> CosignatureVerifier::VerifyInNote(const Note& note) const {
  for (const NoteSignature& signature : note.signatures) {
    if (!Matches(signature)) continue;
    auto checkpoint = ParseCheckpoint(note.text);
    if (!checkpoint.ok()) return checkpoint.status();
    return Verify(*checkpoint, signature);
  }
  return absl::NotFoundError(absl::StrCat("cosignature: no line by ", name(), " (key hash ",
                                          Hex8(key_hash()), ")"));
}

}  // namespace herbtrace::crypto
