#include "storage/audit.h"

#include <memory>
#include <deque>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "crypto/checkpoint.h"
#include "crypto/compact_range.h"
#include "crypto/merkle.h"
#include "crypto/signed_note.h"
#include "herbtrace/v1/entry.pb.h"
#include "rocksdb/iterator.h"
#include "storage/key_codec.h"
#include "storage/log_config.h"
#include "storage/log_view.h"
#include "storage/tree_nodes.h"

namespace herbtrace::storage {
namespace {

// The event index is checked as a multiset against the entries: each side sums a 128-bit digest
// of (event id, seq, payload hash) per record, in one sequential pass each, the index's on a
// second thread. Equal sums and counts mean the index holds exactly the entries' records; a
// difference is then located with point reads. (The index is not a trust anchor — entries, tree
// and checkpoint are — so an additive sum is strong enough to catch corruption and bugs.)
struct IndexSum {
  uint64_t count = 0;
  uint64_t lo = 0;
  uint64_t hi = 0;

  void Add(const crypto::Hasher& hasher, absl::string_view event_id, uint64_t seq,
           const crypto::Digest& payload_hash) {
    buf_.assign(event_id.data(), event_id.size());
    std::string& buf = buf_;
    buf.push_back('\0');
    AppendBigEndian64(&buf, seq);
    const absl::string_view b = crypto::AsBytes(payload_hash);
    buf.append(b.data(), b.size());
    const crypto::Digest d = hasher.Hash(buf);
    const uint64_t a = ReadBigEndian64(AsView(d, 0)), c = ReadBigEndian64(AsView(d, 8));
    const uint64_t new_lo = lo + c;
    hi += a + (new_lo < lo ? 1 : 0);
    lo = new_lo;
    ++count;
  }
  bool SameRecords(const IndexSum& o) const { return count == o.count && lo == o.lo && hi == o.hi; }

 private:
  std::string buf_;
  static absl::string_view AsView(const crypto::Digest& d, size_t offset) {
    return crypto::AsBytes(d).substr(offset, 8);
  }
};

// Sums the event index; any record that does not decode, or names a size outside the log, fails.
absl::Status SumEventIndex(const LedgerDb& db, const crypto::Hasher& hasher, uint64_t size,
                           IndexSum& sum) {
  std::unique_ptr<rocksdb::Iterator> it(
      db.db().NewIterator(rocksdb::ReadOptions(), db.cf(Cf::kEventIds)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const absl::string_view id(it->key().data(), it->key().size());
    auto record = DecodeEventRecord(absl::string_view(it->value().data(), it->value().size()), id);
    if (!record.ok()) return record.status();
    if (record->seq >= size || record->committed_size <= record->seq ||
        record->committed_size > size) {
      return absl::DataLossError(absl::StrCat("event_ids[", id, "]: names seq ", record->seq,
                                              " and tree size ", record->committed_size,
                                              " in a log of ", size));
    }
    sum.Add(hasher, id, record->seq, record->payload_hash);
  }
  return FromRocks(it->status(), "reading event_ids");
}

// Entries handed from the tree pass (calling thread) to the decoding pass (worker).
// The decoding pass reads the entries with its own iterator (cheaper than copying them across);
// a block carries only the leaf hashes the tree pass computed for them.
struct EntryBlock {
  uint64_t first_seq = 0;
  std::vector<crypto::Digest> leaves;
};

// A bounded hand-off of blocks; Close() ends the stream.
class BlockQueue {
 public:
  void Push(EntryBlock block) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &BlockQueue::HasRoom));
    blocks_.push_back(std::move(block));
  }
  std::optional<EntryBlock> Pop() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &BlockQueue::ReadyToPop));
    if (blocks_.empty()) return std::nullopt;
    EntryBlock block = std::move(blocks_.front());
    blocks_.pop_front();
    return block;
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

 private:
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return blocks_.size() < 8 || closed_; }
  bool ReadyToPop() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !blocks_.empty() || closed_; }

  absl::Mutex mu_;
  std::deque<EntryBlock> blocks_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// The decoding pass: every entry parses, records its own seq, links each batch's chain to the
