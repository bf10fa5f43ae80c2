// New batch codes, dates typed on the command line, and exact unit parsing.
#include "services/cli/units.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/cli/trace_code.h"
#include "services/domain/identifiers.h"
#include "tests/test_util.h"

namespace herbtrace::cli {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::StatusIs;
using ::testing::HasSubstr;

// OK and equal to `expected` (this abseil has no IsOkAndHolds).
MATCHER_P(HoldsValue, expected, "is OK and holds " + ::testing::PrintToString(expected)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  *result_listener << "holds " << ::testing::PrintToString(*arg);
  return *arg == expected;
}

v1::Date MakeDate(int y, int m, int d) {
  v1::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

TEST(TraceCode, MakesTheExampleBatchCode) {
  EXPECT_THAT(MakeBatchCode(1, "13068300000001", MakeDate(2024, 9, 15), 1),
              HoldsValue(std::string("1130683000000012409150019")));
  EXPECT_THAT(MakeBatchCode(0, "13068300000001", MakeDate(2024, 9, 15), 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeBatchCode(1, "1306830000000", MakeDate(2024, 9, 15), 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("14 digits")));
  EXPECT_THAT(MakeBatchCode(1, "13068300000001", MakeDate(2024, 9, 15), 1000),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeBatchCode(1, "13068300000001", MakeDate(2023, 2, 29), 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("date: ")));
}

TEST(TraceCode, MadeCodesPassTheServersCheck) {
  HT_ASSERT_OK_AND_ASSIGN(std::string code,
                          MakeBatchCode(2, "13068300000001", MakeDate(2025, 12, 31), 999));
  EXPECT_THAT(domain::ValidateBatchId(code, "batch_id"), IsOk());
  const domain::BatchIdParts parts = domain::ParseBatchId(code);
  EXPECT_EQ(parts.node_type, 2);
  EXPECT_EQ(parts.company, "13068300000001");
  EXPECT_EQ(domain::FormatDate(parts.date), "2025-12-31");
  EXPECT_EQ(parts.sequence, 999);
}

TEST(TraceCode, ParsesOnlyRealDates) {
  EXPECT_THAT(ParseDate("2024-02-29", "--date"), IsOk());
  EXPECT_THAT(ParseDate("2023-02-29", "--date"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseDate("2024-9-15", "--date"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseDate("2024-+9-15", "--date"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseDate("2024-13-01", "--date"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--date: ")));
}

TEST(Units, GramsInEveryWayPeopleWriteThem) {
  EXPECT_THAT(ParseGrams("12500", "g"), HoldsValue(12500u));
  EXPECT_THAT(ParseGrams("12500g", "g"), HoldsValue(12500u));
  EXPECT_THAT(ParseGrams("12.5kg", "g"), HoldsValue(12500u));
  EXPECT_THAT(ParseGrams("1.2t", "g"), HoldsValue(1200000u));
  EXPECT_THAT(ParseGrams("3斤", "g"), HoldsValue(1500u));
  EXPECT_THAT(ParseGrams("0.5kg", "g"), HoldsValue(500u));
}

TEST(Units, GramsNeverRound) {
  EXPECT_THAT(ParseGrams("12.5", "--grams"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseGrams("1.0005kg", "--grams"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseGrams("0", "--grams"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than 0")));
  EXPECT_THAT(ParseGrams("0", "--grams", /*allow_zero=*/true), HoldsValue(0u));
  EXPECT_THAT(ParseGrams("-5", "--grams"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseGrams("99999999999999999999", "--grams"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Units, BatchQuantitiesNameABatchCode) {
  HT_ASSERT_OK_AND_ASSIGN(v1::BatchQuantity q,
                          ParseBatchQuantity("1130683000000012409150019:12.5kg", "--input"));
  EXPECT_EQ(q.batch_id(), "1130683000000012409150019");
  EXPECT_EQ(q.grams(), 12500u);
  EXPECT_THAT(ParseBatchQuantity("1130683000000012409150018:1kg", "--input"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("check digit")));
  EXPECT_THAT(ParseBatchQuantity("1130683000000012409150010018:1kg", "--input"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("25 digits")));
  EXPECT_THAT(ParseBatchQuantity("1130683000000012409150019", "--input"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("BATCH:GRAMS")));
}

TEST(Units, LabValuesBecomeNanogramsPerKilogram) {
  // common.proto's examples.
  HT_ASSERT_OK_AND_ASSIGN(LabValue pb, ParseLabValue("5mg/kg", "r"));
  EXPECT_EQ(pb.measurement.value(), 5000000);
  EXPECT_EQ(pb.measurement.unit(), v1::MEASURE_UNIT_NG_PER_KG);
  EXPECT_EQ(pb.display_unit, v1::DISPLAY_UNIT_MG_PER_KG);
  HT_ASSERT_OK_AND_ASSIGN(LabValue hg, ParseLabValue("0.2 mg/kg", "r"));
  EXPECT_EQ(hg.measurement.value(), 200000);
  HT_ASSERT_OK_AND_ASSIGN(LabValue afla, ParseLabValue("5µg/kg", "r"));
  EXPECT_EQ(afla.measurement.value(), 5000);
  EXPECT_EQ(afla.display_unit, v1::DISPLAY_UNIT_UG_PER_KG);
  HT_ASSERT_OK_AND_ASSIGN(LabValue moisture, ParseLabValue("13%", "r"));
  EXPECT_EQ(moisture.measurement.value(), 130000000000);
  EXPECT_THAT(ParseLabValue("0.0000001mg/kg", "r"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseLabValue("5", "r"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a unit")));
}

TEST(Units, AnalyteResultsQuantifiedOrBelowTheLoq) {
  HT_ASSERT_OK_AND_ASSIGN(v1::AnalyteResult so2, ParseAnalyteResult("so2=212mg/kg", "r"));
  EXPECT_EQ(so2.analyte(), "so2");
  EXPECT_FALSE(so2.below_loq());
  EXPECT_EQ(so2.value().value(), 212000000);
  HT_ASSERT_OK_AND_ASSIGN(v1::AnalyteResult afla,
                          ParseAnalyteResult("aflatoxin_b1=<0.5ug/kg", "r"));
  EXPECT_TRUE(afla.below_loq());
  EXPECT_FALSE(afla.has_value());
  EXPECT_EQ(afla.loq().value(), 500);
  EXPECT_THAT(ParseAnalyteResult("Pb=1mg/kg", "r"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[a-z0-9_]")));
}

TEST(Units, FormatsExactly) {
  EXPECT_EQ(FormatScaled(125, 1), "12.5");
  EXPECT_EQ(FormatScaled(5, 3), "0.005");
  EXPECT_EQ(FormatScaled(-5000, 3), "-5");
  EXPECT_EQ(FormatScaled(INT64_MIN, 0), "-9223372036854775808");
  EXPECT_EQ(FormatGrams(850), "850 g");
  EXPECT_EQ(FormatGrams(12500), "12.5 kg");
  v1::Measurement m;
  m.set_value(200000);
  m.set_unit(v1::MEASURE_UNIT_NG_PER_KG);
  EXPECT_EQ(FormatMeasurement(m, v1::DISPLAY_UNIT_MG_PER_KG), "0.2 mg/kg");
}

}  // namespace
}  // namespace herbtrace::cli
