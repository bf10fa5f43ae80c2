// Reading catalog/herbs.csv and catalog/quality-limits.csv.
//
// ── quality-limits.csv → LimitRow ────────────────────────────────────────────────────────────
// columns: analyte, category, limit, unit, applies_to, rule, source
//   analyte_name  the `analyte` column as written.
//   analyte       the code (ids.proto, [a-z0-9_]{1,64}):
//                 - a chemical symbol in parentheses is the code: "Lead (Pb)" → "pb";
//                 - "Sulfur dioxide …" → "so2";
//                 - otherwise the English words outside parentheses in snake case, prefixed
//                   "pesticide_" for the pesticide_banned / pesticide_monograph categories:
//                   "Methamidophos (甲胺磷)" → "pesticide_methamidophos",
//                   "Aflatoxins total (B1+B2+G1+G2)" → "aflatoxins_total".
//                 A food_use row's trailing "food use" is dropped: "Lead (Pb) food use" → "pb".
//   category      heavy_metal, so2, mycotoxin, pesticide, pesticide_banned, pesticide_monograph,
//                 physical, microbial, assay → the LimitCategory of that name; food_use → use
//                 FOOD, category from the analyte (metals HEAVY_METAL, so2 SULFUR_DIOXIDE).
//                 Other rows are MEDICINAL. export_* rows (e.g. export_hk, Hong Kong's generic
//                 Cd 0.3) are skipped: another jurisdiction's limit, and judged with the ChP rows
//                 it would silently tighten them (every row of the winning set applies).
//   limit, unit   unit mg/kg, ug/kg (or µg/kg), % → MEASURE_UNIT_NG_PER_KG × 10^6, 10^3, 10^10,
//                 with the matching DisplayUnit; the decimal is converted exactly (an amount
//                 that is not a whole number of ng/kg is an error):
//                 "<=5" mg/kg           → MAX 5,000,000
//                 ">=N"                 → MIN
//                 "<=LOQ 0.05" mg/kg    → NOT_DETECTED, limit 50,000 (the highest acceptable LOQ)
//                 "not detected (<= LOQ)", "<=LOQ (value not retrieved)"
//                                       → NOT_DETECTED without a limit: any quantified value
//                                         fails (quality_rules.cc)
//                 anything else ("monograph-specific", "none in ChP 2020 (proposed)", …)
//                                       → INFORMATIONAL without a limit, the text kept in note
//   applies_to    "all …"                → applies_to_all
//                 "same herb list as X"  → the applicability of the earlier row named X
//                 "herb list (…)" without names → applies_to_all, noted: the file does not name
//                   the herbs (e.g. aflatoxins), and judging every test of the analyte against
//                   the limit errs on the side of caution
//                 "山药;牛膝;…"           → herb_codes through the catalog's zh_name; a trailing
//                   parenthesis ("党参 (as food)", "黄芪 (proposed)") is dropped. A name not in
//                   the catalog is an error, except in an INFORMATIONAL row, where it is dropped
//                   and named in the note (红参 is not among the 46 herbs).
//   note          the `rule` column (prose), plus what the conversion decided.
//   source        the `source` column.
#include "services/domain/catalog_files.h"

#include <cstdint>
#include <map>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/numeric/int128.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/domain/file_io.h"
#include "services/domain/identifiers.h"

