// Vectors (see tests/data/test-vectors/SOURCE.md):
// - vectors.json "ed25519_rfc8032_test2": RFC 8032 §7.1, TEST 2.
// - vectors.json "sm2_openssl_evp_verify": openssl/openssl
//   test/recipes/30-test_evp_data/evppkey_sm2.txt (Apache-2.0): key and two (digest, DER
//   signature) pairs checked with EVP_PKEY_verify.
// - The SM2 curve parameters in kSm2CurveParams: GB/T 32918.5-2017 (the recommended curve), used to
//   recompute Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) per GB/T 32918.2-2016 §5.5.
// - kP256PrivatePem / kP256PublicPem / kEd448PublicPem / kEncryptedEd25519Pem: generated once with
//   the openssl 3.0 command line (`openssl genpkey -algorithm EC -pkeyopt
//   ec_paramgen_curve:P-256`, `-algorithm ED448`, `-algorithm ED25519 -aes256`); only their key
//   types and encryption matter.
#include "crypto/signature.h"

#include <memory>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace herbtrace::crypto {
namespace {

using ::herbtrace::testing::HexOrDie;
using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::LoadVectors;
using ::herbtrace::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kP256PrivatePem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBf33yuWhxY3Bqxq1\n"
    "rgNMghSTKQ0925vZn+cbKglJYX+hRANCAARO4lBChhS13KtPwnxXQr5pgNPQV2WB\n"
    "ZtDqYETBk4td8G/JtZ/txNsPhhynCQ4eOWDhZ1Rm43vRA1NBD7/LB8rk\n"
    "-----END PRIVATE KEY-----\n";
constexpr char kP256PublicPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETuJQQoYUtdyrT8J8V0K+aYDT0Fdl\n"
    "gWbQ6mBEwZOLXfBvybWf7cTbD4YcpwkOHjlg4WdUZuN70QNTQQ+/ywfK5A==\n"
    "-----END PUBLIC KEY-----\n";
constexpr char kEd448PublicPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MEMwBQYDK2VxAzoAOWV33QQ47TXKfth1Il/YTyAT1fOp6jOMlo+sGPUC5qmGT+A+\n"
    "V5pgKRUH79QXOl7SAtUQywRrbh4A\n"
    "-----END PUBLIC KEY-----\n";

// `openssl genpkey -algorithm ED25519 -aes256 -pass pass:herbtrace`.
constexpr char kEncryptedEd25519Pem[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjWfcJ7hbdi3wICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEP8N/wQmGK28ryRN45mjuxMEQMo1\n"
    "vlV6cIUq5TEXgfucbdKaqZlxKI/5R2KkNM3cg3mvP7Ns7/JcZF/tl59UHttHNeiA\n"
    "olzmAzHODe3uVzQC9d8=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

// a ‖ b ‖ xG ‖ yG of the SM2 recommended curve, as Z_A hashes them.
constexpr char kSm2CurveParams[] =
    "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
    "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";

std::string FlipBit(std::string s, size_t byte, int bit = 0) {
  s[byte] = static_cast<char>(s[byte] ^ (1 << bit));
  return s;
}

// e = SM3(Z_A ‖ M), computed here from the GB/T 32918 definition rather than by OpenSSL.
std::string Sm2Digest(absl::string_view id, const PublicKey& key, absl::string_view message) {
  auto sm3 = Hasher::Create(HashAlgorithm::kSm3);
  EXPECT_THAT(sm3, IsOk());
  const uint16_t entl = static_cast<uint16_t>(id.size() * 8);
  std::string z_input{static_cast<char>(entl >> 8), static_cast<char>(entl & 0xff)};
  absl::StrAppend(&z_input, id, HexOrDie(kSm2CurveParams), key.raw().substr(1));
  const Digest z = (*sm3)->Hash(z_input);
  return std::string(AsBytes((*sm3)->Hash(absl::StrCat(AsBytes(z), message))));
}

TEST(SignatureTest, Ed25519MatchesRfc8032Test2) {
  const nlohmann::json v = LoadVectors()["ed25519_rfc8032_test2"];
  const std::string seed = HexOrDie(v["secret_key_hex"].get<std::string>());
  const std::string raw_public_key = HexOrDie(v["public_key_hex"].get<std::string>());
  const std::string message = HexOrDie(v["message_hex"].get<std::string>());
  const std::string want_signature = HexOrDie(v["signature_hex"].get<std::string>());
  HT_ASSERT_OK_AND_ASSIGN(auto key, PrivateKey::FromEd25519Seed(seed));
  EXPECT_EQ(key->algorithm(), SignatureAlgorithm::kEd25519);
  EXPECT_EQ(key->public_key().raw(), raw_public_key);
  HT_ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign(message));
  EXPECT_EQ(absl::BytesToHexString(signature), v["signature_hex"].get<std::string>());

  HT_ASSERT_OK_AND_ASSIGN(auto public_key,
                          PublicKey::FromRaw(SignatureAlgorithm::kEd25519, raw_public_key));
  EXPECT_THAT(public_key->Verify(message, want_signature), IsOk());
  EXPECT_THAT(public_key->Verify("\x73", want_signature),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("does not verify")));
}

