// The server every process runs: loopback-only without TLS, port 0, health and reflection, and
// the executor the services hand their work to.
#include "services/server/server_host.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/server/executor.h"
#include "tests/test_util.h"

namespace herbtrace::server {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::StatusIs;
using ::testing::HasSubstr;

TEST(CheckListenAddressTest, LoopbackAndUnixSocketsNeedNoFlag) {
  EXPECT_THAT(CheckListenAddress("127.0.0.1:50051", false), IsOk());
  EXPECT_THAT(CheckListenAddress("127.1.2.3:0", false), IsOk());
  EXPECT_THAT(CheckListenAddress("localhost:50051", false), IsOk());
  EXPECT_THAT(CheckListenAddress("[::1]:50051", false), IsOk());
  EXPECT_THAT(CheckListenAddress("unix:/run/herbtrace.sock", false), IsOk());
}

TEST(CheckListenAddressTest, RemoteAddressesAreRefusedWithoutTheFlag) {
  for (const char* address : {"0.0.0.0:50051", "[::]:50051", "10.1.2.3:50051",
                              "herbtrace.example:443", "127.evil.example:1"}) {
    EXPECT_THAT(CheckListenAddress(address, false),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("--allow_insecure_remote")))
        << address;
    EXPECT_THAT(CheckListenAddress(address, true), IsOk()) << address;
  }
}

TEST(CheckListenAddressTest, MalformedAddressesAreInvalidArgument) {
  EXPECT_THAT(CheckListenAddress("127.0.0.1", false),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckListenAddress("127.0.0.1:http", false),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckListenAddress("::1:50051", false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[::1]:port")));
}

TEST(ServerHostStartTest, RefusesARemoteAddressBeforeBinding) {
  ServerHostOptions options;
  options.listen = "0.0.0.0:0";
  EXPECT_THAT(ServerHost::Start(options, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("TLS")));
}

class ServerHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto host = ServerHost::Start(ServerHostOptions{}, {});
    ASSERT_THAT(host, IsOk());
    host_ = *std::move(host);
    channel_ = grpc::CreateChannel(host_->address(), grpc::InsecureChannelCredentials());
  }

  // One unary call by method name with raw bytes; the response bytes.
  grpc::Status Call(const std::string& method, const std::string& request, std::string* response) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Slice slice(request);
    grpc::ByteBuffer in(&slice, 1);
    grpc::ByteBuffer out;
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &in, &out, [&](grpc::Status s) {
      status = std::move(s);
      done.Notify();
    });
    done.WaitForNotification();
    std::vector<grpc::Slice> slices;
    (void)out.Dump(&slices);
    response->clear();
    for (const grpc::Slice& s : slices) {
      response->append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return status;
  }

  std::unique_ptr<ServerHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ServerHostTest, PortZeroBindsAFreePortAndReportsIt) {
  EXPECT_GT(host_->port(), 0);
  EXPECT_EQ(host_->address(), "127.0.0.1:" + std::to_string(host_->port()));
}

TEST_F(ServerHostTest, HealthServiceAnswersServing) {
  std::string response;
  // HealthCheckRequest{service: ""} is the empty message; SERVING is status = 1: 08 01.
  ASSERT_TRUE(Call("/grpc.health.v1.Health/Check", "", &response).ok());
  EXPECT_EQ(response, std::string("\x08\x01", 2));
}

TEST_F(ServerHostTest, ReflectionListsTheServices) {
  grpc::GenericStub stub(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  // ServerReflectionRequest{list_services: ""}: field 7, length-delimited, empty.
  grpc::Slice slice(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(reply.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_THAT(bytes, HasSubstr("grpc.health.v1.Health"));
  call->WritesDone(reinterpret_cast<void*>(4));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(ServerHostTest, ShutdownIsIdempotentAndRefusesNewCalls) {
  host_->Shutdown(absl::Seconds(1));
  host_->Shutdown(absl::Seconds(1));
  std::string response;
  EXPECT_FALSE(Call("/grpc.health.v1.Health/Check", "", &response).ok());
}

TEST(ExecutorTest, RunsEveryAcceptedTaskEvenWhenStopping) {
  std::atomic<int> ran{0};
  {
    Executor executor("test", 2);
    for (int i = 0; i < 100; ++i) {
      ASSERT_THAT(executor.Schedule([&] { ran.fetch_add(1); }), IsOk());
    }
    executor.Stop();
    EXPECT_THAT(executor.Schedule([] {}), StatusIs(absl::StatusCode::kFailedPrecondition));
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(ExecutorTest, AFullQueueIsResourceExhausted) {
  absl::Notification release;
  Executor executor("test", 1, 2);
  ASSERT_THAT(executor.Schedule([&] { release.WaitForNotification(); }), IsOk());
  // The first task may not have been picked up yet; fill until refused.
  absl::Status s;
  for (int i = 0; i < 4 && s.ok(); ++i) s = executor.Schedule([] {});
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("busy")));
  release.Notify();
}

}  // namespace
}  // namespace herbtrace::server
