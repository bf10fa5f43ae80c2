#include "services/server/server_host.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"

namespace herbtrace::server {
namespace {

struct HostPort {
  std::string host;  // without brackets
  std::string port;
};

absl::StatusOr<HostPort> SplitHostPort(absl::string_view address) {
  HostPort out;
  if (absl::StartsWith(address, "[")) {
    const size_t close = address.find(']');
    if (close == absl::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("listen: \"", address, "\" is not [ipv6]:port"));
    }
    out.host = std::string(address.substr(1, close - 1));
    out.port = std::string(address.substr(close + 2));
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos || address.find(':') != colon) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listen: \"", address, "\" is not host:port (write IPv6 addresses as [::1]:port)"));
    }
    out.host = std::string(address.substr(0, colon));
    out.port = std::string(address.substr(colon + 1));
  }
  int port = 0;
  if (out.port.empty() || !absl::SimpleAtoi(out.port, &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen: \"", address, "\" has no valid port (0..65535)"));
  }
  return out;
}

bool IsLoopback(const std::string& host) {
  const std::string lower = absl::AsciiStrToLower(host);
  if (lower == "localhost" || lower == "::1") return true;
  // 127.0.0.0/8: four decimal octets, the first 127.
  if (!absl::StartsWith(lower, "127.")) return false;
  int dots = 0;
  for (char c : lower) {
    if (c == '.') {
      ++dots;
    } else if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return dots == 3;
}

int Millis(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

// Where clients connect to a listener bound as `listen`, on the port it got (0 for a socket,
// whose address is `listen` itself). REQUIRES: `listen` passed SplitHostPort or is a socket.
std::string ClientAddress(const std::string& listen, int& port) {
  if (absl::StartsWith(listen, "unix")) {
    port = 0;
    return listen;
  }
  auto host_port = SplitHostPort(listen);
  const bool v6 = host_port->host.find(':') != std::string::npos;
  return v6 ? absl::StrCat("[", host_port->host, "]:", port)
            : absl::StrCat(host_port->host, ":", port);
}

}  // namespace

bool IsLoopbackListenAddress(absl::string_view address) {
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:")) {
    return true;
  }
  auto host_port = SplitHostPort(address);
  return host_port.ok() && IsLoopback(host_port->host);
}

absl::Status CheckListenAddress(absl::string_view address, bool allow_insecure_remote) {
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:")) {
    return absl::OkStatus();
  }
  auto host_port = SplitHostPort(address);
  if (!host_port.ok()) return host_port.status();
  if (IsLoopback(host_port->host) || allow_insecure_remote) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "listen: \"", address,
      "\" is not a loopback address, and no TLS was given: every call, and every opening of "
      "a confidential field, would cross the network in clear. Give --tls_cert, --tls_key and "
      "--client_ca (deploy/make-certs.sh makes them), listen on 127.0.0.1, or pass "
      "--allow_insecure_remote on a network you trust like this host"));
}

absl::StatusOr<std::unique_ptr<ServerHost>> ServerHost::Start(
    const ServerHostOptions& options, const std::vector<grpc::Service*>& services) {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (options.tls.has_value()) {
    // The address must still be host:port (or a socket).
    if (auto s = CheckListenAddress(options.listen, true); !s.ok()) return s;
    const ServerHostOptions::Tls& tls = *options.tls;
    if (tls.cert_chain_pem.empty() || tls.private_key_pem.empty() || tls.client_ca_pem.empty()) {
      return absl::InvalidArgumentError(
          "tls: the server certificate, its key and the client CA are all required");
    }
    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = tls.client_ca_pem;
    ssl.pem_key_cert_pairs.push_back({tls.private_key_pem, tls.cert_chain_pem});
    credentials = grpc::SslServerCredentials(ssl);
  } else {
    if (auto s = CheckListenAddress(options.listen, options.allow_insecure_remote); !s.ok()) {
      return s;
    }
    credentials = grpc::InsecureServerCredentials();
  }
  if (!options.admin_listen.empty()) {
    if (!IsLoopbackListenAddress(options.admin_listen)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "admin_listen: \"", options.admin_listen,
          "\" is not a loopback address or a Unix socket; the plaintext console is for this "
          "host only"));
    }
  }
  // Both are process-wide switches read when a server is built.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, credentials, &port);
  int admin_port = 0;
  if (!options.admin_listen.empty()) {
    builder.AddListeningPort(options.admin_listen, grpc::InsecureServerCredentials(),
                             &admin_port);
  }
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, Millis(options.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Millis(options.keepalive_timeout));
  // Pings on idle connections too: a scanner between uploads is exactly the idle connection
  // whose disappearance must be noticed.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             Millis(options.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, Millis(options.max_connection_idle));
  // Transport buffers of every connection together: beyond this gRPC shrinks the flow-control
  // windows it grants, so clients that send faster than their calls consume (a stream that
  // never reads its responses is held by Capture, but its requests would still pile up in the
  // window granted before) wait on the network instead of in this process's memory.
  grpc::ResourceQuota quota("herbtrace-server");
  quota.Resize(options.max_transport_memory_bytes);
  // Server reflection runs on gRPC's synchronous API, one thread per call for as long as the
  // call lasts; calls beyond the limit wait for a free thread instead of each starting one.
  // HerbTrace's services use the callback API and take none of these threads.
  quota.SetMaxThreads(options.max_sync_threads);
  builder.SetResourceQuota(quota);
  for (grpc::Service* service : services) builder.RegisterService(service);

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "listen: cannot serve on \"", options.listen, "\" (address in use, or not local?",
        options.tls.has_value() ? " or a certificate or key that does not parse?" : "", ")"));
  }
  const std::string address = ClientAddress(options.listen, port);
  const std::string admin_address =
      options.admin_listen.empty() ? std::string() : ClientAddress(options.admin_listen, admin_port);
  return std::unique_ptr<ServerHost>(new ServerHost(std::move(server), port, address,
                                                    options.tls.has_value(), admin_port,
                                                    admin_address));
}

ServerHost::~ServerHost() { Shutdown(absl::ZeroDuration()); }

void ServerHost::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (auto* health = server_->GetHealthCheckService(); health != nullptr) {
    health->Shutdown();
  }
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

}  // namespace herbtrace::server
