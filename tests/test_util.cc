#include "tests/test_util.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"

namespace herbtrace::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::filesystem::path root = base != nullptr ? base : std::filesystem::temp_directory_path();
  std::random_device rd;
  for (;;) {
    path_ = root / ("herbtrace-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
    if (std::filesystem::create_directories(path_)) break;
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TestDataPath(const std::string& relative) {
  return std::filesystem::path(HERBTRACE_TEST_DATA) / relative;
}

std::string ReadFileOrDie(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json ReadJsonOrDie(const std::filesystem::path& path) {
  nlohmann::json json =
      nlohmann::json::parse(ReadFileOrDie(path), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) ADD_FAILURE() << path << " is not JSON";
  return json;
}

nlohmann::json LoadVectors() { return ReadJsonOrDie(TestDataPath("test-vectors/vectors.json")); }

std::string HexOrDie(absl::string_view hex) {
  bool ok = hex.size() % 2 == 0;
  for (size_t i = 0; ok && i < hex.size(); ++i) {
    ok = absl::ascii_isxdigit(static_cast<unsigned char>(hex[i]));
  }
  if (!ok) {
    ADD_FAILURE() << "\"" << hex << "\" is not hex";
    return "";
  }
  return absl::HexStringToBytes(absl::AsciiStrToLower(hex));
}

}  // namespace herbtrace::testing
