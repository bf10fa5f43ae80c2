// herbtrace.v1.Recall: recalls with their scope (fixed at the IssueRecall entry), the
// acknowledgements since, and the scope as a sortable CSV streamed in chunks.
//
// Access (access_policy.h): regulators and the market operator see every recall in full and
// export it. Another party sees a recall only when its scope names a lot the party holds, held
// at the recall or acknowledged, and then only those lots (and its own holder line); its
// ListRecalls lists only such recalls. Everything else is PERMISSION_DENIED.
#ifndef HERBTRACE_SERVICES_SERVER_RECALL_SERVICE_H_
#define HERBTRACE_SERVICES_SERVER_RECALL_SERVICE_H_

#include <cstddef>
#include <memory>

#include "herbtrace/v1/recall.grpc.pb.h"
#include "services/server/caller.h"
#include "services/server/executor.h"
#include "services/server/log_source.h"

namespace herbtrace::server {

struct RecallServiceOptions {
  // Bytes of CSV per streamed chunk.
  size_t csv_chunk_bytes = 64 << 10;
  // Who the callers are (caller.h).
  CallerOptions callers;
};

// REQUIRES: source and executor outlive the service.
std::unique_ptr<v1::Recall::CallbackService> NewRecallService(LogSource& source,
                                                              Executor& executor,
                                                              RecallServiceOptions options = {});

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_RECALL_SERVICE_H_
