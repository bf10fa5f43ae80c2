// Rules of the custody and transformation kinds: harvest, process, split, merge, transform, ship,
// trade, receive, store, dispense. Status codes and roles: see the tables at the top of
// domain_rules.cc.
//
// Mass balance, in integer grams with every sum overflow-checked:
//   process    output_grams + loss_grams == input.grams ≤ input's remaining
//   split      Σ outputs ≤ input's remaining (the input keeps the rest)
//   merge      output_grams ≤ Σ inputs[].grams, each ≤ its input's remaining
//   transform  Σ outputs ≤ Σ inputs[].grams, each ≤ its input's remaining
//   receive    each received ≤ sent (the shortfall is transit loss)
// A quantity inconsistent within the event is INVALID_ARGUMENT; one the batch's remaining grams
// cannot cover is FAILED_PRECONDITION (the state may have moved since the client looked).
//
// Transfers (ship, trade, recall return) live in the registry family until received:
//   "transfer/" event_id                    → PendingTransfer (grams = Σ of its lots)
//   "transfer-lot/" event_id 0x00 batch_id  → u64be(grams sent)
//   "transfer-done/" event_id               → u64be(seq of the Receive)
// and each batch in transit carries its own PendingTransfer (BatchState.in_transit).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "herbtrace/v1/ids.pb.h"
#include "services/domain/identifiers.h"
#include "services/domain/rule_context.h"
#include "services/domain/state_keys.h"

