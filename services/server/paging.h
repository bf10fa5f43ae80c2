// Paging of the List* calls (registry.proto, recall.proto): page_size 0 means 100, anything above
// 1000 is served as 1000; an empty next_page_token means the end.
//
// Page tokens are opaque to clients and carry no server state, so any reader replica can serve
// the next page:
//   token := base64url_unpadded("p1" ‖ 0x0A ‖ hex16(FNV-1a 64 of the request's filters) ‖ 0x0A ‖
//                               position key)
// The position key is the sort key of the last item served; the next page starts after it. A
// token used with other filters, or not made by this server, is INVALID_ARGUMENT.
#ifndef HERBTRACE_SERVICES_SERVER_PAGING_H_
#define HERBTRACE_SERVICES_SERVER_PAGING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace herbtrace::server {

inline constexpr size_t kDefaultPageSize = 100;
inline constexpr size_t kMaxPageSize = 1000;

struct PageRequest {
  size_t size = kDefaultPageSize;
  bool has_position = false;
  std::string after;  // position key of the last item served, when has_position
};

// `filters` is any text that changes whenever the request's filters do.
absl::StatusOr<PageRequest> ParsePageRequest(uint32_t page_size, absl::string_view page_token,
                                             absl::string_view filters);
std::string MakePageToken(absl::string_view filters, absl::string_view position);

// One page of `items`, which are sorted by `key(item)` ascending under `less`. Sets
// *next_page_token when more items follow.
template <typename T, typename KeyFn, typename Less>
std::vector<T> TakePage(std::vector<T> items, const PageRequest& page, absl::string_view filters,
                        KeyFn key, Less less, std::string* next_page_token) {
  std::vector<T> out;
  next_page_token->clear();
  size_t i = 0;
  if (page.has_position) {
    while (i < items.size() && !less(page.after, key(items[i]))) ++i;
  }
  for (; i < items.size() && out.size() < page.size; ++i) out.push_back(std::move(items[i]));
  if (i < items.size() && !out.empty()) *next_page_token = MakePageToken(filters, key(out.back()));
  return out;
}

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_PAGING_H_
