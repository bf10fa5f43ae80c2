#include "tests/e2e/server_process.h"

#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace herbtrace::testing {

ServerProcess::ServerProcess(std::string binary, std::filesystem::path work_dir,
                             std::vector<std::string> args)
    : binary_(std::move(binary)), work_dir_(std::move(work_dir)), args_(std::move(args)) {}

absl::Status ServerProcess::Start(absl::Duration timeout) {
  if (process_ != nullptr) return absl::FailedPreconditionError("the server is running");
  const std::filesystem::path port_file = work_dir_ / "server.port";
  std::filesystem::remove(port_file);
  log_file_ = work_dir_ / absl::StrCat("server-", starts_ + 1, ".log");
  std::vector<std::string> args = args_;
  args.push_back("--listen=127.0.0.1:0");
  args.push_back(absl::StrCat("--port_file=", port_file.string()));
  process_ = std::make_unique<ChildProcess>(binary_, args, log_file_);
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    // The server renames the port file into place once it serves: present means complete.
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      address_ = absl::StrCat("127.0.0.1:", port);
      ++starts_;
      return absl::OkStatus();
    }
    if (!process_->Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string output = Output();
  process_.reset();
  return absl::UnavailableError(
      absl::StrCat("herbtrace-server did not start serving:\n", output));
}

void ServerProcess::Kill() {
  if (process_ == nullptr) return;
  process_->Stop(SIGKILL, absl::Seconds(30));
  process_.reset();
}

absl::Status ServerProcess::Stop(absl::Duration timeout) {
  if (process_ == nullptr) return absl::OkStatus();
  const std::optional<int> status = process_->Stop(SIGTERM, timeout);
  process_.reset();
  if (!status.has_value()) {
    return absl::DeadlineExceededError(
        absl::StrCat("herbtrace-server did not exit within ", absl::FormatDuration(timeout),
                     " of SIGTERM (killed):\n", Output()));
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(
        absl::StrCat("herbtrace-server exited with wait status ", *status, ":\n", Output()));
  }
  return absl::OkStatus();
}

std::string ServerProcess::Output() const {
  std::ifstream in(log_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<uint64_t> ServerProcess::PeakResidentBytes() const {
  auto kib = StatusField("VmHWM");
  if (!kib.ok()) return kib.status();
  return *kib * 1024;
}

absl::StatusOr<uint64_t> ServerProcess::Threads() const { return StatusField("Threads"); }

absl::StatusOr<uint64_t> ServerProcess::StatusField(absl::string_view field) const {
  if (process_ == nullptr) return absl::FailedPreconditionError("the server is not running");
  const std::string path = absl::StrCat("/proc/", process_->pid(), "/status");
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, field) || !absl::ConsumePrefix(&rest, ":")) continue;
    const std::vector<absl::string_view> parts =
        absl::StrSplit(absl::StripAsciiWhitespace(rest), ' ', absl::SkipEmpty());
    uint64_t value = 0;
    if (!parts.empty() && absl::SimpleAtoi(parts[0], &value)) return value;
    return absl::DataLossError(absl::StrCat(path, ": cannot read \"", line, "\""));
  }
  return absl::NotFoundError(absl::StrCat(path, ": no ", field));
}

}  // namespace herbtrace::testing