namespace herbtrace::domain {
namespace {

absl::Status LineError(absl::string_view file, int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", what));
}

absl::Status ColumnError(absl::string_view file, int line, absl::string_view column,
                         absl::string_view what) {
  return LineError(file, line, absl::StrCat("column ", column, ": ", what));
}

// The columns of a CSV file's header row. col(record, name) is the record's field in that
// column, trimmed. REQUIRES: `name` is one of the required columns Header checked.
struct CsvColumns {
  absl::flat_hash_map<std::string, size_t> index;  // column name → field index
  std::string operator()(const CsvRecord& record, absl::string_view name) const {
    return std::string(absl::StripAsciiWhitespace(record.fields[index.at(name)]));
  }
};

// The header row's columns, with the required ones present and every data row as wide as the
// header.
absl::StatusOr<CsvColumns> Header(const std::vector<CsvRecord>& records, absl::string_view file,
                                  std::initializer_list<absl::string_view> required) {
  if (records.empty()) return LineError(file, 1, "no header row");
  const CsvRecord& header = records.front();
  CsvColumns columns;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name(absl::StripAsciiWhitespace(header.fields[i]));
    if (!columns.index.emplace(name, i).second) {
      return LineError(file, header.line, absl::StrCat("column ", name, " appears twice"));
    }
  }
  for (absl::string_view name : required) {
    if (!columns.index.contains(name)) {
      return LineError(file, header.line, absl::StrCat("the header has no column ", name));
    }
  }
  for (size_t k = 1; k < records.size(); ++k) {
    if (records[k].fields.size() != header.fields.size()) {
      return LineError(file, records[k].line,
                       absl::StrCat(records[k].fields.size(), " fields, but the header has ",
                                    header.fields.size()));
    }
  }
  return columns;
}

// Decodes one UTF-8 code point at s[i], advancing i; U+FFFD on malformed input.
char32_t NextCodePoint(absl::string_view s, size_t& i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  int extra;
  if (c < 0x80) {
    ++i;
    return c;
  } else if ((c >> 5) == 0x6) {
    extra = 1;
  } else if ((c >> 4) == 0xE) {
    extra = 2;
  } else if ((c >> 3) == 0x1E) {
    extra = 3;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + extra >= s.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = c & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    const unsigned char cont = static_cast<unsigned char>(s[i + k]);
    if ((cont & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cont & 0x3F);
  }
  i += extra + 1;
  return cp;
}

// Toneless upper-case ASCII of a pinyin spelling: "Huángqí" → "HUANGQI", "Lǜ" → "LV".
std::optional<std::string> PinyinCode(absl::string_view pinyin) {
  static const std::map<char32_t, char> kFold = {
      {U'ā', 'A'}, {U'á', 'A'}, {U'ǎ', 'A'}, {U'à', 'A'}, {U'ē', 'E'}, {U'é', 'E'}, {U'ě', 'E'},
      {U'è', 'E'}, {U'ī', 'I'}, {U'í', 'I'}, {U'ǐ', 'I'}, {U'ì', 'I'}, {U'ō', 'O'}, {U'ó', 'O'},
      {U'ǒ', 'O'}, {U'ò', 'O'}, {U'ū', 'U'}, {U'ú', 'U'}, {U'ǔ', 'U'}, {U'ù', 'U'}, {U'ü', 'V'},
      {U'ǖ', 'V'}, {U'ǘ', 'V'}, {U'ǚ', 'V'}, {U'ǜ', 'V'}, {U'Ā', 'A'}, {U'Á', 'A'}, {U'Ǎ', 'A'},
      {U'À', 'A'}, {U'Ē', 'E'}, {U'É', 'E'}, {U'Ě', 'E'}, {U'È', 'E'}, {U'Ō', 'O'}, {U'Ó', 'O'},
      {U'Ǒ', 'O'}, {U'Ò', 'O'}};
  std::string code;
  for (size_t i = 0; i < pinyin.size();) {
    const char32_t cp = NextCodePoint(pinyin, i);
    if (cp < 0x80 && absl::ascii_isalpha(static_cast<unsigned char>(cp))) {
      code.push_back(absl::ascii_toupper(static_cast<unsigned char>(cp)));
    } else if (cp == U' ' || cp == U'-' || cp == U'\'' || cp == U'’') {
      continue;
    } else if (auto it = kFold.find(cp); it != kFold.end()) {
      code.push_back(it->second);
    } else {
      return std::nullopt;
    }
  }
  return code;
}

bool IsYes(absl::string_view s) { return absl::EqualsIgnoreCase(s, "yes"); }
bool IsNo(absl::string_view s) { return absl::EqualsIgnoreCase(s, "no") || s.empty(); }

// Text with every "(…)" removed (ASCII or full-width parentheses), trimmed.
std::string WithoutParentheses(absl::string_view s) {
  std::string out;
  int depth = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    const char32_t cp = NextCodePoint(s, i);
    if (cp == U'(' || cp == U'（') {
      ++depth;
    } else if (cp == U')' || cp == U'）') {
      if (depth > 0) --depth;
    } else if (depth == 0) {
      out.append(s.data() + start, i - start);
    }
  }
  return std::string(absl::StripAsciiWhitespace(out));
}

// The analyte code of a row (see the top of this file).
absl::StatusOr<std::string> AnalyteCode(absl::string_view name, absl::string_view category) {
  // A chemical symbol alone in parentheses.
  for (size_t open = name.find('('); open != absl::string_view::npos;
       open = name.find('(', open + 1)) {
    const size_t close = name.find(')', open);
    if (close == absl::string_view::npos) break;
    const absl::string_view inner = name.substr(open + 1, close - open - 1);
    if ((inner.size() == 1 || inner.size() == 2) && absl::ascii_isupper(inner[0]) &&
        (inner.size() == 1 || absl::ascii_islower(inner[1]))) {
      return absl::AsciiStrToLower(inner);
    }
  }
  std::string words;
  for (char c : WithoutParentheses(name)) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x80 && absl::ascii_isalnum(u)) {
      words.push_back(absl::ascii_tolower(u));
    } else if (!words.empty() && words.back() != '_') {
      words.push_back('_');
    }
  }
  while (!words.empty() && words.back() == '_') words.pop_back();
  if (absl::StartsWith(words, "sulfur_dioxide")) return std::string("so2");
  if ((category == "pesticide_banned" || category == "pesticide_monograph") &&
      !absl::StartsWith(words, "pesticide")) {
    words = absl::StrCat("pesticide_", words);
  }
  if (!ValidateAnalyteCode(words, "analyte").ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot derive an analyte code from '", name, "' (got '", words, "')"));
  }
  return words;
}

