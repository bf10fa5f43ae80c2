#include "crypto/signed_note.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "crypto/hash.h"

namespace herbtrace::crypto {
namespace {

constexpr absl::string_view kSignaturePrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space
constexpr size_t kKeyHashSize = 4;

// Fetched once; never freed, so a static destructor cannot pull it from under a late signer.
const Hasher* Sha256() {
  static const Hasher* const hasher = [] {
    auto h = Hasher::Create(HashAlgorithm::kSha256);
    return h.ok() ? h->release() : nullptr;
  }();
  return hasher;
}

std::string Hex8(uint32_t v) { return absl::StrFormat("%08x", v); }

std::string BigEndian32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

uint32_t ReadBigEndian32(absl::string_view b) {
  return static_cast<uint32_t>(static_cast<uint8_t>(b[0])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[2])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[3]));
}

// Decodes the code point at s[*i] and advances *i past it. False for anything that is not UTF-8
// as RFC 3629 defines it: stray continuation bytes, truncated sequences, overlong forms,
// surrogates, values above U+10FFFF.
bool NextCodePoint(absl::string_view s, size_t* i, char32_t* cp) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(*i);
  if (b0 < 0x80) {
    *cp = b0;
    *i += 1;
    return true;
  }
  size_t n;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, min = 0x80, *cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, min = 0x800, *cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, min = 0x10000, *cp = b0 & 0x07;
  } else {
    return false;
  }
  if (s.size() - *i < n) return false;
  for (size_t k = 1; k < n; ++k) {
    uint8_t b = byte(*i + k);
    if ((b & 0xC0) != 0x80) return false;
    *cp = (*cp << 6) | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return false;
  *i += n;
  return true;
}

// Unicode White_Space, the set Go's unicode.IsSpace (and so the reference implementation) uses.
bool IsUnicodeSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

absl::Status CheckUtf8WithoutControls(absl::string_view s, absl::string_view what) {
  for (size_t i = 0; i < s.size();) {
    size_t at = i;
    char32_t c;
    if (!NextCodePoint(s, &i, &c)) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": invalid UTF-8 at byte ", at));
    }
    if (c < 0x20 && c != '\n') {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: control character 0x%02x at byte %d", what, static_cast<unsigned>(c), at));
    }
  }
  return absl::OkStatus();
}

// base64 must be canonical: absl::Base64Unescape also takes unpadded input and non-zero trailing
// bits, and a note whose bytes can vary without changing its meaning is a note two parties can
// disagree about.
bool DecodeCanonicalBase64(absl::string_view b64, std::string* out) {
  return absl::Base64Unescape(b64, out) && absl::Base64Escape(*out) == b64;
}

std::string KeyMaterial(const PublicKey& key) {
  switch (key.algorithm()) {
    case SignatureAlgorithm::kEd25519:
      return absl::StrCat(absl::string_view("\x01", 1), key.raw());
    case SignatureAlgorithm::kSm2:
      return absl::StrCat(absl::string_view("\xff", 1), kNoteSm2Identifier, key.raw());
  }
  return std::string();
}

absl::StatusOr<std::unique_ptr<PublicKey>> PublicKeyFromMaterial(absl::string_view material) {
  if (material.empty()) return absl::InvalidArgumentError("verifier key: empty key material");
  const uint8_t type = static_cast<uint8_t>(material[0]);
  absl::string_view key = material.substr(1);
  if (type == kNoteTypeEd25519) {
    return PublicKey::FromRaw(SignatureAlgorithm::kEd25519, key);
  }
  if (type == kNoteTypeUnassigned && absl::ConsumePrefix(&key, kNoteSm2Identifier)) {
    return PublicKey::FromRaw(SignatureAlgorithm::kSm2, key);
  }
  if (type == kNoteTypeCosignatureV1) {
    return absl::InvalidArgumentError(
        "verifier key: type 0x04 is a cosignature/v1 key; verify it with a CosignatureVerifier");
  }
  if (type == kNoteTypeUnassigned) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key: type 0xff without the \"", kNoteSm2Identifier,
                     "\" identifier is not a type HerbTrace knows"));
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("verifier key: unsupported signature type 0x%02x", type));
}

}  // namespace

