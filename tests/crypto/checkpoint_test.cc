// Vectors:
// - kSpecCheckpointText: the checkpoint body of the C2SP tlog-checkpoint / tlog-cosignature
//   examples (/work/shared/specs/c2sp/tlog-checkpoint.md; c2sp.org/tlog-checkpoint), and the
//   timestamp 1679315147 of the tlog-cosignature example message.
// - kIndependentNote and its vkeys: the spec checkpoint signed by an Ed25519 log key (secret = RFC
//   8032 §7.1 TEST 3) and cosigned (cosignature/v1, timestamp 1679315147) by an Ed25519 witness
//   key (secret = RFC 8032 §7.1 TEST 1), computed independently of this code with Python and
//   pyca/cryptography 48.0.0: key hash = SHA-256(name ‖ "\n" ‖ type ‖ pub)[:4]; log signature =
//   Ed25519(text); cosignature = be64(timestamp) ‖ Ed25519("cosignature/v1\ntime 1679315147\n" ‖
//   text). Ed25519 is deterministic, so our signers must reproduce these bytes exactly.
// - kGoCosignatureVkey: transparency-dev/formats note/note_cosigv1_test.go at
//   091ce41666c09683aa9350785e572be27f0c026d (Apache-2.0), a type 0x04 vkey from the Go
//   implementation.
#include "crypto/checkpoint.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "crypto/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace herbtrace::crypto {
namespace {

using ::herbtrace::testing::HexOrDie;
using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kSpecOrigin[] = "example.com/behind-the-sofa";
constexpr char kSpecCheckpointText[] =
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
constexpr uint64_t kSpecTimestamp = 1679315147;

constexpr char kLogSecretHex[] = "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7";
constexpr char kWitnessSecretHex[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr char kWitnessName[] = "witness.example.com/w1";
constexpr char kLogVkey[] =
    "example.com/behind-the-sofa+e38c418f+AfxRzY5iGKGjjaR+0AIw8FgIFu0TujMDrF3rkRVIkIAl";
constexpr char kWitnessVkey[] =
    "witness.example.com/w1+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";
constexpr char kIndependentNote[] =
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\xE2\x80\x94 example.com/behind-the-sofa "
    "44xBj0WJ/2rXu7PuNDt5EZZxOTGy52ZK5VZkb6V258vxdNJiP5DE2Kp8EPiwWPO6m/ker32P2rkh7Zz/CFxqNK1jnws=\n"
    "\xE2\x80\x94 witness.example.com/w1 "
    "fm9KqgAAAABkGFDL+TPmh4BYuAjsYRoqMJCWb/gWJaeRF/kmm5tlCr9sJ57DLErur7K0yDXc2ArN+TIuotuB/"
    "HbuL3AJsp3bv/aNCQ==\n";
constexpr char kGoCosignatureVkey[] =
    "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";

std::unique_ptr<PrivateKey> SeedKey(absl::string_view hex) {
  auto key = PrivateKey::FromEd25519Seed(HexOrDie(hex));
  EXPECT_THAT(key, IsOk());
  return key.ok() ? *std::move(key) : nullptr;
}

std::unique_ptr<NoteSigner> LogSigner(absl::string_view name = kSpecOrigin) {
  auto signer = NoteSigner::Create(name, SeedKey(kLogSecretHex));
  EXPECT_THAT(signer, IsOk());
  return signer.ok() ? *std::move(signer) : nullptr;
}

std::unique_ptr<Cosigner> WitnessCosigner() {
  auto cosigner = Cosigner::Create(kWitnessName, SeedKey(kWitnessSecretHex));
  EXPECT_THAT(cosigner, IsOk());
  return cosigner.ok() ? *std::move(cosigner) : nullptr;
}

Checkpoint SpecCheckpoint() {
  Checkpoint c;
  c.origin = kSpecOrigin;
  c.size = 20852163;
  std::string root;
  EXPECT_TRUE(absl::Base64Unescape("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", &root));
  auto digest = DigestFromBytes(root, "root");
  EXPECT_THAT(digest, IsOk());
  if (digest.ok()) c.root_hash = *digest;
  return c;
}

TEST(CheckpointTest, ParsesTheSpecExample) {
  HT_ASSERT_OK_AND_ASSIGN(Checkpoint c, ParseCheckpoint(kSpecCheckpointText));
  EXPECT_EQ(c, SpecCheckpoint());
  EXPECT_TRUE(c.extensions.empty());
  EXPECT_EQ(FormatCheckpoint(c), kSpecCheckpointText);
}

TEST(CheckpointTest, FormatThenParseRoundTrips) {
  Checkpoint c = SpecCheckpoint();
  for (uint64_t size : {uint64_t{0}, uint64_t{1}, uint64_t{10},
                        std::numeric_limits<uint64_t>::max()}) {
    c.size = size;
    c.extensions = {};
    HT_ASSERT_OK_AND_ASSIGN(Checkpoint parsed, ParseCheckpoint(FormatCheckpoint(c)));
    EXPECT_EQ(parsed, c);
    c.extensions = {"ext one", "— two"};
    HT_ASSERT_OK_AND_ASSIGN(parsed, ParseCheckpoint(FormatCheckpoint(c)));
    EXPECT_EQ(parsed, c);
  }
  EXPECT_EQ(FormatCheckpoint(c),
            "example.com/behind-the-sofa\n18446744073709551615\n"
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next one\n— two\n");
}

struct MalformedCase {
  std::string label;
  std::string text;
  std::string message;
};

class MalformedCheckpointTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedCheckpointTest, IsRejectedNamingTheLine) {
  EXPECT_THAT(ParseCheckpoint(GetParam().text),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().message)));
}

