#include "services/server/paging.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace herbtrace::server {
namespace {

using ::herbtrace::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Page(const std::vector<std::string>& all, const PageRequest& page,
                              std::string* next) {
  return TakePage(
      all, page, "f", [](const std::string& s) { return s; },
      [](const std::string& a, const std::string& b) { return a < b; }, next);
}

TEST(PagingTest, PageSizeDefaultsTo100AndIsCappedAt1000) {
  EXPECT_EQ(ParsePageRequest(0, "", "f")->size, 100u);
  EXPECT_EQ(ParsePageRequest(7, "", "f")->size, 7u);
  EXPECT_EQ(ParsePageRequest(5000, "", "f")->size, 1000u);
}

TEST(PagingTest, TokensWalkThroughEveryItemOnce) {
  const std::vector<std::string> all = {"a", "b", "c", "d", "e"};
  std::string next;
  auto first = Page(all, *ParsePageRequest(2, "", "f"), &next);
  EXPECT_THAT(first, ElementsAre("a", "b"));
  auto second = Page(all, *ParsePageRequest(2, next, "f"), &next);
  EXPECT_THAT(second, ElementsAre("c", "d"));
  auto third = Page(all, *ParsePageRequest(2, next, "f"), &next);
  EXPECT_THAT(third, ElementsAre("e"));
  EXPECT_TRUE(next.empty());
}

TEST(PagingTest, ATokenForOtherFiltersOrNotOursIsInvalidArgument) {
  const std::string token = MakePageToken("role=3", "13068300000003");
  EXPECT_THAT(ParsePageRequest(10, token, "role=4"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("other filters")));
  EXPECT_THAT(ParsePageRequest(10, "%%%", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(ParsePageRequest(10, "aGVsbG8", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

}  // namespace
}  // namespace herbtrace::server
