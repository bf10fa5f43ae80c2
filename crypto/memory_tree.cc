#include "crypto/memory_tree.h"

#include "absl/strings/str_cat.h"

namespace herbtrace::crypto {

MemoryTree::MemoryTree(const Hasher& hasher, std::vector<Digest> leaves) : hasher_(hasher) {
  levels_.push_back(std::move(leaves));
  while (levels_.back().size() > 1) {
    const std::vector<Digest>& below = levels_.back();
    std::vector<Digest> level;
    level.reserve(below.size() / 2);
    for (size_t i = 0; i + 1 < below.size(); i += 2) {
      level.push_back(HashChildren(hasher_, below[i], below[i + 1]));
    }
    levels_.push_back(std::move(level));
  }
}

Digest MemoryTree::Root() const {
  // Every node a root needs is stored, so this cannot fail.
  return *TreeRoot(hasher_, *this, size());
}

std::vector<Digest> MemoryTree::InclusionProof(uint64_t index) const {
  return *crypto::InclusionProof(hasher_, *this, index, size());
}

absl::StatusOr<Digest> MemoryTree::ReadNode(NodeId id) const {
  if (id.level >= levels_.size() || id.index >= levels_[id.level].size()) {
    return absl::NotFoundError(
        absl::StrCat("tree node (level ", id.level, ", index ", id.index, ") is not complete"));
  }
  return levels_[id.level][id.index];
}

}  // namespace herbtrace::crypto
