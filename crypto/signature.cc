#include "crypto/signature.h"

#include <climits>
#include <utility>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "crypto/openssl_error.h"

// Encodings handled here:
//
//   Ed25519 raw public key  = 32 bytes (RFC 8032 §5.1.5)
//   Ed25519 signature       = 64 bytes (R ‖ S)
//   SM2 raw public key      = 0x04 ‖ X[32] ‖ Y[32]          (SEC 1 uncompressed point, 65 bytes)
//   SM2 signature           = DER SEQUENCE { INTEGER r, INTEGER s }   (70-72 bytes, strict DER)
//   SM2 signed digest       = SM3(Z_A ‖ M), Z_A over the id "1234567812345678" (GB/T 32918.2 §5.5)
//   key id                  = hex(SHA-256(algorithm byte ‖ raw public key)[0:8])
//   PEM / DER public keys   = SubjectPublicKeyInfo; private keys = unencrypted PKCS#8

namespace herbtrace::crypto {
namespace {

using internal::ClearOpenSslErrors;
using internal::OpenSslError;
using internal::OpenSslPtr;

constexpr size_t kEd25519PublicKeySize = 32;
constexpr size_t kEd25519SeedSize = 32;
constexpr size_t kEd25519SignatureSize = 64;
constexpr size_t kSm2PublicKeySize = 65;
constexpr size_t kSm3DigestSize = 32;
constexpr size_t kKeyIdBytes = 8;

// Fetched once for the life of the process and never freed: a static destructor could run while
// another static (a server's key, say) still signs.
const EVP_MD* Sm3() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SM3", nullptr);
  return md;
}

const Hasher* Sha256() {
  static const Hasher* const hasher = [] {
    auto h = Hasher::Create(HashAlgorithm::kSha256);
    return h.ok() ? h->release() : nullptr;
  }();
  return hasher;
}

absl::StatusOr<const EVP_MD*> Sm3OrError() {
  const EVP_MD* md = Sm3();
  if (md == nullptr) {
    return OpenSslError("signature: SM3 is unavailable in this OpenSSL",
                        absl::StatusCode::kUnimplemented);
  }
  return md;
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// A read-only memory BIO over `data`; the BIO borrows `data`.
absl::StatusOr<OpenSslPtr<BIO>> ReadBio(absl::string_view data) {
  if (data.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError("signature: key encoding too large");
  }
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (bio == nullptr) return OpenSslError("signature: BIO_new_mem_buf");
  return bio;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

// Never prompts: without this callback OpenSSL asks the terminal for the passphrase of an
// encrypted PEM key, which would hang a server. Encrypted keys are rejected instead.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

absl::StatusOr<SignatureAlgorithm> AlgorithmOf(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "ED25519")) return SignatureAlgorithm::kEd25519;
  // OpenSSL 3 decodes an id-ecPublicKey key on the SM2 curve as type "SM2", so a key on the SM2
  // curve never arrives here as "EC" (and would then sign ECDSA, not SM2).
  if (EVP_PKEY_is_a(pkey, "SM2")) return SignatureAlgorithm::kSm2;
  const char* type = EVP_PKEY_get0_type_name(pkey);
  std::string name = type != nullptr ? type : "unknown";
  char group[64];
  size_t group_len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &group_len)) {
    absl::StrAppend(&name, " (", absl::string_view(group, group_len), ")");
  }
  ClearOpenSslErrors();
  return absl::InvalidArgumentError(
      absl::StrCat("signature: unsupported key type ", name, " (want ED25519 or SM2)"));
}

absl::StatusOr<std::string> RawPublicKey(const EVP_PKEY* pkey, SignatureAlgorithm algorithm) {
  if (algorithm == SignatureAlgorithm::kEd25519) {
    std::string raw(kEd25519PublicKeySize, '\0');
    size_t len = raw.size();
    if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(raw.data()), &len) !=
            1 ||
        len != kEd25519PublicKeySize) {
      return OpenSslError("signature: reading the Ed25519 public key");
    }
    return raw;
  }
  std::string raw(kSm2PublicKeySize, '\0');
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY,
                                      reinterpret_cast<unsigned char*>(raw.data()), raw.size(),
                                      &len) != 1 ||
      len != kSm2PublicKeySize || raw[0] != 0x04) {
    return OpenSslError("signature: reading the SM2 public point");
  }
  return raw;
}

