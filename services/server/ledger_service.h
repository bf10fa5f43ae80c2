// herbtrace.v1.Ledger: checkpoints, inclusion and consistency proofs, raw entries, witness
// cosignatures and the full audit, over the writer's ledger or a reader replica.
//
// On a replica AddCosignature is FAILED_PRECONDITION (cosignatures are stored by the writer);
// everything else is served from the replica's copy, which catches up with the writer before
// answering for a tree size it has not seen yet.
//
// Access (access_policy.h): checkpoints and proofs for any registered party; GetEntries and
// Audit for regulators and the market operator; AddCosignature for regulators.
#ifndef HERBTRACE_SERVICES_SERVER_LEDGER_SERVICE_H_
#define HERBTRACE_SERVICES_SERVER_LEDGER_SERVICE_H_

#include <cstddef>
#include <memory>

#include "absl/time/time.h"
#include "herbtrace/v1/ledger.grpc.pb.h"
#include "services/server/caller.h"
#include "services/server/executor.h"
#include "services/server/log_source.h"
#include "storage/clock.h"

namespace herbtrace::server {

struct LedgerServiceOptions {
  // GetEntries: entries per streamed message (the proto's bound) and bytes per message (under
  // the 4 MiB a default gRPC client accepts).
  size_t max_entries_per_message = 256;
  size_t max_bytes_per_message = 1 << 20;
  // AddCosignature: how far a witness's timestamp may be ahead of the server clock.
  absl::Duration max_cosignature_skew = absl::Minutes(10);
  // Not owned; default storage::Clock::Real().
  const storage::Clock* clock = nullptr;
  // Who the callers are (caller.h).
  CallerOptions callers;
};

// REQUIRES: source, executor and audit_executor outlive the service. Audits run one at a time
// on `audit_executor` so a long audit does not hold up the other reads.
std::unique_ptr<v1::Ledger::CallbackService> NewLedgerService(LogSource& source,
                                                              Executor& executor,
                                                              Executor& audit_executor,
                                                              LedgerServiceOptions options = {});

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_LEDGER_SERVICE_H_
