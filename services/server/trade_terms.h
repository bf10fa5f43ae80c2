// A trade's terms for Trace.GetTradeTerms: the Trade event's parties and its price, opened from
// the confidential family where the domain rules stored the opening that came with the event.
// Prices are for the trade's seller and buyer and for regulators only (access_policy.h).
#ifndef HERBTRACE_SERVICES_SERVER_TRADE_TERMS_H_
#define HERBTRACE_SERVICES_SERVER_TRADE_TERMS_H_

#include <string>

#include "absl/status/statusor.h"
#include "herbtrace/v1/trace.pb.h"
#include "services/server/caller.h"
#include "services/server/log_source.h"

namespace herbtrace::server {

// InvalidArgument("trade_event_id: ...") for a malformed id or an event that is not a Trade;
// NotFound when the log has no such event; PermissionDenied("trade_event_id: ...") for a caller
// that is neither party of the trade nor a regulator (nor the host's console); DataLoss when the
// opening the rules stored is missing or does not match the commitment.
absl::StatusOr<v1::TradeTerms> ReadTradeTerms(LogSource& source, const std::string& trade_event_id,
                                              const Caller& caller);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_TRADE_TERMS_H_
