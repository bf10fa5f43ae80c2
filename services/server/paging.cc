#include "services/server/paging.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace herbtrace::server {
namespace {

constexpr absl::string_view kTokenVersion = "p1";

std::string Fingerprint(absl::string_view filters) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : filters) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return absl::StrFormat("%016x", h);
}

}  // namespace

std::string MakePageToken(absl::string_view filters, absl::string_view position) {
  const std::string raw = absl::StrCat(kTokenVersion, "\n", Fingerprint(filters), "\n", position);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<PageRequest> ParsePageRequest(uint32_t page_size, absl::string_view page_token,
                                             absl::string_view filters) {
  PageRequest page;
  page.size = page_size == 0 ? kDefaultPageSize : std::min<size_t>(page_size, kMaxPageSize);
  if (page_token.empty()) return page;
  std::string raw;
  if (!absl::WebSafeBase64Unescape(page_token, &raw)) {
    return absl::InvalidArgumentError("page_token: not a token this server made");
  }
  const std::string want_head = absl::StrCat(kTokenVersion, "\n", Fingerprint(filters), "\n");
  if (raw.size() < want_head.size() || raw.compare(0, kTokenVersion.size() + 1,
                                                   absl::StrCat(kTokenVersion, "\n")) != 0) {
    return absl::InvalidArgumentError("page_token: not a token this server made");
  }
  if (raw.compare(0, want_head.size(), want_head) != 0) {
    return absl::InvalidArgumentError(
        "page_token: made for a request with other filters; repeat the filters of the first page");
  }
  page.has_position = true;
  page.after = raw.substr(want_head.size());
  return page;
}

}  // namespace herbtrace::server
