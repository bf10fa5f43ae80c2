#include "services/domain/lineage_indexer.h"

#include "absl/strings/str_cat.h"
#include "services/domain/event_batches.h"
#include "services/domain/state_keys.h"
#include "storage/key_codec.h"

namespace herbtrace::domain {

absl::StatusOr<v1::Event> DecodeSignedEvent(const storage::AppendRequest& request) {
  v1::Event event;
  if (!event.ParseFromString(request.signed_event.payload())) {
    return absl::InvalidArgumentError(
        "signed_event.payload: does not parse as a herbtrace.v1.Event");
  }
  if (event.event_id() != request.event_id) {
    return absl::InvalidArgumentError(absl::StrCat("event_id: the envelope says '",
                                                   request.event_id,
                                                   "' but the signed payload says '",
                                                   event.event_id(), "'"));
  }
  return event;
}

absl::Status LineageIndexer::Apply(const storage::AppendRequest& request,
                                   storage::StateTxn& txn) {
  auto event = DecodeSignedEvent(request);
  if (!event.ok()) return event.status();
  for (const std::string& id : TouchedBatchIds(*event)) {
    if (id.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError("batch_id: must not contain NUL");
    }
    txn.TouchBatch(id);
  }
  return StageLineageEdges(*event, txn);
}

absl::Status StageLineageEdges(const v1::Event& event, storage::StateTxn& txn) {
  const std::string seq = storage::BigEndian64(txn.seq());
  for (const LineageEdge& edge : LineageEdges(event)) {
    if (edge.parent == edge.child) {
      return absl::InvalidArgumentError(
          absl::StrCat("batch_id: ", edge.parent, " cannot be made from itself"));
    }
    const std::string down = keys::Lineage(edge.parent, edge.child);
    const std::string up = keys::Lineage(edge.child, edge.parent);
    if (auto s = txn.Put(storage::Cf::kLineageDown, down, seq); !s.ok()) return s;
    if (auto s = txn.Put(storage::Cf::kLineageUp, up, seq); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace herbtrace::domain
