#include "services/domain/file_io.h"

#include <fstream>

#include "tests/test_util.h"

namespace herbtrace::domain {
namespace {

using ::herbtrace::testing::StatusIs;
using ::herbtrace::testing::TempDir;
using ::testing::HasSubstr;

TEST(FileIoTest, ReadsEveryByte) {
  TempDir dir;
  const std::filesystem::path path = dir.path() / "key.pem";
  constexpr char kBytes[] = "line one\r\n\0binary\xff";
  const std::string bytes(kBytes, sizeof(kBytes) - 1);
  std::ofstream(path, std::ios::binary) << bytes;
  HT_ASSERT_OK_AND_ASSIGN(std::string read, ReadFileToString(path));
  EXPECT_EQ(read, bytes);
  std::ofstream(dir.path() / "empty", std::ios::binary);
  HT_ASSERT_OK_AND_ASSIGN(std::string empty, ReadFileToString(dir.path() / "empty"));
  EXPECT_EQ(empty, "");
}

TEST(FileIoTest, AMissingFileIsNotFoundNamingThePath) {
  TempDir dir;
  const std::filesystem::path path = dir.path() / "missing.csv";
  EXPECT_THAT(ReadFileToString(path),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.csv: cannot read")));
}

}  // namespace
}  // namespace herbtrace::domain
