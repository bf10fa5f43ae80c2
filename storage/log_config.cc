#include "storage/log_config.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace herbtrace::storage {

std::string EncodeLogConfig(const LogConfig& config) {
  return absl::StrCat(config.origin, "\n", crypto::HashAlgorithmName(config.hash), "\n",
                      config.verifier_key, "\n");
}

absl::StatusOr<LogConfig> DecodeLogConfig(absl::string_view stored) {
  std::vector<absl::string_view> lines = absl::StrSplit(stored, '\n');
  if (lines.size() != 4 || !lines[3].empty() || lines[0].empty() || lines[2].empty()) {
    return absl::DataLossError("meta log: stored configuration is malformed");
  }
  auto hash = crypto::ParseHashAlgorithm(lines[1]);
  if (!hash.ok()) return absl::DataLossError(absl::StrCat("meta log: ", hash.status().message()));
  return LogConfig{std::string(lines[0]), *hash, std::string(lines[2])};
}

absl::StatusOr<LogConfig> ReadLogConfig(const LedgerDb& db) {
  auto stored = db.Get(Cf::kMeta, kMetaLog);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    return absl::NotFoundError(absl::StrCat(db.path(), ": not a HerbTrace ledger (no meta log)"));
  }
  return DecodeLogConfig(**stored);
}

}  // namespace herbtrace::storage
