#include "services/server/recall_service.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/arena.h"
#include "services/domain/identifiers.h"
#include "services/server/access_policy.h"
#include "services/server/paging.h"
#include "services/server/reactors.h"
#include "services/server/recall_csv.h"
#include "services/server/recall_columns.h"
#include "services/server/recall_scope.h"

namespace herbtrace::server {
namespace {

class RecallServiceImpl final : public v1::Recall::CallbackService {
 public:
  RecallServiceImpl(LogSource& source, Executor& executor, RecallServiceOptions options)
      : source_(source),
        executor_(executor),
        options_(options),
        access_(source.state(), options_.callers) {}

  grpc::ServerUnaryReactor* GetRecall(grpc::CallbackServerContext* context,
                                      const v1::GetRecallRequest* request,
                                      v1::RecallView* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      auto caller = access_.Admit(*context, Rpc::kRecallGetRecall);
      if (!caller.ok()) return caller.status();
      auto view = Get(*request, *caller);
      if (!view.ok()) return view.status();
      *response = *std::move(view);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListRecalls(grpc::CallbackServerContext* context,
                                        const v1::ListRecallsRequest* request,
                                        v1::ListRecallsResponse* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      auto caller = access_.Admit(*context, Rpc::kRecallListRecalls);
      if (!caller.ok()) return caller.status();
      return List(*request, *caller, *response);
    });
  }

  grpc::ServerWriteReactor<v1::CsvChunk>* ExportRecallCsv(
      grpc::CallbackServerContext* context, const v1::ExportRecallCsvRequest* request) override {
    struct State {
      v1::ExportRecallCsvRequest request;
      bool built = false;
      std::string csv;
      size_t sent = 0;
    };
    auto state = std::make_shared<State>();
    state->request = *request;
    return ProducedStream<v1::CsvChunk>::Start(
        context, executor_, [this, context, state](v1::CsvChunk* chunk) -> absl::StatusOr<bool> {
          if (!state->built) {
            state->built = true;
            auto caller = access_.Admit(*context, Rpc::kRecallExportRecallCsv);
            if (!caller.ok()) return caller.status();
            auto csv = BuildCsv(state->request, *caller);
            if (!csv.ok()) return csv.status();
            state->csv = *std::move(csv);
          }
          if (state->sent >= state->csv.size()) return false;
          const size_t n = std::min(options_.csv_chunk_bytes, state->csv.size() - state->sent);
          chunk->set_data(state->csv.substr(state->sent, n));
          state->sent += n;
          return true;
        });
  }

 private:
  // A recall's header, and the log size the answer reflects at least.
  struct Header {
    v1::RecallView view;
    uint64_t as_of = 0;
  };

  absl::StatusOr<Header> LoadHeader(const std::string& recall_id) {
    if (auto s = domain::ValidateEventId(recall_id, "recall_id"); !s.ok()) return s;
    Header header;
    auto as_of = source_.Size();
    if (!as_of.ok()) return as_of.status();
    auto view = ReadRecallHeader(source_.db(), recall_id);
    if (absl::IsNotFound(view.status()) && source_.is_replica()) {
      if (auto s = source_.CatchUp(); !s.ok()) return s;
      view = ReadRecallHeader(source_.db(), recall_id);
    }
    if (absl::IsNotFound(view.status())) {
      return absl::NotFoundError(absl::StrCat("recall_id: ", recall_id, " is not in the log"));
    }
    if (!view.ok()) return view.status();
    header.view = *std::move(view);
    header.as_of = std::max(*as_of, header.view.seq() + 1);
    return header;
  }

  // The request's form and paging, checked before anything is read.
  struct Shape {
    v1::RecallScopeForm form = v1::RECALL_SCOPE_FORM_LOTS;
    std::optional<PageRequest> page;  // LOTS form, paged
    std::string filters;
  };

