// Whether a read may wait, and how it says it would have to.
//
// Most reads answer from memory and the block cache in a fraction of a millisecond; handing them
// to the Executor (a lock, a thread wake-up, the answer sent from another thread) costs more
// than the read. So a read may first run on the gRPC thread with Waiting::kRefused and stop,
// with WouldWait, where it would have to wait: for a replica to catch up with its writer, or for
// the writer to sign a checkpoint and sync it to disk. The caller then runs it again on the
// Executor with Waiting::kAllowed (reactors.h AnswerHereOrRun). Such a read only reads, so
// running it twice changes nothing.
#ifndef HERBTRACE_SERVICES_SERVER_READ_WAITS_H_
#define HERBTRACE_SERVICES_SERVER_READ_WAITS_H_

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace herbtrace::server {

enum class Waiting {
  kAllowed,  // on the Executor: catch up, sign, sync as needed
  kRefused,  // on a gRPC thread: return WouldWait instead
};

inline constexpr absl::string_view kWouldWaitPayload = "herbtrace/would-wait";

// The status of a read that stopped where it would have waited for `what`. Never reaches a
// client: the read runs again with Waiting::kAllowed, which never returns it.
inline absl::Status WouldWait(absl::string_view what) {
  absl::Status status =
      absl::UnavailableError(absl::StrCat("this read would wait for ", what));
  status.SetPayload(kWouldWaitPayload, absl::Cord(what));
  return status;
}

inline bool IsWouldWait(const absl::Status& status) {
  return status.GetPayload(kWouldWaitPayload).has_value();
}

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_READ_WAITS_H_
