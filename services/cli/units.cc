#include "services/cli/units.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/domain/identifiers.h"

namespace herbtrace::cli {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

struct UnitSuffix {
  absl::string_view suffix;
  v1::MeasureUnit unit;
  v1::DisplayUnit display;
  int decimals;  // scale of the integer unit relative to the written one
};

// Longest suffixes first so "ug/kg" is not read as "g".
constexpr UnitSuffix kLabUnits[] = {
    {"mg/kg", v1::MEASURE_UNIT_NG_PER_KG, v1::DISPLAY_UNIT_MG_PER_KG, 6},
    {"ug/kg", v1::MEASURE_UNIT_NG_PER_KG, v1::DISPLAY_UNIT_UG_PER_KG, 3},
    {"\xC2\xB5g/kg", v1::MEASURE_UNIT_NG_PER_KG, v1::DISPLAY_UNIT_UG_PER_KG, 3},  // µ (micro)
    {"\xCE\xBCg/kg", v1::MEASURE_UNIT_NG_PER_KG, v1::DISPLAY_UNIT_UG_PER_KG, 3},  // μ (mu)
    {"ng/kg", v1::MEASURE_UNIT_NG_PER_KG, v1::DISPLAY_UNIT_UNSPECIFIED, 0},
    {"cfu/g", v1::MEASURE_UNIT_CFU_PER_G, v1::DISPLAY_UNIT_UNSPECIFIED, 0},
    {"ppm", v1::MEASURE_UNIT_NG_PER_KG, v1::DISPLAY_UNIT_MG_PER_KG, 6},
    {"ppb", v1::MEASURE_UNIT_NG_PER_KG, v1::DISPLAY_UNIT_UG_PER_KG, 3},
    {"%", v1::MEASURE_UNIT_NG_PER_KG, v1::DISPLAY_UNIT_PERCENT, 10},
};

int DisplayDecimals(v1::DisplayUnit unit) {
  switch (unit) {
    case v1::DISPLAY_UNIT_UG_PER_KG:
      return 3;
    case v1::DISPLAY_UNIT_PERCENT:
      return 10;
    default:
      return 6;
  }
}

absl::string_view DisplaySuffix(v1::DisplayUnit unit) {
  switch (unit) {
    case v1::DISPLAY_UNIT_UG_PER_KG:
      return " \xC2\xB5g/kg";
    case v1::DISPLAY_UNIT_PERCENT:
      return "%";
    default:
      return " mg/kg";
  }
}

}  // namespace

absl::StatusOr<int64_t> ParseScaledDecimal(absl::string_view text, int decimals,
                                           absl::string_view field) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": \"", text, "\" ", why));
  };
  absl::string_view s = absl::StripAsciiWhitespace(text);
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return bad("is not a number");
  const size_t dot = s.find('.');
  absl::string_view whole = s.substr(0, dot);
  absl::string_view frac = dot == absl::string_view::npos ? "" : s.substr(dot + 1);
  if (whole.empty() && frac.empty()) return bad("is not a number");
  if (dot != absl::string_view::npos && frac.empty()) return bad("is not a number");
  for (absl::string_view part : {whole, frac}) {
    for (char c : part) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return bad("is not a number");
    }
  }
  // Excess fractional digits are allowed only if they are zeros (no rounding, ever).
  while (static_cast<int>(frac.size()) > decimals) {
    if (frac.back() != '0') {
      return bad(absl::StrCat("has more than ", decimals, " decimal places for this unit"));
    }
    frac.remove_suffix(1);
  }
  int64_t value = 0;
  auto push = [&](char c) {
    const int d = c - '0';
    if (value > (kMax - d) / 10) return false;
    value = value * 10 + d;
    return true;
  };
  for (char c : whole) {
    if (!push(c)) return bad("is too large");
  }
  for (int i = 0; i < decimals; ++i) {
    if (!push(i < static_cast<int>(frac.size()) ? frac[i] : '0')) return bad("is too large");
  }
  return negative ? -value : value;
}

absl::StatusOr<uint64_t> ParseGrams(absl::string_view text, absl::string_view field,
                                    bool allow_zero) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  int decimals = 0;
  if (absl::ConsumeSuffix(&s, "kg")) {
    decimals = 3;
  } else if (absl::ConsumeSuffix(&s, "\xE6\x96\xA4")) {  // 斤 = 500 g: parse as half-kg units
    auto jin = ParseScaledDecimal(s, 3, field);
    if (!jin.ok()) return jin.status();
    if (*jin < 0 || *jin % 2 != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": \"", text, "\" is not a whole number of grams"));
    }
    if (*jin == 0 && !allow_zero) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": must be more than 0 g"));
    }
    return static_cast<uint64_t>(*jin / 2);
  } else if (absl::ConsumeSuffix(&s, "t")) {
    decimals = 6;
  } else {
    absl::ConsumeSuffix(&s, "g");
  }
  auto grams = ParseScaledDecimal(s, decimals, field);
  if (!grams.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", text, "\" is not a whole number of grams (e.g. 12500, 12500g, 12.5kg)"));
  }
  if (*grams < 0) return absl::InvalidArgumentError(absl::StrCat(field, ": negative"));
  if (*grams == 0 && !allow_zero) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be more than 0 g"));
  }
  return static_cast<uint64_t>(*grams);
}

