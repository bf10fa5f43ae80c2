// The audit runs as a set of tasks on a few threads, all reading one snapshot: a pass over each
// range of entries (audit_range.h), a sum over the event index and a sum over batch_entries.
// The join then checks what no single range could: the stored tree nodes over more than one
// range (from the nodes the ranges recomputed), each batch's first link in a range (against the
// batch's newest entry in the ranges before), the checkpoint's root and the log's root; then the
// batch heads and both index sums against what the entries gave.
#include "storage/audit.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "crypto/checkpoint.h"
#include "crypto/merkle.h"
#include "crypto/signed_note.h"
#include "rocksdb/iterator.h"
#include "rocksdb/perf_level.h"
#include "storage/audit_range.h"
#include "storage/entry_scan.h"
#include "storage/key_codec.h"
#include "storage/log_config.h"
#include "storage/log_view.h"
#include "storage/snapshot.h"

namespace herbtrace::storage {
namespace {

using internal::Break;
using internal::BreakStage;
using internal::DeferredNode;
using internal::KeepEarlier;
using internal::NodeKey;
using internal::RangeFindings;
using internal::RangePlan;
using internal::RecordPrf;
using internal::RecordSum;

// Ranges begin on multiples of 2^split_level; the join keeps the nodes of that level and above
// (two per 2^split_level entries).
constexpr int kMaxSplitLevel = 10;
// A log smaller than this is audited as one range.
constexpr uint64_t kMinEntriesToSplit = uint64_t{1} << 16;
constexpr int kMaxThreads = 8;

// Sums the event index; any record that does not decode, or names a size outside the log, fails.
absl::Status SumEventIndex(const LedgerDb& db, const rocksdb::ReadOptions& ro,
                           RecordPrf& prf, uint64_t size, RecordSum& sum) {
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
    sum.Add(prf, id, record->seq, &record->payload_hash);
  }
  return FromRocks(it->status(), "reading event_ids");
}

// Sums batch_entries: one (batch, entry) link per key.
absl::Status SumBatchEntries(const LedgerDb& db, const rocksdb::ReadOptions& ro,
                             RecordPrf& prf, RecordSum& sum) {
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(ro, db.cf(Cf::kBatchEntries)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const absl::string_view key(it->key().data(), it->key().size());
    if (key.size() < 10 || key[key.size() - 9] != '\0') {
      return absl::DataLossError("batch_entries: malformed key");
    }
    sum.Add(prf, key.substr(0, key.size() - 9), ReadBigEndian64(key.substr(key.size() - 8)),
            nullptr);
  }
  return FromRocks(it->status(), "reading batch_entries");
}

// Sums batch_heads: (batch id, seq, leaf hash) per head. False in `decoded` when a value does
// not decode (CheckBatchHeads then names it).
absl::Status SumBatchHeads(const LedgerDb& db, const rocksdb::ReadOptions& ro,
                           RecordPrf& prf, RecordSum& sum, bool& decoded) {
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(ro, db.cf(Cf::kBatchHeads)));
  decoded = true;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const absl::string_view id(it->key().data(), it->key().size());
    auto head = DecodeBatchHead(absl::string_view(it->value().data(), it->value().size()), id);
    if (!head.ok()) {
      decoded = false;
      break;
    }
    sum.Add(prf, id, head->seq, &head->leaf_hash);
  }
  return FromRocks(it->status(), "reading batch_heads");
}

// Splits [0, size) into about `count` ranges beginning on multiples of 2^split_level; the last
// range runs to the last stored entry, whatever the recorded size.
std::vector<RangePlan> PlanRanges(uint64_t size, int count, std::vector<uint64_t> root_sizes) {
  std::vector<RangePlan> plans;
  if (count <= 1) {
    // One range is the whole tree: every node is recomputed in the pass.
    plans.push_back(RangePlan{0, std::nullopt, 63, std::move(root_sizes)});
    return plans;
  }
  const uint64_t per_range = size / (4 * static_cast<uint64_t>(count));
  const int split_level =
      per_range == 0 ? 0 : std::min(kMaxSplitLevel, static_cast<int>(std::bit_width(per_range)) - 1);
  const uint64_t step = uint64_t{1} << split_level;
  std::vector<uint64_t> begins;
  for (int i = 0; i < count; ++i) {
    const uint64_t begin = (size / count * i + size % count * i / count) / step * step;
    if (begins.empty() || begin > begins.back()) begins.push_back(begin);
  }
  for (size_t i = 0; i < begins.size(); ++i) {
    RangePlan plan;
    plan.begin = begins[i];
    if (i + 1 < begins.size()) plan.end = begins[i + 1];
    plan.split_level = split_level;
    plan.root_sizes = root_sizes;
    plans.push_back(std::move(plan));
  }
  return plans;
}

