#include "tests/services/server/test_server.h"

#include <chrono>
#include <utility>

namespace herbtrace::testing {

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(server::LogSource& source,
                                                              TestServerOptions options) {
  std::unique_ptr<TestServer> s(new TestServer());
  s->executor_ = std::make_unique<server::Executor>("test-reads", 4);
  s->audit_executor_ = std::make_unique<server::Executor>("test-audit", 1);
  options.ledger.callers = options.callers;
  options.trace.callers = options.callers;
  options.recall.callers = options.callers;
  server::RegistryServiceOptions registry;
  registry.callers = options.callers;
  s->services_.push_back(
      server::NewLedgerService(source, *s->executor_, *s->audit_executor_, options.ledger));
  s->services_.push_back(server::NewRegistryService(source, *s->executor_, registry));
  s->services_.push_back(server::NewTraceService(source, *s->executor_, options.trace));
  s->services_.push_back(server::NewRecallService(source, *s->executor_, options.recall));
  if (options.capture) {
    if (source.writer() == nullptr) {
      return absl::InvalidArgumentError("capture: a replica source cannot append");
    }
    server::CaptureOptions capture;
    capture.callers = options.callers;
    s->services_.push_back(server::NewCaptureService(*source.writer(), capture));
  }
  std::vector<grpc::Service*> raw;
  for (auto& service : s->services_) raw.push_back(service.get());
  server::ServerHostOptions host;
  host.listen = options.listen;
  host.tls = options.tls;
  host.admin_listen = options.admin_listen;
  auto started = server::ServerHost::Start(host, raw);
  if (!started.ok()) return started.status();
  s->host_ = *std::move(started);
  if (!options.tls.has_value()) {
    s->channel_ = grpc::CreateChannel(s->host_->address(), grpc::InsecureChannelCredentials());
  }
  return s;
}

TestServer::~TestServer() { Stop(); }

void TestServer::Stop() {
  if (host_ != nullptr) host_->Shutdown(absl::Seconds(5));
  if (executor_ != nullptr) executor_->Stop();
  if (audit_executor_ != nullptr) audit_executor_->Stop();
}

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& ca_pem,
                                          const std::string& cert_pem,
                                          const std::string& key_pem) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca_pem;
  ssl.pem_cert_chain = cert_pem;
  ssl.pem_private_key = key_pem;
  // A fresh connection per channel: a refused certificate must not reuse another's session.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

std::unique_ptr<grpc::ClientContext> Context(int seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

}  // namespace herbtrace::testing
