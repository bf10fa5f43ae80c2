// Checks of the identifiers clients send to the read services, with the formats of
// proto/herbtrace/v1/ids.proto. A malformed identifier is INVALID_ARGUMENT naming the request
// field, so a typo on a scanner is told apart from an identifier the log does not know
// (NOT_FOUND).
#ifndef HERBTRACE_SERVICES_SERVER_IDENTIFIERS_H_
#define HERBTRACE_SERVICES_SERVER_IDENTIFIERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace herbtrace::server {

// GS1 mod-10 check digit of an all-digit body: weights 3, 1, 3, … from the rightmost digit.
// REQUIRES: body is digits only.
char Gs1CheckDigit(absl::string_view body);

// The 25-digit batch id a trace code names: a batch code itself, or the batch of a 28-digit bag
// or box code or a 35-digit pack code (their first 24 digits are the batch code without its
// check digit). InvalidArgument naming `field` for other lengths, non-digits or a wrong check
// digit.
absl::StatusOr<std::string> BatchIdFromTraceCode(absl::string_view code, absl::string_view field);

// Each returns InvalidArgument("<field>: ...") unless the value has the format of its kind.
absl::Status CheckPartyId(absl::string_view party_id, absl::string_view field);    // 14 digits
absl::Status CheckBaseId(absl::string_view base_id, absl::string_view field);      // 18 digits
absl::Status CheckKeyId(absl::string_view key_id, absl::string_view field);        // 16 hex
absl::Status CheckHerbCode(absl::string_view code, absl::string_view field);       // [A-Z][A-Z0-9]{1,31}
absl::Status CheckEventId(absl::string_view event_id, absl::string_view field);    // UUID text
// A prefix of a 6-digit region code: 0 to 6 digits.
absl::Status CheckRegionPrefix(absl::string_view prefix, absl::string_view field);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_IDENTIFIERS_H_
