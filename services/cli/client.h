// herbctl's connection to a HerbTrace server: one channel, a stub per service, and a deadline on
// every call.
//
// Plaintext only to a loopback address or a Unix socket; anywhere else TLS is required (the architecture puts TLS
// on every listener outside loopback), with a client certificate for mutual TLS when given.
//
// Thread-compatible; herbctl uses it from one thread.
#ifndef HERBTRACE_SERVICES_CLI_CLIENT_H_
#define HERBTRACE_SERVICES_CLI_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "herbtrace/v1/capture.grpc.pb.h"
#include "herbtrace/v1/ledger.grpc.pb.h"
#include "herbtrace/v1/recall.grpc.pb.h"
#include "herbtrace/v1/registry.grpc.pb.h"
#include "herbtrace/v1/trace.grpc.pb.h"

namespace herbtrace::cli {

struct ClientOptions {
  std::string server = "127.0.0.1:50051";
  // Applied to every RPC.
  absl::Duration deadline = absl::Seconds(15);
  // PEM files. Empty tls_ca: plaintext, allowed only to loopback unless allow_plaintext.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  bool allow_plaintext = false;
};

// True for "localhost", 127.0.0.0/8 and [::1] host parts of host:port, and for unix: and
// unix-abstract: targets (a Unix socket never leaves the host).
bool IsLoopbackTarget(absl::string_view target);

class Client {
 public:
  // Connects lazily (the first RPC dials). InvalidArgument for a non-loopback server without
  // TLS, or unreadable TLS files.
  static absl::StatusOr<std::unique_ptr<Client>> Create(const ClientOptions& options);

  // A fresh context whose deadline is now + the configured deadline.
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  v1::Capture::Stub& capture() { return *capture_; }
  v1::Registry::Stub& registry() { return *registry_; }
  v1::Trace::Stub& trace() { return *trace_; }
  v1::Recall::Stub& recall() { return *recall_; }
  v1::Ledger::Stub& ledger() { return *ledger_; }
  // For services without generated stubs here (grpc.health.v1.Health).
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const std::string& target() const { return options_.server; }

 private:
  Client(ClientOptions options, std::shared_ptr<grpc::Channel> channel);

  const ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Capture::Stub> capture_;
  std::unique_ptr<v1::Registry::Stub> registry_;
  std::unique_ptr<v1::Trace::Stub> trace_;
  std::unique_ptr<v1::Recall::Stub> recall_;
  std::unique_ptr<v1::Ledger::Stub> ledger_;
};

// The gRPC status as an absl::Status (the codes match numerically), the message prefixed with
// the RPC's name; UNAVAILABLE and DEADLINE_EXCEEDED also name the server.
absl::Status FromGrpc(const grpc::Status& status, absl::string_view rpc, absl::string_view target);

}  // namespace herbtrace::cli

#endif  // HERBTRACE_SERVICES_CLI_CLIENT_H_