// The root of the first `size` leaves from the nodes the passes recomputed; nullopt when one is
// missing (a pass broke before it).
std::optional<crypto::Digest> RootFrom(
    const crypto::Hasher& hasher, uint64_t size, int split_level,
    const absl::flat_hash_map<NodeKey, crypto::Digest>& upper_nodes,
    const std::vector<RangeFindings>& findings) {
  if (size == 0) return crypto::EmptyRoot(hasher);
  std::vector<crypto::Digest> subtrees;  // left to right
  for (int level = 63; level >= split_level; --level) {
    if (((size >> level) & 1) == 0) continue;
    auto node = upper_nodes.find(NodeKey(level, (size >> level) - 1));
    if (node == upper_nodes.end()) return std::nullopt;
    subtrees.push_back(node->second);
  }
  const uint64_t low_bits = split_level >= 63 ? size : size & ((uint64_t{1} << split_level) - 1);
  if (low_bits != 0) {
    const std::vector<crypto::Digest>* low = nullptr;
    for (const RangeFindings& f : findings) {
      if (auto it = f.low_edges.find(size); it != f.low_edges.end()) low = &it->second;
    }
    if (low == nullptr) return std::nullopt;
    subtrees.insert(subtrees.end(), low->begin(), low->end());
  }
  crypto::Digest root = subtrees.back();
  for (size_t i = subtrees.size() - 1; i-- > 0;) {
    root = crypto::HashChildren(hasher, subtrees[i], root);
  }
  return root;
}

// What the join checks across ranges. Returns the earliest break it finds, if any.
class RangeJoin {
 public:
  RangeJoin(const crypto::Hasher& hasher, RecordPrf& prf,
            std::vector<RangeFindings>& findings, int split_level)
      : hasher_(hasher), prf_(prf), findings_(findings), split_level_(split_level) {}

  // The stored nodes over leaves of more than one range, lowest level first, so that each
  // node's children are already checked.
  void CheckDeferredNodes(std::optional<Break>& first) {
    std::vector<DeferredNode> deferred;
    for (RangeFindings& f : findings_) {
      upper_nodes_.insert(f.upper_nodes.begin(), f.upper_nodes.end());
      deferred.insert(deferred.end(), f.deferred.begin(), f.deferred.end());
    }
    std::sort(deferred.begin(), deferred.end(), [](const DeferredNode& a, const DeferredNode& b) {
      return std::tie(a.level, a.seq) < std::tie(b.level, b.seq);
    });
    for (const DeferredNode& node : deferred) {
      const uint64_t index = ((node.seq + 1) >> node.level) - 1;
      const uint8_t child_level = node.level - 1;
      auto left = upper_nodes_.find(NodeKey(child_level, 2 * index));
      auto right = upper_nodes_.find(NodeKey(child_level, 2 * index + 1));
      if (left == upper_nodes_.end() || right == upper_nodes_.end()) continue;  // broke before
      const crypto::Digest hash = crypto::HashChildren(hasher_, left->second, right->second);
      if (hash != node.stored) {
        KeepEarlier(first, Break{node.seq, BreakStage::kTree, 0,
                                 absl::StrCat("entry ", node.seq,
                                              ": the tree nodes it completed differ from those "
                                              "recomputed from the entries")});
        continue;
      }
      upper_nodes_.emplace(NodeKey(node.level, index), hash);
    }
  }

