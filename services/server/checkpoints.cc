#include "services/server/checkpoints.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/iterator.h"
#include "storage/key_codec.h"

namespace herbtrace::server {

v1::Checkpoint CheckpointProto(const std::string& note, const crypto::Checkpoint& checkpoint) {
  v1::Checkpoint out;
  out.set_note(note);
  out.set_size(checkpoint.size);
  const absl::string_view root = crypto::AsBytes(checkpoint.root_hash);
  out.set_root_hash(root.data(), root.size());
  out.set_origin(checkpoint.origin);
  return out;
}

absl::StatusOr<std::vector<StoredCosignature>> ReadCosignatures(const storage::LedgerDb& db) {
  std::vector<StoredCosignature> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db.db().NewIterator(rocksdb::ReadOptions(), db.cf(storage::Cf::kMeta)));
  const rocksdb::Slice prefix(kMetaCosignaturePrefix.data(), kMetaCosignaturePrefix.size());
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string key = it->key().ToString();
    auto note = crypto::ParseNote(absl::string_view(it->value().data(), it->value().size()));
    if (!note.ok() || note->signatures.size() != 1) {
      return absl::DataLossError(absl::StrCat("meta ", key, ": not a note with one cosignature"));
    }
    auto checkpoint = crypto::ParseCheckpoint(note->text);
    if (!checkpoint.ok() || note->signatures[0].signature.size() < 8) {
      return absl::DataLossError(absl::StrCat("meta ", key, ": malformed cosigned checkpoint"));
    }
    StoredCosignature c;
    c.body = note->text;
    c.checkpoint = *std::move(checkpoint);
    c.signature = note->signatures[0];
    c.timestamp = storage::ReadBigEndian64(c.signature.signature);
    out.push_back(std::move(c));
  }
  if (!it->status().ok()) return storage::FromRocks(it->status(), "reading cosignatures");
  return out;
}

absl::StatusOr<bool> StoreCosignature(LogSource& source, const StoredCosignature& cosignature) {
  if (source.writer() == nullptr) {
    return absl::FailedPreconditionError(
        "cosignature: this is a reader replica; cosignatures are stored by the writer");
  }
  storage::LedgerDb& db = source.writer()->db();
  const std::string key = absl::StrCat(kMetaCosignaturePrefix, cosignature.signature.name);
  auto stored = db.Get(storage::Cf::kMeta, key);
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) {
    auto note = crypto::ParseNote(**stored);
    if (note.ok() && note->signatures.size() == 1 && note->signatures[0].signature.size() >= 8) {
      auto checkpoint = crypto::ParseCheckpoint(note->text);
      const uint64_t timestamp = storage::ReadBigEndian64(note->signatures[0].signature);
      if (checkpoint.ok() &&
          (checkpoint->size > cosignature.checkpoint.size ||
           (checkpoint->size == cosignature.checkpoint.size && timestamp > cosignature.timestamp))) {
        return false;
      }
    }
  }
  const std::string value = crypto::FormatNote(crypto::Note{cosignature.body, {cosignature.signature}});
  rocksdb::WriteOptions options;
  // A witness resends when told to, but a cosignature we acknowledged should survive a crash.
  options.sync = true;
  auto s = db.db().Put(options, db.cf(storage::Cf::kMeta), rocksdb::Slice(key.data(), key.size()),
                       value);
  if (!s.ok()) return storage::FromRocks(s, absl::StrCat("storing meta ", key));
  source.cosigned_notes().Invalidate();
  return true;
}

absl::StatusOr<std::string> AttachCosignatures(const storage::LedgerDb& db,
                                               const std::string& note) {
  auto parsed = crypto::ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  auto cosignatures = ReadCosignatures(db);
  if (!cosignatures.ok()) return cosignatures.status();
  bool added = false;
  for (StoredCosignature& c : *cosignatures) {
    if (c.body != parsed->text) continue;
    bool present = false;
    for (const crypto::NoteSignature& s : parsed->signatures) {
      present = present || (s.name == c.signature.name && s.key_hash == c.signature.key_hash);
    }
    if (present || parsed->signatures.size() >= crypto::kMaxNoteSignatures) continue;
    parsed->signatures.push_back(std::move(c.signature));
    added = true;
  }
  if (!added) return note;
  return crypto::FormatNote(*parsed);
}

absl::StatusOr<v1::Checkpoint> CosignedCheckpoint(const LogSource& source,
                                                  const StoredCheckpoint& stored) {
  auto note = source.cosigned_notes().Attach(source.db(), stored.note);
  if (!note.ok()) return note.status();
  return CheckpointProto(*note, stored.checkpoint);
}

}  // namespace herbtrace::server
