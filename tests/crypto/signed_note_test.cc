// Vectors (see tests/data/test-vectors/SOURCE.md):
// - vectors.json "signed_note_example": the C2SP signed-note example (C2SP/C2SP signed-note.md at
//   5ba5ee830903e91240fc6f9f3a7a9293d49e69c9), verifier key and note.
// - kGoEd25519Vkey and kGoCosignatureVkey: transparency-dev/formats note/note_cosigv1_test.go at
//   091ce41666c09683aa9350785e572be27f0c026d (Apache-2.0), TestCoSigV1NewVerifier; vkeys made by
//   the Go reference implementation, so their key hashes check ours.
#include "crypto/signed_note.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace herbtrace::crypto {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::LoadVectors;
using ::herbtrace::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kGoEd25519Vkey[] = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6";
constexpr char kGoCosignatureVkey[] =
    "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
constexpr char kEmDash[] = "\xE2\x80\x94";

struct Example {
  std::string verifier_key;
  std::string note;
};

Example C2spExample() {
  const nlohmann::json v = LoadVectors()["signed_note_example"];
  return {v["verifier_key"].get<std::string>(), v["note"].get<std::string>()};
}

std::unique_ptr<NoteSigner> MakeSigner(absl::string_view name, SignatureAlgorithm algorithm) {
  auto key = PrivateKey::Generate(algorithm);
  EXPECT_THAT(key, IsOk());
  if (!key.ok()) return nullptr;
  auto signer = NoteSigner::Create(name, *std::move(key));
  EXPECT_THAT(signer, IsOk());
  return signer.ok() ? *std::move(signer) : nullptr;
}

std::unique_ptr<NoteVerifier> MakeVerifier(absl::string_view vkey) {
  auto verifier = NoteVerifier::Create(vkey);
  EXPECT_THAT(verifier, IsOk());
  return verifier.ok() ? *std::move(verifier) : nullptr;
}

uint32_t IndependentKeyHash(absl::string_view name, absl::string_view material) {
  auto sha = Hasher::Create(HashAlgorithm::kSha256);
  EXPECT_THAT(sha, IsOk());
  const Digest d = (*sha)->Hash(absl::StrCat(name, "\n", material));
  return uint32_t{d[0]} << 24 | uint32_t{d[1]} << 16 | uint32_t{d[2]} << 8 | uint32_t{d[3]};
}

// A well-formed line with a 64-byte signature under `name`, for notes that only need to parse.
std::string Line(absl::string_view name, char fill = 'a') {
  return absl::StrCat(kEmDash, " ", name, " ", absl::Base64Escape(std::string(68, fill)), "\n");
}

TEST(SignedNoteTest, C2spExampleVerifies) {
  const Example ex = C2spExample();
  auto verifier = MakeVerifier(ex.verifier_key);
  ASSERT_NE(verifier, nullptr);
  EXPECT_EQ(verifier->name(), "example.com/foo");
  EXPECT_EQ(verifier->key_hash(), 0x530d903au);
  EXPECT_EQ(verifier->key().algorithm(), SignatureAlgorithm::kEd25519);
  EXPECT_EQ(verifier->VerifierKey(), ex.verifier_key);

  HT_ASSERT_OK_AND_ASSIGN(OpenedNote opened, OpenNote(ex.note, {verifier.get()}));
  EXPECT_EQ(opened.note.text, "This is an example message.\n");
  ASSERT_EQ(opened.note.signatures.size(), 1u);
  EXPECT_EQ(opened.note.signatures[0].name, "example.com/foo");
  EXPECT_EQ(opened.note.signatures[0].key_hash, 0x530d903au);
  EXPECT_EQ(opened.note.signatures[0].signature.size(), 64u);
  EXPECT_THAT(opened.verified, ElementsAre(0));
}

TEST(SignedNoteTest, C2spExampleFormatsBackToItsBytes) {
  const Example ex = C2spExample();
  HT_ASSERT_OK_AND_ASSIGN(Note note, ParseNote(ex.note));
  EXPECT_EQ(FormatNote(note), ex.note);
}

