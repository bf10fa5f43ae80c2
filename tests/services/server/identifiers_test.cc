#include "services/server/identifiers.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace herbtrace::server {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::StatusIs;
using ::testing::HasSubstr;

TEST(IdentifiersTest, CheckDigitMatchesTheExampleInIdsProto) {
  EXPECT_EQ(Gs1CheckDigit("113068300000001240915001"), '9');
}

TEST(IdentifiersTest, BatchCodeIsItsOwnBatch) {
  EXPECT_EQ(*BatchIdFromTraceCode("1130683000000012409150019", "code"),
            "1130683000000012409150019");
}

TEST(IdentifiersTest, BagAndPackCodesResolveToTheirBatch) {
  EXPECT_EQ(*BatchIdFromTraceCode("1130683000000012409150010018", "code"),
            "1130683000000012409150019");
  EXPECT_EQ(*BatchIdFromTraceCode("11306830000000124091500100100000015", "code"),
            "1130683000000012409150019");
}

TEST(IdentifiersTest, BadTraceCodesAreInvalidArgumentNamingTheField) {
  EXPECT_THAT(BatchIdFromTraceCode("1130683000000012409150018", "code"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("check digit")));
  EXPECT_THAT(BatchIdFromTraceCode("113068300000001240915001", "code"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("24 digits")));
  EXPECT_THAT(BatchIdFromTraceCode("11306830000000124091500A9", "code"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("other than digits")));
  EXPECT_THAT(BatchIdFromTraceCode("", "code"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("code: required")));
}

TEST(IdentifiersTest, RegistryIdsAreCheckedForShape) {
  EXPECT_THAT(CheckPartyId("13068300000001", "party_id"), IsOk());
  EXPECT_THAT(CheckPartyId("1306830000001", "party_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("party_id")));
  EXPECT_THAT(CheckBaseId("130683000000030001", "base_id"), IsOk());
  EXPECT_THAT(CheckKeyId("0011223344556677", "key_id"), IsOk());
  EXPECT_THAT(CheckKeyId("00112233445566ZZ", "key_id"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckHerbCode("HUANGQI", "code"), IsOk());
  EXPECT_THAT(CheckHerbCode("huangqi", "code"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckEventId("01920000-0000-7000-8000-000000000001", "recall_id"), IsOk());
  EXPECT_THAT(CheckEventId("not-a-uuid", "recall_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("recall_id")));
  EXPECT_THAT(CheckRegionPrefix("1306", "region_code_prefix"), IsOk());
  EXPECT_THAT(CheckRegionPrefix("1306831", "region_code_prefix"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(IdentifiersTest, AHugeIdIsCutInTheMessage) {
  const std::string huge(1 << 20, '7');
  auto s = CheckPartyId(huge, "party_id");
  EXPECT_LT(s.message().size(), 300u);
}

}  // namespace
}  // namespace herbtrace::server