std::vector<MalformedCase> MalformedCases() {
  const std::string root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
  const std::string o = "example.com/log\n";
  return {
      {"Empty", "", "checkpoint: note text: empty"},
      {"NoFinalNewline", absl::StrCat(o, "5\n", root), "missing final newline"},
      {"TwoLines", absl::StrCat(o, "5\n"), "checkpoint: 2 lines, want at least 3"},
      {"EmptyOrigin", absl::StrCat("\n5\n", root, "\n"), "checkpoint: line 1 (origin): empty"},
      {"EmptySize", absl::StrCat(o, "\n", root, "\n"), "checkpoint: line 2 (tree size): empty"},
      {"LeadingZero", absl::StrCat(o, "007\n", root, "\n"),
       "checkpoint: line 2 (tree size): leading zero in \"007\""},
      {"DoubleZero", absl::StrCat(o, "00\n", root, "\n"), "line 2 (tree size): leading zero"},
      {"PlusSign", absl::StrCat(o, "+5\n", root, "\n"),
       "line 2 (tree size): \"+5\" is not a decimal number"},
      {"Negative", absl::StrCat(o, "-1\n", root, "\n"), "line 2 (tree size): \"-1\" is not"},
      {"SpaceInSize", absl::StrCat(o, " 5\n", root, "\n"), "line 2 (tree size)"},
      {"Hex", absl::StrCat(o, "0x10\n", root, "\n"), "line 2 (tree size)"},
      {"Overflow", absl::StrCat(o, "18446744073709551616\n", root, "\n"),
       "line 2 (tree size): \"18446744073709551616\" does not fit in 64 bits"},
      {"EmptyRoot", absl::StrCat(o, "5\n\n"), "line 3 (root hash): empty"},
      {"RootNotBase64", absl::StrCat(o, "5\n", "not*base64\n"),
       "line 3 (root hash): \"not*base64\" is not canonical base64"},
      {"RootUnpadded", absl::StrCat(o, "5\n", root.substr(0, 43), "\n"),
       "line 3 (root hash)"},
      {"RootNonCanonicalBits", absl::StrCat(o, "5\n", root.substr(0, 42), "J=\n"),
       "line 3 (root hash)"},
      {"RootTooShort", absl::StrCat(o, "5\n", absl::Base64Escape(std::string(31, 'r')), "\n"),
       "line 3 (root hash): decodes to 31 bytes, want 32"},
      {"RootTooLong", absl::StrCat(o, "5\n", absl::Base64Escape(std::string(33, 'r')), "\n"),
       "line 3 (root hash): decodes to 33 bytes, want 32"},
      {"EmptyExtension", absl::StrCat(o, "5\n", root, "\nfine\n\n"),
       "checkpoint: line 5 (extension): empty"},
      {"ControlCharacter", absl::StrCat("example.com/log\r\n5\n", root, "\n"),
       "control character 0x0d"},
  };
}

INSTANTIATE_TEST_SUITE_P(Cases, MalformedCheckpointTest, ::testing::ValuesIn(MalformedCases()),
                         [](const ::testing::TestParamInfo<MalformedCase>& info) {
                           return info.param.label;
                         });