absl::Status ValidateNoteText(absl::string_view text) {
  if (text.size() > kMaxNoteSize) {
    return absl::InvalidArgumentError(absl::StrCat("note text: ", text.size(),
                                                   " bytes, more than the limit of ",
                                                   kMaxNoteSize));
  }
  if (text.empty()) return absl::InvalidArgumentError("note text: empty");
  if (text.back() != '\n') return absl::InvalidArgumentError("note text: missing final newline");
  return CheckUtf8WithoutControls(text, "note text");
}

absl::Status ValidateKeyName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("key name: empty");
  for (size_t i = 0; i < name.size();) {
    size_t at = i;
    char32_t c;
    if (!NextCodePoint(name, &i, &c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("key name: invalid UTF-8 at byte ", at));
    }
    if (IsUnicodeSpace(c)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "key name \"%s\": white space U+%04X at byte %d", name, static_cast<unsigned>(c), at));
    }
    if (c < 0x20) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "key name: control character 0x%02x at byte %d", static_cast<unsigned>(c), at));
    }
    if (c == '+') {
      return absl::InvalidArgumentError(
          absl::StrCat("key name \"", name, "\": contains '+' at byte ", at));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Note> ParseNote(absl::string_view note) {
  if (note.size() > kMaxNoteSize) {
    return absl::InvalidArgumentError(absl::StrCat("note: ", note.size(),
                                                   " bytes, more than the limit of ",
                                                   kMaxNoteSize));
  }
  if (absl::Status s = CheckUtf8WithoutControls(note, "note"); !s.ok()) return s;
  if (note.empty() || note.back() != '\n') {
    return absl::InvalidArgumentError("note: missing final newline");
  }
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError("note: no blank line between the text and the signatures");
  }
  Note out;
  out.text = std::string(note.substr(0, split + 1));
  absl::string_view rest = note.substr(split + 2);
  if (rest.empty()) {
    return absl::InvalidArgumentError("note: no signature lines after the blank line");
  }

  // 1-based line numbers in the whole note, for messages a person can find the line by.
  size_t line_no = 2 + static_cast<size_t>(std::count(note.begin(), note.begin() + split, '\n'));
  std::vector<size_t> line_of;  // line number of each accepted signature
  while (!rest.empty()) {
    ++line_no;
    const size_t eol = rest.find('\n');  // found: rest ends in '\n'
    absl::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol + 1);
    const std::string where = absl::StrCat("note: line ", line_no, ": ");

    if (out.signatures.size() == kMaxNoteSignatures) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "more than ", kMaxNoteSignatures, " signature lines"));
    }
    if (!absl::ConsumePrefix(&line, kSignaturePrefix)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "a signature line must begin with \"— \" (U+2014, space)"));
    }
    const size_t space = line.find(' ');
    if (space == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "no space between the key name and the signature"));
    }
    absl::string_view name = line.substr(0, space);
    absl::string_view b64 = line.substr(space + 1);
    if (b64.find(' ') != absl::string_view::npos) {
      // Neither part may hold a space, so which one does is undecidable; say both.
      return absl::InvalidArgumentError(absl::StrCat(
          where, "more than one space: key names and base64 cannot contain spaces"));
    }
    if (absl::Status s = ValidateKeyName(name); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, s.message()));
    }
    std::string raw;
    if (!DecodeCanonicalBase64(b64, &raw)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "signature is not canonical base64 (RFC 4648 §4, padded)"));
    }
    if (raw.size() <= kKeyHashSize) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "signature decodes to ", raw.size(),
                       " bytes, want at least 5 (a 4-byte key hash and a signature)"));
    }
    NoteSignature sig{std::string(name), ReadBigEndian32(raw), raw.substr(kKeyHashSize)};
    for (size_t i = 0; i < out.signatures.size(); ++i) {
      if (out.signatures[i].name == sig.name && out.signatures[i].key_hash == sig.key_hash) {
        // The spec is silent; two lines by one key are at best redundant and at worst a way to
        // make verifiers disagree about which one counts.
        return absl::InvalidArgumentError(absl::StrCat(
            where, "a second signature by ", sig.name, " (key hash ", Hex8(sig.key_hash),
            "); the first is on line ", line_of[i]));
      }
    }
    out.signatures.push_back(std::move(sig));
    line_of.push_back(line_no);
  }
  return out;
}

