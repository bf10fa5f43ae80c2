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
#include "storage/snapshot.h"
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
absl::Status SumEventIndex(const LedgerDb& db, const rocksdb::ReadOptions& ro,
                           const crypto::Hasher& hasher, uint64_t size, IndexSum& sum) {
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(ro, db.cf(Cf::kEventIds)));
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

  void Run(const LedgerDb& db, const rocksdb::ReadOptions& ro, BlockQueue& queue) {
    std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(ro, db.cf(Cf::kEntries)));
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
  // Each batch's newest entry as the chains give it, and a sum over every (batch, entry) link.
  const absl::flat_hash_map<std::string, BatchHead>& chain_heads() const { return chain_heads_; }
  const IndexSum& batch_entries_sum() const { return links_; }

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
          head == chain_heads_.end() ? absl::string_view()
                                     : crypto::AsBytes(head->second.leaf_hash);
      if (link.prev_leaf_hash() != expected) {
        return Fail(seq, absl::StrCat("batch_prev[", link.batch_id(),
                                      "] does not link to the batch's previous entry"));
      }
    }
    for (const v1::BatchLink& link : entry_.batch_prev()) {
      chain_heads_[link.batch_id()] = BatchHead{seq, leaf};
      links_.Add(hasher_, link.batch_id(), seq, crypto::Digest{});
    }
  }

  void Fail(uint64_t seq, absl::string_view why) {
    failure_ = AuditFailure{seq, absl::StrCat("entry ", seq, ": ", why)};
  }

  const crypto::Hasher& hasher_;
  const AuditOptions& options_;
  v1::LedgerEntry entry_;
  absl::flat_hash_map<std::string, BatchHead> chain_heads_;
  IndexSum sum_;
  IndexSum links_;
  std::optional<AuditFailure> failure_;
};

// batch_heads must name, for every batch, its newest entry as the chains give it; batch_entries
// must hold exactly one key per (batch, entry) link.
absl::Status CheckBatchIndexes(const LedgerDb& db, const rocksdb::ReadOptions& ro,
                               const crypto::Hasher& hasher, const DecodingPass& decoding) {
  const auto& heads = decoding.chain_heads();
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(ro, db.cf(Cf::kBatchHeads)));
  size_t count = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++count) {
    const std::string id(it->key().data(), it->key().size());
    auto stored = DecodeBatchHead(absl::string_view(it->value().data(), it->value().size()), id);
    if (!stored.ok()) return stored.status();
    auto want = heads.find(id);
    if (want == heads.end()) {
      return absl::DataLossError(absl::StrCat("batch_heads[", id, "]: no entry touches it"));
    }
    if (stored->seq != want->second.seq || stored->leaf_hash != want->second.leaf_hash) {
      return absl::DataLossError(absl::StrCat("batch_heads[", id, "]: names entry ", stored->seq,
                                              " but the batch's newest entry is ",
                                              want->second.seq));
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading batch_heads");
  if (count != heads.size()) {
    return absl::DataLossError(absl::StrCat("batch_heads: holds ", count, " batches, the entries ",
                                            heads.size()));
  }
  IndexSum links;
  std::unique_ptr<rocksdb::Iterator> entries(db.db().NewIterator(ro, db.cf(Cf::kBatchEntries)));
  for (entries->SeekToFirst(); entries->Valid(); entries->Next()) {
    const absl::string_view key(entries->key().data(), entries->key().size());
    if (key.size() < 10 || key[key.size() - 9] != '\0') {
      return absl::DataLossError("batch_entries: malformed key");
    }
    links.Add(hasher, key.substr(0, key.size() - 9), ReadBigEndian64(key.substr(key.size() - 8)),
              crypto::Digest{});
  }
  if (!entries->status().ok()) return FromRocks(entries->status(), "reading batch_entries");
  if (!links.SameRecords(decoding.batch_entries_sum())) {
    return absl::DataLossError(absl::StrCat(
        "batch_entries: holds ", links.count, " (batch, entry) links, the entries ",
        decoding.batch_entries_sum().count));
  }
  return absl::OkStatus();
}

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

  // One snapshot for every read, so an audit of a live ledger sees one consistent log. A full
  // scan bypasses the block cache: its lookups and reference counting showed in the profile.
  const ScanSnapshot snapshot(db);
  const rocksdb::ReadOptions& ro = snapshot.read_options();
  auto read_meta = [&](absl::string_view key) -> absl::StatusOr<std::optional<std::string>> {
    std::string value;
    rocksdb::Status s = db.db().Get(ro, db.cf(Cf::kMeta), rocksdb::Slice(key.data(), key.size()),
                                    &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) return FromRocks(s, "reading meta");
    return value;
  };

  auto stored_config = read_meta(kMetaLog);
  if (!stored_config.ok()) return stored_config.status();
  if (!stored_config->has_value()) {
    return fail(std::nullopt, absl::StrCat(db.path(), ": not a HerbTrace ledger (no meta log)"));
  }
  auto config = DecodeLogConfig(**stored_config);
  if (!config.ok()) return fail(std::nullopt, std::string(config.status().message()));
  auto hasher = crypto::Hasher::Create(config->hash);
  if (!hasher.ok()) return hasher.status();
  const LogView view(db, **hasher);
  auto stored_size = read_meta(kMetaTreeSize);
  if (!stored_size.ok()) return stored_size.status();
  if (stored_size->has_value() && (*stored_size)->size() != 8) {
    return fail(std::nullopt, "meta tree_size: malformed");
  }
  const std::optional<uint64_t> size =
      stored_size->has_value() ? ReadBigEndian64(**stored_size) : 0;
  report.tree_size = *size;

  // The checkpoint is checked first for its signature, and later against the recomputed root.
  std::optional<crypto::Checkpoint> checkpoint;
  auto note = read_meta(kMetaCheckpoint);
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
    index_thread =
        std::thread([&] { index_status = SumEventIndex(db, ro, **hasher, *size, index_sum); });
  }
  BlockQueue queue;
  DecodingPass decoding(**hasher, options);
  std::thread decoding_thread([&] { decoding.Run(db, ro, queue); });
  JoinOnExit join_decoding(decoding_thread);
  struct CloseOnExit {
    BlockQueue& q;
    ~CloseOnExit() { q.Close(); }
  } close_queue{queue};
  constexpr size_t kBlockEntries = 2048;
  EntryBlock block;

  crypto::CompactRange tree(**hasher);
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(ro, db.cf(Cf::kEntries)));
  std::unique_ptr<rocksdb::Iterator> nodes(db.db().NewIterator(ro, db.cf(Cf::kTree)));
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

  if (options.check_batch_chains) {
    if (auto s = CheckBatchIndexes(db, ro, **hasher, decoding); !s.ok()) {
      if (!absl::IsDataLoss(s)) return s;
      return fail(std::nullopt, std::string(s.message()));
    }
  }

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