  static absl::StatusOr<Shape> ShapeOf(const v1::GetRecallRequest& request) {
    Shape shape;
    if (!v1::RecallScopeForm_IsValid(request.form())) {
      return absl::InvalidArgumentError(absl::StrCat("form: unknown value ", request.form()));
    }
    if (request.form() != v1::RECALL_SCOPE_FORM_UNSPECIFIED) shape.form = request.form();
    const bool paged = request.page_size() != 0 || !request.page_token().empty();
    if (!paged) return shape;
    if (shape.form != v1::RECALL_SCOPE_FORM_LOTS) {
      return absl::InvalidArgumentError(absl::StrCat(
          request.page_size() != 0 ? "page_size" : "page_token",
          ": only the LOTS form is paged; the BY_HOLDER form has the whole scope in one answer"));
    }
    shape.filters = absl::StrCat("recall-lots\n", request.recall_id());
    auto page = ParsePageRequest(request.page_size(), request.page_token(), shape.filters);
    if (!page.ok()) return page.status();
    shape.page = *std::move(page);
    return shape;
  }

  // Position of a lot in the LOTS form's order (depth, then batch_id), for page tokens.
  static std::string PagePosition(const v1::RecallScopeLot& lot) {
    return absl::StrFormat("%010u/%s", lot.depth(), lot.batch_id());
  }

  absl::StatusOr<v1::RecallView> Get(const v1::GetRecallRequest& request, const Caller& caller) {
    if (auto s = domain::ValidateEventId(request.recall_id(), "recall_id"); !s.ok()) return s;
    auto shape = ShapeOf(request);
    if (!shape.ok()) return shape.status();
    auto header = LoadHeader(request.recall_id());
    if (!header.ok()) return header.status();
    v1::RecallView& view = header->view;
    const bool whole = shape->form == v1::RECALL_SCOPE_FORM_LOTS;
    const bool oversight = HasOversight(caller);
    if (!whole && oversight) {
      // Every lot, unfiltered: the columns straight from the stored scope.
      auto last_seq = ReadScopeByHolder(source_.db(), request.recall_id(), view);
      if (!last_seq.ok()) return last_seq.status();
      view.set_as_of_tree_size(std::max(header->as_of, *last_seq + 1));
      return std::move(view);
    }
    // The BY_HOLDER form copies what it needs out of the lots, which then die with the arena
    // at once instead of one by one; the LOTS form moves its lots into the answer, which is
    // not on an arena, so they stay off it.
    google::protobuf::ArenaOptions arena_options;
    arena_options.start_block_size = 256 << 10;
    arena_options.max_block_size = 4 << 20;
    google::protobuf::Arena arena(arena_options);
    std::unique_ptr<v1::RecallView> off_arena;
    v1::RecallView* scope = whole ? (off_arena = std::make_unique<v1::RecallView>()).get()
                                  : google::protobuf::Arena::CreateMessage<v1::RecallView>(&arena);
    if (auto s = ReadScopeLots(source_.db(), request.recall_id(), scope->mutable_lots());
        !s.ok()) {
      return s;
    }
    // By batch_id, as stored: the order the batched reads want.
    std::vector<v1::RecallScopeLot*> lots(scope->mutable_lots()->pointer_begin(),
                                          scope->mutable_lots()->pointer_end());
    const CurrentState state = whole ? CurrentState::kWhole : CurrentState::kSummary;
    // A page reads the acknowledgements and states of its own lots only; anything else reads
    // them for every lot, while the lots are still in batch_id order. Which lots are a holder's
    // depends on who holds them now and who acknowledged them.
    const bool fill_every_lot = !oversight || !shape->page.has_value();
    const bool acks = whole || !oversight;
    if (fill_every_lot) {
      if (acks) {
        if (auto s = FillAcks(source_.db(), view.recall_id(), lots); !s.ok()) return s;
      }
      if (auto s = FillCurrent(source_.db(), lots, state); !s.ok()) return s;
    }
    if (!oversight && !LimitToLotsOf(caller.party_id, lots, view)) {
      return Denied(caller, "recall_id",
                    absl::StrCat("recall ", request.recall_id(), ", which names no lot of ",
                                 caller.party_id, ","),
                    "regulators, the market operator and the holders of lots in its scope");
    }
    std::stable_sort(lots.begin(), lots.end(),
                     [](const v1::RecallScopeLot* a, const v1::RecallScopeLot* b) {
                       return a->depth() < b->depth();
                     });
    view.set_scope_lots(static_cast<uint32_t>(lots.size()));
    if (shape->page.has_value()) {
      const PageRequest& page = *shape->page;
      size_t first = 0;
      if (page.has_position) {
        while (first < lots.size() && PagePosition(*lots[first]) <= page.after) ++first;
      }
      const size_t last = std::min(lots.size(), first + page.size);
      if (last < lots.size() && last > first) {
        view.set_next_page_token(MakePageToken(shape->filters, PagePosition(*lots[last - 1])));
      }
      lots = std::vector<v1::RecallScopeLot*>(lots.begin() + first, lots.begin() + last);
      if (!fill_every_lot) {
        if (acks) {
          if (auto s = FillAcks(source_.db(), view.recall_id(), lots); !s.ok()) return s;
        }
        if (auto s = FillCurrent(source_.db(), lots, state); !s.ok()) return s;
      }
    }
    uint64_t reflected = header->as_of;
    for (const v1::RecallScopeLot* lot : lots) {
      reflected = std::max(reflected, lot->current().last_seq() + 1);
    }
    view.set_as_of_tree_size(reflected);
    if (whole) {
      view.mutable_lots()->Reserve(static_cast<int>(lots.size()));
      for (v1::RecallScopeLot* lot : lots) *view.add_lots() = std::move(*lot);
    } else {
      GroupByHolder(lots, view);
    }
    return std::move(view);
  }

