// The Capture service's bound on appends in flight: unary calls take what fits or nothing,
// streams take regardless and only ask whether there is room.
#include "services/server/append_budget.h"

#include "gtest/gtest.h"

namespace herbtrace::server {
namespace {

TEST(AppendBudgetTest, TakesWhatFitsAndNothingOfWhatDoesNot) {
  AppendBudget budget(3);
  EXPECT_TRUE(budget.TryTake(2));
  EXPECT_FALSE(budget.TryTake(2));  // 4 > 3: nothing taken
  EXPECT_EQ(budget.in_flight(), 2u);
  EXPECT_TRUE(budget.TryTake(1));
  EXPECT_FALSE(budget.HasRoom());
  EXPECT_FALSE(budget.TryTake(1));
  budget.Give(2);
  EXPECT_TRUE(budget.HasRoom());
  EXPECT_TRUE(budget.TryTake(2));
  EXPECT_EQ(budget.in_flight(), 3u);
}

TEST(AppendBudgetTest, AStreamTakesBeyondTheLimitAndUnaryCallsWaitForAllOfItBack) {
  AppendBudget budget(2);
  budget.Take(1);
  budget.Take(2);  // a stream is never refused
  EXPECT_EQ(budget.in_flight(), 3u);
  EXPECT_FALSE(budget.HasRoom());
  EXPECT_FALSE(budget.TryTake(1));
  budget.Give(2);
  EXPECT_TRUE(budget.TryTake(1));
  EXPECT_FALSE(budget.TryTake(1));
}

TEST(AppendBudgetTest, AnEmptyBundleAlwaysFits) {
  AppendBudget budget(1);
  budget.Take(1);
  EXPECT_TRUE(budget.TryTake(0));
  EXPECT_EQ(budget.in_flight(), 1u);
}

}  // namespace
}  // namespace herbtrace::server
