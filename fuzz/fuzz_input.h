// Reading a fuzz input as a sequence of fields. Past the end every read yields zeros or an empty
// string, so a target never has to check lengths and every input means something.
#ifndef HERBTRACE_FUZZ_FUZZ_INPUT_H_
#define HERBTRACE_FUZZ_FUZZ_INPUT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/strings/string_view.h"
#include "crypto/hash.h"

namespace herbtrace::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  size_t remaining() const { return rest_.size(); }

  absl::string_view Bytes(size_t n) {
    const absl::string_view out = rest_.substr(0, std::min(n, rest_.size()));
    rest_.remove_prefix(out.size());
    return out;
  }
  uint8_t U8() {
    const absl::string_view b = Bytes(1);
    return b.empty() ? 0 : static_cast<uint8_t>(b[0]);
  }
  // Big-endian, so a hex dump of a crash input reads as the numbers it holds.
  uint64_t U64() {
    uint64_t v = 0;
    for (unsigned char c : Bytes(8)) v = (v << 8) | c;
    return v;
  }
  crypto::Digest Digest() {
    crypto::Digest d{};
    const absl::string_view b = Bytes(d.size());
    std::memcpy(d.data(), b.data(), b.size());
    return d;
  }
  // A field of 0..255 bytes, its length first.
  absl::string_view Short() { return Bytes(U8()); }
  absl::string_view Rest() { return Bytes(rest_.size()); }

 private:
  absl::string_view rest_;
};

}  // namespace herbtrace::fuzz

#endif  // HERBTRACE_FUZZ_FUZZ_INPUT_H_
