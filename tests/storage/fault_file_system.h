// A RocksDB file system that fails writes on demand, for the ledger's write-error tests: once a
// fault is switched on, the chosen operations on the chosen kinds of file (WAL, table, MANIFEST)
// fail with the chosen IOStatus — NoSpace for a full disk, IOError for a failing device — until
// it is switched off. Everything else passes through to the real file system.
//
// Thread-safe: faults may be switched from any thread while RocksDB writes.
#ifndef HERBTRACE_TESTS_STORAGE_FAULT_FILE_SYSTEM_H_
#define HERBTRACE_TESTS_STORAGE_FAULT_FILE_SYSTEM_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace herbtrace::testing {

// Kinds of RocksDB file, told apart by name.
enum FaultFiles : unsigned {
  kWalFiles = 1 << 0,       // *.log
  kTableFiles = 1 << 1,     // *.sst (flushes and compactions)
  kManifestFiles = 1 << 2,  // MANIFEST-*
  kAllFiles = kWalFiles | kTableFiles | kManifestFiles,
};

// What fails on those files.
enum FaultOperations : unsigned {
  kFailAppend = 1 << 0,  // writing data (Append, PositionedAppend)
  kFailSync = 1 << 1,    // Sync, Fsync, RangeSync; the data written before stays in the file
  kFailCreate = 1 << 2,  // creating the file
  kFailWrites = kFailAppend | kFailSync | kFailCreate,
};

struct Fault {
  rocksdb::IOStatus error = rocksdb::IOStatus::NoSpace("injected: no space left on device");
  unsigned files = kAllFiles;
  unsigned operations = kFailWrites;
};

class FaultFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultFileSystem(
      std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default());

  // Switches `fault` on (replacing any other).
  void Inject(const Fault& fault);
  // Switches faults off.
  void Clear();
  // Operations failed so far.
  int failures() const { return failures_.load(); }

  // The IOStatus to fail an `operation` on `file` with, or OK.
  rocksdb::IOStatus Check(const std::string& file, unsigned operation);

  static const char* kClassName() { return "HerbTraceFaultFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;

 private:
  rocksdb::IOStatus Wrap(const std::string& fname, rocksdb::IOStatus opened,
                         std::unique_ptr<rocksdb::FSWritableFile>* result);

  mutable absl::Mutex mu_;
  bool on_ ABSL_GUARDED_BY(mu_) = false;
  Fault fault_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> failures_{0};
};

// A FaultFileSystem and an Env running on it, for Ledger::Options::env.
struct FaultEnv {
  FaultEnv();
  FaultFileSystem& fs() { return *file_system; }
  rocksdb::Env* env() { return composite.get(); }

  std::shared_ptr<FaultFileSystem> file_system;
  std::unique_ptr<rocksdb::Env> composite;
};

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_STORAGE_FAULT_FILE_SYSTEM_H_
