// Full verification of a ledger directory, from the bytes up: every entry is re-hashed, every
// stored tree node is recomputed and compared, every batch's hash chain is followed, the batch
// heads, batch histories and event index are checked against the entries, and the newest signed
// checkpoint's signature and root are checked against what the entries give. All from one
// snapshot, on several threads, naming the first entry that breaks.
#ifndef HERBTRACE_STORAGE_AUDIT_H_
#define HERBTRACE_STORAGE_AUDIT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "crypto/hash.h"
#include "storage/ledger_db.h"

namespace herbtrace::storage {

struct AuditOptions {
  // Check every entry's batch_prev links against the batches' previous entries. Costs memory in
  // proportion to the number of batches.
  bool check_batch_chains = true;
  // Check that event_ids points back at every entry (one point read per entry).
  bool check_event_index = true;
  // Called every `progress_every` entries with the count so far, from the audit's threads, one
  // call at a time.
  std::function<void(uint64_t)> progress;
  uint64_t progress_every = 1'000'000;
  // Threads the audit runs on, the caller's among them (0: one per core, at most 8), and how
  // many ranges of entries they share (0: two per thread for a log of 65,536 entries or more,
  // else one). What the audit finds, and the entry it names, do not depend on either.
  int threads = 0;
  int entry_ranges = 0;
};

struct AuditFailure {
  // The first entry where the ledger breaks, when the break is in an entry.
  std::optional<uint64_t> seq;
  std::string reason;
};

struct AuditReport {
  uint64_t entries_checked = 0;
  uint64_t tree_size = 0;
  crypto::Digest root{};
  std::optional<uint64_t> checkpoint_size;
  std::optional<AuditFailure> failure;
  bool ok() const { return !failure.has_value(); }
};

// Reads the hash algorithm and the log's key from the ledger's own configuration; an audit by a
// third party should also compare that key with the one it trusts. Returns an error status only
// when the audit could not run (I/O); a ledger that does not verify gives a report with a failure.
absl::StatusOr<AuditReport> AuditLedger(const LedgerDb& db, const AuditOptions& options = {});

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_AUDIT_H_