namespace herbtrace::domain::internal {
namespace {

// More than the whole Anguo market trades in a year; no single harvest comes near it.
constexpr uint64_t kMaxHarvestGrams = 100'000'000'000;

// A lot consumed by a transformation, checked: held by the actor, movable, 0 < grams ≤ remaining.
struct Input {
  v1::BatchState state;
  uint64_t grams = 0;
};

absl::StatusOr<Input> LoadInput(RuleContext& ctx, const v1::BatchQuantity& q,
                                absl::string_view field) {
  const std::string id_field = absl::StrCat(field, ".batch_id");
  const std::string grams_field = absl::StrCat(field, ".grams");
  HT_ASSIGN_OR_RETURN(v1::BatchState state, ctx.LoadBatch(q.batch_id(), id_field));
  HT_RETURN_IF_ERROR(ctx.CheckMovable(state, ctx.actor().party_id(), id_field));
  if (q.grams() == 0) return InvalidArgument(grams_field, "must be positive");
  if (q.grams() > state.remaining_grams()) {
    return FailedPrecondition(grams_field, q.grams(), " g exceeds the ", state.remaining_grams(),
                              " g left in batch ", q.batch_id());
  }
  return Input{std::move(state), q.grams()};
}

// Loads the inputs of a merge or transform: at least `min`, each once.
absl::StatusOr<std::vector<Input>> LoadInputs(
    RuleContext& ctx, const google::protobuf::RepeatedPtrField<v1::BatchQuantity>& inputs,
    absl::string_view field, int min, uint64_t& total) {
  if (inputs.size() < min) return InvalidArgument(field, "at least ", min, " inputs");
  std::vector<Input> loaded;
  absl::flat_hash_set<std::string> seen;
  total = 0;
  for (int i = 0; i < inputs.size(); ++i) {
    const std::string f = absl::StrCat(field, "[", i, "]");
    if (!seen.insert(inputs[i].batch_id()).second) {
      return InvalidArgument(absl::StrCat(f, ".batch_id"), "batch ", inputs[i].batch_id(),
                             " listed twice");
    }
    HT_ASSIGN_OR_RETURN(Input in, LoadInput(ctx, inputs[i], f));
    if (!AddGrams(total, in.grams)) {
      return InvalidArgument(absl::StrCat(f, ".grams"), "the inputs' total overflows");
    }
    loaded.push_back(std::move(in));
  }
  return loaded;
}

// An output code: not one of the event's inputs (a lot cannot be made from itself), not listed
// twice, and a valid new code of the actor.
absl::Status CheckOutputId(const RuleContext& ctx, absl::string_view batch_id,
                           absl::string_view field, const std::vector<Input>& inputs,
                           absl::flat_hash_set<std::string>& outputs) {
  for (const Input& in : inputs) {
    if (in.state.batch_id() == batch_id) {
      return InvalidArgument(field, "batch ", batch_id,
                             " is an input of this event; a lot cannot be made from itself");
    }
  }
  if (!outputs.insert(std::string(batch_id)).second) {
    return InvalidArgument(field, "batch ", batch_id, " listed twice");
  }
  return ctx.CheckNewBatchId(batch_id, field);
}

// Stages an output lot: held by the actor, inheriting its inputs' origins and holds.
absl::Status CreateOutput(RuleContext& ctx, absl::string_view batch_id, absl::string_view herb_code,
                          uint64_t grams, const std::vector<Input>& inputs) {
  v1::BatchState out = ctx.NewBatch(batch_id, herb_code, grams);
  std::vector<std::string> origins;
  for (const Input& in : inputs) {
    out.add_parent_batch_ids(in.state.batch_id());
    origins.insert(origins.end(), in.state.origin_batch_ids().begin(),
                   in.state.origin_batch_ids().end());
    for (const v1::Hold& hold : in.state.holds()) {
      const bool dup = std::any_of(out.holds().begin(), out.holds().end(), [&](const v1::Hold& h) {
        return h.source_batch_id() == hold.source_batch_id() && h.test_seq() == hold.test_seq();
      });
      if (!dup) *out.add_holds() = hold;
    }
  }
  std::sort(origins.begin(), origins.end());
  origins.erase(std::unique(origins.begin(), origins.end()), origins.end());
  for (std::string& o : origins) out.add_origin_batch_ids(std::move(o));
  return ctx.SaveBatch(out, "");
}

absl::Status Consume(RuleContext& ctx, Input& in) {
  in.state.set_remaining_grams(in.state.remaining_grams() - in.grams);
  if (in.state.remaining_grams() == 0) in.state.set_status(v1::BATCH_STATUS_CONSUMED);
  return ctx.SaveBatch(in.state, in.state.holder_party_id());
}

bool HoldsLots(const v1::Party& party) {
  for (int r : party.roles()) {
    switch (r) {
      case v1::PARTY_ROLE_GROWER:
      case v1::PARTY_ROLE_COOPERATIVE:
      case v1::PARTY_ROLE_PROCESSOR:
      case v1::PARTY_ROLE_WAREHOUSE:
      case v1::PARTY_ROLE_TRADER:
      case v1::PARTY_ROLE_PHARMACY:
      case v1::PARTY_ROLE_HOSPITAL:
        return true;
      default:
        break;
    }
  }
  return false;
}

}  // namespace

// The recipient must be able to sign the Receive, so it must hold a role that holds lots.
absl::Status CheckRecipient(const RuleContext& ctx, absl::string_view to, absl::string_view from,
                            absl::string_view field) {
  HT_RETURN_IF_ERROR(ValidatePartyId(to, field));
  if (to == from) return InvalidArgument(field, "party ", to, " cannot transfer to itself");
  HT_ASSIGN_OR_RETURN(v1::Party party, ctx.LoadActiveParty(to, field));
  if (!HoldsLots(party)) {
    return FailedPrecondition(field, "party ", to, " has no role that holds lots");
  }
  return absl::OkStatus();
}

absl::Status StartTransfer(RuleContext& ctx, v1::TransferKind kind, absl::string_view from,
                           absl::string_view to, std::vector<v1::BatchState>& lots,
                           absl::string_view field) {
  v1::PendingTransfer transfer;
  transfer.set_transfer_event_id(ctx.event().event_id());
  transfer.set_seq(ctx.seq());
  transfer.set_kind(kind);
  transfer.set_from_party_id(std::string(from));
  transfer.set_to_party_id(std::string(to));
  uint64_t total = 0;
  for (v1::BatchState& lot : lots) {
    if (!AddGrams(total, lot.remaining_grams())) {
      return InvalidArgument(field, "the lots' total overflows");
    }
  }
  transfer.set_grams(total);
  for (v1::BatchState& lot : lots) {
    v1::PendingTransfer* mine = lot.mutable_in_transit();
    *mine = transfer;
    mine->set_grams(lot.remaining_grams());
    // Leaving by truck ends any storage.
    lot.clear_warehouse_party_id();
    lot.clear_location();
    HT_RETURN_IF_ERROR(ctx.PutRaw(storage::Cf::kRegistry,
                                  keys::TransferLot(transfer.transfer_event_id(), lot.batch_id()),
                                  storage::BigEndian64(lot.remaining_grams())));
    HT_RETURN_IF_ERROR(ctx.SaveBatch(lot, lot.holder_party_id()));
  }
  return ctx.Put(storage::Cf::kRegistry, keys::Transfer(transfer.transfer_event_id()), transfer);
}

absl::Status ApplyHarvest(RuleContext& ctx) {
  const v1::Harvest& h = ctx.event().harvest();
  HT_RETURN_IF_ERROR(ctx.CheckNewBatchId(h.batch_id(), "harvest.batch_id", v1::NODE_TYPE_PLANTING));
  HT_RETURN_IF_ERROR(ValidateBaseId(h.base_id(), "harvest.base_id"));
  HT_ASSIGN_OR_RETURN(std::optional<v1::PlantingBase> base,
                      ctx.Get<v1::PlantingBase>(storage::Cf::kRegistry, keys::Base(h.base_id())));
  if (!base.has_value())
    return NotFound("harvest.base_id", "base ", h.base_id(), " is not registered");
  if (base->owner_party_id() != ctx.actor().party_id()) {
    return PermissionDenied("harvest.base_id", "base ", h.base_id(), " belongs to party ",
                            base->owner_party_id(), ", not to ", ctx.actor().party_id());
  }
  HT_RETURN_IF_ERROR(ValidateHerbCode(h.herb_code(), "harvest.herb_code"));
  HT_ASSIGN_OR_RETURN(const bool known, ctx.HerbExists(h.herb_code()));
  if (!known)
    return NotFound("harvest.herb_code", "herb ", h.herb_code(), " is not in the catalog");
  if (std::find(base->herb_codes().begin(), base->herb_codes().end(), h.herb_code()) ==
      base->herb_codes().end()) {
    return FailedPrecondition("harvest.herb_code", "base ", h.base_id(), " does not list herb ",
                              h.herb_code());
  }
  if (h.grams() == 0) return InvalidArgument("harvest.grams", "must be positive");
  // A harvest is where mass enters the log — every later quantity is bounded by what its inputs
  // hold — so the plausibility bound sits here: a scanner that sends a negative weight through
  // the unsigned field produces 2^64 − n grams, which must never become a lot.
  if (h.grams() > kMaxHarvestGrams) {
    return InvalidArgument("harvest.grams", h.grams(), " g is more than any harvest (at most ",
                           kMaxHarvestGrams, " g, 100,000 t); a negative weight sent unsigned?");
  }
  if (!h.has_harvest_date()) return InvalidArgument("harvest.harvest_date", "required");
  HT_RETURN_IF_ERROR(ValidateDate(h.harvest_date(), "harvest.harvest_date"));
  const v1::Date today = ChinaDate(ctx.occurred_at());
  if (CompareDates(h.harvest_date(), today) > 0) {
    return InvalidArgument("harvest.harvest_date", FormatDate(h.harvest_date()),
                           " is after the event's date ", FormatDate(today),
                           "; a harvest cannot be recorded before it happens");
  }
  if (h.has_planted_on() && h.planted_on().year() != 0) {
    HT_RETURN_IF_ERROR(ValidateDate(h.planted_on(), "harvest.planted_on"));
    if (CompareDates(h.planted_on(), h.harvest_date()) > 0) {
      return InvalidArgument("harvest.planted_on", "after the harvest date");
    }
  }
  for (int i = 0; i < h.inputs_size(); ++i) {
    const v1::AgriInput& in = h.inputs(i);
    const std::string field = absl::StrCat("harvest.inputs[", i, "]");
    if (!v1::AgriInputKind_IsValid(in.kind()) || in.kind() == v1::AGRI_INPUT_KIND_UNSPECIFIED) {
      return InvalidArgument(absl::StrCat(field, ".kind"), "required");
    }
    if (in.has_amount()) {
      HT_RETURN_IF_ERROR(ValidateMeasurement(in.amount(), absl::StrCat(field, ".amount"),
                                             {v1::MEASURE_UNIT_GRAMS, v1::MEASURE_UNIT_MILLILITRES},
                                             /*allow_negative=*/false));
    }
    if (in.has_applied_on()) {
      HT_RETURN_IF_ERROR(ValidateDate(in.applied_on(), absl::StrCat(field, ".applied_on")));
      if (CompareDates(in.applied_on(), h.harvest_date()) > 0) {
        return InvalidArgument(absl::StrCat(field, ".applied_on"), "after the harvest date");
      }
    }
  }
  v1::BatchState batch = ctx.NewBatch(h.batch_id(), h.herb_code(), h.grams());
  batch.add_origin_batch_ids(h.batch_id());
  return ctx.SaveBatch(batch, "");
}

absl::Status ApplyProcess(RuleContext& ctx) {
  const v1::Process& p = ctx.event().process();
  if (p.kind() == v1::PROCESS_KIND_UNSPECIFIED || !v1::ProcessKind_IsValid(p.kind())) {
    return InvalidArgument("process.kind", "required");
  }
  if (!p.has_input()) return InvalidArgument("process.input", "required");
  std::vector<Input> inputs;
  HT_ASSIGN_OR_RETURN(Input in, LoadInput(ctx, p.input(), "process.input"));
  inputs.push_back(std::move(in));
  absl::flat_hash_set<std::string> outputs;
  HT_RETURN_IF_ERROR(
      CheckOutputId(ctx, p.output_batch_id(), "process.output_batch_id", inputs, outputs));
  if (p.output_grams() == 0) return InvalidArgument("process.output_grams", "must be positive");
  uint64_t total = p.output_grams();
  if (!AddGrams(total, p.loss_grams())) {
    return InvalidArgument("process.loss_grams", "output_grams + loss_grams overflows");
  }
  if (total != p.input().grams()) {
    return InvalidArgument("process.output_grams", "output_grams ", p.output_grams(),
                           " + loss_grams ", p.loss_grams(), " = ", total,
                           " g, but input.grams is ", p.input().grams(),
                           " g; process mass must balance");
  }
  for (int i = 0; i < p.parameters_size(); ++i) {
    const std::string field = absl::StrCat("process.parameters[", i, "]");
    if (p.parameters(i).name().empty())
      return InvalidArgument(absl::StrCat(field, ".name"), "required");
    HT_RETURN_IF_ERROR(ValidateMeasurement(p.parameters(i).value(), absl::StrCat(field, ".value"),
                                           {}, /*allow_negative=*/true));
  }
  for (int i = 0; i < p.adjuvants_size(); ++i) {
    const std::string field = absl::StrCat("process.adjuvants[", i, "]");
    if (p.adjuvants(i).name().empty())
      return InvalidArgument(absl::StrCat(field, ".name"), "required");
    HT_RETURN_IF_ERROR(ValidateMeasurement(p.adjuvants(i).amount(), absl::StrCat(field, ".amount"),
                                           {v1::MEASURE_UNIT_GRAMS, v1::MEASURE_UNIT_MILLILITRES},
                                           /*allow_negative=*/false));
  }
  HT_RETURN_IF_ERROR(CreateOutput(ctx, p.output_batch_id(), inputs[0].state.herb_code(),
                                  p.output_grams(), inputs));
  return Consume(ctx, inputs[0]);
}

absl::Status ApplySplit(RuleContext& ctx) {
  const v1::Split& s = ctx.event().split();
  HT_ASSIGN_OR_RETURN(v1::BatchState input,
                      ctx.LoadBatch(s.input_batch_id(), "split.input_batch_id"));
  HT_RETURN_IF_ERROR(ctx.CheckMovable(input, ctx.actor().party_id(), "split.input_batch_id"));
  if (s.outputs().empty()) return InvalidArgument("split.outputs", "at least one output");
  std::vector<Input> inputs;
  inputs.push_back(Input{std::move(input), 0});
  absl::flat_hash_set<std::string> outputs;
  uint64_t total = 0;
  for (int i = 0; i < s.outputs_size(); ++i) {
    const std::string field = absl::StrCat("split.outputs[", i, "]");
    HT_RETURN_IF_ERROR(CheckOutputId(ctx, s.outputs(i).batch_id(), absl::StrCat(field, ".batch_id"),
                                     inputs, outputs));
    if (s.outputs(i).grams() == 0) {
      return InvalidArgument(absl::StrCat(field, ".grams"), "must be positive");
    }
    if (!AddGrams(total, s.outputs(i).grams())) {
      return InvalidArgument(absl::StrCat(field, ".grams"), "the outputs' total overflows");
    }
  }
  Input& in = inputs[0];
  if (total > in.state.remaining_grams()) {
    return FailedPrecondition("split.outputs", "the outputs total ", total, " g but batch ",
                              in.state.batch_id(), " has ", in.state.remaining_grams(), " g left");
  }
  in.grams = total;
  for (const v1::BatchQuantity& out : s.outputs()) {
    HT_RETURN_IF_ERROR(
        CreateOutput(ctx, out.batch_id(), in.state.herb_code(), out.grams(), inputs));
  }
  return Consume(ctx, in);
}

absl::Status ApplyMerge(RuleContext& ctx) {
  const v1::Merge& m = ctx.event().merge();
  uint64_t total = 0;
  HT_ASSIGN_OR_RETURN(std::vector<Input> inputs,
                      LoadInputs(ctx, m.inputs(), "merge.inputs", 2, total));
  for (size_t i = 1; i < inputs.size(); ++i) {
    if (inputs[i].state.herb_code() != inputs[0].state.herb_code()) {
      return InvalidArgument(absl::StrCat("merge.inputs[", i, "].batch_id"), "herb ",
                             inputs[i].state.herb_code(), " differs from herb ",
                             inputs[0].state.herb_code(), " of inputs[0]; merge lots of one herb");
    }
  }
  absl::flat_hash_set<std::string> outputs;
  HT_RETURN_IF_ERROR(
      CheckOutputId(ctx, m.output_batch_id(), "merge.output_batch_id", inputs, outputs));
  if (m.output_grams() == 0) return InvalidArgument("merge.output_grams", "must be positive");
  if (m.output_grams() > total) {
    return InvalidArgument("merge.output_grams", m.output_grams(), " g exceeds the ", total,
                           " g of the inputs");
  }
  HT_RETURN_IF_ERROR(CreateOutput(ctx, m.output_batch_id(), inputs[0].state.herb_code(),
                                  m.output_grams(), inputs));
  for (Input& in : inputs) HT_RETURN_IF_ERROR(Consume(ctx, in));
  return absl::OkStatus();
}

absl::Status ApplyTransform(RuleContext& ctx) {
  const v1::Transform& t = ctx.event().transform();
  uint64_t total_in = 0;
  HT_ASSIGN_OR_RETURN(std::vector<Input> inputs,
                      LoadInputs(ctx, t.inputs(), "transform.inputs", 1, total_in));
  if (t.outputs().empty()) return InvalidArgument("transform.outputs", "at least one output");
  bool one_herb = true;
  for (const Input& in : inputs) one_herb &= in.state.herb_code() == inputs[0].state.herb_code();
  absl::flat_hash_set<std::string> outputs;
  std::vector<std::string> herbs;
  uint64_t total_out = 0;
  for (int i = 0; i < t.outputs_size(); ++i) {
    const v1::TransformOutput& out = t.outputs(i);
    const std::string field = absl::StrCat("transform.outputs[", i, "]");
    HT_RETURN_IF_ERROR(
        CheckOutputId(ctx, out.batch_id(), absl::StrCat(field, ".batch_id"), inputs, outputs));
    if (out.herb_code().empty()) {
      if (!one_herb) {
        return InvalidArgument(absl::StrCat(field, ".herb_code"),
                               "required when the inputs are of different herbs");
      }
      herbs.push_back(inputs[0].state.herb_code());
    } else {
      HT_RETURN_IF_ERROR(ValidateHerbCode(out.herb_code(), absl::StrCat(field, ".herb_code")));
      HT_ASSIGN_OR_RETURN(const bool known, ctx.HerbExists(out.herb_code()));
      if (!known) {
        return NotFound(absl::StrCat(field, ".herb_code"), "herb ", out.herb_code(),
                        " is not in the catalog");
      }
      herbs.push_back(out.herb_code());
    }
    if (out.grams() == 0) return InvalidArgument(absl::StrCat(field, ".grams"), "must be positive");
    if (!AddGrams(total_out, out.grams())) {
      return InvalidArgument(absl::StrCat(field, ".grams"), "the outputs' total overflows");
    }
  }
  if (total_out > total_in) {
    return InvalidArgument("transform.outputs", "the outputs total ", total_out,
                           " g but the inputs only ", total_in, " g");
  }
  for (int i = 0; i < t.outputs_size(); ++i) {
    HT_RETURN_IF_ERROR(
        CreateOutput(ctx, t.outputs(i).batch_id(), herbs[i], t.outputs(i).grams(), inputs));
  }
  for (Input& in : inputs) HT_RETURN_IF_ERROR(Consume(ctx, in));
  return absl::OkStatus();
}

absl::Status ApplyShip(RuleContext& ctx) {
  const v1::Ship& s = ctx.event().ship();
  HT_RETURN_IF_ERROR(
      CheckRecipient(ctx, s.to_party_id(), ctx.actor().party_id(), "ship.to_party_id"));
  if (s.batches().empty()) return InvalidArgument("ship.batches", "at least one batch");
  std::vector<v1::BatchState> lots;
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < s.batches_size(); ++i) {
    const v1::BatchQuantity& q = s.batches(i);
    const std::string field = absl::StrCat("ship.batches[", i, "]");
    const std::string id_field = absl::StrCat(field, ".batch_id");
    if (!seen.insert(q.batch_id()).second) {
      return InvalidArgument(id_field, "batch ", q.batch_id(), " listed twice");
    }
    HT_ASSIGN_OR_RETURN(v1::BatchState lot, ctx.LoadBatch(q.batch_id(), id_field));
    HT_RETURN_IF_ERROR(ctx.CheckMovable(lot, ctx.actor().party_id(), id_field));
    if (q.grams() == 0) return InvalidArgument(absl::StrCat(field, ".grams"), "must be positive");
    if (q.grams() != lot.remaining_grams()) {
      return FailedPrecondition(absl::StrCat(field, ".grams"), q.grams(), " g, but batch ",
                                q.batch_id(), " has ", lot.remaining_grams(),
                                " g left; whole lots only (split first to send part)");
    }
    lots.push_back(std::move(lot));
  }
  return StartTransfer(ctx, v1::TRANSFER_KIND_SHIP, ctx.actor().party_id(), s.to_party_id(), lots,
                       "ship.batches");
}

