// The offline queue: a file a scanner appends signed events to while it has no network, and
// `herbctl upload` later submits as one bundle.
//
//   queue  = header *record
//   header = "herbtrace-queue v1\n"                     (19 bytes)
//   record = length ‖ SubmitRequest                     (length: 4 bytes, big-endian)
//
// Each record holds the signed event exactly as it would have been submitted (payload bytes as
// signed, key id, algorithm, signature) and the openings of its commitments. Appends are
// fsync'ed before Append returns, so a queued event survives a power cut; a record torn by a
// crash mid-append is reported by Read with its position, never silently dropped.
//
// The queue holds openings (e.g. trade prices) in clear: keep the file private (it is created
// with mode 0600).
//
// Not thread-safe and not for concurrent writers: one scanner, one queue file.
#ifndef HERBTRACE_SERVICES_CLI_OFFLINE_QUEUE_H_
#define HERBTRACE_SERVICES_CLI_OFFLINE_QUEUE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "herbtrace/v1/capture.pb.h"

namespace herbtrace::cli {

inline constexpr char kQueueHeader[] = "herbtrace-queue v1\n";
// A record larger than this is corruption, not an event (the server's limit is 4 MiB).
inline constexpr size_t kMaxQueueRecord = 4 << 20;

// Appends one event, creating the file (with its header) if absent; returns the number of events
// now in the queue. FailedPrecondition if the file exists but is not a queue or is torn.
absl::StatusOr<size_t> AppendToQueue(const std::string& path, const v1::SubmitRequest& request);

// Every queued event in order. NotFound if the file does not exist; DataLoss naming the record
// and byte offset for a torn or corrupt record; FailedPrecondition for a file without the header.
absl::StatusOr<std::vector<v1::SubmitRequest>> ReadQueue(const std::string& path);

}  // namespace herbtrace::cli

#endif  // HERBTRACE_SERVICES_CLI_OFFLINE_QUEUE_H_
