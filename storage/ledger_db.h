// The RocksDB database behind one ledger, with every column family open. Owns the DB and its
// column-family handles and destroys them in the right order (handles before the DB).
//
// Column families and their encodings are written out at the top of ledger_db.cc.
//
// Thread-safe as RocksDB is: concurrent reads and writes are fine; the single-writer discipline
// of the log is the Ledger's, not this class's.
#ifndef HERBTRACE_STORAGE_LEDGER_DB_H_
#define HERBTRACE_STORAGE_LEDGER_DB_H_

#include <array>
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

  // A point read. nullopt when absent.
  absl::StatusOr<std::optional<std::string>> Get(Cf which, absl::string_view key) const;

  // Secondary mode: replays the writer's newest WAL and MANIFEST. No-op for other modes.
  absl::Status CatchUp();

 private:
  LedgerDb(std::string path, OpenMode mode) : path_(std::move(path)), mode_(mode) {}

  const std::string path_;
  const OpenMode mode_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, static_cast<int>(Cf::kCount)> handles_{};
  rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;
};

// rocksdb::Status → absl::Status, with `what` in front of the message. IO errors with no space
// become ResourceExhausted; other IO errors Unavailable; corruption DataLoss.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what);

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_LEDGER_DB_H_
