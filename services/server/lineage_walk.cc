#include "services/server/lineage_walk.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace herbtrace::server {

absl::StatusOr<LineageWalk> WalkLineage(const std::string& start, const NeighboursFn& neighbours,
                                        const WalkLimits& limits,
                                        const std::function<bool()>& cancelled) {
  LineageWalk walk;
  absl::flat_hash_set<std::string> seen = {start};
  std::vector<std::string> level = {start};
  for (uint32_t depth = 0; !level.empty(); ++depth) {
    std::sort(level.begin(), level.end());
    std::vector<std::string> next;
    for (std::string& id : level) {
      if (cancelled && cancelled()) {
        return absl::CancelledError("the call was cancelled or its deadline passed");
      }
      auto found = neighbours(id);
      if (!found.ok()) return found.status();
      for (std::string& other : *found) {
        if (walk.links.size() >= limits.max_links) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "the ", limits.what, " has more than ", limits.max_links,
              " lineage links, the server's maximum for one response; query a lot further along "
              "the chain"));
        }
        walk.links.emplace_back(id, other);
        if (seen.insert(other).second) next.push_back(std::move(other));
      }
      walk.lots.push_back(WalkedLot{std::move(id), depth});
      if (walk.lots.size() + next.size() > limits.max_lots) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "the ", limits.what, " has more than ", limits.max_lots,
            " lots, the server's maximum for one response; query a lot further along the "
            "chain"));
      }
    }
    level = std::move(next);
  }
  std::sort(walk.links.begin(), walk.links.end());
  walk.links.erase(std::unique(walk.links.begin(), walk.links.end()), walk.links.end());
  return walk;
}

}  // namespace herbtrace::server
