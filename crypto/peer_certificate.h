// The party a HerbTrace client certificate speaks for (deploy/make-certs.sh makes them): the
// party id in a subjectAltName URI "urn:herbtrace:party:<party_id>", or, in a certificate
// without such a URI, its subject commonName.
//
// Only the certificate's content is read here; that the certificate chains to the deployment's
// client CA is the TLS handshake's check, done before a call reaches a service.
#ifndef HERBTRACE_CRYPTO_PEER_CERTIFICATE_H_
#define HERBTRACE_CRYPTO_PEER_CERTIFICATE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace herbtrace::crypto {

inline constexpr absl::string_view kPartyUriPrefix = "urn:herbtrace:party:";

// The party id the PEM certificate names, not validated as an id (the caller does that).
// Unauthenticated, naming "client certificate", when the PEM does not parse, names no party,
// or names two: several different party URIs, or a party URI and a different commonName.
absl::StatusOr<std::string> PartyIdOfCertificate(absl::string_view pem);

}  // namespace herbtrace::crypto

#endif  // HERBTRACE_CRYPTO_PEER_CERTIFICATE_H_
