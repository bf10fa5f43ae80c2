// The whole log as a client sees it over gRPC, to hold receipts against: the checkpoint the
// server signs over everything durable, and every entry exactly as stored (Ledger.GetEntries),
// each leaf hash recomputed from the stored bytes and the tree rebuilt from them. A receipt is
// in the log when its entry sits at its seq with its event id and leaf hash, and the tree it was
// committed with (tree_size, root_hash) is this tree cut at that size.
//
// The log's tree hash is SHA-256 (herbtrace-server's default). Immutable after Read;
// thread-safe.
#ifndef HERBTRACE_TESTS_E2E_LOG_SNAPSHOT_H_
#define HERBTRACE_TESTS_E2E_LOG_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/hash.h"
#include "crypto/memory_tree.h"
#include "herbtrace/v1/entry.pb.h"
#include "herbtrace/v1/ledger.grpc.pb.h"

namespace herbtrace::testing {

class LogSnapshot {
 public:
  // GetCheckpoint, then GetEntries over [0, its size), each call with `deadline`. DataLoss when
  // an entry's seq is not its position, its leaf hash does not match its bytes, it does not
  // parse, an event id is logged twice, or the entries do not hash to the checkpoint's root.
  static absl::StatusOr<std::unique_ptr<LogSnapshot>> Read(v1::Ledger::Stub& ledger,
                                                           absl::Duration deadline);

  uint64_t size() const { return tree_->size(); }
  // OK when `receipt` is this log's (see the top of this file); otherwise DataLoss naming the
  // receipt's event id and what differs.
  absl::Status Holds(const v1::Receipt& receipt) const;
  // The seq of the entry logging `event_id`, if there is one.
  std::optional<uint64_t> SeqOf(const std::string& event_id) const;

 private:
  LogSnapshot(std::unique_ptr<crypto::Hasher> hasher, std::unique_ptr<crypto::MemoryTree> tree,
              absl::flat_hash_map<std::string, uint64_t> seq_of)
      : hasher_(std::move(hasher)), tree_(std::move(tree)), seq_of_(std::move(seq_of)) {}

  std::unique_ptr<crypto::Hasher> hasher_;
  std::unique_ptr<crypto::MemoryTree> tree_;
  absl::flat_hash_map<std::string, uint64_t> seq_of_;
};

// Ledger.Audit over the latest checkpoint with `deadline`: the report, or the call's error.
absl::StatusOr<v1::AuditReport> AuditLog(v1::Ledger::Stub& ledger, absl::Duration deadline);

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_E2E_LOG_SNAPSHOT_H_
