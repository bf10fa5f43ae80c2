#include "storage/audit_range.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <memory>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "crypto/merkle.h"
#include "rocksdb/iterator.h"
#include "storage/entry_scan.h"
#include "storage/key_codec.h"

namespace herbtrace::storage::internal {

absl::string_view BatchIdArena::Copy(absl::string_view id) {
  if (id.empty()) return absl::string_view();
  if (id.size() > left_) {
    const size_t size = std::max(kBlockSize, id.size());
    blocks_.push_back(std::make_unique<char[]>(size));
    next_ = blocks_.back().get();
    left_ = size;
  }
  std::memcpy(next_, id.data(), id.size());
  const absl::string_view copy(next_, id.size());
  next_ += id.size();
  left_ -= id.size();
  return copy;
}

bool Earlier(const Break& a, const Break& b) {
  return std::tie(a.seq, a.stage, a.link) < std::tie(b.seq, b.stage, b.link);
}

void KeepEarlier(std::optional<Break>& first, Break candidate) {
  if (!first.has_value() || Earlier(candidate, *first)) first = std::move(candidate);
}

namespace {

constexpr uint64_t kAdvanceStep = 4096;

// The right edge of the tree over the range's own leaves, counted from the range's first: the
// complete subtree for each set bit of the count. Nodes up to the split level are the log's own
// nodes, since the range begins on a multiple of 2^split_level.
class RangeEdge {
 public:
  explicit RangeEdge(const crypto::Hasher& hasher) : hasher_(hasher) {}

  // Adds a leaf; completed[l] is then the node of level l it completed, for l <= the returned
  // level.
  int Append(const crypto::Digest& leaf, std::array<crypto::Digest, 65>& completed) {
    const int top = std::countr_one(count_);
    completed[0] = leaf;
    for (int level = 0; level < top; ++level) {
      completed[level + 1] = crypto::HashChildren(hasher_, subtrees_[level], completed[level]);
    }
    subtrees_[top] = completed[top];
    ++count_;
    return top;
  }

  // The subtrees below `level`, highest first.
  std::vector<crypto::Digest> Below(int level) const {
    std::vector<crypto::Digest> out;
    for (int l = level - 1; l >= 0; --l) {
      if ((count_ >> l) & 1) out.push_back(subtrees_[l]);
    }
    return out;
  }

 private:
  const crypto::Hasher& hasher_;
  uint64_t count_ = 0;
  std::array<crypto::Digest, 64> subtrees_{};
};

class RangePass {
 public:
  RangePass(const crypto::Hasher& hasher, RecordPrf& prf, const AuditOptions& options,
            const RangePlan& plan, RangeFindings& findings)
      : hasher_(hasher),
        prf_(prf),
        options_(options),
        plan_(plan),
        findings_(findings),
        edge_(hasher) {}

  // Checks the entry at `seq`; false once the range has broken.
  bool Check(uint64_t seq, absl::string_view bytes, absl::string_view stored_nodes) {
    return CheckTree(seq, bytes, stored_nodes) && CheckContents(seq, bytes);
  }

  void Fail(uint64_t seq, BreakStage stage, size_t link, absl::string_view why) {
    findings_.failure = Break{seq, stage, link, absl::StrCat("entry ", seq, ": ", why)};
  }

 private:
  bool CheckTree(uint64_t seq, absl::string_view bytes, absl::string_view stored) {
    leaf_ = crypto::HashLeaf(hasher_, bytes);
    const int local_top = edge_.Append(leaf_, completed_);
    // The log's nodes completed by this leaf: one per trailing one bit of seq, above the leaf.
    const int top = std::countr_one(seq);
    bool same = stored.size() == size_t(top + 1) * crypto::kDigestSize;
    for (int level = 0; same && level <= std::min(top, local_top); ++level) {
      same = stored.substr(level * crypto::kDigestSize, crypto::kDigestSize) ==
             crypto::AsBytes(completed_[level]);
    }
    if (!same) {
      Fail(seq, BreakStage::kTree, 0,
           stored.substr(0, crypto::kDigestSize) == crypto::AsBytes(leaf_)
               ? "the tree nodes it completed differ from those recomputed from the entries"
               : "its bytes do not hash to the stored leaf (the entry or its leaf hash was "
                 "altered)");
      return false;
    }
    const uint64_t position = seq + 1;
    for (int level = plan_.split_level; level <= std::min(top, local_top); ++level) {
      findings_.upper_nodes.emplace(NodeKey(level, (position >> level) - 1), completed_[level]);
    }
    // Nodes over leaves before the range: left to the join.
    for (int level = local_top + 1; level <= top; ++level) {
      DeferredNode& node = findings_.deferred.emplace_back();
      node.seq = seq;
      node.level = static_cast<uint8_t>(level);
      std::copy_n(stored.data() + level * crypto::kDigestSize, crypto::kDigestSize,
                  reinterpret_cast<char*>(node.stored.data()));
    }
    if (std::find(plan_.root_sizes.begin(), plan_.root_sizes.end(), position) !=
        plan_.root_sizes.end()) {
      findings_.low_edges[position] = edge_.Below(plan_.split_level);
    }
    return true;
  }

