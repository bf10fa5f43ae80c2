#include "services/server/recall_csv.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herbtrace::server {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;

v1::RecallScopeLot Lot(const std::string& batch, uint32_t depth, const std::string& holder,
                       uint64_t grams, bool acknowledged) {
  v1::RecallScopeLot lot;
  lot.set_batch_id(batch);
  lot.set_herb_code("HUANGQI");
  lot.set_depth(depth);
  lot.set_holder_at_recall(holder);
  lot.set_grams_at_recall(grams);
  lot.set_ack_required(grams > 0);
  lot.set_acknowledged(acknowledged);
  lot.mutable_current()->set_batch_id(batch);
  lot.mutable_current()->set_holder_party_id(holder);
  lot.mutable_current()->set_remaining_grams(grams);
  lot.mutable_current()->set_status(v1::BATCH_STATUS_RECALLED);
  return lot;
}

class RecallCsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    *view_.add_lots() = Lot("b", 1, "13068300000004", 10'000, true);
    *view_.add_lots() = Lot("a", 0, "13068300000003", 10'000, false);
    *view_.add_lots() = Lot("c", 1, "13068300000003", 20'000, false);
    v1::RecallAckRecord* ack = view_.mutable_lots(0)->add_acks();
    ack->set_seq(17);
    ack->set_party_id("13068300000004");
    ack->set_action(v1::RECALL_ACTION_QUARANTINED);
    ack->set_grams(10'000);
    ack->mutable_occurred_at()->set_seconds(1726365600);  // 2024-09-15T02:00:00Z
    v1::Party trader;
    trader.set_name("安国市药都药材经营部, \"东方\"");
    trader.set_region_code("130683");
    context_.parties["13068300000004"] = trader;
    v1::Herb herb;
    herb.set_zh_name("黄芪");
    herb.set_pinyin("Huangqi");
    context_.herbs["HUANGQI"] = herb;
  }

  std::vector<std::string> Rows(const v1::ExportRecallCsvRequest& request) {
    const std::string csv = RecallCsv(view_, context_, request);
    EXPECT_EQ(csv.substr(csv.size() - 2), "\r\n");
    std::vector<std::string> rows = absl::StrSplit(csv.substr(0, csv.size() - 2), "\r\n");
    return rows;
  }

  v1::RecallView view_;
  RecallCsvContext context_;
};

TEST_F(RecallCsvTest, HeaderThenOneRowPerLotByDepthThenBatch) {
  auto rows = Rows(v1::ExportRecallCsvRequest());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0],
            "batch_id,herb_code,herb_name,depth,holder_at_recall,holder_name,holder_region_code,"
            "grams_at_recall,current_holder,remaining_grams,status,ack_required,acknowledged,"
            "ack_actions,grams_acknowledged,last_ack_seq,last_ack_at");
  EXPECT_THAT(rows[1], StartsWith("a,HUANGQI,黄芪 (Huangqi),0,13068300000003,,,10000,"));
  EXPECT_THAT(rows[2], StartsWith("b,"));
  EXPECT_THAT(rows[3], StartsWith("c,"));
}

TEST_F(RecallCsvTest, FieldsWithCommasOrQuotesAreQuotedAndTimesAreChinaStandardTime) {
  auto rows = Rows(v1::ExportRecallCsvRequest());
  EXPECT_EQ(rows[2],
            "b,HUANGQI,黄芪 (Huangqi),1,13068300000004,\"安国市药都药材经营部, \"\"东方\"\"\","
            "130683,10000,13068300000004,10000,recalled,true,true,quarantined,10000,17,"
            "2024-09-15T10:00:00+08:00");
}

TEST_F(RecallCsvTest, SortsByTheRequestedColumnWithTiesByBatchAscending) {
  v1::ExportRecallCsvRequest request;
  request.set_sort_by(v1::RECALL_CSV_COLUMN_GRAMS_AT_RECALL);
  request.set_descending(true);
  auto rows = Rows(request);
  std::vector<std::string> order;
  for (size_t i = 1; i < rows.size(); ++i) order.push_back(rows[i].substr(0, 1));
  EXPECT_THAT(order, ElementsAre("c", "a", "b"));
}

TEST_F(RecallCsvTest, OnlyUnacknowledgedAndByteOrderMark) {
  v1::ExportRecallCsvRequest request;
  request.set_only_unacknowledged(true);
  request.set_utf8_bom(true);
  const std::string csv = RecallCsv(view_, context_, request);
  EXPECT_THAT(csv, StartsWith("\xEF\xBB\xBF" "batch_id,"));
  EXPECT_EQ(csv.find("\r\nb,"), std::string::npos);
  EXPECT_NE(csv.find("\r\na,"), std::string::npos);
}

TEST(CsvFieldTest, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
}

}  // namespace
}  // namespace herbtrace::server