absl::StatusOr<std::string> KeyId(SignatureAlgorithm algorithm, absl::string_view raw) {
  const Hasher* sha256 = Sha256();
  if (sha256 == nullptr) {
    return absl::UnimplementedError("signature: SHA-256 is unavailable for key ids");
  }
  Digest d = sha256->HashWithPrefix(static_cast<uint8_t>(algorithm), raw);
  return absl::BytesToHexString(AsBytes(d).substr(0, kKeyIdBytes));
}

// A signature must be the one DER encoding of (r, s): BER variants (long-form lengths, padded
// integers) and trailing bytes would give one signature several byte strings, and peers hashing
// signatures (as this ledger's events do) would disagree about which one they saw.
absl::Status CheckStrictDer(absl::string_view signature) {
  if (signature.empty()) return absl::InvalidArgumentError("signature: sm2 signature is empty");
  if (signature.size() > static_cast<size_t>(LONG_MAX)) {
    return absl::InvalidArgumentError("signature: sm2 signature is too long");
  }
  const unsigned char* p = Bytes(signature);
  OpenSslPtr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature.size())));
  if (sig == nullptr) {
    return OpenSslError("signature: sm2 signature is not DER", absl::StatusCode::kInvalidArgument);
  }
  if (p != Bytes(signature) + signature.size()) {
    return absl::InvalidArgumentError("signature: sm2 signature has bytes after the DER");
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  bool canonical = der_len > 0 && static_cast<size_t>(der_len) == signature.size() &&
                   absl::string_view(reinterpret_cast<const char*>(der), der_len) == signature;
  OPENSSL_free(der);
  if (der_len <= 0) return OpenSslError("signature: re-encoding the sm2 signature");
  if (!canonical) return absl::InvalidArgumentError("signature: sm2 signature is not strict DER");
  return absl::OkStatus();
}

// An EVP_PKEY_CTX carrying the SM2 distinguishing identifier. OpenSSL 3.0 would otherwise compute
// Z_A over an empty id, which no other SM2 implementation does.
absl::StatusOr<OpenSslPtr<EVP_PKEY_CTX>> Sm2Context(EVP_PKEY* pkey) {
  OpenSslPtr<EVP_PKEY_CTX> pctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (pctx == nullptr) return OpenSslError("signature: EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_CTX_set1_id(pctx.get(), kSm2DefaultId.data(),
                           static_cast<int>(kSm2DefaultId.size())) <= 0) {
    return OpenSslError("signature: setting the SM2 distinguishing id");
  }
  return pctx;
}

enum class Operation { kSign, kVerify };

// Readies `mctx` for one EVP_DigestSign or EVP_DigestVerify with `pkey`: Ed25519 without a digest
// (it is one-shot only); SM2 with SM3 and the distinguishing id, in a context stored in
// `sm2_ctx`. mctx borrows that context (EVP_MD_CTX_set_pkey_ctx does not transfer ownership), so
// the caller declares `sm2_ctx` before mctx: it is then destroyed after it.
absl::Status InitDigestContext(Operation operation, SignatureAlgorithm algorithm, EVP_PKEY* pkey,
                               EVP_MD_CTX* mctx, OpenSslPtr<EVP_PKEY_CTX>& sm2_ctx) {
  const bool sign = operation == Operation::kSign;
  if (algorithm == SignatureAlgorithm::kEd25519) {
    const int ok =
        sign ? EVP_DigestSignInit_ex(mctx, nullptr, nullptr, nullptr, nullptr, pkey, nullptr)
             : EVP_DigestVerifyInit_ex(mctx, nullptr, nullptr, nullptr, nullptr, pkey, nullptr);
    if (ok != 1) {
      return OpenSslError(sign ? "signature: EVP_DigestSignInit_ex (ed25519)"
                               : "signature: EVP_DigestVerifyInit_ex (ed25519)");
    }
    return absl::OkStatus();
  }
  auto md = Sm3OrError();
  if (!md.ok()) return md.status();
  auto ctx = Sm2Context(pkey);
  if (!ctx.ok()) return ctx.status();
  sm2_ctx = *std::move(ctx);
  EVP_MD_CTX_set_pkey_ctx(mctx, sm2_ctx.get());
  const int ok = sign ? EVP_DigestSignInit(mctx, nullptr, *md, nullptr, pkey)
                      : EVP_DigestVerifyInit(mctx, nullptr, *md, nullptr, pkey);
  if (ok != 1) {
    return OpenSslError(sign ? "signature: EVP_DigestSignInit (sm2)"
                             : "signature: EVP_DigestVerifyInit (sm2)");
  }
  return absl::OkStatus();
}

