#include "services/cli/trace_code.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace herbtrace::cli {
namespace {

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

char TraceCheckDigit(absl::string_view body) {
  int sum = 0;
  int weight = 3;
  for (size_t i = body.size(); i > 0; --i) {
    sum += (body[i - 1] - '0') * weight;
    weight = weight == 3 ? 1 : 3;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

absl::Status ValidateTraceCode(absl::string_view code, absl::string_view field) {
  if (code.size() != 25 && code.size() != 28 && code.size() != 35) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", code, "\" has ", code.size(),
                     " characters; a trace code has 25, 28 or 35 digits"));
  }
  if (!AllDigits(code)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": \"", code, "\" is not all digits"));
  }
  const char expected = TraceCheckDigit(code.substr(0, code.size() - 1));
  if (code.back() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": \"", code, "\" has check digit ",
                                                   std::string(1, code.back()), ", expected ",
                                                   std::string(1, expected)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> BatchIdOfCode(absl::string_view code, absl::string_view field) {
  if (auto s = ValidateTraceCode(code, field); !s.ok()) return s;
  if (code.size() == 25) return std::string(code);
  const absl::string_view body = code.substr(0, 24);
  return absl::StrCat(body, std::string(1, TraceCheckDigit(body)));
}

absl::StatusOr<std::string> MakeBatchCode(int node_type, absl::string_view party_id,
                                          const v1::Date& date, int sequence) {
  if (node_type < 1 || node_type > 9) {
    return absl::InvalidArgumentError(absl::StrCat("node type ", node_type, " is not 1..9"));
  }
  if (party_id.size() != 14 || !AllDigits(party_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("party_id: \"", party_id, "\" is not 14 digits"));
  }
  if (date.year() < 2000 || date.year() > 2099) {
    return absl::InvalidArgumentError(
        absl::StrCat("date: year ", date.year(), " is not 2000..2099"));
  }
  if (sequence < 1 || sequence > 999) {
    return absl::InvalidArgumentError(absl::StrCat("batch sequence ", sequence, " is not 1..999"));
  }
  const std::string body = absl::StrFormat("%d%s%02d%02d%02d%03d", node_type, party_id,
                                           date.year() % 100, date.month(), date.day(), sequence);
  return absl::StrCat(body, std::string(1, TraceCheckDigit(body)));
}

v1::Date ChinaDate(absl::Time t) {
  const absl::CivilDay day = absl::ToCivilDay(t, absl::FixedTimeZone(8 * 60 * 60));
  v1::Date out;
  out.set_year(static_cast<int32_t>(day.year()));
  out.set_month(day.month());
  out.set_day(day.day());
  return out;
}

absl::StatusOr<v1::Date> ParseDate(absl::string_view text, absl::string_view field) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text, "\" is not a date YYYY-MM-DD"));
  };
  int year = 0, month = 0, day = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
      !absl::SimpleAtoi(text.substr(0, 4), &year) || !absl::SimpleAtoi(text.substr(5, 2), &month) ||
      !absl::SimpleAtoi(text.substr(8, 2), &day) || !AllDigits(text.substr(0, 4)) ||
      !AllDigits(text.substr(5, 2)) || !AllDigits(text.substr(8, 2))) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return bad();
  v1::Date out;
  out.set_year(year);
  out.set_month(month);
  out.set_day(day);
  return out;
}

std::string FormatDate(const v1::Date& date) {
  if (date.year() == 0) return "";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

}  // namespace herbtrace::cli
