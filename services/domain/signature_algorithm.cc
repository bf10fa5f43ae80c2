#include "services/domain/signature_algorithm.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace herbtrace::domain {

v1::SignatureAlgorithm ToProtoAlgorithm(crypto::SignatureAlgorithm algorithm) {
  switch (algorithm) {
    case crypto::SignatureAlgorithm::kEd25519:
      return v1::SIGNATURE_ALGORITHM_ED25519;
    case crypto::SignatureAlgorithm::kSm2:
      return v1::SIGNATURE_ALGORITHM_SM2;
  }
  return v1::SIGNATURE_ALGORITHM_UNSPECIFIED;
}

absl::StatusOr<crypto::SignatureAlgorithm> FromProtoAlgorithm(v1::SignatureAlgorithm algorithm,
                                                              absl::string_view field) {
  switch (algorithm) {
    case v1::SIGNATURE_ALGORITHM_ED25519:
      return crypto::SignatureAlgorithm::kEd25519;
    case v1::SIGNATURE_ALGORITHM_SM2:
      return crypto::SignatureAlgorithm::kSm2;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": unknown signature algorithm ", static_cast<int>(algorithm)));
  }
}

}  // namespace herbtrace::domain
