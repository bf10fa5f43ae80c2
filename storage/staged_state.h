// The domain state as the sequencer sees it: the durable state, the changes the current group
// has staged over it, and a bounded cache of what recent groups read and wrote.
//
// Every StateRule read goes through here. A key read once is kept (its value, or that it is
// absent), so the appends of a group that touch the same party, key or lot read RocksDB for it
// once; what a group staged stays cached once the group is durable, so the next group reads it
// from memory too. The cache is right only because the sequencer is the one writer of the state
// families: RocksDB never changes under it except through Commit. When a group's write fails,
// what RocksDB holds is unknown until the ledger has recovered, so the ledger drops the cache
// (Discard) and the next group reads everything afresh.
//
// Each append's changes can be undone on their own (BeginAppend, then AcceptAppend or
// RejectAppend), so a rejected append stages nothing while the group goes on.
//
// Not thread-safe: owned by the ledger's sequencer thread.
#ifndef HERBTRACE_STORAGE_STAGED_STATE_H_
#define HERBTRACE_STORAGE_STAGED_STATE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rocksdb/write_batch.h"
#include "storage/ledger_db.h"

namespace herbtrace::storage {

class StagedState {
 public:
  // REQUIRES: db outlives this. `max_cached_bytes` bounds what is kept between groups (roughly:
  // keys, values and bookkeeping); past it the cache is dropped after a commit.
  StagedState(LedgerDb& db, size_t max_cached_bytes);
  StagedState(const StagedState&) = delete;
  StagedState& operator=(const StagedState&) = delete;

  // The value under `key` as the staged changes leave it; nullopt when absent. The view stays
  // valid until the next Put, Delete, RejectAppend, Commit or Discard.
  absl::StatusOr<std::optional<absl::string_view>> Get(Cf cf, absl::string_view key);

  // Visits the keys starting with `prefix`, staged changes included, in key order until `visit`
  // returns false. `visit` must not change the state.
  absl::Status ForEachWithPrefix(
      Cf cf, absl::string_view prefix,
      const std::function<bool(absl::string_view key, absl::string_view value)>& visit) const;

  void Put(Cf cf, absl::string_view key, absl::string_view value);
  void Delete(Cf cf, absl::string_view key);

  // Brackets the changes of one append: RejectAppend undoes every Put and Delete since
  // BeginAppend; AcceptAppend keeps them in the group.
  void BeginAppend();
  void AcceptAppend();
  void RejectAppend();

  // Adds the group's staged changes to `batch` (Put or Delete per changed key, in key order).
  // REQUIRES: no append is open.
  void AddChangesTo(rocksdb::WriteBatch& batch) const;
  // The batch written by AddChangesTo is durable: the staged changes become the cached state of
  // the next group (or the cache is dropped when over budget).
  void Committed();
  // The group was not written, or RocksDB's state is unknown (a failed write): forgets every
  // staged change and everything cached.
  void Discard();

  // Keys held (cached and staged), and keys staged in the current group. For tests.
  size_t cached_keys() const;
  size_t staged_keys() const;

 private:
  struct Slot {
    std::optional<std::string> value;  // nullopt: absent (deleted, or never written)
    bool staged = false;               // changed by this group (else: as RocksDB holds it)
  };
  using Family = absl::node_hash_map<std::string, Slot>;
  // What a change replaced, to undo it. `key` points into the family's node (stable).
  struct Undo {
    int cf;
    const std::string* key;
    bool existed;
    Slot before;
  };

  static size_t Cost(absl::string_view key, const Slot& slot);
  void Stage(Cf cf, absl::string_view key, std::optional<absl::string_view> value);

  LedgerDb& db_;
  const size_t max_cached_bytes_;
  std::array<Family, static_cast<int>(Cf::kCount)> families_;
  // The staged keys of each family, in key order (for prefix scans and the commit); they point
  // at the keys of families_.
  std::array<absl::btree_set<absl::string_view>, static_cast<int>(Cf::kCount)> staged_;
  std::vector<Undo> undo_;
  bool in_append_ = false;
  size_t bytes_ = 0;
};

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_STAGED_STATE_H_
