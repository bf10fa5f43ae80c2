#include "services/server/append_budget.h"

namespace herbtrace::server {

bool AppendBudget::TryTake(size_t events) {
  size_t now = in_flight_.load(std::memory_order_relaxed);
  do {
    if (now + events > limit_) return false;
  } while (!in_flight_.compare_exchange_weak(now, now + events, std::memory_order_relaxed));
  return true;
}

}  // namespace herbtrace::server
