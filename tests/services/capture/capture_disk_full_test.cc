// Capture over a real gRPC channel while the ledger's disk is full or failing: Submit returns
// RESOURCE_EXHAUSTED (full disk) or UNAVAILABLE (I/O error) naming the cause and telling the
// client to retry with the same event_id, the ledger and the domain state are unchanged, and
// the same request succeeds once the fault is gone — without restarting anything.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/server/capture_service.h"
#include "tests/services/domain/domain_harness.h"
#include "tests/storage/fault_file_system.h"
#include "tests/test_util.h"

namespace herbtrace::server {
namespace {

using ::herbtrace::testing::Actor;
using ::herbtrace::testing::DomainHarness;
using ::herbtrace::testing::Fault;
using ::herbtrace::testing::FaultEnv;
using ::herbtrace::testing::MakeUscc;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class CaptureDiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    op_ = Actor{"13068300000001", h_.operator_key()};
    CaptureOptions options;
    options.bootstrap_key_id = op_.key_id();
    service_ = NewCaptureService(h_.ledger(), options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Capture::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                                     grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    faults_.fs().Clear();
    server_->Shutdown();
  }

  v1::SubmitRequest Registration(const Actor& registrar, const std::string& party_id) {
    v1::Event e = h_.NewEvent(registrar);
    v1::RegisterParty* rp = e.mutable_register_party();
    rp->set_party_id(party_id);
    rp->set_name("安国市某药材经营部");
    rp->add_roles(party_id == op_.party_id ? v1::PARTY_ROLE_MARKET_OPERATOR
                                           : v1::PARTY_ROLE_TRADER);
    rp->set_uscc(MakeUscc("130683", std::stoi(party_id.substr(6))));
    rp->set_region_code(party_id.substr(0, 6));
    const Actor party = party_id == op_.party_id
                            ? op_
                            : Actor{party_id, ::herbtrace::testing::NewKey()};
    *rp->add_initial_keys() = DomainHarness::MakeNewKey(*party.key, party.party_id);
    v1::SubmitRequest request;
    *request.mutable_signed_event() = h_.Request(e, registrar).signed_event;
    return request;
  }

  grpc::Status Submit(const v1::SubmitRequest& request, v1::SubmitResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->Submit(&context, request, response);
  }

  bool AwaitRecovery() {
    for (int i = 0; i < 3000; ++i) {
      if (h_.ledger().write_status().ok()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  void RefusedThenAccepted(const Fault& fault, grpc::StatusCode code, const std::string& cause) {
    v1::SubmitResponse genesis;
    ASSERT_TRUE(Submit(Registration(op_, op_.party_id), &genesis).ok());
    const uint64_t size = h_.ledger().size();
    const std::string state = h_.StateFingerprint();
    const v1::SubmitRequest trader = Registration(op_, "13068300000003");

    faults_.fs().Inject(fault);
    for (int attempt = 0; attempt < 2; ++attempt) {  // the failed write, then the refusal
      v1::SubmitResponse response;
      grpc::Status status = Submit(trader, &response);
      EXPECT_EQ(status.error_code(), code) << status.error_message();
      EXPECT_THAT(status.error_message(),
                  AllOf(StartsWith("ledger: "), HasSubstr(cause),
                        HasSubstr("retry with the same event_id")));
      EXPECT_FALSE(response.has_receipt());
      EXPECT_EQ(h_.ledger().size(), size);
      EXPECT_EQ(h_.StateFingerprint(), state);
    }

    faults_.fs().Clear();
    ASSERT_TRUE(AwaitRecovery()) << h_.ledger().write_status();
    v1::SubmitResponse response;
    grpc::Status status = Submit(trader, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.receipt().seq(), size);
    EXPECT_EQ(h_.ledger().size(), size + 1);
    // A second retry is answered from the log with the same receipt.
    v1::SubmitResponse again;
    ASSERT_TRUE(Submit(trader, &again).ok());
    EXPECT_EQ(again.receipt().SerializeAsString(), response.receipt().SerializeAsString());
  }

  FaultEnv faults_;
  DomainHarness h_{/*sync=*/true, faults_.env()};
  Actor op_;
  std::unique_ptr<v1::Capture::CallbackService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Capture::Stub> stub_;
};

TEST_F(CaptureDiskFullTest, SubmitIsResourceExhaustedWhileTheDiskIsFullThenAccepted) {
  RefusedThenAccepted(Fault{}, grpc::StatusCode::RESOURCE_EXHAUSTED, "the disk is full");
}

TEST_F(CaptureDiskFullTest, SubmitIsUnavailableWhileWritesFailThenAccepted) {
  Fault fault;
  fault.error = rocksdb::IOStatus::IOError("injected: input/output error");
  RefusedThenAccepted(fault, grpc::StatusCode::UNAVAILABLE, "a write to the disk failed");
}

TEST_F(CaptureDiskFullTest, StreamAnswersEveryEventWithTheRefusalThenAcceptsTheRetries) {
  v1::SubmitResponse genesis;
  ASSERT_TRUE(Submit(Registration(op_, op_.party_id), &genesis).ok());
  const uint64_t size = h_.ledger().size();
  const std::string state = h_.StateFingerprint();
  std::vector<v1::SubmitRequest> requests;
  for (int i = 0; i < 6; ++i) {
    requests.push_back(Registration(op_, absl::StrCat("130683", 10000000 + i)));
  }

  auto stream_all = [&](std::vector<v1::SubmitResponse>& responses) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto stream = stub_->SubmitStream(&context);
    for (const auto& r : requests) EXPECT_TRUE(stream->Write(r));
    stream->WritesDone();
    v1::SubmitResponse response;
    while (stream->Read(&response)) responses.push_back(response);
    return stream->Finish();
  };

  faults_.fs().Inject(Fault{});
  std::vector<v1::SubmitResponse> refused;
  EXPECT_TRUE(stream_all(refused).ok());
  ASSERT_EQ(refused.size(), requests.size());
  for (size_t i = 0; i < refused.size(); ++i) {
    EXPECT_EQ(refused[i].index(), i);
    ASSERT_TRUE(refused[i].has_error());
    EXPECT_EQ(refused[i].error().code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(refused[i].error().message(),
                AllOf(StartsWith("ledger: the disk is full"),
                      HasSubstr("retry with the same event_id")));
  }
  EXPECT_EQ(h_.ledger().size(), size);
  EXPECT_EQ(h_.StateFingerprint(), state);

  faults_.fs().Clear();
  ASSERT_TRUE(AwaitRecovery()) << h_.ledger().write_status();
  std::vector<v1::SubmitResponse> accepted;
  EXPECT_TRUE(stream_all(accepted).ok());
  ASSERT_EQ(accepted.size(), requests.size());
  for (size_t i = 0; i < accepted.size(); ++i) {
    ASSERT_TRUE(accepted[i].has_receipt()) << accepted[i].error().message();
    EXPECT_EQ(accepted[i].receipt().seq(), size + i);
  }
  EXPECT_EQ(h_.ledger().size(), size + requests.size());
}

}  // namespace
}  // namespace herbtrace::server
