// The keys and names the fuzz targets trust and the seed generator signs with. Every key comes
// from a fixed Ed25519 seed, so a seed input signed once verifies in every run, and a crash input
// reproduces on any machine. These keys sign nothing outside fuzz/.
#ifndef HERBTRACE_FUZZ_FIXED_KEYS_H_
#define HERBTRACE_FUZZ_FIXED_KEYS_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "crypto/signature.h"

namespace herbtrace::fuzz {

// The demo's log (deploy/samples).
inline constexpr char kLogOrigin[] = "anguo.herbtrace.example/log";
inline constexpr char kWitnessName[] = "witness.anguo.example/regulator";

// A violated invariant: named on stderr, then a crash, which the fuzzer reports with the input.
[[noreturn]] inline void Violated(const char* invariant, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, invariant);
  __builtin_trap();
}
#define FUZZ_REQUIRE(invariant) \
  ((invariant) ? void(0) : ::herbtrace::fuzz::Violated(#invariant, __FILE__, __LINE__))

// The Ed25519 key whose RFC 8032 secret is 32 copies of `fill`. Aborts if OpenSSL cannot make it:
// no target can run without its keys.
inline std::unique_ptr<crypto::PrivateKey> FixedKey(char fill) {
  auto key = crypto::PrivateKey::FromEd25519Seed(std::string(32, fill));
  if (!key.ok()) std::abort();
  return *std::move(key);
}

// Who signs what.
inline constexpr char kLogKeyFill = 'L';
inline constexpr char kWitnessKeyFill = 'W';
inline constexpr char kOperatorKeyFill = 'O';
inline constexpr char kRegulatorKeyFill = 'R';
inline constexpr char kGrowerKeyFill = 'G';
inline constexpr char kTraderKeyFill = 'T';
inline constexpr char kLabKeyFill = 'B';

}  // namespace herbtrace::fuzz

#endif  // HERBTRACE_FUZZ_FIXED_KEYS_H_
