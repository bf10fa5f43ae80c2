// Reading a whole file into memory, for what herbctl, herbtrace-server, herbtrace-ledger and the
// catalog readers load from disk: PEM keys, event files, CSV tables, saved checkpoints.
// Thread-safe: no shared state.
#ifndef HERBTRACE_SERVICES_DOMAIN_FILE_IO_H_
#define HERBTRACE_SERVICES_DOMAIN_FILE_IO_H_

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"

namespace herbtrace::domain {

// The file's bytes; NotFound("<path>: cannot read") when it cannot be opened.
absl::StatusOr<std::string> ReadFileToString(const std::filesystem::path& path);

}  // namespace herbtrace::domain

#endif  // HERBTRACE_SERVICES_DOMAIN_FILE_IO_H_