  // Each batch's first link in a range against its newest entry in the ranges before, whose
  // head is then no longer the batch's newest: taken out of the sum of the newest heads.
  void CheckPendingLinks(std::optional<Break>& first) {
    for (const RangeFindings& f : findings_) newest_heads_.Merge(f.head_sum);
    for (size_t i = 1; i < findings_.size(); ++i) {
      for (const internal::PendingLink& link : findings_[i].pending) {
        const BatchHead* head = NewestBefore(i, link.batch_id);
        if (head != nullptr) {
          newest_heads_.Remove(prf_, link.batch_id, head->seq, &head->leaf_hash);
        }
        const absl::string_view expected =
            head == nullptr ? absl::string_view() : crypto::AsBytes(head->leaf_hash);
        if (link.prev_leaf_hash != expected) {
          KeepEarlier(first, Break{link.seq, BreakStage::kContents, link.link,
                                   absl::StrCat("entry ", link.seq, ": batch_prev[",
                                                link.batch_id,
                                                "] does not link to the batch's previous entry")});
        }
      }
    }
  }

  std::optional<crypto::Digest> Root(uint64_t size) const {
    return RootFrom(hasher_, size, split_level_, upper_nodes_, findings_);
  }

  // The batch's newest entry in the ranges before range `end`.
  const BatchHead* NewestBefore(size_t end, absl::string_view batch_id) const {
    for (size_t j = end; j-- > 0;) {
      auto it = findings_[j].heads.find(batch_id);
      if (it != findings_[j].heads.end()) return &it->second;
    }
    return nullptr;
  }
  // (batch id, seq, leaf hash) of each batch's newest entry, and so one per batch the entries
  // touch (after CheckPendingLinks).
  const RecordSum& newest_heads() const { return newest_heads_; }

 private:
  const crypto::Hasher& hasher_;
  RecordPrf& prf_;
  std::vector<RangeFindings>& findings_;
  const int split_level_;
  absl::flat_hash_map<NodeKey, crypto::Digest> upper_nodes_;
  RecordSum newest_heads_;
};

// Names what is wrong in batch_heads once its sum differs from the newest heads': batch_heads
// must name, for every batch, its newest entry as the chains give it.
absl::Status CheckBatchHeads(const LedgerDb& db, const rocksdb::ReadOptions& ro,
                             const RangeJoin& join, size_t ranges) {
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(ro, db.cf(Cf::kBatchHeads)));
  uint64_t count = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++count) {
    const absl::string_view id(it->key().data(), it->key().size());
    auto stored = DecodeBatchHead(absl::string_view(it->value().data(), it->value().size()), id);
    if (!stored.ok()) return stored.status();
    const BatchHead* want = join.NewestBefore(ranges, id);
    if (want == nullptr) {
      return absl::DataLossError(absl::StrCat("batch_heads[", id, "]: no entry touches it"));
    }
    if (stored->seq != want->seq) {
      return absl::DataLossError(absl::StrCat("batch_heads[", id, "]: names entry ", stored->seq,
                                              " but the batch's newest entry is ", want->seq));
    }
    if (stored->leaf_hash != want->leaf_hash) {
      return absl::DataLossError(absl::StrCat("batch_heads[", id, "]: names entry ", stored->seq,
                                              " with a leaf hash other than its own"));
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading batch_heads");
  if (count != join.newest_heads().count) {
    return absl::DataLossError(absl::StrCat("batch_heads: holds ", count, " batches, the entries ",
                                            join.newest_heads().count));
  }
  return absl::DataLossError("batch_heads: differ from the batches' newest entries");
}

// RocksDB counts every step of every read in thread-local perf counters unless the thread says
// otherwise; nothing in HerbTrace reads them, and in a full scan the counting (a TLS look-up
// per step in a shared library) showed in the profile. Restores the thread's level.
class PerfCountersOff {
 public:
  PerfCountersOff() : level_(rocksdb::GetPerfLevel()) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  }
  ~PerfCountersOff() { rocksdb::SetPerfLevel(level_); }
  PerfCountersOff(const PerfCountersOff&) = delete;
  PerfCountersOff& operator=(const PerfCountersOff&) = delete;

 private:
  const rocksdb::PerfLevel level_;
};

