// herbtrace.v1.Registry: parties, keys, planting bases and the herb catalog, read from the
// registry the domain rules derive from the log (domain::StateReader). Read-only; on the writer
// and on reader replicas alike. Every RPC is for any registered party (access_policy.h).
#ifndef HERBTRACE_SERVICES_SERVER_REGISTRY_SERVICE_H_
#define HERBTRACE_SERVICES_SERVER_REGISTRY_SERVICE_H_

#include <memory>

#include "herbtrace/v1/registry.grpc.pb.h"
#include "services/server/caller.h"
#include "services/server/executor.h"
#include "services/server/log_source.h"

namespace herbtrace::server {

struct RegistryServiceOptions {
  // Who the callers are (caller.h).
  CallerOptions callers;
};

// REQUIRES: source and executor outlive the service.
std::unique_ptr<v1::Registry::CallbackService> NewRegistryService(
    LogSource& source, Executor& executor, RegistryServiceOptions options = {});

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_REGISTRY_SERVICE_H_
