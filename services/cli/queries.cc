// batch, history, trace up|down, checkpoint, recall show|list|export: reading the log's derived
// state. Tables for people (herbs as "黄芪 Huangqi", parties by name), JSON with --json.
#include <optional>
#include <set>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "crypto/merkle.h"
#include "herbtrace/v1/entry.pb.h"
#include "services/cli/commands.h"
#include "services/cli/event_builder.h"
#include "services/cli/flags.h"
#include "services/cli/provenance_check.h"
#include "services/cli/units.h"
#include "services/domain/file_io.h"
#include "services/domain/identifiers.h"

namespace herbtrace::cli {
namespace {

absl::StatusOr<std::string> CodeArg(Context& ctx, size_t i) {
  auto code = ctx.Arg(i, "a batch or package code");
  if (!code.ok()) return code.status();
  if (auto s = domain::ValidateTraceCode(*code, "code"); !s.ok()) return AsUsage(s);
  return code;
}

template <typename Request, typename Response, typename Call>
absl::StatusOr<Response> Unary(Context& ctx, const Request& request, absl::string_view rpc,
                               Call call) {
  auto client = ctx.client();
  if (!client.ok()) return client.status();
  Response response;
  auto context = (*client)->NewContext();
  if (auto s =
          FromGrpc(call(**client, context.get(), request, &response), rpc, (*client)->target());
      !s.ok()) {
    return s;
  }
  return response;
}

// "安国市某某合作社 (13068300000001)" when the party is known, else the id.
class PartyNames {
 public:
  explicit PartyNames(const google::protobuf::RepeatedPtrField<v1::Party>& parties) {
    for (const v1::Party& p : parties) names_[p.party_id()] = p.name();
  }
  std::string Label(const std::string& id) const {
    auto it = names_.find(id);
    if (it == names_.end() || it->second.empty()) return id;
    return absl::StrCat(it->second, " (", id, ")");
  }

