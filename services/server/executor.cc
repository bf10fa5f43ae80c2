#include "services/server/executor.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace herbtrace::server {

Executor::Executor(std::string name, size_t threads, size_t max_queued)
    : name_(std::move(name)), max_queued_(max_queued) {
  if (threads == 0) threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

Executor::~Executor() { Stop(); }

absl::Status Executor::Schedule(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    return absl::FailedPreconditionError(absl::StrCat(name_, ": the server is shutting down"));
  }
  if (queue_.size() >= max_queued_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(name_, ": the server is busy (", queue_.size(),
                     " requests waiting); retry with backoff"));
  }
  queue_.push_back(std::move(task));
  return absl::OkStatus();
}

void Executor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void Executor::Run() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &Executor::HasWorkOrStopping));
      if (queue_.empty()) return;  // stopping, and everything accepted has run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace herbtrace::server