// batch's previous entry, and adds its event-index record to the sum. Stops at the first break.
class DecodingPass {
 public:
  DecodingPass(const crypto::Hasher& hasher, const AuditOptions& options)
      : hasher_(hasher), options_(options) {}

  void Run(const LedgerDb& db, BlockQueue& queue) {
    std::unique_ptr<rocksdb::Iterator> it(
        db.db().NewIterator(rocksdb::ReadOptions(), db.cf(Cf::kEntries)));
    it->SeekToFirst();
    while (std::optional<EntryBlock> block = queue.Pop()) {
      if (failure_.has_value()) continue;  // drain, so the producer never blocks
      for (size_t i = 0; i < block->leaves.size() && !failure_.has_value(); ++i, it->Next()) {
        const uint64_t seq = block->first_seq + i;
        // The tree pass saw this key at this position; a different view here means the
        // database changed under the audit.
        if (!it->Valid() || it->key().size() != 8 ||
            ReadBigEndian64(absl::string_view(it->key().data(), 8)) != seq) {
          Fail(seq, "changed while being audited");
          break;
        }
        Check(seq, absl::string_view(it->value().data(), it->value().size()), block->leaves[i]);
      }
    }
  }
  const std::optional<AuditFailure>& failure() const { return failure_; }
  const IndexSum& index_sum() const { return sum_; }

 private:
  void Check(uint64_t seq, absl::string_view bytes, const crypto::Digest& leaf) {
    if (!entry_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return Fail(seq, "stored bytes do not parse as LedgerEntry");
    }
    if (entry_.seq() != seq) return Fail(seq, absl::StrCat("records seq ", entry_.seq()));
    if (options_.check_event_index) {
      sum_.Add(hasher_, entry_.event_id(), seq, hasher_.Hash(entry_.signed_event().payload()));
    }
    if (!options_.check_batch_chains) return;
    absl::string_view previous_id;
    for (const v1::BatchLink& link : entry_.batch_prev()) {
      if (!previous_id.empty() && link.batch_id() <= previous_id) {
        return Fail(seq, "batch_prev is not sorted and unique");
      }
      previous_id = link.batch_id();
      auto head = chain_heads_.find(link.batch_id());
      const absl::string_view expected =
          head == chain_heads_.end() ? absl::string_view() : crypto::AsBytes(head->second);
      if (link.prev_leaf_hash() != expected) {
        return Fail(seq, absl::StrCat("batch_prev[", link.batch_id(),
                                      "] does not link to the batch's previous entry"));
      }
    }
    for (const v1::BatchLink& link : entry_.batch_prev()) chain_heads_[link.batch_id()] = leaf;
  }

  void Fail(uint64_t seq, absl::string_view why) {
    failure_ = AuditFailure{seq, absl::StrCat("entry ", seq, ": ", why)};
  }

  const crypto::Hasher& hasher_;
  const AuditOptions& options_;
  v1::LedgerEntry entry_;
  absl::flat_hash_map<std::string, crypto::Digest> chain_heads_;
  IndexSum sum_;
  std::optional<AuditFailure> failure_;
};

// Joins a thread on every way out of a scope.
class JoinOnExit {
 public:
  explicit JoinOnExit(std::thread& t) : t_(t) {}
  ~JoinOnExit() {
    if (t_.joinable()) t_.join();
  }

 private:
  std::thread& t_;
};

}  // namespace

