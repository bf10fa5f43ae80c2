#include "storage/tree_nodes.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
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

namespace {

std::string Where(crypto::NodeId id) {
  return absl::StrCat("tree node (level ", id.level, ", index ", id.index, ")");
}

// Whether node `id` can exist at all: its key, ((index + 1) << level) - 1, fits in 64 bits.
bool WithinAnyTree(crypto::NodeId id) {
  return id.level < 64 && (id.level == 0 || (id.index >> (64 - id.level)) == 0);
}

// Node `id` out of the value stored under its key.
absl::StatusOr<crypto::Digest> NodeFromValue(crypto::NodeId id, absl::string_view hashes) {
  const size_t offset = size_t{id.level} * crypto::kDigestSize;
  if (hashes.size() % crypto::kDigestSize != 0 || hashes.size() < offset + crypto::kDigestSize) {
    return absl::DataLossError(absl::StrCat(Where(id), ": stored value has ", hashes.size(),
                                            " bytes, too few for level ", id.level));
  }
  crypto::Digest d;
  std::memcpy(d.data(), hashes.data() + offset, crypto::kDigestSize);
  return d;
}

absl::Status BeyondAnyTree(crypto::NodeId id) {
  return absl::NotFoundError(absl::StrCat(Where(id), ": beyond any tree"));
}

absl::Status NotStored(crypto::NodeId id) {
  return absl::NotFoundError(absl::StrCat(Where(id), ": not stored"));
}

uint64_t NodeSeq(crypto::NodeId id) { return ((id.index + 1) << id.level) - 1; }

}  // namespace

absl::StatusOr<crypto::Digest> TreeNodeReader::ReadNode(crypto::NodeId id) const {
  if (!WithinAnyTree(id)) return BeyondAnyTree(id);
  auto value = db_.Get(Cf::kTree, TreeNodeKey(id));
  if (!value.ok()) return value.status();
  if (!value->has_value()) return NotStored(id);
  return NodeFromValue(id, **value);
}

absl::StatusOr<std::vector<crypto::Digest>> TreeNodeReader::ReadNodes(
    absl::Span<const crypto::NodeId> ids) const {
  // Several nodes live under one key (a leaf and the subtrees it completed): read each key once.
  std::vector<uint64_t> seqs;
  seqs.reserve(ids.size());
  for (const crypto::NodeId& id : ids) {
    if (!WithinAnyTree(id)) return BeyondAnyTree(id);
    seqs.push_back(NodeSeq(id));
  }
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  std::vector<std::string> key_bytes;
  key_bytes.reserve(seqs.size());
  for (uint64_t seq : seqs) key_bytes.push_back(BigEndian64(seq));
  const std::vector<rocksdb::Slice> keys(key_bytes.begin(), key_bytes.end());
  std::vector<rocksdb::PinnableSlice> values(seqs.size());
  std::vector<rocksdb::Status> statuses(seqs.size());
  // Big-endian keys sorted numerically are sorted bytewise, as the column family orders them.
  db_.db().MultiGet(rocksdb::ReadOptions(), db_.cf(Cf::kTree), keys.size(), keys.data(),
                    values.data(), statuses.data(), /*sorted_input=*/true);
  std::vector<crypto::Digest> out;
  out.reserve(ids.size());
  for (const crypto::NodeId& id : ids) {
    const size_t at = std::lower_bound(seqs.begin(), seqs.end(), NodeSeq(id)) - seqs.begin();
    if (statuses[at].IsNotFound()) return NotStored(id);
    if (!statuses[at].ok()) return FromRocks(statuses[at], absl::StrCat("reading ", Where(id)));
    auto node = NodeFromValue(id, absl::string_view(values[at].data(), values[at].size()));
    if (!node.ok()) return node.status();
    out.push_back(*node);
  }
  return out;
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

absl::StatusOr<std::vector<crypto::Digest>> CachedNodeReader::ReadNodes(
    absl::Span<const crypto::NodeId> ids) const {
  std::vector<crypto::Digest> out(ids.size());
  std::vector<size_t> missing_at;
  std::vector<crypto::NodeId> missing;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i].level >= kCachedLevel) {
        const std::pair<uint8_t, uint64_t> key{ids[i].level, ids[i].index};
        if (auto it = nodes_.find(key); it != nodes_.end()) {
          out[i] = it->second;
          continue;
        }
      }
      missing_at.push_back(i);
      missing.push_back(ids[i]);
    }
  }
  if (missing.empty()) return out;
  auto read = base_.ReadNodes(missing);
  if (!read.ok()) return read.status();  // nothing kept: asked again next time
  if (read->size() != missing.size()) {
    return absl::InternalError(absl::StrCat("tree nodes: asked for ", missing.size(), ", got ",
                                            read->size()));
  }
  absl::MutexLock lock(&mu_);
  for (size_t j = 0; j < missing.size(); ++j) {
    out[missing_at[j]] = (*read)[j];
    if (missing[j].level >= kCachedLevel && nodes_.size() < kMaxNodes) {
      nodes_.emplace(std::make_pair(missing[j].level, missing[j].index), (*read)[j]);
    }
  }
  return out;
}

}  // namespace herbtrace::storage
