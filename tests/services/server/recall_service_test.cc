// herbtrace.v1.Recall over real gRPC: the recall with its scope and acknowledgements, the list,
// and the CSV export streamed in chunks.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rocksdb/db.h"
#include "services/domain/state_keys.h"
#include "tests/services/server/service_fixture.h"

namespace herbtrace::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
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

  grpc::Status Get(const v1::GetRecallRequest& request, v1::RecallView* view) {
    auto context = Context();
    return recall_->GetRecall(context.get(), request, view);
  }

  // Every lot of the LOTS form, page by page; the pages' tokens in `tokens`.
  absl::StatusOr<std::vector<v1::RecallScopeLot>> AllPages(const std::string& recall_id,
                                                           uint32_t page_size,
                                                           int* pages = nullptr) {
    v1::GetRecallRequest request;
    request.set_recall_id(recall_id);
    request.set_page_size(page_size);
    std::vector<v1::RecallScopeLot> lots;
    int count = 0;
    do {
      v1::RecallView view;
      if (auto s = S(Get(request, &view)); !s.ok()) return s;
      ++count;
      if (view.lots_size() > static_cast<int>(page_size)) {
        return absl::InternalError("a page holds more lots than page_size");
      }
      for (const v1::RecallScopeLot& lot : view.lots()) lots.push_back(lot);
      request.set_page_token(view.next_page_token());
    } while (!request.page_token().empty() && count < 1000);
    if (pages != nullptr) *pages = count;
    return lots;
  }

  // A new harvest of the grower split into `n` lots of 100 g, and a regulator's recall of the
  // harvest: a scope of n + 1 lots. Returns the recall id; the lots in `lots`, by batch_id.
  std::string RecallOfASplitHarvest(int n, std::vector<std::string>* lots) {
    const std::string harvest = market_->NewBatchCode(market_->grower(), 1);
    EXPECT_THAT(market_->Submit(market_->grower(), market_->HarvestEvent(harvest, 100'000)).status(),
                IsOk());
    v1::Event split;
    split.mutable_split()->set_input_batch_id(harvest);
    for (int i = 0; i < n; ++i) {
      v1::BatchQuantity* out = split.mutable_split()->add_outputs();
      out->set_batch_id(market_->NewBatchCode(market_->grower(), 1));
      out->set_grams(100);
      lots->push_back(out->batch_id());
    }
    std::sort(lots->begin(), lots->end());
    EXPECT_THAT(market_->Submit(market_->grower(), std::move(split)).status(), IsOk());
    v1::Event recall;
    recall.set_event_id(market_->NewEventId());
    recall.mutable_recall()->set_batch_id(harvest);
    recall.mutable_recall()->set_reason("自查: 包装破损");
    recall.mutable_recall()->set_severity(v1::RECALL_SEVERITY_CLASS_III);
    EXPECT_THAT(market_->Submit(market_->regulator(), recall).status(), IsOk());
    return recall.event_id();
  }

  absl::Status Ack(const Actor& holder, const std::string& recall_id, const std::string& batch_id,
                   v1::RecallAction action, uint64_t grams, const std::string& returned_to = "",
                   std::string* event_id = nullptr) {
    v1::Event event;
    event.set_event_id(market_->NewEventId());
    v1::RecallAck* a = event.mutable_recall_ack();
    a->set_recall_id(recall_id);
    a->set_batch_id(batch_id);
    a->set_action(action);
    a->set_grams(grams);
    a->set_returned_to_party_id(returned_to);
    if (event_id != nullptr) *event_id = event.event_id();
    return market_->Submit(holder, std::move(event)).status();
  }
};

TEST_F(RecallServiceTest, ByHolderHasEveryLotUnderItsHolderAsColumns) {
  v1::GetRecallRequest request;
  request.set_recall_id(chain_.recall_id);
  request.set_form(v1::RECALL_SCOPE_FORM_BY_HOLDER);
  v1::RecallView view;
  ASSERT_THAT(S(Get(request, &view)), IsOk());
  EXPECT_EQ(view.recall_id(), chain_.recall_id);
  EXPECT_EQ(view.batch_id(), chain_.dried);
  EXPECT_THAT(view.lots(), IsEmpty());
  EXPECT_EQ(view.scope_lots(), 3u);
  EXPECT_THAT(view.holders(), SizeIs(2));
  EXPECT_EQ(view.grams_at_recall(), 40'000u);
  EXPECT_EQ(view.grams_acknowledged(), 10'000u);
  EXPECT_TRUE(view.next_page_token().empty());
  EXPECT_THAT(view.scope_herb_codes(), ElementsAre("HUANGQI"));
  EXPECT_GE(view.as_of_tree_size(), LogSize());

  // Holders by party id: the grower keeps D (depth 0) and S2; the trader bought S1.
  const std::string& grower = market_->grower().party_id;
  const std::string& trader = market_->trader().party_id;
  ASSERT_THAT(view.lots_by_holder(), SizeIs(2));
  const bool grower_first = grower < trader;
  const v1::RecallHolderLots& g = view.lots_by_holder(grower_first ? 0 : 1);
  const v1::RecallHolderLots& t = view.lots_by_holder(grower_first ? 1 : 0);
  EXPECT_EQ(g.party_id(), grower);
  EXPECT_THAT(g.batch_ids(), ElementsAre(chain_.dried, chain_.lot2));
  EXPECT_THAT(g.herb_indexes(), ElementsAre(0u, 0u));
  EXPECT_THAT(g.depths(), ElementsAre(0u, 1u));
  EXPECT_THAT(g.grams_at_recall(), ElementsAre(10'000u, 20'000u));
  EXPECT_THAT(g.remaining_grams(), ElementsAre(10'000u, 20'000u));
  EXPECT_THAT(g.statuses(), ElementsAre(v1::BATCH_STATUS_RECALLED, v1::BATCH_STATUS_RECALLED));
  EXPECT_THAT(g.ack_required(), ElementsAre(true, true));
  EXPECT_THAT(g.acknowledged(), ElementsAre(false, false));
  EXPECT_THAT(g.holders_now(), IsEmpty());
  EXPECT_EQ(t.party_id(), trader);
  EXPECT_THAT(t.batch_ids(), ElementsAre(chain_.lot1));
  EXPECT_THAT(t.depths(), ElementsAre(1u));
  EXPECT_THAT(t.grams_at_recall(), ElementsAre(10'000u));
  EXPECT_THAT(t.remaining_grams(), ElementsAre(10'000u));
  EXPECT_THAT(t.statuses(), ElementsAre(v1::BATCH_STATUS_RECALLED));
  EXPECT_THAT(t.acknowledged(), ElementsAre(true));
  EXPECT_THAT(t.holders_now(), IsEmpty());
}

TEST_F(RecallServiceTest, ByHolderShowsWhoHoldsALotNowAndWhatIsLeft) {
  // The grower destroys 5 kg of D and returns S2 to the trader, who receives it.
  const std::string& grower = market_->grower().party_id;
  const std::string& trader = market_->trader().party_id;
  ASSERT_THAT(Ack(market_->grower(), chain_.recall_id, chain_.dried, v1::RECALL_ACTION_DESTROYED,
                  5'000),
              IsOk());
  std::string return_id;
  ASSERT_THAT(Ack(market_->grower(), chain_.recall_id, chain_.lot2, v1::RECALL_ACTION_RETURNED,
                  20'000, trader, &return_id),
              IsOk());
  v1::Event receive;
  receive.mutable_receive()->set_transfer_event_id(return_id);
  v1::BatchQuantity* q = receive.mutable_receive()->add_received();
  q->set_batch_id(chain_.lot2);
  q->set_grams(20'000);
  ASSERT_THAT(market_->Submit(market_->trader(), std::move(receive)).status(), IsOk());

  v1::GetRecallRequest request;
  request.set_recall_id(chain_.recall_id);
  request.set_form(v1::RECALL_SCOPE_FORM_BY_HOLDER);
  v1::RecallView view;
  ASSERT_THAT(S(Get(request, &view)), IsOk());
  ASSERT_THAT(view.lots_by_holder(), SizeIs(2));
  const v1::RecallHolderLots& g = view.lots_by_holder(grower < trader ? 0 : 1);
  ASSERT_EQ(g.party_id(), grower);
  ASSERT_THAT(g.batch_ids(), ElementsAre(chain_.dried, chain_.lot2));
  EXPECT_THAT(g.grams_at_recall(), ElementsAre(10'000u, 20'000u));
  EXPECT_THAT(g.remaining_grams(), ElementsAre(5'000u, 20'000u));
  EXPECT_THAT(g.acknowledged(), ElementsAre(false, true));
  // Index 1 (S2) is the trader's now; D is still the grower's.
  ASSERT_THAT(g.holders_now(), SizeIs(1));
  EXPECT_EQ(g.holders_now().at(1), trader);
  // The LOTS form says the same lot by lot.
  v1::GetRecallRequest lots_request;
  lots_request.set_recall_id(chain_.recall_id);
  v1::RecallView lots;
  ASSERT_THAT(S(Get(lots_request, &lots)), IsOk());
  ASSERT_THAT(lots.lots(), SizeIs(3));
  for (const v1::RecallScopeLot& lot : lots.lots()) {
    if (lot.batch_id() == chain_.lot2) {
      EXPECT_EQ(lot.current().holder_party_id(), trader);
      ASSERT_THAT(lot.acks(), SizeIs(1));
      EXPECT_EQ(lot.acks(0).action(), v1::RECALL_ACTION_RETURNED);
    }
    if (lot.batch_id() == chain_.dried) {
      EXPECT_EQ(lot.current().remaining_grams(), 5'000u);
    }
  }
}

TEST_F(RecallServiceTest, LotsPageByDepthThenBatchAndAddUpToTheWholeScope) {
  v1::GetRecallRequest request;
  request.set_recall_id(chain_.recall_id);
  v1::RecallView whole;
  ASSERT_THAT(S(Get(request, &whole)), IsOk());
  ASSERT_THAT(whole.lots(), SizeIs(3));
  EXPECT_EQ(whole.scope_lots(), 3u);
  EXPECT_TRUE(whole.next_page_token().empty());
  int pages = 0;
  auto paged = AllPages(chain_.recall_id, 1, &pages);
  ASSERT_THAT(paged, IsOk());
  EXPECT_EQ(pages, 3);
  ASSERT_THAT(*paged, SizeIs(3));
  std::vector<std::string> order = {chain_.lot1, chain_.lot2};
  std::sort(order.begin(), order.end());
  order.insert(order.begin(), chain_.dried);
  for (size_t i = 0; i < paged->size(); ++i) {
    EXPECT_EQ((*paged)[i].batch_id(), order[i]);
    EXPECT_EQ((*paged)[i].batch_id(), whole.lots(static_cast<int>(i)).batch_id());
    EXPECT_EQ((*paged)[i].current().remaining_grams(),
              whole.lots(static_cast<int>(i)).current().remaining_grams());
    EXPECT_EQ((*paged)[i].acks_size(), whole.lots(static_cast<int>(i)).acks_size());
  }
  // Every page carries the recall and its holders.
  request.set_page_size(2);
  v1::RecallView first;
  ASSERT_THAT(S(Get(request, &first)), IsOk());
  EXPECT_THAT(first.lots(), SizeIs(2));
  EXPECT_THAT(first.holders(), SizeIs(2));
  EXPECT_EQ(first.scope_lots(), 3u);
  EXPECT_FALSE(first.next_page_token().empty());
}

TEST_F(RecallServiceTest, AcksOfABigScopeAreFoundWholeAndPageByPage) {
  std::vector<std::string> lots;
  const std::string recall_id = RecallOfASplitHarvest(300, &lots);
  // The grower acknowledges three lots spread over the scope, one of them twice (two partial
  // destructions).
  for (size_t i : {size_t{0}, size_t{150}, size_t{299}}) {
    ASSERT_THAT(Ack(market_->grower(), recall_id, lots[i], v1::RECALL_ACTION_DESTROYED, 40),
                IsOk());
  }
  ASSERT_THAT(Ack(market_->grower(), recall_id, lots[150], v1::RECALL_ACTION_DESTROYED, 60),
              IsOk());
  auto acks_of = [&](const std::vector<v1::RecallScopeLot>& scope) {
    std::map<std::string, std::vector<uint64_t>> acks;
    for (const v1::RecallScopeLot& lot : scope) {
      for (const v1::RecallAckRecord& ack : lot.acks()) acks[lot.batch_id()].push_back(ack.grams());
    }
    return acks;
  };
  const std::map<std::string, std::vector<uint64_t>> want = {
      {lots[0], {40}}, {lots[150], {40, 60}}, {lots[299], {40}}};
  v1::GetRecallRequest request;
  request.set_recall_id(recall_id);
  v1::RecallView whole;
  ASSERT_THAT(S(Get(request, &whole)), IsOk());
  ASSERT_THAT(whole.lots(), SizeIs(301));
  EXPECT_EQ(acks_of(std::vector<v1::RecallScopeLot>(whole.lots().begin(), whole.lots().end())),
            want);
  auto paged = AllPages(recall_id, 7);
  ASSERT_THAT(paged, IsOk());
  ASSERT_THAT(*paged, SizeIs(301));
  EXPECT_EQ(acks_of(*paged), want);
  // By holder: the one grower, the harvest first, then the lots by batch id.
  request.set_form(v1::RECALL_SCOPE_FORM_BY_HOLDER);
  v1::RecallView by_holder;
  ASSERT_THAT(S(Get(request, &by_holder)), IsOk());
  ASSERT_THAT(by_holder.lots_by_holder(), SizeIs(1));
  const v1::RecallHolderLots& g = by_holder.lots_by_holder(0);
  ASSERT_THAT(g.batch_ids(), SizeIs(301));
  EXPECT_EQ(g.depths(0), 0u);
  EXPECT_EQ(std::vector<std::string>(g.batch_ids().begin() + 1, g.batch_ids().end()), lots);
  EXPECT_EQ(g.remaining_grams(1), 60u);
  EXPECT_EQ(g.remaining_grams(151), 0u);
  EXPECT_EQ(g.statuses(151), v1::BATCH_STATUS_DESTROYED);
  EXPECT_TRUE(g.acknowledged(151));
  EXPECT_FALSE(g.acknowledged(1));
}

TEST_F(RecallServiceTest, ScopeRecordsKeepEachLotNowAndOlderRecordsAreReadFromTheBatch) {
  std::vector<std::string> lots;
  const std::string recall_id = RecallOfASplitHarvest(300, &lots);
  const std::string& grower = market_->grower().party_id;
  ASSERT_THAT(Ack(market_->grower(), recall_id, lots[0], v1::RECALL_ACTION_DESTROYED, 40), IsOk());
  ASSERT_THAT(Ack(market_->grower(), recall_id, lots[150], v1::RECALL_ACTION_DESTROYED, 100),
              IsOk());
  // A second recall of one lot of the first: the lot is in both scopes, and what it says now
  // changes in both.
  v1::Event second;
  second.set_event_id(market_->NewEventId());
  second.mutable_recall()->set_batch_id(lots[7]);
  second.mutable_recall()->set_reason("复检: 二氧化硫");
  second.mutable_recall()->set_severity(v1::RECALL_SEVERITY_CLASS_II);
  ASSERT_THAT(market_->Submit(market_->regulator(), second).status(), IsOk());
  ASSERT_THAT(Ack(market_->grower(), second.event_id(), lots[7], v1::RECALL_ACTION_DESTROYED, 30),
              IsOk());

  // batch → "holder grams status", from the BY_HOLDER form and from the LOTS form page by page
  // (a page reads its few lots by point reads, the whole scope by one scan).
  using Now = std::map<std::string, std::string>;
  auto now_by_holder = [&](const std::string& id) -> Now {
    v1::GetRecallRequest request;
    request.set_recall_id(id);
    request.set_form(v1::RECALL_SCOPE_FORM_BY_HOLDER);
    v1::RecallView view;
    EXPECT_THAT(S(Get(request, &view)), IsOk());
    Now now;
    for (const v1::RecallHolderLots& g : view.lots_by_holder()) {
      for (int i = 0; i < g.batch_ids_size(); ++i) {
        const auto moved = g.holders_now().find(static_cast<uint32_t>(i));
        now[g.batch_ids(i)] = absl::StrCat(moved == g.holders_now().end() ? g.party_id()
                                                                           : moved->second,
                                           " ", g.remaining_grams(i), " ", g.statuses(i));
      }
    }
    return now;
  };
  auto now_by_pages = [&](const std::string& id) -> Now {
    auto paged = AllPages(id, 7);
    EXPECT_THAT(paged, IsOk());
    Now now;
    for (const v1::RecallScopeLot& lot : paged.value_or(std::vector<v1::RecallScopeLot>())) {
      now[lot.batch_id()] = absl::StrCat(lot.current().holder_party_id(), " ",
                                         lot.current().remaining_grams(), " ",
                                         lot.current().status());
    }
    return now;
  };
  const Now first = now_by_holder(recall_id);
  ASSERT_THAT(first, SizeIs(301));
  EXPECT_EQ(first.at(lots[0]), absl::StrCat(grower, " 60 ", v1::BATCH_STATUS_RECALLED));
  EXPECT_EQ(first.at(lots[150]), absl::StrCat(grower, " 0 ", v1::BATCH_STATUS_DESTROYED));
  EXPECT_EQ(first.at(lots[7]), absl::StrCat(grower, " 70 ", v1::BATCH_STATUS_RECALLED));
  EXPECT_EQ(first.at(lots[8]), absl::StrCat(grower, " 100 ", v1::BATCH_STATUS_RECALLED));
  EXPECT_EQ(now_by_pages(recall_id), first);
  const Now of_second = now_by_holder(second.event_id());
  EXPECT_EQ(of_second, Now({{lots[7], first.at(lots[7])}}));
  EXPECT_EQ(now_by_pages(second.event_id()), of_second);

  // A ledger whose recalls were issued before the scope records kept their lots' state now
  // has none in records of lots that did not change since: every other one without, then all.
  rocksdb::DB& db = market_->ledger().db().db();
  rocksdb::ColumnFamilyHandle* registry = market_->ledger().db().cf(storage::Cf::kRegistry);
  for (const bool all : {false, true}) {
    SCOPED_TRACE(all ? "no lot now in any record" : "no lot now in every other record");
    for (const std::string& id : {recall_id, second.event_id()}) {
      const std::string prefix = domain::keys::RecallLotPrefix(id);
      std::vector<std::pair<std::string, v1::RecallScopeLot>> stored;
      std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), registry));
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        v1::RecallScopeLot lot;
        ASSERT_TRUE(lot.ParseFromString(it->value().ToString()));
        stored.emplace_back(it->key().ToString(), std::move(lot));
      }
      ASSERT_FALSE(stored.empty());
      for (size_t i = 0; i < stored.size(); i += all ? 1 : 2) {
        if (!all) {
          ASSERT_TRUE(stored[i].second.has_current());
        }
        stored[i].second.clear_current();
        ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), registry, stored[i].first,
                           stored[i].second.SerializeAsString())
                        .ok());
      }
    }
    EXPECT_EQ(now_by_holder(recall_id), first);
    EXPECT_EQ(now_by_pages(recall_id), first);
    EXPECT_EQ(now_by_holder(second.event_id()), of_second);
    EXPECT_EQ(now_by_pages(second.event_id()), of_second);
  }

  // A scope record that does not parse is named, in either form.
  ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), registry,
                     domain::keys::RecallLot(second.event_id(), lots[7]), "\x0a\xff")
                  .ok());
  for (const v1::RecallScopeForm form :
       {v1::RECALL_SCOPE_FORM_BY_HOLDER, v1::RECALL_SCOPE_FORM_LOTS}) {
    v1::GetRecallRequest request;
    request.set_recall_id(second.event_id());
    request.set_form(form);
    v1::RecallView view;
    const grpc::Status status = Get(request, &view);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS) << v1::RecallScopeForm_Name(form);
    EXPECT_THAT(status.error_message(), HasSubstr(lots[7]));
  }
}