absl::Status ApplyTrade(RuleContext& ctx) {
  const v1::Trade& t = ctx.event().trade();
  HT_RETURN_IF_ERROR(ValidatePartyId(t.seller_party_id(), "trade.seller_party_id"));
  if (t.seller_party_id() != ctx.actor().party_id()) {
    if (!ctx.ActorHas(v1::PARTY_ROLE_MARKET_OPERATOR)) {
      return PermissionDenied("trade.seller_party_id", "seller ", t.seller_party_id(),
                              " is not party_id ", ctx.actor().party_id(),
                              "; only the market operator's trade desk signs for a seller");
    }
    HT_RETURN_IF_ERROR(ctx.LoadActiveParty(t.seller_party_id(), "trade.seller_party_id").status());
  }
  HT_RETURN_IF_ERROR(
      CheckRecipient(ctx, t.buyer_party_id(), t.seller_party_id(), "trade.buyer_party_id"));
  if (!t.has_batch()) return InvalidArgument("trade.batch", "required");
  HT_ASSIGN_OR_RETURN(v1::BatchState lot,
                      ctx.LoadBatch(t.batch().batch_id(), "trade.batch.batch_id"));
  HT_RETURN_IF_ERROR(ctx.CheckMovable(lot, t.seller_party_id(), "trade.batch.batch_id"));
  if (t.batch().grams() == 0) return InvalidArgument("trade.batch.grams", "must be positive");
  if (t.batch().grams() != lot.remaining_grams()) {
    return FailedPrecondition("trade.batch.grams", t.batch().grams(), " g, but batch ",
                              lot.batch_id(), " has ", lot.remaining_grams(),
                              " g left; whole lots only (split first to sell part)");
  }
  if (t.price_commitment().size() != 32) {
    return InvalidArgument("trade.price_commitment",
                           "required: SHA-256(salt ‖ price) of 32 bytes, got ",
                           t.price_commitment().size(), " bytes");
  }
  HT_RETURN_IF_ERROR(ctx.CheckAndStoreOpening(
      "trade.price_commitment", t.price_commitment(),
      [](absl::string_view value, absl::string_view field) {
        if (value.size() != 8) {
          return InvalidArgument(absl::StrCat(field, ".value"),
                                 "a price is 8 bytes (fen, big-endian), got ", value.size());
        }
        return absl::OkStatus();
      }));
  std::vector<v1::BatchState> lots;
  lots.push_back(std::move(lot));
  return StartTransfer(ctx, v1::TRANSFER_KIND_TRADE, t.seller_party_id(), t.buyer_party_id(), lots,
                       "trade.batch");
}

