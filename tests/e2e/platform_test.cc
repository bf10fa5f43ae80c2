// End to end with the real binaries: herbtrace-server and herbctl run the whole demo chain
// (deploy/demo.sh), `herbctl verify` checks a lot's provenance locally, and one altered byte on
// disk is then named by the audit and by verify. And the split deployment: a writer and two
// readers, each reader serving a batch written through the writer a moment before.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "storage/key_codec.h"
#include "storage/ledger_db.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace herbtrace {
namespace {

using ::herbtrace::testing::ChildProcess;
using ::herbtrace::testing::CommandResult;
using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::RunCommand;
using ::herbtrace::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

// "  log key    <key>" from the server's start-up lines.
std::string LogKey(const std::string& output) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "log key")) return std::string(absl::StripAsciiWhitespace(line));
  }
  return "";
}

std::string ReadPort(const std::filesystem::path& port_file) {
  std::ifstream in(port_file);
  std::string port;
  in >> port;
  return port;
}

class Server {
 public:
  Server(const std::filesystem::path& dir, const std::string& name,
         std::vector<std::string> args)
      : port_file_(dir / (name + ".port")) {
    args.push_back("--listen=127.0.0.1:0");
    args.push_back(absl::StrCat("--port_file=", port_file_.string()));
    args.push_back("--shutdown_grace=2s");
    process_ = std::make_unique<ChildProcess>(HERBTRACE_SERVER, args, dir / (name + ".log"));
  }
  bool Ready() {
    return process_->WaitForOutput("listening on", absl::Seconds(30)) &&
           !ReadPort(port_file_).empty();
  }
  std::string Address() const { return absl::StrCat("127.0.0.1:", ReadPort(port_file_)); }
  std::string Output() const { return process_->Output(); }
  void Stop() { process_->Stop(SIGTERM, absl::Seconds(15)); }

 private:
  std::filesystem::path port_file_;
  std::unique_ptr<ChildProcess> process_;
};

std::string Herbctl(const std::string& address) {
  return absl::StrCat(HERBCTL, " --server=", address, " ");
}

// `herbctl verify --trusted_checkpoint F` with F good, then damaged in each way a file on a
// scanner can be: every damaged one fails naming the flag, and nothing is reported verified.
void VerifyRefusesMalformedTrustedCheckpoints(const std::filesystem::path& dir,
                                              const std::string& address,
                                              const std::string& log_key, const std::string& lot) {
  CommandResult fetched =
      RunCommand(absl::StrCat(Herbctl(address), "checkpoint --json --log_key ", log_key));
  ASSERT_EQ(fetched.exit_code, 0) << fetched.output;
  const std::string note = nlohmann::json::parse(fetched.output)["note"].get<std::string>();
  const size_t blank = note.find("\n\n");
  ASSERT_NE(blank, std::string::npos) << note;
  std::string other_size = note;
  const size_t size_line = other_size.find('\n') + 1;
  other_size.insert(size_line, "1");  // "1<size>": a bigger tree the signature does not cover
  std::string bad_signature = note;
  char& sig_char = bad_signature[bad_signature.size() - 4];  // inside the base64 signature
  sig_char = sig_char == 'A' ? 'B' : 'A';
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"garbage", std::string("\x00\xff\xfe not a checkpoint \x01", 22)},
      {"empty", ""},
      {"body only", note.substr(0, blank + 1)},
      {"truncated signature", note.substr(0, note.size() - 10)},
      {"other size", other_size},
      {"altered signature", bad_signature},
  };
  const std::filesystem::path path = dir / "trusted-checkpoint";
  auto write = [&path](const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  };
  auto verify = [&] {
    return RunCommand(absl::StrCat(Herbctl(address), "verify ", lot, " --log_key ", log_key,
                                   " --trusted_checkpoint ", path.string()));
  };
  write(note);
  CommandResult good = verify();
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_THAT(good.output, HasSubstr("extends the trusted checkpoint of size"));
  for (const auto& [what, bytes] : damaged) {
    write(bytes);
    CommandResult bad = verify();
    EXPECT_NE(bad.exit_code, 0) << what << ": " << bad.output;
    EXPECT_THAT(bad.output, HasSubstr("--trusted_checkpoint")) << what;
    EXPECT_THAT(bad.output, Not(HasSubstr("verified: "))) << what;
  }
  std::filesystem::remove(path);
  CommandResult missing = verify();
  EXPECT_NE(missing.exit_code, 0) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("--trusted_checkpoint"));
}

