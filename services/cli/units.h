// Quantities typed by people → the contract's integers, exactly (common.proto: no floating point
// anywhere). A decimal is scaled by its unit's power of ten with integer arithmetic; a value that
// does not fit the unit's scale ("0.0000001 mg/kg") is an error, never rounded.
#ifndef HERBTRACE_SERVICES_CLI_UNITS_H_
#define HERBTRACE_SERVICES_CLI_UNITS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "herbtrace/v1/common.pb.h"
#include "herbtrace/v1/event.pb.h"

namespace herbtrace::cli {

// "-12.345" with at most `decimals` fractional digits → -12345 × 10^(decimals − 3).
// InvalidArgument naming `field` for syntax, excess precision or int64 overflow.
absl::StatusOr<int64_t> ParseScaledDecimal(absl::string_view text, int decimals,
                                           absl::string_view field);

// Grams from "12500", "12500g", "12.5kg", "1.2t" or "3斤" (market jin, 500 g). Must be > 0
// unless allow_zero.
absl::StatusOr<uint64_t> ParseGrams(absl::string_view text, absl::string_view field,
                                    bool allow_zero = false);

// "BATCH:GRAMS" (grams as ParseGrams); BATCH must pass domain::ValidateBatchId.
absl::StatusOr<v1::BatchQuantity> ParseBatchQuantity(absl::string_view text,
                                                     absl::string_view field);

// A lab value: "0.8mg/kg", "212 mg/kg", "3.5ug/kg" (also µg/kg, ppm, ppb), "12.5%", "100cfu/g".
// Mass fractions become MEASURE_UNIT_NG_PER_KG with the display unit the lab wrote.
struct LabValue {
  v1::Measurement measurement;
  v1::DisplayUnit display_unit = v1::DISPLAY_UNIT_UNSPECIFIED;
};
absl::StatusOr<LabValue> ParseLabValue(absl::string_view text, absl::string_view field);

// "pb=0.8mg/kg" (quantified) or "aflatoxin_b1=<0.5ug/kg" (below the LOQ, which is given).
absl::StatusOr<v1::AnalyteResult> ParseAnalyteResult(absl::string_view text,
                                                     absl::string_view field);

// For people: "12.5 kg", "850 g".
std::string FormatGrams(uint64_t grams);
// "0.8 mg/kg" in the display unit (mg/kg when unspecified), exact.
std::string FormatMeasurement(const v1::Measurement& value,
                              v1::DisplayUnit display_unit = v1::DISPLAY_UNIT_UNSPECIFIED);
// value / 10^decimals, exactly, trailing zeros dropped: (125, 1) → "12.5".
std::string FormatScaled(int64_t value, int decimals);

}  // namespace herbtrace::cli

#endif  // HERBTRACE_SERVICES_CLI_UNITS_H_
