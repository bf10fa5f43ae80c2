// What herbctl prints from a server's answers (services/cli/output.h): any message as JSON for
// `--json` (protobuf's JSON printer, then nlohmann's parser: the project's one JSON parse), the
// terminal width of names, times in China Standard Time, and the enum words typed on the command
// line. The first byte picks the message type (mod 5: Event, LedgerEntry, GetUpstreamResponse,
// RecallView, Party); the rest is its serialized bytes, and also the text for the other checks.
//
// Invariants: every message that parses prints as a non-empty JSON object (defaults included), and that JSON reads back to itself from its printed text; a width is at most two
// columns per byte; an accepted enum word maps to a value whose own label maps back to it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "absl/strings/string_view.h"
#include "fuzz/fixed_keys.h"
#include "fuzz/fuzz_input.h"
#include "google/protobuf/stubs/logging.h"
#include "herbtrace/v1/entry.pb.h"
#include "herbtrace/v1/event.pb.h"
#include "herbtrace/v1/recall.pb.h"
#include "herbtrace/v1/registry.pb.h"
#include "herbtrace/v1/trace.pb.h"
#include "services/cli/output.h"

namespace herbtrace::fuzz {
namespace {

std::unique_ptr<google::protobuf::Message> NewMessage(uint8_t selector) {
  switch (selector % 5) {
    case 0:
      return std::make_unique<v1::Event>();
    case 1:
      return std::make_unique<v1::LedgerEntry>();
    case 2:
      return std::make_unique<v1::GetUpstreamResponse>();
    case 3:
      return std::make_unique<v1::RecallView>();
    default:
      return std::make_unique<v1::Party>();
  }
}

void Json(const google::protobuf::Message& message) {
  const nlohmann::json json = cli::ProtoToJson(message);
  FUZZ_REQUIRE(json.is_object());
  FUZZ_REQUIRE(!json.empty());
  std::ostringstream printed;
  cli::PrintJson(printed, json);
  const nlohmann::json again = nlohmann::json::parse(printed.str(), nullptr, false);
  FUZZ_REQUIRE(!again.is_discarded() && again == json);
}

void Text(absl::string_view text, int64_t seconds, int32_t nanos) {
  FUZZ_REQUIRE(cli::DisplayWidth(text) <= 2 * text.size());
  const google::protobuf::EnumDescriptor* status = v1::BatchStatus_descriptor();
  auto value = cli::ParseEnumLabel(status, text, "status");
  if (value.ok()) {
    FUZZ_REQUIRE(*value != 0);
    auto again = cli::ParseEnumLabel(status, cli::EnumLabel(status, *value), "status");
    FUZZ_REQUIRE(again.ok() && *again == *value);
  }
  google::protobuf::Timestamp ts;
  ts.set_seconds(seconds);
  ts.set_nanos(nanos);
  (void)cli::FormatTimestamp(ts);
  (void)cli::ShortHexOf(text);
}

}  // namespace
}  // namespace herbtrace::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  herbtrace::fuzz::FuzzInput in(data, size);
  const uint8_t selector = in.U8();
  const absl::string_view rest = in.Rest();
  auto message = herbtrace::fuzz::NewMessage(selector);
  if (message->ParseFromArray(rest.data(), static_cast<int>(rest.size()))) {
    herbtrace::fuzz::Json(*message);
  }
  herbtrace::fuzz::FuzzInput text(data, size);
  const int64_t seconds = static_cast<int64_t>(text.U64());
  const int32_t nanos = static_cast<int32_t>(text.U64());
  herbtrace::fuzz::Text(rest, seconds, nanos);
  return 0;
}
