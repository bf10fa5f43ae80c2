// The data files shipped in catalog/ — herbs.csv and quality-limits.csv — read into the events
// that load them into the ledger (LoadHerbCatalog, LoadQualityLimits). What herbctl signs; the
// server never reads these files.
//
// Both files are RFC 4180 CSV (UTF-8, optional byte order mark, CRLF or LF, fields quoted when
// they hold commas, quotes or line breaks, quotes doubled inside) with one header row; columns are
// found by name, so their order may change. Every error is InvalidArgument naming the file,
// the line (1-based, physical line where the record starts) and the column:
// "quality-limits.csv:12: column limit: ...".
//
// Thread-safe: pure functions.
#ifndef HERBTRACE_SERVICES_DOMAIN_CATALOG_FILES_H_
#define HERBTRACE_SERVICES_DOMAIN_CATALOG_FILES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "herbtrace/v1/event.pb.h"

namespace herbtrace::domain {

// One CSV record and the line it starts on.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};

// Splits RFC 4180 text into records. `file` only names the source in errors. Blank lines are
// skipped; a record's field count is not checked here.
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text, absl::string_view file);

// herbs.csv → LoadHerbCatalog of `version`. Columns used: zh_name, pinyin, latin_name, species,
// part, qi_yao (yes/no); others (daodi_regions, notes, …) are informational and not loaded.
// Herb.code is the pinyin in upper-case ASCII with tone marks and spaces removed ("Huangqi" →
// "HUANGQI"); a homophone gets a digit suffix in file order (the second "X" becomes "X2").
absl::StatusOr<v1::LoadHerbCatalog> ParseHerbCatalog(absl::string_view csv,
                                                     absl::string_view version,
                                                     absl::string_view file = "herbs.csv");

// quality-limits.csv → LoadQualityLimits of `version` superseding `supersedes` (empty for the
// first), with herb names mapped to codes through `catalog` (by zh_name). The conversion is
// written out at the top of catalog_files.cc. Rows that are not limits of this market are left
// out and listed in `skipped` as "<file>:<line>: <reason>".
struct ParsedLimits {
  v1::LoadQualityLimits limits;
  std::vector<std::string> skipped;
};
absl::StatusOr<ParsedLimits> ParseQualityLimits(absl::string_view csv,
                                                const v1::LoadHerbCatalog& catalog,
                                                absl::string_view version,
                                                absl::string_view supersedes = "",
                                                absl::string_view file = "quality-limits.csv");

// The same, from files. NotFound when a file cannot be read.
absl::StatusOr<v1::LoadHerbCatalog> ReadHerbCatalogFile(const std::string& path,
                                                        absl::string_view version);
absl::StatusOr<ParsedLimits> ReadQualityLimitsFile(const std::string& path,
                                                   const v1::LoadHerbCatalog& catalog,
                                                   absl::string_view version,
                                                   absl::string_view supersedes = "");

}  // namespace herbtrace::domain

#endif  // HERBTRACE_SERVICES_DOMAIN_CATALOG_FILES_H_
