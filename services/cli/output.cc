#include "services/cli/output.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "services/cli/client.h"

namespace herbtrace::cli {
namespace {

bool IsWide(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
         (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

void Pad(std::ostream& out, const std::string& cell, size_t width) {
  out << cell;
  for (size_t w = DisplayWidth(cell); w < width; ++w) out << ' ';
}

}  // namespace

size_t DisplayWidth(absl::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else if (c >= 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xC0) {
      len = 2;
      cp = c & 0x1F;
    }
    if (i + len > s.size()) len = s.size() - i;
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    // Continuation bytes on their own and combining marks take no column.
    if (!(c >= 0x80 && c < 0xC0) && !(cp >= 0x0300 && cp <= 0x036F)) width += IsWide(cp) ? 2 : 1;
    i += len;
  }
  return width;
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);
  auto print = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string& cell = i < row.size() ? row[i] : std::string();
      if (i + 1 == widths.size()) {
        out << cell;
      } else {
        Pad(out, cell, widths[i]);
        out << "  ";
      }
    }
    out << "\n";
  };
  print(header_);
  for (const auto& row : rows_) print(row);
}

void PrintFields(std::ostream& out,
                 const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [label, value] : fields) width = std::max(width, DisplayWidth(label));
  for (const auto& [label, value] : fields) {
    Pad(out, label, width);
    out << "  " << value << "\n";
  }
}

void HerbNames::Load() {
  loaded_ = true;
  if (client_ == nullptr) return;
  v1::ListHerbsRequest request;
  request.set_page_size(1000);
  for (int page = 0; page < 1000; ++page) {
    v1::ListHerbsResponse response;
    auto context = client_->NewContext();
    grpc::Status status = client_->registry().ListHerbs(context.get(), request, &response);
    if (!status.ok()) {
      std::cerr << "herbctl: warning: herb names unavailable ("
                << FromGrpc(status, "Registry.ListHerbs", client_->target()).message()
                << "); showing herb codes\n";
      return;
    }
    for (const v1::Herb& herb : response.herbs()) herbs_[herb.code()] = herb;
    if (response.next_page_token().empty()) return;
    request.set_page_token(response.next_page_token());
  }
}

const v1::Herb* HerbNames::Find(const std::string& code) {
  if (!loaded_) Load();
  auto it = herbs_.find(code);
  return it == herbs_.end() ? nullptr : &it->second;
}

std::string HerbNames::Label(const std::string& code) {
  if (code.empty()) return "";
  const v1::Herb* herb = Find(code);
  if (herb == nullptr) return code;
  return absl::StrCat(herb->zh_name(), " ", herb->pinyin());
}

nlohmann::json HerbNames::Json(const std::vector<std::string>& codes) {
  nlohmann::json out = nlohmann::json::object();
  for (const std::string& code : codes) {
    const v1::Herb* herb = Find(code);
    if (herb == nullptr) continue;
    out[code] = {{"zh_name", herb->zh_name()},
                 {"pinyin", herb->pinyin()},
                 {"label", absl::StrCat(herb->zh_name(), " ", herb->pinyin())}};
  }
  return out;
}

nlohmann::json ProtoToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  if (auto printed = google::protobuf::util::MessageToJsonString(message, &text, options);
      !printed.ok()) {
    return nlohmann::json{{"unprintable", std::string(printed.message())}};
  }
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return nlohmann::json{{"unprintable", "protobuf's JSON does not parse"}};
  }
  return json;
}

void PrintJson(std::ostream& out, const nlohmann::json& json) {
  // Invalid UTF-8 (it cannot come from a parsed proto string, but be safe) is replaced, not thrown.
  out << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

std::string ShortHexOf(absl::string_view bytes, size_t chars) {
  std::string hex = absl::BytesToHexString(bytes);
  if (hex.size() <= chars) return hex;
  return absl::StrCat(hex.substr(0, chars), "\xE2\x80\xA6");
}

std::string FormatTimestamp(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  const absl::Time t = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, absl::FixedTimeZone(8 * 60 * 60));
}

std::string EnumLabel(const google::protobuf::EnumDescriptor* descriptor, int value) {
  const google::protobuf::EnumValueDescriptor* v = descriptor->FindValueByNumber(value);
  if (v == nullptr) return absl::StrCat(value);
  std::string name = v->name();
  const google::protobuf::EnumValueDescriptor* zero = descriptor->FindValueByNumber(0);
  if (zero != nullptr && absl::EndsWith(zero->name(), "UNSPECIFIED")) {
    const std::string prefix = zero->name().substr(0, zero->name().size() - 11);
    if (absl::StartsWith(name, prefix)) name = name.substr(prefix.size());
  }
  absl::AsciiStrToLower(&name);
  return name;
}

absl::StatusOr<int> ParseEnumLabel(const google::protobuf::EnumDescriptor* descriptor,
                                   absl::string_view text, absl::string_view flag) {
  const std::string lower = absl::AsciiStrToLower(text);
  std::vector<std::string> accepted;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* v = descriptor->value(i);
    if (v->number() == 0) continue;
    const std::string label = EnumLabel(descriptor, v->number());
    if (lower == label || lower == absl::AsciiStrToLower(v->name()) ||
        lower == absl::StrCat(v->number())) {
      return v->number();
    }
    accepted.push_back(label);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": \"", text, "\" is not one of ", absl::StrJoin(accepted, ", ")));
}

}  // namespace herbtrace::cli