struct Scale {
  int64_t ng_per_kg;
  v1::DisplayUnit display;
};

std::optional<Scale> UnitScale(absl::string_view unit) {
  if (unit == "mg/kg") return Scale{1'000'000, v1::DISPLAY_UNIT_MG_PER_KG};
  if (unit == "ug/kg" || unit == "µg/kg" || unit == "μg/kg") {
    return Scale{1'000, v1::DISPLAY_UNIT_UG_PER_KG};
  }
  if (unit == "%") return Scale{10'000'000'000, v1::DISPLAY_UNIT_PERCENT};
  return std::nullopt;
}

// "12.5" × scale, exactly; nullopt if not a plain decimal, not whole in ng/kg, or too large.
std::optional<int64_t> ScaledDecimal(absl::string_view text, int64_t scale) {
  text = absl::StripAsciiWhitespace(text);
  const size_t dot = text.find('.');
  const absl::string_view whole = text.substr(0, dot);
  const absl::string_view frac = dot == absl::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || (dot != absl::string_view::npos && frac.empty())) return std::nullopt;
  absl::uint128 value = 0;
  for (char c : whole) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value = value * 10 + (c - '0');
    if (value > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  }
  absl::uint128 denominator = 1;
  for (char c : frac) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value = value * 10 + (c - '0');
    denominator *= 10;
    if (value > static_cast<uint64_t>(INT64_MAX) ||
        denominator > static_cast<uint64_t>(INT64_MAX)) {
      return std::nullopt;
    }
  }
  const absl::uint128 scaled = value * static_cast<uint64_t>(scale);
  if (scaled % denominator != 0 || scaled / denominator > static_cast<uint64_t>(INT64_MAX)) {
    return std::nullopt;
  }
  return static_cast<int64_t>(absl::Uint128Low64(scaled / denominator));
}

// The leading number of `text`, e.g. "0.05" of "0.05 (draft)"; empty if none.
absl::string_view LeadingNumber(absl::string_view text) {
  size_t n = 0;
  while (n < text.size() &&
         (absl::ascii_isdigit(static_cast<unsigned char>(text[n])) || text[n] == '.')) {
    ++n;
  }
  return text.substr(0, n);
}

struct Applicability {
  bool all = false;
  std::vector<std::string> herb_codes;
};

}  // namespace

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text, absl::string_view file) {
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<CsvRecord> records;
  int line = 1;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    CsvRecord record;
    record.line = line;
    for (;;) {
      std::string field;
      if (i < n && text[i] == '"') {
        const int quote_line = line;
        ++i;
        for (;;) {
          if (i >= n) return LineError(file, quote_line, "a quoted field is never closed");
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
          ++i;
        }
        if (i < n && text[i] != ',' && text[i] != '\r' && text[i] != '\n') {
          return LineError(
              file, line,
              absl::StrCat("field ", record.fields.size() + 1, ": text after the closing quote"));
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\r' && text[i] != '\n') {
          if (text[i] == '"') {
            return LineError(file, line,
                             absl::StrCat("field ", record.fields.size() + 1,
                                          ": a quote inside an unquoted field (quote the field "
                                          "and double the quote)"));
          }
          field.push_back(text[i++]);
        }
      }
      record.fields.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      break;
    }
    if (i < n && text[i] == '\r') ++i;
    if (i < n && text[i] == '\n') {
      ++i;
      ++line;
    } else if (i < n) {
      return LineError(file, line, "a carriage return not followed by a line feed");
    }
    const bool blank = record.fields.size() == 1 && record.fields[0].empty();
    if (!blank) records.push_back(std::move(record));
  }
  return records;
}