TEST(SignedNoteTest, AnyChangedCharacterOfTheTextFailsToVerify) {
  const Example ex = C2spExample();
  auto verifier = MakeVerifier(ex.verifier_key);
  ASSERT_NE(verifier, nullptr);
  const size_t text_size = std::string("This is an example message.\n").size();
  for (size_t i = 0; i + 1 < text_size; ++i) {
    std::string tampered = ex.note;
    tampered[i] = tampered[i] == 'x' ? 'y' : 'x';
    EXPECT_THAT(OpenNote(tampered, {verifier.get()}),
                StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("does not verify")))
        << "changed byte " << i;
  }
}

TEST(SignedNoteTest, AnotherKeyDoesNotOpenTheExample) {
  const Example ex = C2spExample();
  // Same name, other key: the key hash differs, so the line is not this verifier's.
  auto other = MakeSigner("example.com/foo", SignatureAlgorithm::kEd25519);
  ASSERT_NE(other, nullptr);
  auto verifier = MakeVerifier(other->VerifierKey());
  ASSERT_NE(verifier, nullptr);
  EXPECT_THAT(OpenNote(ex.note, {verifier.get()}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("no signature by a trusted key (signed by "
                                 "example.com/foo/530d903a)")));
}

TEST(SignedNoteTest, ALineClaimingAKnownKeyButSignedByAnotherIsRejected) {
  const Example ex = C2spExample();
  auto verifier = MakeVerifier(ex.verifier_key);
  auto impostor = MakeSigner("example.com/foo", SignatureAlgorithm::kEd25519);
  ASSERT_NE(verifier, nullptr);
  ASSERT_NE(impostor, nullptr);
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature sig, impostor->Sign("This is an example message.\n"));
  sig.key_hash = verifier->key_hash();  // claims to be the example's key
  const std::string note = FormatNote({"This is an example message.\n", {sig}});
  EXPECT_THAT(OpenNote(note, {verifier.get()}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("note: signature by example.com/foo (key hash 530d903a)")));
}

TEST(SignedNoteTest, GoReferenceVkeysParse) {
  auto ed = MakeVerifier(kGoEd25519Vkey);  // its base64 contains '+'
  ASSERT_NE(ed, nullptr);
  EXPECT_EQ(ed->name(), "TEST");
  EXPECT_EQ(ed->key_hash(), 0x7997405cu);
  EXPECT_EQ(ed->VerifierKey(), kGoEd25519Vkey);

  HT_ASSERT_OK_AND_ASSIGN(NoteVerifierKey parsed, ParseNoteVerifierKey(kGoCosignatureVkey));
  EXPECT_EQ(parsed.name, "remora.n621.de");
  EXPECT_EQ(parsed.key_hash, 0xda77ade7u);
  EXPECT_EQ(parsed.key_material.size(), 33u);
  EXPECT_EQ(parsed.key_material[0], '\x04');
  EXPECT_EQ(FormatNoteVerifierKey(parsed), kGoCosignatureVkey);
  // A cosignature key is not a note verifier: its signatures cover a different message.
  EXPECT_THAT(NoteVerifier::Create(kGoCosignatureVkey),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("CosignatureVerifier")));
}

