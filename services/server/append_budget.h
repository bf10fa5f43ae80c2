// The Capture service's bound on appends handed to the ledger and not yet answered, across all
// connections: each SubmitStream is bounded on its own (max_stream_in_flight), but the number of
// connections is not, so without this many unary Submit and SubmitBundle callers could queue
// without bound in the ledger's memory.
//
// Unary calls take their events (a bundle all of its events) or are refused; streams are never
// refused: they add what they append and stop reading while the budget is spent (see
// SubmitStreamReactor), each keeping at most one event in flight then, so the total may pass the
// limit by one event per open stream.
//
// Thread-safe.
#ifndef HERBTRACE_SERVICES_SERVER_APPEND_BUDGET_H_
#define HERBTRACE_SERVICES_SERVER_APPEND_BUDGET_H_

#include <atomic>
#include <cstddef>

namespace herbtrace::server {

class AppendBudget {
 public:
  // REQUIRES: limit > 0.
  explicit AppendBudget(size_t limit) : limit_(limit) {}
  AppendBudget(const AppendBudget&) = delete;
  AppendBudget& operator=(const AppendBudget&) = delete;

  // Takes `events` if they fit under the limit with what is in flight; false takes nothing.
  bool TryTake(size_t events);
  // Takes `events` whatever is in flight (streams, which hold themselves back instead).
  void Take(size_t events) { in_flight_.fetch_add(events, std::memory_order_relaxed); }
  // Gives back `events` taken before, as their appends are answered.
  void Give(size_t events) { in_flight_.fetch_sub(events, std::memory_order_relaxed); }
  // Whether another event fits now.
  bool HasRoom() const { return in_flight_.load(std::memory_order_relaxed) < limit_; }

  size_t limit() const { return limit_; }
  size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  const size_t limit_;
  std::atomic<size_t> in_flight_{0};
};

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_APPEND_BUDGET_H_
