#include "storage/tree_nodes.h"

#include "absl/strings/str_cat.h"
#include "storage/key_codec.h"

namespace herbtrace::storage {

std::string TreeNodeKey(crypto::NodeId id) {
  std::string key(1, static_cast<char>(id.level));
  AppendBigEndian64(&key, id.index);
  return key;
}

absl::StatusOr<crypto::Digest> TreeNodeReader::ReadNode(crypto::NodeId id) const {
  auto value = db_.Get(Cf::kTree, TreeNodeKey(id));
  if (!value.ok()) return value.status();
  if (!value->has_value()) {
    return absl::NotFoundError(
        absl::StrCat("tree node (level ", id.level, ", index ", id.index, ") is not stored"));
  }
  return crypto::DigestFromBytes(**value, absl::StrCat("tree node (level ", id.level, ", index ",
                                                       id.index, ")"));
}

}  // namespace herbtrace::storage
