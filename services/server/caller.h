// Who is calling: the party of a verified client certificate, looked up in the registry, or the
// host's administrative console (a plaintext call on the loopback listener).
//
// Identity comes from the TLS handshake only: the server requires and verifies a client
// certificate on every TLS listener (server_host.h), and the party id is read from the verified
// certificate (crypto/peer_certificate.h). A party unknown to the registry is UNAUTHENTICATED;
// a suspended one PERMISSION_DENIED — its certificate stops working the moment the registrar's
// RegisterParty is in the log, without re-issuing or revoking certificates.
//
// A plaintext call carries no identity. Whoever reaches the loopback listener is on the server
// host, which holds the database files and the log key anyway, so such a call is the host's
// administrative console and may read everything (CallerOptions::plaintext_admin, on by
// default; `herbtrace-server --plaintext_admin=false` turns it off, and then every plaintext
// call is UNAUTHENTICATED). Events submitted from the console are still checked as always:
// signature, registered key, the signer's roles.
//
// Thread-safe.
#ifndef HERBTRACE_SERVICES_SERVER_CALLER_H_
#define HERBTRACE_SERVICES_SERVER_CALLER_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "herbtrace/v1/common.pb.h"
#include "services/domain/state_reader.h"

namespace herbtrace::server {

struct Caller {
  // The host's administrative console: a plaintext call allowed by CallerOptions.
  bool host_admin = false;
  // A party's call: its id (from the certificate) and its roles (from the registry, now).
  std::string party_id;
  std::vector<v1::PartyRole> roles;

  bool Has(v1::PartyRole role) const;
  // "party 13068300000005 (trader)" or "the host's administrative console", for messages.
  std::string Describe() const;
};

struct CallerOptions {
  // Plaintext calls from loopback or a Unix socket are the host's administrative console.
  bool plaintext_admin = true;
  // Plaintext calls from any address are the console too: set only with a listener opened by
  // allow_insecure_remote, on a network trusted like the host itself.
  bool plaintext_remote_admin = false;
};

class CallerIdentifier {
 public:
  // REQUIRES: state outlives the identifier.
  CallerIdentifier(const domain::StateReader& state, CallerOptions options)
      : state_(state), options_(options) {}

  // The caller of `context`'s call. UNAUTHENTICATED: a plaintext call the options do not admit,
  // a certificate naming no party or an unregistered one. PERMISSION_DENIED: a suspended party.
  absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& context) const;

  // The same from a call's parts: the PEM of the verified peer certificate (empty for a
  // plaintext call) and the peer address as gRPC reports it ("ipv4:127.0.0.1:5000",
  // "ipv6:[::1]:5000", "unix:/run/herbtrace.sock").
  absl::StatusOr<Caller> Identify(absl::string_view peer_certificate_pem,
                                  absl::string_view peer_address) const;

  const CallerOptions& options() const { return options_; }

 private:
  absl::StatusOr<std::string> PartyIdOf(absl::string_view pem) const;

  const domain::StateReader& state_;
  const CallerOptions options_;
  // Party id by certificate PEM: a connection's every call presents the same certificate, and
  // parsing it each time would be wasted. The registry is read on every call (suspensions take
  // effect at once). Bounded: cleared when full.
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, std::string> party_of_pem_ ABSL_GUARDED_BY(mu_);
};

// True for a peer address on loopback (127.0.0.0/8, ::1, ::ffff:127.x) or a Unix socket.
bool IsLoopbackPeer(absl::string_view peer_address);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_CALLER_H_
