#include "storage/tree_nodes.h"

#include "absl/strings/str_cat.h"
#include "storage/key_codec.h"

namespace herbtrace::storage {

std::string TreeNodeKey(crypto::NodeId id) {
  return BigEndian64(((id.index + 1) << id.level) - 1);
}

std::string EncodeTreeNodes(const std::vector<std::pair<crypto::NodeId, crypto::Digest>>& nodes) {
  std::string value;
  value.reserve(nodes.size() * crypto::kDigestSize);
  for (const auto& node : nodes) {
    const absl::string_view b = crypto::AsBytes(node.second);
    value.append(b.data(), b.size());
  }
  return value;
}

absl::StatusOr<crypto::Digest> TreeNodeReader::ReadNode(crypto::NodeId id) const {
  const std::string where = absl::StrCat("tree node (level ", id.level, ", index ", id.index, ")");
  if (id.level >= 64 || (id.level > 0 && (id.index >> (64 - id.level)) != 0)) {
    return absl::NotFoundError(absl::StrCat(where, ": beyond any tree"));
  }
  auto value = db_.Get(Cf::kTree, TreeNodeKey(id));
  if (!value.ok()) return value.status();
  if (!value->has_value()) return absl::NotFoundError(absl::StrCat(where, ": not stored"));
  const std::string& hashes = **value;
  const size_t offset = size_t{id.level} * crypto::kDigestSize;
  if (hashes.size() % crypto::kDigestSize != 0 || hashes.size() < offset + crypto::kDigestSize) {
    return absl::DataLossError(absl::StrCat(where, ": stored value has ", hashes.size(),
                                            " bytes, too few for level ", id.level));
  }
  return crypto::DigestFromBytes(absl::string_view(hashes).substr(offset, crypto::kDigestSize),
                                 where);
}

absl::StatusOr<crypto::Digest> CachedNodeReader::ReadNode(crypto::NodeId id) const {
  if (id.level < kCachedLevel) return base_.ReadNode(id);
  const std::pair<uint8_t, uint64_t> key{id.level, id.index};
  {
    absl::MutexLock lock(&mu_);
    if (auto it = nodes_.find(key); it != nodes_.end()) return it->second;
  }
  auto node = base_.ReadNode(id);
  if (!node.ok()) return node;  // not stored yet, or unreadable: asked again next time
  absl::MutexLock lock(&mu_);
  if (nodes_.size() < kMaxNodes) nodes_.emplace(key, *node);
  return node;
}

}  // namespace herbtrace::storage
