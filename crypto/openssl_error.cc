#include "crypto/openssl_error.h"

#include <string>

#include <openssl/err.h>

#include "absl/strings/str_cat.h"

namespace herbtrace::crypto::internal {

absl::Status OpenSslError(absl::string_view what, absl::StatusCode code) {
  std::string message(what);
  unsigned long err;
  bool first = true;
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    absl::StrAppend(&message, first ? ": " : "; ", buf);
    first = false;
  }
  return absl::Status(code, message);
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace herbtrace::crypto::internal
