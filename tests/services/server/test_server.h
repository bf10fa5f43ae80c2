// An in-process herbtrace server for the service tests: the read services (and, on a writer,
// Capture when asked) over one LogSource, on 127.0.0.1 port 0, with a channel to it: plaintext
// (the host's administrative console, unless the caller options turn it off), or mutual TLS
// when `tls` is set (then channel() is null: each test dials with a party's certificate).
#ifndef HERBTRACE_TESTS_SERVICES_SERVER_TEST_SERVER_H_
#define HERBTRACE_TESTS_SERVICES_SERVER_TEST_SERVER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "services/server/caller.h"
#include "services/server/capture_service.h"
#include "services/server/executor.h"
#include "services/server/ledger_service.h"
#include "services/server/log_source.h"
#include "services/server/recall_service.h"
#include "services/server/registry_service.h"
#include "services/server/server_host.h"
#include "services/server/trace_service.h"

namespace herbtrace::testing {

struct TestServerOptions {
  server::LedgerServiceOptions ledger;
  server::TraceServiceOptions trace;
  server::RecallServiceOptions recall;
  // Also serve Capture over the source's ledger (a writer source only).
  bool capture = false;
  // Who the callers are, for every service.
  server::CallerOptions callers;
  std::optional<server::ServerHostOptions::Tls> tls;
  std::string listen = "127.0.0.1:0";
  // With tls: the plaintext console beside it (ServerHostOptions::admin_listen).
  std::string admin_listen;
};

class TestServer {
 public:
  // REQUIRES: source outlives the server.
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(server::LogSource& source,
                                                           TestServerOptions options = {});
  ~TestServer();

  const std::string& address() const { return host_->address(); }
  int port() const { return host_->port(); }
  const std::string& admin_address() const { return host_->admin_address(); }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  // Stops the server and its executors (idempotent).
  void Stop();

 private:
  TestServer() = default;

  std::unique_ptr<server::Executor> executor_;
  std::unique_ptr<server::Executor> audit_executor_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<server::ServerHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
};

// A mutual-TLS channel to `address` trusting `ca_pem`, presenting `cert_pem` and `key_pem`
// (none when empty).
std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& ca_pem,
                                          const std::string& cert_pem = "",
                                          const std::string& key_pem = "");

// A client context with a deadline, for tests that must not hang.
std::unique_ptr<grpc::ClientContext> Context(int seconds = 30);

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_SERVICES_SERVER_TEST_SERVER_H_
