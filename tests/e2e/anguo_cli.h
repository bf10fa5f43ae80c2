// The real herbtrace-server and herbctl for the fault and restart end-to-end tests: a server
// process started on port 0, and a small Anguo market's parties (market operator, regulator,
// a grower with one base) that submit signed events through herbctl.
#ifndef HERBTRACE_TESTS_E2E_ANGUO_CLI_H_
#define HERBTRACE_TESTS_E2E_ANGUO_CLI_H_

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/process_util.h"

namespace herbtrace::testing {

// One herbtrace-server process. Its output goes to DIR/NAME.log, its port to DIR/NAME.port.
class ServerChild {
 public:
  ServerChild(const std::string& binary, const std::filesystem::path& dir,
              const std::string& name, std::vector<std::string> args);
  // Waits until it serves; false (see Output()) if it did not within 30 s.
  bool Ready();
  std::string Address() const;
  std::string Output() const { return process_->Output(); }
  bool Running() { return process_->Running(); }
  // Sends `signal` and waits for the exit: the status as waitpid reports it, nullopt if it had
  // to be killed.
  std::optional<int> Stop(int signal) { return process_->Stop(signal, absl::Seconds(30)); }

 private:
  std::filesystem::path port_file_;
  std::unique_ptr<ChildProcess> process_;
};

// The exit code 0 of a process stopped by SIGTERM.
bool ExitedCleanly(const std::optional<int>& status);

// herbctl for the parties of a small market; keys are generated into `keys_dir`.
class AnguoCli {
 public:
  static constexpr char kOperator[] = "13068300000001";
  static constexpr char kRegulator[] = "13068300000002";
  static constexpr char kGrower[] = "13068300000003";

  AnguoCli(std::string herbctl, std::filesystem::path keys_dir, std::string source_dir);
  // What --bootstrap_key of the server must be.
  std::filesystem::path OperatorPublicKey() const;
  // Genesis, the regulator, the grower, the herb catalog, the grower's base 0001.
  CommandResult Setup(const std::string& server) const;
  // One more base of the grower (base id `number`, 2..9999): one signed event.
  CommandResult RegisterBase(const std::string& server, int number) const;
  // A huangqi (黄芪) harvest from base 0001, the grower's `number`th batch of the day (1..999);
  // on success the output names the new batch.
  CommandResult Harvest(const std::string& server, int number) const;
  // The batch code in a harvest's output ("new batch CODE"), or "".
  static std::string NewBatch(const std::string& output);
  // herbctl --server=SERVER ARGS (reads need no key).
  CommandResult Read(const std::string& server, const std::string& args) const;

 private:
  CommandResult As(const std::string& who, const std::string& party, const std::string& server,
                   const std::string& args) const;
  std::string herbctl_;
  std::filesystem::path keys_;
  std::string source_dir_;
};

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_E2E_ANGUO_CLI_H_
