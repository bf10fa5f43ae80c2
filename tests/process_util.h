// Real processes for end-to-end tests: start a binary with arguments, read what it prints,
// wait for a line, stop it with a signal. Output goes to a file in the test's directory so a
// failing test can show it.
#ifndef HERBTRACE_TESTS_PROCESS_UTIL_H_
#define HERBTRACE_TESTS_PROCESS_UTIL_H_

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace herbtrace::testing {

class ChildProcess {
 public:
  // Starts `binary` with `args`; stdout and stderr go to `log_file`. The process is killed when
  // the thread that started it exits (PR_SET_PDEATHSIG): start it on a thread that outlives it.
  ChildProcess(const std::string& binary, const std::vector<std::string>& args,
               std::filesystem::path log_file);
  // Kills the process (SIGKILL) if it still runs.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Everything the process printed so far.
  std::string Output() const;
  // Waits until the output contains `text`; false on timeout or if the process exits first.
  bool WaitForOutput(const std::string& text, absl::Duration timeout) const;
  // Sends `signal` and waits for the exit; returns the exit status as waitpid reports it.
  std::optional<int> Stop(int signal, absl::Duration timeout);
  bool Running();

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_file_;
  bool reaped_ = false;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs a command to completion through the shell; the command is passed as given.
CommandResult RunCommand(const std::string& command);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_PROCESS_UTIL_H_
