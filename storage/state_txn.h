// The view a StateRule gets of one pending append: every earlier append (durable, or earlier in
// the same uncommitted group) is visible; what the rule stages commits atomically with the entry
// or not at all.
#ifndef HERBTRACE_STORAGE_STATE_TXN_H_
#define HERBTRACE_STORAGE_STATE_TXN_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/ledger_db.h"
#include "storage/staged_state.h"

namespace herbtrace::storage {

// Not thread-safe: lives on the sequencer thread for the duration of one StateRule::Apply.
class StateTxn {
 public:
  // REQUIRES: state outlives the txn.
  StateTxn(StagedState& state, uint64_t seq, absl::Time received_at)
      : state_(state), seq_(seq), received_at_(received_at) {}

  // The sequence number the entry will get if the rule accepts it.
  uint64_t seq() const { return seq_; }
  absl::Time received_at() const { return received_at_; }

  // Reads and writes are limited to the domain-state families: batch_state, lineage_down,
  // lineage_up, holder_batches, registry, confidential. The others are the log's own; touching
  // them is an Internal error (batch heads are the ledger's business: see TouchBatch).
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, absl::string_view key) const;
  // As Get, without a copy: the view stays valid until the next Put or Delete of this txn.
  absl::StatusOr<std::optional<absl::string_view>> View(Cf cf, absl::string_view key) const;

  // Visits keys starting with `prefix` in key order until `visit` returns false.
  absl::Status ForEachWithPrefix(
      Cf cf, absl::string_view prefix,
      const std::function<bool(absl::string_view key, absl::string_view value)>& visit) const;

  absl::Status Put(Cf cf, absl::string_view key, absl::string_view value);
  absl::Status Delete(Cf cf, absl::string_view key);

  // Extends the batch's hash chain with this entry: the entry records the batch's current head
  // in batch_prev, becomes its new head, and joins its history.
  void TouchBatch(absl::string_view batch_id) { touched_.emplace(batch_id); }
  const std::set<std::string>& touched_batches() const { return touched_; }

 private:
  static absl::Status CheckStateFamily(Cf cf);

  StagedState& state_;
  const uint64_t seq_;
  const absl::Time received_at_;
  std::set<std::string> touched_;
};

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_STATE_TXN_H_
