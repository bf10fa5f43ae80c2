#include "services/domain/signature_algorithm.h"

#include "tests/test_util.h"

namespace herbtrace::domain {
namespace {

using ::herbtrace::testing::StatusIs;
using ::testing::StartsWith;

TEST(ProtoAlgorithmTest, EveryCryptoAlgorithmRoundTripsThroughTheWireEnum) {
  for (crypto::SignatureAlgorithm algorithm :
       {crypto::SignatureAlgorithm::kEd25519, crypto::SignatureAlgorithm::kSm2}) {
    HT_ASSERT_OK_AND_ASSIGN(crypto::SignatureAlgorithm back,
                            FromProtoAlgorithm(ToProtoAlgorithm(algorithm), "algorithm"));
    EXPECT_EQ(back, algorithm);
  }
  EXPECT_EQ(ToProtoAlgorithm(crypto::SignatureAlgorithm::kEd25519),
            v1::SIGNATURE_ALGORITHM_ED25519);
  EXPECT_EQ(ToProtoAlgorithm(crypto::SignatureAlgorithm::kSm2), v1::SIGNATURE_ALGORITHM_SM2);
}

TEST(ProtoAlgorithmTest, UnspecifiedAndUnknownAreInvalidArgumentNamingTheField) {
  EXPECT_THAT(FromProtoAlgorithm(v1::SIGNATURE_ALGORITHM_UNSPECIFIED, "signed_event.algorithm"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("signed_event.algorithm: unknown signature algorithm 0")));
  EXPECT_THAT(FromProtoAlgorithm(static_cast<v1::SignatureAlgorithm>(7), "key.algorithm"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("key.algorithm: ")));
}

}  // namespace
}  // namespace herbtrace::domain
