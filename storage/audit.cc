#include "storage/audit.h"

#include <array>
#include <memory>

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

// Walks the stored nodes of every tree level in index order, alongside the nodes recomputed
// from the entries (which also come out in index order per level), so each stored node is
// compared with one sequential read.
class StoredLevels {
 public:
  explicit StoredLevels(const LedgerDb& db) : db_(db) {}

  // OK when the next stored node of `id.level` is `id` with `hash`.
  absl::Status Check(crypto::NodeId id, const crypto::Digest& hash) {
    auto& it = iterators_[id.level];
    const std::string key = TreeNodeKey(id);
    if (it == nullptr) {
      it.reset(db_.db().NewIterator(rocksdb::ReadOptions(), db_.cf(Cf::kTree)));
      it->Seek(key);
    } else {
      it->Next();
    }
    const std::string where =
        absl::StrCat("tree node (level ", id.level, ", index ", id.index, ")");
    if (!it->status().ok()) return FromRocks(it->status(), "reading tree");
    if (!it->Valid() || it->key() != rocksdb::Slice(key)) {
      return absl::DataLossError(absl::StrCat(where, ": not stored"));
    }
    if (it->value() != rocksdb::Slice(crypto::AsBytes(hash).data(), crypto::kDigestSize)) {
      return absl::DataLossError(
          absl::StrCat(where, ": stored hash differs from the hash recomputed from the entries"));
    }
    return absl::OkStatus();
  }

 private:
  const LedgerDb& db_;
  std::array<std::unique_ptr<rocksdb::Iterator>, 64> iterators_;
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

  crypto::CompactRange tree(**hasher);
  StoredLevels stored(db);
  absl::flat_hash_map<std::string, crypto::Digest> chain_heads;
  std::unique_ptr<rocksdb::Iterator> it(
      db.db().NewIterator(rocksdb::ReadOptions(), db.cf(Cf::kEntries)));
  v1::LedgerEntry entry;
  uint64_t seq = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++seq) {
    const rocksdb::Slice key = it->key();
    if (key.size() != 8) return fail(seq, absl::StrCat("entry ", seq, ": malformed key"));
    const uint64_t stored_seq = ReadBigEndian64(absl::string_view(key.data(), 8));
    if (stored_seq != seq) {
      return fail(seq, absl::StrCat("entry ", seq, ": missing (the next stored entry is ",
                                    stored_seq, ")"));
    }
    const absl::string_view bytes(it->value().data(), it->value().size());
    const crypto::Digest leaf = crypto::HashLeaf(**hasher, bytes);
    for (const auto& [id, hash] : tree.Append(leaf)) {
      if (auto s = stored.Check(id, hash); !s.ok()) {
        if (!absl::IsDataLoss(s)) return s;
        if (id.level == 0) {
          return fail(seq, absl::StrCat("entry ", seq,
                                        ": its bytes do not hash to the stored leaf (the entry "
                                        "or its leaf hash was altered): ",
                                        s.message()));
        }
        return fail(seq, absl::StrCat("entry ", seq, ": ", s.message()));
      }
    }
    if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return fail(seq, absl::StrCat("entry ", seq, ": stored bytes do not parse as LedgerEntry"));
    }
    if (entry.seq() != seq) {
      return fail(seq, absl::StrCat("entry ", seq, ": records seq ", entry.seq()));
    }
    if (options.check_event_index) {
      auto found = view.FindEvent(entry.event_id());
      if (!found.ok()) return found.status();
      if (!found->has_value() || **found != seq) {
        return fail(seq, absl::StrCat("entry ", seq, ": event_ids[", entry.event_id(),
                                      "] does not point back at it"));
      }
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
  return report;
}

}  // namespace herbtrace::storage