TEST(CheckpointTest, ValidateCheckpointNamesTheField) {
  Checkpoint c = SpecCheckpoint();
  EXPECT_THAT(ValidateCheckpoint(c), IsOk());
  c.origin = "";
  EXPECT_THAT(ValidateCheckpoint(c),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 1 (origin): empty")));
  c.origin = "a\nb";
  EXPECT_THAT(ValidateCheckpoint(c), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("line 1 (origin): contains a newline")));
  c = SpecCheckpoint();
  c.extensions = {"ok", ""};
  EXPECT_THAT(ValidateCheckpoint(c), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("line 5 (extension): empty")));
  c.extensions = {"x\ny"};
  EXPECT_THAT(ValidateCheckpoint(c),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 4 (extension): contains a newline")));
  c.extensions = {"tab\there"};
  EXPECT_THAT(ValidateCheckpoint(c),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("control character 0x09")));
}

TEST(CheckpointTest, SignReproducesTheIndependentlyComputedNote) {
  auto log = LogSigner();
  auto witness = WitnessCosigner();
  ASSERT_NE(log, nullptr);
  ASSERT_NE(witness, nullptr);
  EXPECT_EQ(log->VerifierKey(), kLogVkey);
  EXPECT_EQ(witness->VerifierKey(), kWitnessVkey);

  HT_ASSERT_OK_AND_ASSIGN(std::string note, SignCheckpoint(SpecCheckpoint(), *log));
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature cosignature,
                          witness->Cosign(SpecCheckpoint(), kSpecTimestamp));
  HT_ASSERT_OK_AND_ASSIGN(Note parsed, ParseNote(note));
  parsed.signatures.push_back(cosignature);
  EXPECT_EQ(FormatNote(parsed), kIndependentNote);
}

TEST(CheckpointTest, OpensAndCosignatureVerifiesOnTheIndependentlyComputedNote) {
  HT_ASSERT_OK_AND_ASSIGN(auto log_verifier, NoteVerifier::Create(kLogVkey));
  HT_ASSERT_OK_AND_ASSIGN(Checkpoint c, OpenCheckpoint(kIndependentNote, *log_verifier));
  EXPECT_EQ(c, SpecCheckpoint());

  HT_ASSERT_OK_AND_ASSIGN(auto witness_verifier, CosignatureVerifier::Create(kWitnessVkey));
  HT_ASSERT_OK_AND_ASSIGN(Note note, ParseNote(kIndependentNote));
  ASSERT_EQ(note.signatures.size(), 2u);
  HT_ASSERT_OK_AND_ASSIGN(uint64_t timestamp, witness_verifier->Verify(c, note.signatures[1]));
  EXPECT_EQ(timestamp, kSpecTimestamp);
  HT_ASSERT_OK_AND_ASSIGN(timestamp, witness_verifier->VerifyInNote(note));
  EXPECT_EQ(timestamp, kSpecTimestamp);
}

TEST(CheckpointTest, CosignatureMessageMatchesTheSpec) {
  EXPECT_EQ(CosignatureV1Message(SpecCheckpoint(), kSpecTimestamp),
            "cosignature/v1\n"
            "time 1679315147\n"
            "example.com/behind-the-sofa\n"
            "20852163\n"
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
}

TEST(CheckpointTest, SignThenOpenRoundTripsWithAnExtraSm2Line) {
  const std::string origin = "anguo.herbtrace.example/log";
  HT_ASSERT_OK_AND_ASSIGN(auto ed_key, PrivateKey::Generate(SignatureAlgorithm::kEd25519));
  HT_ASSERT_OK_AND_ASSIGN(auto sm2_key, PrivateKey::Generate(SignatureAlgorithm::kSm2));
  HT_ASSERT_OK_AND_ASSIGN(auto log, NoteSigner::Create(origin, std::move(ed_key)));
  HT_ASSERT_OK_AND_ASSIGN(auto sm2, NoteSigner::Create(origin, std::move(sm2_key)));
  Checkpoint c;
  c.origin = origin;
  c.size = 42;
  c.root_hash.fill(0xab);

  HT_ASSERT_OK_AND_ASSIGN(std::string note, SignCheckpoint(c, *log, {sm2.get()}));
  HT_ASSERT_OK_AND_ASSIGN(auto log_verifier, NoteVerifier::Create(log->VerifierKey()));
  HT_ASSERT_OK_AND_ASSIGN(Checkpoint opened, OpenCheckpoint(note, *log_verifier));
  EXPECT_EQ(opened, c);

  HT_ASSERT_OK_AND_ASSIGN(auto sm2_verifier, NoteVerifier::Create(sm2->VerifierKey()));
  HT_ASSERT_OK_AND_ASSIGN(OpenedNote both, OpenNote(note, {log_verifier.get(), sm2_verifier.get()}));
  EXPECT_THAT(both.verified, ElementsAre(0, 1));
  // Opening with the SM2 key alone works too: its name is the origin.
  HT_ASSERT_OK_AND_ASSIGN(opened, OpenCheckpoint(note, *sm2_verifier));
  EXPECT_EQ(opened, c);
}

TEST(CheckpointTest, SignRefusesMismatchedNamesAndDuplicateSigners) {
  auto log = LogSigner("example.com/other-log");
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(SignCheckpoint(SpecCheckpoint(), *log),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("log key name \"example.com/other-log\" is not the origin")));
  auto right = LogSigner();
  ASSERT_NE(right, nullptr);
  EXPECT_THAT(SignCheckpoint(SpecCheckpoint(), *right, {right.get()}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("two signers")));
  Checkpoint bad = SpecCheckpoint();
  bad.extensions = {""};
  EXPECT_THAT(SignCheckpoint(bad, *right),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 4 (extension)")));
}

TEST(CheckpointTest, OpenRejectsAnotherOrigin) {
  // The log's key signs a checkpoint for an origin other than its name.
  auto log = LogSigner();
  ASSERT_NE(log, nullptr);
  Checkpoint c = SpecCheckpoint();
  c.origin = "example.com/not-the-sofa";
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature sig, log->Sign(FormatCheckpoint(c)));
  const std::string note = FormatNote({FormatCheckpoint(c), {sig}});
  HT_ASSERT_OK_AND_ASSIGN(auto verifier, NoteVerifier::Create(log->VerifierKey()));
  EXPECT_THAT(OpenCheckpoint(note, *verifier),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("origin \"example.com/not-the-sofa\" is not the log key's name "
                                 "\"example.com/behind-the-sofa\"")));
}

