#include "services/server/status.h"

#include "gtest/gtest.h"

namespace herbtrace::server {
namespace {

TEST(StatusTest, EveryCanonicalCodeCrossesUnchangedBothWays) {
  for (int code = 0; code <= 16; ++code) {
    const absl::Status in(static_cast<absl::StatusCode>(code), code == 0 ? "" : "batch_id: x");
    const grpc::Status wire = ToGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(wire.error_code()), code);
    if (code != 0) {
      EXPECT_EQ(wire.error_message(), "batch_id: x");
    }
    const absl::Status back = FromGrpcStatus(wire);
    EXPECT_EQ(back, in) << code;
  }
}

TEST(StatusTest, MessageIsKeptByteForByte) {
  const std::string message = "code: \"1130\xe2\x80\xa6\" 黄芪 has a wrong check digit";
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError(message)).error_message(), message);
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::OUT_OF_RANGE, message)).message(),
            message);
}

TEST(StatusTest, CodesOutsideTheCanonicalSetBecomeUnknown) {
  EXPECT_EQ(ToGrpcStatus(absl::Status(static_cast<absl::StatusCode>(42), "odd")).error_code(),
            grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(99), "odd")).code(),
            absl::StatusCode::kUnknown);
}

}  // namespace
}  // namespace herbtrace::server
