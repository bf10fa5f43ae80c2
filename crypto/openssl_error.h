// Internal to crypto/: RAII for OpenSSL handles and errors that carry the OpenSSL error queue.
// Never include from outside crypto/ (the only folder that sees <openssl/...>).
#ifndef HERBTRACE_CRYPTO_OPENSSL_ERROR_H_
#define HERBTRACE_CRYPTO_OPENSSL_ERROR_H_

#include <memory>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace herbtrace::crypto::internal {

// One stateless deleter per OpenSSL type, so an OpenSslPtr costs no more than a raw pointer.
template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};

template <typename T>
struct OpenSslFree;
template <>
struct OpenSslFree<EVP_PKEY> {
  static void Free(EVP_PKEY* p) { EVP_PKEY_free(p); }
};
template <>
struct OpenSslFree<EVP_PKEY_CTX> {
  static void Free(EVP_PKEY_CTX* p) { EVP_PKEY_CTX_free(p); }
};
template <>
struct OpenSslFree<EVP_MD_CTX> {
  static void Free(EVP_MD_CTX* p) { EVP_MD_CTX_free(p); }
};
template <>
struct OpenSslFree<EVP_MD> {
  static void Free(EVP_MD* p) { EVP_MD_free(p); }
};
template <>
struct OpenSslFree<BIO> {
  static void Free(BIO* p) { BIO_free(p); }
};
template <>
struct OpenSslFree<ECDSA_SIG> {
  static void Free(ECDSA_SIG* p) { ECDSA_SIG_free(p); }
};

template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter<T, &OpenSslFree<T>::Free>>;

// Returns `code` with "`what`: <every queued OpenSSL error>" and clears the thread's queue, so a
// stale error is never blamed on a later, unrelated call (gRPC's TLS shares this queue).
absl::Status OpenSslError(absl::string_view what,
                          absl::StatusCode code = absl::StatusCode::kInternal);

// Clears the thread's OpenSSL error queue; call after a failure that was handled on purpose.
void ClearOpenSslErrors();

}  // namespace herbtrace::crypto::internal

#endif  // HERBTRACE_CRYPTO_OPENSSL_ERROR_H_
