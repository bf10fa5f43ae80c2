// The HerbTrace log: an append-only, hash-chained, Merkle-tree ledger on RocksDB, owned by one
// writer process.
//
// Appends are sequenced by one thread. Signatures and decoding happen before, on the callers'
// threads; the sequencer only checks idempotency, runs the StateRule (the domain rules), links
// each touched batch's hash chain, assigns the sequence number and stages the entry, its tree
// nodes and its indexes into the current group. A group (up to Options::max_group_size appends
// that queued while the previous group was being written) is committed as ONE RocksDB WriteBatch
// with one WAL sync; only then does any append in it complete. So an acknowledged append is
// durable, and the log and its indexes never disagree after a crash. The rules read the domain
// state through StagedState (staged_state.h), which keeps what recent groups read and wrote in
// memory, and the sequencer keeps recent batch heads the same way; both are forgotten whenever
// a write fails, so they never disagree with what RocksDB holds.
//
// Every append is idempotent by event id: the same id with the same signed payload completes with
// the original receipt; the same id with other bytes fails with AlreadyExists and writes nothing.
//
// Write errors. When a group's WriteBatch fails, or RocksDB reports a failed flush, compaction,
// WAL or MANIFEST write of its own, the ledger refuses appends at once — every append of the
// failed group, everything queued behind it and every new one — with ResourceExhausted when the
// disk is full (RocksDB's NoSpace) and Unavailable for any other I/O error; the message says
// what failed and that the client should retry with the same event_id. Nothing of a failed
// group is acknowledged. The sequencer then tries to recover on a backoff
// (Options::recovery_backoff_min doubling up to _max): LedgerDb::Resume() (RocksDB flushes its
// memtables and starts a new WAL, so the failed write can no longer come back from the old
// one), then it re-reads the stored tree size — what is really durable. RocksDB 7.8 applies no
// write whose WAL write or sync failed, so the failed group normally did not land and the tree
// is as before it; should the stored size be larger all the same, those entries are re-hashed
// onto the tree and checked against the nodes stored for them (VerifyTail), so that a retry
// gets its receipt from the log. A synced rewrite of the stored tree size then proves the disk
// takes writes again, and appends are accepted — without a reopen. Reads never stop.
// Checkpoints are only ever signed for what is durable; while writes fail, storing one fails
// and is retried later. Errors that are not I/O errors (corruption, a tail that does not verify
// after a recovery) stop appends until the ledger is reopened and re-verified.
//
// A crash between a failed write and a successful recovery leaves the outcome to the next
// open: when only the sync failed, the record may be in the WAL and the group comes back (its
// retries then get the original receipts from the log), or it does not (the retries append it
// anew). Either way nothing acknowledged is lost and nothing is acknowledged twice.
//
// Thread-safe: Append/AppendAsync and every read may be called from any thread.
#ifndef HERBTRACE_STORAGE_LEDGER_H_
#define HERBTRACE_STORAGE_LEDGER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/compact_range.h"
#include "crypto/hash.h"
#include "crypto/signed_note.h"
#include "herbtrace/v1/entry.pb.h"
#include "storage/clock.h"
#include "storage/ledger_db.h"
#include "storage/log_view.h"
#include "storage/staged_state.h"
#include "storage/state_txn.h"

