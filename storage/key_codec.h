// Fixed-width big-endian integers for RocksDB keys, so byte order is numeric order.
#ifndef HERBTRACE_STORAGE_KEY_CODEC_H_
#define HERBTRACE_STORAGE_KEY_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace herbtrace::storage {

inline void AppendBigEndian64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, 8);
}

inline std::string BigEndian64(uint64_t v) {
  std::string s;
  AppendBigEndian64(&s, v);
  return s;
}

// REQUIRES: bytes.size() >= 8.
inline uint64_t ReadBigEndian64(absl::string_view bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_KEY_CODEC_H_
