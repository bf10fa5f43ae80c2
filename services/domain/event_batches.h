// Which batches an event touches, and which lineage edges it creates, read off the event alone.
// The ledger links every touched batch's hash chain (batch_prev); the lineage indexes answer
// "what was this made from" (up) and "what was made from this" (down).
#ifndef HERBTRACE_SERVICES_DOMAIN_EVENT_BATCHES_H_
#define HERBTRACE_SERVICES_DOMAIN_EVENT_BATCHES_H_

#include <string>
#include <utility>
#include <vector>

#include "herbtrace/v1/event.pb.h"

namespace herbtrace::domain {

// Every batch id the event names, inputs and outputs, sorted and unique. Registration events
// touch none.
std::vector<std::string> TouchedBatchIds(const v1::Event& event);

struct LineageEdge {
  std::string parent;  // input lot
  std::string child;   // lot made from it
  friend bool operator==(const LineageEdge&, const LineageEdge&) = default;
};

// The parent → child edges of a process, split, merge or transform; none for other kinds.
std::vector<LineageEdge> LineageEdges(const v1::Event& event);

}  // namespace herbtrace::domain

#endif  // HERBTRACE_SERVICES_DOMAIN_EVENT_BATCHES_H_
