// The one mapping between absl::Status (inside the server) and grpc::Status (on the wire).
// Both use the canonical google.rpc codes with the same numbers, so a code crosses unchanged in
// either direction and the message is kept byte for byte. Status payloads are not carried.
#ifndef HERBTRACE_SERVICES_SERVER_STATUS_H_
#define HERBTRACE_SERVICES_SERVER_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace herbtrace::server {

// At the service edge: every reactor finishes with ToGrpcStatus of its absl::Status.
grpc::Status ToGrpcStatus(const absl::Status& status);

// For clients (herbctl, tests, the gateway): a call's grpc::Status as an absl::Status.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_STATUS_H_
