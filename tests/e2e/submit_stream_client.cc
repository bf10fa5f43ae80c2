#include "tests/e2e/submit_stream_client.h"

#include <atomic>
#include <thread>

#include "absl/time/clock.h"

namespace herbtrace::testing {

SubmitStreamResult RunSubmitStream(v1::Capture::Stub& capture, grpc::ClientContext& context,
                                   const std::vector<v1::SubmitRequest>& requests,
                                   const SubmitStreamOptions& options) {
  SubmitStreamResult result;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options.deadline));
  std::unique_ptr<grpc::ClientReaderWriter<v1::SubmitRequest, v1::SubmitResponse>> stream =
      capture.SubmitStream(&context);
  std::atomic<size_t> written{0};
  // gRPC allows one writer and one reader on a stream at a time, from different threads.
  std::thread writer([&] {
    for (const v1::SubmitRequest& request : requests) {
      if (!stream->Write(request)) return;
      written.fetch_add(1);
    }
    stream->WritesDone();
  });
  if (!options.never_read) {
    v1::SubmitResponse response;
    while (result.responses.size() < options.cancel_after_responses && stream->Read(&response)) {
      result.responses.push_back(response);
    }
    if (result.responses.size() >= options.cancel_after_responses) context.TryCancel();
  }
  writer.join();
  // A client that never reads ends here only when its call is cancelled or its deadline passes.
  result.status = stream->Finish();
  result.requests_written = written.load();
  return result;
}

}  // namespace herbtrace::testing
