#include "services/server/lineage_walk.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace herbtrace::server {
namespace {

using ::herbtrace::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(LineageWalkTest, ADagIsWalkedBreadthFirstEachLotOnceAtItsSmallestDepth) {
  // a → b, a → c, b → d, c → d (a merge), d → e
  std::map<std::string, std::vector<std::string>> children = {
      {"a", {"c", "b"}}, {"b", {"d"}}, {"c", {"d"}}, {"d", {"e"}}};
  auto walk = WalkLineage(
      "a",
      [&](const std::string& id) -> absl::StatusOr<std::vector<std::string>> {
        return children[id];
      },
      WalkLimits{});
  ASSERT_TRUE(walk.ok()) << walk.status();
  std::vector<std::pair<std::string, uint32_t>> lots;
  for (const WalkedLot& lot : walk->lots) lots.emplace_back(lot.batch_id, lot.depth);
  EXPECT_THAT(lots, ElementsAre(Pair("a", 0u), Pair("b", 1u), Pair("c", 1u), Pair("d", 2u),
                                Pair("e", 3u)));
  EXPECT_THAT(walk->links, ElementsAre(Pair("a", "b"), Pair("a", "c"), Pair("b", "d"),
                                       Pair("c", "d"), Pair("d", "e")));
}

// The brief's requirement: a 100,000-step chain walks without deep recursion.
TEST(LineageWalkTest, AHundredThousandStepChainDoesNotOverflowTheStack) {
  constexpr int kSteps = 100'000;
  auto walk = WalkLineage(
      "0",
      [&](const std::string& id) -> absl::StatusOr<std::vector<std::string>> {
        const int n = std::stoi(id);
        if (n == kSteps) return std::vector<std::string>{};
        return std::vector<std::string>{absl::StrCat(n + 1)};
      },
      WalkLimits{kSteps + 1, kSteps + 1, "upstream of 0"});
  ASSERT_TRUE(walk.ok()) << walk.status();
  EXPECT_EQ(walk->lots.size(), size_t{kSteps + 1});
  EXPECT_EQ(walk->lots.back().depth, uint32_t{kSteps});
}

TEST(LineageWalkTest, ALongerChainThanTheLimitIsResourceExhaustedNamingTheLimit) {
  auto walk = WalkLineage(
      "0",
      [&](const std::string& id) -> absl::StatusOr<std::vector<std::string>> {
        return std::vector<std::string>{absl::StrCat(std::stoi(id) + 1)};
      },
      WalkLimits{1000, 100000, "upstream of 0"});
  EXPECT_THAT(walk, StatusIs(absl::StatusCode::kResourceExhausted,
                             HasSubstr("upstream of 0 has more than 1000 lots")));
}

TEST(LineageWalkTest, TooManyLinksIsResourceExhausted) {
  auto walk = WalkLineage(
      "root",
      [&](const std::string& id) -> absl::StatusOr<std::vector<std::string>> {
        if (id != "root") return std::vector<std::string>{};
        std::vector<std::string> many;
        for (int i = 0; i < 100; ++i) many.push_back(absl::StrCat("c", i));
        return many;
      },
      WalkLimits{1000, 50, "downstream of root"});
  EXPECT_THAT(walk, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("50 lineage links")));
}

TEST(LineageWalkTest, ANeighbourErrorAndCancellationStopTheWalk) {
  auto failing = WalkLineage(
      "a",
      [](const std::string&) -> absl::StatusOr<std::vector<std::string>> {
        return absl::DataLossError("lineage_up: malformed");
      },
      WalkLimits{});
  EXPECT_THAT(failing, StatusIs(absl::StatusCode::kDataLoss));
  auto cancelled = WalkLineage(
      "a",
      [](const std::string&) -> absl::StatusOr<std::vector<std::string>> {
        return std::vector<std::string>{};
      },
      WalkLimits{}, [] { return true; });
  EXPECT_THAT(cancelled, StatusIs(absl::StatusCode::kCancelled));
}

}  // namespace
}  // namespace herbtrace::server