namespace herbtrace::storage {

// What the domain layer learned about a request before sequencing (the decoded event, the
// verified signer); handed to the StateRule untouched.
class AppendContext {
 public:
  virtual ~AppendContext() = default;
};

struct AppendRequest {
  std::string event_id;
  // As submitted; signed_event.payload is the exact signed bytes.
  v1::SignedEvent signed_event;
  // Optimistic concurrency: batch id → the head leaf hash the client last saw (32 bytes, or
  // empty for "the batch must not exist yet"). A stale head fails the append with Aborted.
  std::vector<std::pair<std::string, std::string>> expected_heads;
  std::shared_ptr<const AppendContext> context;
  // Set for an event that arrived in a signed offline bundle; stored in the entry so the event
  // stays provably signed on its own (signed_event.signature is then empty).
  std::optional<v1::BundleMembership> bundle;
};

// The domain rules, run on the sequencer thread for every append in sequence order.
class StateRule {
 public:
  virtual ~StateRule() = default;
  // Checks the request against the state in `txn` and stages its state changes there, calling
  // txn.TouchBatch for every batch the event touches. An error rejects this append only: its
  // staged changes are discarded and the caller gets the status unchanged. Must not block.
  virtual absl::Status Apply(const AppendRequest& request, StateTxn& txn) = 0;
};

class Ledger {
 public:
  struct Options {
    // First line of every checkpoint: the log's identity, e.g. "anguo.herbtrace.cn/log".
    std::string origin;
    crypto::HashAlgorithm hash = crypto::HashAlgorithm::kSha256;
    // Sync the WAL before acknowledging a group. Off only for benchmarks and bulk imports.
    bool sync = true;
    size_t max_group_size = 1024;
    // After a committed group, sign a new checkpoint if the last one is older than this.
    absl::Duration checkpoint_interval = absl::Seconds(1);
    // Not owned; default Clock::Real().
    const Clock* clock = nullptr;
    // Not owned; null accepts every append and touches no batch.
    StateRule* rule = nullptr;
    size_t block_cache_bytes = 256 << 20;
    // After a write error: first recovery attempt after `recovery_backoff_min`, then doubling
    // up to `recovery_backoff_max` between attempts.
    absl::Duration recovery_backoff_min = absl::Milliseconds(200);
    absl::Duration recovery_backoff_max = absl::Seconds(1);
    // The Env (and its FileSystem) the ledger's RocksDB runs on; null for the default. Not owned:
    // must outlive the Ledger. Tests inject write faults here.
    rocksdb::Env* env = nullptr;
    // Domain state the sequencer keeps in memory between groups (what recent groups read and
    // wrote; see staged_state.h), bytes. 0 keeps nothing beyond the current group.
    size_t state_cache_bytes = 32 << 20;
  };

  // Opens (creating when the directory holds no ledger) and verifies the ledger: the stored
  // tree size matches the entries, the last signed checkpoint carries a valid signature of
  // `log_signer`'s key and the stored tree reproduces its root, and every entry appended since
  // that checkpoint hashes to the tree nodes stored for it. A ledger that does not verify is
  // refused with DataLoss naming where it breaks (the whole history is re-verified by
  // AuditLedger, not on every open). A ledger created with another origin, hash or key is
  // refused with FailedPrecondition; options.origin must be the log signer's name.
  static absl::StatusOr<std::unique_ptr<Ledger>> Open(
      const std::string& path, Options options, std::unique_ptr<crypto::NoteSigner> log_signer);

  // Drains every queued append, stops the sequencer, signs a last checkpoint.
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  using AppendCallback = std::function<void(absl::StatusOr<v1::Receipt>)>;
  // `done` runs exactly once, after the append is durable or has failed: on the sequencer
  // thread, or on the caller's thread (without locks held) when the ledger refuses the append
  // at once (closing, or refusing appends after a failed write). It must be quick and must not
  // block.
  void AppendAsync(AppendRequest request, AppendCallback done);
  // Blocks until the append is durable or has failed.
  absl::StatusOr<v1::Receipt> Append(AppendRequest request);

  // Queues `requests` at once, in order and under one lock: they are sequenced one after the
  // other with nothing of another caller's between them, in as few groups as
  // Options::max_group_size allows. `done(i, result)` runs once for each requests[i], as
  // AppendAsync's callback does (same threads, same rules); an empty `requests` calls nothing.
  using AppendManyCallback = std::function<void(size_t index, absl::StatusOr<v1::Receipt>)>;
  void AppendManyAsync(std::vector<AppendRequest> requests, AppendManyCallback done);

  // Signs a checkpoint of everything durable now, stores it as the latest, returns the note.
  // Fails (ResourceExhausted, Unavailable) while the disk does not take writes.
  absl::StatusOr<std::string> SignCheckpoint();

  // OK while appends are accepted; otherwise the status every append is refused with now.
  absl::Status write_status() const;

  // Entries that are durable and visible to readers.
  uint64_t size() const;
  const LogView& view() const { return view_; }
  LedgerDb& db() { return *db_; }
  const crypto::Hasher& hasher() const { return *hasher_; }
  const crypto::NoteSigner& log_signer() const { return *log_signer_; }
  const Options& options() const { return options_; }

 private:
  struct Pending {
    AppendRequest request;
    // One of the two: the append's own callback, or the shared callback of AppendManyAsync
    // with the request's index.
    AppendCallback done;
    std::shared_ptr<const AppendManyCallback> many;
    size_t index = 0;

    void Finish(absl::StatusOr<v1::Receipt> result) {
      if (many != nullptr) {
        (*many)(index, std::move(result));
      } else {
        done(std::move(result));
      }
    }
  };
  struct Staged;
  struct Group;

