#include "services/cli/offline_queue.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace herbtrace::cli {
namespace {

constexpr size_t kHeaderSize = sizeof(kQueueHeader) - 1;

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(path, ": ", what, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, absl::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Parses a whole queue file's bytes into `out` (may be null: validate only).
absl::Status ParseQueue(absl::string_view bytes, const std::string& path,
                        std::vector<v1::SubmitRequest>* out) {
  if (bytes.substr(0, kHeaderSize) != absl::string_view(kQueueHeader, kHeaderSize)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not a herbctl queue file (no \"herbtrace-queue v1\" header)"));
  }
  size_t offset = kHeaderSize;
  for (size_t record = 0; offset < bytes.size(); ++record) {
    if (bytes.size() - offset < 4) {
      return absl::DataLossError(absl::StrCat(path, ": record ", record, " at byte ", offset,
                                              " is torn (", bytes.size() - offset,
                                              " of 4 length bytes)"));
    }
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + offset);
    const size_t length = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
    if (length > kMaxQueueRecord) {
      return absl::DataLossError(absl::StrCat(path, ": record ", record, " at byte ", offset,
                                              " claims ", length, " bytes: corrupt"));
    }
    if (bytes.size() - offset - 4 < length) {
      return absl::DataLossError(absl::StrCat(path, ": record ", record, " at byte ", offset,
                                              " is torn (", bytes.size() - offset - 4, " of ",
                                              length, " bytes)"));
    }
    v1::SubmitRequest request;
    if (!request.ParseFromArray(bytes.data() + offset + 4, static_cast<int>(length)) ||
        request.signed_event().payload().empty()) {
      return absl::DataLossError(
          absl::StrCat(path, ": record ", record, " at byte ", offset, " is not a signed event"));
    }
    if (out != nullptr) out->push_back(std::move(request));
    offset += 4 + length;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<std::vector<v1::SubmitRequest>> ReadQueue(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such queue file"));
  }
  auto bytes = ReadWhole(path);
  if (!bytes.ok()) return bytes.status();
  std::vector<v1::SubmitRequest> out;
  if (auto s = ParseQueue(*bytes, path, &out); !s.ok()) return s;
  return out;
}

absl::StatusOr<size_t> AppendToQueue(const std::string& path, const v1::SubmitRequest& request) {
  std::string record;
  if (!request.SerializeToString(&record)) return absl::InternalError("queue: does not serialize");
  if (record.size() > kMaxQueueRecord) {
    return absl::ResourceExhaustedError(
        absl::StrCat("queue: event of ", record.size(), " bytes is too large"));
  }
  size_t count = 0;
  bool fresh = true;
  std::error_code ec;
  if (std::filesystem::exists(path) && std::filesystem::file_size(path, ec) > 0) {
    auto existing = ReadQueue(path);
    if (!existing.ok()) {
      // Never append behind a torn record: the new event would be unreadable too.
      return absl::FailedPreconditionError(
          absl::StrCat(existing.status().message(), "; not appending"));
    }
    count = existing->size();
    fresh = false;
  }
  const uint32_t n = static_cast<uint32_t>(record.size());
  const char length[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                          static_cast<char>(n >> 8), static_cast<char>(n)};
  std::string bytes;
  if (fresh) bytes.append(kQueueHeader, kHeaderSize);
  bytes.append(length, 4);
  bytes.append(record);

  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open", path);
  absl::Status status = WriteAll(fd, bytes, path);
  if (status.ok() && ::fsync(fd) != 0) status = Errno("fsync", path);
  ::close(fd);
  if (!status.ok()) return status;
  if (fresh) {
    // Make the new file's directory entry durable too.
    std::string dir = std::filesystem::absolute(path).parent_path().string();
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  return count + 1;
}

}  // namespace herbtrace::cli
