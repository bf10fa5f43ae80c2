// herbtrace.v1.Trace: batch state, history with inclusion proofs, upstream lineage to every
// harvest (来源可知) and the downstream closure with current holders (去向可追).
//
// Lineage walks are iterative and bounded (TraceServiceOptions); a query beyond a bound is
// RESOURCE_EXHAUSTED saying which. Responses are also bounded in bytes, below what a default
// gRPC client accepts.
//
// Access (access_policy.h): GetBatch, GetHistory and GetUpstream for any registered party (a
// buyer checks provenance before buying); GetDownstream for regulators, the market operator and
// the parties that hold or held the batch; GetTradeTerms, the one read that opens a committed
// field, for the trade's seller and buyer and regulators.
#ifndef HERBTRACE_SERVICES_SERVER_TRACE_SERVICE_H_
#define HERBTRACE_SERVICES_SERVER_TRACE_SERVICE_H_

#include <cstddef>
#include <memory>

#include "herbtrace/v1/trace.grpc.pb.h"
#include "services/server/caller.h"
#include "services/server/executor.h"
#include "services/server/log_source.h"

namespace herbtrace::server {

struct TraceServiceOptions {
  // Lots and lineage links one GetUpstream or GetDownstream may cover.
  size_t max_lineage_lots = 10'000;
  size_t max_lineage_links = 50'000;
  // Entries one GetHistory, or one GetUpstream with proofs, may return.
  size_t max_entries = 10'000;
  // A GetHistory of at most this many entries is answered on the gRPC thread that received it
  // (unless it must wait for a checkpoint or a catch-up); a longer one, whose reads may take
  // milliseconds, on the executor.
  size_t max_entries_answered_here = 64;
  // Serialized size of one response; keep it under the clients' receive limit (4 MiB default).
  size_t max_response_bytes = (4 << 20) - (64 << 10);
  // Who the callers are (caller.h).
  CallerOptions callers;
};

// REQUIRES: source and executor outlive the service.
std::unique_ptr<v1::Trace::CallbackService> NewTraceService(LogSource& source, Executor& executor,
                                                            TraceServiceOptions options = {});

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_TRACE_SERVICE_H_