  Ledger(Options options, std::unique_ptr<crypto::Hasher> hasher,
         std::unique_ptr<crypto::NoteSigner> log_signer, std::unique_ptr<LedgerDb> db,
         crypto::CompactRange tree);

  absl::Status InitializeOrVerify();
  // Re-hashes entries [from, size) onto tree_ and compares the nodes stored for each.
  absl::Status VerifyTail(uint64_t from, uint64_t size);
  static absl::Status TreeError(const absl::Status& status);
  void RunSequencer();
  // Refuses appends from now on with `refusal` (the first refusal wins until a recovery);
  // `recoverable` lets the sequencer try to recover. Any thread.
  void StopAppends(absl::Status refusal, bool recoverable);
  // A RocksDB background error reported by the storage error handler.
  void OnStorageError(const absl::Status& error);
  // Resumes RocksDB and re-reads what is durable (sequencer thread). OK: appends may resume.
  // DataLoss: the stored log does not verify; anything else: try again later.
  absl::Status Recover();
  // Signs and stores a checkpoint of tree_ (sequencer thread only).
  void SignCheckpointNow(bool sync);
  void CommitGroup(std::vector<Pending> pending);
  // What event_ids holds for each pending append's event id (nullopt: a new id, or none).
  std::vector<absl::StatusOr<std::optional<EventRecord>>> FindEventRecords(
      const std::vector<Pending>& pending) const;
  // True when the append is a retry of an event id already in the log (`logged`, as
  // FindEventRecords read it) or in this group; its result is then set.
  bool ResolveRetry(const AppendRequest& request,
                    const absl::StatusOr<std::optional<EventRecord>>& logged, size_t index,
                    Group& group);
  // Runs the rule, links the batch chains and stages the entry, its tree nodes and indexes.
  // Takes the signed event and bundle membership out of `request` once it is accepted.
  absl::Status StageAppend(AppendRequest& request, size_t index, Group& group);
  absl::Status LinkBatches(const AppendRequest& request, const std::set<std::string>& touched,
                           v1::LedgerEntry& entry) const;
  absl::StatusOr<std::optional<BatchHead>> CurrentHead(const std::string& batch_id) const;
  // After a group's write failed, or RocksDB's state is unknown: forget what the sequencer
  // keeps of the state and the batch heads, so the next group reads them from RocksDB.
  void ForgetCachedState();
  // Writes the group as one WriteBatch; on failure the ledger refuses appends until it has
  // recovered (see the top of this file).
  void Commit(Group& group, const crypto::CompactRange& tree_before);
  absl::StatusOr<std::string> SignAndStoreCheckpoint(uint64_t size, const crypto::Digest& root,
                                                     bool sync);

  const Options options_;
  const std::unique_ptr<crypto::Hasher> hasher_;
  const std::unique_ptr<crypto::NoteSigner> log_signer_;
  const std::unique_ptr<LedgerDb> db_;
  const LogView view_;

  // Owned by the sequencer thread once it runs.
  crypto::CompactRange tree_;
  // The domain state with the current group's changes, and a cache of recent groups' state.
  StagedState state_;
  // Batch heads as the durable log and the current group leave them, for batches touched
  // recently; bounded by kMaxCachedHeads.
  absl::flat_hash_map<std::string, BatchHead> heads_;
  absl::Time last_checkpoint_at_ = absl::InfinitePast();
  // Appends committed since the last checkpoint the sequencer signed.
  bool unsigned_appends_ = false;

  mutable absl::Mutex queue_mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  // Set when a write failed: every append is refused with it until a recovery (when
  // `recoverable_`) or a reopen.
  absl::Status failed_ ABSL_GUARDED_BY(queue_mu_);
  bool recoverable_ ABSL_GUARDED_BY(queue_mu_) = false;

  // The newest durable (size, root): what a checkpoint may sign.
  mutable absl::Mutex durable_mu_;
  uint64_t durable_size_ ABSL_GUARDED_BY(durable_mu_) = 0;
  crypto::Digest durable_root_ ABSL_GUARDED_BY(durable_mu_){};
  // Serializes checkpoint signing so an older checkpoint never overwrites a newer one.
  absl::Mutex checkpoint_mu_;
  uint64_t checkpoint_size_ ABSL_GUARDED_BY(checkpoint_mu_) = 0;
  bool has_checkpoint_ ABSL_GUARDED_BY(checkpoint_mu_) = false;

  std::thread sequencer_;
};

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_LEDGER_H_
