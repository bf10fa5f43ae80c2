#include "services/cli/trace_code.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/domain/identifiers.h"

namespace herbtrace::cli {
namespace {

// A run of ASCII digits as a number; false for anything else (SimpleAtoi also takes signs and
// spaces).
bool ParseDigits(absl::string_view text, int& value) {
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return !text.empty() && absl::SimpleAtoi(text, &value);
}

}  // namespace

absl::StatusOr<std::string> MakeBatchCode(int node_type, absl::string_view party_id,
                                          const v1::Date& date, int sequence) {
  if (node_type < 1 || node_type > 9) {
    return absl::InvalidArgumentError(absl::StrCat("node type ", node_type, " is not 1..9"));
  }
  if (absl::Status s = domain::ValidatePartyId(party_id, "party_id"); !s.ok()) return s;
  if (absl::Status s = domain::ValidateDate(date, "date"); !s.ok()) return s;
  if (sequence < 1 || sequence > 999) {
    return absl::InvalidArgumentError(absl::StrCat("batch sequence ", sequence, " is not 1..999"));
  }
  const std::string body = absl::StrFormat("%d%s%02d%02d%02d%03d", node_type, party_id,
                                           date.year() % 100, date.month(), date.day(), sequence);
  return absl::StrCat(body, std::string(1, domain::TraceCheckDigit(body)));
}

absl::StatusOr<v1::Date> ParseDate(absl::string_view text, absl::string_view field) {
  int year = 0, month = 0, day = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
      !ParseDigits(text.substr(0, 4), year) || !ParseDigits(text.substr(5, 2), month) ||
      !ParseDigits(text.substr(8, 2), day)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text, "\" is not a date YYYY-MM-DD"));
  }
  v1::Date out;
  out.set_year(year);
  out.set_month(month);
  out.set_day(day);
  if (absl::Status s = domain::ValidateDate(out, field); !s.ok()) return s;
  return out;
}

}  // namespace herbtrace::cli
