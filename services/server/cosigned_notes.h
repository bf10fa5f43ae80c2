// The latest checkpoint note with the witnesses' stored cosignatures attached, kept between
// reads. Building it reads every stored cosignature and parses the note; a read that proves
// entries against the latest checkpoint would otherwise do that on every call. It is built
// again only when the note changes (a new checkpoint) or after Invalidate: every cosignature
// stored (checkpoints.h StoreCosignature) and, on a replica, every catch-up invalidates it.
//
// Thread-safe.
#ifndef HERBTRACE_SERVICES_SERVER_COSIGNED_NOTES_H_
#define HERBTRACE_SERVICES_SERVER_COSIGNED_NOTES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/ledger_db.h"

namespace herbtrace::server {

class CosignedNotes {
 public:
  // `note` with the lines of every stored cosignature of its body (checkpoints.h
  // AttachCosignatures), from memory when neither the note nor the cosignatures changed since
  // it was last built.
  absl::StatusOr<std::string> Attach(const storage::LedgerDb& db, const std::string& note) const;

  // The stored cosignatures may have changed: the next Attach reads them again. Call after the
  // change is visible in the database.
  void Invalidate();

 private:
  struct Built {
    std::string note;
    uint64_t generation = 0;  // generation_ when the cosignatures were read
    std::string cosigned;
  };
  mutable absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  mutable std::optional<Built> built_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_COSIGNED_NOTES_H_