TEST(PlatformTest, DemoChainVerifiesAndOneAlteredEntryOnDiskIsNamed) {
  TempDir dir;
  const std::filesystem::path keys = dir.path() / "keys";
  std::filesystem::create_directories(keys);
  ASSERT_EQ(RunCommand(absl::StrCat(HERBCTL, " keygen --key ", (keys / "operator.pem").string()))
                .exit_code,
            0);
  const std::string data = (dir.path() / "data").string();
  const std::vector<std::string> args = {
      absl::StrCat("--data_dir=", data),
      absl::StrCat("--bootstrap_key=", (keys / "operator.pem.pub").string())};
  std::string log_key, lot;
  {
    Server server(dir.path(), "server", args);
    ASSERT_TRUE(server.Ready()) << server.Output();
    log_key = LogKey(server.Output());
    ASSERT_FALSE(log_key.empty()) << server.Output();
    CommandResult demo = RunCommand(absl::StrCat("HERBCTL=", HERBCTL, " bash ",
                                                 HERBTRACE_SOURCE_DIR, "/deploy/demo.sh ",
                                                 server.Address(), " ", keys.string(), " ",
                                                 log_key));
    ASSERT_EQ(demo.exit_code, 0) << demo.output;
    EXPECT_THAT(demo.output, HasSubstr("黄芪 Huangqi"));
    EXPECT_THAT(demo.output, HasSubstr("status        closed"));      // every holder acked
    EXPECT_THAT(demo.output, HasSubstr("acknowledged  310 kg of 310 kg"));
    EXPECT_THAT(demo.output, HasSubstr("verified: "));
    // "demo loaded: harvest H, dried D, lots A B C, recall R"
    const size_t at = demo.output.find(", lots ");
    ASSERT_NE(at, std::string::npos);
    lot = demo.output.substr(at + 7, 25);

    CommandResult verify =
        RunCommand(absl::StrCat(Herbctl(server.Address()), "verify ", lot, " --log_key ", log_key));
    ASSERT_EQ(verify.exit_code, 0) << verify.output;
    EXPECT_THAT(verify.output, HasSubstr("lineage      3 batches back to 1 harvest(s)"));
    VerifyRefusesMalformedTrustedCheckpoints(dir.path(), server.Address(), log_key, lot);
    server.Stop();
  }

  // Before any damage: the whole log, and who signed every entry of it.
  CommandResult clean = RunCommand(
      absl::StrCat(HERBTRACE_LEDGER_TOOL, " audit --signatures --dir ", data));
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_THAT(clean.output, HasSubstr("audit passed"));
  EXPECT_THAT(clean.output, HasSubstr("signatures verified"));

  // Alter one byte of the drying entry (seq 12), which lies under the signed checkpoint.
  {
    auto db = storage::LedgerDb::Open(data + "/db", storage::LedgerDb::Options());
    ASSERT_THAT(db, IsOk());
    std::string bytes = **(*db)->Get(storage::Cf::kEntries, storage::BigEndian64(12));
    bytes[bytes.size() / 2] ^= 0x02;
    ASSERT_TRUE((*db)->db().Put(rocksdb::WriteOptions(), (*db)->cf(storage::Cf::kEntries),
                                storage::BigEndian64(12), bytes).ok());
  }
  CommandResult audit = RunCommand(absl::StrCat(HERBTRACE_LEDGER_TOOL, " audit --dir ", data));
  EXPECT_EQ(audit.exit_code, 1) << audit.output;
  EXPECT_THAT(audit.output, HasSubstr("AUDIT FAILED at entry 12"));

  Server server(dir.path(), "restarted", args);
  ASSERT_TRUE(server.Ready()) << server.Output();
  CommandResult verify =
      RunCommand(absl::StrCat(Herbctl(server.Address()), "verify ", lot, " --log_key ", log_key));
  EXPECT_EQ(verify.exit_code, 1) << verify.output;
  EXPECT_THAT(verify.output, HasSubstr("seq 12"));
  // The server's own audit names it too, and stops before the signatures.
  CommandResult served_audit = RunCommand(
      absl::StrCat(Herbctl(server.Address()), "--deadline=120s audit --signatures 2>&1"));
  EXPECT_EQ(served_audit.exit_code, 1) << served_audit.output;
  EXPECT_THAT(served_audit.output, HasSubstr("FAILED"));
  EXPECT_THAT(served_audit.output, HasSubstr("the storage audit failed first"));
  EXPECT_THAT(served_audit.output, HasSubstr("fails the audit at seq 12"));
  server.Stop();
}