TEST(SignedNoteTest, Ed25519SignThenOpenRoundTrips) {
  auto signer = MakeSigner("anguo.herbtrace.example/log", SignatureAlgorithm::kEd25519);
  ASSERT_NE(signer, nullptr);
  const std::string& pub = signer->key().public_key().raw();
  EXPECT_EQ(signer->key_hash(),
            IndependentKeyHash(signer->name(), absl::StrCat(absl::string_view("\x01", 1), pub)));
  EXPECT_EQ(signer->VerifierKey(),
            absl::StrCat("anguo.herbtrace.example/log+", absl::StrFormat("%08x", signer->key_hash()),
                         "+", absl::Base64Escape(absl::StrCat(absl::string_view("\x01", 1), pub))));

  const std::string text = "批次 AG-2024-001\n\n产地: 安国\n";  // UTF-8 and an inner blank line
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature sig, signer->Sign(text));
  EXPECT_EQ(sig.name, signer->name());
  EXPECT_EQ(sig.key_hash, signer->key_hash());
  const std::string note = FormatNote({text, {sig}});

  auto verifier = MakeVerifier(signer->VerifierKey());
  ASSERT_NE(verifier, nullptr);
  HT_ASSERT_OK_AND_ASSIGN(OpenedNote opened, OpenNote(note, {verifier.get()}));
  EXPECT_EQ(opened.note.text, text);
  EXPECT_THAT(opened.verified, ElementsAre(0));

  HT_ASSERT_OK_AND_ASSIGN(auto public_key, PublicKey::FromRaw(SignatureAlgorithm::kEd25519, pub));
  HT_ASSERT_OK_AND_ASSIGN(auto from_key,
                          NoteVerifier::Create(signer->name(), std::move(public_key)));
  EXPECT_EQ(from_key->VerifierKey(), signer->VerifierKey());
  EXPECT_THAT(from_key->Verify(text, sig), IsOk());
  EXPECT_THAT(from_key->Verify("other\n", sig), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(SignedNoteTest, Sm2LineRidesAlongTheEd25519Line) {
  const std::string name = "anguo.herbtrace.example/log";
  auto ed = MakeSigner(name, SignatureAlgorithm::kEd25519);
  auto sm2 = MakeSigner(name, SignatureAlgorithm::kSm2);
  ASSERT_NE(ed, nullptr);
  ASSERT_NE(sm2, nullptr);
  const std::string material =
      absl::StrCat(absl::string_view("\xff", 1), "herbtrace-sm2", sm2->key().public_key().raw());
  EXPECT_EQ(sm2->key_hash(), IndependentKeyHash(name, material));
  HT_ASSERT_OK_AND_ASSIGN(NoteVerifierKey sm2_vkey, ParseNoteVerifierKey(sm2->VerifierKey()));
  EXPECT_EQ(sm2_vkey.key_material, material);

  const std::string text = "origin\n1\nroot\n";
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature ed_sig, ed->Sign(text));
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature sm2_sig, sm2->Sign(text));
  EXPECT_EQ(sm2_sig.signature[0], '\x30');  // DER
  const std::string note = FormatNote({text, {ed_sig, sm2_sig}});

  auto ed_verifier = MakeVerifier(ed->VerifierKey());
  auto sm2_verifier = MakeVerifier(sm2->VerifierKey());
  ASSERT_NE(ed_verifier, nullptr);
  ASSERT_NE(sm2_verifier, nullptr);
  EXPECT_EQ(sm2_verifier->key().algorithm(), SignatureAlgorithm::kSm2);
  // A C2SP client knowing only the Ed25519 key ignores the SM2 line.
  HT_ASSERT_OK_AND_ASSIGN(OpenedNote by_ed, OpenNote(note, {ed_verifier.get()}));
  EXPECT_THAT(by_ed.verified, ElementsAre(0));
  HT_ASSERT_OK_AND_ASSIGN(OpenedNote by_sm2, OpenNote(note, {sm2_verifier.get()}));
  EXPECT_THAT(by_sm2.verified, ElementsAre(1));
  HT_ASSERT_OK_AND_ASSIGN(OpenedNote by_both,
                          OpenNote(note, {ed_verifier.get(), sm2_verifier.get()}));
  EXPECT_THAT(by_both.verified, ElementsAre(0, 1));
}

