#include "services/server/recall_csv.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace herbtrace::server {
namespace {

constexpr absl::string_view kHeader =
    "batch_id,herb_code,herb_name,depth,holder_at_recall,holder_name,holder_region_code,"
    "grams_at_recall,current_holder,remaining_grams,status,ack_required,acknowledged,"
    "ack_actions,grams_acknowledged,last_ack_seq,last_ack_at";

// "BATCH_STATUS_RECALLED" → "recalled".
std::string EnumWord(const std::string& name, absl::string_view prefix) {
  std::string word = name.substr(std::min(name.size(), prefix.size()));
  absl::AsciiStrToLower(&word);
  return word;
}

std::string Rfc3339Cst(const google::protobuf::Timestamp& ts) {
  const absl::Time t = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S+08:00", t, absl::FixedTimeZone(8 * 60 * 60));
}

struct Row {
  const v1::RecallScopeLot* lot;
  std::string holder_region;
  uint64_t grams_acknowledged = 0;
  const v1::RecallAckRecord* last_ack = nullptr;
  std::vector<std::string> fields;
};

// Sort key of a row for a column: integers compare as integers, the rest as bytes.
std::tuple<int, uint64_t, int64_t, std::string> SortKey(const Row& row,
                                                        v1::RecallCsvColumn column) {
  const v1::RecallScopeLot& lot = *row.lot;
  switch (column) {
    case v1::RECALL_CSV_COLUMN_BATCH_ID:
      return {0, 0, 0, lot.batch_id()};
    case v1::RECALL_CSV_COLUMN_HERB_CODE:
      return {0, 0, 0, lot.herb_code()};
    case v1::RECALL_CSV_COLUMN_HOLDER_AT_RECALL:
      return {0, 0, 0, lot.holder_at_recall()};
    case v1::RECALL_CSV_COLUMN_HOLDER_REGION_CODE:
      return {0, 0, 0, row.holder_region};
    case v1::RECALL_CSV_COLUMN_GRAMS_AT_RECALL:
      return {0, lot.grams_at_recall(), 0, ""};
    case v1::RECALL_CSV_COLUMN_CURRENT_HOLDER:
      return {0, 0, 0, lot.current().holder_party_id()};
    case v1::RECALL_CSV_COLUMN_REMAINING_GRAMS:
      return {0, lot.current().remaining_grams(), 0, ""};
    case v1::RECALL_CSV_COLUMN_STATUS:
      return {0, 0, 0, row.fields[10]};
    case v1::RECALL_CSV_COLUMN_ACKNOWLEDGED:
      return {lot.acknowledged() ? 1 : 0, 0, 0, ""};
    case v1::RECALL_CSV_COLUMN_LAST_ACK_AT:
      // No acknowledgement sorts before any time.
      if (row.last_ack == nullptr) return {0, 0, 0, ""};
      return {1, 0,
              row.last_ack->occurred_at().seconds() * 1'000'000'000 +
                  row.last_ack->occurred_at().nanos(),
              ""};
    case v1::RECALL_CSV_COLUMN_DEPTH:
    default:
      return {0, lot.depth(), 0, ""};
  }
}

}  // namespace

std::string CsvField(absl::string_view value) {
  if (value.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string RecallCsv(const v1::RecallView& view, const RecallCsvContext& context,
                      const v1::ExportRecallCsvRequest& request) {
  std::vector<Row> rows;
  rows.reserve(view.lots_size());
  for (const v1::RecallScopeLot& lot : view.lots()) {
    if (request.only_unacknowledged() && (!lot.ack_required() || lot.acknowledged())) continue;
    Row row;
    row.lot = &lot;
    std::string holder_name;
    if (auto it = context.parties.find(lot.holder_at_recall()); it != context.parties.end()) {
      holder_name = it->second.name();
      row.holder_region = it->second.region_code();
    }
    std::string herb_name;
    if (auto it = context.herbs.find(lot.herb_code()); it != context.herbs.end()) {
      herb_name = it->second.pinyin().empty()
                      ? it->second.zh_name()
                      : absl::StrCat(it->second.zh_name(), " (", it->second.pinyin(), ")");
    }
    std::vector<std::string> actions;
    for (const v1::RecallAckRecord& ack : lot.acks()) {
      row.grams_acknowledged += ack.grams();
      actions.push_back(EnumWord(v1::RecallAction_Name(ack.action()), "RECALL_ACTION_"));
      if (row.last_ack == nullptr || ack.seq() > row.last_ack->seq()) row.last_ack = &ack;
    }
    row.fields = {
        lot.batch_id(),
        lot.herb_code(),
        herb_name,
        absl::StrCat(lot.depth()),
        lot.holder_at_recall(),
        holder_name,
        row.holder_region,
        absl::StrCat(lot.grams_at_recall()),
        lot.current().holder_party_id(),
        absl::StrCat(lot.current().remaining_grams()),
        EnumWord(v1::BatchStatus_Name(lot.current().status()), "BATCH_STATUS_"),
        lot.ack_required() ? "true" : "false",
        lot.acknowledged() ? "true" : "false",
        absl::StrJoin(actions, ";"),
        absl::StrCat(row.grams_acknowledged),
        row.last_ack != nullptr ? absl::StrCat(row.last_ack->seq()) : "",
        row.last_ack != nullptr && row.last_ack->has_occurred_at()
            ? Rfc3339Cst(row.last_ack->occurred_at())
            : "",
    };
    rows.push_back(std::move(row));
  }
  const v1::RecallCsvColumn column = request.sort_by();
  const bool descending = request.descending();
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    const auto ka = SortKey(a, column);
    const auto kb = SortKey(b, column);
    if (ka != kb) return descending ? kb < ka : ka < kb;
    // Ties: batch_id ascending, whatever the direction.
    return a.lot->batch_id() < b.lot->batch_id();
  });

  std::string out;
  if (request.utf8_bom()) out = "\xEF\xBB\xBF";
  absl::StrAppend(&out, kHeader, "\r\n");
  for (const Row& row : rows) {
    for (size_t i = 0; i < row.fields.size(); ++i) {
      if (i > 0) out.push_back(',');
      out += CsvField(row.fields[i]);
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace herbtrace::server
