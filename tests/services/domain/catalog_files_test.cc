// The shipped catalog files load into the events that carry them; malformed CSV is rejected with
// the line named.
#include "services/domain/catalog_files.h"

#include <algorithm>

#include "tests/test_util.h"

namespace herbtrace::domain {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

std::string SourcePath(absl::string_view relative) {
  return absl::StrCat(HERBTRACE_SOURCE_DIR, "/", relative);
}

const v1::LimitRow* FindRow(const v1::LoadQualityLimits& limits, absl::string_view analyte,
                            v1::ProductUse use = v1::PRODUCT_USE_MEDICINAL,
                            bool applies_to_all = true) {
  for (const v1::LimitRow& row : limits.rows()) {
    if (row.analyte() == analyte && row.use() == use && row.applies_to_all() == applies_to_all) {
      return &row;
    }
  }
  return nullptr;
}

class ShippedCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = ReadHerbCatalogFile(SourcePath("catalog/herbs.csv"), "anguo-2024.1");
    ASSERT_THAT(catalog, IsOk());
    catalog_ = *std::move(catalog);
    auto limits = ReadQualityLimitsFile(SourcePath("catalog/quality-limits.csv"), catalog_,
                                        "chp2020-anguo-2024.1");
    ASSERT_THAT(limits, IsOk());
    limits_ = *std::move(limits);
  }

  const v1::Herb* Herb(absl::string_view code) const {
    for (const v1::Herb& h : catalog_.herbs()) {
      if (h.code() == code) return &h;
    }
    return nullptr;
  }

  v1::LoadHerbCatalog catalog_;
  ParsedLimits limits_;
};

TEST_F(ShippedCatalogTest, HerbsLoadWithPinyinCodes) {
  EXPECT_EQ(catalog_.version(), "anguo-2024.1");
  EXPECT_EQ(catalog_.herbs_size(), 46);
  const v1::Herb* huangqi = Herb("HUANGQI");
  ASSERT_NE(huangqi, nullptr);
  EXPECT_EQ(huangqi->zh_name(), "黄芪");
  EXPECT_EQ(huangqi->pinyin(), "Huangqi");
  EXPECT_EQ(huangqi->latin_name(), "Astragali Radix");
  EXPECT_EQ(huangqi->medicinal_part(), "root");
  EXPECT_THAT(huangqi->species(), StartsWith("Astragalus membranaceus"));
  EXPECT_FALSE(huangqi->qi_yao());
  ASSERT_NE(Herb("SHANYAO"), nullptr);
  EXPECT_TRUE(Herb("SHANYAO")->qi_yao());
  EXPECT_EQ(std::count_if(catalog_.herbs().begin(), catalog_.herbs().end(),
                          [](const v1::Herb& h) { return h.qi_yao(); }),
            8);
}

