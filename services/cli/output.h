// What herbctl prints: aligned tables for people (Chinese text counted as two columns, as
// terminals draw it), herb names as "黄芪 Huangqi", and JSON for machines (--json).
#ifndef HERBTRACE_SERVICES_CLI_OUTPUT_H_
#define HERBTRACE_SERVICES_CLI_OUTPUT_H_

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "herbtrace/v1/registry.pb.h"

namespace herbtrace::cli {

class Client;

// Terminal columns `text` takes: East Asian wide and fullwidth characters count 2.
size_t DisplayWidth(absl::string_view utf8);

// A table of left-aligned columns separated by two spaces, with a header row.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "label      value" lines, labels padded to the longest.
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

// The herb catalog, fetched once per run with Registry.ListHerbs (every page) on first use.
// If it cannot be fetched, names fall back to the code and one warning goes to stderr.
class HerbNames {
 public:
  // `client` may be null (offline): every label is then the code. Must outlive this.
  explicit HerbNames(Client* client) : client_(client) {}

  // "黄芪 Huangqi" for a catalog code; the code itself when unknown.
  std::string Label(const std::string& code);
  // The catalog entry, or null.
  const v1::Herb* Find(const std::string& code);
  // {"zh_name": …, "pinyin": …} for every code in `codes` that the catalog knows.
  nlohmann::json Json(const std::vector<std::string>& codes);

 private:
  void Load();

  Client* client_;
  bool loaded_ = false;
  std::map<std::string, v1::Herb> herbs_;
};

// Any message as JSON with the proto field names, enums as names, 64-bit integers as numbers
// where exact and bytes as base64 (protobuf's JSON mapping), default values included.
// A message protobuf cannot print (a timestamp out of its range, from a faulty or hostile
// server) becomes {"unprintable": "<why>"}, so the output says so instead of showing nothing.
nlohmann::json ProtoToJson(const google::protobuf::Message& message);
// Pretty-printed, with a final newline.
void PrintJson(std::ostream& out, const nlohmann::json& json);

// The first `chars` hex characters of `bytes`, with "…" when cut.
std::string ShortHexOf(absl::string_view bytes, size_t chars = 16);
// RFC 3339 in China Standard Time: "2024-09-15T08:30:00+08:00"; "" when unset.
std::string FormatTimestamp(const google::protobuf::Timestamp& ts);
// An enum value's name without its type prefix, lower case: BATCH_STATUS_ACTIVE → "active".
std::string EnumLabel(const google::protobuf::EnumDescriptor* descriptor, int value);
// The inverse, for command-line words: "active" (or "ACTIVE", "BATCH_STATUS_ACTIVE", "1") → 1.
// InvalidArgument naming `flag` and listing the accepted words; UNSPECIFIED is never accepted.
absl::StatusOr<int> ParseEnumLabel(const google::protobuf::EnumDescriptor* descriptor,
                                   absl::string_view text, absl::string_view flag);
template <typename E>
absl::StatusOr<E> ParseEnum(absl::string_view text, absl::string_view flag) {
  auto value = ParseEnumLabel(google::protobuf::GetEnumDescriptor<E>(), text, flag);
  if (!value.ok()) return value.status();
  return static_cast<E>(*value);
}
template <typename E>
std::string EnumLabel(E value) {
  return EnumLabel(google::protobuf::GetEnumDescriptor<E>(), static_cast<int>(value));
}

}  // namespace herbtrace::cli

#endif  // HERBTRACE_SERVICES_CLI_OUTPUT_H_
