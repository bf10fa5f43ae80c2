#include "services/server/trace_service.h"

#include <cstdint>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "services/domain/identifiers.h"
#include "services/server/access_policy.h"
#include "services/server/batch_custody.h"
#include "services/server/event_views.h"
#include "services/server/checkpoints.h"
#include "services/server/lineage_walk.h"
#include "services/server/reactors.h"
#include "services/server/registry_lookup.h"
#include "services/server/trace_reads.h"
#include "services/server/trade_terms.h"

namespace herbtrace::server {
namespace {

absl::Status CheckResponseSize(const google::protobuf::Message& response, size_t max,
                               absl::string_view what, absl::string_view advice) {
  const size_t size = response.ByteSizeLong();
  if (size > max) {
    return absl::ResourceExhaustedError(absl::StrCat(what, " is ", size,
                                                     " bytes, above the server's maximum of ",
                                                     max, " for one response", advice));
  }
  return absl::OkStatus();
}

absl::Status TooManyEntries(absl::string_view what, size_t count, size_t max) {
  return absl::ResourceExhaustedError(absl::StrCat(what, " rests on ", count,
                                                   " log entries, above the server's maximum of ",
                                                   max, " for one response"));
}

// Party ids worth listing: a party id has 14 digits (a carrier may be named in free text).
void AddParty(std::set<std::string>& ids, const std::string& id) {
  if (domain::ValidatePartyId(id, "").ok()) ids.insert(id);
}

class TraceServiceImpl final : public v1::Trace::CallbackService {
 public:
  TraceServiceImpl(LogSource& source, Executor& executor, TraceServiceOptions options)
      : source_(source),
        executor_(executor),
        options_(options),
        access_(source.state(), options_.callers) {}

  grpc::ServerUnaryReactor* GetBatch(grpc::CallbackServerContext* context,
                                     const v1::GetBatchRequest* request,
                                     v1::BatchState* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kTraceGetBatch); !caller.ok()) {
        return caller.status();
      }
      auto batch = ReadRequestedBatch(request->code());
      if (!batch.ok()) return batch.status();
      *response = std::move(batch->state);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetHistory(grpc::CallbackServerContext* context,
                                       const v1::GetHistoryRequest* request,
                                       v1::GetHistoryResponse* response) override {
    // Answered on the gRPC thread unless it must wait for a new checkpoint or a catch-up, or
    // the history is long.
    return AnswerHereOrRun(
        context, executor_,
        [this, context, request, response](Waiting waiting) -> absl::Status {
          if (auto caller = access_.Admit(*context, Rpc::kTraceGetHistory); !caller.ok()) {
            return caller.status();
          }
          return History(*request, *response, waiting);
        },
        [response] { response->Clear(); });
  }