absl::Status ApplyReceive(RuleContext& ctx) {
  const v1::Receive& r = ctx.event().receive();
  const std::string& id = r.transfer_event_id();
  HT_RETURN_IF_ERROR(ValidateEventId(id, "receive.transfer_event_id"));
  HT_ASSIGN_OR_RETURN(std::optional<v1::PendingTransfer> transfer,
                      ctx.Get<v1::PendingTransfer>(storage::Cf::kRegistry, keys::Transfer(id)));
  if (!transfer.has_value()) {
    return NotFound("receive.transfer_event_id", "no transfer ", id, " in the log");
  }
  HT_ASSIGN_OR_RETURN(std::optional<std::string> done,
                      ctx.txn().Get(storage::Cf::kRegistry, keys::TransferDone(id)));
  if (done.has_value()) {
    return FailedPrecondition("receive.transfer_event_id", "transfer ", id,
                              " was already received at seq ", storage::ReadBigEndian64(*done));
  }
  if (transfer->to_party_id() != ctx.actor().party_id()) {
    return PermissionDenied("receive.transfer_event_id", "transfer ", id, " is addressed to party ",
                            transfer->to_party_id(), ", not to ", ctx.actor().party_id());
  }
  std::map<std::string, uint64_t> sent;
  const std::string prefix = keys::TransferLotPrefix(id);
  HT_RETURN_IF_ERROR(ctx.txn().ForEachWithPrefix(
      storage::Cf::kRegistry, prefix, [&](absl::string_view key, absl::string_view value) {
        sent.emplace(std::string(key.substr(prefix.size())), storage::ReadBigEndian64(value));
        return true;
      }));
  std::map<std::string, uint64_t> received;
  for (int i = 0; i < r.received_size(); ++i) {
    const v1::BatchQuantity& q = r.received(i);
    const std::string field = absl::StrCat("receive.received[", i, "]");
    auto it = sent.find(q.batch_id());
    if (it == sent.end()) {
      return InvalidArgument(absl::StrCat(field, ".batch_id"), "batch ", q.batch_id(),
                             " is not part of transfer ", id);
    }
    if (!received.emplace(q.batch_id(), q.grams()).second) {
      return InvalidArgument(absl::StrCat(field, ".batch_id"), "batch ", q.batch_id(),
                             " listed twice");
    }
    if (q.grams() > it->second) {
      return InvalidArgument(absl::StrCat(field, ".grams"), q.grams(), " g exceeds the ",
                             it->second, " g sent; nothing is received that was not shipped");
    }
  }
  for (const auto& [batch_id, grams] : sent) {
    if (!received.contains(batch_id)) {
      return InvalidArgument("receive.received", "batch ", batch_id, " of transfer ", id,
                             " is not listed; one Receive lists every batch of its transfer");
    }
  }
  for (const auto& [batch_id, grams] : received) {
    HT_ASSIGN_OR_RETURN(v1::BatchState lot, ctx.LoadBatch(batch_id, "receive.received"));
    if (lot.in_transit().transfer_event_id() != id) {
      return absl::DataLossError(
          absl::StrCat("batch ", batch_id, " of transfer ", id, " is not in transit with it"));
    }
    const std::string previous = lot.holder_party_id();
    lot.set_holder_party_id(ctx.actor().party_id());
    lot.set_remaining_grams(grams);
    lot.clear_in_transit();
    lot.clear_warehouse_party_id();
    lot.clear_location();
    // Nothing arrived: the lot was lost on the way, which is closest to destroyed.
    if (grams == 0) lot.set_status(v1::BATCH_STATUS_DESTROYED);
    HT_RETURN_IF_ERROR(ctx.SaveBatch(lot, previous));
    if (transfer->kind() == v1::TRANSFER_KIND_RECALL_RETURN) {
      for (const std::string& recall_id : lot.recall_ids()) {
        const std::string key = keys::RecallReturn(recall_id, batch_id);
        HT_ASSIGN_OR_RETURN(const bool pending, ctx.Exists(storage::Cf::kRegistry, key));
        if (!pending) continue;
        HT_RETURN_IF_ERROR(ctx.Delete(storage::Cf::kRegistry, key));
        HT_RETURN_IF_ERROR(UpdateRecallStatus(ctx, recall_id));
      }
    }
  }
  return ctx.PutRaw(storage::Cf::kRegistry, keys::TransferDone(id),
                    storage::BigEndian64(ctx.seq()));
}