absl::StatusOr<AuditReport> AuditLedger(const LedgerDb& db, const AuditOptions& options) {
  AuditReport report;
  auto fail = [&report](std::optional<uint64_t> seq, std::string reason) {
    report.failure = AuditFailure{seq, std::move(reason)};
    return report;
  };

  auto config = ReadLogConfig(db);
  if (!config.ok()) return fail(std::nullopt, std::string(config.status().message()));
  auto hasher = crypto::Hasher::Create(config->hash);
  if (!hasher.ok()) return hasher.status();
  const LogView view(db, **hasher);
  auto size = view.Size();
  if (!size.ok()) return fail(std::nullopt, std::string(size.status().message()));
  report.tree_size = *size;

  // The checkpoint is checked first for its signature, and later against the recomputed root.
  std::optional<crypto::Checkpoint> checkpoint;
  auto note = view.LatestCheckpointNote();
  if (!note.ok()) return note.status();
  if (note->has_value()) {
    auto verifier = crypto::NoteVerifier::Create(config->verifier_key);
    if (!verifier.ok()) return fail(std::nullopt, absl::StrCat("meta log: ", verifier.status().message()));
    auto opened = crypto::OpenCheckpoint(**note, **verifier);
    if (!opened.ok()) {
      return fail(std::nullopt,
                  absl::StrCat("checkpoint: does not verify: ", opened.status().message()));
    }
    checkpoint = *opened;
    report.checkpoint_size = checkpoint->size;
    if (checkpoint->origin != config->origin) {
      return fail(std::nullopt, absl::StrCat("checkpoint: origin '", checkpoint->origin,
                                             "' is not the log's origin '", config->origin, "'"));
    }
    if (checkpoint->size > *size) {
      return fail(std::nullopt, absl::StrCat("checkpoint: signed for tree size ",
                                             checkpoint->size, " but the log holds ", *size));
    }
    if (checkpoint->size == 0 && checkpoint->root_hash != crypto::EmptyRoot(**hasher)) {
      return fail(std::nullopt, "checkpoint: size 0 with a root other than the empty tree's");
    }
  }

  // Three passes run at once: the tree pass here (leaf hashes, stored nodes, the checkpoint's
  // root), the decoding pass on a worker fed in blocks, and the event-index scan on another.
  IndexSum index_sum;
  absl::Status index_status;
  std::thread index_thread;
  JoinOnExit join_index(index_thread);
  if (options.check_event_index) {
    index_thread = std::thread([&] { index_status = SumEventIndex(db, **hasher, *size, index_sum); });
  }
  BlockQueue queue;
  DecodingPass decoding(**hasher, options);
  std::thread decoding_thread([&] { decoding.Run(db, queue); });
  JoinOnExit join_decoding(decoding_thread);
  struct CloseOnExit {
    BlockQueue& q;
    ~CloseOnExit() { q.Close(); }
  } close_queue{queue};
  constexpr size_t kBlockEntries = 2048;
  EntryBlock block;

  crypto::CompactRange tree(**hasher);
  std::unique_ptr<rocksdb::Iterator> it(
      db.db().NewIterator(rocksdb::ReadOptions(), db.cf(Cf::kEntries)));
  std::unique_ptr<rocksdb::Iterator> nodes(
      db.db().NewIterator(rocksdb::ReadOptions(), db.cf(Cf::kTree)));
  nodes->SeekToFirst();
  uint64_t seq = 0;
  std::optional<AuditFailure> tree_failure;
  auto tree_fail = [&](std::string reason) { tree_failure = AuditFailure{seq, std::move(reason)}; };
  for (it->SeekToFirst(); it->Valid(); it->Next(), nodes->Next(), ++seq) {
    const rocksdb::Slice key = it->key();
    if (key.size() != 8) {
      tree_fail(absl::StrCat("entry ", seq, ": malformed key"));
      break;
    }
    const uint64_t stored_seq = ReadBigEndian64(absl::string_view(key.data(), 8));
    if (stored_seq != seq) {
      tree_fail(absl::StrCat("entry ", seq, ": missing (the next stored entry is ", stored_seq, ")"));
      break;
    }
    const absl::string_view bytes(it->value().data(), it->value().size());
    const crypto::Digest leaf = crypto::HashLeaf(**hasher, bytes);
    const auto completed = tree.Append(leaf);
    if (!nodes->Valid() || nodes->key() != key) {
      if (!nodes->status().ok()) return FromRocks(nodes->status(), "reading tree");
      tree_fail(absl::StrCat("entry ", seq, ": its tree nodes are not stored"));
      break;
    }
    const absl::string_view stored(nodes->value().data(), nodes->value().size());
    bool same = stored.size() == completed.size() * crypto::kDigestSize;
    for (size_t i = 0; same && i < completed.size(); ++i) {
      same = stored.substr(i * crypto::kDigestSize, crypto::kDigestSize) ==
             crypto::AsBytes(completed[i].second);
    }
    if (!same) {
      tree_fail(stored.substr(0, crypto::kDigestSize) == crypto::AsBytes(leaf)
                    ? absl::StrCat("entry ", seq,
                                   ": the tree nodes it completed differ from those recomputed "
                                   "from the entries")
                    : absl::StrCat("entry ", seq,
                                   ": its bytes do not hash to the stored leaf (the entry or its "
                                   "leaf hash was altered)"));
      break;
    }
    if (checkpoint.has_value() && checkpoint->size == seq + 1 &&
        tree.Root() != checkpoint->root_hash) {
      tree_fail(absl::StrCat("checkpoint: the entries give root ", crypto::ToHex(tree.Root()),
                             " at size ", seq + 1, " but the signed checkpoint says ",
                             crypto::ToHex(checkpoint->root_hash)));
      break;
    }
    if (block.leaves.empty()) block.first_seq = seq;
    block.leaves.push_back(leaf);
    if (block.leaves.size() == kBlockEntries) {
      queue.Push(std::move(block));
      block = EntryBlock();
    }
    if (options.progress && options.progress_every > 0 && (seq + 1) % options.progress_every == 0) {
      options.progress(seq + 1);
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading entries");
  if (!block.leaves.empty()) queue.Push(std::move(block));
  queue.Close();
  decoding_thread.join();

  // The first break wins, whichever pass found it.
  const std::optional<AuditFailure>& decode_failure = decoding.failure();
  if (decode_failure.has_value() &&
      (!tree_failure.has_value() || *decode_failure->seq < *tree_failure->seq)) {
    report.entries_checked = *decode_failure->seq;
    report.failure = decode_failure;
    return report;
  }
  if (tree_failure.has_value()) {
    report.entries_checked = *tree_failure->seq;
    report.failure = tree_failure;
    return report;
  }
  report.entries_checked = seq;
  if (seq != *size) {
    return fail(std::nullopt,
                absl::StrCat("entries: ", seq, " stored but the tree size says ", *size));
  }
  report.root = tree.Root();

  if (options.check_event_index) {
    index_thread.join();
    if (!index_status.ok()) {
      if (!absl::IsDataLoss(index_status)) return index_status;
      return fail(std::nullopt, std::string(index_status.message()));
    }
    if (!index_sum.SameRecords(decoding.index_sum())) {
      // Locate the difference: the first entry whose record is absent or wrong.
      v1::LedgerEntry entry;
      for (uint64_t s = 0; s < seq; ++s) {
        auto bytes = view.EntryBytes(s);
        if (!bytes.ok()) return bytes.status();
        if (!entry.ParseFromString(*bytes)) {
          return fail(s, absl::StrCat("entry ", s, ": stored bytes do not parse as LedgerEntry"));
        }
        auto record = view.FindEventRecord(entry.event_id());
        if (!record.ok()) return record.status();
        if (!record->has_value() || (*record)->seq != s ||
            (*record)->payload_hash != (*hasher)->Hash(entry.signed_event().payload())) {
          return fail(s, absl::StrCat("entry ", s, ": event_ids[", entry.event_id(),
                                      "] does not point back at it"));
        }
      }
      return fail(std::nullopt,
                  absl::StrCat("event_ids: holds ", index_sum.count, " records for ",
                               decoding.index_sum().count, " entries (records for no entry)"));
    }
  }
  return report;
}

}  // namespace herbtrace::storage
