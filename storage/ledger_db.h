// The RocksDB database behind one ledger, with every column family open. Owns the DB and its
// column-family handles and destroys them in the right order (handles before the DB).
//
// Column families and their encodings are written out at the top of ledger_db.cc.
//
// Thread-safe as RocksDB is: concurrent reads and writes are fine; the single-writer discipline
// of the log is the Ledger's, not this class's.
//
// Write errors (writer): RocksDB's own recovery is switched off — it would resume on its own
// timer, behind the Ledger's back. When a WAL, MANIFEST, flush or compaction write fails, RocksDB
// stops taking writes and tells the storage error handler; writes resume only through Resume(),
// which the Ledger calls once it is ready to re-read what is durable. An I/O error that RocksDB
// would treat as fatal (anything but a full disk, unless the file system marks it retryable) is
// made recoverable like a full disk: the failed write never reached the memtables, and Resume
// flushes them and starts a new WAL. Corruption stays fatal.
#ifndef HERBTRACE_STORAGE_LEDGER_DB_H_
#define HERBTRACE_STORAGE_LEDGER_DB_H_

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rocksdb/db.h"

namespace herbtrace::storage {

enum class Cf : int {
  kEntries = 0,     // seq → LedgerEntry bytes
  kTree,            // stored complete subtrees
  kEventIds,        // event id → seq, payload hash (idempotency)
  kBatchHeads,      // batch id → head of the batch's hash chain
  kBatchState,      // batch id → derived state (owned by the domain rules)
  kBatchEntries,    // batch id, seq → "" (a batch's history)
  kLineageDown,     // parent batch, child batch → edge
  kLineageUp,       // child batch, parent batch → edge
  kHolderBatches,   // holder party, batch id → ""
  kRegistry,        // parties, keys, bases, catalog, limits
  kConfidential,    // openings of committed fields; never part of a public read
  kMeta,            // tree size, latest checkpoint, log configuration
  kCount,
};

absl::string_view CfName(Cf cf);

// Keys of the meta column family.
inline constexpr absl::string_view kMetaTreeSize = "tree_size";
inline constexpr absl::string_view kMetaCheckpoint = "checkpoint";
inline constexpr absl::string_view kMetaLog = "log";

enum class OpenMode {
  kWriter,     // the one process that appends
  kReadOnly,   // a consistent snapshot, e.g. for an offline audit
  kSecondary,  // a reader process following the writer (TryCatchUpWithPrimary)
};

class LedgerDb {
 public:
  struct Options {
    OpenMode mode = OpenMode::kWriter;
    // Creates the database and every column family when missing (writer only).
    bool create_if_missing = false;
    // Secondary mode: where this reader keeps its own info log and MANIFEST copy.
    std::string secondary_path;
    // Block cache for reads, bytes.
    size_t block_cache_bytes = 256 << 20;
    // The Env (and through it the FileSystem) RocksDB runs on; null for the default. Not owned:
    // must outlive the LedgerDb. Tests put a fault-injecting file system here.
    rocksdb::Env* env = nullptr;

    static Options ReadOnly() {
      Options o;
      o.mode = OpenMode::kReadOnly;
      return o;
    }
  };

  static absl::StatusOr<std::unique_ptr<LedgerDb>> Open(const std::string& path,
                                                        const Options& options);
  ~LedgerDb();
  LedgerDb(const LedgerDb&) = delete;
  LedgerDb& operator=(const LedgerDb&) = delete;

  // RocksDB is thread-safe; constness here is about the handle set, not the data.
  rocksdb::DB& db() const { return *db_; }
  rocksdb::ColumnFamilyHandle* cf(Cf which) const { return handles_[static_cast<int>(which)]; }
  OpenMode mode() const { return mode_; }
  const std::string& path() const { return path_; }
  // The block cache every family reads through (one per LedgerDb).
  rocksdb::Cache& block_cache() const { return *block_cache_; }

  // A point read. nullopt when absent.
  absl::StatusOr<std::optional<std::string>> Get(Cf which, absl::string_view key) const;

  // Secondary mode: replays the writer's newest WAL and MANIFEST. No-op for other modes.
  absl::Status CatchUp();

  // Writer: `handler` runs on a RocksDB thread whenever RocksDB stops (or, for a failed
  // compaction, degrades) writes after an error of its own, with the error mapped as FromRocks
  // maps it and naming the operation ("flush: IO error: No space left on device ..."). It must
  // be quick and must not call into the database. Null removes it. Writes that fail in the
  // caller's own DB::Write report there as well.
  using StorageErrorHandler = std::function<void(const absl::Status&)>;
  void SetStorageErrorHandler(StorageErrorHandler handler);

  // Writer: writes a key of the default column family to the memtable only (never the WAL, so
  // it cannot fail on a full disk). RocksDB starts a new WAL only when it switches a non-empty
  // memtable, and a WAL whose write failed takes no further write: so the Ledger calls this
  // before every group write and after every Resume(), and a Resume() after a failed write
  // always has a memtable to switch. Fails only when RocksDB is stopped.
  absl::Status KeepMemtableNonEmpty();

  // Writer: clears a stopped RocksDB's error and takes writes again — RocksDB flushes every
  // memtable and starts a new WAL first, so what the failed write left in the old WAL is never
  // replayed once this returns OK. Fails (ResourceExhausted while the disk is still full) when
  // the flush fails; OK at once when nothing is stopped.
  absl::Status Resume();

 private:
  class WriteErrorListener;
  LedgerDb(std::string path, OpenMode mode, std::shared_ptr<rocksdb::Cache> block_cache);

  const std::string path_;
  const OpenMode mode_;
  const std::shared_ptr<rocksdb::Cache> block_cache_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, static_cast<int>(Cf::kCount)> handles_{};
  rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;
  const std::shared_ptr<WriteErrorListener> errors_;
};

// rocksdb::Status → absl::Status, with `what` in front of the message. IO errors with no space
// become ResourceExhausted; other IO errors Unavailable; corruption DataLoss.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what);

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_LEDGER_DB_H_
