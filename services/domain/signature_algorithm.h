// The one mapping between entry.proto's SignatureAlgorithm (what keys and signed events carry on
// the wire) and crypto::SignatureAlgorithm (what crypto/ signs and verifies with), for the
// capture layer, the domain rules, herbctl and the ledger tool. Thread-safe: pure functions.
#ifndef HERBTRACE_SERVICES_DOMAIN_SIGNATURE_ALGORITHM_H_
#define HERBTRACE_SERVICES_DOMAIN_SIGNATURE_ALGORITHM_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/signature.h"
#include "herbtrace/v1/entry.pb.h"

namespace herbtrace::domain {

v1::SignatureAlgorithm ToProtoAlgorithm(crypto::SignatureAlgorithm algorithm);

// InvalidArgument("<field>: unknown signature algorithm <number>") for UNSPECIFIED and for
// numbers entry.proto does not define.
absl::StatusOr<crypto::SignatureAlgorithm> FromProtoAlgorithm(v1::SignatureAlgorithm algorithm,
                                                              absl::string_view field);

}  // namespace herbtrace::domain

#endif  // HERBTRACE_SERVICES_DOMAIN_SIGNATURE_ALGORITHM_H_