 private:
  std::map<std::string, std::string> names_;
};

std::string Grams(uint64_t grams) { return FormatGrams(grams); }

// One line about what an event did, for history tables.
std::string EventSummary(const v1::Event& e, HerbNames& herbs) {
  auto q = [](const v1::BatchQuantity& b) {
    return absl::StrCat(b.batch_id(), " ", Grams(b.grams()));
  };
  switch (e.kind_case()) {
    case v1::Event::kHarvest:
      return absl::StrCat(herbs.Label(e.harvest().herb_code()), " ", Grams(e.harvest().grams()),
                          " from base ", e.harvest().base_id(), " on ",
                          domain::FormatDate(e.harvest().harvest_date()));
    case v1::Event::kProcess:
      return absl::StrCat(EnumLabel(e.process().kind()), ": ", q(e.process().input()), " → ",
                          e.process().output_batch_id(), " ", Grams(e.process().output_grams()));
    case v1::Event::kSplit: {
      std::vector<std::string> outs;
      for (const auto& o : e.split().outputs()) outs.push_back(q(o));
      return absl::StrCat(e.split().input_batch_id(), " → ", absl::StrJoin(outs, ", "));
    }
    case v1::Event::kMerge: {
      std::vector<std::string> ins;
      for (const auto& i : e.merge().inputs()) ins.push_back(q(i));
      return absl::StrCat(absl::StrJoin(ins, " + "), " → ", e.merge().output_batch_id(), " ",
                          Grams(e.merge().output_grams()));
    }
    case v1::Event::kTransform:
      return absl::StrCat(e.transform().inputs_size(), " lots → ", e.transform().outputs_size(),
                          " lots");
    case v1::Event::kShip: {
      std::vector<std::string> lots;
      for (const auto& b : e.ship().batches()) lots.push_back(q(b));
      return absl::StrCat("to ", e.ship().to_party_id(), ": ", absl::StrJoin(lots, ", "));
    }
    case v1::Event::kReceive: {
      std::vector<std::string> lots;
      for (const auto& b : e.receive().received()) lots.push_back(q(b));
      return absl::StrCat("of ", e.receive().transfer_event_id(), ": ", absl::StrJoin(lots, ", "));
    }
    case v1::Event::kStore:
      return absl::StrCat(EnumLabel(e.store().action()), " ", e.store().warehouse_party_id(), " ",
                          e.store().location());
    case v1::Event::kTrade:
      return absl::StrCat(e.trade().seller_party_id(), " → ", e.trade().buyer_party_id(), ": ",
                          q(e.trade().batch()), " (price committed)");
    case v1::Event::kDispense:
      return absl::StrCat(Grams(e.dispense().grams()), " to ", EnumLabel(e.dispense().recipient()),
                          " ", e.dispense().recipient_party_id());
    case v1::Event::kQualityTest:
      return absl::StrCat("sample ", e.quality_test().sample_id(), ", ",
                          e.quality_test().results_size(), " results, limits ",
                          e.quality_test().limits_version());
    case v1::Event::kRecall:
      return absl::StrCat(EnumLabel(e.recall().severity()), ": ", e.recall().reason());
    case v1::Event::kRecallAck:
      return absl::StrCat(EnumLabel(e.recall_ack().action()), " ", Grams(e.recall_ack().grams()),
                          " (recall ", e.recall_ack().recall_id(), ")");
    case v1::Event::kReleaseHold:
      return e.release_hold().reason();
    case v1::Event::kRegisterParty:
      return absl::StrCat(e.register_party().party_id(), " ", e.register_party().name());
    case v1::Event::kRegisterKey:
      return absl::StrCat("key for ", e.register_key().party_id());
    case v1::Event::kRevokeKey:
      return absl::StrCat("key ", e.revoke_key().key_id());
    case v1::Event::kRegisterBase:
      return absl::StrCat(e.register_base().base_id(), " ", e.register_base().name());
    case v1::Event::kLoadHerbCatalog:
      return absl::StrCat("version ", e.load_herb_catalog().version(), ", ",
                          e.load_herb_catalog().herbs_size(), " herbs");
    case v1::Event::kLoadQualityLimits:
      return absl::StrCat("version ", e.load_quality_limits().version(), ", ",
                          e.load_quality_limits().rows_size(), " rows");
    default:
      return "";
  }
}

std::string StatusLabel(v1::BatchStatus s) { return EnumLabel(s); }

void PrintBatchState(Context& ctx, const v1::BatchState& b) {
  std::vector<std::pair<std::string, std::string>> f = {
      {"batch", b.batch_id()},
      {"herb",
       absl::StrCat(ctx.herbs().Label(b.herb_code()),
                    ctx.herbs().Find(b.herb_code()) ? absl::StrCat(" (", b.herb_code(), ")") : "")},
      {"holder", b.holder_party_id()},
      {"remaining", absl::StrCat(Grams(b.remaining_grams()), " of ", Grams(b.created_grams()))},
      {"status", StatusLabel(b.status())},
  };
  if (b.has_in_transit()) {
    const v1::PendingTransfer& t = b.in_transit();
    f.emplace_back("in transit", absl::StrCat(EnumLabel(t.kind()), " ", t.transfer_event_id(),
                                              " to ", t.to_party_id(), ", ", Grams(t.grams())));
  }
  if (!b.warehouse_party_id().empty()) {
    f.emplace_back("stored", absl::StrCat(b.warehouse_party_id(), " ", b.location()));
  }
  if (!b.origin_batch_ids().empty()) {
    f.emplace_back("origins", absl::StrJoin(b.origin_batch_ids(), ", "));
  }
  if (!b.parent_batch_ids().empty()) {
    f.emplace_back("made from", absl::StrJoin(b.parent_batch_ids(), ", "));
  }
  f.emplace_back("created",
                 absl::StrCat(FormatTimestamp(b.created_at()), " (seq ", b.created_seq(), ")"));
  f.emplace_back("last entry", absl::StrCat("seq ", b.last_seq(), ", leaf ",
                                            absl::BytesToHexString(b.head_leaf_hash())));
  for (const v1::Hold& h : b.holds()) {
    f.emplace_back("HOLD", absl::StrCat(h.reason(), " (batch ", h.source_batch_id(), ", test seq ",
                                        h.test_seq(), ")"));
  }
  for (const std::string& r : b.recall_ids()) f.emplace_back("RECALL", r);
  if (b.latest_verdict() != v1::VERDICT_UNSPECIFIED) {
    f.emplace_back("latest test", EnumLabel(b.latest_verdict()));
  }
  f.emplace_back("as of", absl::StrCat("tree size ", b.as_of_tree_size()));
  PrintFields(ctx.out(), f);
}

nlohmann::json WithHerbs(Context& ctx, nlohmann::json json, const std::set<std::string>& codes) {
  json["herb_names"] = ctx.herbs().Json(std::vector<std::string>(codes.begin(), codes.end()));
  return json;
}

}  // namespace

absl::Status RunBatch(Context& ctx) {
  auto code = CodeArg(ctx, 1);
  if (!code.ok()) return code.status();
  v1::GetBatchRequest request;
  request.set_code(*code);
  auto state = Unary<v1::GetBatchRequest, v1::BatchState>(
      ctx, request, "Trace.GetBatch",
      [](Client& c, grpc::ClientContext* cc, const auto& req, auto* resp) {
        return c.trace().GetBatch(cc, req, resp);
      });
  if (!state.ok()) return state.status();
  if (ctx.json()) {
    PrintJson(ctx.out(), WithHerbs(ctx, ProtoToJson(*state), {state->herb_code()}));
  } else {
    PrintBatchState(ctx, *state);
  }
  return absl::OkStatus();
}

absl::Status RunHistory(Context& ctx) {
  auto code = CodeArg(ctx, 1);
  if (!code.ok()) return code.status();
  v1::GetHistoryRequest request;
  request.set_code(*code);
  auto history = Unary<v1::GetHistoryRequest, v1::GetHistoryResponse>(
      ctx, request, "Trace.GetHistory",
      [](Client& c, grpc::ClientContext* cc, const auto& req, auto* resp) {
        return c.trace().GetHistory(cc, req, resp);
      });
  if (!history.ok()) return history.status();

  // With --log_key, check each entry's proof against the signed checkpoint, as verify does.
  std::string proofs = "not checked (give --log_key to check them)";
  if (const std::string vkey = absl::GetFlag(FLAGS_log_key); !vkey.empty()) {
    auto verifier = crypto::NoteVerifier::Create(vkey);
    if (!verifier.ok()) return UsageError(absl::StrCat("--log_key: ", verifier.status().message()));
    auto hasher = ctx.hasher();
    if (!hasher.ok()) return hasher.status();
    auto checkpoint = OpenLogCheckpoint(history->checkpoint().note(), **verifier);
    if (!checkpoint.ok()) return checkpoint.status();
    for (const v1::HistoryEntry& h : history->entries()) {
      const v1::ProvenEntry& p = h.entry();
      std::vector<crypto::Digest> path;
      for (const std::string& bytes : p.inclusion_proof().hashes()) {
        auto d = crypto::DigestFromBytes(bytes, "inclusion proof hash");
        if (!d.ok())
          return absl::DataLossError(
              absl::StrCat("entry seq ", p.entry().seq(), ": ", d.status().message()));
        path.push_back(*d);
      }
      const crypto::Digest leaf = crypto::HashLeaf(**hasher, p.entry().entry());
      if (auto s = crypto::VerifyInclusion(**hasher, p.entry().seq(), checkpoint->size, leaf, path,
                                           checkpoint->root_hash);
          !s.ok()) {
        return absl::DataLossError(absl::StrCat("entry seq ", p.entry().seq(),
                                                ": not proven in the checkpoint: ", s.message()));
      }
    }
    proofs = absl::StrCat("all ", history->entries_size(),
                          " verified against the checkpoint of size ", checkpoint->size);
  }

  std::set<std::string> herb_codes = {history->state().herb_code()};
  Table table({"seq", "occurred at", "kind", "party", "what", "leaf hash"});
  nlohmann::json rows = nlohmann::json::array();
  for (const v1::HistoryEntry& h : history->entries()) {
    v1::LedgerEntry entry;
    v1::Event event;
    const bool parsed = entry.ParseFromString(h.entry().entry().entry()) &&
                        event.ParseFromString(entry.signed_event().payload());
    if (event.has_harvest()) herb_codes.insert(event.harvest().herb_code());
    const std::string summary = parsed ? EventSummary(event, ctx.herbs()) : "(does not parse)";
    table.AddRow({absl::StrCat(h.entry().entry().seq()), FormatTimestamp(event.occurred_at()),
                  EventKindName(event), event.party_id(), summary,
                  ShortHexOf(h.entry().entry().leaf_hash())});
    nlohmann::json row = {{"seq", h.entry().entry().seq()},
                          {"leaf_hash", absl::BytesToHexString(h.entry().entry().leaf_hash())},
                          {"event", parsed ? ProtoToJson(event) : nlohmann::json()},
                          {"summary", summary}};
    if (!h.openings().empty()) {
      nlohmann::json openings = nlohmann::json::array();
      for (const v1::Opening& o : h.openings()) openings.push_back(ProtoToJson(o));
      row["openings"] = openings;
    }
    rows.push_back(std::move(row));
  }
  if (ctx.json()) {
    nlohmann::json out = {{"state", ProtoToJson(history->state())},
                          {"checkpoint", ProtoToJson(history->checkpoint())},
                          {"entries", rows},
                          {"proofs", proofs}};
    PrintJson(ctx.out(), WithHerbs(ctx, std::move(out), herb_codes));
    return absl::OkStatus();
  }
  PrintBatchState(ctx, history->state());
  ctx.out() << "\n";
  table.Print(ctx.out());
  ctx.out() << "\ninclusion proofs: " << proofs << "\n";
  return absl::OkStatus();
}

namespace {

absl::Status TraceUp(Context& ctx, const std::string& code) {
  v1::GetUpstreamRequest request;
  request.set_code(code);
  auto up = Unary<v1::GetUpstreamRequest, v1::GetUpstreamResponse>(
      ctx, request, "Trace.GetUpstream",
      [](Client& c, grpc::ClientContext* cc, const auto& req, auto* resp) {
        return c.trace().GetUpstream(cc, req, resp);
      });
  if (!up.ok()) return up.status();
  std::set<std::string> herb_codes;
  for (const auto& b : up->batches()) herb_codes.insert(b.herb_code());
  for (const auto& h : up->harvests()) herb_codes.insert(h.herb_code());
  if (ctx.json()) {
    PrintJson(ctx.out(), WithHerbs(ctx, ProtoToJson(*up), herb_codes));
    return absl::OkStatus();
  }
  const PartyNames parties(up->parties());
  HerbNames& herbs = ctx.herbs();
  ctx.out() << "upstream of " << up->batch_id() << " (来源可知), as of tree size "
            << up->as_of_tree_size() << "\n\nbatches\n";
  Table batches({"batch", "herb", "holder", "remaining", "status", "created"});
  for (const auto& b : up->batches()) {
    batches.AddRow({b.batch_id(), herbs.Label(b.herb_code()), parties.Label(b.holder_party_id()),
                    Grams(b.remaining_grams()), StatusLabel(b.status()),
                    FormatTimestamp(b.created_at())});
  }
  batches.Print(ctx.out());
  if (!up->edges().empty()) {
    ctx.out() << "\nsteps\n";
    Table edges({"from", "to", "step", "consumed", "seq", "at"});
    for (const auto& e : up->edges()) {
      std::string step = EnumLabel(e.kind());
      if (e.kind() == v1::LINEAGE_STEP_KIND_PROCESS) {
        step = absl::StrCat(step, " (", EnumLabel(e.process_kind()), ")");
      }
      edges.AddRow({e.parent_batch_id(), e.child_batch_id(), step, Grams(e.grams_consumed()),
                    absl::StrCat(e.seq()), FormatTimestamp(e.occurred_at())});
    }
    edges.Print(ctx.out());
  }
  ctx.out() << "\nharvests\n";
  Table harvests({"batch", "herb", "grower", "base", "harvested", "grams"});
  std::map<std::string, std::string> base_names;
  for (const auto& b : up->bases()) base_names[b.base_id()] = b.name();
  for (const auto& h : up->harvests()) {
    const std::string base = base_names[h.base_id()].empty()
                                 ? h.base_id()
                                 : absl::StrCat(base_names[h.base_id()], " (", h.base_id(), ")");
    harvests.AddRow({h.batch_id(), herbs.Label(h.herb_code()), parties.Label(h.grower_party_id()),
                     base, domain::FormatDate(h.harvest_date()), Grams(h.grams())});
  }
  harvests.Print(ctx.out());
  if (!up->custody().empty()) {
    ctx.out() << "\ncustody\n";
    Table custody({"batch", "step", "from", "to", "grams", "seq", "at"});
    for (const auto& c : up->custody()) {
      custody.AddRow({c.batch_id(), EnumLabel(c.kind()), parties.Label(c.from_party_id()),
                      parties.Label(c.to_party_id()), Grams(c.grams()), absl::StrCat(c.seq()),
                      FormatTimestamp(c.occurred_at())});
    }
    custody.Print(ctx.out());
  }
  if (!up->tests().empty()) {
    ctx.out() << "\nlab results\n";
    Table tests({"batch", "lab", "verdict", "limits", "results", "seq"});
    for (const auto& t : up->tests()) {
      std::vector<std::string> results;
      for (const auto& r : t.results()) {
        const v1::AnalyteResult& a = r.result();
        const std::string value =
            a.below_loq() ? absl::StrCat("<", FormatMeasurement(a.loq(), a.display_unit()))
                          : FormatMeasurement(a.value(), a.display_unit());
        results.push_back(
            absl::StrCat(a.analyte(), " ", value, r.verdict() == v1::VERDICT_FAIL ? " FAIL" : ""));
      }
      tests.AddRow({t.batch_id(), parties.Label(t.lab_party_id()), EnumLabel(t.verdict()),
                    t.limits_version(), absl::StrJoin(results, "; "), absl::StrCat(t.seq())});
    }
    tests.Print(ctx.out());
  }
  return absl::OkStatus();
}

absl::Status TraceDown(Context& ctx, const std::string& code) {
  v1::GetDownstreamRequest request;
  request.set_code(code);
  request.set_include_empty(absl::GetFlag(FLAGS_include_empty));
  auto down = Unary<v1::GetDownstreamRequest, v1::GetDownstreamResponse>(
      ctx, request, "Trace.GetDownstream",
      [](Client& c, grpc::ClientContext* cc, const auto& req, auto* resp) {
        return c.trace().GetDownstream(cc, req, resp);
      });
  if (!down.ok()) return down.status();
  std::set<std::string> herb_codes;
  for (const auto& l : down->lots()) herb_codes.insert(l.state().herb_code());
  if (ctx.json()) {
    PrintJson(ctx.out(), WithHerbs(ctx, ProtoToJson(*down), herb_codes));
    return absl::OkStatus();
  }
  const PartyNames parties(down->parties());
  ctx.out() << "downstream of " << down->batch_id() << " (去向可追), as of tree size "
            << down->as_of_tree_size() << "\n\n";
  std::map<std::string, std::vector<std::string>> parents;
  for (const auto& e : down->edges()) parents[e.child_batch_id()].push_back(e.parent_batch_id());
  Table lots({"depth", "batch", "made from", "herb", "holder", "remaining", "status"});
  for (const auto& l : down->lots()) {
    const v1::BatchState& s = l.state();
    lots.AddRow(
        {absl::StrCat(l.depth()), absl::StrCat(std::string(2 * l.depth(), ' '), s.batch_id()),
         absl::StrJoin(parents[s.batch_id()], ", "), ctx.herbs().Label(s.herb_code()),
         parties.Label(s.holder_party_id()), Grams(s.remaining_grams()), StatusLabel(s.status())});
  }
  lots.Print(ctx.out());
  ctx.out() << "\n"
            << down->lots_size() << " lots, " << Grams(down->total_remaining_grams())
            << " still held\n";
  return absl::OkStatus();
}

}  // namespace

absl::Status RunTrace(Context& ctx) {
  auto direction = ctx.Arg(1, "a direction: up or down");
  if (!direction.ok()) return direction.status();
  auto code = CodeArg(ctx, 2);
  if (!code.ok()) return code.status();
  if (*direction == "up") return TraceUp(ctx, *code);
  if (*direction == "down") return TraceDown(ctx, *code);
  return UsageError(absl::StrCat("trace: \"", *direction, "\": use up or down"));
}

absl::Status RunCheckpoint(Context& ctx) {
  v1::GetCheckpointRequest request;
  auto checkpoint = Unary<v1::GetCheckpointRequest, v1::Checkpoint>(
      ctx, request, "Ledger.GetCheckpoint",
      [](Client& c, grpc::ClientContext* cc, const auto& req, auto* resp) {
        return c.ledger().GetCheckpoint(cc, req, resp);
      });
  if (!checkpoint.ok()) return checkpoint.status();
  std::string verified = "not checked (give --log_key)";
  std::string consistent;
  if (const std::string vkey = absl::GetFlag(FLAGS_log_key); !vkey.empty()) {
    auto verifier = crypto::NoteVerifier::Create(vkey);
    if (!verifier.ok()) return UsageError(absl::StrCat("--log_key: ", verifier.status().message()));
    auto opened = OpenLogCheckpoint(checkpoint->note(), **verifier);
    if (!opened.ok()) return opened.status();
    verified = absl::StrCat("signed by ", (*verifier)->name());
    if (const std::string path = absl::GetFlag(FLAGS_trusted_checkpoint); !path.empty()) {
      auto old_note = domain::ReadFileToString(path);
      if (!old_note.ok())
        return UsageError(absl::StrCat("--trusted_checkpoint: ", old_note.status().message()));
      auto old = OpenLogCheckpoint(*old_note, **verifier);
      if (!old.ok())
        return absl::Status(old.status().code(),
                            absl::StrCat("--trusted_checkpoint: ", old.status().message()));
      v1::ConsistencyProof proof;
      proof.set_size1(old->size);
      proof.set_size2(opened->size);
      if (old->size > 0 && old->size < opened->size) {
        v1::GetConsistencyProofRequest preq;
        preq.set_size1(old->size);
        preq.set_size2(opened->size);
        auto fetched = Unary<v1::GetConsistencyProofRequest, v1::ConsistencyProof>(
            ctx, preq, "Ledger.GetConsistencyProof",
            [](Client& c, grpc::ClientContext* cc, const auto& req, auto* resp) {
              return c.ledger().GetConsistencyProof(cc, req, resp);
            });
        if (!fetched.ok()) return fetched.status();
        proof = *fetched;
      }
      auto hasher = ctx.hasher();
      if (!hasher.ok()) return hasher.status();
      if (auto s = CheckConsistency(*old, *opened, proof, **hasher); !s.ok()) return s;
      consistent = absl::StrCat("extends the trusted checkpoint of size ", old->size);
    }
  }
  if (ctx.json()) {
    nlohmann::json out = {{"note", checkpoint->note()},
                          {"origin", checkpoint->origin()},
                          {"size", checkpoint->size()},
                          {"root_hash", absl::BytesToHexString(checkpoint->root_hash())},
                          {"signature", verified}};
    if (!consistent.empty()) out["consistency"] = consistent;
    PrintJson(ctx.out(), out);
    return absl::OkStatus();
  }
  ctx.out() << checkpoint->note();
  if (!checkpoint->note().empty() && checkpoint->note().back() != '\n') ctx.out() << "\n";
  ctx.out() << "\n";
  std::vector<std::pair<std::string, std::string>> fields = {
      {"origin", checkpoint->origin()},
      {"tree size", absl::StrCat(checkpoint->size())},
      {"root", absl::BytesToHexString(checkpoint->root_hash())},
      {"signature", verified}};
  if (!consistent.empty()) fields.emplace_back("consistency", consistent);
  PrintFields(ctx.out(), fields);
  return absl::OkStatus();
}

absl::Status RunRecallShow(Context& ctx) {
  auto id = ctx.Arg(2, "the recall id");
  if (!id.ok()) return id.status();
  v1::GetRecallRequest request;
  request.set_recall_id(*id);
  request.set_form(v1::RECALL_SCOPE_FORM_LOTS);
  // Page by page: a big scope in one answer would pass gRPC's message limit.
  request.set_page_size(1000);
  std::optional<v1::RecallView> view;
  for (int pages = 0; pages < 10'000; ++pages) {
    auto page = Unary<v1::GetRecallRequest, v1::RecallView>(
        ctx, request, "Recall.GetRecall",
        [](Client& c, grpc::ClientContext* cc, const auto& req, auto* resp) {
          return c.recall().GetRecall(cc, req, resp);
        });
    if (!page.ok()) return page.status();
    request.set_page_token(page->next_page_token());
    if (!view.has_value()) {
      view = *std::move(page);
    } else {
      for (v1::RecallScopeLot& lot : *page->mutable_lots()) *view->add_lots() = std::move(lot);
    }
    if (request.page_token().empty()) break;
  }
  view->clear_next_page_token();
  std::set<std::string> herb_codes = {view->herb_code()};
  for (const auto& l : view->lots()) herb_codes.insert(l.herb_code());
  if (ctx.json()) {
    PrintJson(ctx.out(), WithHerbs(ctx, ProtoToJson(*view), herb_codes));
    return absl::OkStatus();
  }
  HerbNames& herbs = ctx.herbs();
  PrintFields(ctx.out(),
              {{"recall", view->recall_id()},
               {"batch", absl::StrCat(view->batch_id(), " ", herbs.Label(view->herb_code()))},
               {"severity", EnumLabel(view->severity())},
               {"reason", view->reason()},
               {"issued", absl::StrCat(FormatTimestamp(view->issued_at()), " by ",
                                       view->regulator_party_id(), " (seq ", view->seq(), ")")},
               {"ack deadline", FormatTimestamp(view->ack_deadline())},
               {"status", EnumLabel(view->status())},
               {"acknowledged", absl::StrCat(Grams(view->grams_acknowledged()), " of ",
                                             Grams(view->grams_at_recall()))},
               {"as of", absl::StrCat("tree size ", view->as_of_tree_size())}});
  ctx.out() << "\nlots\n";
  Table lots({"batch", "herb", "depth", "holder at recall", "grams at recall", "now", "status",
              "acknowledged"});
  for (const auto& l : view->lots()) {
    std::vector<std::string> actions;
    for (const auto& a : l.acks()) actions.push_back(EnumLabel(a.action()));
    lots.AddRow(
        {l.batch_id(), herbs.Label(l.herb_code()), absl::StrCat(l.depth()), l.holder_at_recall(),
         Grams(l.grams_at_recall()),
         absl::StrCat(l.current().holder_party_id(), " ", Grams(l.current().remaining_grams())),
         StatusLabel(l.current().status()),
         !l.ack_required()  ? "not needed"
         : l.acknowledged() ? absl::StrCat("yes (", absl::StrJoin(actions, ";"), ")")
                            : "NO"});
  }
  lots.Print(ctx.out());
  ctx.out() << "\nholders\n";
  Table holders({"party", "name", "region", "lots", "acknowledged", "grams", "overdue"});
  for (const auto& h : view->holders()) {
    holders.AddRow({h.party_id(), h.name(), h.region_code(), absl::StrCat(h.lots()),
                    absl::StrCat(h.lots_acknowledged()),
                    absl::StrCat(Grams(h.grams_acknowledged()), " of ", Grams(h.grams_at_recall())),
                    h.overdue() ? "OVERDUE" : ""});
  }
  holders.Print(ctx.out());
  return absl::OkStatus();
}

absl::Status RunRecallList(Context& ctx) {
  v1::ListRecallsRequest request;
  request.set_page_size(1000);
  std::vector<v1::RecallSummary> all;
  for (int page = 0; page < 1000; ++page) {
    auto response = Unary<v1::ListRecallsRequest, v1::ListRecallsResponse>(
        ctx, request, "Recall.ListRecalls",
        [](Client& c, grpc::ClientContext* cc, const auto& req, auto* resp) {
          return c.recall().ListRecalls(cc, req, resp);
        });
    if (!response.ok()) return response.status();
    for (const auto& r : response->recalls()) all.push_back(r);
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  if (ctx.json()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : all) out.push_back(ProtoToJson(r));
    PrintJson(ctx.out(), {{"recalls", out}});
    return absl::OkStatus();
  }
  Table table({"recall", "batch", "herb", "severity", "issued", "status", "lots acknowledged"});
  for (const auto& r : all) {
    table.AddRow({r.recall_id(), r.batch_id(), ctx.herbs().Label(r.herb_code()),
                  EnumLabel(r.severity()), FormatTimestamp(r.issued_at()), EnumLabel(r.status()),
                  absl::StrCat(r.lots_acknowledged(), " of ", r.lots())});
  }
  table.Print(ctx.out());
  return absl::OkStatus();
}

absl::Status RunRecallExport(Context& ctx) {
  auto id = ctx.Arg(2, "the recall id");
  if (!id.ok()) return id.status();
  v1::ExportRecallCsvRequest request;
  request.set_recall_id(*id);
  if (const std::string sort = absl::GetFlag(FLAGS_sort); !sort.empty()) {
    auto column = ParseEnum<v1::RecallCsvColumn>(sort, "sort");
    if (!column.ok()) return AsUsage(column.status());
    request.set_sort_by(*column);
  }
  request.set_descending(absl::GetFlag(FLAGS_desc));
  request.set_only_unacknowledged(absl::GetFlag(FLAGS_unacknowledged));
  request.set_utf8_bom(absl::GetFlag(FLAGS_bom));
  auto client = ctx.client();
  if (!client.ok()) return client.status();
  auto context = (*client)->NewContext();
  auto reader = (*client)->recall().ExportRecallCsv(context.get(), request);
  v1::CsvChunk chunk;
  while (reader->Read(&chunk)) ctx.out() << chunk.data();
  ctx.out().flush();
  return FromGrpc(reader->Finish(), "Recall.ExportRecallCsv", (*client)->target());
}

}  // namespace herbtrace::cli