absl::Status Unverified(SignatureAlgorithm algorithm, absl::string_view key_id) {
  // The failed check leaves errors queued; they say nothing a caller needs and would otherwise be
  // reported against the thread's next, unrelated OpenSSL call.
  ClearOpenSslErrors();
  return absl::UnauthenticatedError(absl::StrCat("signature: does not verify (",
                                                 SignatureAlgorithmName(algorithm), " key ",
                                                 key_id, ")"));
}

class EvpPublicKey final : public PublicKey {
 public:
  EvpPublicKey(SignatureAlgorithm algorithm, OpenSslPtr<EVP_PKEY> pkey, std::string raw,
               std::string key_id)
      : algorithm_(algorithm),
        pkey_(std::move(pkey)),
        raw_(std::move(raw)),
        key_id_(std::move(key_id)) {}

  SignatureAlgorithm algorithm() const override { return algorithm_; }
  const std::string& raw() const override { return raw_; }
  const std::string& key_id() const override { return key_id_; }

  absl::StatusOr<std::string> ToPem() const override {
    OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
    if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) {
      return OpenSslError("signature: writing the public key PEM");
    }
    return BioContents(bio.get());
  }

  absl::StatusOr<std::string> ToDer() const override {
    int len = i2d_PUBKEY(pkey_.get(), nullptr);
    if (len <= 0) return OpenSslError("signature: sizing the public key DER");
    std::string der(static_cast<size_t>(len), '\0');
    unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_PUBKEY(pkey_.get(), &p) != len) {
      return OpenSslError("signature: writing the public key DER");
    }
    return der;
  }

  absl::Status Verify(absl::string_view message, absl::string_view signature) const override {
    if (algorithm_ == SignatureAlgorithm::kEd25519) {
      if (signature.size() != kEd25519SignatureSize) {
        return absl::InvalidArgumentError(absl::StrCat("signature: ed25519 signature must be ",
                                                       kEd25519SignatureSize, " bytes, got ",
                                                       signature.size()));
      }
    } else if (absl::Status s = CheckStrictDer(signature); !s.ok()) {
      return s;
    }
    OpenSslPtr<EVP_PKEY_CTX> sm2_ctx;
    OpenSslPtr<EVP_MD_CTX> mctx(EVP_MD_CTX_new());
    if (mctx == nullptr) return OpenSslError("signature: EVP_MD_CTX_new");
    if (absl::Status s = InitDigestContext(Operation::kVerify, algorithm_, pkey_.get(),
                                           mctx.get(), sm2_ctx);
        !s.ok()) {
      return s;
    }
    int r = EVP_DigestVerify(mctx.get(), Bytes(signature), signature.size(), Bytes(message),
                             message.size());
    if (r == 1) return absl::OkStatus();
    if (r == 0) return Unverified(algorithm_, key_id_);
    return OpenSslError("signature: malformed signature", absl::StatusCode::kInvalidArgument);
  }

  absl::Status VerifyDigest(absl::string_view digest,
                            absl::string_view signature) const override {
    if (algorithm_ != SignatureAlgorithm::kSm2) {
      return absl::UnimplementedError(
          absl::StrCat("signature: VerifyDigest is for sm2 keys, this key is ",
                       SignatureAlgorithmName(algorithm_)));
    }
    if (digest.size() != kSm3DigestSize) {
      return absl::InvalidArgumentError(absl::StrCat(
          "signature: sm2 digest must be ", kSm3DigestSize, " bytes, got ", digest.size()));
    }
    if (absl::Status s = CheckStrictDer(signature); !s.ok()) return s;
    OpenSslPtr<EVP_PKEY_CTX> pctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey_.get(), nullptr));
    if (pctx == nullptr || EVP_PKEY_verify_init(pctx.get()) != 1) {
      return OpenSslError("signature: EVP_PKEY_verify_init (sm2)");
    }
    int r = EVP_PKEY_verify(pctx.get(), Bytes(signature), signature.size(), Bytes(digest),
                            digest.size());
    if (r == 1) return absl::OkStatus();
    if (r == 0) return Unverified(algorithm_, key_id_);
    return OpenSslError("signature: malformed signature", absl::StatusCode::kInvalidArgument);
  }

 private:
  const SignatureAlgorithm algorithm_;
  const OpenSslPtr<EVP_PKEY> pkey_;
  const std::string raw_;
  const std::string key_id_;
};

