// Whether a party holds or held a batch, for the reads that only such parties may make
// (Trace.GetDownstream; access_policy.h).
#ifndef HERBTRACE_SERVICES_SERVER_BATCH_CUSTODY_H_
#define HERBTRACE_SERVICES_SERVER_BATCH_CUSTODY_H_

#include <string>

#include "absl/status/statusor.h"
#include "herbtrace/v1/trace.pb.h"
#include "services/server/log_source.h"

namespace herbtrace::server {

// True when `party_id` is the batch's holder or warehouse now, or was at some entry of its
// history: the party that created it (harvest, process, split, merge, transform), a party that
// received it, a warehouse it was stored in. A lab that tested it or a buyer it was only shipped
// to and never received by did not hold it. `state` is the batch's current state.
absl::StatusOr<bool> HoldsOrHeld(LogSource& source, const v1::BatchState& state,
                                 const std::string& party_id);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_BATCH_CUSTODY_H_