TEST(SignedNoteTest, AFailingKnownLineRejectsTheNoteEvenIfAnotherVerifies) {
  auto ed = MakeSigner("log.example", SignatureAlgorithm::kEd25519);
  auto sm2 = MakeSigner("log.example", SignatureAlgorithm::kSm2);
  ASSERT_NE(ed, nullptr);
  ASSERT_NE(sm2, nullptr);
  const std::string text = "hello\n";
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature ed_sig, ed->Sign(text));
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature sm2_sig, sm2->Sign("another text\n"));
  const std::string note = FormatNote({text, {ed_sig, sm2_sig}});
  auto ed_verifier = MakeVerifier(ed->VerifierKey());
  auto sm2_verifier = MakeVerifier(sm2->VerifierKey());
  ASSERT_NE(ed_verifier, nullptr);
  ASSERT_NE(sm2_verifier, nullptr);
  EXPECT_THAT(OpenNote(note, {ed_verifier.get()}), IsOk());
  EXPECT_THAT(OpenNote(note, {ed_verifier.get(), sm2_verifier.get()}),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("does not verify")));
}

TEST(SignedNoteTest, UnknownKeyLinesAreIgnoredButKept) {
  const Example ex = C2spExample();
  auto verifier = MakeVerifier(ex.verifier_key);
  ASSERT_NE(verifier, nullptr);
  // Before and after the known line; one shares the known name (but not the key hash).
  const std::string note = absl::StrCat("This is an example message.\n\n",
                                        Line("witness.example/w1"),
                                        ex.note.substr(ex.note.find(kEmDash)),
                                        Line("example.com/foo", 'b'));
  HT_ASSERT_OK_AND_ASSIGN(OpenedNote opened, OpenNote(note, {verifier.get()}));
  EXPECT_EQ(opened.note.signatures.size(), 3u);
  EXPECT_THAT(opened.verified, ElementsAre(1));
}

TEST(SignedNoteTest, TextEndsAtTheLastBlankLine) {
  const std::string note = absl::StrCat("a\n\n", Line("x.example"), "\n", Line("y.example"));
  HT_ASSERT_OK_AND_ASSIGN(Note parsed, ParseNote(note));
  EXPECT_EQ(parsed.text, absl::StrCat("a\n\n", Line("x.example")));
  ASSERT_EQ(parsed.signatures.size(), 1u);
  EXPECT_EQ(parsed.signatures[0].name, "y.example");
  EXPECT_EQ(FormatNote(parsed), note);
}

struct MalformedCase {
  std::string label;
  std::string note;
  std::string message;
};

class MalformedNoteTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedNoteTest, IsRejectedWithAPreciseMessage) {
  EXPECT_THAT(ParseNote(GetParam().note),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().message)));
}

