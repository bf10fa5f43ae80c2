// C2SP signed notes, checkpoints and cosignatures as a client receives them from a log or a
// witness. The input is a vkey line followed by a note: the vkey is parsed and, when it is one,
// trusted beside the log's and the witness's fixed keys, so key material of every type (Ed25519,
// HerbTrace SM2, cosignature) reaches the parsers and verifiers.
//
// Invariants: a note or checkpoint that parses formats back to the same bytes; a vkey that parses
// formats back to itself; an opened note is the parsed note, and each line it says verified does
// verify on its own; an opened checkpoint is the parsed text; a cosignature found in a note
// verifies against the checkpoint with the same timestamp.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/strings/string_view.h"
#include "crypto/checkpoint.h"
#include "crypto/signed_note.h"
#include "fuzz/fixed_keys.h"

namespace herbtrace::fuzz {
namespace {

std::unique_ptr<crypto::PublicKey> PublicHalf(const crypto::PrivateKey& key) {
  auto pub = crypto::PublicKey::FromRaw(key.algorithm(), key.public_key().raw());
  if (!pub.ok()) std::abort();
  return *std::move(pub);
}

struct TrustedKeys {
  std::unique_ptr<crypto::NoteVerifier> log;
  std::unique_ptr<crypto::CosignatureVerifier> witness;
};

const TrustedKeys& Trusted() {
  static const TrustedKeys* const keys = [] {
    auto log = crypto::NoteVerifier::Create(kLogOrigin, PublicHalf(*FixedKey(kLogKeyFill)));
    auto witness =
        crypto::CosignatureVerifier::Create(kWitnessName, PublicHalf(*FixedKey(kWitnessKeyFill)));
    if (!log.ok() || !witness.ok()) std::abort();
    return new TrustedKeys{*std::move(log), *std::move(witness)};
  }();
  return *keys;
}

void CheckVerifierKey(absl::string_view vkey) {
  auto parsed = crypto::ParseNoteVerifierKey(vkey);
  if (!parsed.ok()) return;
  FUZZ_REQUIRE(crypto::FormatNoteVerifierKey(*parsed) == vkey);
  FUZZ_REQUIRE(crypto::ValidateKeyName(parsed->name).ok());
  auto rebuilt = crypto::MakeNoteVerifierKey(parsed->name, parsed->key_material);
  FUZZ_REQUIRE(rebuilt.ok() && *rebuilt == *parsed);
}

void CheckCheckpointText(absl::string_view text) {
  auto checkpoint = crypto::ParseCheckpoint(text);
  if (!checkpoint.ok()) return;
  FUZZ_REQUIRE(crypto::ValidateCheckpoint(*checkpoint).ok());
  FUZZ_REQUIRE(crypto::FormatCheckpoint(*checkpoint) == text);
}

void CheckNote(absl::string_view note, const crypto::NoteVerifier* extra) {
  const TrustedKeys& trusted = Trusted();
  auto parsed = crypto::ParseNote(note);
  if (parsed.ok()) {
    FUZZ_REQUIRE(crypto::ValidateNoteText(parsed->text).ok());
    FUZZ_REQUIRE(!parsed->signatures.empty());
    for (const crypto::NoteSignature& s : parsed->signatures) {
      FUZZ_REQUIRE(crypto::ValidateKeyName(s.name).ok());
    }
    FUZZ_REQUIRE(crypto::FormatNote(*parsed) == note);
    CheckCheckpointText(parsed->text);
  }

  std::vector<const crypto::NoteVerifier*> verifiers = {trusted.log.get()};
  if (extra != nullptr) verifiers.push_back(extra);
  auto opened = crypto::OpenNote(note, verifiers);
  if (opened.ok()) {
    FUZZ_REQUIRE(parsed.ok() && opened->note == *parsed);
    FUZZ_REQUIRE(!opened->verified.empty());
    size_t previous = 0;
    for (size_t n = 0; n < opened->verified.size(); ++n) {
      const size_t i = opened->verified[n];
      FUZZ_REQUIRE(i < parsed->signatures.size() && (n == 0 || i > previous));
      previous = i;
      const crypto::NoteSignature& line = parsed->signatures[i];
      bool verified = false;
      for (const crypto::NoteVerifier* v : verifiers) {
        if (v->Matches(line) && v->Verify(parsed->text, line).ok()) verified = true;
      }
      FUZZ_REQUIRE(verified);
    }
  }

  auto checkpoint = crypto::OpenCheckpoint(note, *trusted.log);
  if (checkpoint.ok()) {
    const crypto::NoteVerifier* log_only[] = {trusted.log.get()};
    FUZZ_REQUIRE(crypto::OpenNote(note, log_only).ok());
    FUZZ_REQUIRE(checkpoint->origin == kLogOrigin);
    FUZZ_REQUIRE(crypto::FormatCheckpoint(*checkpoint) == parsed->text);
  }

  if (parsed.ok()) {
    auto timestamp = trusted.witness->VerifyInNote(*parsed);
    if (timestamp.ok()) {
      auto text = crypto::ParseCheckpoint(parsed->text);
      FUZZ_REQUIRE(text.ok());
      bool found = false;
      for (const crypto::NoteSignature& s : parsed->signatures) {
        if (!trusted.witness->Matches(s)) continue;
        auto again = trusted.witness->Verify(*text, s);
        if (again.ok() && *again == *timestamp) found = true;
      }
      FUZZ_REQUIRE(found);
    }
  }
}

}  // namespace
}  // namespace herbtrace::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herbtrace;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const absl::string_view vkey =
      newline == absl::string_view::npos ? input : input.substr(0, newline);
  const absl::string_view note =
      newline == absl::string_view::npos ? absl::string_view() : input.substr(newline + 1);

  fuzz::CheckVerifierKey(vkey);
  // The vkey as a key this client trusts, and as a witness's.
  auto extra = crypto::NoteVerifier::Create(vkey);
  auto cosigner = crypto::CosignatureVerifier::Create(vkey);
  if (extra.ok()) FUZZ_REQUIRE((*extra)->VerifierKey() == vkey);
  if (cosigner.ok()) {
    FUZZ_REQUIRE((*cosigner)->VerifierKey() == vkey);
    if (auto parsed = crypto::ParseNote(note); parsed.ok())
      (void)(*cosigner)->VerifyInNote(*parsed);
  }
  fuzz::CheckNote(note, extra.ok() ? extra->get() : nullptr);
  // The whole input as a checkpoint text and as a note, for inputs without a vkey line.
  fuzz::CheckCheckpointText(input);
  fuzz::CheckNote(input, nullptr);
  return 0;
}
