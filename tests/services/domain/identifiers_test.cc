// Identifier formats of ids.proto: the worked examples in its comments must hold.
#include "services/domain/identifiers.h"

#include "tests/test_util.h"

namespace herbtrace::domain {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(TraceCheckDigitTest, MatchesTheExamplesInIdsProto) {
  EXPECT_EQ(TraceCheckDigit("113068300000001240915001"), '9');
  EXPECT_EQ(TraceCheckDigit("113068300000001240915001001"), '8');
  EXPECT_EQ(TraceCheckDigit("1130683000000012409150010010000001"), '5');
}

TEST(ValidateBatchIdTest, AcceptsTheExampleAndParsesIt) {
  ASSERT_THAT(ValidateBatchId("1130683000000012409150019", "batch_id"), IsOk());
  const BatchIdParts parts = ParseBatchId("1130683000000012409150019");
  EXPECT_EQ(parts.node_type, 1);
  EXPECT_EQ(parts.company, "13068300000001");
  EXPECT_EQ(FormatDate(parts.date), "2024-09-15");
  EXPECT_EQ(parts.sequence, 1);
}

TEST(ValidateBatchIdTest, RejectsEveryKindOfDamage) {
  EXPECT_THAT(ValidateBatchId("1130683000000012409150018", "harvest.batch_id"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("harvest.batch_id: batch code 1130683000000012409150018 has "
                                  "check digit 8, expected 9")));
  // Adjacent transposition 3↔0 is caught.
  EXPECT_THAT(ValidateBatchId("1103683000000012409150019", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateBatchId("113068300000001240915001", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("25 digits")));
  EXPECT_THAT(ValidateBatchId("113068300000001240915001A", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  const auto with_check = [](std::string body) { return body + TraceCheckDigit(body); };
  EXPECT_THAT(ValidateBatchId(with_check("713068300000001240915001"), "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("node type")));
  EXPECT_THAT(ValidateBatchId(with_check("113068300000001240231001"), "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("impossible date")));
  EXPECT_THAT(ValidateBatchId(with_check("113068300000001240915000"), "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sequence 000")));
}

TEST(TraceCodeTest, ABatchCodeIsItsOwnBatch) {
  EXPECT_THAT(ValidateTraceCode("1130683000000012409150019", "code"), IsOk());
  HT_ASSERT_OK_AND_ASSIGN(std::string batch_id,
                          BatchIdOfTraceCode("1130683000000012409150019", "code"));
  EXPECT_EQ(batch_id, "1130683000000012409150019");
}

TEST(TraceCodeTest, PackageAndPackCodesResolveToTheirBatch) {
  EXPECT_THAT(ValidateTraceCode("1130683000000012409150010018", "code"), IsOk());
  EXPECT_THAT(ValidateTraceCode("11306830000000124091500100100000015", "code"), IsOk());
  HT_ASSERT_OK_AND_ASSIGN(std::string from_bag,
                          BatchIdOfTraceCode("1130683000000012409150010018", "code"));
  EXPECT_EQ(from_bag, "1130683000000012409150019");
  HT_ASSERT_OK_AND_ASSIGN(std::string from_pack,
                          BatchIdOfTraceCode("11306830000000124091500100100000015", "code"));
  EXPECT_EQ(from_pack, "1130683000000012409150019");
}

TEST(TraceCodeTest, BadCodesAreInvalidArgumentNamingTheField) {
  EXPECT_THAT(BatchIdOfTraceCode("1130683000000012409150018", "--batch"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("--batch: trace code 1130683000000012409150018 has check "
                                  "digit 8, expected 9")));
  EXPECT_THAT(ValidateTraceCode("1130683000000012409150010017", "code"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected 8")));
  EXPECT_THAT(ValidateTraceCode("113068300000001240915001", "code"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has 24 digits")));
  EXPECT_THAT(ValidateTraceCode("113068300000001240915001X", "code"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("other than digits")));
  EXPECT_THAT(BatchIdOfTraceCode("", "code"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("code: required")));
}

TEST(UsccTest, CheckCharacterPerGb32100) {
  EXPECT_EQ(UsccCheckCharacter("91330100716105852"), 'F');
  EXPECT_THAT(ValidateUscc("91330100716105852F", "uscc"), IsOk());
  EXPECT_THAT(ValidateUscc("91330100716105852E", "register_party.uscc"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("register_party.uscc: check character is E, expected F")));
  EXPECT_THAT(ValidateUscc("9133010071610585I2", "uscc"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'I'")));
  EXPECT_THAT(ValidateUscc("9133010071610585", "uscc"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("18 characters")));
  EXPECT_EQ(UsccCheckCharacter("9133010071610585O"), std::nullopt);
  // A check value of 0 ("31 becomes 0") is emitted as '0': find one and verify it round-trips.
  for (int serial = 0; serial < 1000; ++serial) {
    const std::string first17 = "9113068300000" + std::to_string(1000 + serial);
    const auto check = UsccCheckCharacter(first17);
    ASSERT_TRUE(check.has_value());
    EXPECT_THAT(ValidateUscc(first17 + *check, "uscc"), IsOk());
  }
}

TEST(ResidentIdTest, Gb11643CheckCharacter) {
  EXPECT_THAT(ValidateResidentId("11010519491231002X", "id"), IsOk());
  EXPECT_THAT(ValidateResidentId("110105194912310021", "id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected X")));
  EXPECT_THAT(ValidateResidentId("11010519491331002X", "id"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EventIdTest, AcceptsVersions4And7Only) {
  EXPECT_THAT(ValidateEventId("0191f1a2-7b3c-7d4e-8f50-123456789abc", "event_id"), IsOk());
  EXPECT_THAT(ValidateEventId("2f1e4c7a-9b2d-4e3f-a1b2-c3d4e5f6a7b8", "event_id"), IsOk());
  EXPECT_THAT(ValidateEventId("2F1E4C7A-9B2D-4E3F-A1B2-C3D4E5F6A7B8", "event_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("event_id: ")));
  EXPECT_THAT(ValidateEventId("2f1e4c7a-9b2d-1e3f-a1b2-c3d4e5f6a7b8", "event_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("version 1")));
  EXPECT_THAT(ValidateEventId("2f1e4c7a-9b2d-4e3f-c1b2-c3d4e5f6a7b8", "event_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("variant")));
  EXPECT_THAT(ValidateEventId("2f1e4c7a9b2d4e3fa1b2c3d4e5f6a7b8", "event_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("8-4-4-4-12")));
  EXPECT_THAT(ValidateEventId("", "recall_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("recall_id: required")));
}

TEST(OtherIdsTest, PartyBaseHerbAnalyteVersion) {
  EXPECT_THAT(ValidatePartyId("13068300000001", "p"), IsOk());
  EXPECT_THAT(ValidatePartyId("1306830000001", "p"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateBaseId("130683000000010001", "b"), IsOk());
  EXPECT_THAT(ValidateBaseId("130683000000010000", "b"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateHerbCode("HUANGQI", "h"), IsOk());
  EXPECT_THAT(ValidateHerbCode("Huangqi", "h"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateAnalyteCode("aflatoxin_b1", "a"), IsOk());
  EXPECT_THAT(ValidateAnalyteCode("SO2", "a"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateVersion("chp2020-anguo-2024.1", "v"), IsOk());
  EXPECT_THAT(ValidateVersion("chp 2020", "v"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(OtherIdsTest, KeyIdsAndRegionCodePrefixes) {
  EXPECT_THAT(ValidateKeyId("0011223344556677", "key_id"), IsOk());
  EXPECT_THAT(ValidateKeyId("00112233445566ZZ", "key_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("key_id: ")));
  EXPECT_THAT(ValidateKeyId("001122334455667", "key_id"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateKeyId("", "key_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("key_id: required")));
  EXPECT_THAT(ValidateRegionCode("130683", "region_code"), IsOk());
  EXPECT_THAT(ValidateRegionCodePrefix("", "region_code_prefix"), IsOk());
  EXPECT_THAT(ValidateRegionCodePrefix("1306", "region_code_prefix"), IsOk());
  EXPECT_THAT(ValidateRegionCodePrefix("1306831", "region_code_prefix"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("region_code_prefix: ")));
  EXPECT_THAT(ValidateRegionCodePrefix("13a6", "region_code_prefix"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(OtherIdsTest, AHugeIdIsCutInTheMessage) {
  const std::string huge(1 << 20, '7');
  const absl::Status s = ValidatePartyId(huge, "party_id");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("party_id: '7777")));
  EXPECT_LT(s.message().size(), 300u);
  EXPECT_THAT(ValidateEventId(huge, "recall_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("(1048576 bytes)")));
}

TEST(DateTest, ChinaDateIsUtcPlus8) {
  // 2024-09-14 16:30 UTC is already the 15th in China.
  const absl::Time t =
      absl::FromCivil(absl::CivilSecond(2024, 9, 14, 16, 30, 0), absl::UTCTimeZone());
  EXPECT_EQ(FormatDate(ChinaDate(t)), "2024-09-15");
  v1::Date feb29;
  feb29.set_year(2023);
  feb29.set_month(2);
  feb29.set_day(29);
  EXPECT_THAT(ValidateDate(feb29, "d"), StatusIs(absl::StatusCode::kInvalidArgument));
  feb29.set_year(2024);
  EXPECT_THAT(ValidateDate(feb29, "d"), IsOk());
}

}  // namespace
}  // namespace herbtrace::domain
