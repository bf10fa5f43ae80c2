#include "services/domain/event_batches.h"

#include <algorithm>

namespace herbtrace::domain {
namespace {

void Add(std::vector<std::string>& ids, const std::string& id) {
  if (!id.empty()) ids.push_back(id);
}

}  // namespace

std::vector<std::string> TouchedBatchIds(const v1::Event& event) {
  std::vector<std::string> ids;
  switch (event.kind_case()) {
    case v1::Event::kHarvest:
      Add(ids, event.harvest().batch_id());
      break;
    case v1::Event::kProcess:
      Add(ids, event.process().input().batch_id());
      Add(ids, event.process().output_batch_id());
      break;
    case v1::Event::kSplit:
      Add(ids, event.split().input_batch_id());
      for (const auto& out : event.split().outputs()) Add(ids, out.batch_id());
      break;
    case v1::Event::kMerge:
      for (const auto& in : event.merge().inputs()) Add(ids, in.batch_id());
      Add(ids, event.merge().output_batch_id());
      break;
    case v1::Event::kTransform:
      for (const auto& in : event.transform().inputs()) Add(ids, in.batch_id());
      for (const auto& out : event.transform().outputs()) Add(ids, out.batch_id());
      break;
    case v1::Event::kShip:
      for (const auto& b : event.ship().batches()) Add(ids, b.batch_id());
      break;
    case v1::Event::kReceive:
      for (const auto& b : event.receive().received()) Add(ids, b.batch_id());
      break;
    case v1::Event::kStore:
      for (const auto& id : event.store().batch_ids()) Add(ids, id);
      break;
    case v1::Event::kTrade:
      Add(ids, event.trade().batch().batch_id());
      break;
    case v1::Event::kDispense:
      Add(ids, event.dispense().batch_id());
      break;
    case v1::Event::kQualityTest:
      Add(ids, event.quality_test().batch_id());
      break;
    case v1::Event::kRecall:
      Add(ids, event.recall().batch_id());
      break;
    case v1::Event::kRecallAck:
      Add(ids, event.recall_ack().batch_id());
      break;
    case v1::Event::kReleaseHold:
      Add(ids, event.release_hold().batch_id());
      break;
    default:
      break;
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::vector<LineageEdge> LineageEdges(const v1::Event& event) {
  std::vector<LineageEdge> edges;
  switch (event.kind_case()) {
    case v1::Event::kProcess:
      edges.push_back({event.process().input().batch_id(), event.process().output_batch_id()});
      break;
    case v1::Event::kSplit:
      for (const auto& out : event.split().outputs()) {
        edges.push_back({event.split().input_batch_id(), out.batch_id()});
      }
      break;
    case v1::Event::kMerge:
      for (const auto& in : event.merge().inputs()) {
        edges.push_back({in.batch_id(), event.merge().output_batch_id()});
      }
      break;
    case v1::Event::kTransform:
      for (const auto& in : event.transform().inputs()) {
        for (const auto& out : event.transform().outputs()) {
          edges.push_back({in.batch_id(), out.batch_id()});
        }
      }
      break;
    default:
      break;
  }
  return edges;
}

}  // namespace herbtrace::domain