absl::Status ApplyStore(RuleContext& ctx) {
  const v1::Store& s = ctx.event().store();
  if (s.action() == v1::STORE_ACTION_UNSPECIFIED || !v1::StoreAction_IsValid(s.action())) {
    return InvalidArgument("store.action", "required");
  }
  if (!v1::StorageClass_IsValid(s.storage_class())) {
    return InvalidArgument("store.storage_class", "not a storage class");
  }
  if (s.batch_ids().empty()) return InvalidArgument("store.batch_ids", "at least one batch");
  const std::string& warehouse = s.warehouse_party_id();
  if (s.action() == v1::STORE_ACTION_IN && warehouse.empty()) {
    return InvalidArgument("store.warehouse_party_id", "required to store lots in");
  }
  std::optional<v1::Party> warehouse_party;
  if (!warehouse.empty()) {
    HT_ASSIGN_OR_RETURN(v1::Party p, ctx.LoadActiveParty(warehouse, "store.warehouse_party_id"));
    warehouse_party = std::move(p);
  }
  if (s.action() == v1::STORE_ACTION_READING && s.readings().empty()) {
    return InvalidArgument("store.readings", "a READING carries at least one reading");
  }
  for (int i = 0; i < s.readings_size(); ++i) {
    const v1::SensorReading& reading = s.readings(i);
    const std::string field = absl::StrCat("store.readings[", i, "]");
    if (reading.channel().empty())
      return InvalidArgument(absl::StrCat(field, ".channel"), "required");
    if (reading.has_measured_at()) {
      HT_RETURN_IF_ERROR(
          ValidateTimestamp(reading.measured_at(), absl::StrCat(field, ".measured_at")));
    }
    HT_RETURN_IF_ERROR(ValidateMeasurement(
        reading.value(), absl::StrCat(field, ".value"),
        {v1::MEASURE_UNIT_MILLI_CELSIUS, v1::MEASURE_UNIT_RH_BASIS_POINTS, v1::MEASURE_UNIT_PPMV},
        /*allow_negative=*/true));
  }
  const std::string& actor = ctx.actor().party_id();
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < s.batch_ids_size(); ++i) {
    const std::string field = absl::StrCat("store.batch_ids[", i, "]");
    if (!seen.insert(s.batch_ids(i)).second) {
      return InvalidArgument(field, "batch ", s.batch_ids(i), " listed twice");
    }
    HT_ASSIGN_OR_RETURN(v1::BatchState lot, ctx.LoadBatch(s.batch_ids(i), field));
    // Signed by the holder, or by the warehouse the lot goes into or is stored in.
    const bool by_holder = lot.holder_party_id() == actor;
    const bool by_warehouse =
        ctx.ActorHas(v1::PARTY_ROLE_WAREHOUSE) &&
        (s.action() == v1::STORE_ACTION_IN ? warehouse == actor
                                           : lot.warehouse_party_id() == actor);
    if (!by_holder && !by_warehouse) {
      return PermissionDenied(field, "batch ", lot.batch_id(), " is held by party ",
                              lot.holder_party_id(),
                              "; only its holder or the warehouse storing it may sign");
    }
    if (lot.remaining_grams() == 0) {
      return FailedPrecondition(field, "batch ", lot.batch_id(), " is ", StatusName(lot.status()),
                                " (0 g left)");
    }
    if (lot.has_in_transit()) {
      return FailedPrecondition(field, "batch ", lot.batch_id(), " is in transit to party ",
                                lot.in_transit().to_party_id());
    }
    if (warehouse_party.has_value() && warehouse != lot.holder_party_id() &&
        !HasRole(*warehouse_party, v1::PARTY_ROLE_WAREHOUSE)) {
      return FailedPrecondition("store.warehouse_party_id", "party ", warehouse,
                                " is neither the holder nor a WAREHOUSE");
    }
    switch (s.action()) {
      case v1::STORE_ACTION_IN:
        lot.set_warehouse_party_id(warehouse);
        lot.set_location(s.location());
        break;
      case v1::STORE_ACTION_OUT:
        if (lot.warehouse_party_id().empty()) {
          return FailedPrecondition(field, "batch ", lot.batch_id(), " is not in storage");
        }
        if (!warehouse.empty() && warehouse != lot.warehouse_party_id()) {
          return FailedPrecondition(field, "batch ", lot.batch_id(), " is stored with party ",
                                    lot.warehouse_party_id(), ", not ", warehouse);
        }
        lot.clear_warehouse_party_id();
        lot.clear_location();
        break;
      default:
        break;
    }
    HT_RETURN_IF_ERROR(ctx.SaveBatch(lot, lot.holder_party_id()));
  }
  return absl::OkStatus();
}