absl::StatusOr<v1::BatchQuantity> ParseBatchQuantity(absl::string_view text,
                                                     absl::string_view field) {
  const size_t colon = text.find(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": \"", text, "\" is not BATCH:GRAMS"));
  }
  const absl::string_view code = text.substr(0, colon);
  if (auto s = domain::ValidateBatchId(code, field); !s.ok()) return s;
  auto grams = ParseGrams(text.substr(colon + 1), field);
  if (!grams.ok()) return grams.status();
  v1::BatchQuantity out;
  out.set_batch_id(code.data(), code.size());
  out.set_grams(*grams);
  return out;
}

absl::StatusOr<LabValue> ParseLabValue(absl::string_view text, absl::string_view field) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  for (const UnitSuffix& unit : kLabUnits) {
    absl::string_view number = s;
    if (!absl::ConsumeSuffix(&number, unit.suffix)) continue;
    auto value = ParseScaledDecimal(number, unit.decimals, field);
    if (!value.ok()) return value.status();
    LabValue out;
    out.measurement.set_value(*value);
    out.measurement.set_unit(unit.unit);
    out.display_unit = unit.display;
    return out;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": \"", text, "\" needs a unit: mg/kg, ug/kg, ng/kg, ppm, ppb, % or cfu/g"));
}

absl::StatusOr<v1::AnalyteResult> ParseAnalyteResult(absl::string_view text,
                                                     absl::string_view field) {
  const size_t eq = text.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", text, "\" is not ANALYTE=VALUE (e.g. pb=0.8mg/kg, so2=<10mg/kg)"));
  }
  const absl::string_view analyte = text.substr(0, eq);
  for (char c : analyte) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": analyte \"", analyte, "\" is not [a-z0-9_]+"));
    }
  }
  absl::string_view value = text.substr(eq + 1);
  v1::AnalyteResult out;
  out.set_analyte(analyte.data(), analyte.size());
  const bool below_loq = absl::ConsumePrefix(&value, "<");
  auto parsed = ParseLabValue(value, field);
  if (!parsed.ok()) return parsed.status();
  if (below_loq) {
    out.set_below_loq(true);
    *out.mutable_loq() = parsed->measurement;
  } else {
    *out.mutable_value() = parsed->measurement;
  }
  out.set_display_unit(parsed->display_unit);
  return out;
}

std::string FormatScaled(int64_t value, int decimals) {
  const bool negative = value < 0;
  // Work in unsigned so INT64_MIN does not overflow.
  const uint64_t magnitude =
      negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  const std::string digits = std::to_string(magnitude);
  std::string out = negative ? "-" : "";
  if (decimals <= 0) return out + digits;
  const size_t d = static_cast<size_t>(decimals);
  const std::string padded =
      digits.size() <= d ? std::string(d + 1 - digits.size(), '0') + digits : digits;
  std::string whole = padded.substr(0, padded.size() - d);
  std::string frac = padded.substr(padded.size() - d);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  out += whole;
  if (!frac.empty()) out += "." + frac;
  return out;
}

std::string FormatGrams(uint64_t grams) {
  if (grams < 1000) return absl::StrCat(grams, " g");
  return absl::StrCat(FormatScaled(static_cast<int64_t>(grams), 3), " kg");
}

std::string FormatMeasurement(const v1::Measurement& value, v1::DisplayUnit display_unit) {
  switch (value.unit()) {
    case v1::MEASURE_UNIT_NG_PER_KG:
      return absl::StrCat(FormatScaled(value.value(), DisplayDecimals(display_unit)),
                          DisplaySuffix(display_unit));
    case v1::MEASURE_UNIT_CFU_PER_G:
      return absl::StrCat(value.value(), " cfu/g");
    case v1::MEASURE_UNIT_MILLI_CELSIUS:
      return absl::StrCat(FormatScaled(value.value(), 3),
                          " \xC2\xB0"
                          "C");
    case v1::MEASURE_UNIT_RH_BASIS_POINTS:
      return absl::StrCat(FormatScaled(value.value(), 2), " %RH");
    case v1::MEASURE_UNIT_PPMV:
      return absl::StrCat(value.value(), " ppmv");
    case v1::MEASURE_UNIT_GRAMS:
      return absl::StrCat(value.value(), " g");
    case v1::MEASURE_UNIT_SECONDS:
      return absl::StrCat(value.value(), " s");
    case v1::MEASURE_UNIT_MICROMETRES:
      return absl::StrCat(value.value(), " \xC2\xB5m");
    case v1::MEASURE_UNIT_MILLILITRES:
      return absl::StrCat(value.value(), " mL");
    default:
      return absl::StrCat(value.value());
  }
}

}  // namespace herbtrace::cli