  bool CheckContents(uint64_t seq, absl::string_view bytes) {
    if (!scanner_.Scan(bytes)) {
      Fail(seq, BreakStage::kContents, 0, "stored bytes do not parse as LedgerEntry");
      return false;
    }
    if (scanner_.seq() != seq) {
      Fail(seq, BreakStage::kContents, 0, absl::StrCat("records seq ", scanner_.seq()));
      return false;
    }
    if (options_.check_event_index) {
      const crypto::Digest payload_hash = hasher_.Hash(scanner_.payload());
      findings_.events.Add(prf_, scanner_.event_id(), seq, &payload_hash);
    }
    if (!options_.check_batch_chains) return true;
    const std::vector<ScannedBatchLink>& links = scanner_.batch_prev();
    absl::string_view previous_id;
    // Each link's batch is looked up once: the heads found are updated in place below, before
    // any insert could move them.
    link_heads_.clear();
    for (size_t i = 0; i < links.size(); ++i) {
      const ScannedBatchLink& link = links[i];
      if (!previous_id.empty() && link.batch_id <= previous_id) {
        Fail(seq, BreakStage::kContents, i, "batch_prev is not sorted and unique");
        return false;
      }
      previous_id = link.batch_id;
      auto head = findings_.heads.find(link.batch_id);
      link_heads_.push_back(head == findings_.heads.end() ? nullptr : &head->second);
      if (head == findings_.heads.end() && plan_.begin > 0) {
        // The batch's previous entry, if any, is before the range.
        findings_.pending.push_back(PendingLink{seq, i, std::string(link.batch_id),
                                                std::string(link.prev_leaf_hash)});
        continue;
      }
      const absl::string_view expected =
          head == findings_.heads.end() ? absl::string_view()
                                        : crypto::AsBytes(head->second.leaf_hash);
      if (link.prev_leaf_hash != expected) {
        Fail(seq, BreakStage::kContents, i,
             absl::StrCat("batch_prev[", link.batch_id,
                          "] does not link to the batch's previous entry"));
        return false;
      }
    }
    for (BatchHead* head : link_heads_) {
      if (head != nullptr) *head = BatchHead{seq, leaf_};
    }
    for (size_t i = 0; i < links.size(); ++i) {
      if (link_heads_[i] == nullptr) {
        findings_.heads.try_emplace(findings_.batch_ids.Copy(links[i].batch_id),
                                    BatchHead{seq, leaf_});
      }
      findings_.links.Add(prf_, links[i].batch_id, seq, nullptr);
    }
    return true;
  }

  const crypto::Hasher& hasher_;
  RecordPrf& prf_;
  const AuditOptions& options_;
  const RangePlan& plan_;
  RangeFindings& findings_;
  RangeEdge edge_;
  std::array<crypto::Digest, 65> completed_{};
  crypto::Digest leaf_{};
  EntryScanner scanner_;
  std::vector<BatchHead*> link_heads_;  // per link of the entry checked: its batch's head, if any
};

}  // namespace

absl::Status AuditEntryRange(const LedgerDb& db, const rocksdb::ReadOptions& read_options,
                             const crypto::Hasher& hasher, const RecordPrf::Key& key,
                             const AuditOptions& options, const RangePlan& plan, std::atomic<uint64_t>& stop_at,
                             const std::function<void(uint64_t)>& advance,
                             RangeFindings& findings) {
  RecordPrf prf(key);  // this range's own MAC context
  RangePass pass(hasher, prf, options, plan, findings);
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(read_options, db.cf(Cf::kEntries)));
  std::unique_ptr<rocksdb::Iterator> nodes(db.db().NewIterator(read_options, db.cf(Cf::kTree)));
  const std::string begin_key = BigEndian64(plan.begin);
  const std::string end_key = plan.end.has_value() ? BigEndian64(*plan.end) : std::string();
  nodes->Seek(begin_key);
  uint64_t seq = plan.begin;
  uint64_t unreported = 0;
  for (it->Seek(begin_key); it->Valid(); it->Next(), nodes->Next(), ++seq) {
    const rocksdb::Slice key = it->key();
    if (plan.end.has_value() && seq == *plan.end) {
      // The next range's scan starts at its first seq; a key sorting before it is this range's.
      if (key.compare(end_key) < 0) pass.Fail(seq, BreakStage::kTree, 0, "malformed key");
      break;
    }
    if (++unreported == kAdvanceStep) {
      advance(unreported);
      unreported = 0;
      if (stop_at.load(std::memory_order_relaxed) < seq) break;
    }
    if (key.size() != 8) {
      pass.Fail(seq, BreakStage::kTree, 0, "malformed key");
      break;
    }
    const uint64_t stored_seq = ReadBigEndian64(absl::string_view(key.data(), 8));
    if (stored_seq != seq) {
      pass.Fail(seq, BreakStage::kTree, 0,
                absl::StrCat("missing (the next stored entry is ", stored_seq, ")"));
      break;
    }
    if (!nodes->Valid() || nodes->key() != key) {
      if (!nodes->status().ok()) return FromRocks(nodes->status(), "reading tree");
      pass.Fail(seq, BreakStage::kTree, 0, "its tree nodes are not stored");
      break;
    }
    if (!pass.Check(seq, absl::string_view(it->value().data(), it->value().size()),
                    absl::string_view(nodes->value().data(), nodes->value().size()))) {
      break;
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading entries");
  if (unreported > 0) advance(unreported);
  for (const auto& [batch_id, head] : findings.heads) {
    findings.head_sum.Add(prf, batch_id, head.seq, &head.leaf_hash);
  }
  findings.entries = seq - plan.begin;
  if (findings.failure.has_value()) {
    uint64_t seen = stop_at.load(std::memory_order_relaxed);
    while (findings.failure->seq < seen &&
           !stop_at.compare_exchange_weak(seen, findings.failure->seq)) {
    }
  }
  return absl::OkStatus();
}

}  // namespace herbtrace::storage::internal
