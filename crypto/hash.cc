// SHA-256 goes through OpenSSL's low-level SHA256_* functions, deprecated in OpenSSL 3 but
// present: on OpenSSL 3.0 every EVP digest call pays a provider dispatch, a reference count on
// the algorithm, an allocation for its context and a cleanse, which for the 65-byte interior
// nodes of the Merkle tree costs more than the compression itself (the audit spent more time in
// EVP bookkeeping than in SHA-256). SM3 has no low-level API and stays on EVP.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "crypto/hash.h"

#include <array>
#include <cstring>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/openssl_error.h"

namespace herbtrace::crypto {
namespace {

using internal::OpenSslPtr;

// prefix ‖ left ‖ right, what HashPair hashes: one contiguous buffer, so each backend hashes it
// in a single call (the cheapest path for 65 bytes).
using PairBytes = std::array<uint8_t, 1 + 2 * kDigestSize>;
PairBytes ConcatPair(uint8_t prefix, const Digest& left, const Digest& right) {
  PairBytes buf;
  buf[0] = prefix;
  std::memcpy(buf.data() + 1, left.data(), kDigestSize);
  std::memcpy(buf.data() + 1 + kDigestSize, right.data(), kDigestSize);
  return buf;
}

// SM3 (and any digest without a low-level API).
class EvpHasher final : public Hasher {
 public:
  EvpHasher(HashAlgorithm algorithm, OpenSslPtr<EVP_MD> md)
      : algorithm_(algorithm), md_(std::move(md)) {}

  HashAlgorithm algorithm() const override { return algorithm_; }

  Digest Hash(absl::string_view data) const override {
    Digest out;
    unsigned int len = 0;
    // EVP_Digest with a pre-fetched EVP_MD cannot fail short of memory exhaustion.
    EVP_Digest(data.data(), data.size(), out.data(), &len, md_.get(), nullptr);
    return out;
  }

  Digest HashWithPrefix(uint8_t prefix, absl::string_view data) const override {
    Digest out;
    Context ctx(md_.get());
    EVP_DigestUpdate(ctx.get(), &prefix, 1);
    EVP_DigestUpdate(ctx.get(), data.data(), data.size());
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), out.data(), &len);
    return out;
  }

  Digest HashPair(uint8_t prefix, const Digest& left, const Digest& right) const override {
    const PairBytes buf = ConcatPair(prefix, left, right);
    Digest out;
    unsigned int len = 0;
    EVP_Digest(buf.data(), buf.size(), out.data(), &len, md_.get(), nullptr);
    return out;
  }

 private:
  // A digest context reused by the calling thread; contexts are cheap to reset, costly to allocate.
  class Context {
   public:
    explicit Context(const EVP_MD* md) {
      thread_local OpenSslPtr<EVP_MD_CTX> cached(EVP_MD_CTX_new());
      ctx_ = cached.get();
      EVP_DigestInit_ex2(ctx_, md, nullptr);
    }
    EVP_MD_CTX* get() const { return ctx_; }

   private:
    EVP_MD_CTX* ctx_;
  };

  const HashAlgorithm algorithm_;
  const OpenSslPtr<EVP_MD> md_;
};

class Sha256Hasher final : public Hasher {
 public:
  HashAlgorithm algorithm() const override { return HashAlgorithm::kSha256; }

  // Not the one-shot SHA256(): on OpenSSL 3 it is EVP_Q_digest, which fetches under a lock.
  Digest Hash(absl::string_view data) const override {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, data.data(), data.size());
    Digest out;
    SHA256_Final(out.data(), &ctx);
    return out;
  }

  Digest HashWithPrefix(uint8_t prefix, absl::string_view data) const override {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, &prefix, 1);
    SHA256_Update(&ctx, data.data(), data.size());
    Digest out;
    SHA256_Final(out.data(), &ctx);
    return out;
  }

  Digest HashPair(uint8_t prefix, const Digest& left, const Digest& right) const override {
    const PairBytes buf = ConcatPair(prefix, left, right);
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, buf.data(), buf.size());
    Digest out;
    SHA256_Final(out.data(), &ctx);
    return out;
  }
};

}  // namespace

absl::string_view HashAlgorithmName(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha256:
      return "sha256";
    case HashAlgorithm::kSm3:
      return "sm3";
  }
  return "unknown";
}

absl::StatusOr<HashAlgorithm> ParseHashAlgorithm(absl::string_view name) {
  if (name == "sha256") return HashAlgorithm::kSha256;
  if (name == "sm3") return HashAlgorithm::kSm3;
  return absl::InvalidArgumentError(
      absl::StrCat("hash algorithm: unknown '", name, "' (want sha256 or sm3)"));
}

std::string ToHex(const Digest& d) { return absl::BytesToHexString(AsBytes(d)); }

absl::StatusOr<Digest> DigestFromBytes(absl::string_view bytes, absl::string_view field) {
  if (bytes.size() != kDigestSize) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": hash must be ", kDigestSize,
                                                   " bytes, got ", bytes.size()));
  }
  Digest d;
  std::memcpy(d.data(), bytes.data(), kDigestSize);
  return d;
}

absl::StatusOr<std::unique_ptr<Hasher>> Hasher::Create(HashAlgorithm algorithm) {
  if (algorithm == HashAlgorithm::kSha256) return std::unique_ptr<Hasher>(new Sha256Hasher());
  const char* name = "SM3";
  OpenSslPtr<EVP_MD> md(EVP_MD_fetch(nullptr, name, nullptr));
  if (md == nullptr) {
    return internal::OpenSslError(absl::StrCat("fetching digest ", name),
                                  absl::StatusCode::kUnimplemented);
  }
  return std::unique_ptr<Hasher>(new EvpHasher(algorithm, std::move(md)));
}

}  // namespace herbtrace::crypto