TEST(SignatureTest, Sm2VerifiesOpenSslDigestVectors) {
  const nlohmann::json v = LoadVectors()["sm2_openssl_evp_verify"];
  HT_ASSERT_OK_AND_ASSIGN(auto key,
                          PrivateKey::FromPem(v["private_key_pem"].get<std::string>()));
  ASSERT_EQ(key->algorithm(), SignatureAlgorithm::kSm2);
  const PublicKey& public_key = key->public_key();
  ASSERT_EQ(v["cases"].size(), 2u);
  for (const nlohmann::json& c : v["cases"]) {
    const std::string digest = HexOrDie(c["digest_hex"].get<std::string>());
    const std::string signature = HexOrDie(c["signature_der_hex"].get<std::string>());
    EXPECT_THAT(public_key.VerifyDigest(digest, signature), IsOk());
    // Last byte of s: still strict DER, so the failure is the signature's, not the encoding's.
    EXPECT_THAT(public_key.VerifyDigest(digest, FlipBit(signature, signature.size() - 1)),
                StatusIs(absl::StatusCode::kUnauthenticated));
    EXPECT_THAT(public_key.VerifyDigest(FlipBit(digest, 0, 7), signature),
                StatusIs(absl::StatusCode::kUnauthenticated));
  }
}

