// The shapes every read RPC takes with the callback API: a unary call whose work runs on the
// Executor and finishes the call from there, and a server stream whose messages are produced on
// the Executor one at a time, each after the previous one was written (so a slow client holds
// one message in memory, not the whole answer). The gRPC threads only hand work over — except a
// read that answers without waiting (read_waits.h), which answers there (AnswerHereOrRun).
#ifndef HERBTRACE_SERVICES_SERVER_REACTORS_H_
#define HERBTRACE_SERVICES_SERVER_REACTORS_H_

#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/server_callback.h"
#include "services/server/executor.h"
#include "services/server/read_waits.h"
#include "services/server/status.h"

namespace herbtrace::server {

inline absl::Status CancelledStatus() {
  return absl::CancelledError("the call was cancelled or its deadline passed");
}

// Runs `work` (absl::Status()) on `executor` and finishes the call with its status. The
// context, request and response stay valid until Finish, so `work` may use them.
template <typename Work>
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context, Executor& executor,
                                   Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status scheduled = executor.Schedule([reactor, context, work = std::move(work)]() mutable {
    if (context->IsCancelled()) {
      reactor->Finish(ToGrpcStatus(CancelledStatus()));
      return;
    }
    reactor->Finish(ToGrpcStatus(work()));
  });
  if (!scheduled.ok()) reactor->Finish(ToGrpcStatus(scheduled));
  return reactor;
}

// Runs `work` (absl::Status(Waiting)) here, on the gRPC thread, with Waiting::kRefused, and
// finishes the call with its status; only when it returns WouldWait (read_waits.h) does it run
// again on `executor` with Waiting::kAllowed, after `reset` cleared what the first run left in
// the response. For reads that usually answer without waiting, the executor hop costing more
// than the read.
template <typename Work, typename Reset>
grpc::ServerUnaryReactor* AnswerHereOrRun(grpc::CallbackServerContext* context,
                                          Executor& executor, Work work, Reset reset) {
  absl::Status here = work(Waiting::kRefused);
  if (!IsWouldWait(here)) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(here));
    return reactor;
  }
  reset();
  return RunUnary(context, executor,
                  [work = std::move(work)]() mutable { return work(Waiting::kAllowed); });
}

// A server stream fed by `produce`, called on the executor until it returns false (the stream
// ends OK) or an error (the stream ends with it). Each call fills one message (cleared before)
// and returns true to have it written. Calls are sequential, never concurrent, so `produce` may
// keep its state in its captures.
template <typename Response>
class ProducedStream final : public grpc::ServerWriteReactor<Response> {
 public:
  using Producer = std::function<absl::StatusOr<bool>(Response*)>;

  static grpc::ServerWriteReactor<Response>* Start(grpc::CallbackServerContext* context,
                                                   Executor& executor, Producer produce) {
    auto* stream = new ProducedStream(context, executor, std::move(produce));
    stream->ScheduleNext();
    return stream;
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      // The client is gone (cancelled, deadline, broken connection): nobody reads the status.
      this->Finish(ToGrpcStatus(CancelledStatus()));
      return;
    }
    ScheduleNext();
  }

  void OnDone() override { delete this; }

 private:
  ProducedStream(grpc::CallbackServerContext* context, Executor& executor, Producer produce)
      : context_(context), executor_(executor), produce_(std::move(produce)) {}

  void ScheduleNext() {
    absl::Status scheduled = executor_.Schedule([this] { ProduceOne(); });
    if (!scheduled.ok()) this->Finish(ToGrpcStatus(scheduled));
  }

  // Touches no member after StartWrite or Finish: OnWriteDone or OnDone may already run.
  void ProduceOne() {
    if (context_->IsCancelled()) {
      this->Finish(ToGrpcStatus(CancelledStatus()));
      return;
    }
    message_.Clear();
    absl::StatusOr<bool> more = produce_(&message_);
    if (!more.ok()) {
      this->Finish(ToGrpcStatus(more.status()));
    } else if (!*more) {
      this->Finish(grpc::Status::OK);
    } else {
      this->StartWrite(&message_);
    }
  }

  grpc::CallbackServerContext* const context_;
  Executor& executor_;
  Producer produce_;
  Response message_;
};

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_REACTORS_H_