std::string FormatNote(const Note& note) {
  std::string out = absl::StrCat(note.text, "\n");
  for (const NoteSignature& sig : note.signatures) {
    absl::StrAppend(&out, kSignaturePrefix, sig.name, " ",
                    absl::Base64Escape(absl::StrCat(BigEndian32(sig.key_hash), sig.signature)),
                    "\n");
  }
  return out;
}

absl::StatusOr<uint32_t> NoteKeyHash(absl::string_view name, absl::string_view key_material) {
  const Hasher* sha256 = Sha256();
  if (sha256 == nullptr) return absl::UnimplementedError("note: SHA-256 is unavailable");
  Digest d = sha256->Hash(absl::StrCat(name, "\n", key_material));
  return ReadBigEndian32(AsBytes(d));
}

absl::StatusOr<NoteVerifierKey> ParseNoteVerifierKey(absl::string_view vkey) {
  // The name cannot contain '+' and the hash is hex, so the first two '+' split the parts; the
  // base64 after them may contain more.
  const size_t plus1 = vkey.find('+');
  const size_t plus2 = plus1 == absl::string_view::npos ? plus1 : vkey.find('+', plus1 + 1);
  if (plus2 == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "verifier key: want <name>+<8 hex digits>+<base64 key material>");
  }
  absl::string_view name = vkey.substr(0, plus1);
  absl::string_view hash16 = vkey.substr(plus1 + 1, plus2 - plus1 - 1);
  absl::string_view key64 = vkey.substr(plus2 + 1);
  if (absl::Status s = ValidateKeyName(name); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("verifier key: ", s.message()));
  }
  bool hex_ok = hash16.size() == 8;
  for (char c : hash16) hex_ok = hex_ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!hex_ok) {
    return absl::InvalidArgumentError(absl::StrCat("verifier key: key hash \"", hash16,
                                                   "\" is not 8 lowercase hex digits"));
  }
  NoteVerifierKey out;
  if (!DecodeCanonicalBase64(key64, &out.key_material)) {
    return absl::InvalidArgumentError("verifier key: key material is not canonical base64");
  }
  if (out.key_material.empty()) {
    return absl::InvalidArgumentError("verifier key: empty key material");
  }
  out.name = std::string(name);
  out.key_hash = ReadBigEndian32(absl::HexStringToBytes(hash16));
  auto want = NoteKeyHash(out.name, out.key_material);
  if (!want.ok()) return want.status();
  if (*want != out.key_hash) {
    return absl::InvalidArgumentError(absl::StrCat("verifier key: key hash ", hash16,
                                                   " does not match the name and key (want ",
                                                   Hex8(*want), ")"));
  }
  return out;
}

std::string FormatNoteVerifierKey(const NoteVerifierKey& key) {
  return absl::StrCat(key.name, "+", Hex8(key.key_hash), "+", absl::Base64Escape(key.key_material));
}

absl::StatusOr<NoteVerifierKey> MakeNoteVerifierKey(absl::string_view name,
                                                    std::string key_material) {
  if (absl::Status s = ValidateKeyName(name); !s.ok()) return s;
  auto hash = NoteKeyHash(name, key_material);
  if (!hash.ok()) return hash.status();
  return NoteVerifierKey{std::string(name), *hash, std::move(key_material)};
}

