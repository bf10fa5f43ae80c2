#include "services/server/memory_limit.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace herbtrace::server {
namespace {

// The smallest limit in `file_name` from `group` up to `root`; "max" (v2) and v1's huge
// "unlimited" values are larger than any machine and drop out against its memory.
uint64_t SmallestLimit(const std::filesystem::path& root, const std::filesystem::path& group,
                       const char* file_name, uint64_t memory) {
  std::filesystem::path dir = group;
  for (;;) {
    std::ifstream in(dir / file_name);
    uint64_t limit = 0;
    if (in >> limit && limit > 0 && (memory == 0 || limit < memory)) memory = limit;
    if (dir == root || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  return memory;
}

}  // namespace

uint64_t MemoryAvailable(const std::filesystem::path& cgroup_root,
                         const std::filesystem::path& proc_self_cgroup) {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  uint64_t memory = pages > 0 && page_size > 0 ? static_cast<uint64_t>(pages) * page_size : 0;
  // Lines "hierarchy:controllers:path": "0::/path" for v2, "N:…memory…:/path" for v1.
  std::ifstream in(proc_self_cgroup);
  for (std::string line; std::getline(in, line);) {
    const std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() != 3 || parts[2].empty() || parts[2][0] != '/') continue;
    // Outside its cgroup namespace a group can be named from above ("/../x"): only the
    // hierarchy's root, which is the namespace's own group, is read then.
    const std::string path(parts[2].substr(1));
    auto group = [&path](const std::filesystem::path& root) {
      return path.empty() || absl::StrContains(path, "..") ? root : root / path;
    };
    if (parts[0] == "0" && parts[1].empty()) {
      memory = SmallestLimit(cgroup_root, group(cgroup_root), "memory.max", memory);
      continue;
    }
    const std::vector<absl::string_view> controllers = absl::StrSplit(parts[1], ',');
    for (absl::string_view controller : controllers) {
      if (controller != "memory") continue;
      const std::filesystem::path v1_root = cgroup_root / "memory";
      memory = SmallestLimit(v1_root, group(v1_root), "memory.limit_in_bytes", memory);
    }
  }
  return memory;
}

}  // namespace herbtrace::server