absl::Status ApplyDispense(RuleContext& ctx) {
  const v1::Dispense& d = ctx.event().dispense();
  HT_ASSIGN_OR_RETURN(v1::BatchState lot, ctx.LoadBatch(d.batch_id(), "dispense.batch_id"));
  HT_RETURN_IF_ERROR(ctx.CheckMovable(lot, ctx.actor().party_id(), "dispense.batch_id"));
  if (d.grams() == 0) return InvalidArgument("dispense.grams", "must be positive");
  if (d.grams() > lot.remaining_grams()) {
    return FailedPrecondition("dispense.grams", d.grams(), " g exceeds the ", lot.remaining_grams(),
                              " g left in batch ", lot.batch_id());
  }
  if (d.recipient() == v1::DISPENSE_RECIPIENT_UNSPECIFIED ||
      !v1::DispenseRecipient_IsValid(d.recipient())) {
    return InvalidArgument("dispense.recipient", "required");
  }
  if (d.recipient() == v1::DISPENSE_RECIPIENT_PHARMACY ||
      d.recipient() == v1::DISPENSE_RECIPIENT_HOSPITAL) {
    if (d.recipient_party_id().empty()) {
      return InvalidArgument("dispense.recipient_party_id", "required for a pharmacy or hospital");
    }
    HT_ASSIGN_OR_RETURN(v1::Party recipient,
                        ctx.LoadParty(d.recipient_party_id(), "dispense.recipient_party_id"));
    const v1::PartyRole role = d.recipient() == v1::DISPENSE_RECIPIENT_PHARMACY
                                   ? v1::PARTY_ROLE_PHARMACY
                                   : v1::PARTY_ROLE_HOSPITAL;
    if (!HasRole(recipient, role)) {
      return InvalidArgument("dispense.recipient_party_id", "party ", d.recipient_party_id(),
                             " is not a ", RoleName(role));
    }
  }
  lot.set_remaining_grams(lot.remaining_grams() - d.grams());
  if (lot.remaining_grams() == 0) lot.set_status(v1::BATCH_STATUS_DISPENSED);
  return ctx.SaveBatch(lot, lot.holder_party_id());
}

}  // namespace herbtrace::domain::internal