  grpc::ServerUnaryReactor* GetUpstream(grpc::CallbackServerContext* context,
                                        const v1::GetUpstreamRequest* request,
                                        v1::GetUpstreamResponse* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kTraceGetUpstream); !caller.ok()) {
        return caller.status();
      }
      return Upstream(*request, *response, [context] { return context->IsCancelled(); });
    });
  }

  grpc::ServerUnaryReactor* GetDownstream(grpc::CallbackServerContext* context,
                                          const v1::GetDownstreamRequest* request,
                                          v1::GetDownstreamResponse* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      auto caller = access_.Admit(*context, Rpc::kTraceGetDownstream);
      if (!caller.ok()) return caller.status();
      return Downstream(*request, *caller, *response,
                        [context] { return context->IsCancelled(); });
    });
  }

  grpc::ServerUnaryReactor* GetTradeTerms(grpc::CallbackServerContext* context,
                                          const v1::GetTradeTermsRequest* request,
                                          v1::TradeTerms* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      auto caller = access_.Admit(*context, Rpc::kTraceGetTradeTerms);
      if (!caller.ok()) return caller.status();
      auto terms = ReadTradeTerms(source_, request->trade_event_id(), *caller);
      if (!terms.ok()) return terms.status();
      *response = *std::move(terms);
      return absl::OkStatus();
    });
  }

 private:
  // A request's trace code resolved to its batch, and the batch's state at the log's size then.
  struct RequestedBatch {
    std::string batch_id;
    uint64_t as_of = 0;  // the tree size the state was read at; read other lots at it too
    v1::BatchState state;
  };

  absl::StatusOr<RequestedBatch> ReadRequestedBatch(const std::string& code,
                                                    Waiting waiting = Waiting::kAllowed) {
    auto batch_id = domain::BatchIdOfTraceCode(code, "code");
    if (!batch_id.ok()) return batch_id.status();
    auto read = ReadBatchNow(source_, *batch_id, waiting);
    if (!read.ok()) return read.status();
    return RequestedBatch{*std::move(batch_id), read->log_size, std::move(read->state)};
  }

  // The lineage from `root` along `neighbours`, within the options' bounds; `what` names it in
  // a ResourceExhausted.
  absl::StatusOr<LineageWalk> Walk(const RequestedBatch& root, const NeighboursFn& neighbours,
                                   const std::string& what,
                                   const std::function<bool()>& cancelled) {
    const WalkLimits limits{options_.max_lineage_lots, options_.max_lineage_links, what};
    return WalkLineage(root.batch_id, neighbours, limits, cancelled);
  }

  // A walked lot's state at the size the root was read at (the root's own state is reused).
  absl::StatusOr<v1::BatchState> LotState(const WalkedLot& lot, const RequestedBatch& root) {
    if (lot.depth == 0) return root.state;
    return ReadBatch(source_, lot.batch_id, root.as_of);
  }

  // The parties of `ids` without their keys; an id the registry does not know is left out.
  absl::StatusOr<std::vector<v1::Party>> KnownParties(const std::set<std::string>& ids) {
    std::vector<v1::Party> parties;
    for (const std::string& id : ids) {
      auto party = PartyRecord(source_.db(), id);
      if (!party.ok()) return party.status();
      if (party->has_value()) parties.push_back(**std::move(party));
    }
    return parties;
  }

  absl::Status History(const v1::GetHistoryRequest& request, v1::GetHistoryResponse& response,
                       Waiting waiting) {
    auto batch = ReadRequestedBatch(request.code(), waiting);
    if (!batch.ok()) return batch.status();
    auto seqs = source_.view().BatchHistory(batch->batch_id);
    if (!seqs.ok()) return seqs.status();
    const std::string what = absl::StrCat("the history of ", batch->batch_id);
    if (seqs->size() > options_.max_entries) {
      return TooManyEntries(what, seqs->size(), options_.max_entries);
    }
    if (waiting == Waiting::kRefused && seqs->size() > options_.max_entries_answered_here) {
      return WouldWait(absl::StrCat("reading ", seqs->size(), " entries"));
    }
    const uint64_t needed = seqs->empty() ? 0 : seqs->back() + 1;
    auto tree = ResolveProofTree(source_, request.tree_size(), needed, "tree_size", waiting);
    if (!tree.ok()) return tree.status();
    // Entries past the proof tree cannot be proven in it: a replica whose latest checkpoint
    // lags, or a caller's older checkpoint. The state's as_of_tree_size tells the caller.
    const auto covered = std::lower_bound(seqs->begin(), seqs->end(), tree->size);
    // ResolveProofTree found the tree within the log, which was at least as_of entries then.
    const uint64_t log_size = std::max(batch->as_of, tree->size);
    if (auto s = AddProvenEntries(
            source_.view(), absl::MakeConstSpan(seqs->data(), covered - seqs->begin()),
            tree->size, [&response] { return response.add_entries()->mutable_entry(); },
            log_size);
        !s.ok()) {
      return s;
    }
    *response.mutable_state() = std::move(batch->state);
    if (tree->checkpoint.has_value()) *response.mutable_checkpoint() = *std::move(tree->checkpoint);
    return CheckResponseSize(response, options_.max_response_bytes, what, "");
  }

  absl::Status Upstream(const v1::GetUpstreamRequest& request, v1::GetUpstreamResponse& response,
                        const std::function<bool()>& cancelled) {
    auto root = ReadRequestedBatch(request.code());
    if (!root.ok()) return root.status();

    const std::string what = absl::StrCat("upstream of ", root->batch_id);
    auto walk = Walk(
        *root, [this](const std::string& id) { return source_.state().Parents(id); }, what,
        cancelled);
    if (!walk.ok()) return walk.status();

    EventCache events(source_.view());
    auto sender_of = [&events](const std::string& transfer_event_id) -> std::string {
      auto transfer = events.Find(transfer_event_id);
      return transfer.ok() ? TransferSender((*transfer)->event) : std::string();
    };
    std::set<uint64_t> needed;  // entries behind the lineage, for include_proofs
    std::set<std::string> party_ids;
    std::set<std::string> base_ids;
    std::set<std::string> limits_versions;
    absl::flat_hash_map<std::string, uint64_t> created_at;  // lot → seq of its creating entry
    uint64_t reflected = root->state.as_of_tree_size();

    for (const WalkedLot& lot : walk->lots) {
      if (cancelled()) return CancelledStatus();
      absl::StatusOr<v1::BatchState> state = LotState(lot, *root);
      if (!state.ok()) return state.status();
      reflected = std::max(reflected, state->as_of_tree_size());
      AddParty(party_ids, state->holder_party_id());
      AddParty(party_ids, state->warehouse_party_id());
      AddParty(party_ids, state->in_transit().from_party_id());
      AddParty(party_ids, state->in_transit().to_party_id());

      auto seqs = source_.view().BatchHistory(lot.batch_id);
      if (!seqs.ok()) return seqs.status();
      if (seqs->empty()) {
        return absl::DataLossError(absl::StrCat("batch_entries: no entry for ", lot.batch_id));
      }
      if (needed.size() + seqs->size() > options_.max_entries) {
        return TooManyEntries(what, needed.size() + seqs->size(), options_.max_entries);
      }
      created_at[lot.batch_id] = seqs->front();
      if (auto s = events.Load(*seqs); !s.ok()) return s;
      for (uint64_t seq : *seqs) {
        needed.insert(seq);
        auto logged = events.Get(seq);
        if (!logged.ok()) return logged.status();
        AddParty(party_ids, (*logged)->event.party_id());
        if (auto harvest = HarvestFromEvent(**logged, lot.batch_id); harvest.has_value()) {
          base_ids.insert(harvest->base_id());
          *response.add_harvests() = *std::move(harvest);
        }
        for (v1::CustodyStep& step : CustodyStepsFromEvent(**logged, lot.batch_id, sender_of)) {
          AddParty(party_ids, step.from_party_id());
          AddParty(party_ids, step.to_party_id());
          *response.add_custody() = std::move(step);
        }
      }
      // Every judged test sets the lot's latest verdict (never UNSPECIFIED): a lot without one
      // was never tested, and its (empty) range of tests need not be scanned.
      absl::StatusOr<std::vector<v1::JudgedTest>> tests = std::vector<v1::JudgedTest>();
      if (state->latest_verdict() != v1::VERDICT_UNSPECIFIED) {
        tests = source_.state().Tests(lot.batch_id);
      }
      if (!tests.ok()) return tests.status();
      for (v1::JudgedTest& test : *tests) {
        AddParty(party_ids, test.lab_party_id());
        if (!test.limits_version().empty()) limits_versions.insert(test.limits_version());
        needed.insert(test.seq());
        *response.add_tests() = std::move(test);
      }
      *response.add_batches() = *std::move(state);
    }

    // Upstream links run child → parent; the child's creating entry records the edge.
    for (const auto& [child, parent] : walk->links) {
      auto logged = events.Get(created_at[child]);
      if (!logged.ok()) return logged.status();
      *response.add_edges() = EdgeFromEvent(**logged, parent, child);
    }

    auto parties = KnownParties(party_ids);
    if (!parties.ok()) return parties.status();
    for (const std::string& id : base_ids) {
      auto base = source_.state().Base(id);
      if (absl::IsNotFound(base.status())) continue;
      if (!base.ok()) return base.status();
      needed.insert(base->registered_seq());
      needed.insert(base->updated_seq());
      *response.add_bases() = *std::move(base);
    }

    if (request.include_proofs()) {
      if (auto s = AddRegistrationEntries(events, *parties, limits_versions, needed); !s.ok()) {
        return s;
      }
      if (needed.size() > options_.max_entries) {
        return TooManyEntries(what, needed.size(), options_.max_entries);
      }
      const uint64_t need_size = needed.empty() ? 0 : *needed.rbegin() + 1;
      auto tree = ResolveProofTree(source_, request.tree_size(), need_size, "tree_size");
      if (!tree.ok()) return tree.status();
      // As in History: what the proof tree does not cover is left out, and as_of_tree_size
      // tells the caller to retry for a later checkpoint.
      std::vector<uint64_t> proven(needed.begin(), needed.lower_bound(tree->size));
      if (auto s = AddProvenEntries(source_.view(), proven, tree->size,
                                    [&response] { return response.add_entries(); });
          !s.ok()) {
        return s;
      }
      if (tree->checkpoint.has_value()) *response.mutable_checkpoint() = *tree->checkpoint;
    } else if (request.tree_size() == 0) {
      auto latest = source_.LatestCheckpoint();
      if (latest.ok()) {
        auto checkpoint = CosignedCheckpoint(source_, *latest);
        if (!checkpoint.ok()) return checkpoint.status();
        *response.mutable_checkpoint() = *std::move(checkpoint);
      }
    }

    for (v1::Party& party : *parties) *response.add_parties() = std::move(party);
    response.set_batch_id(root->batch_id);
    response.set_as_of_tree_size(reflected);
    return CheckResponseSize(response, options_.max_response_bytes, "the upstream response",
                             request.include_proofs()
                                 ? "; fetch the entries with Ledger.GetEntries instead"
                                 : "");
  }

  // The registrations a verifier needs beside the lineage's own entries: of every party named,
  // of every key that signed an entry (and its revocation), of the quality-limit versions the
  // tests were judged by, the herb catalog in force, and the genesis entry the registry starts
  // from.
  absl::Status AddRegistrationEntries(EventCache& events, const std::vector<v1::Party>& parties,
                                      const std::set<std::string>& limits_versions,
                                      std::set<uint64_t>& needed) {
    needed.insert(0);
    for (const v1::Party& party : parties) {
      needed.insert(party.registered_seq());
      needed.insert(party.updated_seq());
    }
    std::set<std::string> key_ids;
    if (auto s = events.Load(std::vector<uint64_t>(needed.begin(), needed.end())); !s.ok()) {
      return s;
    }
    for (uint64_t seq : needed) {
      auto logged = events.Get(seq);
      if (!logged.ok()) return logged.status();
      const v1::LedgerEntry& entry = (*logged)->entry;
      key_ids.insert(entry.has_bundle() ? entry.bundle().key_id() : entry.signed_event().key_id());
    }
    for (const std::string& key_id : key_ids) {
      auto key = source_.state().Key(key_id);
      if (absl::IsNotFound(key.status())) continue;
      if (!key.ok()) return key.status();
      needed.insert(key->registered_seq());
      if (key->status() == v1::KEY_STATUS_REVOKED) needed.insert(key->revoked_at_seq());
      // Usually a party already listed: its registration entries are in `needed` already.
      const bool listed = std::any_of(parties.begin(), parties.end(), [&key](const v1::Party& p) {
        return p.party_id() == key->party_id();
      });
      if (listed) continue;
      auto owner = PartyRecord(source_.db(), key->party_id());
      if (!owner.ok()) return owner.status();
      if (owner->has_value()) {
        needed.insert((*owner)->registered_seq());
        needed.insert((*owner)->updated_seq());
      }
    }
    for (const std::string& version : limits_versions) {
      auto seq = LimitsSeq(source_.db(), version);
      if (!seq.ok()) return seq.status();
      if (seq->has_value()) needed.insert(**seq);
    }
    auto catalog = CurrentCatalog(source_.db());
    if (!catalog.ok()) return catalog.status();
    if (catalog->has_value()) needed.insert((*catalog)->seq);
    return absl::OkStatus();
  }

  absl::Status Downstream(const v1::GetDownstreamRequest& request, const Caller& caller,
                          v1::GetDownstreamResponse& response,
                          const std::function<bool()>& cancelled) {
    auto root = ReadRequestedBatch(request.code());
    if (!root.ok()) return root.status();
    if (!HasOversight(caller)) {
      auto held = HoldsOrHeld(source_, root->state, caller.party_id);
      if (!held.ok()) return held.status();
      if (!*held) {
        return Denied(caller, "code",
                      absl::StrCat("the downstream closure of batch ", root->batch_id),
                      "regulators, the market operator and the parties that hold or held it");
      }
    }

    auto walk = Walk(
        *root, [this](const std::string& id) { return source_.state().Children(id); },
        absl::StrCat("downstream of ", root->batch_id), cancelled);
    if (!walk.ok()) return walk.status();

    uint64_t reflected = root->state.as_of_tree_size();
    uint64_t total = 0;
    std::set<std::string> holders;
    // lot → seq of its creating entry, which records the edge from its parent.
    absl::flat_hash_map<std::string, uint64_t> created_at;
    for (const WalkedLot& lot : walk->lots) {
      if (cancelled()) return CancelledStatus();
      absl::StatusOr<v1::BatchState> state = LotState(lot, *root);
      if (!state.ok()) return state.status();
      created_at[lot.batch_id] = state->created_seq();
      reflected = std::max(reflected, state->as_of_tree_size());
      // Saturates: the sum of many lots' grams is reported, never wrapped.
      total = state->remaining_grams() > UINT64_MAX - total ? UINT64_MAX
                                                             : total + state->remaining_grams();
      if (lot.depth > 0 && state->remaining_grams() == 0 && !request.include_empty()) continue;
      AddParty(holders, state->holder_party_id());
      v1::DownstreamLot* out = response.add_lots();
      out->set_depth(lot.depth);
      *out->mutable_state() = *std::move(state);
    }

    // Downstream links run parent → child; the child's creating entry records the edge.
    EventCache events(source_.view());
    for (const auto& [parent, child] : walk->links) {
      // The state names it (no lot is created at seq 0, the genesis; 0 means a state without it).
      uint64_t created = created_at[child];
      if (created == 0) {
        auto seqs = source_.view().BatchHistory(child);
        if (!seqs.ok()) return seqs.status();
        if (seqs->empty()) {
          return absl::DataLossError(absl::StrCat("batch_entries: no entry for ", child));
        }
        created = seqs->front();
      }
      auto logged = events.Get(created);
      if (!logged.ok()) return logged.status();
      *response.add_edges() = EdgeFromEvent(**logged, parent, child);
    }
    auto parties = KnownParties(holders);
    if (!parties.ok()) return parties.status();
    for (v1::Party& party : *parties) *response.add_parties() = std::move(party);
    response.set_batch_id(root->batch_id);
    response.set_total_remaining_grams(total);
    response.set_as_of_tree_size(reflected);
    return CheckResponseSize(response, options_.max_response_bytes, "the downstream response", "");
  }

  LogSource& source_;
  Executor& executor_;
  const TraceServiceOptions options_;
  const AccessControl access_;
};

}  // namespace

std::unique_ptr<v1::Trace::CallbackService> NewTraceService(LogSource& source, Executor& executor,
                                                            TraceServiceOptions options) {
  return std::make_unique<TraceServiceImpl>(source, executor, options);
}

}  // namespace herbtrace::server