absl::StatusOr<v1::LoadHerbCatalog> ParseHerbCatalog(absl::string_view csv,
                                                     absl::string_view version,
                                                     absl::string_view file) {
  if (absl::Status s = ValidateVersion(version, "version"); !s.ok()) return s;
  auto records = ParseCsv(csv, file);
  if (!records.ok()) return records.status();
  auto columns =
      Header(*records, file, {"zh_name", "pinyin", "latin_name", "species", "part", "qi_yao"});
  if (!columns.ok()) return columns.status();
  const CsvColumns& col = *columns;
  v1::LoadHerbCatalog catalog;
  catalog.set_version(std::string(version));
  absl::flat_hash_map<std::string, int> code_count;
  absl::flat_hash_map<std::string, int> zh_seen;
  for (size_t k = 1; k < records->size(); ++k) {
    const CsvRecord& r = (*records)[k];
    v1::Herb herb;
    herb.set_zh_name(col(r, "zh_name"));
    if (herb.zh_name().empty()) return ColumnError(file, r.line, "zh_name", "required");
    if (auto [it, fresh] = zh_seen.emplace(herb.zh_name(), r.line); !fresh) {
      return ColumnError(file, r.line, "zh_name",
                         absl::StrCat(herb.zh_name(), " already on line ", it->second));
    }
    herb.set_pinyin(col(r, "pinyin"));
    std::optional<std::string> code = PinyinCode(herb.pinyin());
    if (!code.has_value() || code->empty()) {
      return ColumnError(file, r.line, "pinyin",
                         absl::StrCat("'", herb.pinyin(), "' is not pinyin in Latin letters"));
    }
    const int homophones = ++code_count[*code];
    if (homophones > 1) absl::StrAppend(&*code, homophones);
    if (absl::Status s = ValidateHerbCode(*code, "code"); !s.ok()) {
      return ColumnError(file, r.line, "pinyin", s.message());
    }
    herb.set_code(*code);
    herb.set_latin_name(col(r, "latin_name"));
    herb.set_species(col(r, "species"));
    herb.set_medicinal_part(col(r, "part"));
    const std::string qi_yao = col(r, "qi_yao");
    if (!IsYes(qi_yao) && !IsNo(qi_yao)) {
      return ColumnError(file, r.line, "qi_yao", absl::StrCat("'", qi_yao, "' is not yes or no"));
    }
    herb.set_qi_yao(IsYes(qi_yao));
    *catalog.add_herbs() = std::move(herb);
  }
  if (catalog.herbs().empty()) return LineError(file, records->front().line, "no herbs");
  return catalog;
}

