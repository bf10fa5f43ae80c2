// The identity of a log, written once into meta "log" when the log is created:
//   origin ‖ '\n' ‖ hash algorithm name ‖ '\n' ‖ log verifier key (C2SP note key) ‖ '\n'
// A log never changes its origin, hash algorithm or key.
#ifndef HERBTRACE_STORAGE_LOG_CONFIG_H_
#define HERBTRACE_STORAGE_LOG_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/hash.h"
#include "storage/ledger_db.h"

namespace herbtrace::storage {

struct LogConfig {
  std::string origin;
  crypto::HashAlgorithm hash = crypto::HashAlgorithm::kSha256;
  std::string verifier_key;
};

std::string EncodeLogConfig(const LogConfig& config);
absl::StatusOr<LogConfig> DecodeLogConfig(absl::string_view stored);
// NotFound when the ledger has no configuration (it was never initialized).
absl::StatusOr<LogConfig> ReadLogConfig(const LedgerDb& db);

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_LOG_CONFIG_H_
