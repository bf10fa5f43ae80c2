#include "services/cli/output.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "herbtrace/v1/recall.pb.h"

namespace herbtrace::cli {
namespace {

using ::testing::HasSubstr;

TEST(ProtoToJsonTest, PrintsProtoFieldNamesAndTimesAsRfc3339) {
  v1::RecallView view;
  view.set_recall_id("00000000-0000-4000-8000-000000001006");
  view.mutable_ack_deadline()->set_seconds(1726358400);
  const nlohmann::json json = ProtoToJson(view);
  EXPECT_EQ(json.value("recall_id", ""), "00000000-0000-4000-8000-000000001006");
  EXPECT_EQ(json.value("ack_deadline", ""), "2024-09-15T00:00:00Z");
  EXPECT_FALSE(json.contains("unprintable"));
}

// A recall whose deadline protobuf refuses to print (from a faulty or hostile server) used to
// print as {}: the whole answer vanished from `--json` without a word.
TEST(ProtoToJsonTest, AMessageProtobufCannotPrintSaysWhy) {
  v1::RecallView view;
  view.set_recall_id("00000000-0000-4000-8000-000000001006");
  view.mutable_ack_deadline()->set_nanos(-1);
  const nlohmann::json json = ProtoToJson(view);
  ASSERT_TRUE(json.contains("unprintable")) << json.dump();
  EXPECT_THAT(json["unprintable"].get<std::string>(), HasSubstr("nanos"));
}

}  // namespace
}  // namespace herbtrace::cli
