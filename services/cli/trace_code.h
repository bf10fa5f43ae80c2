// What herbctl adds to the identifier formats of services/domain/identifiers.h: building a new
// batch code offline (scanners and growers choose codes themselves) and reading dates typed on
// the command line. Checking and resolving scanned codes is domain::ValidateTraceCode and
// domain::BatchIdOfTraceCode.
#ifndef HERBTRACE_SERVICES_CLI_TRACE_CODE_H_
#define HERBTRACE_SERVICES_CLI_TRACE_CODE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "herbtrace/v1/common.pb.h"

namespace herbtrace::cli {

// A new batch code: node type ‖ party id ‖ YYMMDD ‖ sequence ‖ check digit. InvalidArgument
// unless node_type is 1..9, party_id a party id, the date a real date in 2000..2099, and
// sequence 1..999.
absl::StatusOr<std::string> MakeBatchCode(int node_type, absl::string_view party_id,
                                          const v1::Date& date, int sequence);

// "YYYY-MM-DD" naming a real date in 2000..2099. InvalidArgument naming `field` otherwise.
absl::StatusOr<v1::Date> ParseDate(absl::string_view text, absl::string_view field);

}  // namespace herbtrace::cli

#endif  // HERBTRACE_SERVICES_CLI_TRACE_CODE_H_