TEST(PlatformTest, SplitDeploymentReadersServeABatchWrittenAMomentBefore) {
  TempDir dir;
  const std::filesystem::path keys = dir.path() / "keys";
  std::filesystem::create_directories(keys);
  for (const char* who : {"operator", "regulator", "grower"}) {
    ASSERT_EQ(RunCommand(absl::StrCat(HERBCTL, " keygen --key ", (keys / who).string(), ".pem"))
                  .exit_code,
              0);
  }
  const std::string writer_data = (dir.path() / "writer").string();
  Server writer(dir.path(), "writer",
                {"--mode=writer", absl::StrCat("--data_dir=", writer_data),
                 absl::StrCat("--bootstrap_key=", (keys / "operator.pem.pub").string())});
  ASSERT_TRUE(writer.Ready()) << writer.Output();
  Server reader1(dir.path(), "reader1",
                 {"--mode=reader", absl::StrCat("--primary_dir=", writer_data),
                  absl::StrCat("--data_dir=", (dir.path() / "reader1").string())});
  Server reader2(dir.path(), "reader2",
                 {"--mode=reader", absl::StrCat("--primary_dir=", writer_data),
                  absl::StrCat("--data_dir=", (dir.path() / "reader2").string())});
  ASSERT_TRUE(reader1.Ready()) << reader1.Output();
  ASSERT_TRUE(reader2.Ready()) << reader2.Output();

  const std::string w = Herbctl(writer.Address());
  auto as = [&](const char* who, const char* party) {
    return absl::StrCat(w, "--key ", (keys / who).string(), ".pem --party ", party, " ");
  };
  for (const std::string& command : {
           absl::StrCat(as("operator", "13068300000001"),
                        "register party --party_id 13068300000001 --name 安国数字中药都市场管理有限公司"
                        " --roles market_operator --uscc 91130683MA00000026 --new_key ",
                        (keys / "operator.pem").string()),
           absl::StrCat(as("operator", "13068300000001"),
                        "register party --party_id 13068300000002 --name 安国市市场监督管理局"
                        " --roles regulator --uscc 11130683MA0000003H --new_key ",
                        (keys / "regulator.pem").string()),
           absl::StrCat(as("regulator", "13068300000002"),
                        "register party --party_id 13068300000003 --name 安国市祁州黄芪种植专业合作社"
                        " --roles grower --uscc 91130683MA0000004C --new_key ",
                        (keys / "grower.pem").string()),
           absl::StrCat(as("operator", "13068300000001"), "catalog load ", HERBTRACE_SOURCE_DIR,
                        "/catalog/herbs.csv"),
           absl::StrCat(as("grower", "13068300000003"),
                        "register base --base_id 0001 --name 东区基地 --latlon 38.4185,115.3234"
                        " --area_mu 120 --herbs HUANGQI")}) {
    CommandResult r = RunCommand(command);
    ASSERT_EQ(r.exit_code, 0) << command << "\n" << r.output;
  }
  CommandResult harvest = RunCommand(absl::StrCat(
      as("grower", "13068300000003"),
      "harvest --batch '#1' --base 130683000000030001 --herb HUANGQI --grams 800kg"));
  ASSERT_EQ(harvest.exit_code, 0) << harvest.output;
  const size_t at = harvest.output.find("new batch");
  ASSERT_NE(at, std::string::npos) << harvest.output;
  const std::string batch =
      std::string(absl::StripAsciiWhitespace(harvest.output.substr(at + 9, 30))).substr(0, 25);

  // Each reader follows the writer (it catches up every 100 ms): within moments both serve the
  // batch, with its grower, herb and grams.
  for (Server* reader : {&reader1, &reader2}) {
    CommandResult served;
    for (int attempt = 0; attempt < 50; ++attempt) {
      served = RunCommand(absl::StrCat(Herbctl(reader->Address()), "trace down ", batch));
      if (served.exit_code == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(served.exit_code, 0) << served.output << reader->Output();
    EXPECT_THAT(served.output, HasSubstr(batch));
    EXPECT_THAT(served.output, HasSubstr("黄芪 Huangqi"));
    EXPECT_THAT(served.output, HasSubstr("800 kg"));
  }
  // The writer does not serve Trace: the split is real.
  EXPECT_NE(RunCommand(absl::StrCat(w, "batch ", batch)).exit_code, 0);
  reader1.Stop();
  reader2.Stop();
  writer.Stop();
}

// The quick start's demo over mutual TLS: certificates from deploy/make-certs.sh, every party
// with its own, the operator's genesis from the host's console, and a client without a
// certificate turned away at the handshake.
TEST(PlatformTest, DemoChainOverMutualTlsWithACertificatePerParty) {
  TempDir dir;
  const std::filesystem::path keys = dir.path() / "keys";
  const std::filesystem::path certs = dir.path() / "certs";
  std::filesystem::create_directories(keys);
  std::string parties;
  for (int i = 1; i <= 8; ++i) absl::StrAppend(&parties, " --party 1306830000000", i);
  CommandResult made = RunCommand(absl::StrCat("bash ", HERBTRACE_SOURCE_DIR,
                                               "/deploy/make-certs.sh ", certs.string(), parties,
                                               " 2>&1"));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  ASSERT_EQ(RunCommand(absl::StrCat(HERBCTL, " keygen --key ", (keys / "operator.pem").string()))
                .exit_code,
            0);
  const std::string console = absl::StrCat("127.0.0.1:", testing::FreeLoopbackPort());
  Server server(dir.path(), "server",
                {absl::StrCat("--data_dir=", (dir.path() / "data").string()),
                 absl::StrCat("--bootstrap_key=", (keys / "operator.pem.pub").string()),
                 absl::StrCat("--tls_cert=", (certs / "server.pem").string()),
                 absl::StrCat("--tls_key=", (certs / "server-key.pem").string()),
                 absl::StrCat("--client_ca=", (certs / "ca.pem").string()),
                 absl::StrCat("--admin_listen=", console)});
  ASSERT_TRUE(server.Ready()) << server.Output();
  EXPECT_THAT(server.Output(), HasSubstr("mutual TLS"));
  const std::string log_key = LogKey(server.Output());
  CommandResult demo = RunCommand(absl::StrCat(
      "HERBCTL=", HERBCTL, " HERBTRACE_CERTS=", certs.string(), " HERBTRACE_CONSOLE=", console,
      " bash ", HERBTRACE_SOURCE_DIR, "/deploy/demo.sh ", server.Address(), " ", keys.string(),
      " ", log_key, " 2>&1"));
  ASSERT_EQ(demo.exit_code, 0) << demo.output;
  EXPECT_THAT(demo.output, HasSubstr("status        closed"));
  EXPECT_THAT(demo.output, HasSubstr("verified: "));
  EXPECT_THAT(demo.output, HasSubstr("¥27,900.00"));  // the trader reads its own price
  EXPECT_THAT(demo.output, HasSubstr("maker B: herbctl price: Trace.GetTradeTerms: "
                                     "trade_event_id: the price of trade"));

  const std::string ca = absl::StrCat(" --tls_ca=", (certs / "ca.pem").string());
  const std::string as_lab = absl::StrCat(ca, " --tls_cert=",
                                          (certs / "party-13068300000008.pem").string(),
                                          " --tls_key=",
                                          (certs / "party-13068300000008-key.pem").string());
  // No certificate: the handshake fails before any call.
  CommandResult anonymous =
      RunCommand(absl::StrCat(Herbctl(server.Address()), ca, " --deadline=5s checkpoint 2>&1"));
  EXPECT_EQ(anonymous.exit_code, 1) << anonymous.output;
  EXPECT_THAT(anonymous.output, HasSubstr("is unavailable, retry later"));
  // The lab reads checkpoints, and the certificate may come from the environment.
  CommandResult lab = RunCommand(absl::StrCat(
      "HERBTRACE_CA_CERT=", (certs / "ca.pem").string(),
      " HERBTRACE_CERT=", (certs / "party-13068300000008.pem").string(),
      " HERBTRACE_KEY=", (certs / "party-13068300000008-key.pem").string(), " ",
      Herbctl(server.Address()), "checkpoint 2>&1"));
  EXPECT_EQ(lab.exit_code, 0) << lab.output;
  // ...but the recall names no lot of the lab's, while maker A sees it.
  CommandResult recalls =
      RunCommand(absl::StrCat(Herbctl(server.Address()), as_lab, " recall list --json"));
  ASSERT_EQ(recalls.exit_code, 0) << recalls.output;
  EXPECT_EQ(nlohmann::json::parse(recalls.output)["recalls"].size(), 0u) << recalls.output;
  CommandResult maker = RunCommand(absl::StrCat(
      Herbctl(server.Address()), ca, " --tls_cert=", (certs / "party-13068300000006.pem").string(),
      " --tls_key=", (certs / "party-13068300000006-key.pem").string(), " recall list --json"));
  ASSERT_EQ(maker.exit_code, 0) << maker.output;
  EXPECT_EQ(nlohmann::json::parse(maker.output)["recalls"].size(), 1u) << maker.output;

  // The operator's console audits the demo log, signatures included; the lab may not.
  CommandResult audit = RunCommand(
      absl::StrCat(Herbctl(console), "--deadline=120s audit --signatures 2>&1"));
  EXPECT_EQ(audit.exit_code, 0) << audit.output;
  EXPECT_THAT(audit.output, HasSubstr(" verified ("));
  EXPECT_THAT(audit.output, HasSubstr("keys registered"));
  EXPECT_THAT(audit.output, Not(HasSubstr("FAILED")));
  CommandResult lab_audit =
      RunCommand(absl::StrCat(Herbctl(server.Address()), as_lab, " audit --signatures 2>&1"));
  EXPECT_EQ(lab_audit.exit_code, 1) << lab_audit.output;
  EXPECT_THAT(lab_audit.output, HasSubstr("Ledger.Audit: "));
  server.Stop();
}

// What the Kubernetes probes run: `herbctl health` through the plaintext console on a Unix
// socket, while the network listener takes mutual TLS only.
TEST(PlatformTest, HealthThroughTheConsoleSocketOfAMutualTlsServer) {
  TempDir dir;
  const std::filesystem::path keys = dir.path() / "keys";
  const std::filesystem::path certs = dir.path() / "certs";
  std::filesystem::create_directories(keys);
  CommandResult made = RunCommand(absl::StrCat("bash ", HERBTRACE_SOURCE_DIR,
                                               "/deploy/make-certs.sh ", certs.string(), " 2>&1"));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  ASSERT_EQ(RunCommand(absl::StrCat(HERBCTL, " keygen --key ", (keys / "operator.pem").string()))
                .exit_code,
            0);
  const std::string socket = absl::StrCat("unix:", (dir.path() / "admin.sock").string());
  Server server(dir.path(), "server",
                {absl::StrCat("--data_dir=", (dir.path() / "data").string()),
                 absl::StrCat("--bootstrap_key=", (keys / "operator.pem.pub").string()),
                 absl::StrCat("--tls_cert=", (certs / "server.pem").string()),
                 absl::StrCat("--tls_key=", (certs / "server-key.pem").string()),
                 absl::StrCat("--client_ca=", (certs / "ca.pem").string()),
                 absl::StrCat("--admin_listen=", socket)});
  ASSERT_TRUE(server.Ready()) << server.Output();

  CommandResult health = RunCommand(absl::StrCat(Herbctl(socket), "--deadline=5s health 2>&1"));
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_THAT(health.output, HasSubstr(": SERVING"));
  CommandResult json = RunCommand(absl::StrCat(Herbctl(socket), "--deadline=5s health --json"));
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(nlohmann::json::parse(json.output)["status"], "SERVING") << json.output;
  // A service the health service has no status for: NOT_FOUND, exit 1.
  CommandResult unknown = RunCommand(
      absl::StrCat(Herbctl(socket), "--deadline=5s health herbtrace.v1.Nothing 2>&1"));
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_THAT(unknown.output, HasSubstr("Health.Check: "));
  // The network port without a client certificate: no handshake, so no answer.
  CommandResult anonymous = RunCommand(absl::StrCat(
      Herbctl(server.Address()), "--tls_ca=", (certs / "ca.pem").string(),
      " --deadline=5s health 2>&1"));
  EXPECT_EQ(anonymous.exit_code, 1) << anonymous.output;
  EXPECT_THAT(anonymous.output, HasSubstr("Health.Check: "));
  EXPECT_THAT(anonymous.output, Not(HasSubstr("SERVING")));
  server.Stop();
}

}  // namespace
}  // namespace herbtrace
