#include "crypto/hash.h"

#include <cstring>

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/openssl_error.h"

namespace herbtrace::crypto {
namespace {

using internal::OpenSslPtr;

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
    // One contiguous buffer: a single EVP_Digest call is the cheapest path for 65 bytes.
    uint8_t buf[1 + 2 * kDigestSize];
    buf[0] = prefix;
    std::memcpy(buf + 1, left.data(), kDigestSize);
    std::memcpy(buf + 1 + kDigestSize, right.data(), kDigestSize);
    Digest out;
    unsigned int len = 0;
    EVP_Digest(buf, sizeof(buf), out.data(), &len, md_.get(), nullptr);
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
  const char* name = algorithm == HashAlgorithm::kSm3 ? "SM3" : "SHA2-256";
  OpenSslPtr<EVP_MD> md(EVP_MD_fetch(nullptr, name, nullptr));
  if (md == nullptr) {
    return internal::OpenSslError(absl::StrCat("fetching digest ", name),
                                  absl::StatusCode::kUnimplemented);
  }
  return std::unique_ptr<Hasher>(new EvpHasher(algorithm, std::move(md)));
}

}  // namespace herbtrace::crypto
