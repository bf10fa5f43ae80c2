// RocksDB's info log (the LOG file) for a ledger's database, written so that a full disk only
// loses log lines. RocksDB's own file logger stops at its first failed write — and the Debian
// build of RocksDB 7.8 asserts on its next line, aborting the process — which would turn a full
// disk into a crash instead of refused appends.
#ifndef HERBTRACE_STORAGE_INFO_LOG_H_
#define HERBTRACE_STORAGE_INFO_LOG_H_

#include <memory>
#include <string>

#include "rocksdb/env.h"

namespace herbtrace::storage {

// An info log appending to DIR/LOG; lines that cannot be written are dropped. Null if the file
// cannot be opened (RocksDB then keeps its own).
std::shared_ptr<rocksdb::Logger> NewInfoLog(const std::string& dir);

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_INFO_LOG_H_
