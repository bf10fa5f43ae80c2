// Every identifier and quantity a person or a scanner types or scans: batch, package and pack
// codes (GS1 check digit), party, base and region ids, unified social credit codes, resident
// identity numbers, key and event ids, herb and analyte codes, versions (services/domain/
// identifiers.h), and herbctl's dates, decimals, weights, lab values and analyte results
// (services/cli/units.h, trace_code.h), and the protobuf text herbctl merges into an event. The
// first byte picks the decimal places for ParseScaledDecimal; the rest is the text, given to
// every parser.
//
// Invariants: a valid batch code rebuilds from its parts; a valid trace code resolves to a valid
// batch code that it starts with; an accepted USCC ends in its check character; a parsed date
// formats back to the text; a decimal formats and parses back to the same integer; a parsed
// weight is positive; an accepted batch quantity names a valid batch; merged event text never
// clears a field already set, and the event it gives serializes to a payload that parses (what
// herbctl signs must be what the server can read).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "fuzz/fixed_keys.h"
#include "fuzz/fuzz_input.h"
#include "services/cli/event_builder.h"
#include "services/cli/trace_code.h"
#include "services/cli/units.h"
#include "services/domain/identifiers.h"

namespace herbtrace::fuzz {
namespace {

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void TraceCodes(absl::string_view text) {
  if (domain::ValidateBatchId(text, "batch_id").ok()) {
    const domain::BatchIdParts parts = domain::ParseBatchId(text);
    auto rebuilt = cli::MakeBatchCode(parts.node_type, parts.company, parts.date, parts.sequence);
    FUZZ_REQUIRE(rebuilt.ok() && *rebuilt == text);
    FUZZ_REQUIRE(domain::ValidateTraceCode(text, "code").ok());
  }
  const bool trace_code = domain::ValidateTraceCode(text, "code").ok();
  auto batch = domain::BatchIdOfTraceCode(text, "code");
  FUZZ_REQUIRE(trace_code == batch.ok());
  if (batch.ok()) {
    FUZZ_REQUIRE(batch->size() == domain::kBatchIdLength);
    FUZZ_REQUIRE(text.substr(0, domain::kBatchIdLength - 1) ==
                 absl::string_view(*batch).substr(0, domain::kBatchIdLength - 1));
    FUZZ_REQUIRE(domain::ValidateTraceCode(*batch, "code").ok());
    FUZZ_REQUIRE(text.back() == domain::TraceCheckDigit(text.substr(0, text.size() - 1)));
  }
  if (!text.empty() && AllDigits(text)) {
    const std::string with_check = std::string(text) + domain::TraceCheckDigit(text);
    const size_t n = with_check.size();
    FUZZ_REQUIRE(domain::ValidateTraceCode(with_check, "code").ok() ==
                 (n == domain::kBatchIdLength || n == domain::kPackageCodeLength ||
                  n == domain::kPackCodeLength));
  }
}

void PartyIds(absl::string_view text) {
  if (domain::ValidateUscc(text, "uscc").ok()) {
    FUZZ_REQUIRE(text.size() == 18);
    const auto check = domain::UsccCheckCharacter(text.substr(0, 17));
    FUZZ_REQUIRE(check.has_value() && *check == text[17]);
  }
  if (domain::ValidatePartyId(text, "party_id").ok())
    FUZZ_REQUIRE(text.size() == domain::kPartyIdLength);
  if (domain::ValidateBaseId(text, "base_id").ok()) {
    FUZZ_REQUIRE(text.size() == domain::kBaseIdLength);
    FUZZ_REQUIRE(domain::ValidatePartyId(text.substr(0, domain::kPartyIdLength), "party_id").ok());
  }
  if (domain::ValidateRegionCode(text, "region").ok()) {
    FUZZ_REQUIRE(domain::ValidateRegionCodePrefix(text, "region").ok());
  }
  (void)domain::ValidateResidentId(text, "id");
  if (domain::ValidateKeyId(text, "key_id").ok()) FUZZ_REQUIRE(text.size() == 16);
  if (domain::ValidateEventId(text, "event_id").ok()) FUZZ_REQUIRE(text.size() == 36);
  (void)domain::ValidateHerbCode(text, "herb_code");
  (void)domain::ValidateAnalyteCode(text, "analyte");
  (void)domain::ValidateVersion(text, "version");
}

void Quantities(absl::string_view text, int decimals) {
  auto date = cli::ParseDate(text, "date");
  if (date.ok()) {
    FUZZ_REQUIRE(domain::ValidateDate(*date, "date").ok());
    FUZZ_REQUIRE(domain::FormatDate(*date) == text);
  }
  auto scaled = cli::ParseScaledDecimal(text, decimals, "value");
  if (scaled.ok()) {
    auto again = cli::ParseScaledDecimal(cli::FormatScaled(*scaled, decimals), decimals, "value");
    FUZZ_REQUIRE(again.ok() && *again == *scaled);
  }
  for (bool allow_zero : {false, true}) {
    auto grams = cli::ParseGrams(text, "grams", allow_zero);
    if (grams.ok()) {
      FUZZ_REQUIRE(allow_zero || *grams > 0);
      (void)cli::FormatGrams(*grams);
    }
  }
  auto quantity = cli::ParseBatchQuantity(text, "input");
  if (quantity.ok()) {
    FUZZ_REQUIRE(domain::ValidateBatchId(quantity->batch_id(), "batch_id").ok());
    FUZZ_REQUIRE(quantity->grams() > 0);
  }
  auto lab = cli::ParseLabValue(text, "value");
  if (lab.ok()) (void)cli::FormatMeasurement(lab->measurement, lab->display_unit);
  (void)cli::ParseAnalyteResult(text, "result");
}

// The protobuf text herbctl merges into an event for fields it has no flag for.
void EventText(absl::string_view text) {
  v1::Event event;
  event.set_event_id("00000000-0000-4000-8000-000000000001");
  if (!cli::MergeEventText(text, event).ok()) return;
  FUZZ_REQUIRE(!event.event_id().empty());
  v1::Event again;
  FUZZ_REQUIRE(again.ParseFromString(event.SerializeAsString()));
}

}  // namespace
}  // namespace herbtrace::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  herbtrace::fuzz::FuzzInput in(data, size);
  const int decimals = in.U8() % 10;
  const absl::string_view text = in.Rest();
  herbtrace::fuzz::TraceCodes(text);
  herbtrace::fuzz::PartyIds(text);
  herbtrace::fuzz::Quantities(text, decimals);
  herbtrace::fuzz::EventText(text);
  return 0;
}