std::vector<MalformedCase> MalformedCases() {
  const std::string sig = absl::Base64Escape(std::string(68, 'a'));
  const std::string dash = absl::StrCat(kEmDash, " ");
  std::string many = "text\n\n";
  for (int i = 0; i <= 100; ++i) absl::StrAppend(&many, Line(absl::StrCat("k", i, ".example")));
  return {
      {"NoBlankLine", absl::StrCat("text\n", Line("a.example")), "no blank line"},
      {"NoFinalNewline", absl::StrCat("text\n\n", dash, "a.example ", sig),
       "missing final newline"},
      {"NoSignatures", "text\n\n", "no signature lines after the blank line"},
      {"Empty", "", "missing final newline"},
      {"NotAnEmDash", absl::StrCat("text\n\n- a.example ", sig, "\n"),
       "line 3: a signature line must begin with"},
      {"NoSpaceAfterName", absl::StrCat("text\n\n", dash, "a.example\n"), "line 3: no space"},
      {"EmptyName", absl::StrCat("text\n\n", dash, " ", sig, "\n"), "line 3: key name: empty"},
      {"NameWithSpace", absl::StrCat("text\n\n", dash, "a example ", sig, "\n"),
       "line 3: more than one space"},
      {"NameWithUnicodeSpace", absl::StrCat("text\n\n", dash, "a\xC2\xA0" "example ", sig, "\n"),
       "line 3: key name \"a\xC2\xA0" "example\": white space U+00A0"},
      {"NameWithPlus", absl::StrCat("text\n\n", dash, "a+b ", sig, "\n"),
       "line 3: key name \"a+b\": contains '+'"},
      {"BadBase64", absl::StrCat("text\n\n", dash, "a.example !!!!\n"),
       "line 3: signature is not canonical base64"},
      {"UnpaddedBase64", absl::StrCat("text\n\n", dash, "a.example ", sig.substr(0, 90), "\n"),
       "line 3: signature is not canonical base64"},
      {"EmptyBase64", absl::StrCat("text\n\n", dash, "a.example \n"),
       "line 3: signature decodes to 0 bytes"},
      {"SignatureTooShort", absl::StrCat("text\n\n", dash, "a.example AAAAAA==\n"),
       "line 3: signature decodes to 4 bytes, want at least 5"},
      {"DuplicateSignature",
       absl::StrCat("one\ntwo\n\n", Line("a.example"), Line("b.example"), Line("a.example")),
       "line 6: a second signature by a.example (key hash 61616161); the first is on line 4"},
      {"ControlCharacter", absl::StrCat("te\rxt\n\n", Line("a.example")),
       "control character 0x0d at byte 2"},
      {"Tab", absl::StrCat("\ttext\n\n", Line("a.example")), "control character 0x09 at byte 0"},
      {"InvalidUtf8", absl::StrCat("text\xff\n\n", Line("a.example")),
       "invalid UTF-8 at byte 4"},
      {"OverlongUtf8", absl::StrCat("text\xC0\xAF\n\n", Line("a.example")), "invalid UTF-8"},
      {"Surrogate", absl::StrCat("text\xED\xA0\x80\n\n", Line("a.example")), "invalid UTF-8"},
      {"TooManySignatures", many, "more than 100 signature lines"},
      {"TooLarge", absl::StrCat(std::string(kMaxNoteSize, 'x'), "\n\n", Line("a.example")),
       "more than the limit of 1048576"},
  };
}

INSTANTIATE_TEST_SUITE_P(Cases, MalformedNoteTest, ::testing::ValuesIn(MalformedCases()),
                         [](const ::testing::TestParamInfo<MalformedCase>& info) {
                           return info.param.label;
                         });

TEST(SignedNoteTest, SixteenSignaturesAreAccepted) {
  std::string note = "text\n\n";
  for (int i = 0; i < 16; ++i) absl::StrAppend(&note, Line(absl::StrCat("w", i, ".example")));
  HT_ASSERT_OK_AND_ASSIGN(Note parsed, ParseNote(note));
  EXPECT_EQ(parsed.signatures.size(), 16u);
}

