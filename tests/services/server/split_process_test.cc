// End to end, the split deployment with the real binary: a writer process and a reader process
// on one filesystem. An event submitted to the writer's Capture service is served by the
// reader's Registry, Ledger and Trace services; both stop cleanly on SIGTERM.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crypto/signature.h"
#include "herbtrace/v1/capture.grpc.pb.h"
#include "herbtrace/v1/ledger.grpc.pb.h"
#include "herbtrace/v1/registry.grpc.pb.h"
#include "services/server/status.h"
#include "tests/services/server/market_fixture.h"
#include "tests/services/server/test_server.h"
#include "tests/test_util.h"

namespace herbtrace::testing {
namespace {

using ::testing::HasSubstr;

class ServerProcess {
 public:
  ServerProcess(const std::filesystem::path& dir, const std::string& name,
                std::vector<std::string> args)
      : port_file_(dir / (name + ".port")), log_(dir / (name + ".log")) {
    args.insert(args.begin(), HERBTRACE_SERVER_BINARY);
    args.push_back(absl::StrCat("--port_file=", port_file_.string()));
    pid_ = fork();
    if (pid_ == 0) {
      FILE* out = freopen(log_.c_str(), "w", stdout);
      (void)out;
      dup2(fileno(stdout), fileno(stderr));
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }

  ~ServerProcess() {
    if (pid_ > 0 && !waited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // The bound port once the server serves; 0 if it did not within 30 s.
  int WaitForPort() {
    for (int i = 0; i < 300; ++i) {
      std::ifstream in(port_file_);
      int port = 0;
      if (in >> port && port > 0) return port;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return 0;
  }

  // SIGTERM, then the exit code (-1 if it did not exit within 30 s or died of a signal).
  int Terminate() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        waited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }

  std::string Log() const { return ReadFileOrDie(log_); }

 private:
  const std::filesystem::path port_file_;
  const std::filesystem::path log_;
  pid_t pid_ = -1;
  bool waited_ = false;
};

TEST(SplitProcessTest, AnEventSubmittedToTheWriterIsServedByTheReader) {
  // A server's graceful shutdown waits for each connected client to answer its GOAWAY ping; an
  // idle gRPC client polls its connections only every 5 s by default. Poll often, so the
  // SIGTERMs below take milliseconds, not seconds. (Read when gRPC initializes: set it first.)
  setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "50", 1);
  TempDir dir;
  Actor market_operator{"13068300000001",
                        *crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519)};
  const std::filesystem::path bootstrap = dir.path() / "operator.pub";
  std::ofstream(bootstrap) << *market_operator.key->public_key().ToPem();

  ServerProcess writer(dir.path(), "writer",
                       {"--mode=writer", absl::StrCat("--data_dir=", (dir.path() / "w").string()),
                        absl::StrCat("--origin=", kMarketOrigin),
                        absl::StrCat("--bootstrap_key=", bootstrap.string()),
                        "--listen=127.0.0.1:0"});
  const int writer_port = writer.WaitForPort();
  ASSERT_GT(writer_port, 0) << writer.Log();
  ServerProcess reader(dir.path(), "reader",
                       {"--mode=reader", absl::StrCat("--data_dir=", (dir.path() / "r").string()),
                        absl::StrCat("--primary_dir=", (dir.path() / "w").string()),
                        "--listen=127.0.0.1:0"});
  const int reader_port = reader.WaitForPort();
  ASSERT_GT(reader_port, 0) << reader.Log();
  EXPECT_THAT(writer.Log(), HasSubstr(absl::StrCat("listening on 127.0.0.1:", writer_port)));

  auto writer_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", writer_port),
                                            grpc::InsecureChannelCredentials());
  auto reader_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", reader_port),
                                            grpc::InsecureChannelCredentials());

  // Genesis: the market operator registers itself with the bootstrap key.
  v1::Event genesis = RegisterPartyEvent(market_operator, "安国数字中药都追溯服务中心",
                                         {v1::PARTY_ROLE_MARKET_OPERATOR});
  v1::SubmitRequest submit;
  *submit.mutable_signed_event() = SignEvent(market_operator, genesis, absl::Now(),
                                             "01920000-0000-7000-8000-000000000001");
  v1::SubmitResponse submitted;
  auto c1 = Context();
  grpc::Status status =
      v1::Capture::NewStub(writer_channel)->Submit(c1.get(), submit, &submitted);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << writer.Log();
  ASSERT_TRUE(submitted.has_receipt());
  const v1::Receipt receipt = submitted.receipt();
  EXPECT_EQ(receipt.seq(), 0u);

  // The reader's registry has the party (it catches up every 100 ms).
  auto registry = v1::Registry::NewStub(reader_channel);
  v1::Party party;
  for (int i = 0; i < 100; ++i) {
    v1::GetPartyRequest request;
    request.set_party_id(market_operator.party_id);
    auto context = Context();
    status = registry->GetParty(context.get(), request, &party);
    if (status.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << reader.Log();
  EXPECT_EQ(party.party_id(), market_operator.party_id);
  ASSERT_EQ(party.keys_size(), 1);
  EXPECT_EQ(party.keys(0).key_id(), market_operator.key_id());

  // The reader proves the entry in the tree of the writer's receipt.
  v1::GetInclusionProofRequest prove;
  prove.set_seq(receipt.seq());
  prove.set_tree_size(receipt.tree_size());
  v1::GetInclusionProofResponse proof;
  auto c2 = Context();
  status = v1::Ledger::NewStub(reader_channel)->GetInclusionProof(c2.get(), prove, &proof);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(proof.leaf_hash(), receipt.leaf_hash());

  // The reader is a reader: cosignatures go to the writer.
  v1::AddCosignatureRequest cosign;
  cosign.set_checkpoint_note("x\n1\nAA==\n");
  cosign.set_cosignature("— w AAAA");
  v1::Checkpoint out;
  auto c3 = Context();
  EXPECT_EQ(v1::Ledger::NewStub(reader_channel)->AddCosignature(c3.get(), cosign, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  EXPECT_EQ(reader.Terminate(), 0) << reader.Log();
  EXPECT_EQ(writer.Terminate(), 0) << writer.Log();
  EXPECT_THAT(writer.Log(), HasSubstr("herbtrace-server: stopped"));
}

TEST(SplitProcessTest, ANonLoopbackListenerIsRefusedWithoutTheFlag) {
  TempDir dir;
  auto key = *crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519);
  const std::filesystem::path bootstrap = dir.path() / "operator.pub";
  std::ofstream(bootstrap) << *key->public_key().ToPem();
  const std::string command = absl::StrCat(
      HERBTRACE_SERVER_BINARY, " --data_dir=", (dir.path() / "w").string(),
      " --bootstrap_key=", bootstrap.string(), " --listen=0.0.0.0:0 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
  const int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << output;
  EXPECT_THAT(output, HasSubstr("--allow_insecure_remote"));
}

}  // namespace
}  // namespace herbtrace::testing
