#include "tests/e2e/anguo_cli.h"

#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace herbtrace::testing {

ServerChild::ServerChild(const std::string& binary, const std::filesystem::path& dir,
                         const std::string& name, std::vector<std::string> args)
    : port_file_(dir / (name + ".port")) {
  std::filesystem::remove(port_file_);
  args.push_back("--listen=127.0.0.1:0");
  args.push_back(absl::StrCat("--port_file=", port_file_.string()));
  args.push_back("--shutdown_grace=2s");
  process_ = std::make_unique<ChildProcess>(binary, args, dir / (name + ".log"));
}

bool ServerChild::Ready() {
  if (!process_->WaitForOutput("listening on", absl::Seconds(30))) return false;
  for (int i = 0; i < 300; ++i) {
    std::ifstream in(port_file_);
    int port = 0;
    if (in >> port && port > 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string ServerChild::Address() const {
  std::ifstream in(port_file_);
  int port = 0;
  in >> port;
  return absl::StrCat("127.0.0.1:", port);
}

bool ExitedCleanly(const std::optional<int>& status) {
  return status.has_value() && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

AnguoCli::AnguoCli(std::string herbctl, std::filesystem::path keys_dir, std::string source_dir)
    : herbctl_(std::move(herbctl)), keys_(std::move(keys_dir)), source_dir_(std::move(source_dir)) {
  std::filesystem::create_directories(keys_);
  for (const char* who : {"operator", "regulator", "grower"}) {
    RunCommand(absl::StrCat(herbctl_, " keygen --key ", (keys_ / who).string(), ".pem"));
  }
}

std::filesystem::path AnguoCli::OperatorPublicKey() const { return keys_ / "operator.pem.pub"; }

CommandResult AnguoCli::As(const std::string& who, const std::string& party,
                           const std::string& server, const std::string& args) const {
  return RunCommand(absl::StrCat(herbctl_, " --server=", server, " --key ",
                                 (keys_ / who).string(), ".pem --party ", party, " ", args));
}

CommandResult AnguoCli::Read(const std::string& server, const std::string& args) const {
  return RunCommand(absl::StrCat(herbctl_, " --server=", server, " ", args));
}

CommandResult AnguoCli::Setup(const std::string& server) const {
  const std::vector<std::vector<std::string>> steps = {
      {"operator", kOperator,
       absl::StrCat("register party --party_id ", kOperator,
                    " --name 安国数字中药都市场管理有限公司 --roles market_operator"
                    " --uscc 91130683MA00000026 --new_key ",
                    (keys_ / "operator.pem").string())},
      {"operator", kOperator,
       absl::StrCat("register party --party_id ", kRegulator,
                    " --name 安国市市场监督管理局 --roles regulator --uscc 11130683MA0000003H"
                    " --new_key ",
                    (keys_ / "regulator.pem").string())},
      {"regulator", kRegulator,
       absl::StrCat("register party --party_id ", kGrower,
                    " --name 安国市祁州黄芪种植专业合作社 --roles grower"
                    " --uscc 91130683MA0000004C --new_key ",
                    (keys_ / "grower.pem").string())},
      {"operator", kOperator, absl::StrCat("catalog load ", source_dir_, "/catalog/herbs.csv")},
      {"grower", kGrower,
       "register base --base_id 0001 --name 东区基地 --latlon 38.4185,115.3234 --area_mu 120"
       " --herbs HUANGQI"},
  };
  CommandResult all;
  all.exit_code = 0;
  for (const auto& step : steps) {
    CommandResult r = As(step[0], step[1], server, step[2]);
    all.output += r.output;
    if (r.exit_code != 0) {
      all.exit_code = r.exit_code;
      break;
    }
  }
  return all;
}

CommandResult AnguoCli::RegisterBase(const std::string& server, int number) const {
  return As("grower", kGrower, server,
            absl::StrFormat("register base --base_id %04d --name 西区基地%d --latlon "
                            "38.4190,115.3240 --area_mu 30 --herbs HUANGQI",
                            number, number));
}

CommandResult AnguoCli::Harvest(const std::string& server, int number) const {
  return As("grower", kGrower, server,
            absl::StrCat("harvest --batch '#", number, "' --base ", kGrower,
                         "0001 --herb HUANGQI --grams 120kg"));
}

std::string AnguoCli::NewBatch(const std::string& output) {
  const size_t at = output.find("new batch");
  if (at == std::string::npos) return "";
  const std::string code(absl::StripAsciiWhitespace(output.substr(at + 9, 30)));
  return code.size() >= 25 ? code.substr(0, 25) : "";
}

}  // namespace herbtrace::testing
