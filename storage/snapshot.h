// A RocksDB snapshot of a ledger database, released when it goes out of scope, and read options
// for a full scan of it: a whole-log pass (an audit) reads one consistent log while appends go
// on, and reads every block once, so it neither fills nor churns the block cache the services
// read through.
#ifndef HERBTRACE_STORAGE_SNAPSHOT_H_
#define HERBTRACE_STORAGE_SNAPSHOT_H_

#include "rocksdb/db.h"
#include "storage/ledger_db.h"

namespace herbtrace::storage {

class ScanSnapshot {
 public:
  explicit ScanSnapshot(const LedgerDb& db) : db_(db), snapshot_(db.db().GetSnapshot()) {
    options_.snapshot = snapshot_;
    options_.fill_cache = false;
    options_.readahead_size = 2 << 20;
  }
  ~ScanSnapshot() { db_.db().ReleaseSnapshot(snapshot_); }
  ScanSnapshot(const ScanSnapshot&) = delete;
  ScanSnapshot& operator=(const ScanSnapshot&) = delete;

  const rocksdb::ReadOptions& read_options() const { return options_; }

 private:
  const LedgerDb& db_;
  const rocksdb::Snapshot* const snapshot_;
  rocksdb::ReadOptions options_;
};

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_SNAPSHOT_H_
