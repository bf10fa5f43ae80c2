// herbtrace.v1.Recall: recalls with their scope (fixed at the IssueRecall entry), the
// acknowledgements since, and the scope as a sortable CSV streamed in chunks.
#ifndef HERBTRACE_SERVICES_SERVER_RECALL_SERVICE_H_
#define HERBTRACE_SERVICES_SERVER_RECALL_SERVICE_H_

#include <cstddef>
#include <memory>

#include "herbtrace/v1/recall.grpc.pb.h"
#include "services/server/executor.h"
#include "services/server/log_source.h"

namespace herbtrace::server {

struct RecallServiceOptions {
  // Bytes of CSV per streamed chunk.
  size_t csv_chunk_bytes = 64 << 10;
};

// REQUIRES: source and executor outlive the service.
std::unique_ptr<v1::Recall::CallbackService> NewRecallService(LogSource& source,
                                                              Executor& executor,
                                                              RecallServiceOptions options = {});

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_RECALL_SERVICE_H_
