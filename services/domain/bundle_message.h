// The text an offline bundle's root signature signs (capture.proto, "Bundles"):
//
//   "herbtrace bundle v1\n" ‖ log_origin ‖ "\n" ‖ decimal(size) ‖ "\n" ‖ base64(root) ‖ "\n"
//
// One home for it: herbctl signs it, the Capture service and every verifier (herbctl verify, the
// signature audit) check it.
#ifndef HERBTRACE_SERVICES_DOMAIN_BUNDLE_MESSAGE_H_
#define HERBTRACE_SERVICES_DOMAIN_BUNDLE_MESSAGE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "crypto/hash.h"

namespace herbtrace::domain {

std::string BundleMessage(absl::string_view log_origin, uint64_t size, const crypto::Digest& root);

}  // namespace herbtrace::domain

#endif  // HERBTRACE_SERVICES_DOMAIN_BUNDLE_MESSAGE_H_
