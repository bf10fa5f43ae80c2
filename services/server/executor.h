// A fixed pool of threads for the work a gRPC reactor must not do itself: RocksDB reads that may
// miss the cache, proof building, lineage walks, CSV exports, audits. A reactor hands its work
// here and the work finishes the call (STYLE.md: reactors never block).
//
// Thread-safe. Tasks run in submission order across the pool, each exactly once; Stop() runs
// every task already accepted before it returns, so a task that finishes an RPC always runs.
#ifndef HERBTRACE_SERVICES_SERVER_EXECUTOR_H_
#define HERBTRACE_SERVICES_SERVER_EXECUTOR_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace herbtrace::server {

class Executor {
 public:
  // `threads` ≥ 1; at most `max_queued` tasks wait for a thread (back-pressure: beyond it
  // Schedule refuses, and the caller answers RESOURCE_EXHAUSTED instead of queueing unboundedly).
  Executor(std::string name, size_t threads, size_t max_queued = 10'000);
  // Stops (see Stop).
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // ResourceExhausted when the queue is full, FailedPrecondition after Stop; the task is then
  // not run and the caller still owns finishing its RPC.
  absl::Status Schedule(std::function<void()> task);

  // Refuses new tasks, runs those already queued, joins the threads. Idempotent; call from the
  // owner's thread, never from a task.
  void Stop();

  size_t threads() const { return threads_.size(); }

 private:
  void Run();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !queue_.empty();
  }

  const std::string name_;
  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_EXECUTOR_H_