TEST(SignatureTest, VerifyDigestChecksItsInputs) {
  const nlohmann::json v = LoadVectors()["sm2_openssl_evp_verify"];
  HT_ASSERT_OK_AND_ASSIGN(auto key,
                          PrivateKey::FromPem(v["private_key_pem"].get<std::string>()));
  const std::string digest = HexOrDie(v["cases"][0]["digest_hex"].get<std::string>());
  const std::string signature = HexOrDie(v["cases"][0]["signature_der_hex"].get<std::string>());
  EXPECT_THAT(key->public_key().VerifyDigest(digest.substr(1), signature),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32 bytes")));
  EXPECT_THAT(key->public_key().VerifyDigest(digest, signature + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  HT_ASSERT_OK_AND_ASSIGN(auto ed, PrivateKey::Generate(SignatureAlgorithm::kEd25519));
  EXPECT_THAT(ed->public_key().VerifyDigest(digest, std::string(64, 'x')),
              StatusIs(absl::StatusCode::kUnimplemented));
}

// Sign must compute Z_A over the GB/T 32918 default id "1234567812345678", as other SM2
// implementations do, not over the empty id OpenSSL 3.0 uses unless told otherwise.
TEST(SignatureTest, Sm2SignsWithTheStandardDistinguishingId) {
  HT_ASSERT_OK_AND_ASSIGN(auto key, PrivateKey::Generate(SignatureAlgorithm::kSm2));
  const std::string message = "batch 2024-AG-0001 harvested in Anguo";
  HT_ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign(message));
  const PublicKey& public_key = key->public_key();
  EXPECT_THAT(public_key.VerifyDigest(Sm2Digest(kSm2DefaultId, public_key, message), signature),
              IsOk());
  EXPECT_THAT(public_key.VerifyDigest(Sm2Digest("", public_key, message), signature),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(SignatureTest, Sm2VerifyUsesTheStandardDistinguishingId) {
  const nlohmann::json v = LoadVectors()["sm2_openssl_evp_verify"];
  HT_ASSERT_OK_AND_ASSIGN(auto key,
                          PrivateKey::FromPem(v["private_key_pem"].get<std::string>()));
  // A signature over e computed with the standard id verifies as a signature of the message.
  const std::string message = "anything";
  HT_ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign(message));
  EXPECT_THAT(key->public_key().Verify(message, signature), IsOk());
  EXPECT_THAT(key->public_key().VerifyDigest(
                  Sm2Digest(kSm2DefaultId, key->public_key(), message), signature),
              IsOk());
}

class SignatureAlgorithmTest : public ::testing::TestWithParam<SignatureAlgorithm> {
 protected:
  std::unique_ptr<PrivateKey> Generate() {
    auto key = PrivateKey::Generate(GetParam());
    EXPECT_THAT(key, IsOk());
    return key.ok() ? *std::move(key) : nullptr;
  }
};

TEST_P(SignatureAlgorithmTest, SignThenVerifyRoundTrips) {
  auto key = Generate();
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->algorithm(), GetParam());
  EXPECT_EQ(key->public_key().algorithm(), GetParam());
  for (absl::string_view message : {absl::string_view(""), absl::string_view("hello"),
                                    absl::string_view("\0\xff\n", 3)}) {
    HT_ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign(message));
    if (GetParam() == SignatureAlgorithm::kEd25519) {
      EXPECT_EQ(signature.size(), 64u);
    } else {
      EXPECT_GE(signature.size(), 8u);
      EXPECT_LE(signature.size(), 72u);
      EXPECT_EQ(signature[0], '\x30');  // DER SEQUENCE
    }
    EXPECT_THAT(key->public_key().Verify(message, signature), IsOk());
  }
}

TEST_P(SignatureAlgorithmTest, AnotherKeysSignatureDoesNotVerify) {
  auto key = Generate();
  auto other = Generate();
  ASSERT_NE(key, nullptr);
  ASSERT_NE(other, nullptr);
  HT_ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign("message"));
  EXPECT_THAT(other->public_key().Verify("message", signature),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("signature: does not verify"),
                             HasSubstr(other->public_key().key_id()))));
}

