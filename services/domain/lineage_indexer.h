// A StateRule that indexes what an event says about batches, without judging it: it links the
// hash chain of every batch the event touches and records lineage edges both ways. The full
// domain rules (custody, mass balance, holds) build on this; the ledger tool uses it alone.
//
// lineage_down key := parent ‖ 0x00 ‖ child, lineage_up key := child ‖ 0x00 ‖ parent;
// value := u64be(seq of the event that made the edge).
#ifndef HERBTRACE_SERVICES_DOMAIN_LINEAGE_INDEXER_H_
#define HERBTRACE_SERVICES_DOMAIN_LINEAGE_INDEXER_H_

#include "herbtrace/v1/event.pb.h"
#include "storage/ledger.h"

namespace herbtrace::domain {

// Decodes request.signed_event.payload as a herbtrace.v1.Event. InvalidArgument naming
// `signed_event.payload` when the bytes do not parse, and naming `event_id` when the payload's
// event id is not the envelope's.
absl::StatusOr<v1::Event> DecodeSignedEvent(const storage::AppendRequest& request);

// Stages the event's lineage edges (LineageEdges) in both indexes, value u64be(txn.seq()).
// InvalidArgument naming `batch_id` when an edge would make a batch from itself. Shared by
// LineageIndexer and DomainRules so the encoding lives in one place.
absl::Status StageLineageEdges(const v1::Event& event, storage::StateTxn& txn);

class LineageIndexer final : public storage::StateRule {
 public:
  absl::Status Apply(const storage::AppendRequest& request, storage::StateTxn& txn) override;
};

}  // namespace herbtrace::domain

#endif  // HERBTRACE_SERVICES_DOMAIN_LINEAGE_INDEXER_H_
