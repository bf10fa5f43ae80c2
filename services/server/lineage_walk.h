// Breadth-first walks over the lineage indexes: upstream (towards the harvests) or downstream
// (towards every lot made from a batch). Iterative, with an explicit frontier and a visited set,
// so a chain of any length costs heap, not stack; bounded, so one query cannot make the server
// walk the whole market.
#ifndef HERBTRACE_SERVICES_SERVER_LINEAGE_WALK_H_
#define HERBTRACE_SERVICES_SERVER_LINEAGE_WALK_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace herbtrace::server {

struct WalkedLot {
  std::string batch_id;
  uint32_t depth = 0;  // 0 = the start
};

struct LineageWalk {
  // Breadth-first, and within one depth by batch_id; each lot once, at its smallest depth.
  std::vector<WalkedLot> lots;
  // Every (from, to) pair the walk followed, `to` being a neighbour of `from`; sorted, unique.
  std::vector<std::pair<std::string, std::string>> links;
};

struct WalkLimits {
  size_t max_lots = 10'000;
  size_t max_links = 50'000;
  // What the walk is, for the RESOURCE_EXHAUSTED message ("upstream of 1130…").
  std::string what = "lineage";
};

// Neighbours of one lot: parents for an upstream walk, children for a downstream one.
using NeighboursFn = std::function<absl::StatusOr<std::vector<std::string>>(const std::string&)>;

// ResourceExhausted naming the limit when the walk reaches more lots or links than allowed;
// Cancelled when `cancelled` (may be empty) turns true; a neighbour error is returned as is.
absl::StatusOr<LineageWalk> WalkLineage(const std::string& start, const NeighboursFn& neighbours,
                                        const WalkLimits& limits,
                                        const std::function<bool()>& cancelled = {});

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_LINEAGE_WALK_H_
