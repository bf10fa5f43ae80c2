// The memory a server sizes its block cache from: the machine's, or the smallest limit of the
// control groups it is in, on cgroup v2 and v1 hierarchies laid out as the kernel does.
#include "services/server/memory_limit.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace herbtrace::server {
namespace {

using ::herbtrace::testing::TempDir;

uint64_t MachineMemory() {
  return static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
         static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE));
}

void Write(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

constexpr uint64_t kGiB = uint64_t{1} << 30;

TEST(MemoryLimitTest, WithoutControlGroupsItIsTheMachinesMemory) {
  TempDir dir;
  EXPECT_EQ(MemoryAvailable(dir.path() / "cgroup", dir.path() / "no-such-file"),
            MachineMemory());
  Write(dir.path() / "self", "0::/\n");
  Write(dir.path() / "cgroup" / "memory.max", "max\n");
  EXPECT_EQ(MemoryAvailable(dir.path() / "cgroup", dir.path() / "self"), MachineMemory());
}

TEST(MemoryLimitTest, CgroupV2TheSmallestLimitFromTheGroupUpToTheRoot) {
  TempDir dir;
  const std::filesystem::path root = dir.path() / "cgroup";
  Write(dir.path() / "self", "0::/system.slice/herbtrace-reader.service\n");
  Write(root / "memory.max", "max\n");
  Write(root / "system.slice" / "memory.max", "max\n");
  Write(root / "system.slice" / "herbtrace-reader.service" / "memory.max",
        std::to_string(2 * kGiB) + "\n");
  EXPECT_EQ(MemoryAvailable(root, dir.path() / "self"), 2 * kGiB);
  // A parent's limit below the unit's own counts too.
  Write(root / "system.slice" / "memory.max", std::to_string(kGiB) + "\n");
  EXPECT_EQ(MemoryAvailable(root, dir.path() / "self"), kGiB);
}

TEST(MemoryLimitTest, CgroupV1MemoryControllerAndNamespacedPaths) {
  TempDir dir;
  const std::filesystem::path root = dir.path() / "cgroup";
  Write(dir.path() / "self",
        "9:pids:/\n4:cpu,memory:/kubepods/pod1/writer\n1:name=systemd:/\n");
  // v1 reports "unlimited" as a huge number.
  Write(root / "memory" / "memory.limit_in_bytes", "9223372036854771712\n");
  Write(root / "memory" / "kubepods" / "pod1" / "writer" / "memory.limit_in_bytes",
        std::to_string(4 * kGiB) + "\n");
  EXPECT_EQ(MemoryAvailable(root, dir.path() / "self"), std::min(4 * kGiB, MachineMemory()));
  // A group named from outside the namespace: only the namespace's root is read.
  Write(dir.path() / "outside", "4:memory:/../../other\n");
  Write(root / "memory" / "memory.limit_in_bytes", std::to_string(3 * kGiB) + "\n");
  EXPECT_EQ(MemoryAvailable(root, dir.path() / "outside"), std::min(3 * kGiB, MachineMemory()));
}

TEST(MemoryLimitTest, ALimitAboveTheMachinesMemoryOrUnreadableIsNoLimit) {
  TempDir dir;
  const std::filesystem::path root = dir.path() / "cgroup";
  Write(dir.path() / "self", "0::/big\n");
  Write(root / "big" / "memory.max", std::to_string(MachineMemory() * 4) + "\n");
  EXPECT_EQ(MemoryAvailable(root, dir.path() / "self"), MachineMemory());
  Write(root / "big" / "memory.max", "not a number\n");
  EXPECT_EQ(MemoryAvailable(root, dir.path() / "self"), MachineMemory());
}

}  // namespace
}  // namespace herbtrace::server
