#include "services/domain/identifiers.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"

namespace herbtrace::domain {
namespace {

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int DigitsValue(absl::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// `value` in single quotes, cut to 64 bytes so a hostile long id does not fill a log line.
std::string Quoted(absl::string_view value) {
  constexpr size_t kMax = 64;
  if (value.size() <= kMax) return absl::StrCat("'", value, "'");
  return absl::StrCat("'", value.substr(0, kMax), "…' (", value.size(), " bytes)");
}

bool IsLowerHex(char c) {
  return absl::ascii_isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
}

// GB 32100-2015 character set in value order: 0-9 → 0-9, then the letters without I O S V Z.
constexpr absl::string_view kUsccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";

int UsccValue(char c) {
  const size_t pos = kUsccAlphabet.find(c);
  return pos == absl::string_view::npos ? -1 : static_cast<int>(pos);
}

bool IsValidNodeType(int digit) { return (digit >= 1 && digit <= 5) || digit == 9; }

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

absl::Status ValidateBatchId(absl::string_view batch_id, absl::string_view field) {
  if (batch_id.empty()) return Invalid(field, "required");
  if (batch_id.size() != kBatchIdLength || !AllDigits(batch_id)) {
    return Invalid(field, absl::StrCat(Quoted(batch_id), " is not a batch code (25 digits)"));
  }
  const char expected = TraceCheckDigit(batch_id.substr(0, kBatchIdLength - 1));
  if (batch_id.back() != expected) {
    return Invalid(field, absl::StrCat("batch code ", batch_id, " has check digit ",
                                       batch_id.substr(kBatchIdLength - 1), ", expected ",
                                       absl::string_view(&expected, 1)));
  }
  if (!IsValidNodeType(batch_id[0] - '0')) {
    return Invalid(field, absl::StrCat("batch code ", batch_id, " has node type ",
                                       batch_id.substr(0, 1), ", not a NodeType"));
  }
  v1::Date date;
  date.set_year(2000 + DigitsValue(batch_id.substr(15, 2)));
  date.set_month(DigitsValue(batch_id.substr(17, 2)));
  date.set_day(DigitsValue(batch_id.substr(19, 2)));
  if (!ValidateDate(date, field).ok()) {
    return Invalid(field, absl::StrCat("batch code ", batch_id, " has an impossible date ",
                                       batch_id.substr(15, 6)));
  }
  if (DigitsValue(batch_id.substr(21, 3)) == 0) {
    return Invalid(field, absl::StrCat("batch code ", batch_id, " has sequence 000"));
  }
  return absl::OkStatus();
}

BatchIdParts ParseBatchId(absl::string_view batch_id) {
  BatchIdParts parts;
  parts.node_type = batch_id[0] - '0';
  parts.company = std::string(batch_id.substr(1, kPartyIdLength));
  parts.date.set_year(2000 + DigitsValue(batch_id.substr(15, 2)));
  parts.date.set_month(DigitsValue(batch_id.substr(17, 2)));
  parts.date.set_day(DigitsValue(batch_id.substr(19, 2)));
  parts.sequence = DigitsValue(batch_id.substr(21, 3));
  return parts;
}

absl::Status ValidateTraceCode(absl::string_view code, absl::string_view field) {
  if (code.empty()) return Invalid(field, "required");
  if (!AllDigits(code)) {
    return Invalid(field, absl::StrCat(Quoted(code), " has characters other than digits"));
  }
  if (code.size() != kBatchIdLength && code.size() != kPackageCodeLength &&
      code.size() != kPackCodeLength) {
    return Invalid(field, absl::StrCat(Quoted(code), " has ", code.size(),
                                       " digits; a trace code has 25 (batch), 28 (bag or box) "
                                       "or 35 (pack)"));
  }
  const char expected = TraceCheckDigit(code.substr(0, code.size() - 1));
  if (code.back() != expected) {
    return Invalid(field, absl::StrCat("trace code ", code, " has check digit ",
                                       code.substr(code.size() - 1), ", expected ",
                                       absl::string_view(&expected, 1)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> BatchIdOfTraceCode(absl::string_view code, absl::string_view field) {
  if (absl::Status s = ValidateTraceCode(code, field); !s.ok()) return s;
  if (code.size() == kBatchIdLength) return std::string(code);
  std::string batch_id(code.substr(0, kBatchIdLength - 1));
  batch_id.push_back(TraceCheckDigit(batch_id));
  return batch_id;
}

absl::Status ValidatePartyId(absl::string_view party_id, absl::string_view field) {
  if (party_id.empty()) return Invalid(field, "required");
  if (party_id.size() != kPartyIdLength || !AllDigits(party_id)) {
    return Invalid(field, absl::StrCat(Quoted(party_id), " is not a party id (14 digits)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRegionCode(absl::string_view region_code, absl::string_view field) {
  if (region_code.size() != kRegionCodeLength || !AllDigits(region_code)) {
    return Invalid(field, absl::StrCat(Quoted(region_code), " is not a region code (6 digits)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRegionCodePrefix(absl::string_view prefix, absl::string_view field) {
  if (prefix.size() > kRegionCodeLength || !AllDigits(prefix)) {
    return Invalid(field,
                   absl::StrCat(Quoted(prefix), " is not a region code prefix (up to 6 digits)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateBaseId(absl::string_view base_id, absl::string_view field) {
  if (base_id.empty()) return Invalid(field, "required");
  if (base_id.size() != kBaseIdLength || !AllDigits(base_id)) {
    return Invalid(field, absl::StrCat(Quoted(base_id), " is not a base id (18 digits)"));
  }
  if (DigitsValue(base_id.substr(kPartyIdLength)) == 0) {
    return Invalid(field, absl::StrCat("base id ", base_id, " has serial 0000"));
  }
  return absl::OkStatus();
}

std::optional<char> UsccCheckCharacter(absl::string_view first17) {
  if (first17.size() != 17) return std::nullopt;
  int sum = 0;
  int weight = 1;
  for (char c : first17) {
    const int v = UsccValue(c);
    if (v < 0) return std::nullopt;
    sum += v * weight;
    weight = weight * 3 % 31;
  }
  const int check = (31 - sum % 31) % 31;
  return kUsccAlphabet[check];
}

absl::Status ValidateUscc(absl::string_view uscc, absl::string_view field) {
  if (uscc.size() != 18) {
    return Invalid(field, absl::StrCat(Quoted(uscc),
                                       " is not a unified social credit code (18 characters)"));
  }
  for (size_t i = 0; i < uscc.size(); ++i) {
    if (UsccValue(uscc[i]) < 0) {
      return Invalid(field, absl::StrCat("character ", i + 1, " '", uscc.substr(i, 1),
                                         "' is not in 0-9 A-H J-N P-R T-U W-Y"));
    }
  }
  const std::optional<char> check = UsccCheckCharacter(uscc.substr(0, 17));
  if (!check.has_value() || *check != uscc[17]) {
    return Invalid(field, absl::StrCat("check character is ", uscc.substr(17), ", expected ",
                                       absl::string_view(&*check, 1)));
  }
  return absl::OkStatus();
}

absl::Status ValidateResidentId(absl::string_view id, absl::string_view field) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr absl::string_view kCheck = "10X98765432";
  if (id.size() != 18 || !AllDigits(id.substr(0, 17))) {
    return Invalid(field, "not a resident identity number (17 digits and a check character)");
  }
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (id[i] - '0') * kWeights[i];
  if (id[17] != kCheck[sum % 11]) {
    return Invalid(field, absl::StrCat("resident identity number has check character ",
                                       id.substr(17), ", expected ", kCheck.substr(sum % 11, 1)));
  }
  const int year = DigitsValue(id.substr(6, 4));
  const int month = DigitsValue(id.substr(10, 2));
  const int day = DigitsValue(id.substr(12, 2));
  const absl::CivilDay birth(year, month, day);
  if (year < 1900 || birth.year() != year || birth.month() != month || birth.day() != day) {
    return Invalid(field, "resident identity number has an impossible birth date");
  }
  return absl::OkStatus();
}

absl::Status ValidateKeyId(absl::string_view key_id, absl::string_view field) {
  if (key_id.empty()) return Invalid(field, "required");
  bool ok = key_id.size() == 16;
  for (size_t i = 0; ok && i < key_id.size(); ++i) ok = IsLowerHex(key_id[i]);
  if (!ok) {
    return Invalid(field,
                   absl::StrCat(Quoted(key_id), " is not a key id (16 lowercase hex characters)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateEventId(absl::string_view event_id, absl::string_view field) {
  if (event_id.empty()) return Invalid(field, "required");
  bool ok = event_id.size() == 36;
  for (size_t i = 0; ok && i < event_id.size(); ++i) {
    const char c = event_id[i];
    ok = (i == 8 || i == 13 || i == 18 || i == 23) ? c == '-' : IsLowerHex(c);
  }
  if (!ok) {
    return Invalid(field, absl::StrCat(Quoted(event_id),
                                       " is not lowercase hyphenated UUID text (8-4-4-4-12)"));
  }
  if (event_id[14] != '4' && event_id[14] != '7') {
    return Invalid(field, absl::StrCat("UUID ", event_id, " is version ", event_id.substr(14, 1),
                                       "; versions 7 and 4 are accepted"));
  }
  const char variant = event_id[19];
  if (variant != '8' && variant != '9' && variant != 'a' && variant != 'b') {
    return Invalid(field, absl::StrCat("UUID ", event_id, " does not have the RFC 9562 variant"));
  }
  return absl::OkStatus();
}

absl::Status ValidateHerbCode(absl::string_view code, absl::string_view field) {
  bool ok = code.size() >= 2 && code.size() <= 32 && code[0] >= 'A' && code[0] <= 'Z';
  for (size_t i = 1; ok && i < code.size(); ++i) {
    ok = (code[i] >= 'A' && code[i] <= 'Z') ||
         absl::ascii_isdigit(static_cast<unsigned char>(code[i]));
  }
  if (!ok)
    return Invalid(field, absl::StrCat(Quoted(code), " is not a herb code ([A-Z][A-Z0-9]{1,31})"));
  return absl::OkStatus();
}

absl::Status ValidateAnalyteCode(absl::string_view code, absl::string_view field) {
  bool ok = !code.empty() && code.size() <= 64;
  for (size_t i = 0; ok && i < code.size(); ++i) {
    const char c = code[i];
    ok = (c >= 'a' && c <= 'z') || absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_';
  }
  if (!ok)
    return Invalid(field, absl::StrCat(Quoted(code), " is not an analyte code ([a-z0-9_]{1,64})"));
  return absl::OkStatus();
}

absl::Status ValidateVersion(absl::string_view version, absl::string_view field) {
  bool ok = !version.empty() && version.size() <= 64;
  for (size_t i = 0; ok && i < version.size(); ++i) {
    const char c = version[i];
    ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  }
  if (!ok)
    return Invalid(field,
                   absl::StrCat(Quoted(version), " is not a version ([A-Za-z0-9._-]{1,64})"));
  return absl::OkStatus();
}

absl::Status ValidateDate(const v1::Date& date, absl::string_view field) {
  const absl::CivilDay day(date.year(), date.month(), date.day());
  if (date.year() < 2000 || date.year() > 2099 || day.year() != date.year() ||
      day.month() != date.month() || day.day() != date.day()) {
    return Invalid(field, absl::StrCat("'", FormatDate(date), "' is not a date in 2000..2099"));
  }
  return absl::OkStatus();
}

v1::Date ChinaDate(absl::Time t) {
  const absl::CivilDay day = absl::ToCivilDay(t, absl::FixedTimeZone(8 * 60 * 60));
  v1::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

int CompareDates(const v1::Date& a, const v1::Date& b) {
  if (a.year() != b.year()) return a.year() < b.year() ? -1 : 1;
  if (a.month() != b.month()) return a.month() < b.month() ? -1 : 1;
  if (a.day() != b.day()) return a.day() < b.day() ? -1 : 1;
  return 0;
}

std::string FormatDate(const v1::Date& date) {
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

}  // namespace herbtrace::domain