TEST_F(ShippedCatalogTest, LimitsConvertToIntegerUnits) {
  const v1::LoadQualityLimits& l = limits_.limits;
  EXPECT_EQ(l.version(), "chp2020-anguo-2024.1");
  EXPECT_TRUE(l.supersedes().empty());
  // 34 rows in the file; the Hong Kong export row is skipped.
  EXPECT_EQ(l.rows_size(), 33);
  ASSERT_THAT(limits_.skipped, SizeIs(1));
  EXPECT_THAT(limits_.skipped[0], HasSubstr("quality-limits.csv:35"));

  const v1::LimitRow* pb = FindRow(l, "pb");
  ASSERT_NE(pb, nullptr);
  EXPECT_EQ(pb->rule(), v1::LIMIT_RULE_MAX);
  EXPECT_EQ(pb->limit().value(), 5'000'000);
  EXPECT_EQ(pb->limit().unit(), v1::MEASURE_UNIT_NG_PER_KG);
  EXPECT_EQ(pb->display_unit(), v1::DISPLAY_UNIT_MG_PER_KG);
  EXPECT_EQ(pb->category(), v1::LIMIT_CATEGORY_HEAVY_METAL);
  EXPECT_EQ(FindRow(l, "hg")->limit().value(), 200'000);
  EXPECT_EQ(FindRow(l, "moisture")->limit().value(), 130'000'000'000);
  EXPECT_EQ(FindRow(l, "moisture")->display_unit(), v1::DISPLAY_UNIT_PERCENT);
  const v1::LimitRow* afb1 = FindRow(l, "aflatoxin_b1");
  ASSERT_NE(afb1, nullptr);
  EXPECT_EQ(afb1->limit().value(), 5'000);
  EXPECT_EQ(afb1->display_unit(), v1::DISPLAY_UNIT_UG_PER_KG);
  EXPECT_NE(FindRow(l, "aflatoxins_total"), nullptr);

  const v1::LimitRow* metha = FindRow(l, "pesticide_methamidophos");
  ASSERT_NE(metha, nullptr);
  EXPECT_EQ(metha->rule(), v1::LIMIT_RULE_NOT_DETECTED);
  EXPECT_EQ(metha->limit().value(), 50'000);
  EXPECT_EQ(metha->category(), v1::LIMIT_CATEGORY_PESTICIDE_BANNED);
  const v1::LimitRow* group = FindRow(l, "prohibited_pesticides");
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->rule(), v1::LIMIT_RULE_NOT_DETECTED);
  EXPECT_FALSE(group->has_limit());
  const v1::LimitRow* fenamiphos = FindRow(l, "pesticide_fenamiphos");
  ASSERT_NE(fenamiphos, nullptr);
  EXPECT_EQ(fenamiphos->rule(), v1::LIMIT_RULE_NOT_DETECTED);
  EXPECT_FALSE(fenamiphos->has_limit());
  const v1::LimitRow* ash = FindRow(l, "total_ash_acid_insoluble_ash");
  ASSERT_NE(ash, nullptr);
  EXPECT_EQ(ash->rule(), v1::LIMIT_RULE_INFORMATIONAL);
}

TEST_F(ShippedCatalogTest, So2Of400AppliesToShanyaoAndTheOtherTen) {
  const v1::LimitRow* general = FindRow(limits_.limits, "so2");
  ASSERT_NE(general, nullptr);
  EXPECT_EQ(general->limit().value(), 150'000'000);
  EXPECT_EQ(general->category(), v1::LIMIT_CATEGORY_SULFUR_DIOXIDE);
  const v1::LimitRow* special =
      FindRow(limits_.limits, "so2", v1::PRODUCT_USE_MEDICINAL, /*applies_to_all=*/false);
  ASSERT_NE(special, nullptr);
  EXPECT_EQ(special->limit().value(), 400'000'000);
  EXPECT_THAT(special->herb_codes(), SizeIs(11));
  EXPECT_THAT(special->herb_codes(), Contains("SHANYAO"));
  EXPECT_THAT(special->herb_codes(), Contains("DANGSHEN"));
  EXPECT_THAT(special->herb_codes(), ::testing::Not(Contains("HUANGQI")));
}

TEST_F(ShippedCatalogTest, HerbListsMapThroughTheCatalog) {
  const v1::LimitRow* pcnb =
      FindRow(limits_.limits, "pesticide_quintozene_pcnb", v1::PRODUCT_USE_MEDICINAL, false);
  ASSERT_NE(pcnb, nullptr);
  EXPECT_EQ(pcnb->rule(), v1::LIMIT_RULE_INFORMATIONAL);
  EXPECT_THAT(pcnb->herb_codes(), ElementsAre("HUANGQI", "GANCAO", "RENSHEN"));
  EXPECT_THAT(pcnb->note(), HasSubstr("红参"));
  const v1::LimitRow* ota =
      FindRow(limits_.limits, "ochratoxin_a", v1::PRODUCT_USE_MEDICINAL, false);
  ASSERT_NE(ota, nullptr);
  EXPECT_THAT(ota->herb_codes(), ElementsAre("HUANGQI"));
  const v1::LimitRow* zen =
      FindRow(limits_.limits, "zearalenone", v1::PRODUCT_USE_MEDICINAL, false);
  ASSERT_NE(zen, nullptr);
  EXPECT_THAT(zen->herb_codes(), ElementsAre("YIYIREN"));
  EXPECT_EQ(zen->limit().value(), 500'000);
  const v1::LimitRow* food_pb = FindRow(limits_.limits, "pb", v1::PRODUCT_USE_FOOD, false);
  ASSERT_NE(food_pb, nullptr);
  EXPECT_EQ(food_pb->limit().value(), 1'000'000);
  EXPECT_THAT(food_pb->herb_codes(), ElementsAre("DANGSHEN"));
  const v1::LimitRow* food_so2 = FindRow(limits_.limits, "so2", v1::PRODUCT_USE_FOOD, false);
  ASSERT_NE(food_so2, nullptr);
  EXPECT_EQ(food_so2->category(), v1::LIMIT_CATEGORY_SULFUR_DIOXIDE);
}

TEST(CsvTest, Rfc4180QuotingAndLineNumbers) {
  auto records = ParseCsv(
      "\xEF\xBB\xBF"
      "a,b,c\r\n"
      "\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
      "\n"
      "1,,3\n",
      "t.csv");
  ASSERT_THAT(records, IsOk());
  ASSERT_EQ(records->size(), 3u);
  EXPECT_THAT((*records)[0].fields, ElementsAre("a", "b", "c"));
  EXPECT_THAT((*records)[1].fields, ElementsAre("x, y", "say \"hi\"", "two\nlines"));
  EXPECT_EQ((*records)[1].line, 2);
  EXPECT_EQ((*records)[2].line, 5);
  EXPECT_THAT((*records)[2].fields, ElementsAre("1", "", "3"));
}

TEST(CsvTest, MalformedCsvNamesTheLine) {
  EXPECT_THAT(ParseCsv("a,b\n1,\"open\n2,3\n", "t.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("t.csv:2: ")));
  EXPECT_THAT(ParseCsv("a,b\n\"x\n\"y,2\n", "t.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("t.csv:3: field 1: text after the closing quote")));
  EXPECT_THAT(ParseCsv("a,b\n1,2\nx\"y,3\n", "t.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("t.csv:3: field 1: ")));
}

constexpr char kHerbHeader[] =
    "zh_name,pinyin,latin_name,species,part,daodi_regions,qi_yao,aflatoxin_tested,"
    "so2_limit_mg_per_kg,notes,source\n";

TEST(HerbCatalogTest, MalformedRowsNameLineAndColumn) {
  EXPECT_THAT(
      ParseHerbCatalog(
          absl::StrCat(kHerbHeader, "黄芪,Huangqi,Astragali Radix,A,root,x,no,u,150,n,s\n",
                       "甘草,Gancao,G,G,root,x,maybe,u,150,n,s\n"),
          "v1"),
      StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("herbs.csv:3: column qi_yao: ")));
  EXPECT_THAT(ParseHerbCatalog(absl::StrCat(kHerbHeader, "黄芪,Huangqi,A,A,root,x,no\n"), "v1"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("herbs.csv:2: 7 fields")));
  EXPECT_THAT(ParseHerbCatalog("zh_name,pinyin\n黄芪,Huangqi\n", "v1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("herbs.csv:1: the header has no column latin_name")));
  EXPECT_THAT(
      ParseHerbCatalog(absl::StrCat(kHerbHeader, "黄芪,黄芪,A,A,root,x,no,u,150,n,s\n"), "v1"),
      StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("herbs.csv:2: column pinyin")));
}

TEST(HerbCatalogTest, ToneMarksAreDroppedAndHomophonesNumbered) {
  auto catalog =
      ParseHerbCatalog(absl::StrCat(kHerbHeader, "黄芪,Huángqí,A,A,root,x,no,u,150,n,s\n",
                                    "黄耆,Huangqi,A,A,root,x,yes,u,150,n,s\n"),
                       "v1");
  ASSERT_THAT(catalog, IsOk());
  EXPECT_EQ(catalog->herbs(0).code(), "HUANGQI");
  EXPECT_EQ(catalog->herbs(1).code(), "HUANGQI2");
  EXPECT_TRUE(catalog->herbs(1).qi_yao());
}

constexpr char kLimitsHeader[] = "analyte,category,limit,unit,applies_to,rule,source\n";

v1::LoadHerbCatalog SmallCatalog() {
  v1::LoadHerbCatalog c;
  c.set_version("v1");
  v1::Herb* h = c.add_herbs();
  h->set_code("SHANYAO");
  h->set_zh_name("山药");
  return c;
}

TEST(QualityLimitsTest, MalformedRowsNameLineAndColumn) {
  const v1::LoadHerbCatalog catalog = SmallCatalog();
  EXPECT_THAT(
      ParseQualityLimits(absl::StrCat(kLimitsHeader, "Lead (Pb),heavy_metal,<=abc,mg/kg,all,r,s\n"),
                         catalog, "l1"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               StartsWith("quality-limits.csv:2: column limit: ")));
  EXPECT_THAT(
      ParseQualityLimits(absl::StrCat(kLimitsHeader, "Lead (Pb),heavy_metal,<=5,ppm,all,r,s\n"),
                         catalog, "l1"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               StartsWith("quality-limits.csv:2: column unit: ")));
  EXPECT_THAT(
      ParseQualityLimits(absl::StrCat(kLimitsHeader, "Lead (Pb),heavy_metal,<=5,mg/kg,all,r,s\n",
                                      "SO2,so2,<=400,mg/kg,山药;黄芪,r,s\n"),
                         catalog, "l1"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               StartsWith("quality-limits.csv:3: column applies_to: herb 黄芪")));
  EXPECT_THAT(
      ParseQualityLimits(absl::StrCat(kLimitsHeader, "Lead (Pb),metals,<=5,mg/kg,all,r,s\n"),
                         catalog, "l1"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               StartsWith("quality-limits.csv:2: column category: ")));
  // 0.0000001 mg/kg is a tenth of a ng/kg: not representable, so refused rather than rounded.
  EXPECT_THAT(
      ParseQualityLimits(absl::StrCat(kLimitsHeader, "Hg,heavy_metal,<=0.0000001,mg/kg,all,r,s\n"),
                         catalog, "l1"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               StartsWith("quality-limits.csv:2: column limit: ")));
  EXPECT_THAT(
      ParseQualityLimits(absl::StrCat(kLimitsHeader, "x,so2,<=5,mg/kg,same herb list as y,r,s\n"),
                         catalog, "l1"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               StartsWith("quality-limits.csv:2: column applies_to: ")));
}

TEST(QualityLimitsTest, QuotedFieldsAndSupersedes) {
  auto parsed = ParseQualityLimits(
      absl::StrCat(kLimitsHeader,
                   "\"Sulfur dioxide residue\",so2,<=400,mg/kg,山药,\"Exception, for \"\"11\"\" "
                   "herbs\",S03\n"),
      SmallCatalog(), "l2", "l1");
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->limits.supersedes(), "l1");
  ASSERT_EQ(parsed->limits.rows_size(), 1);
  EXPECT_EQ(parsed->limits.rows(0).analyte(), "so2");
  EXPECT_THAT(parsed->limits.rows(0).herb_codes(), ElementsAre("SHANYAO"));
  EXPECT_EQ(parsed->limits.rows(0).note(), "Exception, for \"11\" herbs");
}

TEST(CatalogFilesTest, MissingFileIsNotFound) {
  EXPECT_THAT(ReadHerbCatalogFile("/nonexistent/herbs.csv", "v1"),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace herbtrace::domain
