#include "storage/log_view.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "storage/key_codec.h"

namespace herbtrace::storage {

std::string EncodeBatchHead(const BatchHead& head) {
  std::string value = BigEndian64(head.seq);
  { const absl::string_view b = crypto::AsBytes(head.leaf_hash); value.append(b.data(), b.size()); }
  return value;
}

absl::StatusOr<BatchHead> DecodeBatchHead(absl::string_view value, absl::string_view batch_id) {
  if (value.size() != 8 + crypto::kDigestSize) {
    return absl::DataLossError(
        absl::StrCat("batch_heads[", batch_id, "]: stored value has ", value.size(), " bytes"));
  }
  BatchHead head;
  head.seq = ReadBigEndian64(value);
  auto hash = crypto::DigestFromBytes(value.substr(8), "batch head");
  if (!hash.ok()) return hash.status();
  head.leaf_hash = *hash;
  return head;
}

std::string EncodeEventRecord(const EventRecord& record) {
  std::string value = BigEndian64(record.seq);
  const absl::string_view b = crypto::AsBytes(record.payload_hash);
  value.append(b.data(), b.size());
  AppendBigEndian64(&value, record.committed_size);
  return value;
}

absl::StatusOr<EventRecord> DecodeEventRecord(absl::string_view value,
                                              absl::string_view event_id) {
  if (value.size() != 16 + crypto::kDigestSize) {
    return absl::DataLossError(
        absl::StrCat("event_ids[", event_id, "]: stored value has ", value.size(), " bytes"));
  }
  EventRecord record;
  record.seq = ReadBigEndian64(value);
  record.payload_hash = *crypto::DigestFromBytes(value.substr(8, crypto::kDigestSize), "hash");
  record.committed_size = ReadBigEndian64(value.substr(8 + crypto::kDigestSize));
  return record;
}

std::string BatchEntryKey(absl::string_view batch_id, uint64_t seq) {
  std::string key(batch_id);
  key.push_back('\0');
  AppendBigEndian64(&key, seq);
  return key;
}

absl::StatusOr<uint64_t> DecodeTreeSize(absl::string_view value) {
  if (value.size() != 8) {
    return absl::DataLossError(
        absl::StrCat("meta tree_size: stored value has ", value.size(), " bytes, want 8"));
  }
  return ReadBigEndian64(value);
}

absl::StatusOr<uint64_t> LogView::Size() const {
  auto value = db_.Get(Cf::kMeta, kMetaTreeSize);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return 0;
  return DecodeTreeSize(**value);
}

absl::Status LogView::CheckSize(uint64_t size, absl::string_view field) const {
  auto stored = Size();
  if (!stored.ok()) return stored.status();
  if (size > *stored) {
    return absl::OutOfRangeError(
        absl::StrCat(field, ": ", size, " is beyond the log's size ", *stored));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LogView::EntryBytes(uint64_t seq) const {
  auto value = db_.Get(Cf::kEntries, BigEndian64(seq));
  if (!value.ok()) return value.status();
  if (!value->has_value()) {
    return absl::NotFoundError(absl::StrCat("entry ", seq, ": not in the log"));
  }
  return std::move(**value);
}

absl::StatusOr<std::vector<std::string>> LogView::EntriesBytes(
    absl::Span<const uint64_t> seqs) const {
  // MultiGet wants its keys in order; `seqs` may come in any.
  std::vector<size_t> order(seqs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&seqs](size_t a, size_t b) { return seqs[a] < seqs[b]; });
  std::vector<std::string> key_bytes;
  key_bytes.reserve(seqs.size());
  for (size_t i : order) key_bytes.push_back(BigEndian64(seqs[i]));
  const std::vector<rocksdb::Slice> keys(key_bytes.begin(), key_bytes.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_.db().MultiGet(rocksdb::ReadOptions(), db_.cf(Cf::kEntries), keys.size(), keys.data(),
                    values.data(), statuses.data(), /*sorted_input=*/true);
  std::vector<std::string> out(seqs.size());
  for (size_t k = 0; k < order.size(); ++k) {
    const uint64_t seq = seqs[order[k]];
    if (statuses[k].IsNotFound()) {
      return absl::NotFoundError(absl::StrCat("entry ", seq, ": not in the log"));
    }
    if (!statuses[k].ok()) return FromRocks(statuses[k], absl::StrCat("reading entry ", seq));
    out[order[k]].assign(values[k].data(), values[k].size());
  }
  return out;
}

absl::StatusOr<crypto::Digest> LogView::LeafHash(uint64_t seq) const {
  return nodes_.ReadNode(crypto::NodeId{0, seq});
}

absl::StatusOr<crypto::Digest> LogView::RootAt(uint64_t size) const {
  if (auto s = CheckSize(size, "tree_size"); !s.ok()) return s;
  return crypto::TreeRoot(hasher_, nodes_, size);
}

absl::StatusOr<std::vector<crypto::Digest>> LogView::InclusionProof(uint64_t seq,
                                                                   uint64_t tree_size) const {
  if (auto s = CheckSize(tree_size, "tree_size"); !s.ok()) return s;
  return crypto::InclusionProof(hasher_, nodes_, seq, tree_size);
}

absl::StatusOr<std::vector<LogView::ProvenEntry>> LogView::ProvenEntries(
    absl::Span<const uint64_t> seqs, uint64_t tree_size, std::optional<uint64_t> log_size) const {
  if (log_size.has_value() && tree_size > *log_size) {
    return absl::OutOfRangeError(
        absl::StrCat("tree_size: ", tree_size, " is beyond the log's size ", *log_size));
  }
  if (!log_size.has_value()) {
    if (auto s = CheckSize(tree_size, "tree_size"); !s.ok()) return s;
  }
  std::vector<ProvenEntry> out(seqs.size());
  if (seqs.empty()) return out;
  auto proofs = crypto::InclusionProofs(hasher_, nodes_, seqs, tree_size);
  if (!proofs.ok()) return proofs.status();

  // Leaves are level 0, below the cached levels: straight to the stored nodes, one batch.
  std::vector<crypto::NodeId> leaves;
  leaves.reserve(seqs.size());
  for (uint64_t seq : seqs) leaves.push_back(crypto::NodeId{0, seq});
  auto leaf_hashes = stored_nodes_.ReadNodes(leaves);
  if (!leaf_hashes.ok()) return leaf_hashes.status();

  auto bytes = EntriesBytes(seqs);
  if (!bytes.ok()) return bytes.status();
  for (size_t i = 0; i < seqs.size(); ++i) {
    ProvenEntry& e = out[i];
    e.seq = seqs[i];
    e.bytes = std::move((*bytes)[i]);
    e.leaf_hash = (*leaf_hashes)[i];
    e.proof = std::move((*proofs)[i]);
  }
  return out;
}

absl::StatusOr<std::vector<crypto::Digest>> LogView::ConsistencyProof(uint64_t size1,
                                                                     uint64_t size2) const {
  if (auto s = CheckSize(size2, "size2"); !s.ok()) return s;
  return crypto::ConsistencyProof(hasher_, nodes_, size1, size2);
}

absl::StatusOr<v1::Receipt> LogView::ReceiptFor(uint64_t seq, uint64_t tree_size) const {
  if (seq >= tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree_size: ", tree_size, " does not include entry ", seq));
  }
  auto bytes = EntryBytes(seq);
  if (!bytes.ok()) return bytes.status();
  v1::LedgerEntry entry;
  if (!entry.ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat("entry ", seq, ": stored bytes do not parse"));
  }
  auto leaf = LeafHash(seq);
  if (!leaf.ok()) return leaf.status();
  auto root = crypto::TreeRoot(hasher_, nodes_, tree_size);
  if (!root.ok()) return root.status();
  v1::Receipt receipt;
  receipt.set_event_id(entry.event_id());
  receipt.set_seq(seq);
  receipt.set_leaf_hash(std::string(crypto::AsBytes(*leaf)));
  receipt.set_received_at_unix_micros(entry.received_at_unix_micros());
  receipt.set_tree_size(tree_size);
  receipt.set_root_hash(std::string(crypto::AsBytes(*root)));
  return receipt;
}

absl::StatusOr<std::optional<EventRecord>> LogView::FindEventRecord(
    absl::string_view event_id) const {
  auto value = db_.Get(Cf::kEventIds, event_id);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::nullopt;
  auto record = DecodeEventRecord(**value, event_id);
  if (!record.ok()) return record.status();
  return *record;
}

absl::StatusOr<std::optional<uint64_t>> LogView::FindEvent(absl::string_view event_id) const {
  auto record = FindEventRecord(event_id);
  if (!record.ok()) return record.status();
  if (!record->has_value()) return std::nullopt;
  return (*record)->seq;
}

absl::StatusOr<std::optional<std::string>> LogView::LatestCheckpointNote() const {
  return db_.Get(Cf::kMeta, kMetaCheckpoint);
}

absl::StatusOr<std::optional<BatchHead>> LogView::Head(absl::string_view batch_id) const {
  auto value = db_.Get(Cf::kBatchHeads, batch_id);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::nullopt;
  auto head = DecodeBatchHead(**value, batch_id);
  if (!head.ok()) return head.status();
  return *head;
}

absl::StatusOr<std::vector<uint64_t>> LogView::BatchHistory(absl::string_view batch_id) const {
  std::string prefix(batch_id);
  prefix.push_back('\0');
  // The bound keeps the iterator from loading the next batch's block just to see it is past.
  std::string end(batch_id);
  end.push_back('\1');
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator(options, db_.cf(Cf::kBatchEntries)));
  std::vector<uint64_t> seqs;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 8) {
      return absl::DataLossError(absl::StrCat("batch_entries[", batch_id, "]: malformed key"));
    }
    seqs.push_back(ReadBigEndian64(absl::string_view(it->key().data() + prefix.size(), 8)));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading batch_entries");
  return seqs;
}

}  // namespace herbtrace::storage