TEST(CheckpointTest, OpenRejectsUnsignedTamperedAndMalformedNotes) {
  HT_ASSERT_OK_AND_ASSIGN(auto verifier, NoteVerifier::Create(kLogVkey));
  // Only the witness line: the log's signature is required.
  const std::string witness_only = absl::StrCat(
      kSpecCheckpointText, "\n",
      absl::string_view(kIndependentNote).substr(absl::string_view(kIndependentNote)
                                                     .find("\xE2\x80\x94 witness")));
  EXPECT_THAT(OpenCheckpoint(witness_only, *verifier),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("no signature by a trusted")));
  std::string tampered = kIndependentNote;
  tampered[30] = '9';  // 20852163 -> 20952163
  EXPECT_THAT(OpenCheckpoint(tampered, *verifier),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("does not verify")));
  // Validly signed, but not a checkpoint.
  auto log = LogSigner();
  ASSERT_NE(log, nullptr);
  const std::string text = "example.com/behind-the-sofa\n007\nAAAA\n";
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature sig, log->Sign(text));
  EXPECT_THAT(OpenCheckpoint(FormatNote({text, {sig}}), *verifier),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 2 (tree size)")));
}

TEST(CheckpointTest, CosignThenVerifyRoundTrips) {
  HT_ASSERT_OK_AND_ASSIGN(auto key, PrivateKey::Generate(SignatureAlgorithm::kEd25519));
  const std::string raw = key->public_key().raw();
  HT_ASSERT_OK_AND_ASSIGN(auto cosigner, Cosigner::Create("witness.example/w2", std::move(key)));
  Checkpoint c = SpecCheckpoint();
  c.extensions = {"extension lines are signed too"};
  for (uint64_t t : {uint64_t{0}, uint64_t{1700000000},
                     uint64_t{std::numeric_limits<int64_t>::max()}}) {
    HT_ASSERT_OK_AND_ASSIGN(NoteSignature sig, cosigner->Cosign(c, t));
    EXPECT_EQ(sig.name, "witness.example/w2");
    EXPECT_EQ(sig.key_hash, cosigner->key_hash());
    EXPECT_EQ(sig.signature.size(), 72u);

    HT_ASSERT_OK_AND_ASSIGN(auto verifier, CosignatureVerifier::Create(cosigner->VerifierKey()));
    HT_ASSERT_OK_AND_ASSIGN(uint64_t got, verifier->Verify(c, sig));
    EXPECT_EQ(got, t);
    HT_ASSERT_OK_AND_ASSIGN(auto public_key, PublicKey::FromRaw(SignatureAlgorithm::kEd25519, raw));
    HT_ASSERT_OK_AND_ASSIGN(auto from_key,
                            CosignatureVerifier::Create("witness.example/w2", std::move(public_key)));
    EXPECT_EQ(from_key->VerifierKey(), cosigner->VerifierKey());
    HT_ASSERT_OK_AND_ASSIGN(got, from_key->Verify(c, sig));
    EXPECT_EQ(got, t);
  }
}

