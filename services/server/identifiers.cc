#include "services/server/identifiers.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace herbtrace::server {
namespace {

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Quoted for messages, cut so a hostile megabyte-long id does not end up in a log line.
std::string Shown(absl::string_view value) {
  constexpr size_t kMax = 64;
  if (value.size() <= kMax) return absl::StrCat("\"", value, "\"");
  return absl::StrCat("\"", value.substr(0, kMax), "…\" (", value.size(), " bytes)");
}

absl::Status Digits(absl::string_view value, size_t length, absl::string_view field,
                    absl::string_view what) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (value.size() != length || !AllDigits(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", Shown(value), " is not a ", what, " (", length, " digits)"));
  }
  return absl::OkStatus();
}

}  // namespace

char Gs1CheckDigit(absl::string_view body) {
  int sum = 0;
  int weight = 3;
  for (auto it = body.rbegin(); it != body.rend(); ++it) {
    sum += (*it - '0') * weight;
    weight = weight == 3 ? 1 : 3;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

absl::StatusOr<std::string> BatchIdFromTraceCode(absl::string_view code, absl::string_view field) {
  if (code.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (!AllDigits(code)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", Shown(code), " has characters other than digits"));
  }
  if (code.size() != 25 && code.size() != 28 && code.size() != 35) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", Shown(code), " has ", code.size(),
                     " digits; a trace code has 25 (batch), 28 (bag or box) or 35 (pack)"));
  }
  const char want = Gs1CheckDigit(code.substr(0, code.size() - 1));
  if (code.back() != want) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", Shown(code),
                                                   " has a wrong check digit (the last digit "
                                                   "should be ",
                                                   std::string(1, want), ")"));
  }
  if (code.size() == 25) return std::string(code);
  std::string batch(code.substr(0, 24));
  batch.push_back(Gs1CheckDigit(batch));
  return batch;
}

absl::Status CheckPartyId(absl::string_view party_id, absl::string_view field) {
  return Digits(party_id, 14, field, "party id");
}

absl::Status CheckBaseId(absl::string_view base_id, absl::string_view field) {
  return Digits(base_id, 18, field, "base id");
}

absl::Status CheckKeyId(absl::string_view key_id, absl::string_view field) {
  if (key_id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  bool ok = key_id.size() == 16;
  for (char c : key_id) {
    ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", Shown(key_id), " is not a key id (16 lowercase hex characters)"));
  }
  return absl::OkStatus();
}

absl::Status CheckHerbCode(absl::string_view code, absl::string_view field) {
  if (code.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  bool ok = code.size() >= 2 && code.size() <= 32 && code[0] >= 'A' && code[0] <= 'Z';
  for (char c : code) ok = ok && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", Shown(code), " is not a herb code ([A-Z][A-Z0-9]{1,31}, e.g. HUANGQI)"));
  }
  return absl::OkStatus();
}

absl::Status CheckEventId(absl::string_view event_id, absl::string_view field) {
  if (event_id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  bool ok = event_id.size() == 36;
  for (size_t i = 0; ok && i < event_id.size(); ++i) {
    const char c = event_id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      ok = c == '-';
    } else {
      ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", Shown(event_id), " is not a lowercase hyphenated UUID (8-4-4-4-12)"));
  }
  return absl::OkStatus();
}

absl::Status CheckRegionPrefix(absl::string_view prefix, absl::string_view field) {
  if (prefix.size() > 6 || !AllDigits(prefix)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", Shown(prefix), " is not a region code prefix (up to 6 digits)"));
  }
  return absl::OkStatus();
}

}  // namespace herbtrace::server
