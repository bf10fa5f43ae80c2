// The CSV the platform reads and writes: the herb catalog and quality-limit tables herbctl loads
// (services/domain/catalog_files.h, RFC 4180) and the recall export regulators and holders open in
// a spreadsheet (services/server/recall_csv.h). The first byte picks the mode (mod 4):
//
//   0  herbs.csv text                 ParseCsv, ParseHerbCatalog
//   1  quality-limits.csv text        ParseCsv, ParseQualityLimits against the shipped catalog
//   2  fields separated by 0x00       CsvField, then ParseCsv reads the same fields back
//   3  bits of byte 2 ‖ RecallView    RecallCsv, then ParseCsv: the header and one record per lot,
//                                     each of the header's width
//
// Invariants as listed, plus: records come in increasing line order; a loaded catalog's herb
// codes are valid and unique; every herb code a limit row names is in the catalog.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "fuzz/fixed_keys.h"
#include "fuzz/fuzz_input.h"
#include "herbtrace/v1/recall.pb.h"
#include "services/domain/catalog_files.h"
#include "services/domain/identifiers.h"
#include "services/server/recall_csv.h"

namespace herbtrace::fuzz {
namespace {

const v1::LoadHerbCatalog& ShippedCatalog() {
  static const v1::LoadHerbCatalog* const catalog = [] {
    auto parsed = domain::ReadHerbCatalogFile(HERBTRACE_SOURCE_DIR "/catalog/herbs.csv", "fuzz");
    if (!parsed.ok()) std::abort();
    return new v1::LoadHerbCatalog(*std::move(parsed));
  }();
  return *catalog;
}

void CheckRecords(const std::vector<domain::CsvRecord>& records) {
  int previous = 0;
  for (const domain::CsvRecord& r : records) {
    FUZZ_REQUIRE(r.line > previous);
    previous = r.line;
  }
}

void Herbs(absl::string_view text) {
  if (auto records = domain::ParseCsv(text, "herbs.csv"); records.ok()) CheckRecords(*records);
  auto catalog = domain::ParseHerbCatalog(text, "v1");
  if (!catalog.ok()) return;
  std::set<std::string> codes;
  for (const v1::Herb& herb : catalog->herbs()) {
    FUZZ_REQUIRE(domain::ValidateHerbCode(herb.code(), "code").ok());
    FUZZ_REQUIRE(codes.insert(herb.code()).second);
  }
}

void Limits(absl::string_view text) {
  const v1::LoadHerbCatalog& catalog = ShippedCatalog();
  auto limits = domain::ParseQualityLimits(text, catalog, "v2", "v1");
  if (!limits.ok()) return;
  std::set<std::string> codes;
  for (const v1::Herb& herb : catalog.herbs()) codes.insert(herb.code());
  for (const v1::LimitRow& row : limits->limits.rows()) {
    for (const std::string& code : row.herb_codes()) FUZZ_REQUIRE(codes.count(code) == 1);
    for (const std::string& code : row.except_herb_codes()) FUZZ_REQUIRE(codes.count(code) == 1);
  }
}

void FieldsRoundTrip(absl::string_view text) {
  const std::vector<std::string> fields = absl::StrSplit(text, '\0');
  // One empty field is a blank line, which readers skip.
  if (fields.size() == 1 && fields[0].empty()) return;
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    line += server::CsvField(fields[i]);
  }
  line += "\r\n";
  auto records = domain::ParseCsv(line, "export.csv");
  // A first field starting with the byte order mark loses it to the reader: the writer's one
  // ambiguity, and the reason RecallCsv writes the mark itself before the header.
  if (absl::string_view(fields[0]).substr(0, 3) == "\xEF\xBB\xBF") return;
  FUZZ_REQUIRE(records.ok() && records->size() == 1 && (*records)[0].fields == fields);
}

void RecallExport(FuzzInput& in) {
  const uint8_t bits = in.U8();
  v1::RecallView view;
  if (!view.ParseFromString(std::string(in.Rest()))) return;
  v1::ExportRecallCsvRequest request;
  request.set_sort_by(static_cast<v1::RecallCsvColumn>(bits & 0x1f));
  request.set_descending((bits & 0x20) != 0);
  request.set_only_unacknowledged((bits & 0x40) != 0);
  request.set_utf8_bom((bits & 0x80) != 0);
  server::RecallCsvContext context;
  for (const v1::RecallScopeLot& lot : view.lots()) {
    v1::Party party;
    party.set_name("安国市\"某\"药材经营部, 二部\r\n");
    party.set_region_code(lot.holder_at_recall());
    context.parties[lot.holder_at_recall()] = party;
    v1::Herb herb;
    herb.set_zh_name(lot.herb_code());
    herb.set_pinyin("Huang,qi");
    context.herbs[lot.herb_code()] = herb;
  }
  const std::string csv = server::RecallCsv(view, context, request);
  auto records = domain::ParseCsv(csv, "recall.csv");
  FUZZ_REQUIRE(records.ok() && !records->empty());
  size_t lots = 0;
  for (const v1::RecallScopeLot& lot : view.lots()) {
    if (!request.only_unacknowledged() || (lot.ack_required() && !lot.acknowledged())) ++lots;
  }
  FUZZ_REQUIRE(records->size() == lots + 1);
  for (const domain::CsvRecord& r : *records) {
    FUZZ_REQUIRE(r.fields.size() == (*records)[0].fields.size());
  }
}

}  // namespace
}  // namespace herbtrace::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  herbtrace::fuzz::FuzzInput in(data, size);
  switch (in.U8() % 4) {
    case 0:
      herbtrace::fuzz::Herbs(in.Rest());
      break;
    case 1:
      herbtrace::fuzz::Limits(in.Rest());
      break;
    case 2:
      herbtrace::fuzz::FieldsRoundTrip(in.Rest());
      break;
    default:
      herbtrace::fuzz::RecallExport(in);
      break;
  }
  return 0;
}
