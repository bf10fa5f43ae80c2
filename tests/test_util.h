// Small helpers shared by the tests: status matchers (this abseil has none), temporary
// directories, and reading the copied published vectors (tests/data/test-vectors).
#ifndef HERBTRACE_TESTS_TEST_UTIL_H_
#define HERBTRACE_TESTS_TEST_UTIL_H_

#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herbtrace::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()),
                                       result_listener);
}

#define HT_ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  HT_ASSERT_OK_AND_ASSIGN_IMPL(HT_CONCAT(_status_or_, __LINE__), lhs, rexpr)
#define HT_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  ASSERT_TRUE(tmp.ok()) << tmp.status();              \
  lhs = std::move(tmp).value()
#define HT_CONCAT(a, b) HT_CONCAT_INNER(a, b)
#define HT_CONCAT_INNER(a, b) a##b

// A fresh directory under the test's temp dir, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// tests/data/<relative>, resolved from the HERBTRACE_TEST_DATA compile definition.
std::filesystem::path TestDataPath(const std::string& relative);

// Reads a whole file; fails the calling test on error.
std::string ReadFileOrDie(const std::filesystem::path& path);

// Parses a JSON file; fails the calling test on error and returns a discarded value
// (is_discarded()). Include <nlohmann/json.hpp> to use the result.
nlohmann::json ReadJsonOrDie(const std::filesystem::path& path);

// tests/data/test-vectors/vectors.json, as ReadJsonOrDie.
nlohmann::json LoadVectors();

// The bytes hex text spells (either case); fails the calling test and returns "" for an odd
// length or a character that is not a hex digit.
std::string HexOrDie(absl::string_view hex);

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_TEST_UTIL_H_