absl::StatusOr<std::unique_ptr<NoteSigner>> NoteSigner::Create(absl::string_view name,
                                                                std::unique_ptr<PrivateKey> key) {
  if (key == nullptr) return absl::InvalidArgumentError("note signer: key is null");
  auto vkey = MakeNoteVerifierKey(name, KeyMaterial(key->public_key()));
  if (!vkey.ok()) return vkey.status();
  std::string verifier_key = FormatNoteVerifierKey(*vkey);
  return std::unique_ptr<NoteSigner>(new NoteSigner(std::move(vkey->name), vkey->key_hash,
                                                    std::move(verifier_key), std::move(key)));
}

absl::StatusOr<NoteSignature> NoteSigner::Sign(absl::string_view text) const {
  if (absl::Status s = ValidateNoteText(text); !s.ok()) return s;
  auto signature = key().Sign(text);
  if (!signature.ok()) return signature.status();
  return NoteSignature{name(), key_hash(), *std::move(signature)};
}

absl::StatusOr<std::unique_ptr<NoteVerifier>> NoteVerifier::Create(
    absl::string_view verifier_key) {
  auto parsed = ParseNoteVerifierKey(verifier_key);
  if (!parsed.ok()) return parsed.status();
  auto key = PublicKeyFromMaterial(parsed->key_material);
  if (!key.ok()) return key.status();
  return std::unique_ptr<NoteVerifier>(new NoteVerifier(
      std::move(parsed->name), parsed->key_hash, std::string(verifier_key), *std::move(key)));
}

absl::StatusOr<std::unique_ptr<NoteVerifier>> NoteVerifier::Create(
    absl::string_view name, std::unique_ptr<PublicKey> key) {
  if (key == nullptr) return absl::InvalidArgumentError("note verifier: key is null");
  auto vkey = MakeNoteVerifierKey(name, KeyMaterial(*key));
  if (!vkey.ok()) return vkey.status();
  std::string verifier_key = FormatNoteVerifierKey(*vkey);
  return std::unique_ptr<NoteVerifier>(new NoteVerifier(
      std::move(vkey->name), vkey->key_hash, std::move(verifier_key), std::move(key)));
}

absl::Status NoteVerifier::Verify(absl::string_view text, const NoteSignature& signature) const {
  if (!Matches(signature)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "note: signature by ", signature.name, " (key hash ", Hex8(signature.key_hash),
        ") is not for key ", name(), " (key hash ", Hex8(key_hash()), ")"));
  }
  absl::Status s = key().Verify(text, signature.signature);
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("note: signature by ", name(), " (key hash ",
                                             Hex8(key_hash()), "): ", s.message()));
}

absl::StatusOr<OpenedNote> OpenNote(absl::string_view note,
                                    absl::Span<const NoteVerifier* const> verifiers) {
  for (size_t i = 0; i < verifiers.size(); ++i) {
    if (verifiers[i] == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("note: verifier ", i, " is null"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (verifiers[j]->name() == verifiers[i]->name() &&
          verifiers[j]->key_hash() == verifiers[i]->key_hash()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "note: two verifiers for ", verifiers[i]->name(), " with key hash ",
            Hex8(verifiers[i]->key_hash()), "; a line could not say which key made it"));
      }
    }
  }
  auto parsed = ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  OpenedNote out{*std::move(parsed), {}};
  for (size_t i = 0; i < out.note.signatures.size(); ++i) {
    const NoteSignature& sig = out.note.signatures[i];
    for (const NoteVerifier* v : verifiers) {
      if (!v->Matches(sig)) continue;
      if (absl::Status s = v->Verify(out.note.text, sig); !s.ok()) return s;
      out.verified.push_back(i);
      break;
    }
  }
  if (out.verified.empty()) {
    std::string seen;
    for (const NoteSignature& sig : out.note.signatures) {
      absl::StrAppend(&seen, seen.empty() ? "" : ", ", sig.name, "/", Hex8(sig.key_hash));
    }
    return absl::UnauthenticatedError(
        absl::StrCat("note: no signature by a trusted key (signed by ", seen, ")"));
  }
  return out;
}

}  // namespace herbtrace::crypto
