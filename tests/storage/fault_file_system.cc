#include "tests/storage/fault_file_system.h"

#include <utility>

#include "absl/strings/match.h"

namespace herbtrace::testing {
namespace {

unsigned KindOf(const std::string& fname) {
  const std::string base = fname.substr(fname.find_last_of('/') + 1);
  if (absl::EndsWith(base, ".log")) return kWalFiles;
  if (absl::EndsWith(base, ".sst")) return kTableFiles;
  if (absl::StartsWith(base, "MANIFEST-")) return kManifestFiles;
  return 0;
}

class FaultWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string fname,
                    FaultFileSystem& fs)
      : FSWritableFileOwnerWrapper(std::move(file)), fname_(std::move(fname)), fs_(fs) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_.Check(fname_, kFailAppend); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_.Check(fname_, kFailAppend); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_.Check(fname_, kFailAppend); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_.Check(fname_, kFailAppend); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, info, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_.Check(fname_, kFailSync); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_.Check(fname_, kFailSync); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_.Check(fname_, kFailSync); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, options, dbg);
  }

 private:
  const std::string fname_;
  FaultFileSystem& fs_;
};

}  // namespace

FaultFileSystem::FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(std::move(base)) {}

void FaultFileSystem::Inject(const Fault& fault) {
  absl::MutexLock lock(&mu_);
  fault_ = fault;
  on_ = true;
}

void FaultFileSystem::Clear() {
  absl::MutexLock lock(&mu_);
  on_ = false;
}

rocksdb::IOStatus FaultFileSystem::Check(const std::string& file, unsigned operation) {
  absl::MutexLock lock(&mu_);
  if (!on_ || (fault_.operations & operation) == 0 || (fault_.files & KindOf(file)) == 0) {
    return rocksdb::IOStatus::OK();
  }
  ++failures_;
  rocksdb::IOStatus error = fault_.error;
  return error;
}

rocksdb::IOStatus FaultFileSystem::Wrap(const std::string& fname, rocksdb::IOStatus opened,
                                        std::unique_ptr<rocksdb::FSWritableFile>* result) {
  if (opened.ok()) {
    *result = std::make_unique<FaultWritableFile>(std::move(*result), fname, *this);
  }
  return opened;
}

rocksdb::IOStatus FaultFileSystem::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  if (auto s = Check(fname, kFailCreate); !s.ok()) return s;
  return Wrap(fname, target()->NewWritableFile(fname, options, result, dbg), result);
}

rocksdb::IOStatus FaultFileSystem::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  if (auto s = Check(fname, kFailCreate); !s.ok()) return s;
  return Wrap(fname, target()->ReopenWritableFile(fname, options, result, dbg), result);
}

rocksdb::IOStatus FaultFileSystem::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  if (auto s = Check(fname, kFailCreate); !s.ok()) return s;
  return Wrap(fname, target()->ReuseWritableFile(fname, old_fname, options, result, dbg), result);
}

FaultEnv::FaultEnv()
    : file_system(std::make_shared<FaultFileSystem>()),
      composite(rocksdb::NewCompositeEnv(file_system)) {}

}  // namespace herbtrace::testing
