#include "services/server/batch_custody.h"

#include "services/server/event_views.h"

namespace herbtrace::server {

absl::StatusOr<bool> HoldsOrHeld(LogSource& source, const v1::BatchState& state,
                                 const std::string& party_id) {
  if (party_id.empty()) return false;
  if (state.holder_party_id() == party_id || state.warehouse_party_id() == party_id) return true;
  auto seqs = source.view().BatchHistory(state.batch_id());
  if (!seqs.ok()) return seqs.status();
  EventCache events(source.view());
  const auto no_sender = [](const std::string&) { return std::string(); };
  for (size_t i = 0; i < seqs->size(); ++i) {
    auto logged = events.Get((*seqs)[i]);
    if (!logged.ok()) return logged.status();
    // The first entry of a batch creates it, and only its holder creates a batch.
    if (i == 0 && (*logged)->event.party_id() == party_id) return true;
    for (const v1::CustodyStep& step :
         CustodyStepsFromEvent(**logged, state.batch_id(), no_sender)) {
      if ((step.kind() == v1::CUSTODY_STEP_KIND_RECEIVE ||
           step.kind() == v1::CUSTODY_STEP_KIND_STORE_IN) &&
          step.to_party_id() == party_id) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace herbtrace::server