absl::StatusOr<ParsedLimits> ParseQualityLimits(absl::string_view csv,
                                                const v1::LoadHerbCatalog& catalog,
                                                absl::string_view version,
                                                absl::string_view supersedes,
                                                absl::string_view file) {
  if (absl::Status s = ValidateVersion(version, "version"); !s.ok()) return s;
  auto records = ParseCsv(csv, file);
  if (!records.ok()) return records.status();
  auto columns = Header(*records, file,
                        {"analyte", "category", "limit", "unit", "applies_to", "rule", "source"});
  if (!columns.ok()) return columns.status();
  const CsvColumns& col = *columns;
  absl::flat_hash_map<std::string, std::string> code_of_name;
  for (const v1::Herb& herb : catalog.herbs()) code_of_name[herb.zh_name()] = herb.code();

  ParsedLimits out;
  out.limits.set_version(std::string(version));
  out.limits.set_supersedes(std::string(supersedes));
  out.limits.set_source_document("catalog/quality-limits.csv (see catalog/SOURCES.md)");
  // Applicability of the rows read so far, by lower-case analyte name ("same herb list as …").
  absl::flat_hash_map<std::string, Applicability> applicability_of;

  for (size_t k = 1; k < records->size(); ++k) {
    const CsvRecord& r = (*records)[k];
    v1::LimitRow row;
    std::vector<std::string> notes;
    const std::string name = col(r, "analyte");
    const std::string category = col(r, "category");
    if (name.empty()) return ColumnError(file, r.line, "analyte", "required");
    if (absl::StartsWith(category, "export_")) {
      out.skipped.push_back(absl::StrCat(file, ":", r.line, ": ", name, ": category ", category,
                                         " is another jurisdiction's limit, not judged here"));
      continue;
    }
    row.set_analyte_name(name);
    absl::string_view code_name = name;
    if (category == "food_use") {
      absl::ConsumeSuffix(&code_name, " food use");
      absl::ConsumeSuffix(&code_name, " food-use");
    }
    auto analyte = AnalyteCode(code_name, category);
    if (!analyte.ok()) return ColumnError(file, r.line, "analyte", analyte.status().message());
    row.set_analyte(*analyte);

    static const std::map<std::string, v1::LimitCategory> kCategories = {
        {"heavy_metal", v1::LIMIT_CATEGORY_HEAVY_METAL},
        {"so2", v1::LIMIT_CATEGORY_SULFUR_DIOXIDE},
        {"mycotoxin", v1::LIMIT_CATEGORY_MYCOTOXIN},
        {"pesticide", v1::LIMIT_CATEGORY_PESTICIDE},
        {"pesticide_banned", v1::LIMIT_CATEGORY_PESTICIDE_BANNED},
        {"pesticide_monograph", v1::LIMIT_CATEGORY_PESTICIDE_MONOGRAPH},
        {"physical", v1::LIMIT_CATEGORY_PHYSICAL},
        {"microbial", v1::LIMIT_CATEGORY_MICROBIAL},
        {"assay", v1::LIMIT_CATEGORY_ASSAY}};
    row.set_use(v1::PRODUCT_USE_MEDICINAL);
    if (category == "food_use") {
      row.set_use(v1::PRODUCT_USE_FOOD);
      static const absl::flat_hash_map<std::string, v1::LimitCategory> kFoodCategory = {
          {"pb", v1::LIMIT_CATEGORY_HEAVY_METAL}, {"cd", v1::LIMIT_CATEGORY_HEAVY_METAL},
          {"as", v1::LIMIT_CATEGORY_HEAVY_METAL}, {"hg", v1::LIMIT_CATEGORY_HEAVY_METAL},
          {"cu", v1::LIMIT_CATEGORY_HEAVY_METAL}, {"so2", v1::LIMIT_CATEGORY_SULFUR_DIOXIDE}};
      auto it = kFoodCategory.find(row.analyte());
      row.set_category(it == kFoodCategory.end() ? v1::LIMIT_CATEGORY_UNSPECIFIED : it->second);
    } else if (auto it = kCategories.find(category); it != kCategories.end()) {
      row.set_category(it->second);
    } else {
      return ColumnError(file, r.line, "category",
                         absl::StrCat("unknown category '", category, "'"));
    }

    const std::string unit = col(r, "unit");
    const std::optional<Scale> scale = UnitScale(unit);
    if (!scale.has_value()) {
      return ColumnError(file, r.line, "unit",
                         absl::StrCat("'", unit, "' is not mg/kg, ug/kg or %"));
    }
    row.set_display_unit(scale->display);
    const std::string limit = col(r, "limit");
    absl::string_view rest = limit;
    const auto set_limit = [&](absl::string_view number) -> absl::Status {
      std::optional<int64_t> v = ScaledDecimal(number, scale->ng_per_kg);
      if (!v.has_value()) {
        return ColumnError(
            file, r.line, "limit",
            absl::StrCat("'", number, " ", unit, "' is not a whole number of ng/kg within range"));
      }
      row.mutable_limit()->set_value(*v);
      row.mutable_limit()->set_unit(v1::MEASURE_UNIT_NG_PER_KG);
      return absl::OkStatus();
    };
    const bool at_most = absl::ConsumePrefix(&rest, "<=") || absl::ConsumePrefix(&rest, "≤");
    const bool at_least =
        !at_most && (absl::ConsumePrefix(&rest, ">=") || absl::ConsumePrefix(&rest, "≥"));
    rest = absl::StripLeadingAsciiWhitespace(rest);
    if (at_most && absl::ConsumePrefix(&rest, "LOQ")) {
      row.set_rule(v1::LIMIT_RULE_NOT_DETECTED);
      rest = absl::StripLeadingAsciiWhitespace(rest);
      const absl::string_view number = LeadingNumber(rest);
      if (!number.empty()) {
        if (absl::Status s = set_limit(number); !s.ok()) return s;
      } else {
        notes.push_back(absl::StrCat("limit '", limit, "': LOQ not given, any detection fails"));
      }
    } else if (at_most || at_least) {
      row.set_rule(at_most ? v1::LIMIT_RULE_MAX : v1::LIMIT_RULE_MIN);
      if (LeadingNumber(rest) != rest) {
        return ColumnError(file, r.line, "limit", absl::StrCat("'", limit, "' is not a number"));
      }
      if (absl::Status s = set_limit(rest); !s.ok()) return s;
    } else if (absl::StartsWithIgnoreCase(limit, "not detected")) {
      row.set_rule(v1::LIMIT_RULE_NOT_DETECTED);
      notes.push_back(absl::StrCat("limit '", limit, "': LOQ not given, any detection fails"));
    } else {
      row.set_rule(v1::LIMIT_RULE_INFORMATIONAL);
      notes.push_back(absl::StrCat("limit '", limit, "': not a number, recorded, never judged"));
    }

    const std::string applies = col(r, "applies_to");
    Applicability applicability;
    if (absl::StartsWithIgnoreCase(applies, "all")) {
      applicability.all = true;
    } else if (absl::StartsWithIgnoreCase(applies, "same herb list as ")) {
      const std::string other =
          absl::AsciiStrToLower(absl::StripAsciiWhitespace(absl::string_view(applies).substr(18)));
      auto it = applicability_of.find(other);
      if (it == applicability_of.end()) {
        return ColumnError(file, r.line, "applies_to",
                           absl::StrCat("no earlier row for analyte '", other, "'"));
      }
      applicability = it->second;
    } else if (absl::StartsWithIgnoreCase(applies, "herb list")) {
      applicability.all = true;
      notes.push_back("the file names no herbs ('" + applies + "'); applied to every herb");
    } else {
      std::vector<std::string> unknown;
      for (absl::string_view item :
           absl::StrSplit(applies, absl::ByAnyChar(";"), absl::SkipWhitespace())) {
        const std::string herb_name = WithoutParentheses(item);
        auto it = code_of_name.find(herb_name);
        if (it == code_of_name.end()) {
          if (row.rule() != v1::LIMIT_RULE_INFORMATIONAL) {
            return ColumnError(file, r.line, "applies_to",
                               absl::StrCat("herb ", herb_name, " is not in the catalog"));
          }
          unknown.push_back(herb_name);
          continue;
        }
        if (std::find(applicability.herb_codes.begin(), applicability.herb_codes.end(),
                      it->second) == applicability.herb_codes.end()) {
          applicability.herb_codes.push_back(it->second);
        }
      }
      if (!unknown.empty()) {
        notes.push_back(
            absl::StrCat("not in the catalog, left out: ", absl::StrJoin(unknown, ", ")));
      }
      if (applicability.herb_codes.empty()) {
        if (unknown.empty()) return ColumnError(file, r.line, "applies_to", "names no herb");
        out.skipped.push_back(absl::StrCat(file, ":", r.line, ": ", name,
                                           ": applies only to herbs not in the catalog (",
                                           absl::StrJoin(unknown, ", "), ")"));
        continue;
      }
    }
    applicability_of[absl::AsciiStrToLower(name)] = applicability;
    row.set_applies_to_all(applicability.all);
    for (const std::string& code : applicability.herb_codes) row.add_herb_codes(code);

    std::string note = col(r, "rule");
    for (const std::string& n : notes) {
      absl::StrAppend(&note, note.empty() ? "" : " ", "[", n, "]");
    }
    row.set_note(note);
    row.set_source(col(r, "source"));
    *out.limits.add_rows() = std::move(row);
  }
  if (out.limits.rows().empty()) return LineError(file, records->front().line, "no limit rows");
  return out;
}

namespace {

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

absl::StatusOr<v1::LoadHerbCatalog> ReadHerbCatalogFile(const std::string& path,
                                                        absl::string_view version) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  return ParseHerbCatalog(*text, version, BaseName(path));
}

absl::StatusOr<ParsedLimits> ReadQualityLimitsFile(const std::string& path,
                                                   const v1::LoadHerbCatalog& catalog,
                                                   absl::string_view version,
                                                   absl::string_view supersedes) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  return ParseQualityLimits(*text, catalog, version, supersedes, BaseName(path));
}

}  // namespace herbtrace::domain
