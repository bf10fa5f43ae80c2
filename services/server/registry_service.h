// herbtrace.v1.Registry: parties, keys, planting bases and the herb catalog, read from the
// registry the domain rules derive from the log (domain::StateReader). Read-only; on the writer
// and on reader replicas alike.
#ifndef HERBTRACE_SERVICES_SERVER_REGISTRY_SERVICE_H_
#define HERBTRACE_SERVICES_SERVER_REGISTRY_SERVICE_H_

#include <memory>

#include "herbtrace/v1/registry.grpc.pb.h"
#include "services/server/executor.h"
#include "services/server/log_source.h"

namespace herbtrace::server {

// REQUIRES: source and executor outlive the service.
std::unique_ptr<v1::Registry::CallbackService> NewRegistryService(LogSource& source,
                                                                  Executor& executor);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_REGISTRY_SERVICE_H_
