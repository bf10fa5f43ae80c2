#include "services/domain/file_io.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace herbtrace::domain {

absl::StatusOr<std::string> ReadFileToString(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path.string(), ": cannot read"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace herbtrace::domain