TEST_F(RecallServiceTest, GetRecallRefusesABadFormOrPage) {
  const uint64_t before = LogSize();
  v1::RecallView view;
  v1::GetRecallRequest bad_form;
  bad_form.set_recall_id(chain_.recall_id);
  bad_form.set_form(static_cast<v1::RecallScopeForm>(42));
  EXPECT_THAT(S(Get(bad_form, &view)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("form: unknown value 42")));

  v1::GetRecallRequest by_holder_paged;
  by_holder_paged.set_recall_id(chain_.recall_id);
  by_holder_paged.set_form(v1::RECALL_SCOPE_FORM_BY_HOLDER);
  by_holder_paged.set_page_size(10);
  EXPECT_THAT(S(Get(by_holder_paged, &view)),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("page_size: ")));
  by_holder_paged.set_page_size(0);
  by_holder_paged.set_page_token("cDEKMDAwMAo");
  EXPECT_THAT(S(Get(by_holder_paged, &view)),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("page_token: ")));

  v1::GetRecallRequest bad_token;
  bad_token.set_recall_id(chain_.recall_id);
  bad_token.set_page_token("bm90IG91cnM");
  EXPECT_THAT(S(Get(bad_token, &view)),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("page_token: ")));

  // A token of one recall's pages does not page another recall.
  std::vector<std::string> lots;
  const std::string other = RecallOfASplitHarvest(3, &lots);
  const uint64_t after_setup = LogSize();
  v1::GetRecallRequest first;
  first.set_recall_id(chain_.recall_id);
  first.set_page_size(1);
  ASSERT_THAT(S(Get(first, &view)), IsOk());
  ASSERT_FALSE(view.next_page_token().empty());
  v1::GetRecallRequest crossed;
  crossed.set_recall_id(other);
  crossed.set_page_size(1);
  crossed.set_page_token(view.next_page_token());
  EXPECT_THAT(S(Get(crossed, &view)),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("page_token: ")));
  // Reads only: nothing was appended by any of them.
  EXPECT_GT(after_setup, before);
  EXPECT_EQ(LogSize(), after_setup);
}

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
