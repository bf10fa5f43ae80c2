// The real herbtrace-server as a child process that a soak or load test can start, kill with
// SIGKILL, start again on the same data directory, and measure (peak resident memory). Each
// start listens on a fresh loopback port, read from its --port_file, and writes its output to
// its own log file in the work directory, so a failing test can show every incarnation.
//
// Not thread-safe: one test thread drives it.
#ifndef HERBTRACE_TESTS_E2E_SERVER_PROCESS_H_
#define HERBTRACE_TESTS_E2E_SERVER_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/process_util.h"

namespace herbtrace::testing {

class ServerProcess {
 public:
  // `args` are herbtrace-server flags other than --listen and --port_file (data dir, bootstrap
  // key, limits). Nothing starts before Start().
  ServerProcess(std::string binary, std::filesystem::path work_dir, std::vector<std::string> args);

  // Starts a new incarnation and waits until it serves (its port file is written).
  // FailedPrecondition while one runs; Unavailable, with the server's output, if it exits or
  // does not serve within `timeout`.
  absl::Status Start(absl::Duration timeout = absl::Seconds(60));
  // SIGKILL, no grace, reaped. No-op when nothing runs.
  void Kill();
  // SIGTERM; OK when the server exits with status 0 within `timeout`.
  absl::Status Stop(absl::Duration timeout = absl::Seconds(30));

  bool running() const { return process_ != nullptr; }
  pid_t pid() const { return process_ == nullptr ? -1 : process_->pid(); }
  // 127.0.0.1:<port> of the running incarnation.
  const std::string& address() const { return address_; }
  // How many times Start succeeded.
  int starts() const { return starts_; }
  // The current (or last) incarnation's output.
  std::string Output() const;
  // VmHWM of the running incarnation, from /proc/<pid>/status: the most memory it ever held
  // resident, in bytes.
  absl::StatusOr<uint64_t> PeakResidentBytes() const;
  // Threads of the running incarnation now, from /proc/<pid>/status.
  absl::StatusOr<uint64_t> Threads() const;

 private:
  const std::string binary_;
  const std::filesystem::path work_dir_;
  const std::vector<std::string> args_;
  // The number in the "<field>:" line of /proc/<pid>/status ("123456 kB" gives 123456).
  absl::StatusOr<uint64_t> StatusField(absl::string_view field) const;

  std::unique_ptr<ChildProcess> process_;
  std::filesystem::path log_file_;
  std::string address_;
  int starts_ = 0;
};

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_E2E_SERVER_PROCESS_H_
