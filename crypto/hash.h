// Message digests for the ledger: SHA-256 (default) and SM3 (GB/T 32905, for deployments that
// choose the national algorithms). Both produce 32 bytes, so every hash in HerbTrace is a Digest.
#ifndef HERBTRACE_CRYPTO_HASH_H_
#define HERBTRACE_CRYPTO_HASH_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace herbtrace::crypto {

inline constexpr size_t kDigestSize = 32;
using Digest = std::array<uint8_t, kDigestSize>;

enum class HashAlgorithm : uint8_t {
  kSha256 = 1,
  kSm3 = 2,
};

// "sha256" / "sm3".
absl::string_view HashAlgorithmName(HashAlgorithm algorithm);
absl::StatusOr<HashAlgorithm> ParseHashAlgorithm(absl::string_view name);

// The digest's bytes as a string_view / std::string, for RocksDB values and protobuf bytes.
inline absl::string_view AsBytes(const Digest& d) {
  return absl::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}
std::string ToHex(const Digest& d);
// REQUIRES nothing: returns InvalidArgument naming `field` unless `bytes` is exactly 32 bytes.
absl::StatusOr<Digest> DigestFromBytes(absl::string_view bytes, absl::string_view field);

// A fetched digest algorithm. Thread-safe: Hash* may be called concurrently; the algorithm
// object is fetched once in Create, each call uses its own short-lived context.
class Hasher {
 public:
  static absl::StatusOr<std::unique_ptr<Hasher>> Create(HashAlgorithm algorithm);
  virtual ~Hasher() = default;

  virtual HashAlgorithm algorithm() const = 0;

  // H(data).
  virtual Digest Hash(absl::string_view data) const = 0;
  // H(prefix ‖ data), without copying data: the RFC 9162 leaf hash is HashWithPrefix(0x00, entry).
  virtual Digest HashWithPrefix(uint8_t prefix, absl::string_view data) const = 0;
  // H(prefix ‖ left ‖ right): the RFC 9162 interior node is HashPair(0x01, left, right).
  virtual Digest HashPair(uint8_t prefix, const Digest& left, const Digest& right) const = 0;
};

}  // namespace herbtrace::crypto

#endif  // HERBTRACE_CRYPTO_HASH_H_
