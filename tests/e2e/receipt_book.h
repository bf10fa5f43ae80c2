// Every receipt the clients of a soak or load test were given, by event id, to hold against
// the log afterwards. Capture promises that a retry of an event (same id, same bytes) gets back
// the very receipt of the first acceptance, so a second receipt for an event must be identical.
//
// Thread-safe.
#ifndef HERBTRACE_TESTS_E2E_RECEIPT_BOOK_H_
#define HERBTRACE_TESTS_E2E_RECEIPT_BOOK_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "herbtrace/v1/entry.pb.h"
#include "tests/e2e/log_snapshot.h"

namespace herbtrace::testing {

class ReceiptBook {
 public:
  // Records `receipt`. DataLoss when the event already had a different receipt (the first one
  // is kept).
  absl::Status Add(const v1::Receipt& receipt);

  struct Check {
    size_t checked = 0;
    size_t lost = 0;                    // receipts the log does not hold
    std::vector<std::string> failures;  // the first few, each naming its event
  };
  // Holds every receipt against `log` (LogSnapshot::Holds).
  Check CheckAgainst(const LogSnapshot& log) const;

  size_t size() const;
  // Receipts that arrived again for an event already recorded, identical to the first.
  size_t repeats() const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, v1::Receipt> receipts_ ABSL_GUARDED_BY(mu_);
  size_t repeats_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_E2E_RECEIPT_BOOK_H_
