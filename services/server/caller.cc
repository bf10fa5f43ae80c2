#include "services/server/caller.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "crypto/peer_certificate.h"
#include "grpc/grpc_security_constants.h"
#include "services/domain/identifiers.h"

namespace herbtrace::server {
namespace {

constexpr size_t kMaxCachedCertificates = 10'000;

std::string RoleWord(v1::PartyRole role) {
  const std::string& full = v1::PartyRole_Name(role);
  absl::string_view name = full;
  absl::ConsumePrefix(&name, "PARTY_ROLE_");
  return absl::StrReplaceAll(absl::AsciiStrToLower(name), {{"_", " "}});
}

}  // namespace

bool Caller::Has(v1::PartyRole role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::string Caller::Describe() const {
  if (host_admin) return "the host's administrative console";
  std::vector<std::string> words;
  for (v1::PartyRole role : roles) words.push_back(RoleWord(role));
  return absl::StrCat("party ", party_id, " (", absl::StrJoin(words, ", "), ")");
}

bool IsLoopbackPeer(absl::string_view peer) {
  if (absl::StartsWith(peer, "unix:") || absl::StartsWith(peer, "unix-abstract:")) return true;
  if (absl::ConsumePrefix(&peer, "ipv4:")) return absl::StartsWith(peer, "127.");
  if (absl::ConsumePrefix(&peer, "ipv6:")) {
    // gRPC writes "[::1]:port", percent-encoding the brackets in some versions.
    std::string host = absl::StrReplaceAll(peer, {{"%5B", "["}, {"%5D", "]"}});
    host = absl::AsciiStrToLower(host);
    return absl::StartsWith(host, "[::1]:") || absl::StartsWith(host, "[::ffff:127.");
  }
  return false;
}

absl::StatusOr<Caller> CallerIdentifier::Identify(const grpc::ServerContextBase& context) const {
  std::string pem;
  if (auto auth = context.auth_context(); auth != nullptr) {
    const auto certs = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
    if (!certs.empty()) pem.assign(certs.front().data(), certs.front().size());
  }
  return Identify(pem, context.peer());
}

absl::StatusOr<Caller> CallerIdentifier::Identify(absl::string_view pem,
                                                  absl::string_view peer) const {
  Caller caller;
  if (pem.empty()) {
    if (options_.plaintext_admin && (options_.plaintext_remote_admin || IsLoopbackPeer(peer))) {
      caller.host_admin = true;
      return caller;
    }
    return absl::UnauthenticatedError(absl::StrCat(
        "caller: a plaintext call from ", peer,
        " carries no party; this server admits only parties with a client certificate over "
        "TLS", options_.plaintext_admin ? " from there" : " (its plaintext console is off)"));
  }
  auto party_id = PartyIdOf(pem);
  if (!party_id.ok()) return party_id.status();
  auto party = state_.Party(*party_id);
  if (absl::IsNotFound(party.status())) {
    return absl::UnauthenticatedError(absl::StrCat(
        "client certificate: party ", *party_id, " is not registered on this log"));
  }
  if (!party.ok()) return party.status();
  if (party->status() != v1::PARTY_STATUS_ACTIVE) {
    return absl::PermissionDeniedError(absl::StrCat(
        "client certificate: party ", *party_id, " is ",
        party->status() == v1::PARTY_STATUS_SUSPENDED ? "suspended" : "not active",
        " in the registry (since entry ", party->updated_seq(), ")"));
  }
  caller.party_id = *std::move(party_id);
  for (int role : party->roles()) caller.roles.push_back(static_cast<v1::PartyRole>(role));
  return caller;
}

absl::StatusOr<std::string> CallerIdentifier::PartyIdOf(absl::string_view pem) const {
  const std::string key(pem);
  {
    absl::MutexLock lock(&mu_);
    if (auto it = party_of_pem_.find(key); it != party_of_pem_.end()) return it->second;
  }
  auto party_id = crypto::PartyIdOfCertificate(pem);
  if (!party_id.ok()) return party_id.status();
  if (auto s = domain::ValidatePartyId(*party_id, "client certificate party"); !s.ok()) {
    return absl::UnauthenticatedError(s.message());
  }
  absl::MutexLock lock(&mu_);
  if (party_of_pem_.size() >= kMaxCachedCertificates) party_of_pem_.clear();
  party_of_pem_.emplace(key, *party_id);
  return party_id;
}

}  // namespace herbtrace::server