absl::StatusOr<std::unique_ptr<EvpPublicKey>> PublicKeyFromRaw(SignatureAlgorithm algorithm,
                                                                absl::string_view raw) {
  OpenSslPtr<EVP_PKEY> pkey;
  if (algorithm == SignatureAlgorithm::kEd25519) {
    if (raw.size() != kEd25519PublicKeySize) {
      return absl::InvalidArgumentError(absl::StrCat("signature: ed25519 public key must be ",
                                                     kEd25519PublicKeySize, " bytes, got ",
                                                     raw.size()));
    }
    pkey.reset(
        EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, Bytes(raw), raw.size()));
    if (pkey == nullptr) {
      return OpenSslError("signature: ed25519 public key", absl::StatusCode::kInvalidArgument);
    }
  } else if (algorithm == SignatureAlgorithm::kSm2) {
    if (raw.size() != kSm2PublicKeySize || raw[0] != 0x04) {
      return absl::InvalidArgumentError(absl::StrCat(
          "signature: sm2 public key must be a ", kSm2PublicKeySize,
          "-byte uncompressed point (0x04 || X || Y), got ", raw.size(), " bytes"));
    }
    char group[] = "SM2";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<char*>(raw.data()),
                                          raw.size()),
        OSSL_PARAM_construct_end(),
    };
    OpenSslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "SM2", nullptr));
    if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
      return OpenSslError("signature: EVP_PKEY_fromdata_init (sm2)");
    }
    EVP_PKEY* out = nullptr;
    // Decoding the point checks that it lies on the curve.
    if (EVP_PKEY_fromdata(ctx.get(), &out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
      return OpenSslError("signature: sm2 public key is not a point on the curve",
                          absl::StatusCode::kInvalidArgument);
    }
    pkey.reset(out);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("signature: unknown algorithm ",
                                                   static_cast<int>(algorithm)));
  }
  auto key_id = KeyId(algorithm, raw);
  if (!key_id.ok()) return key_id.status();
  return std::make_unique<EvpPublicKey>(algorithm, std::move(pkey), std::string(raw),
                                        *std::move(key_id));
}

// Takes any decoded key (public or private) and keeps only its public half, so a PublicKey never
// holds secret material.
absl::StatusOr<std::unique_ptr<EvpPublicKey>> PublicKeyFromPkey(const EVP_PKEY* pkey) {
  auto algorithm = AlgorithmOf(pkey);
  if (!algorithm.ok()) return algorithm.status();
  auto raw = RawPublicKey(pkey, *algorithm);
  if (!raw.ok()) return raw.status();
  // Rebuilt from the raw bytes: one construction path, and (for SM2) one on-curve check.
  return PublicKeyFromRaw(*algorithm, *raw);
}

class EvpPrivateKey final : public PrivateKey {
 public:
  EvpPrivateKey(SignatureAlgorithm algorithm, OpenSslPtr<EVP_PKEY> pkey,
                std::unique_ptr<EvpPublicKey> public_key)
      : algorithm_(algorithm), pkey_(std::move(pkey)), public_key_(std::move(public_key)) {}

  SignatureAlgorithm algorithm() const override { return algorithm_; }
  const PublicKey& public_key() const override { return *public_key_; }

