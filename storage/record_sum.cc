#include "storage/record_sum.h"

#include <cstring>
#include <memory>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "absl/status/status.h"

namespace herbtrace::storage::internal {
namespace {

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
  RecordPrf prf(key);
  if (!prf.usable()) {
    return absl::InternalError("audit: OpenSSL's SIPHASH MAC is not available for the index sums");
  }
  return prf;
}

RecordPrf::RecordPrf(const Key& key) : key_(key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "SIPHASH", nullptr);
  if (mac == nullptr) return;
  ctx_.reset(EVP_MAC_CTX_new(mac));
  EVP_MAC_free(mac);  // the context keeps its own reference
  if (ctx_ == nullptr) return;
  size_t size = 16;
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                               OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx_.get(), key_.data(), key_.size(), params) != 1) ctx_.reset();
}

bool RecordPrf::Hash(absl::string_view data, std::array<uint64_t, 2>& out) {
  if (ctx_ == nullptr) return false;
  uint8_t bytes[16];
  size_t size = 0;
  // Without a key, init starts the same keyed MAC afresh.
  if (EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(ctx_.get(), reinterpret_cast<const uint8_t*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx_.get(), bytes, &size, sizeof(bytes)) != 1 || size != sizeof(bytes)) {
    return false;
  }
  for (int w = 0; w < 2; ++w) {
    out[w] = 0;
    for (int i = 7; i >= 0; --i) out[w] = (out[w] << 8) | bytes[8 * w + i];
  }
  return true;
}

void RecordSum::Add(RecordPrf& prf, absl::string_view key, uint64_t seq,
                    const crypto::Digest* digest) {
  std::array<uint64_t, 2> v{};
  if (!WithRecord(key, seq, digest, [&](absl::string_view record) { return prf.Hash(record, v); })) {
    broken = true;
  }
  const uint64_t new_lo = lo + v[0];
  hi += v[1] + (new_lo < lo ? 1 : 0);
  lo = new_lo;
  ++count;
}

void RecordSum::Remove(RecordPrf& prf, absl::string_view key, uint64_t seq,
                       const crypto::Digest* digest) {
  std::array<uint64_t, 2> v{};
  if (!WithRecord(key, seq, digest, [&](absl::string_view record) { return prf.Hash(record, v); })) {
    broken = true;
  }
  hi -= v[1] + (lo < v[0] ? 1 : 0);
  lo -= v[0];
  --count;
}

void RecordSum::Merge(const RecordSum& other) {
  const uint64_t new_lo = lo + other.lo;
  hi += other.hi + (new_lo < lo ? 1 : 0);
  lo = new_lo;
  count += other.count;
  broken = broken || other.broken;
}

}  // namespace herbtrace::storage::internal