  // A lot of `party_id` now or at the recall, or one it acknowledged. REQUIRES: acks and
  // current filled.
  static bool LotOf(const v1::RecallScopeLot& lot, const std::string& party_id) {
    if (lot.holder_at_recall() == party_id || lot.current().holder_party_id() == party_id) {
      return true;
    }
    for (const v1::RecallAckRecord& ack : lot.acks()) {
      if (ack.party_id() == party_id) return true;
    }
    return false;
  }

  // Keeps only the lots (and the holder line) of `party_id`; false when none is left. The
  // recall's own fields (batch, reason, status, totals) stay: they are what the holder is told.
  static bool LimitToLotsOf(const std::string& party_id, std::vector<v1::RecallScopeLot*>& lots,
                            v1::RecallView& view) {
    lots.erase(std::remove_if(lots.begin(), lots.end(),
                              [&](const v1::RecallScopeLot* lot) { return !LotOf(*lot, party_id); }),
               lots.end());
    auto* holders = view.mutable_holders();
    holders->erase(std::remove_if(holders->begin(), holders->end(),
                                  [&](const v1::HolderAckStatus& h) {
                                    return h.party_id() != party_id;
                                  }),
                   holders->end());
    return !lots.empty();
  }

  absl::StatusOr<bool> NamesLotOf(const v1::RecallSummary& summary, const std::string& party_id) {
    google::protobuf::RepeatedPtrField<v1::RecallScopeLot> stored;
    if (auto s = ReadScopeLots(source_.db(), summary.recall_id(), &stored); !s.ok()) return s;
    std::vector<v1::RecallScopeLot*> lots(stored.pointer_begin(), stored.pointer_end());
    if (auto s = FillAcks(source_.db(), summary.recall_id(), lots); !s.ok()) return s;
    // The stored scope has no current state: a lot the party holds now that it did not hold
    // at the recall (a return, a later receive) is found through the batch.
    if (auto s = FillCurrent(source_.db(), lots, CurrentState::kSummary); !s.ok()) return s;
    for (const v1::RecallScopeLot* lot : lots) {
      if (LotOf(*lot, party_id)) return true;
    }
    return false;
  }