// Runs every task on `threads` threads (the caller's among them), each task once.
void RunTasks(const std::vector<std::function<void()>>& tasks, int threads) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    const PerfCountersOff quiet;
    for (size_t i = next.fetch_add(1); i < tasks.size(); i = next.fetch_add(1)) tasks[i]();
  };
  std::vector<std::thread> helpers;
  for (int t = 1; t < threads && static_cast<size_t>(t) < tasks.size(); ++t) {
    helpers.emplace_back(work);
  }
  work();
  for (std::thread& t : helpers) t.join();
}

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
  auto hasher_or = crypto::Hasher::Create(config->hash);
  if (!hasher_or.ok()) return hasher_or.status();
  const crypto::Hasher& hasher = **hasher_or;
  const LogView view(db, hasher);
  auto stored_size = read_meta(kMetaTreeSize);
  if (!stored_size.ok()) return stored_size.status();
  if (stored_size->has_value() && (*stored_size)->size() != 8) {
    return fail(std::nullopt, "meta tree_size: malformed");
  }
  const uint64_t size = stored_size->has_value() ? ReadBigEndian64(**stored_size) : 0;
  report.tree_size = size;

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
    if (checkpoint->size > size) {
      return fail(std::nullopt, absl::StrCat("checkpoint: signed for tree size ",
                                             checkpoint->size, " but the log holds ", size));
    }
    if (checkpoint->size == 0 && checkpoint->root_hash != crypto::EmptyRoot(hasher)) {
      return fail(std::nullopt, "checkpoint: size 0 with a root other than the empty tree's");
    }
  }

  // The index sums' key, drawn now that the snapshot fixes what the audit reads (record_sum.h).
  // Each task hashes with its own MAC context under the one key.
  auto prf_or = RecordPrf::Random();
  if (!prf_or.ok()) return prf_or.status();
  RecordPrf& prf = *prf_or;
  const RecordPrf::Key& key = prf.key();

  // The tasks: one pass per range of entries, then the index sums.
  const int threads =
      options.threads > 0
          ? options.threads
          : std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, kMaxThreads);
  const int range_count = options.entry_ranges > 0 ? options.entry_ranges
                          : size >= kMinEntriesToSplit ? 2 * threads
                                                       : 1;
  std::vector<uint64_t> root_sizes = {size};
  if (checkpoint.has_value() && checkpoint->size != size) root_sizes.push_back(checkpoint->size);
  const std::vector<RangePlan> plans = PlanRanges(size, range_count, root_sizes);
  std::vector<RangeFindings> findings(plans.size());
  std::vector<absl::Status> range_status(plans.size());
  std::atomic<uint64_t> stop_at{std::numeric_limits<uint64_t>::max()};

  std::atomic<uint64_t> audited{0};
  absl::Mutex progress_mu;
  uint64_t progress_reported = 0;  // guarded by progress_mu
  const std::function<void(uint64_t)> advance = [&](uint64_t n) {
    if (!options.progress || options.progress_every == 0) return;
    const uint64_t before = audited.fetch_add(n);
    const uint64_t after = before + n;
    if (before / options.progress_every != after / options.progress_every) {
      const uint64_t mark = after / options.progress_every * options.progress_every;
      absl::MutexLock lock(&progress_mu);
      // Two ranges crossing marks at once may reach the lock in either order: a count is
      // reported only when it is more than the last, so the caller sees them in order.
      if (mark <= progress_reported) return;
      progress_reported = mark;
      options.progress(mark);
    }
  };

  std::vector<std::function<void()>> tasks;
  for (size_t i = 0; i < plans.size(); ++i) {
    tasks.push_back([&, i] {
      range_status[i] =
          internal::AuditEntryRange(db, ro, hasher, key, options, plans[i], stop_at,
                                    advance, findings[i]);
    });
  }
  RecordSum index_sum;
  absl::Status index_status;
  if (options.check_event_index) {
    tasks.push_back([&] {
      RecordPrf own(key);
      index_status = SumEventIndex(db, ro, own, size, index_sum);
    });
  }
  RecordSum batch_entries_sum;
  absl::Status batch_entries_status;
  RecordSum batch_heads_sum;
  absl::Status batch_heads_status;
  bool batch_heads_decoded = true;
  if (options.check_batch_chains) {
    tasks.push_back(
        [&] {
          RecordPrf own(key);
          batch_entries_status = SumBatchEntries(db, ro, own, batch_entries_sum);
        });
    tasks.push_back([&] {
      RecordPrf own(key);
      batch_heads_status = SumBatchHeads(db, ro, own, batch_heads_sum, batch_heads_decoded);
    });
  }
  RunTasks(tasks, threads);
  for (const absl::Status& s : range_status) {
    if (!s.ok()) return s;
  }

  // The first break wins, whichever pass or join check found it.
  std::optional<Break> first;
  uint64_t stored_entries = 0;
  for (const RangeFindings& f : findings) {
    if (f.failure.has_value()) KeepEarlier(first, *f.failure);
    stored_entries += f.entries;
  }
  RangeJoin join(hasher, prf, findings, plans.front().split_level);
  join.CheckDeferredNodes(first);
  join.CheckPendingLinks(first);
  if (checkpoint.has_value() && checkpoint->size > 0 && checkpoint->size <= stored_entries) {
    const std::optional<crypto::Digest> root = join.Root(checkpoint->size);
    if (root.has_value() && *root != checkpoint->root_hash) {
      KeepEarlier(first, Break{checkpoint->size - 1, BreakStage::kCheckpoint, 0,
                               absl::StrCat("checkpoint: the entries give root ",
                                            crypto::ToHex(*root), " at size ", checkpoint->size,
                                            " but the signed checkpoint says ",
                                            crypto::ToHex(checkpoint->root_hash))});
    }
  }
  if (first.has_value()) {
    report.entries_checked = first->seq;
    report.failure = AuditFailure{first->seq, std::move(first->reason)};
    return report;
  }
  report.entries_checked = stored_entries;
  if (stored_entries != size) {
    return fail(std::nullopt,
                absl::StrCat("entries: ", stored_entries, " stored but the tree size says ", size));
  }
  const std::optional<crypto::Digest> root = join.Root(size);
  if (!root.has_value()) return absl::InternalError("audit: the log's root was not recomputed");
  report.root = *root;

  if (options.check_batch_chains) {
    absl::Status s = batch_heads_status;
    if (s.ok() && (!batch_heads_decoded || !(batch_heads_sum == join.newest_heads()))) {
      s = CheckBatchHeads(db, ro, join, findings.size());
    }
    if (s.ok()) s = batch_entries_status;
    if (s.ok()) {
      RecordSum links;
      for (const RangeFindings& f : findings) links.Merge(f.links);
      if (links.count != batch_entries_sum.count) {
        s = absl::DataLossError(absl::StrCat("batch_entries: holds ", batch_entries_sum.count,
                                             " (batch, entry) links, the entries ", links.count));
      } else if (!(links == batch_entries_sum)) {
        s = absl::DataLossError(absl::StrCat("batch_entries: holds ", links.count,
                                             " (batch, entry) links, as many as the entries, but "
                                             "not the same ones"));
      }
    }
    if (!s.ok()) {
      if (!absl::IsDataLoss(s)) return s;
      return fail(std::nullopt, std::string(s.message()));
    }
  }

  if (options.check_event_index) {
    if (!index_status.ok()) {
      if (!absl::IsDataLoss(index_status)) return index_status;
      return fail(std::nullopt, std::string(index_status.message()));
    }
    RecordSum events;
    for (const RangeFindings& f : findings) events.Merge(f.events);
    if (!(index_sum == events)) {
      // Locate the difference: the first entry whose record is absent or wrong.
      EntryScanner scanner;
      for (uint64_t s = 0; s < stored_entries; ++s) {
        auto bytes = view.EntryBytes(s);
        if (!bytes.ok()) return bytes.status();
        if (!scanner.Scan(*bytes)) {
          return fail(s, absl::StrCat("entry ", s, ": stored bytes do not parse as LedgerEntry"));
        }
        auto record = view.FindEventRecord(scanner.event_id());
        if (!record.ok()) return record.status();
        if (!record->has_value() || (*record)->seq != s ||
            (*record)->payload_hash != hasher.Hash(scanner.payload())) {
          return fail(s, absl::StrCat("entry ", s, ": event_ids[", scanner.event_id(),
                                      "] does not point back at it"));
        }
      }
      return fail(std::nullopt,
                  absl::StrCat("event_ids: holds ", index_sum.count, " records for ", events.count,
                               " entries (records for no entry)"));
    }
  }
  return report;
}

}  // namespace herbtrace::storage
