// The recall scope as CSV (Recall.ExportRecallCsv; format in recall.proto): RFC 4180, UTF-8,
// CRLF, a header row, fields quoted only when they hold a comma, quote, CR or LF (quotes
// doubled), integers without separators, times RFC 3339 in +08:00 (China Standard Time, what
// the market's paperwork uses). One row per lot of the scope, naming the lot's holder at the
// recall and its holder now.
#ifndef HERBTRACE_SERVICES_SERVER_RECALL_CSV_H_
#define HERBTRACE_SERVICES_SERVER_RECALL_CSV_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "herbtrace/v1/recall.pb.h"
#include "herbtrace/v1/registry.pb.h"

namespace herbtrace::server {

struct RecallCsvContext {
  // Parties named by the scope (holders at the recall), by party_id; missing ones leave their
  // name and region empty.
  absl::flat_hash_map<std::string, v1::Party> parties;
  // Catalog entries by herb code; the herb_name column is "<zh_name> (<pinyin>)", e.g.
  // "黄芪 (Huangqi)".
  absl::flat_hash_map<std::string, v1::Herb> herbs;
};

// The whole CSV text for `view`, with the request's sort, filter and BOM.
std::string RecallCsv(const v1::RecallView& view, const RecallCsvContext& context,
                      const v1::ExportRecallCsvRequest& request);

// One field, quoted only when it must be.
std::string CsvField(absl::string_view value);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_RECALL_CSV_H_