TEST_P(SignatureAlgorithmTest, FlippedBitInMessageOrSignatureDoesNotVerify) {
  auto key = Generate();
  ASSERT_NE(key, nullptr);
  const std::string message = "root 3q2+7w== at size 42";
  HT_ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign(message));
  EXPECT_THAT(key->public_key().Verify(FlipBit(message, 5), signature),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(key->public_key().Verify(message, FlipBit(signature, signature.size() - 1)),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // Every bit of an Ed25519 signature matters; for SM2 some flips break the DER instead.
  for (size_t byte = 0; byte < signature.size(); ++byte) {
    EXPECT_THAT(key->public_key().Verify(message, FlipBit(signature, byte, 3)), Not(IsOk()))
        << "byte " << byte;
  }
}

TEST_P(SignatureAlgorithmTest, KeyIdIsDeterministicAndDefinedByTheRawKey) {
  auto key = Generate();
  auto other = Generate();
  ASSERT_NE(key, nullptr);
  ASSERT_NE(other, nullptr);
  const PublicKey& public_key = key->public_key();
  auto sha256 = Hasher::Create(HashAlgorithm::kSha256);
  ASSERT_THAT(sha256, IsOk());
  const Digest d = (*sha256)->HashWithPrefix(static_cast<uint8_t>(GetParam()), public_key.raw());
  EXPECT_EQ(public_key.key_id(), ToHex(d).substr(0, 16));
  HT_ASSERT_OK_AND_ASSIGN(auto again, PublicKey::FromRaw(GetParam(), public_key.raw()));
  EXPECT_EQ(again->key_id(), public_key.key_id());
  EXPECT_NE(other->public_key().key_id(), public_key.key_id());
}

TEST_P(SignatureAlgorithmTest, FromRawRoundTrips) {
  auto key = Generate();
  ASSERT_NE(key, nullptr);
  const std::string& raw = key->public_key().raw();
  EXPECT_EQ(raw.size(), GetParam() == SignatureAlgorithm::kEd25519 ? 32u : 65u);
  HT_ASSERT_OK_AND_ASSIGN(auto public_key, PublicKey::FromRaw(GetParam(), raw));
  EXPECT_EQ(public_key->raw(), raw);
  EXPECT_EQ(public_key->algorithm(), GetParam());
  HT_ASSERT_OK_AND_ASSIGN(std::string der, public_key->ToDer());
  HT_ASSERT_OK_AND_ASSIGN(std::string der_from_private, key->public_key().ToDer());
  EXPECT_EQ(der, der_from_private);
  HT_ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign("m"));
  EXPECT_THAT(public_key->Verify("m", signature), IsOk());
}

TEST_P(SignatureAlgorithmTest, PublicKeyPemAndDerRoundTrip) {
  auto key = Generate();
  ASSERT_NE(key, nullptr);
  HT_ASSERT_OK_AND_ASSIGN(std::string pem, key->public_key().ToPem());
  EXPECT_THAT(pem, StartsWith("-----BEGIN PUBLIC KEY-----\n"));
  HT_ASSERT_OK_AND_ASSIGN(auto from_pem, PublicKey::FromPem(pem));
  EXPECT_EQ(from_pem->algorithm(), GetParam());
  EXPECT_EQ(from_pem->raw(), key->public_key().raw());
  EXPECT_EQ(from_pem->key_id(), key->public_key().key_id());

  HT_ASSERT_OK_AND_ASSIGN(std::string der, key->public_key().ToDer());
  HT_ASSERT_OK_AND_ASSIGN(auto from_der, PublicKey::FromDer(der));
  EXPECT_EQ(from_der->raw(), key->public_key().raw());
  HT_ASSERT_OK_AND_ASSIGN(std::string der_again, from_der->ToDer());
  EXPECT_EQ(der_again, der);
  HT_ASSERT_OK_AND_ASSIGN(std::string pem_again, from_pem->ToPem());
  EXPECT_EQ(pem_again, pem);
}

