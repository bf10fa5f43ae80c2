#include "services/server/log_source.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "crypto/signed_note.h"

namespace herbtrace::server {
namespace {

absl::StatusOr<StoredCheckpoint> ParseStored(std::string note) {
  auto parsed = crypto::ParseNote(note);
  if (!parsed.ok()) {
    return absl::DataLossError(
        absl::StrCat("meta checkpoint: the stored note does not parse: ", parsed.status().message()));
  }
  auto checkpoint = crypto::ParseCheckpoint(parsed->text);
  if (!checkpoint.ok()) {
    return absl::DataLossError(absl::StrCat("meta checkpoint: the stored note's body does not parse: ",
                                            checkpoint.status().message()));
  }
  return StoredCheckpoint{std::move(note), *std::move(checkpoint)};
}

}  // namespace

LogSource::LogSource(storage::Ledger* writer, std::unique_ptr<storage::LedgerDb> replica_db,
                     std::unique_ptr<crypto::Hasher> replica_hasher, storage::LogConfig config,
                     std::string primary_db_path)
    : writer_(writer),
      owned_db_(std::move(replica_db)),
      db_(writer != nullptr ? &writer->db() : owned_db_.get()),
      owned_hasher_(std::move(replica_hasher)),
      owned_view_(writer != nullptr
                      ? nullptr
                      : std::make_unique<storage::LogView>(*owned_db_, *owned_hasher_)),
      view_(writer != nullptr ? &writer->view() : owned_view_.get()),
      state_(*db_),
      config_(std::move(config)),
      primary_db_path_(std::move(primary_db_path)) {}

absl::StatusOr<std::unique_ptr<LogSource>> LogSource::ForLedger(storage::Ledger& ledger) {
  auto config = storage::ReadLogConfig(ledger.db());
  if (!config.ok()) return config.status();
  return std::unique_ptr<LogSource>(new LogSource(&ledger, nullptr, nullptr, *std::move(config),
                                                  ledger.db().path()));
}

absl::StatusOr<std::unique_ptr<LogSource>> LogSource::OpenReplica(const ReplicaOptions& options) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(options.primary_db_path) / "CURRENT", ec)) {
    return absl::NotFoundError(absl::StrCat("primary: no ledger at ", options.primary_db_path,
                                            " yet (is the writer running?)"));
  }
  std::filesystem::create_directories(options.secondary_path, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("creating ", options.secondary_path, ": ", ec.message()));
  }
  storage::LedgerDb::Options db_options;
  db_options.mode = storage::OpenMode::kSecondary;
  db_options.secondary_path = options.secondary_path;
  db_options.block_cache_bytes = options.block_cache_bytes;
  auto db = storage::LedgerDb::Open(options.primary_db_path, db_options);
  if (!db.ok()) return db.status();
  if (auto s = (*db)->CatchUp(); !s.ok()) return s;
  auto config = storage::ReadLogConfig(**db);
  if (!config.ok()) return config.status();
  auto hasher = crypto::Hasher::Create(config->hash);
  if (!hasher.ok()) return hasher.status();
  std::unique_ptr<LogSource> source(new LogSource(nullptr, *std::move(db), *std::move(hasher),
                                                  *std::move(config), options.primary_db_path));
  source->catch_up_thread_ = std::thread(
      [s = source.get(), interval = options.catch_up_interval] { s->RunCatchUp(interval); });
  return source;
}

LogSource::~LogSource() {
  {
    absl::MutexLock lock(&stop_mu_);
    stop_ = true;
  }
  if (catch_up_thread_.joinable()) catch_up_thread_.join();
}

void LogSource::RunCatchUp(absl::Duration interval) {
  absl::MutexLock lock(&stop_mu_);
  while (!stop_mu_.AwaitWithTimeout(absl::Condition(this, &LogSource::StopRequested), interval)) {
    stop_mu_.Unlock();
    // A failed catch-up leaves the replica at its last consistent size; the next tick retries.
    (void)CatchUp();
    stop_mu_.Lock();
  }
}

absl::Status LogSource::CatchUp() {
  if (!is_replica()) return absl::OkStatus();
  absl::MutexLock lock(&catch_up_mu_);
  const rocksdb::SequenceNumber before = owned_db_->db().GetLatestSequenceNumber();
  absl::Status caught_up = owned_db_->CatchUp();
  // Whatever the writer wrote since, cosignatures among it, is visible now.
  if (owned_db_->db().GetLatestSequenceNumber() != before) cosigned_notes_.Invalidate();
  return caught_up;
}

absl::Status LogSource::CatchUpTo(uint64_t size) {
  if (!is_replica()) return absl::OkStatus();
  auto have = Size();
  if (!have.ok()) return have.status();
  if (*have >= size) return absl::OkStatus();
  return CatchUp();
}

absl::StatusOr<StoredCheckpoint> LogSource::LatestCheckpoint() const {
  auto note = view_->LatestCheckpointNote();
  if (!note.ok()) return note.status();
  if (!note->has_value()) {
    return absl::FailedPreconditionError("checkpoint: the log has not signed a checkpoint yet");
  }
  {
    absl::MutexLock lock(&latest_mu_);
    if (latest_.has_value() && latest_->note == **note) return *latest_;
  }
  auto parsed = ParseStored(**std::move(note));
  if (!parsed.ok()) return parsed;
  absl::MutexLock lock(&latest_mu_);
  latest_ = *parsed;
  return parsed;
}

absl::StatusOr<StoredCheckpoint> LogSource::CheckpointCovering(uint64_t size) {
  auto latest = LatestCheckpoint();
  const bool covered = latest.ok() && latest->checkpoint.size >= size;
  if (covered) return latest;
  if (writer_ == nullptr) {
    // The writer signs a checkpoint within a second of every commit; this replica may simply not
    // have caught up with it yet.
    if (auto s = CatchUp(); !s.ok()) return s;
    return LatestCheckpoint();
  }
  if (!latest.ok() && !absl::IsFailedPrecondition(latest.status())) return latest;
  auto signed_note = writer_->SignCheckpoint();
  if (!signed_note.ok()) {
    // While the disk refuses writes a new checkpoint cannot be stored; reads go on with the
    // latest stored one, which callers treat as not covering `size`.
    if (latest.ok() && (absl::IsResourceExhausted(signed_note.status()) ||
                        absl::IsUnavailable(signed_note.status()))) {
      return latest;
    }
    return signed_note.status();
  }
  // Another thread may have stored a newer one meanwhile; the stored one is the latest.
  return LatestCheckpoint();
}

absl::StatusOr<std::unique_ptr<storage::LedgerDb>> LogSource::OpenPrimaryReadOnly() const {
  storage::LedgerDb::Options db_options = storage::LedgerDb::Options::ReadOnly();
  db_options.block_cache_bytes = 16 << 20;
  return storage::LedgerDb::Open(primary_db_path_, db_options);
}

absl::StatusOr<storage::AuditReport> LogSource::Audit(const storage::AuditOptions& options) const {
  if (!is_replica()) return storage::AuditLedger(*db_, options);
  auto db = OpenPrimaryReadOnly();
  if (!db.ok()) return db.status();
  return storage::AuditLedger(**db, options);
}

absl::StatusOr<domain::SignatureAuditReport> LogSource::AuditSignatures(
    const domain::SignatureAuditOptions& options) const {
  if (!is_replica()) return domain::AuditSignatures(*db_, options);
  auto db = OpenPrimaryReadOnly();
  if (!db.ok()) return db.status();
  return domain::AuditSignatures(**db, options);
}

}  // namespace herbtrace::server
