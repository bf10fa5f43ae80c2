// harvest, process, split, merge, ship, receive, store, trade, dispense: the custody and
// transformation kinds of event.proto.
#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "herbtrace/v1/ids.pb.h"
#include "herbtrace/v1/registry.pb.h"
#include "services/cli/commands.h"
#include "services/cli/event_builder.h"
#include "services/cli/flags.h"
#include "services/cli/trace_code.h"
#include "services/cli/units.h"
#include "services/domain/identifiers.h"

namespace herbtrace::cli {
namespace {

absl::Time OccurredAt(const v1::Event& event) {
  return absl::FromUnixSeconds(event.occurred_at().seconds()) +
         absl::Nanoseconds(event.occurred_at().nanos());
}

// The node type digit for codes this party makes (ids.proto: it must match one of the creator's
// roles): --node_type if given; else `preferred` if the party's roles allow it, else the first
// its roles allow (asked from the registry). Offline, or if the registry cannot say: the node type
// of `input`, a batch this same party created (so its digit is one the party may use), else
// `preferred`.
int NodeTypeFor(Context& ctx, const std::string& party_id, int preferred,
                absl::string_view input = "") {
  if (absl::GetFlag(FLAGS_node_type) != 0) return absl::GetFlag(FLAGS_node_type);
  const int hint = input.size() >= 15 && input.substr(1, 14) == party_id ? input[0] - '0' : 0;
  const int fallback = hint != 0 ? hint : preferred;
  if (ctx.offline()) return fallback;
  auto client = ctx.client();
  if (!client.ok()) return fallback;
  v1::GetPartyRequest request;
  request.set_party_id(party_id);
  v1::Party party;
  auto context = (*client)->NewContext();
  if (!(*client)->registry().GetParty(context.get(), request, &party).ok()) return fallback;
  std::vector<int> allowed;
  for (int role : party.roles()) {
    switch (role) {
      case v1::PARTY_ROLE_GROWER:
      case v1::PARTY_ROLE_COOPERATIVE:
        allowed.push_back(v1::NODE_TYPE_PLANTING);
        break;
      case v1::PARTY_ROLE_PROCESSOR:
        allowed.push_back(v1::NODE_TYPE_PROCESSING);
        break;
      case v1::PARTY_ROLE_WAREHOUSE:
        allowed.push_back(v1::NODE_TYPE_STORAGE);
        break;
      case v1::PARTY_ROLE_TRADER:
        allowed.push_back(v1::NODE_TYPE_WHOLESALE);
        break;
      case v1::PARTY_ROLE_PHARMACY:
      case v1::PARTY_ROLE_HOSPITAL:
        allowed.push_back(v1::NODE_TYPE_USE);
        break;
      case v1::PARTY_ROLE_MARKET_OPERATOR:
        allowed.push_back(v1::NODE_TYPE_MARKET);
        break;
      default:
        break;
    }
  }
  auto allows = [&](int t) {
    return std::find(allowed.begin(), allowed.end(), t) != allowed.end();
  };
  if (allowed.empty()) return fallback;
  if (allows(preferred)) return preferred;
  if (hint != 0 && allows(hint)) return hint;
  return *std::min_element(allowed.begin(), allowed.end());
}

// A new batch's code: a 25-digit code as given, or "#SEQ" built from the acting party, the
// event's date (UTC+8) and the node type (NodeTypeFor).
absl::StatusOr<std::string> NewBatchCode(Context& ctx, absl::string_view spec,
                                         absl::string_view flag, int preferred_node_type,
                                         const v1::Event& event, absl::string_view input = "") {
  if (absl::StartsWith(spec, "#")) {
    int seq = 0;
    if (!absl::SimpleAtoi(spec.substr(1), &seq)) {
      return UsageError(absl::StrCat("--", flag, ": \"", spec, "\" is not #SEQ (1..999)"));
    }
    const int node_type = NodeTypeFor(ctx, event.party_id(), preferred_node_type, input);
    auto code =
        MakeBatchCode(node_type, event.party_id(), domain::ChinaDate(OccurredAt(event)), seq);
    if (!code.ok()) return UsageError(absl::StrCat("--", flag, ": ", code.status().message()));
    return code;
  }
  if (spec.size() != 25) {
    return UsageError(
        absl::StrCat("--", flag, ": \"", spec, "\" is neither a 25-digit batch code nor #SEQ"));
  }
  if (auto s = domain::ValidateBatchId(spec, absl::StrCat("--", flag)); !s.ok()) return AsUsage(s);
  return std::string(spec);
}

// An existing batch: a 25-digit code, or a package code resolved to its batch.
absl::StatusOr<std::string> ExistingBatch(absl::string_view code, absl::string_view flag) {
  auto batch = domain::BatchIdOfTraceCode(code, absl::StrCat("--", flag));
  if (!batch.ok()) return AsUsage(batch.status());
  return batch;
}

// "BATCH:GRAMS", or "BATCH" meaning what is left of it (asked from the server; online only).
absl::StatusOr<v1::BatchQuantity> QuantityOrRemaining(Context& ctx, absl::string_view spec,
                                                      absl::string_view flag) {
  if (spec.find(':') != absl::string_view::npos) {
    auto q = ParseBatchQuantity(spec, absl::StrCat("--", flag));
    if (!q.ok()) return AsUsage(q.status());
    return q;
  }
  auto batch = ExistingBatch(spec, flag);
  if (!batch.ok()) return batch.status();
  if (ctx.offline()) {
    return UsageError(absl::StrCat("--", flag, ": offline, give BATCH:GRAMS for ", *batch));
  }
  auto remaining = RemainingGrams(ctx, *batch);
  if (!remaining.ok()) return remaining.status();
  v1::BatchQuantity out;
  out.set_batch_id(*batch);
  out.set_grams(*remaining);
  return out;
}

absl::StatusOr<uint64_t> GramsFlag(const absl::Flag<std::string>& flag, absl::string_view name,
                                   absl::string_view command, bool required = true) {
  const std::string text = absl::GetFlag(flag);
  if (text.empty()) {
    if (required) return UsageError(absl::StrCat(command, ": --", name, " is required"));
    return uint64_t{0};
  }
  auto grams = ParseGrams(text, absl::StrCat("--", name));
  if (!grams.ok()) return AsUsage(grams.status());
  return grams;
}

}  // namespace

absl::Status RunHarvest(Context& ctx) {
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  auto spec = RequiredFlag(FLAGS_batch, "batch", "harvest");
  if (!spec.ok()) return spec.status();
  auto batch = NewBatchCode(ctx, *spec, "batch", v1::NODE_TYPE_PLANTING, *event);
  if (!batch.ok()) return batch.status();
  auto base = RequiredFlag(FLAGS_base, "base", "harvest");
  if (!base.ok()) return base.status();
  auto herb = RequiredFlag(FLAGS_herb, "herb", "harvest");
  if (!herb.ok()) return herb.status();
  auto grams = GramsFlag(FLAGS_grams, "grams", "harvest");
  if (!grams.ok()) return grams.status();
  v1::Harvest* harvest = event->mutable_harvest();
  harvest->set_batch_id(*batch);
  harvest->set_base_id(*base);
  harvest->set_herb_code(absl::AsciiStrToUpper(*herb));
  harvest->set_grams(*grams);
  if (const std::string date = absl::GetFlag(FLAGS_date); !date.empty()) {
    auto d = ParseDate(date, "--date");
    if (!d.ok()) return AsUsage(d.status());
    *harvest->mutable_harvest_date() = *d;
  } else {
    *harvest->mutable_harvest_date() = domain::ChinaDate(OccurredAt(*event));
  }
  harvest->set_plot(absl::GetFlag(FLAGS_plot));
  if (const std::string planted = absl::GetFlag(FLAGS_planted_on); !planted.empty()) {
    auto d = ParseDate(planted, "--planted_on");
    if (!d.ok()) return AsUsage(d.status());
    *harvest->mutable_planted_on() = *d;
  }
  return SendEvent(ctx, *std::move(event), {*batch});
}

absl::Status RunProcess(Context& ctx) {
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  auto kind = ParseEnum<v1::ProcessKind>(absl::GetFlag(FLAGS_kind), "kind");
  if (!kind.ok()) return AsUsage(kind.status());
  auto input_spec = RequiredFlag(FLAGS_input, "input", "process");
  if (!input_spec.ok()) return input_spec.status();
  auto input = QuantityOrRemaining(ctx, *input_spec, "input");
  if (!input.ok()) return input.status();
  auto out_spec = RequiredFlag(FLAGS_output, "output", "process");
  if (!out_spec.ok()) return out_spec.status();
  auto output =
      NewBatchCode(ctx, *out_spec, "output", v1::NODE_TYPE_PROCESSING, *event, input->batch_id());
  if (!output.ok()) return output.status();
  auto output_grams = GramsFlag(FLAGS_output_grams, "output_grams", "process");
  if (!output_grams.ok()) return output_grams.status();
  if (*output_grams > input->grams()) {
    return UsageError(absl::StrCat("--output_grams: ", *output_grams, " g is more than the ",
                                   input->grams(), " g put in"));
  }
  uint64_t loss = input->grams() - *output_grams;
  if (const std::string text = absl::GetFlag(FLAGS_loss_grams); !text.empty()) {
    auto parsed = ParseGrams(text, "--loss_grams", /*allow_zero=*/true);
    if (!parsed.ok()) return AsUsage(parsed.status());
    loss = *parsed;
  }
  v1::Process* process = event->mutable_process();
  process->set_kind(*kind);
  *process->mutable_input() = *input;
  process->set_output_batch_id(*output);
  process->set_output_grams(*output_grams);
  process->set_loss_grams(loss);
  process->set_description(absl::GetFlag(FLAGS_description));
  return SendEvent(ctx, *std::move(event), {*output});
}

absl::Status RunSplit(Context& ctx) {
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  auto input_spec = RequiredFlag(FLAGS_input, "input", "split");
  if (!input_spec.ok()) return input_spec.status();
  auto input = ExistingBatch(*input_spec, "input");
  if (!input.ok()) return input.status();
  const std::vector<std::string> outputs = absl::GetFlag(FLAGS_outputs);
  if (outputs.empty()) return UsageError("split: --outputs CODE:GRAMS,… is required");
  v1::Split* split = event->mutable_split();
  split->set_input_batch_id(*input);
  std::vector<std::string> created;
  for (const std::string& spec : outputs) {
    const size_t colon = spec.rfind(':');
    if (colon == std::string::npos) {
      return UsageError(absl::StrCat("--outputs: \"", spec, "\" is not CODE:GRAMS"));
    }
    auto code = NewBatchCode(ctx, spec.substr(0, colon), "outputs", v1::NODE_TYPE_WHOLESALE, *event,
                             *input);
    if (!code.ok()) return code.status();
    auto grams = ParseGrams(spec.substr(colon + 1), "--outputs");
    if (!grams.ok()) return AsUsage(grams.status());
    v1::BatchQuantity* out = split->add_outputs();
    out->set_batch_id(*code);
    out->set_grams(*grams);
    created.push_back(*code);
  }
  return SendEvent(ctx, *std::move(event), std::move(created));
}

absl::Status RunMerge(Context& ctx) {
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  const std::vector<std::string> inputs = absl::GetFlag(FLAGS_inputs);
  if (inputs.size() < 2) return UsageError("merge: --inputs BATCH:GRAMS,… needs two or more lots");
  v1::Merge* merge = event->mutable_merge();
  uint64_t total = 0;
  for (const std::string& spec : inputs) {
    auto q = QuantityOrRemaining(ctx, spec, "inputs");
    if (!q.ok()) return q.status();
    total += q->grams();
    *merge->add_inputs() = *q;
  }
  auto out_spec = RequiredFlag(FLAGS_output, "output", "merge");
  if (!out_spec.ok()) return out_spec.status();
  auto output = NewBatchCode(ctx, *out_spec, "output", v1::NODE_TYPE_WHOLESALE, *event,
                             merge->inputs(0).batch_id());
  if (!output.ok()) return output.status();
  uint64_t output_grams = total;
  if (!absl::GetFlag(FLAGS_output_grams).empty()) {
    auto grams = GramsFlag(FLAGS_output_grams, "output_grams", "merge");
    if (!grams.ok()) return grams.status();
    output_grams = *grams;
  }
  merge->set_output_batch_id(*output);
  merge->set_output_grams(output_grams);
  return SendEvent(ctx, *std::move(event), {*output});
}

absl::Status RunShip(Context& ctx) {
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  auto to = RequiredFlag(FLAGS_to, "to", "ship");
  if (!to.ok()) return to.status();
  const std::vector<std::string> batches = absl::GetFlag(FLAGS_batches);
  if (batches.empty()) return UsageError("ship: --batches BATCH[:GRAMS],… is required");
  v1::Ship* ship = event->mutable_ship();
  ship->set_to_party_id(*to);
  for (const std::string& spec : batches) {
    auto q = QuantityOrRemaining(ctx, spec, "batches");
    if (!q.ok()) return q.status();
    *ship->add_batches() = *q;
  }
  ship->set_carrier(absl::GetFlag(FLAGS_carrier));
  ship->set_vehicle_plate(absl::GetFlag(FLAGS_plate));
  ship->set_waybill_no(absl::GetFlag(FLAGS_waybill));
  return SendEvent(ctx, *std::move(event));
}

absl::Status RunReceive(Context& ctx) {
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  auto transfer = RequiredFlag(FLAGS_transfer, "transfer", "receive");
  if (!transfer.ok()) return transfer.status();
  if (auto s = domain::ValidateEventId(*transfer, "--transfer"); !s.ok()) return AsUsage(s);
  const std::vector<std::string> received = absl::GetFlag(FLAGS_received);
  if (received.empty()) return UsageError("receive: --received BATCH:GRAMS,… is required");
  v1::Receive* receive = event->mutable_receive();
  receive->set_transfer_event_id(*transfer);
  for (const std::string& spec : received) {
    // 0 g is allowed: a lot lost in transit.
    const size_t colon = spec.find(':');
    if (colon == std::string::npos) {
      return UsageError(absl::StrCat("--received: \"", spec, "\" is not BATCH:GRAMS"));
    }
    auto batch = ExistingBatch(spec.substr(0, colon), "received");
    if (!batch.ok()) return batch.status();
    auto grams = ParseGrams(spec.substr(colon + 1), "--received", /*allow_zero=*/true);
    if (!grams.ok()) return AsUsage(grams.status());
    v1::BatchQuantity* q = receive->add_received();
    q->set_batch_id(*batch);
    q->set_grams(*grams);
  }
  receive->set_note(absl::GetFlag(FLAGS_note));
  return SendEvent(ctx, *std::move(event));
}

absl::Status RunStore(Context& ctx) {
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  auto action = ParseEnum<v1::StoreAction>(absl::GetFlag(FLAGS_action), "action");
  if (!action.ok()) return AsUsage(action.status());
  const std::vector<std::string> batches = absl::GetFlag(FLAGS_batches);
  if (batches.empty()) return UsageError("store: --batches BATCH,… is required");
  v1::Store* store = event->mutable_store();
  store->set_action(*action);
  for (const std::string& spec : batches) {
    auto batch = ExistingBatch(spec, "batches");
    if (!batch.ok()) return batch.status();
    store->add_batch_ids(*batch);
  }
  const std::string warehouse = absl::GetFlag(FLAGS_warehouse);
  store->set_warehouse_party_id(warehouse.empty() ? event->party_id() : warehouse);
  store->set_location(absl::GetFlag(FLAGS_location));
  if (const std::string cls = absl::GetFlag(FLAGS_storage_class); !cls.empty()) {
    auto value = ParseEnum<v1::StorageClass>(cls, "storage_class");
    if (!value.ok()) return AsUsage(value.status());
    store->set_storage_class(*value);
  }
  return SendEvent(ctx, *std::move(event));
}

absl::Status RunTrade(Context& ctx) {
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  auto buyer = RequiredFlag(FLAGS_buyer, "buyer", "trade");
  if (!buyer.ok()) return buyer.status();
  auto spec = RequiredFlag(FLAGS_batch, "batch", "trade");
  if (!spec.ok()) return spec.status();
  auto batch = QuantityOrRemaining(ctx, *spec, "batch");
  if (!batch.ok()) return batch.status();
  const int64_t fen = absl::GetFlag(FLAGS_price_fen);
  if (fen < 0) return UsageError("trade: --price_fen (total price in fen) is required");
  // The price is committed, never in clear: SHA-256(salt ‖ u64be(fen)) goes into the signed
  // event, the opening beside it.
  auto commitment = Commit(kTradePricePath, PriceValue(static_cast<uint64_t>(fen)));
  if (!commitment.ok()) return commitment.status();
  v1::Trade* trade = event->mutable_trade();
  const std::string seller = absl::GetFlag(FLAGS_seller);
  trade->set_seller_party_id(seller.empty() ? event->party_id() : seller);
  trade->set_buyer_party_id(*buyer);
  *trade->mutable_batch() = *batch;
  trade->set_price_commitment(commitment->commitment);
  trade->set_scale_id(absl::GetFlag(FLAGS_scale));
  trade->set_trade_no(absl::GetFlag(FLAGS_trade_no));
  return SendEvent(ctx, *std::move(event), {}, {std::move(commitment->opening)});
}

absl::Status RunDispense(Context& ctx) {
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  auto spec = RequiredFlag(FLAGS_batch, "batch", "dispense");
  if (!spec.ok()) return spec.status();
  auto batch = ExistingBatch(*spec, "batch");
  if (!batch.ok()) return batch.status();
  auto grams = GramsFlag(FLAGS_grams, "grams", "dispense");
  if (!grams.ok()) return grams.status();
  auto recipient = ParseEnum<v1::DispenseRecipient>(absl::GetFlag(FLAGS_recipient), "recipient");
  if (!recipient.ok()) return AsUsage(recipient.status());
  v1::Dispense* dispense = event->mutable_dispense();
  dispense->set_batch_id(*batch);
  dispense->set_grams(*grams);
  dispense->set_recipient(*recipient);
  dispense->set_recipient_party_id(absl::GetFlag(FLAGS_recipient_party));
  return SendEvent(ctx, *std::move(event));
}

}  // namespace herbtrace::cli