TEST_P(SignatureAlgorithmTest, PrivateKeyPemAndDerRoundTrip) {
  auto key = Generate();
  ASSERT_NE(key, nullptr);
  HT_ASSERT_OK_AND_ASSIGN(std::string pem, key->ToPem());
  EXPECT_THAT(pem, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  HT_ASSERT_OK_AND_ASSIGN(auto from_pem, PrivateKey::FromPem(pem));
  EXPECT_EQ(from_pem->algorithm(), GetParam());
  EXPECT_EQ(from_pem->public_key().raw(), key->public_key().raw());
  HT_ASSERT_OK_AND_ASSIGN(std::string signature, from_pem->Sign("m"));
  EXPECT_THAT(key->public_key().Verify("m", signature), IsOk());

  HT_ASSERT_OK_AND_ASSIGN(std::string der, key->ToDer());
  HT_ASSERT_OK_AND_ASSIGN(auto from_der, PrivateKey::FromDer(der));
  EXPECT_EQ(from_der->public_key().raw(), key->public_key().raw());
  HT_ASSERT_OK_AND_ASSIGN(std::string der_again, from_der->ToDer());
  EXPECT_EQ(der_again, der);
  HT_ASSERT_OK_AND_ASSIGN(signature, from_der->Sign("m"));
  EXPECT_THAT(key->public_key().Verify("m", signature), IsOk());
}

TEST_P(SignatureAlgorithmTest, TruncatedOrExtendedDerIsRejected) {
  auto key = Generate();
  ASSERT_NE(key, nullptr);
  HT_ASSERT_OK_AND_ASSIGN(std::string der, key->public_key().ToDer());
  EXPECT_THAT(PublicKey::FromDer(der.substr(0, der.size() - 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PublicKey::FromDer(der + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("after")));
  HT_ASSERT_OK_AND_ASSIGN(std::string private_der, key->ToDer());
  EXPECT_THAT(PrivateKey::FromDer(private_der.substr(0, private_der.size() - 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PrivateKey::FromDer(private_der + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

INSTANTIATE_TEST_SUITE_P(BothAlgorithms, SignatureAlgorithmTest,
                         ::testing::Values(SignatureAlgorithm::kEd25519, SignatureAlgorithm::kSm2),
                         [](const ::testing::TestParamInfo<SignatureAlgorithm>& info) {
                           return std::string(SignatureAlgorithmName(info.param));
                         });

TEST(SignatureTest, Ed25519IsDeterministicAndSm2IsNot) {
  HT_ASSERT_OK_AND_ASSIGN(auto ed, PrivateKey::Generate(SignatureAlgorithm::kEd25519));
  HT_ASSERT_OK_AND_ASSIGN(std::string a, ed->Sign("m"));
  HT_ASSERT_OK_AND_ASSIGN(std::string b, ed->Sign("m"));
  EXPECT_EQ(a, b);
  HT_ASSERT_OK_AND_ASSIGN(auto sm2, PrivateKey::Generate(SignatureAlgorithm::kSm2));
  HT_ASSERT_OK_AND_ASSIGN(std::string c, sm2->Sign("m"));
  HT_ASSERT_OK_AND_ASSIGN(std::string d, sm2->Sign("m"));
  EXPECT_NE(c, d);  // a fresh k per signature
}

TEST(SignatureTest, RejectsKeysOfOtherTypesNamingTheType) {
  EXPECT_THAT(PublicKey::FromPem(kP256PublicPem),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("unsupported key type EC"), HasSubstr("prime256v1"))));
  EXPECT_THAT(PrivateKey::FromPem(kP256PrivatePem),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unsupported key type EC")));
  EXPECT_THAT(PublicKey::FromPem(kEd448PublicPem),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ED448")));
}

TEST(SignatureTest, RejectsGarbageEncodings) {
  EXPECT_THAT(PublicKey::FromPem("not a key"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PublicKey::FromPem(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PublicKey::FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PublicKey::FromDer("\x30\x03\x02\x01\x00"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PublicKey::FromDer(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PrivateKey::FromPem("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PrivateKey::FromDer("garbage"), StatusIs(absl::StatusCode::kInvalidArgument));
  // A private key where a public one is expected, and the reverse.
  EXPECT_THAT(PublicKey::FromPem(kP256PrivatePem), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PrivateKey::FromPem(kP256PublicPem), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Without a passphrase callback OpenSSL would prompt on the terminal, hanging a server.
TEST(SignatureTest, EncryptedPrivateKeyIsRejectedWithoutPrompting) {
  EXPECT_THAT(PrivateKey::FromPem(kEncryptedEd25519Pem),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unencrypted")));
}

TEST(SignatureTest, FromRawChecksLengthAndCurve) {
  EXPECT_THAT(PublicKey::FromRaw(SignatureAlgorithm::kEd25519, std::string(31, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32 bytes, got 31")));
  EXPECT_THAT(PublicKey::FromRaw(SignatureAlgorithm::kSm2, std::string(64, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("uncompressed point")));
  // A compressed point is a valid encoding, but not the one the key id and vkeys are defined over.
  HT_ASSERT_OK_AND_ASSIGN(auto sm2, PrivateKey::Generate(SignatureAlgorithm::kSm2));
  std::string compressed = sm2->public_key().raw().substr(0, 33);
  compressed[0] = '\x02';
  EXPECT_THAT(PublicKey::FromRaw(SignatureAlgorithm::kSm2, compressed),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // (1, 1) is not on the curve.
  std::string off_curve(65, '\0');
  off_curve[0] = '\x04';
  off_curve[32] = '\x01';
  off_curve[64] = '\x01';
  EXPECT_THAT(PublicKey::FromRaw(SignatureAlgorithm::kSm2, off_curve),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a point on the curve")));
  EXPECT_THAT(PrivateKey::FromEd25519Seed(std::string(33, 's')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32 bytes, got 33")));
}

TEST(SignatureTest, MalformedSignaturesAreInvalidArgument) {
  HT_ASSERT_OK_AND_ASSIGN(auto ed, PrivateKey::Generate(SignatureAlgorithm::kEd25519));
  HT_ASSERT_OK_AND_ASSIGN(std::string ed_sig, ed->Sign("m"));
  EXPECT_THAT(ed->public_key().Verify("m", ed_sig.substr(0, 63)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("64 bytes, got 63")));
  EXPECT_THAT(ed->public_key().Verify("m", ed_sig + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got 65")));
  EXPECT_THAT(ed->public_key().Verify("m", ""), StatusIs(absl::StatusCode::kInvalidArgument));

  HT_ASSERT_OK_AND_ASSIGN(auto sm2, PrivateKey::Generate(SignatureAlgorithm::kSm2));
  HT_ASSERT_OK_AND_ASSIGN(std::string sm2_sig, sm2->Sign("m"));
  EXPECT_THAT(sm2->public_key().Verify("m", ""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(sm2->public_key().Verify("m", "not der"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not DER")));
  EXPECT_THAT(sm2->public_key().Verify("m", sm2_sig + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("after the DER")));
  // The same SEQUENCE with a long-form length: valid BER, not DER.
  std::string ber = "\x30\x81";
  ber += sm2_sig.substr(1);
  EXPECT_THAT(sm2->public_key().Verify("m", ber), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(sm2->public_key().Verify("m", ed_sig),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// A failure must not leave OpenSSL errors queued, to be blamed on the thread's next call.
TEST(SignatureTest, FailuresDoNotLeakOpenSslErrorsIntoLaterCalls) {
  HT_ASSERT_OK_AND_ASSIGN(auto sm2, PrivateKey::Generate(SignatureAlgorithm::kSm2));
  HT_ASSERT_OK_AND_ASSIGN(std::string sig, sm2->Sign("m"));
  ASSERT_THAT(sm2->public_key().Verify("other", sig),
              StatusIs(absl::StatusCode::kUnauthenticated));
  ASSERT_THAT(PublicKey::FromPem("garbage"), Not(IsOk()));
  ASSERT_THAT(PublicKey::FromPem(kP256PublicPem), Not(IsOk()));
  absl::Status later = PublicKey::FromDer("junk").status();
  EXPECT_THAT(later, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(later.message()),
              AllOf(Not(HasSubstr("PEM")), Not(HasSubstr("SM2")), Not(HasSubstr("bad signature"))));
  // The successful path after failures reports success.
  EXPECT_THAT(sm2->public_key().Verify("m", sig), IsOk());
}

TEST(SignatureTest, AlgorithmNamesRoundTrip) {
  for (SignatureAlgorithm a : {SignatureAlgorithm::kEd25519, SignatureAlgorithm::kSm2}) {
    HT_ASSERT_OK_AND_ASSIGN(SignatureAlgorithm parsed,
                            ParseSignatureAlgorithm(SignatureAlgorithmName(a)));
    EXPECT_EQ(parsed, a);
  }
  EXPECT_THAT(ParseSignatureAlgorithm("Ed25519"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown")));
  EXPECT_THAT(ParseSignatureAlgorithm("ecdsa"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace herbtrace::crypto
