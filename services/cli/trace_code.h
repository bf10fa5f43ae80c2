// Batch and package codes as ids.proto defines them, on the client: building a new batch code
// offline (scanners choose codes themselves), checking a scanned code's check digit, and
// resolving a 28- or 35-digit package code to its batch without asking anyone.
//
//   batch code (25)  = N ‖ company code (14) ‖ YYMMDD ‖ SSS ‖ K
//   package (28)     = batch code[0..24) ‖ PPP ‖ K        pack (35) = package[0..27) ‖ Q{7} ‖ K
//   K                = GS1 mod-10 over the digits before it, weights 3,1,3,… from the right
#ifndef HERBTRACE_SERVICES_CLI_TRACE_CODE_H_
#define HERBTRACE_SERVICES_CLI_TRACE_CODE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "herbtrace/v1/common.pb.h"

namespace herbtrace::cli {

// The check digit for `body`. REQUIRES: body is all ASCII digits.
char TraceCheckDigit(absl::string_view body);

// OK for a 25-, 28- or 35-digit code with a correct check digit; InvalidArgument naming `field`
// and what is wrong otherwise.
absl::Status ValidateTraceCode(absl::string_view code, absl::string_view field);

// The batch code a 25-, 28- or 35-digit code names (itself for a batch code).
absl::StatusOr<std::string> BatchIdOfCode(absl::string_view code, absl::string_view field);

// A new batch code. InvalidArgument unless node_type is 1..9, party_id 14 digits, the date in
// 2000..2099, and sequence 1..999.
absl::StatusOr<std::string> MakeBatchCode(int node_type, absl::string_view party_id,
                                          const v1::Date& date, int sequence);

// The civil date of `t` in China Standard Time (UTC+8), as batch codes and labels use it.
v1::Date ChinaDate(absl::Time t);
// "YYYY-MM-DD". InvalidArgument naming `field` for anything else or an impossible date.
absl::StatusOr<v1::Date> ParseDate(absl::string_view text, absl::string_view field);
std::string FormatDate(const v1::Date& date);

}  // namespace herbtrace::cli

#endif  // HERBTRACE_SERVICES_CLI_TRACE_CODE_H_
