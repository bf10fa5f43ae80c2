#include "services/server/trace_reads.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "services/server/checkpoints.h"
#include "storage/ledger_db.h"

namespace herbtrace::server {
namespace {

void SetBytes(std::string* out, const crypto::Digest& d) {
  const absl::string_view b = crypto::AsBytes(d);
  out->assign(b.data(), b.size());
}

// What one MultiGet reads for a batch: the log's size (when asked for), the batch's state and
// the head of its chain. One consistent view of the three families, and one call into RocksDB.
struct BatchRecords {
  uint64_t log_size = 0;
  std::optional<v1::BatchState> state;
  std::optional<storage::BatchHead> head;
};

absl::StatusOr<BatchRecords> ReadBatchRecords(const storage::LedgerDb& db,
                                              const std::string& batch_id, bool with_size) {
  using storage::Cf;
  rocksdb::ColumnFamilyHandle* families[3] = {db.cf(Cf::kBatchState), db.cf(Cf::kBatchHeads),
                                              db.cf(Cf::kMeta)};
  const rocksdb::Slice keys[3] = {rocksdb::Slice(batch_id), rocksdb::Slice(batch_id),
                                  rocksdb::Slice(storage::kMetaTreeSize.data(),
                                                 storage::kMetaTreeSize.size())};
  rocksdb::PinnableSlice values[3];
  rocksdb::Status statuses[3];
  const size_t count = with_size ? 3 : 2;
  db.db().MultiGet(rocksdb::ReadOptions(), count, families, keys, values, statuses);
  for (size_t i = 0; i < count; ++i) {
    if (!statuses[i].ok() && !statuses[i].IsNotFound()) {
      return storage::FromRocks(
          statuses[i], absl::StrCat("reading ", storage::CfName(i == 0   ? Cf::kBatchState
                                                                 : i == 1 ? Cf::kBatchHeads
                                                                          : Cf::kMeta),
                                    " for ", batch_id));
    }
  }
  BatchRecords out;
  if (statuses[0].ok()) {
    v1::BatchState& state = out.state.emplace();
    if (!state.ParseFromArray(values[0].data(), static_cast<int>(values[0].size()))) {
      return absl::DataLossError(
          absl::StrCat("state value under '", batch_id, "' does not parse"));
    }
  }
  if (statuses[1].ok()) {
    auto head = storage::DecodeBatchHead(absl::string_view(values[1].data(), values[1].size()),
                                         batch_id);
    if (!head.ok()) return head.status();
    out.head = *head;
  }
  if (with_size && statuses[2].ok()) {
    auto size = storage::DecodeTreeSize(absl::string_view(values[2].data(), values[2].size()));
    if (!size.ok()) return size.status();
    out.log_size = *size;
  }
  return out;
}

absl::StatusOr<BatchNow> ReadBatchAt(LogSource& source, const std::string& batch_id,
                                     std::optional<uint64_t> as_of, Waiting waiting) {
  auto records = ReadBatchRecords(source.db(), batch_id, !as_of.has_value());
  if (!records.ok()) return records.status();
  if (!records->state.has_value() && source.is_replica()) {
    if (waiting == Waiting::kRefused) return WouldWait("the replica to catch up");
    if (auto s = source.CatchUp(); !s.ok()) return s;
    records = ReadBatchRecords(source.db(), batch_id, !as_of.has_value());
    if (!records.ok()) return records.status();
  }
  if (!records->state.has_value()) {
    return absl::NotFoundError(absl::StrCat("batch_id: ", batch_id, " is not in the log"));
  }
  BatchNow out;
  out.log_size = as_of.value_or(records->log_size);
  out.state = *std::move(records->state);
  v1::BatchState& state = out.state;
  uint64_t reflected = std::max(out.log_size, state.last_seq() + 1);
  if (records->head.has_value()) {
    SetBytes(state.mutable_head_leaf_hash(), records->head->leaf_hash);
    reflected = std::max(reflected, records->head->seq + 1);
  }
  if (state.batch_id().empty()) state.set_batch_id(batch_id);
  state.set_as_of_tree_size(reflected);
  return out;
}

}  // namespace

absl::StatusOr<v1::BatchState> ReadBatch(LogSource& source, const std::string& batch_id,
                                         uint64_t as_of, Waiting waiting) {
  auto read = ReadBatchAt(source, batch_id, as_of, waiting);
  if (!read.ok()) return read.status();
  return std::move(read->state);
}

absl::StatusOr<BatchNow> ReadBatchNow(LogSource& source, const std::string& batch_id,
                                      Waiting waiting) {
  return ReadBatchAt(source, batch_id, std::nullopt, waiting);
}

absl::StatusOr<ProofTree> ResolveProofTree(LogSource& source, uint64_t requested,
                                           uint64_t needed, absl::string_view field,
                                           Waiting waiting) {
  ProofTree tree;
  if (requested == 0) {
    absl::StatusOr<StoredCheckpoint> stored = source.LatestCheckpoint();
    const bool covered = stored.ok() && stored->checkpoint.size >= needed;
    if (!covered) {
      if (waiting == Waiting::kRefused) {
        return WouldWait(source.is_replica() ? "the replica to catch up"
                                             : "a new checkpoint to be signed");
      }
      stored = source.CheckpointCovering(needed);
    }
    if (!stored.ok()) return stored.status();
    auto checkpoint = CosignedCheckpoint(source, *stored);
    if (!checkpoint.ok()) return checkpoint.status();
    tree.size = stored->checkpoint.size;
    tree.checkpoint = *std::move(checkpoint);
    return tree;
  }
  auto size = source.Size();
  if (!size.ok()) return size.status();
  if (requested > *size && source.is_replica()) {
    if (waiting == Waiting::kRefused) return WouldWait("the replica to catch up");
    if (auto s = source.CatchUpTo(requested); !s.ok()) return s;
    size = source.Size();
    if (!size.ok()) return size.status();
  }
  if (requested > *size) {
    return absl::OutOfRangeError(
        absl::StrCat(field, ": ", requested, " is beyond the log's size ", *size));
  }
  tree.size = requested;
  return tree;
}

absl::Status AddProvenEntries(const storage::LogView& view, absl::Span<const uint64_t> seqs,
                              uint64_t tree_size, absl::FunctionRef<v1::ProvenEntry*()> add,
                              std::optional<uint64_t> log_size) {
  auto proven = view.ProvenEntries(seqs, tree_size, log_size);
  if (!proven.ok()) return proven.status();
  for (storage::LogView::ProvenEntry& e : *proven) {
    v1::ProvenEntry* out = add();
    v1::RawEntry* raw = out->mutable_entry();
    raw->set_seq(e.seq);
    raw->set_entry(std::move(e.bytes));
    SetBytes(raw->mutable_leaf_hash(), e.leaf_hash);
    v1::InclusionProof* p = out->mutable_inclusion_proof();
    p->set_leaf_index(e.seq);
    p->set_tree_size(tree_size);
    p->mutable_hashes()->Reserve(static_cast<int>(e.proof.size()));
    for (const crypto::Digest& d : e.proof) SetBytes(p->add_hashes(), d);
  }
  return absl::OkStatus();
}

}  // namespace herbtrace::server
