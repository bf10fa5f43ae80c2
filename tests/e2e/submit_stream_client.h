// Capture.SubmitStream from the client's side, as a scanner or bulk loader drives it: one thread
// writes every request (blocking whenever the server's back-pressure holds the stream), the
// calling thread reads the responses as they come. A response is counted only once it has been
// read whole: that is the moment a client holds a receipt.
//
// Thread-safe: each call uses its own ClientContext.
#ifndef HERBTRACE_TESTS_E2E_SUBMIT_STREAM_CLIENT_H_
#define HERBTRACE_TESTS_E2E_SUBMIT_STREAM_CLIENT_H_

#include <cstddef>
#include <limits>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "herbtrace/v1/capture.grpc.pb.h"

namespace herbtrace::testing {

struct SubmitStreamOptions {
  // The whole call's deadline.
  absl::Duration deadline = absl::Seconds(60);
  // Cancel the call (as a client that gives up or loses its connection) once this many
  // responses have been read.
  size_t cancel_after_responses = std::numeric_limits<size_t>::max();
  // Never read: the client keeps writing and ignores its responses. The call then ends only by
  // its deadline or when another thread cancels its context.
  bool never_read = false;
};

struct SubmitStreamResult {
  std::vector<v1::SubmitResponse> responses;  // in the order read
  size_t requests_written = 0;                // Write calls that succeeded
  grpc::Status status;                        // the call's own status
};

// Sends `requests` on one stream in `context` (fresh, owned by the caller so that another thread
// may TryCancel it; its deadline is set here from the options) and returns when the call is over.
SubmitStreamResult RunSubmitStream(v1::Capture::Stub& capture, grpc::ClientContext& context,
                                   const std::vector<v1::SubmitRequest>& requests,
                                   const SubmitStreamOptions& options = {});

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_E2E_SUBMIT_STREAM_CLIENT_H_
