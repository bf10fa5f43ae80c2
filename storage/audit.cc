#include "storage/audit.h"

#include <memory>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
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
    std::string buf(event_id);
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
  friend bool operator==(const IndexSum&, const IndexSum&) = default;

 private:
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

  crypto::CompactRange tree(**hasher);
  absl::flat_hash_map<std::string, crypto::Digest> chain_heads;
  IndexSum index_sum;
  absl::Status index_status;
  std::thread index_thread;
  if (options.check_event_index) {
    index_thread = std::thread([&] { index_status = SumEventIndex(db, **hasher, *size, index_sum); });
  }
  // Joins the index thread on every way out.
  struct Joiner {
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) t.join();
    }
  } joiner{index_thread};
  IndexSum entries_sum;

  std::unique_ptr<rocksdb::Iterator> it(
      db.db().NewIterator(rocksdb::ReadOptions(), db.cf(Cf::kEntries)));
  std::unique_ptr<rocksdb::Iterator> nodes(
      db.db().NewIterator(rocksdb::ReadOptions(), db.cf(Cf::kTree)));
  nodes->SeekToFirst();
  v1::LedgerEntry entry;
  uint64_t seq = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), nodes->Next(), ++seq) {
    const rocksdb::Slice key = it->key();
    if (key.size() != 8) return fail(seq, absl::StrCat("entry ", seq, ": malformed key"));
    const uint64_t stored_seq = ReadBigEndian64(absl::string_view(key.data(), 8));
    if (stored_seq != seq) {
      return fail(seq, absl::StrCat("entry ", seq, ": missing (the next stored entry is ",
                                    stored_seq, ")"));
    }
    const absl::string_view bytes(it->value().data(), it->value().size());
    const crypto::Digest leaf = crypto::HashLeaf(**hasher, bytes);
    const std::string expected_nodes = EncodeTreeNodes(tree.Append(leaf));
    if (!nodes->Valid() || nodes->key() != key) {
      if (!nodes->status().ok()) return FromRocks(nodes->status(), "reading tree");
      return fail(seq, absl::StrCat("entry ", seq, ": its tree nodes are not stored"));
    }
    const absl::string_view stored_nodes(nodes->value().data(), nodes->value().size());
    if (stored_nodes != expected_nodes) {
      if (stored_nodes.substr(0, crypto::kDigestSize) !=
          absl::string_view(expected_nodes).substr(0, crypto::kDigestSize)) {
        return fail(seq, absl::StrCat("entry ", seq,
                                      ": its bytes do not hash to the stored leaf (the entry or "
                                      "its leaf hash was altered)"));
      }
      return fail(seq, absl::StrCat("entry ", seq,
                                    ": the tree nodes it completed differ from those "
                                    "recomputed from the entries"));
    }
    if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return fail(seq, absl::StrCat("entry ", seq, ": stored bytes do not parse as LedgerEntry"));
    }
    if (entry.seq() != seq) {
      return fail(seq, absl::StrCat("entry ", seq, ": records seq ", entry.seq()));
    }
    if (options.check_event_index) {
      entries_sum.Add(**hasher, entry.event_id(), seq,
                      (*hasher)->Hash(entry.signed_event().payload()));
    }
    if (options.check_batch_chains) {
      absl::string_view previous_id;
      for (const v1::BatchLink& link : entry.batch_prev()) {
        if (!previous_id.empty() && link.batch_id() <= previous_id) {
          return fail(seq, absl::StrCat("entry ", seq, ": batch_prev is not sorted and unique"));
        }
        previous_id = link.batch_id();
        auto head = chain_heads.find(link.batch_id());
        const std::string expected =
            head == chain_heads.end() ? std::string() : std::string(crypto::AsBytes(head->second));
        if (link.prev_leaf_hash() != expected) {
          return fail(seq, absl::StrCat("entry ", seq, ": batch_prev[", link.batch_id(),
                                        "] does not link to the batch's previous entry"));
        }
      }
      for (const v1::BatchLink& link : entry.batch_prev()) chain_heads[link.batch_id()] = leaf;
    }
    if (checkpoint.has_value() && checkpoint->size == seq + 1 &&
        tree.Root() != checkpoint->root_hash) {
      return fail(seq, absl::StrCat("checkpoint: the entries give root ", crypto::ToHex(tree.Root()),
                                    " at size ", seq + 1, " but the signed checkpoint says ",
                                    crypto::ToHex(checkpoint->root_hash)));
    }
    report.entries_checked = seq + 1;
    if (options.progress && options.progress_every > 0 && (seq + 1) % options.progress_every == 0) {
      options.progress(seq + 1);
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading entries");
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
    if (!(index_sum == entries_sum)) {
      // Locate the difference: the first entry whose record is absent or wrong.
      for (uint64_t s = 0; s < seq; ++s) {
        auto bytes = view.EntryBytes(s);
        if (!bytes.ok()) return bytes.status();
        if (!entry.ParseFromString(*bytes)) return bytes.status();
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
                               entries_sum.count, " entries (records for no entry)"));
    }
  }
  return report;
}

}  // namespace herbtrace::storage
