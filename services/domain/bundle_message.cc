#include "services/domain/bundle_message.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace herbtrace::domain {

std::string BundleMessage(absl::string_view log_origin, uint64_t size, const crypto::Digest& root) {
  return absl::StrCat("herbtrace bundle v1\n", log_origin, "\n", size, "\n",
                      absl::Base64Escape(crypto::AsBytes(root)), "\n");
}

}  // namespace herbtrace::domain
