#include "services/cli/client.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/domain/file_io.h"

namespace herbtrace::cli {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view flag) {
  auto pem = domain::ReadFileToString(path);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": cannot read ", path));
  }
  return pem;
}

}  // namespace

bool IsLoopbackTarget(absl::string_view target) {
  absl::string_view host = target;
  if (absl::StartsWith(host, "unix:") || absl::StartsWith(host, "unix-abstract:")) return true;
  absl::ConsumePrefix(&host, "dns:///");
  absl::ConsumePrefix(&host, "ipv4:");
  absl::ConsumePrefix(&host, "ipv6:");
  if (absl::ConsumePrefix(&host, "[")) {
    const size_t end = host.find(']');
    return end != absl::string_view::npos && host.substr(0, end) == "::1";
  }
  host = host.substr(0, host.rfind(':'));
  return host == "localhost" || absl::StartsWith(host, "127.");
}

absl::StatusOr<std::unique_ptr<Client>> Client::Create(const ClientOptions& options) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls_ca.empty()) {
    if (!IsLoopbackTarget(options.server) && !options.allow_plaintext) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--server ", options.server,
          " is not a loopback address: give --tls_ca (and --tls_cert, --tls_key for mutual TLS)"));
    }
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    auto ca = ReadPem(options.tls_ca, "tls_ca");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
    if (options.tls_cert.empty() != options.tls_key.empty()) {
      return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
    }
    if (!options.tls_cert.empty()) {
      auto cert = ReadPem(options.tls_cert, "tls_cert");
      if (!cert.ok()) return cert.status();
      auto key = ReadPem(options.tls_key, "tls_key");
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  // Provenance with proofs can be large; the server bounds what it sends.
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(options.server, credentials, args);
  return std::unique_ptr<Client>(new Client(options, std::move(channel)));
}

Client::Client(ClientOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      capture_(v1::Capture::NewStub(channel_)),
      registry_(v1::Registry::NewStub(channel_)),
      trace_(v1::Trace::NewStub(channel_)),
      recall_(v1::Recall::NewStub(channel_)),
      ledger_(v1::Ledger::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> Client::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
  return context;
}

absl::Status FromGrpc(const grpc::Status& status, absl::string_view rpc, absl::string_view target) {
  if (status.ok()) return absl::OkStatus();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  if (code == absl::StatusCode::kUnavailable) {
    // Both a server that cannot be reached and one whose disk is failing answer UNAVAILABLE;
    // either way the same command (same event ids) may be retried later.
    return absl::UnavailableError(absl::StrCat(rpc, ": the server at ", target,
                                               " is unavailable, retry later: ",
                                               status.error_message()));
  }
  if (code == absl::StatusCode::kDeadlineExceeded) {
    return absl::DeadlineExceededError(
        absl::StrCat(rpc, ": no answer from ", target, " within the deadline (--deadline)"));
  }
  return absl::Status(code, absl::StrCat(rpc, ": ", status.error_message()));
}

}  // namespace herbtrace::cli
