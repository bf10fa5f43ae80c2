// Identifier formats of ids.proto, the one definition the server's rules, its read services and
// herbctl share: batch and package codes (GS1 mod-10 check digit), party and base ids, region
// codes, unified social credit codes (GB 32100-2015 check character), resident identity numbers
// (GB 11643-1999 check character), key ids, event ids (RFC 9562 UUID text), herb codes, analyte
// codes and table versions.
//
//   batch code (25)  = N ‖ company code (14) ‖ YYMMDD ‖ SSS ‖ K
//   package (28)     = batch code[0..24) ‖ PPP ‖ K        pack (35) = package[0..27) ‖ Q{7} ‖ K
//   K                = GS1 mod-10 over the digits before it, weights 3,1,3,… from the right
//
// Every Validate* returns OK or InvalidArgument("<field>: <what is wrong>"), so callers pass the
// field path of the value they check. A value quoted in a message is cut to its first 64 bytes,
// so a hostile megabyte-long id does not end up in a log line. Thread-safe: pure functions.
#ifndef HERBTRACE_SERVICES_DOMAIN_IDENTIFIERS_H_
#define HERBTRACE_SERVICES_DOMAIN_IDENTIFIERS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "herbtrace/v1/common.pb.h"

namespace herbtrace::domain {

inline constexpr size_t kBatchIdLength = 25;
inline constexpr size_t kPackageCodeLength = 28;
inline constexpr size_t kPackCodeLength = 35;
inline constexpr size_t kPartyIdLength = 14;
inline constexpr size_t kBaseIdLength = 18;
inline constexpr size_t kRegionCodeLength = 6;

// GS1 mod-10 check digit over `body` (weights 3, 1, 3, … from the right).
// REQUIRES: body is all ASCII digits.
char TraceCheckDigit(absl::string_view body);

// A 25-digit batch code with a valid node type digit (a NodeType value), date, sequence
// 001..999 and check digit.
absl::Status ValidateBatchId(absl::string_view batch_id, absl::string_view field);

// The parts of a valid batch code.
struct BatchIdParts {
  int node_type = 0;
  std::string company;  // 14 digits: the creating party's id
  v1::Date date;        // creation date, China Standard Time
  int sequence = 0;
};
// REQUIRES: ValidateBatchId(batch_id) is OK.
BatchIdParts ParseBatchId(absl::string_view batch_id);

// A 25-digit batch code, 28-digit bag or box code or 35-digit pack code, all digits, ending in
// the check digit over the digits before it. Only the form: the batch code inside a package code
// is not taken apart (ValidateBatchId does that).
absl::Status ValidateTraceCode(absl::string_view code, absl::string_view field);
// The batch code a valid trace code names: itself for a batch code; for a package or pack code,
// its first 24 digits and their check digit. InvalidArgument as ValidateTraceCode otherwise.
absl::StatusOr<std::string> BatchIdOfTraceCode(absl::string_view code, absl::string_view field);

absl::Status ValidatePartyId(absl::string_view party_id, absl::string_view field);
absl::Status ValidateRegionCode(absl::string_view region_code, absl::string_view field);
// A prefix of a region code, for searches: 0 to 6 digits (empty matches every region).
absl::Status ValidateRegionCodePrefix(absl::string_view prefix, absl::string_view field);
// 18 digits: owner party id ‖ serial 0001..9999.
absl::Status ValidateBaseId(absl::string_view base_id, absl::string_view field);

// The GB 32100-2015 check character for the first 17 characters of a USCC, or nullopt when one
// of them is outside 0-9 A-H J-N P-R T-U W-Y.
std::optional<char> UsccCheckCharacter(absl::string_view first17);
absl::Status ValidateUscc(absl::string_view uscc, absl::string_view field);

// 18-character resident identity number: 17 digits and an ISO 7064 MOD 11-2 check character
// (digit or upper-case 'X'), with a plausible birth date.
absl::Status ValidateResidentId(absl::string_view id, absl::string_view field);

// 16 lowercase hex characters.
absl::Status ValidateKeyId(absl::string_view key_id, absl::string_view field);

// Lowercase hyphenated UUID text, version 4 or 7, RFC 9562 variant.
absl::Status ValidateEventId(absl::string_view event_id, absl::string_view field);

// [A-Z][A-Z0-9]{1,31}.
absl::Status ValidateHerbCode(absl::string_view code, absl::string_view field);
// [a-z0-9_]{1,64}.
absl::Status ValidateAnalyteCode(absl::string_view code, absl::string_view field);
// [A-Za-z0-9._-]{1,64}: limits and catalog versions.
absl::Status ValidateVersion(absl::string_view version, absl::string_view field);

// A civil date in 2000..2099 that exists.
absl::Status ValidateDate(const v1::Date& date, absl::string_view field);
// The civil date of `t` in China Standard Time (UTC+8).
v1::Date ChinaDate(absl::Time t);
// Negative, zero, positive like a three-way comparison.
int CompareDates(const v1::Date& a, const v1::Date& b);
std::string FormatDate(const v1::Date& date);

}  // namespace herbtrace::domain

#endif  // HERBTRACE_SERVICES_DOMAIN_IDENTIFIERS_H_
