// Digital signatures for events, checkpoints and cosignatures: Ed25519 (RFC 8032) and SM2
// (GB/T 32918 with SM3, distinguishing identifier "1234567812345678" on sign and verify).
//
// Key id: the lowercase hex of the first 8 bytes of SHA-256(algorithm byte ‖ raw public key),
// where the algorithm byte is the SignatureAlgorithm value and the raw public key is the 32-byte
// Ed25519 key or the 65-byte uncompressed SM2 point (0x04 ‖ X ‖ Y). 16 characters, stable for the
// life of the key, computable by any client from the key alone.
#ifndef HERBTRACE_CRYPTO_SIGNATURE_H_
#define HERBTRACE_CRYPTO_SIGNATURE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace herbtrace::crypto {

enum class SignatureAlgorithm : uint8_t {
  kEd25519 = 1,
  kSm2 = 2,
};

// "ed25519" / "sm2".
absl::string_view SignatureAlgorithmName(SignatureAlgorithm algorithm);
absl::StatusOr<SignatureAlgorithm> ParseSignatureAlgorithm(absl::string_view name);

// The GB/T 32918 default distinguishing identifier, used for every SM2 signature in HerbTrace.
inline constexpr absl::string_view kSm2DefaultId = "1234567812345678";

// Immutable and thread-safe.
class PublicKey {
 public:
  virtual ~PublicKey() = default;

  // Ed25519: 32 bytes. SM2: 65-byte uncompressed point.
  static absl::StatusOr<std::unique_ptr<PublicKey>> FromRaw(SignatureAlgorithm algorithm,
                                                            absl::string_view raw);
  // SubjectPublicKeyInfo, PEM ("-----BEGIN PUBLIC KEY-----") or DER.
  static absl::StatusOr<std::unique_ptr<PublicKey>> FromPem(absl::string_view pem);
  static absl::StatusOr<std::unique_ptr<PublicKey>> FromDer(absl::string_view der);

  virtual SignatureAlgorithm algorithm() const = 0;
  virtual const std::string& raw() const = 0;
  virtual const std::string& key_id() const = 0;
  virtual absl::StatusOr<std::string> ToPem() const = 0;
  virtual absl::StatusOr<std::string> ToDer() const = 0;

  // OK, or Unauthenticated("signature: does not verify ...") when the signature does not verify,
  // or InvalidArgument when it is malformed (Ed25519: not 64 bytes; SM2: not strict DER, so that
  // one signature has one byte string).
  virtual absl::Status Verify(absl::string_view message, absl::string_view signature) const = 0;

  // SM2 only: verifies a DER signature over an already computed e = SM3(Z_A ‖ M), for peers that
  // hash on their side. Unimplemented for Ed25519, which has no pre-hashed form here.
  virtual absl::Status VerifyDigest(absl::string_view digest,
                                    absl::string_view signature) const = 0;
};

// Immutable and thread-safe.
class PrivateKey {
 public:
  virtual ~PrivateKey() = default;

  static absl::StatusOr<std::unique_ptr<PrivateKey>> Generate(SignatureAlgorithm algorithm);
  // PKCS#8, PEM ("-----BEGIN PRIVATE KEY-----") or DER, unencrypted: an encrypted key is
  // InvalidArgument (never a passphrase prompt). Keys other than Ed25519 and SM2 are
  // InvalidArgument naming their type, here and in PublicKey's factories.
  static absl::StatusOr<std::unique_ptr<PrivateKey>> FromPem(absl::string_view pem);
  static absl::StatusOr<std::unique_ptr<PrivateKey>> FromDer(absl::string_view der);
  // The 32-byte RFC 8032 secret key.
  static absl::StatusOr<std::unique_ptr<PrivateKey>> FromEd25519Seed(absl::string_view seed);

  virtual SignatureAlgorithm algorithm() const = 0;
  virtual const PublicKey& public_key() const = 0;
  virtual absl::StatusOr<std::string> ToPem() const = 0;
  virtual absl::StatusOr<std::string> ToDer() const = 0;

  // Ed25519: 64 bytes, deterministic. SM2: strict DER, at most 72 bytes (70-72 unless r or s
  // happens to be short), randomized.
  virtual absl::StatusOr<std::string> Sign(absl::string_view message) const = 0;
};

}  // namespace herbtrace::crypto

#endif  // HERBTRACE_CRYPTO_SIGNATURE_H_