  absl::StatusOr<std::string> ToPem() const override {
    // Secure-heap BIO: its buffer is cleansed when freed. The returned string is the caller's.
    OpenSslPtr<BIO> bio(BIO_new(BIO_s_secmem()));
    if (bio == nullptr || PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr,
                                                        0, nullptr, nullptr) != 1) {
      return OpenSslError("signature: writing the private key PEM");
    }
    return BioContents(bio.get());
  }

  absl::StatusOr<std::string> ToDer() const override {
    OpenSslPtr<BIO> bio(BIO_new(BIO_s_secmem()));
    if (bio == nullptr || i2d_PKCS8PrivateKey_bio(bio.get(), pkey_.get(), nullptr, nullptr, 0,
                                                  nullptr, nullptr) != 1) {
      return OpenSslError("signature: writing the private key DER");
    }
    return BioContents(bio.get());
  }

  absl::StatusOr<std::string> Sign(absl::string_view message) const override {
    OpenSslPtr<EVP_PKEY_CTX> sm2_ctx;
    OpenSslPtr<EVP_MD_CTX> mctx(EVP_MD_CTX_new());
    if (mctx == nullptr) return OpenSslError("signature: EVP_MD_CTX_new");
    if (absl::Status s =
            InitDigestContext(Operation::kSign, algorithm_, pkey_.get(), mctx.get(), sm2_ctx);
        !s.ok()) {
      return s;
    }
    int max_size = EVP_PKEY_get_size(pkey_.get());
    if (max_size <= 0) return OpenSslError("signature: EVP_PKEY_get_size");
    std::string signature(static_cast<size_t>(max_size), '\0');
    size_t len = signature.size();
    if (EVP_DigestSign(mctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                       Bytes(message), message.size()) != 1) {
      return OpenSslError(
          absl::StrCat("signature: signing (", SignatureAlgorithmName(algorithm_), ")"));
    }
    signature.resize(len);
    return signature;
  }

 private:
  const SignatureAlgorithm algorithm_;
  const OpenSslPtr<EVP_PKEY> pkey_;
  const std::unique_ptr<EvpPublicKey> public_key_;
};

absl::StatusOr<std::unique_ptr<PrivateKey>> PrivateKeyFromPkey(OpenSslPtr<EVP_PKEY> pkey) {
  auto algorithm = AlgorithmOf(pkey.get());
  if (!algorithm.ok()) return algorithm.status();
  auto public_key = PublicKeyFromPkey(pkey.get());
  if (!public_key.ok()) return public_key.status();
  return std::unique_ptr<PrivateKey>(
      new EvpPrivateKey(*algorithm, std::move(pkey), *std::move(public_key)));
}

}  // namespace

absl::string_view SignatureAlgorithmName(SignatureAlgorithm algorithm) {
  switch (algorithm) {
    case SignatureAlgorithm::kEd25519:
      return "ed25519";
    case SignatureAlgorithm::kSm2:
      return "sm2";
  }
  return "unknown";
}

absl::StatusOr<SignatureAlgorithm> ParseSignatureAlgorithm(absl::string_view name) {
  if (name == "ed25519") return SignatureAlgorithm::kEd25519;
  if (name == "sm2") return SignatureAlgorithm::kSm2;
  return absl::InvalidArgumentError(
      absl::StrCat("signature algorithm: unknown '", name, "' (want ed25519 or sm2)"));
}

absl::StatusOr<std::unique_ptr<PublicKey>> PublicKey::FromRaw(SignatureAlgorithm algorithm,
                                                              absl::string_view raw) {
  auto key = PublicKeyFromRaw(algorithm, raw);
  if (!key.ok()) return key.status();
  return std::unique_ptr<PublicKey>(*std::move(key));
}

absl::StatusOr<std::unique_ptr<PublicKey>> PublicKey::FromPem(absl::string_view pem) {
  auto bio = ReadBio(pem);
  if (!bio.ok()) return bio.status();
  OpenSslPtr<EVP_PKEY> pkey(PEM_read_bio_PUBKEY(bio->get(), nullptr, NoPassphrase, nullptr));
  if (pkey == nullptr) {
    return OpenSslError("signature: not a PEM public key (want \"BEGIN PUBLIC KEY\")",
                        absl::StatusCode::kInvalidArgument);
  }
  auto key = PublicKeyFromPkey(pkey.get());
  if (!key.ok()) return key.status();
  return std::unique_ptr<PublicKey>(*std::move(key));
}

