#include "services/server/cosigned_notes.h"

#include <utility>

#include "services/server/checkpoints.h"

namespace herbtrace::server {

absl::StatusOr<std::string> CosignedNotes::Attach(const storage::LedgerDb& db,
                                                  const std::string& note) const {
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    if (built_.has_value() && built_->generation == generation_ && built_->note == note) {
      return built_->cosigned;
    }
    generation = generation_;
  }
  // Built outside the lock. A cosignature stored meanwhile moved generation_ on: what is built
  // here is kept under the generation it started from, so the next call builds it again.
  auto cosigned = AttachCosignatures(db, note);
  if (!cosigned.ok()) return cosigned;
  absl::MutexLock lock(&mu_);
  if (generation == generation_) built_ = Built{note, generation, *cosigned};
  return cosigned;
}

void CosignedNotes::Invalidate() {
  absl::MutexLock lock(&mu_);
  ++generation_;
}

}  // namespace herbtrace::server
