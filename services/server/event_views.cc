#include "services/server/event_views.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace herbtrace::server {

absl::StatusOr<const LoggedEvent*> EventCache::Get(uint64_t seq) {
  auto at = std::lower_bound(index_.begin(), index_.end(), seq,
                             [](const auto& item, uint64_t s) { return item.first < s; });
  if (at != index_.end() && at->first == seq) return at->second;
  auto bytes = view_.EntryBytes(seq);
  if (!bytes.ok()) return bytes.status();
  return Keep(seq, *std::move(bytes));
}

absl::Status EventCache::Load(absl::Span<const uint64_t> seqs) {
  std::vector<uint64_t> missing;
  for (uint64_t seq : seqs) {
    auto at = std::lower_bound(index_.begin(), index_.end(), seq,
                               [](const auto& item, uint64_t s) { return item.first < s; });
    if (at == index_.end() || at->first != seq) missing.push_back(seq);
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  if (missing.empty()) return absl::OkStatus();
  auto bytes = view_.EntriesBytes(missing);
  if (!bytes.ok()) return bytes.status();
  for (size_t i = 0; i < missing.size(); ++i) {
    if (auto kept = Keep(missing[i], std::move((*bytes)[i])); !kept.ok()) return kept.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<const LoggedEvent*> EventCache::Keep(uint64_t seq, std::string bytes) {
  auto logged = std::make_unique<LoggedEvent>();
  logged->seq = seq;
  logged->bytes = std::move(bytes);
  if (!logged->entry.ParseFromString(logged->bytes)) {
    return absl::DataLossError(absl::StrCat("entry ", seq, ": stored bytes do not parse"));
  }
  if (!logged->event.ParseFromString(logged->entry.signed_event().payload())) {
    return absl::DataLossError(absl::StrCat("entry ", seq, ": payload does not parse as an Event"));
  }
  const LoggedEvent* out = logged.get();
  owned_.push_back(std::move(logged));
  auto at = std::lower_bound(index_.begin(), index_.end(), seq,
                             [](const auto& item, uint64_t s) { return item.first < s; });
  index_.insert(at, {seq, out});
  return out;
}

absl::StatusOr<const LoggedEvent*> EventCache::Find(absl::string_view event_id) {
  auto seq = view_.FindEvent(event_id);
  if (!seq.ok()) return seq.status();
  if (!seq->has_value()) {
    return absl::NotFoundError(absl::StrCat("event ", event_id, " is not in the log"));
  }
  return Get(**seq);
}

v1::LineageEdge EdgeFromEvent(const LoggedEvent& logged, const std::string& parent,
                              const std::string& child) {
  const v1::Event& e = logged.event;
  v1::LineageEdge edge;
  edge.set_parent_batch_id(parent);
  edge.set_child_batch_id(child);
  edge.set_seq(logged.seq);
  edge.set_event_id(e.event_id());
  *edge.mutable_occurred_at() = e.occurred_at();
  switch (e.kind_case()) {
    case v1::Event::kProcess:
      edge.set_kind(v1::LINEAGE_STEP_KIND_PROCESS);
      edge.set_process_kind(e.process().kind());
      if (e.process().input().batch_id() == parent) {
        edge.set_grams_consumed(e.process().input().grams());
      }
      break;
    case v1::Event::kSplit:
      edge.set_kind(v1::LINEAGE_STEP_KIND_SPLIT);
      for (const v1::BatchQuantity& out : e.split().outputs()) {
        if (out.batch_id() == child) edge.set_grams_consumed(out.grams());
      }
      break;
    case v1::Event::kMerge:
      edge.set_kind(v1::LINEAGE_STEP_KIND_MERGE);
      for (const v1::BatchQuantity& in : e.merge().inputs()) {
        if (in.batch_id() == parent) edge.set_grams_consumed(in.grams());
      }
      break;
    case v1::Event::kTransform:
      edge.set_kind(v1::LINEAGE_STEP_KIND_TRANSFORM);
      for (const v1::BatchQuantity& in : e.transform().inputs()) {
        if (in.batch_id() == parent) edge.set_grams_consumed(in.grams());
      }
      break;
    default:
      break;
  }
  return edge;
}

std::string TransferSender(const v1::Event& event) {
  switch (event.kind_case()) {
    case v1::Event::kShip:
      return event.party_id();
    case v1::Event::kTrade:
      return event.trade().seller_party_id().empty() ? event.party_id()
                                                     : event.trade().seller_party_id();
    case v1::Event::kRecallAck:
      return event.party_id();
    default:
      return "";
  }
}

std::vector<v1::CustodyStep> CustodyStepsFromEvent(
    const LoggedEvent& logged, const std::string& batch_id,
    const std::function<std::string(const std::string&)>& sender_of) {
  const v1::Event& e = logged.event;
  std::vector<v1::CustodyStep> steps;
  auto add = [&](v1::CustodyStepKind kind, const std::string& from, const std::string& to,
                 uint64_t grams) {
    v1::CustodyStep step;
    step.set_batch_id(batch_id);
    step.set_seq(logged.seq);
    step.set_kind(kind);
    step.set_from_party_id(from);
    step.set_to_party_id(to);
    step.set_grams(grams);
    *step.mutable_occurred_at() = e.occurred_at();
    steps.push_back(std::move(step));
  };
  switch (e.kind_case()) {
    case v1::Event::kShip:
      for (const v1::BatchQuantity& b : e.ship().batches()) {
        if (b.batch_id() == batch_id) {
          add(v1::CUSTODY_STEP_KIND_SHIP, e.party_id(), e.ship().to_party_id(), b.grams());
        }
      }
      break;
    case v1::Event::kTrade:
      if (e.trade().batch().batch_id() == batch_id) {
        add(v1::CUSTODY_STEP_KIND_TRADE, TransferSender(e), e.trade().buyer_party_id(),
            e.trade().batch().grams());
      }
      break;
    case v1::Event::kReceive:
      for (const v1::BatchQuantity& b : e.receive().received()) {
        if (b.batch_id() == batch_id) {
          add(v1::CUSTODY_STEP_KIND_RECEIVE, sender_of(e.receive().transfer_event_id()),
              e.party_id(), b.grams());
        }
      }
      break;
    case v1::Event::kStore:
      if (std::find(e.store().batch_ids().begin(), e.store().batch_ids().end(), batch_id) !=
          e.store().batch_ids().end()) {
        if (e.store().action() == v1::STORE_ACTION_IN) {
          add(v1::CUSTODY_STEP_KIND_STORE_IN, e.party_id(), e.store().warehouse_party_id(), 0);
        } else if (e.store().action() == v1::STORE_ACTION_OUT) {
          add(v1::CUSTODY_STEP_KIND_STORE_OUT, e.store().warehouse_party_id(), e.party_id(), 0);
        }
      }
      break;
    case v1::Event::kDispense:
      if (e.dispense().batch_id() == batch_id) {
        add(v1::CUSTODY_STEP_KIND_DISPENSE, e.party_id(), e.dispense().recipient_party_id(),
            e.dispense().grams());
      }
      break;
    case v1::Event::kRecallAck:
      if (e.recall_ack().batch_id() == batch_id) {
        add(v1::CUSTODY_STEP_KIND_RECALL_ACK, e.party_id(), e.recall_ack().returned_to_party_id(),
            e.recall_ack().grams());
      }
      break;
    default:
      break;
  }
  return steps;
}

std::optional<v1::OriginHarvest> HarvestFromEvent(const LoggedEvent& logged,
                                                  const std::string& batch_id) {
  const v1::Event& e = logged.event;
  if (e.kind_case() != v1::Event::kHarvest || e.harvest().batch_id() != batch_id) {
    return std::nullopt;
  }
  v1::OriginHarvest harvest;
  harvest.set_batch_id(batch_id);
  harvest.set_seq(logged.seq);
  harvest.set_grower_party_id(e.party_id());
  harvest.set_base_id(e.harvest().base_id());
  harvest.set_herb_code(e.harvest().herb_code());
  *harvest.mutable_harvest_date() = e.harvest().harvest_date();
  harvest.set_grams(e.harvest().grams());
  return harvest;
}

}  // namespace herbtrace::server