TEST(SignedNoteTest, VerifierKeysAreCheckedStrictly) {
  const Example ex = C2spExample();  // example.com/foo+530d903a+AekyeRrm...
  const std::string material = ex.verifier_key.substr(ex.verifier_key.rfind('+') + 1);
  struct Case {
    std::string vkey;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"example.com/foo", "want <name>+<8 hex digits>+<base64 key material>"},
      {"example.com/foo+530d903a", "want <name>+<8 hex digits>"},
      {absl::StrCat("+530d903a+", material), "key name: empty"},
      {absl::StrCat("example.com/foo+530D903A+", material), "not 8 lowercase hex digits"},
      {absl::StrCat("example.com/foo+530d903+", material), "not 8 lowercase hex digits"},
      {absl::StrCat("example.com/foo+00000000+", material),
       "key hash 00000000 does not match the name and key (want 530d903a)"},
      {absl::StrCat("example.com/bar+530d903a+", material), "does not match"},
      {"example.com/foo+530d903a+!!!!", "not canonical base64"},
      {"example.com/foo+530d903a+", "empty key material"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(NoteVerifier::Create(c.vkey),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.vkey;
  }
}

TEST(SignedNoteTest, VerifierKeysOfOtherTypesAreRejected) {
  const auto vkey_for = [](absl::string_view material) {
    const uint32_t hash = IndependentKeyHash("k.example", material);
    return FormatNoteVerifierKey({"k.example", hash, std::string(material)});
  };
  EXPECT_THAT(NoteVerifier::Create(vkey_for(absl::StrCat("\x02", std::string(32, 'k')))),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unsupported signature type 0x02")));
  EXPECT_THAT(NoteVerifier::Create(vkey_for(absl::StrCat("\x01", std::string(31, 'k')))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32 bytes, got 31")));
  EXPECT_THAT(NoteVerifier::Create(vkey_for(absl::StrCat("\xff", "other-sm2", std::string(65, 'k')))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("type 0xff without")));
  EXPECT_THAT(NoteVerifier::Create(vkey_for(absl::StrCat("\xff", "herbtrace-sm2", "\x04",
                                                         std::string(64, '\x01')))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a point on the curve")));
}

TEST(SignedNoteTest, SignerRejectsBadNamesAndTexts) {
  HT_ASSERT_OK_AND_ASSIGN(auto key, PrivateKey::Generate(SignatureAlgorithm::kEd25519));
  EXPECT_THAT(NoteSigner::Create("", std::move(key)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("key name: empty")));
  HT_ASSERT_OK_AND_ASSIGN(key, PrivateKey::Generate(SignatureAlgorithm::kEd25519));
  EXPECT_THAT(NoteSigner::Create("a b", std::move(key)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("white space U+0020")));
  EXPECT_THAT(NoteSigner::Create("a.example", nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("null")));

  auto signer = MakeSigner("a.example", SignatureAlgorithm::kEd25519);
  ASSERT_NE(signer, nullptr);
  EXPECT_THAT(signer->Sign("no newline"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing final newline")));
  EXPECT_THAT(signer->Sign(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(signer->Sign("a\r\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("control character 0x0d")));
}

TEST(SignedNoteTest, VerifierRefusesAnotherKeysLine) {
  auto a = MakeSigner("a.example", SignatureAlgorithm::kEd25519);
  auto b = MakeSigner("b.example", SignatureAlgorithm::kEd25519);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto verifier = MakeVerifier(a->VerifierKey());
  ASSERT_NE(verifier, nullptr);
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature sig, b->Sign("t\n"));
  EXPECT_FALSE(verifier->Matches(sig));
  EXPECT_THAT(verifier->Verify("t\n", sig),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not for key a.example")));
}

TEST(SignedNoteTest, OpenNoteRefusesAmbiguousVerifiers) {
  const Example ex = C2spExample();
  auto v1 = MakeVerifier(ex.verifier_key);
  auto v2 = MakeVerifier(ex.verifier_key);
  ASSERT_NE(v1, nullptr);
  ASSERT_NE(v2, nullptr);
  EXPECT_THAT(OpenNote(ex.note, {v1.get(), v2.get()}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("two verifiers")));
  EXPECT_THAT(OpenNote(ex.note, {v1.get(), nullptr}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("null")));
  EXPECT_THAT(OpenNote(ex.note, {}), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(SignedNoteTest, ValidateKeyNameFollowsTheSpec) {
  EXPECT_THAT(ValidateKeyName("example.com/foo"), IsOk());
  EXPECT_THAT(ValidateKeyName("oid/1.3.6.1.4.1"), IsOk());
  EXPECT_THAT(ValidateKeyName("安国.example/日志"), IsOk());
  EXPECT_THAT(ValidateKeyName("a\xE3\x80\x80" "b"), Not(IsOk()));  // U+3000 ideographic space
  EXPECT_THAT(ValidateKeyName("a\xE2\x80\xA8" "b"), Not(IsOk()));  // U+2028 line separator
  EXPECT_THAT(ValidateKeyName("a\nb"), Not(IsOk()));
  EXPECT_THAT(ValidateKeyName("a\xff"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 HasSubstr("invalid UTF-8 at byte 1")));
}

}  // namespace
}  // namespace herbtrace::crypto