absl::StatusOr<std::unique_ptr<PublicKey>> PublicKey::FromDer(absl::string_view der) {
  if (der.size() > static_cast<size_t>(LONG_MAX)) {
    return absl::InvalidArgumentError("signature: public key DER too large");
  }
  const unsigned char* p = Bytes(der);
  OpenSslPtr<EVP_PKEY> pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (pkey == nullptr) {
    return OpenSslError("signature: not a DER SubjectPublicKeyInfo",
                        absl::StatusCode::kInvalidArgument);
  }
  if (p != Bytes(der) + der.size()) {
    return absl::InvalidArgumentError(absl::StrCat("signature: ", Bytes(der) + der.size() - p,
                                                   " bytes after the public key DER"));
  }
  auto key = PublicKeyFromPkey(pkey.get());
  if (!key.ok()) return key.status();
  return std::unique_ptr<PublicKey>(*std::move(key));
}

absl::StatusOr<std::unique_ptr<PrivateKey>> PrivateKey::Generate(SignatureAlgorithm algorithm) {
  const char* type = nullptr;
  switch (algorithm) {
    case SignatureAlgorithm::kEd25519:
      type = "ED25519";
      break;
    case SignatureAlgorithm::kSm2:
      type = "SM2";
      break;
  }
  if (type == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("signature: unknown algorithm ",
                                                   static_cast<int>(algorithm)));
  }
  OpenSslPtr<EVP_PKEY> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
  if (pkey == nullptr) return OpenSslError(absl::StrCat("signature: generating an ", type, " key"));
  return PrivateKeyFromPkey(std::move(pkey));
}

absl::StatusOr<std::unique_ptr<PrivateKey>> PrivateKey::FromPem(absl::string_view pem) {
  auto bio = ReadBio(pem);
  if (!bio.ok()) return bio.status();
  OpenSslPtr<EVP_PKEY> pkey(
      PEM_read_bio_PrivateKey_ex(bio->get(), nullptr, NoPassphrase, nullptr, nullptr, nullptr));
  if (pkey == nullptr) {
    return OpenSslError(
        "signature: not an unencrypted PEM private key (want \"BEGIN PRIVATE KEY\")",
        absl::StatusCode::kInvalidArgument);
  }
  return PrivateKeyFromPkey(std::move(pkey));
}

absl::StatusOr<std::unique_ptr<PrivateKey>> PrivateKey::FromDer(absl::string_view der) {
  if (der.size() > static_cast<size_t>(LONG_MAX)) {
    return absl::InvalidArgumentError("signature: private key DER too large");
  }
  const unsigned char* p = Bytes(der);
  OpenSslPtr<EVP_PKEY> pkey(
      d2i_AutoPrivateKey_ex(nullptr, &p, static_cast<long>(der.size()), nullptr, nullptr));
  if (pkey == nullptr) {
    return OpenSslError("signature: not a DER PKCS#8 private key",
                        absl::StatusCode::kInvalidArgument);
  }
  if (p != Bytes(der) + der.size()) {
    return absl::InvalidArgumentError(absl::StrCat("signature: ", Bytes(der) + der.size() - p,
                                                   " bytes after the private key DER"));
  }
  return PrivateKeyFromPkey(std::move(pkey));
}

absl::StatusOr<std::unique_ptr<PrivateKey>> PrivateKey::FromEd25519Seed(absl::string_view seed) {
  if (seed.size() != kEd25519SeedSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "signature: ed25519 secret key must be ", kEd25519SeedSize, " bytes, got ", seed.size()));
  }
  OpenSslPtr<EVP_PKEY> pkey(
      EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, Bytes(seed), seed.size()));
  if (pkey == nullptr) return OpenSslError("signature: ed25519 secret key");
  return PrivateKeyFromPkey(std::move(pkey));
}

}  // namespace herbtrace::crypto
