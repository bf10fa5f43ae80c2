#include "tests/services/server/test_server.h"

#include <chrono>
#include <utility>

namespace herbtrace::testing {

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(server::LogSource& source,
                                                              TestServerOptions options) {
  std::unique_ptr<TestServer> s(new TestServer());
  s->executor_ = std::make_unique<server::Executor>("test-reads", 4);
  s->audit_executor_ = std::make_unique<server::Executor>("test-audit", 1);
  s->services_.push_back(
      server::NewLedgerService(source, *s->executor_, *s->audit_executor_, options.ledger));
  s->services_.push_back(server::NewRegistryService(source, *s->executor_));
  s->services_.push_back(server::NewTraceService(source, *s->executor_, options.trace));
  s->services_.push_back(server::NewRecallService(source, *s->executor_, options.recall));
  std::vector<grpc::Service*> raw;
  for (auto& service : s->services_) raw.push_back(service.get());
  server::ServerHostOptions host;
  host.listen = "127.0.0.1:0";
  auto started = server::ServerHost::Start(host, raw);
  if (!started.ok()) return started.status();
  s->host_ = *std::move(started);
  s->channel_ = grpc::CreateChannel(s->host_->address(), grpc::InsecureChannelCredentials());
  return s;
}

TestServer::~TestServer() { Stop(); }

void TestServer::Stop() {
  if (host_ != nullptr) host_->Shutdown(absl::Seconds(5));
  if (executor_ != nullptr) executor_->Stop();
  if (audit_executor_ != nullptr) audit_executor_->Stop();
}

std::unique_ptr<grpc::ClientContext> Context(int seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

}  // namespace herbtrace::testing
