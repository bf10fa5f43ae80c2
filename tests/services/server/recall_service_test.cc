// herbtrace.v1.Recall over real gRPC: the recall with its scope and acknowledgements, the list,
// and the CSV export streamed in chunks.
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "tests/services/server/service_fixture.h"

namespace herbtrace::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

class RecallServiceTest : public MarketServiceTest {
 protected:
  TestServerOptions Options() override {
    TestServerOptions options;
    options.recall.csv_chunk_bytes = 100;  // several chunks, splits mid-row
    return options;
  }

  grpc::Status Export(const v1::ExportRecallCsvRequest& request, std::string* csv,
                      int* chunks = nullptr) {
    auto context = Context();
    auto reader = recall_->ExportRecallCsv(context.get(), request);
    v1::CsvChunk chunk;
    csv->clear();
    int count = 0;
    while (reader->Read(&chunk)) {
      *csv += chunk.data();
      ++count;
    }
    if (chunks != nullptr) *chunks = count;
    return reader->Finish();
  }

  grpc::Status List(const v1::ListRecallsRequest& request, v1::ListRecallsResponse* response) {
    auto context = Context();
    return recall_->ListRecalls(context.get(), request, response);
  }
};

TEST_F(RecallServiceTest, GetRecallShowsTheScopeAndWhoAcknowledged) {
  v1::GetRecallRequest request;
  request.set_recall_id(chain_.recall_id);
  v1::RecallView view;
  auto context = Context();
  ASSERT_TRUE(recall_->GetRecall(context.get(), request, &view).ok());
  EXPECT_EQ(view.recall_id(), chain_.recall_id);
  EXPECT_EQ(view.batch_id(), chain_.dried);
  EXPECT_EQ(view.seq(), chain_.recall_seq);
  EXPECT_EQ(view.status(), v1::RECALL_STATUS_OPEN);
  ASSERT_THAT(view.lots(), SizeIs(3));
  EXPECT_EQ(view.lots(0).batch_id(), chain_.dried);
  EXPECT_EQ(view.lots(0).depth(), 0u);
  for (const v1::RecallScopeLot& lot : view.lots()) {
    EXPECT_EQ(lot.current().batch_id(), lot.batch_id());
    if (lot.batch_id() == chain_.lot1) {
      EXPECT_TRUE(lot.acknowledged());
      EXPECT_EQ(lot.holder_at_recall(), market_->trader().party_id);
      ASSERT_THAT(lot.acks(), SizeIs(1));
      EXPECT_EQ(lot.acks(0).action(), v1::RECALL_ACTION_QUARANTINED);
    }
  }
  EXPECT_GE(view.as_of_tree_size(), LogSize());
}

TEST_F(RecallServiceTest, GetRecallRefusals) {
  v1::RecallView view;
  v1::GetRecallRequest unknown;
  unknown.set_recall_id("01920000-0000-7000-8000-0000000000ff");
  auto c1 = Context();
  EXPECT_THAT(S(recall_->GetRecall(c1.get(), unknown, &view)),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("recall_id: 01920000-0000-7000-8000-0000000000ff")));
  v1::GetRecallRequest malformed;
  malformed.set_recall_id("recall-1");
  auto c2 = Context();
  EXPECT_THAT(S(recall_->GetRecall(c2.get(), malformed, &view)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("recall_id")));
}

