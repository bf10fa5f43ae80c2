// SipHash-2-4 as its authors specify it (Aumasson and Bernstein, "SipHash: a fast short-input
// PRF", 2012), in its 128-bit-output form; the tests compare it with OpenSSL's SIPHASH MAC.
// Written here rather than called through EVP_MAC: for the 30-110-byte index records the
// EVP dispatch (init, update, final through the provider) cost as much as SHA-256 itself.
#include "storage/record_sum.h"

#include <bit>
#include <cstring>
#include <memory>

#include <openssl/rand.h>

#include "absl/status/status.h"

namespace herbtrace::storage::internal {
namespace {

uint64_t LoadLittleEndian64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

struct SipState {
  uint64_t v0, v1, v2, v3;

  void Round() {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }
  void Compress(uint64_t m) {
    v3 ^= m;
    Round();
    Round();
    v0 ^= m;
  }
  uint64_t Finalize(uint8_t tweak) {
    v2 ^= tweak;
    Round();
    Round();
    Round();
    Round();
    return v0 ^ v1 ^ v2 ^ v3;
  }
};

// key ‖ 0x00 ‖ u64be(seq) ‖ digest: short enough for the stack for every id the log accepts;
// a longer key is hashed from the heap.
template <typename Fn>
auto WithRecord(absl::string_view key, uint64_t seq, const crypto::Digest* digest, Fn fn) {
  const size_t size = key.size() + 9 + (digest != nullptr ? crypto::kDigestSize : 0);
  char stack[160];
  std::unique_ptr<char[]> heap;
  char* record = stack;
  if (size > sizeof(stack)) {
    heap = std::make_unique<char[]>(size);
    record = heap.get();
  }
  std::memcpy(record, key.data(), key.size());
  char* p = record + key.size();
  *p++ = '\0';
  for (int i = 7; i >= 0; --i) *p++ = static_cast<char>(seq >> (8 * i));
  if (digest != nullptr) std::memcpy(p, digest->data(), crypto::kDigestSize);
  return fn(absl::string_view(record, size));
}

}  // namespace

absl::StatusOr<RecordPrf> RecordPrf::Random() {
  Key key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return absl::InternalError("audit: could not draw a random key for the index sums");
  }
  return RecordPrf(key);
}

RecordPrf::RecordPrf(const Key& key)
    : k0_(LoadLittleEndian64(key.data())), k1_(LoadLittleEndian64(key.data() + 8)) {}

std::array<uint64_t, 2> RecordPrf::Hash(absl::string_view data) const {
  SipState s{k0_ ^ 0x736f6d6570736575ULL, k1_ ^ 0x646f72616e646f6dULL ^ 0xee,
             k0_ ^ 0x6c7967656e657261ULL, k1_ ^ 0x7465646279746573ULL};
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const size_t whole = data.size() / 8 * 8;
  for (size_t i = 0; i < whole; i += 8) s.Compress(LoadLittleEndian64(p + i));
  uint64_t last = static_cast<uint64_t>(data.size() & 0xff) << 56;
  for (size_t i = whole; i < data.size(); ++i) last |= uint64_t{p[i]} << (8 * (i - whole));
  s.Compress(last);
  const uint64_t first = s.Finalize(0xee);
  s.v1 ^= 0xdd;
  const uint64_t second = s.Finalize(0);
  return {first, second};
}

void RecordSum::Add(const RecordPrf& prf, absl::string_view key, uint64_t seq,
                    const crypto::Digest* digest) {
  const std::array<uint64_t, 2> v =
      WithRecord(key, seq, digest, [&](absl::string_view record) { return prf.Hash(record); });
  const uint64_t new_lo = lo + v[0];
  hi += v[1] + (new_lo < lo ? 1 : 0);
  lo = new_lo;
  ++count;
}

void RecordSum::Remove(const RecordPrf& prf, absl::string_view key, uint64_t seq,
                       const crypto::Digest* digest) {
  const std::array<uint64_t, 2> v =
      WithRecord(key, seq, digest, [&](absl::string_view record) { return prf.Hash(record); });
  hi -= v[1] + (lo < v[0] ? 1 : 0);
  lo -= v[0];
  --count;
}

void RecordSum::Merge(const RecordSum& other) {
  const uint64_t new_lo = lo + other.lo;
  hi += other.hi + (new_lo < lo ? 1 : 0);
  lo = new_lo;
  count += other.count;
}

}  // namespace herbtrace::storage::internal
