// How much memory this process may use, for sizing its caches.
#ifndef HERBTRACE_SERVICES_SERVER_MEMORY_LIMIT_H_
#define HERBTRACE_SERVICES_SERVER_MEMORY_LIMIT_H_

#include <cstdint>
#include <filesystem>

namespace herbtrace::server {

// The machine's memory, or less when a control group the process is in limits it: cgroup v2
// `memory.max` or v1 `memory.limit_in_bytes`, from the process's own group (as
// `proc_self_cgroup` names it) up to the hierarchy's root, so that a container's limit, a
// systemd unit's MemoryMax= and a limit on a parent group all count. 0 when nothing is known.
uint64_t MemoryAvailable(const std::filesystem::path& cgroup_root = "/sys/fs/cgroup",
                         const std::filesystem::path& proc_self_cgroup = "/proc/self/cgroup");

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_MEMORY_LIMIT_H_
