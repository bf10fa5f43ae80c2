#include "services/server/recall_service.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/domain/identifiers.h"
#include "services/server/access_policy.h"
#include "services/server/paging.h"
#include "services/server/reactors.h"
#include "services/server/recall_csv.h"
#include "services/server/trace_reads.h"

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
      auto view = LoadRecall(request->recall_id());
      if (!view.ok()) return view.status();
      if (!HasOversight(*caller)) {
        if (!LimitToLotsOf(caller->party_id, *view)) {
          return Denied(*caller, "recall_id",
                        absl::StrCat("recall ", request->recall_id(), ", which names no lot of ",
                                     caller->party_id, ","),
                        "regulators, the market operator and the holders of lots in its scope");
        }
      }
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
            if (auto caller = access_.Admit(*context, Rpc::kRecallExportRecallCsv);
                !caller.ok()) {
              return caller.status();
            }
            auto csv = BuildCsv(state->request);
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
  // The recall with each scope lot's current state filled in, and the size it reflects.
  absl::StatusOr<v1::RecallView> LoadRecall(const std::string& recall_id) {
    if (auto s = domain::ValidateEventId(recall_id, "recall_id"); !s.ok()) return s;
    auto as_of = source_.Size();
    if (!as_of.ok()) return as_of.status();
    auto view = source_.state().Recall(recall_id);
    if (absl::IsNotFound(view.status()) && source_.is_replica()) {
      if (auto s = source_.CatchUp(); !s.ok()) return s;
      view = source_.state().Recall(recall_id);
    }
    if (absl::IsNotFound(view.status())) {
      return absl::NotFoundError(absl::StrCat("recall_id: ", recall_id, " is not in the log"));
    }
    if (!view.ok()) return view.status();
    uint64_t reflected = std::max(*as_of, view->seq() + 1);
    for (v1::RecallScopeLot& lot : *view->mutable_lots()) {
      if (lot.has_current() && !lot.current().batch_id().empty()) continue;
      auto current = ReadBatch(source_, lot.batch_id(), *as_of);
      if (!current.ok()) return current.status();
      reflected = std::max(reflected, current->as_of_tree_size());
      *lot.mutable_current() = *std::move(current);
    }
    view->set_as_of_tree_size(std::max(reflected, view->as_of_tree_size()));
    return view;
  }

  // A lot of `party_id` now or at the recall, or one it acknowledged.
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
  static bool LimitToLotsOf(const std::string& party_id, v1::RecallView& view) {
    auto* lots = view.mutable_lots();
    lots->erase(std::remove_if(lots->begin(), lots->end(),
                               [&](const v1::RecallScopeLot& lot) { return !LotOf(lot, party_id); }),
                lots->end());
    auto* holders = view.mutable_holders();
    holders->erase(std::remove_if(holders->begin(), holders->end(),
                                  [&](const v1::HolderAckStatus& h) {
                                    return h.party_id() != party_id;
                                  }),
                   holders->end());
    return !lots->empty();
  }

  absl::StatusOr<bool> NamesLotOf(const v1::RecallSummary& summary, const std::string& party_id) {
    auto view = source_.state().Recall(summary.recall_id());
    if (!view.ok()) return view.status();
    for (const v1::RecallScopeLot& lot : view->lots()) {
      if (LotOf(lot, party_id)) return true;
      // The stored scope has no current state: a lot the party holds now that it did not hold
      // at the recall (a return, a later receive) is found through the batch.
      auto batch = source_.state().Batch(lot.batch_id());
      if (batch.ok() && batch->holder_party_id() == party_id) return true;
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
    auto view = source_.state().Recall(summary.recall_id());
    if (!view.ok()) return view.status();
    for (const v1::RecallScopeLot& lot : view->lots()) {
      if (lot.batch_id() == batch_id) return true;
    }
    return false;
  }

  absl::StatusOr<std::string> BuildCsv(const v1::ExportRecallCsvRequest& request) {
    if (!v1::RecallCsvColumn_IsValid(request.sort_by())) {
      return absl::InvalidArgumentError(
          absl::StrCat("sort_by: unknown column ", request.sort_by()));
    }
    auto view = LoadRecall(request.recall_id());
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
