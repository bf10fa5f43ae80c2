#include "storage/info_log.h"

#include <sys/time.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "absl/synchronization/mutex.h"

namespace herbtrace::storage {
namespace {

class InfoLogFile final : public rocksdb::Logger {
 public:
  explicit InfoLogFile(std::FILE* file)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), file_(file) {}
  ~InfoLogFile() override {
    absl::MutexLock lock(&mu_);
    std::fclose(file_);
  }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    timeval now;
    gettimeofday(&now, nullptr);
    std::tm t;
    localtime_r(&now.tv_sec, &t);
    char stamp[64];
    std::snprintf(stamp, sizeof(stamp), "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ", t.tm_year + 1900,
                  t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                  static_cast<long>(now.tv_usec));
    absl::MutexLock lock(&mu_);
    // Errors (a full disk) are ignored: the line is lost, the next one is tried again.
    std::fputs(stamp, file_);
    std::vfprintf(file_, format, ap);
    std::fputc('\n', file_);
    std::fflush(file_);
    std::clearerr(file_);
  }

 private:
  absl::Mutex mu_;
  std::FILE* const file_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewInfoLog(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::FILE* file = std::fopen((std::filesystem::path(dir) / "LOG").c_str(), "a");
  if (file == nullptr) return nullptr;
  return std::make_shared<InfoLogFile>(file);
}

}  // namespace herbtrace::storage