TEST(CheckpointTest, CosignatureOverAnotherCheckpointDoesNotVerify) {
  auto witness = WitnessCosigner();
  ASSERT_NE(witness, nullptr);
  HT_ASSERT_OK_AND_ASSIGN(auto verifier, CosignatureVerifier::Create(kWitnessVkey));
  const Checkpoint c = SpecCheckpoint();
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature sig, witness->Cosign(c, kSpecTimestamp));

  Checkpoint bigger = c;
  bigger.size += 1;
  EXPECT_THAT(verifier->Verify(bigger, sig),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("does not verify")));
  Checkpoint other_root = c;
  other_root.root_hash[0] ^= 1;
  EXPECT_THAT(verifier->Verify(other_root, sig), StatusIs(absl::StatusCode::kUnauthenticated));
  Checkpoint with_extension = c;
  with_extension.extensions = {"x"};
  EXPECT_THAT(verifier->Verify(with_extension, sig),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // The timestamp is signed: moving it breaks the signature.
  NoteSignature moved = sig;
  moved.signature[7] ^= 1;
  EXPECT_THAT(verifier->Verify(c, moved), StatusIs(absl::StatusCode::kUnauthenticated));
  // A plain Ed25519 note signature by the same key is not a cosignature.
  HT_ASSERT_OK_AND_ASSIGN(auto plain, NoteSigner::Create(kWitnessName, SeedKey(kWitnessSecretHex)));
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature plain_sig, plain->Sign(FormatCheckpoint(c)));
  EXPECT_NE(plain_sig.key_hash, sig.key_hash);  // type 0x01 vs 0x04
  EXPECT_FALSE(verifier->Matches(plain_sig));
}

TEST(CheckpointTest, MalformedCosignaturesAreInvalidArgument) {
  auto witness = WitnessCosigner();
  ASSERT_NE(witness, nullptr);
  HT_ASSERT_OK_AND_ASSIGN(auto verifier, CosignatureVerifier::Create(kWitnessVkey));
  HT_ASSERT_OK_AND_ASSIGN(NoteSignature sig, witness->Cosign(SpecCheckpoint(), kSpecTimestamp));

  NoteSignature short_sig = sig;
  short_sig.signature.resize(64);
  EXPECT_THAT(verifier->Verify(SpecCheckpoint(), short_sig),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("64 bytes, want 72")));
  NoteSignature future = sig;
  future.signature[0] = '\x80';  // timestamp ≥ 2^63
  EXPECT_THAT(verifier->Verify(SpecCheckpoint(), future),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exceeds 2^63 - 1")));
  NoteSignature other = sig;
  other.name = "witness.example.com/w9";
  EXPECT_THAT(verifier->Verify(SpecCheckpoint(), other),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not for witness")));
  EXPECT_THAT(witness->Cosign(SpecCheckpoint(), uint64_t{1} << 63),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exceeds 2^63 - 1")));
  Checkpoint bad = SpecCheckpoint();
  bad.origin = "";
  EXPECT_THAT(witness->Cosign(bad, 1), StatusIs(absl::StatusCode::kInvalidArgument,
                                                HasSubstr("line 1 (origin): empty")));
}

TEST(CheckpointTest, CosignerAndVerifierKeysAreCosignatureV1Only) {
  HT_ASSERT_OK_AND_ASSIGN(auto verifier, CosignatureVerifier::Create(kGoCosignatureVkey));
  EXPECT_EQ(verifier->name(), "remora.n621.de");
  EXPECT_EQ(verifier->key_hash(), 0xda77ade7u);

  EXPECT_THAT(CosignatureVerifier::Create(kLogVkey),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("type 0x01, want 0x04 (cosignature/v1)")));
  HT_ASSERT_OK_AND_ASSIGN(auto sm2_key, PrivateKey::Generate(SignatureAlgorithm::kSm2));
  EXPECT_THAT(Cosigner::Create("w.example", std::move(sm2_key)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs an ed25519 key")));
  EXPECT_THAT(Cosigner::Create("w example", SeedKey(kWitnessSecretHex)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("white space")));
}

TEST(CheckpointTest, VerifyInNoteReportsAMissingWitness) {
  HT_ASSERT_OK_AND_ASSIGN(auto verifier, CosignatureVerifier::Create(kGoCosignatureVkey));
  HT_ASSERT_OK_AND_ASSIGN(Note note, ParseNote(kIndependentNote));
  EXPECT_THAT(verifier->VerifyInNote(note),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no line by remora.n621.de")));
}

}  // namespace
}  // namespace herbtrace::crypto