TEST_F(RecallServiceTest, ListRecallsFiltersByStatusAndBatchInScope) {
  v1::ListRecallsResponse response;
  ASSERT_TRUE(List(v1::ListRecallsRequest(), &response).ok());
  ASSERT_THAT(response.recalls(), SizeIs(1));
  EXPECT_EQ(response.recalls(0).recall_id(), chain_.recall_id);
  EXPECT_EQ(response.recalls(0).lots(), 3u);

  v1::ListRecallsRequest by_lot;
  by_lot.set_batch_id(chain_.lot2);  // in scope, not the recalled batch itself
  ASSERT_TRUE(List(by_lot, &response).ok());
  EXPECT_THAT(response.recalls(), SizeIs(1));
  v1::ListRecallsRequest upstream;
  upstream.set_batch_id(chain_.harvest);  // upstream of the recalled batch: not in scope
  ASSERT_TRUE(List(upstream, &response).ok());
  EXPECT_THAT(response.recalls(), SizeIs(0));
  v1::ListRecallsRequest closed;
  closed.set_status(v1::RECALL_STATUS_CLOSED);
  ASSERT_TRUE(List(closed, &response).ok());
  EXPECT_THAT(response.recalls(), SizeIs(0));
}

TEST_F(RecallServiceTest, ListRecallsRefusals) {
  v1::ListRecallsResponse response;
  v1::ListRecallsRequest bad_batch;
  bad_batch.set_batch_id("123");
  EXPECT_THAT(S(List(bad_batch, &response)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("batch_id")));
  v1::ListRecallsRequest bad_token;
  bad_token.set_page_token("bm90IG91cnM");
  EXPECT_THAT(S(List(bad_token, &response)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

TEST_F(RecallServiceTest, ExportStreamsTheScopeAsCsvInChunks) {
  v1::ExportRecallCsvRequest request;
  request.set_recall_id(chain_.recall_id);
  request.set_utf8_bom(true);
  std::string csv;
  int chunks = 0;
  ASSERT_TRUE(Export(request, &csv, &chunks).ok());
  EXPECT_GT(chunks, 3);
  EXPECT_THAT(csv, StartsWith("\xEF\xBB\xBF" "batch_id,herb_code,herb_name,depth,"));
  std::vector<std::string> rows = absl::StrSplit(csv, "\r\n", absl::SkipEmpty());
  ASSERT_THAT(rows, SizeIs(4));
  EXPECT_THAT(rows[1], StartsWith(chain_.dried + ",HUANGQI,黄芪 (Huangqi),0,"));
  // The trader's name holds a comma and quotes: quoted, quotes doubled.
  EXPECT_THAT(csv, HasSubstr("\"安国市药都药材经营部, \"\"东方\"\"\""));
  EXPECT_THAT(csv, HasSubstr(",recalled,true,true,quarantined,10000,"));
}

TEST_F(RecallServiceTest, ExportSortsAndFilters) {
  v1::ExportRecallCsvRequest request;
  request.set_recall_id(chain_.recall_id);
  request.set_sort_by(v1::RECALL_CSV_COLUMN_REMAINING_GRAMS);
  request.set_descending(true);
  request.set_only_unacknowledged(true);
  std::string csv;
  ASSERT_TRUE(Export(request, &csv).ok());
  std::vector<std::string> rows = absl::StrSplit(csv, "\r\n", absl::SkipEmpty());
  ASSERT_THAT(rows, SizeIs(3));                    // lot1 is acknowledged
  EXPECT_THAT(rows[1], StartsWith(chain_.lot2));   // 20 kg
  EXPECT_THAT(rows[2], StartsWith(chain_.dried));  // 10 kg
}

TEST_F(RecallServiceTest, ExportRefusals) {
  std::string csv;
  v1::ExportRecallCsvRequest unknown;
  unknown.set_recall_id("01920000-0000-7000-8000-0000000000ff");
  EXPECT_THAT(S(Export(unknown, &csv)), StatusIs(absl::StatusCode::kNotFound, HasSubstr("recall_id")));
  EXPECT_TRUE(csv.empty());
  v1::ExportRecallCsvRequest bad_column;
  bad_column.set_recall_id(chain_.recall_id);
  bad_column.set_sort_by(static_cast<v1::RecallCsvColumn>(99));
  EXPECT_THAT(S(Export(bad_column, &csv)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sort_by")));
}

}  // namespace
}  // namespace herbtrace::testing
