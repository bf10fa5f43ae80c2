// The gRPC server every HerbTrace process runs: the services it is given, the standard health
// service (grpc.health.v1.Health) and server reflection, on one listening address.
//
// Transport: with ServerHostOptions::tls the listener speaks TLS and requires, on every
// connection, a client certificate that chains to the deployment's client CA (mutual TLS); a
// client without one, or with one from another CA, fails the handshake (UNAVAILABLE on its
// side) before any call is made. The party the certificate names is the caller (caller.h), and
// every RPC checks it against the access table (access_policy.h).
//
// Without TLS the listener is plaintext, and therefore only on loopback (or a Unix socket)
// unless told otherwise explicitly (allow_insecure_remote): every call and every opening of a
// confidential field would otherwise cross the network in clear. A plaintext call carries no
// party: it is the host's administrative console, which reads everything, because whoever
// reaches the loopback port is on the host that holds the database files; the services'
// CallerOptions::plaintext_admin (herbtrace-server --plaintext_admin=false) turns that off.
// A TLS server may keep such a console beside its TLS listener (admin_listen: loopback or a Unix
// socket, plaintext): that is where the market operator's genesis RegisterParty comes from,
// before any party is registered to present a certificate.
//
// Thread-safe after Start.
#ifndef HERBTRACE_SERVICES_SERVER_SERVER_HOST_H_
#define HERBTRACE_SERVICES_SERVER_SERVER_HOST_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace herbtrace::server {

struct ServerHostOptions {
  // host:port; port 0 picks a free port (see ServerHost::port). "unix:/path" for a socket.
  std::string listen = "127.0.0.1:0";
  // Mutual TLS on the listener: PEM contents (not paths). Unset: plaintext.
  struct Tls {
    std::string cert_chain_pem;   // the server's certificate (and intermediates)
    std::string private_key_pem;  // its key
    std::string client_ca_pem;    // the CA every client certificate must chain to
  };
  std::optional<Tls> tls;
  // Listen beyond loopback without TLS: for a network trusted like the host itself only.
  bool allow_insecure_remote = false;
  // A second, plaintext listener for the host's administrative console: loopback or "unix:"
  // only, whatever allow_insecure_remote says. Empty: none.
  std::string admin_listen;
  // Largest message either way. Capture bundles are bounded by the receive side (capture.proto:
  // 4 MiB by default); responses are bounded by the services below what clients accept.
  int max_message_bytes = 4 << 20;
  // Concurrent calls (HTTP/2 streams) per client connection: a scanner's SubmitStream and a few
  // reads at a time is normal; a client opening hundreds is misbehaving.
  int max_concurrent_streams = 100;
  // The server pings a connection idle this long and drops it when no answer comes within the
  // timeout: handheld scanners on mobile networks vanish without closing their TCP connection,
  // and their half-open SubmitStream would otherwise hold its reactor and in-flight window.
  absl::Duration keepalive_time = absl::Seconds(60);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // Clients may ping this often without sending data (their own keepalive across NAT); more
  // often is treated as abuse and the connection is closed (GOAWAY too_many_pings).
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  // Connections idle (no call) this long are closed; clients reconnect transparently.
  absl::Duration max_connection_idle = absl::Minutes(30);
  // Memory all connections' transport buffers may hold together (a grpc::ResourceQuota). Each
  // stream's receive window otherwise grows with the measured bandwidth-delay product, so a
  // client that writes faster than its call reads could park megabytes per stream here.
  size_t max_transport_memory_bytes = size_t{256} << 20;
  // Threads for calls on gRPC's synchronous API (server reflection, e.g. grpcurl): each such
  // call holds one until it ends, so without a limit a client keeping reflection streams open
  // starts a thread per stream.
  int max_sync_threads = 32;
};

// OK when `address` may be served without TLS: a loopback address (127.0.0.0/8, ::1,
// localhost) or a Unix socket, or any address when `allow_insecure_remote`. Otherwise
// FailedPrecondition explaining the flags. InvalidArgument when it is not host:port.
absl::Status CheckListenAddress(absl::string_view address, bool allow_insecure_remote);

// True when `address` is a loopback host:port or a Unix socket (no check of its syntax beyond).
bool IsLoopbackListenAddress(absl::string_view address);

class ServerHost {
 public:
  // Builds and starts the server. REQUIRES: every service outlives the host. InvalidArgument
  // ("tls: ...") when TLS is asked for with an empty certificate, key or client CA.
  static absl::StatusOr<std::unique_ptr<ServerHost>> Start(
      const ServerHostOptions& options, const std::vector<grpc::Service*>& services);

  // Shuts down (with no grace) if Shutdown was not called.
  ~ServerHost();
  ServerHost(const ServerHost&) = delete;
  ServerHost& operator=(const ServerHost&) = delete;

  // The port bound (the one chosen when the options asked for 0); 0 for a Unix socket.
  int port() const { return port_; }
  // Where clients connect: "127.0.0.1:50051", "[::1]:50051", "unix:/run/herbtrace.sock".
  const std::string& address() const { return address_; }
  bool tls() const { return tls_; }
  // The console listener's address and port, as for address() and port(); empty and 0 when
  // there is none.
  const std::string& admin_address() const { return admin_address_; }
  int admin_port() const { return admin_port_; }

  // Stops accepting calls, lets calls in flight finish until `grace` has passed, cancels the
  // rest, and returns once every call is done. The health service reports NOT_SERVING first.
  // Idempotent.
  void Shutdown(absl::Duration grace);

  grpc::Server& server() { return *server_; }

 private:
  ServerHost(std::unique_ptr<grpc::Server> server, int port, std::string address, bool tls,
             int admin_port, std::string admin_address)
      : server_(std::move(server)),
        port_(port),
        address_(std::move(address)),
        tls_(tls),
        admin_port_(admin_port),
        admin_address_(std::move(admin_address)) {}

  std::unique_ptr<grpc::Server> server_;
  const int port_;
  const std::string address_;
  const bool tls_;
  const int admin_port_;
  const std::string admin_address_;
  bool shut_down_ = false;
};

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_SERVER_HOST_H_