  absl::Status List(const v1::ListRecallsRequest& request, const Caller& caller,
                    v1::ListRecallsResponse& response) {
    if (!v1::RecallStatus_IsValid(request.status())) {
      return absl::InvalidArgumentError(absl::StrCat("status: unknown value ", request.status()));
    }
    std::string batch_id;
    if (!request.batch_id().empty()) {
      auto id = domain::BatchIdOfTraceCode(request.batch_id(), "batch_id");
      if (!id.ok()) return id.status();
      batch_id = *std::move(id);
    }
    const std::string filters = absl::StrCat("recalls\n", request.status(), "\n", batch_id);
    auto page = ParsePageRequest(request.page_size(), request.page_token(), filters);
    if (!page.ok()) return page.status();
    uint64_t after_seq = UINT64_MAX;
    if (page->has_position && !absl::SimpleAtoi(page->after, &after_seq)) {
      return absl::InvalidArgumentError("page_token: not a token this server made");
    }
    auto recalls = source_.state().Recalls();
    if (!recalls.ok()) return recalls.status();
    // Newest first.
    std::sort(recalls->begin(), recalls->end(),
              [](const v1::RecallSummary& a, const v1::RecallSummary& b) {
                return a.seq() > b.seq();
              });
    std::string last_seq;
    bool more = false;
    for (v1::RecallSummary& summary : *recalls) {
      if (page->has_position && summary.seq() >= after_seq) continue;
      if (request.status() != v1::RECALL_STATUS_UNSPECIFIED &&
          summary.status() != request.status()) {
        continue;
      }
      if (!batch_id.empty()) {
        auto in_scope = ScopeContains(summary, batch_id);
        if (!in_scope.ok()) return in_scope.status();
        if (!*in_scope) continue;
      }
      if (!HasOversight(caller)) {
        auto names = NamesLotOf(summary, caller.party_id);
        if (!names.ok()) return names.status();
        if (!*names) continue;
      }
      if (static_cast<size_t>(response.recalls_size()) == page->size) {
        more = true;
        break;
      }
      last_seq = absl::StrCat(summary.seq());
      *response.add_recalls() = std::move(summary);
    }
    if (more) response.set_next_page_token(MakePageToken(filters, last_seq));
    return absl::OkStatus();
  }

  absl::StatusOr<bool> ScopeContains(const v1::RecallSummary& summary,
                                     const std::string& batch_id) {
    if (summary.batch_id() == batch_id) return true;
    return ScopeHasLot(source_.db(), summary.recall_id(), batch_id);
  }

  // The CSV of the whole scope, every lot with its acknowledgements and state (the export is
  // for oversight only, so nothing is trimmed).
  absl::StatusOr<std::string> BuildCsv(const v1::ExportRecallCsvRequest& request,
                                       const Caller& caller) {
    if (!v1::RecallCsvColumn_IsValid(request.sort_by())) {
      return absl::InvalidArgumentError(
          absl::StrCat("sort_by: unknown column ", request.sort_by()));
    }
    v1::GetRecallRequest whole;
    whole.set_recall_id(request.recall_id());
    whole.set_form(v1::RECALL_SCOPE_FORM_LOTS);
    auto view = Get(whole, caller);
    if (!view.ok()) return view.status();
    RecallCsvContext context;
    for (const v1::RecallScopeLot& lot : view->lots()) {
      if (!context.parties.contains(lot.holder_at_recall())) {
        auto party = source_.state().Party(lot.holder_at_recall());
        if (party.ok()) {
          context.parties.emplace(lot.holder_at_recall(), *std::move(party));
        } else if (!absl::IsNotFound(party.status())) {
          return party.status();
        }
      }
      if (!context.herbs.contains(lot.herb_code())) {
        auto herb = source_.state().Herb(lot.herb_code());
        if (herb.ok()) {
          context.herbs.emplace(lot.herb_code(), *std::move(herb));
        } else if (!absl::IsNotFound(herb.status())) {
          return herb.status();
        }
      }
    }
    return RecallCsv(*view, context, request);
  }

  LogSource& source_;
  Executor& executor_;
  const RecallServiceOptions options_;
  const AccessControl access_;
};

}  // namespace

std::unique_ptr<v1::Recall::CallbackService> NewRecallService(LogSource& source,
                                                              Executor& executor,
                                                              RecallServiceOptions options) {
  return std::make_unique<RecallServiceImpl>(source, executor, options);
}

}  // namespace herbtrace::server
