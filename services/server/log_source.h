// What the read services (Ledger, Registry, Trace, Recall) read from: the writer's embedded
// ledger, or a reader replica — a RocksDB secondary instance of the writer's database that
// catches up with it on a timer and on demand.
//
// Consistency on a replica: every entry, index and state change of one group commit arrives in
// one write batch, so the replica always shows the log at some committed size. A read that
// spans several point reads may see a later size for its later reads; responses state the size
// read first (`as_of_tree_size`), and the state they return is at least that new.
//
// Thread-safe.
#ifndef HERBTRACE_SERVICES_SERVER_LOG_SOURCE_H_
#define HERBTRACE_SERVICES_SERVER_LOG_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/checkpoint.h"
#include "crypto/hash.h"
#include "services/domain/signature_audit.h"
#include "services/domain/state_reader.h"
#include "services/server/cosigned_notes.h"
#include "storage/audit.h"
#include "storage/ledger.h"
#include "storage/ledger_db.h"
#include "storage/log_config.h"
#include "storage/log_view.h"

namespace herbtrace::server {

// A checkpoint note as stored and its parsed body.
struct StoredCheckpoint {
  std::string note;  // the signed note, byte for byte
  crypto::Checkpoint checkpoint;
};

class LogSource {
 public:
  struct ReplicaOptions {
    // The writer's RocksDB directory (its DATA/db).
    std::string primary_db_path;
    // This reader's own directory for the secondary instance's MANIFEST copy and info log.
    std::string secondary_path;
    // How often the background thread catches up with the writer.
    absl::Duration catch_up_interval = absl::Milliseconds(100);
    size_t block_cache_bytes = 64 << 20;
  };

  // The writer's (or the all-in-one server's) ledger. REQUIRES: ledger outlives the source.
  static absl::StatusOr<std::unique_ptr<LogSource>> ForLedger(storage::Ledger& ledger);
  // A reader replica. NotFound when the writer has not created its ledger yet (callers retry).
  static absl::StatusOr<std::unique_ptr<LogSource>> OpenReplica(const ReplicaOptions& options);

  // Stops the catch-up thread (replicas).
  ~LogSource();
  LogSource(const LogSource&) = delete;
  LogSource& operator=(const LogSource&) = delete;

  const storage::LogView& view() const { return *view_; }
  const storage::LedgerDb& db() const { return *db_; }
  const domain::StateReader& state() const { return state_; }
  const crypto::Hasher& hasher() const { return view_->hasher(); }
  // Origin, hash algorithm and the log's verifier key, as the log recorded them at creation.
  const storage::LogConfig& config() const { return config_; }
  // The writer's ledger; null on a replica, which cannot write.
  storage::Ledger* writer() const { return writer_; }
  bool is_replica() const { return writer_ == nullptr; }

  // The log's size now.
  absl::StatusOr<uint64_t> Size() const { return view_->Size(); }

  // A replica whose log is smaller than `size` catches up with the writer once, now, so a
  // client holding a newer checkpoint than the replica's timer has seen gets an answer rather
  // than OUT_OF_RANGE. No-op on the writer and when the log is already large enough.
  absl::Status CatchUpTo(uint64_t size);
  // Replicas: catch up now. No-op on the writer.
  absl::Status CatchUp();

  // The latest signed checkpoint. FailedPrecondition before the log signed one. The stored
  // note is read every time; it is parsed again only when its bytes changed.
  absl::StatusOr<StoredCheckpoint> LatestCheckpoint() const;

  // The latest note with its witnesses' cosignatures, as last built (checkpoints.h
  // CosignedCheckpoint). A replica's catch-up invalidates it; so must whoever stores a
  // cosignature (checkpoints.h StoreCosignature does).
  CosignedNotes& cosigned_notes() const { return cosigned_notes_; }

  // The latest checkpoint, signed anew first when it is smaller than `size` and this is the
  // writer, so entries appended a moment ago can be proven at once instead of after the
  // ledger's next periodic checkpoint. A replica catches up once and returns its latest, which
  // may still not cover `size`; callers leave out what it does not cover. So does the writer
  // while its disk refuses writes (no new checkpoint can be stored then).
  absl::StatusOr<StoredCheckpoint> CheckpointCovering(uint64_t size);

  // storage::AuditLedger of the log, which reads one snapshot. A replica audits the writer's
  // database opened read-only (a RocksDB secondary serves no snapshots), so the audit covers
  // what the writer has committed, not what this replica has caught up to.
  absl::StatusOr<storage::AuditReport> Audit(const storage::AuditOptions& options) const;
  // domain::AuditSignatures of the log, from one snapshot; on a replica, of the writer's
  // database opened read-only, as Audit.
  absl::StatusOr<domain::SignatureAuditReport> AuditSignatures(
      const domain::SignatureAuditOptions& options) const;

 private:
  // Exactly one of `writer` and `replica_db` is set; `replica_hasher` with `replica_db`.
  LogSource(storage::Ledger* writer, std::unique_ptr<storage::LedgerDb> replica_db,
            std::unique_ptr<crypto::Hasher> replica_hasher, storage::LogConfig config,
            std::string primary_db_path);

  // The writer's database, read-only: a RocksDB secondary serves no snapshots, the audits
  // need one.
  absl::StatusOr<std::unique_ptr<storage::LedgerDb>> OpenPrimaryReadOnly() const;
  void RunCatchUp(absl::Duration interval);
  bool StopRequested() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(stop_mu_) { return stop_; }

  storage::Ledger* const writer_;
  const std::unique_ptr<storage::LedgerDb> owned_db_;  // replicas only
  const storage::LedgerDb* const db_;
  const std::unique_ptr<crypto::Hasher> owned_hasher_;  // replicas only
  const std::unique_ptr<storage::LogView> owned_view_;  // replicas only
  const storage::LogView* const view_;
  const domain::StateReader state_;
  const storage::LogConfig config_;
  const std::string primary_db_path_;

  // The latest stored note as last parsed.
  mutable absl::Mutex latest_mu_;
  mutable std::optional<StoredCheckpoint> latest_ ABSL_GUARDED_BY(latest_mu_);
  mutable CosignedNotes cosigned_notes_;

  // Serializes catch-ups (the timer's and on-demand ones).
  absl::Mutex catch_up_mu_;
  mutable absl::Mutex stop_mu_;
  bool stop_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread catch_up_thread_;
};

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_LOG_SOURCE_H_
