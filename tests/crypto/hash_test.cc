// Vectors (see tests/data/test-vectors/SOURCE.md):
// - SM3 "abc" and "abcd"×16: GB/T 32905-2016 Appendix A, via vectors.json "sm3".
// - SHA-256 "abc": FIPS 180-2 Appendix B.1.
// - SHA-256 "": the RFC 6962 empty-tree root in vectors.json (transparency-dev/merkle
//   testonly/constants.go at 417fb0c314750d94e53942e9f92e79b6d35915db).
#include "crypto/hash.h"

#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace herbtrace::crypto {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::LoadVectors;
using ::herbtrace::testing::StatusIs;
using ::testing::HasSubstr;

std::unique_ptr<Hasher> MakeHasher(HashAlgorithm algorithm) {
  auto hasher = Hasher::Create(algorithm);
  EXPECT_THAT(hasher, IsOk());
  return hasher.ok() ? *std::move(hasher) : nullptr;
}

TEST(HashTest, Sm3MatchesGbT32905Abc) {
  auto sm3 = MakeHasher(HashAlgorithm::kSm3);
  ASSERT_NE(sm3, nullptr);
  EXPECT_EQ(ToHex(sm3->Hash("abc")), LoadVectors()["sm3"]["abc"].get<std::string>());
}

TEST(HashTest, Sm3MatchesGbT32905AbcdTimes16) {
  auto sm3 = MakeHasher(HashAlgorithm::kSm3);
  ASSERT_NE(sm3, nullptr);
  std::string input;
  for (int i = 0; i < 16; ++i) input += "abcd";
  const std::string hex = ToHex(sm3->Hash(input));
  const nlohmann::json v = LoadVectors()["sm3"];
  EXPECT_TRUE(absl::StartsWith(hex, v["abcd_x16_prefix"].get<std::string>())) << hex;
  EXPECT_TRUE(absl::EndsWith(hex, v["abcd_x16_suffix"].get<std::string>())) << hex;
}

TEST(HashTest, Sha256MatchesFips180Abc) {
  auto sha = MakeHasher(HashAlgorithm::kSha256);
  ASSERT_NE(sha, nullptr);
  EXPECT_EQ(ToHex(sha->Hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashTest, Sha256OfNothingIsTheEmptyTreeRoot) {
  auto sha = MakeHasher(HashAlgorithm::kSha256);
  ASSERT_NE(sha, nullptr);
  EXPECT_EQ(ToHex(sha->Hash("")),
            LoadVectors()["merkle_rfc6962_reference_tree"]["root_hashes_hex_by_size"][0]
                .get<std::string>());
}

TEST(HashTest, AlgorithmsDiffer) {
  auto sha = MakeHasher(HashAlgorithm::kSha256);
  auto sm3 = MakeHasher(HashAlgorithm::kSm3);
  ASSERT_NE(sha, nullptr);
  ASSERT_NE(sm3, nullptr);
  EXPECT_EQ(sha->algorithm(), HashAlgorithm::kSha256);
  EXPECT_EQ(sm3->algorithm(), HashAlgorithm::kSm3);
  EXPECT_NE(sha->Hash("abc"), sm3->Hash("abc"));
}

class HashAlgorithmTest : public ::testing::TestWithParam<HashAlgorithm> {};

TEST_P(HashAlgorithmTest, HashWithPrefixIsHashOfPrefixThenData) {
  auto hasher = MakeHasher(GetParam());
  ASSERT_NE(hasher, nullptr);
  const std::string inputs[] = {"", "x", std::string("\0\x01\xff", 3), std::string(1000, 'q')};
  for (uint8_t prefix : {0x00, 0x01, 0xff}) {
    for (const std::string& data : inputs) {
      EXPECT_EQ(hasher->HashWithPrefix(prefix, data),
                hasher->Hash(std::string(1, static_cast<char>(prefix)) + data))
          << "prefix " << int{prefix} << " data size " << data.size();
    }
  }
}

TEST_P(HashAlgorithmTest, HashPairIsHashOfPrefixLeftRight) {
  auto hasher = MakeHasher(GetParam());
  ASSERT_NE(hasher, nullptr);
  const Digest left = hasher->Hash("left");
  const Digest right = hasher->Hash("right");
  for (uint8_t prefix : {0x00, 0x01}) {
    std::string joined(1, static_cast<char>(prefix));
    absl::StrAppend(&joined, AsBytes(left), AsBytes(right));
    EXPECT_EQ(hasher->HashPair(prefix, left, right), hasher->Hash(joined));
  }
  // Order matters: an interior node commits to which child is on the left.
  EXPECT_NE(hasher->HashPair(0x01, left, right), hasher->HashPair(0x01, right, left));
}

TEST_P(HashAlgorithmTest, ConcurrentCallsAgree) {
  auto hasher = MakeHasher(GetParam());
  ASSERT_NE(hasher, nullptr);
  const Digest want = hasher->HashWithPrefix(0x00, "entry");
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (hasher->HashWithPrefix(0x00, "entry") != want) ++mismatches[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

INSTANTIATE_TEST_SUITE_P(BothAlgorithms, HashAlgorithmTest,
                         ::testing::Values(HashAlgorithm::kSha256, HashAlgorithm::kSm3),
                         [](const ::testing::TestParamInfo<HashAlgorithm>& info) {
                           return std::string(HashAlgorithmName(info.param));
                         });

TEST(HashTest, AlgorithmNamesRoundTrip) {
  for (HashAlgorithm a : {HashAlgorithm::kSha256, HashAlgorithm::kSm3}) {
    auto parsed = ParseHashAlgorithm(HashAlgorithmName(a));
    ASSERT_THAT(parsed, IsOk());
    EXPECT_EQ(*parsed, a);
  }
  EXPECT_EQ(HashAlgorithmName(HashAlgorithm::kSha256), "sha256");
  EXPECT_EQ(HashAlgorithmName(HashAlgorithm::kSm3), "sm3");
}

TEST(HashTest, ParseHashAlgorithmRejectsUnknownNames) {
  for (const char* name : {"", "SHA256", "sha-256", "SM3", "md5", "sha256 "}) {
    EXPECT_THAT(ParseHashAlgorithm(name),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown")))
        << name;
  }
}

TEST(HashTest, DigestFromBytesWantsExactly32Bytes) {
  const std::string bytes(32, '\x5a');
  HT_ASSERT_OK_AND_ASSIGN(Digest d, DigestFromBytes(bytes, "root"));
  EXPECT_EQ(AsBytes(d), bytes);
  EXPECT_EQ(ToHex(d), absl::BytesToHexString(bytes));
  EXPECT_THAT(DigestFromBytes(std::string(31, 'a'), "root"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("root")));
  EXPECT_THAT(DigestFromBytes(std::string(33, 'a'), "leaf"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got 33")));
}

}  // namespace
}  // namespace herbtrace::crypto
