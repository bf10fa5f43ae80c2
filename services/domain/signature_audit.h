// Every entry of the log checked against the party key that signed it, with the keys taken from
// the log itself, in log order: a key signs from the entry after the one that registered it (the
// genesis entry is signed by the key it registers) up to the entry that revokes it, and only for
// the party it was registered to.
//
// The storage audit (storage/audit.h) proves the log was not altered after it was written. This
// pass proves that nothing was written without a party's signature — the one thing the log's own
// operator, who holds the log key and could rebuild the tree and re-sign checkpoints, could
// otherwise do. Bundled entries are checked through their membership proof and the bundle's root
// signature (each distinct bundle signature is verified once).
#ifndef HERBTRACE_SERVICES_DOMAIN_SIGNATURE_AUDIT_H_
#define HERBTRACE_SERVICES_DOMAIN_SIGNATURE_AUDIT_H_

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "storage/audit.h"
#include "storage/ledger_db.h"

namespace herbtrace::domain {

struct SignatureAuditOptions {
  // Signature verification dominates the cost and is spread over this many threads; 0 = one per
  // core.
  int threads = 0;
  // Called every `progress_every` entries with the count so far.
  std::function<void(uint64_t)> progress;
  uint64_t progress_every = 1'000'000;
};

struct SignatureAuditReport {
  uint64_t entries_checked = 0;
  // Event signatures verified, and bundle root signatures (one per distinct bundle).
  uint64_t signatures_verified = 0;
  uint64_t bundled_entries = 0;
  uint64_t keys_registered = 0;
  uint64_t keys_revoked = 0;
  // The first entry that is not signed as the log says it must be.
  std::optional<storage::AuditFailure> failure;
  bool ok() const { return !failure.has_value(); }
};

// Reads the log's origin and hash from its configuration and every entry from one snapshot.
// An error status only when the audit could not run (I/O, no configuration); an entry that does
// not verify gives a report with a failure naming its seq.
absl::StatusOr<SignatureAuditReport> AuditSignatures(const storage::LedgerDb& db,
                                                     const SignatureAuditOptions& options = {});

}  // namespace herbtrace::domain

#endif  // HERBTRACE_SERVICES_DOMAIN_SIGNATURE_AUDIT_H_
