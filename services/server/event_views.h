// What the Trace service reads off one logged event about one lot: the lineage edge that made
// it, the custody steps it records, the harvest that created it. Read from the entry's signed
// payload (the bytes are the truth), so a client can recompute every one of these from the
// entries the service returns with proofs.
#ifndef HERBTRACE_SERVICES_SERVER_EVENT_VIEWS_H_
#define HERBTRACE_SERVICES_SERVER_EVENT_VIEWS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "crypto/hash.h"
#include "herbtrace/v1/entry.pb.h"
#include "herbtrace/v1/event.pb.h"
#include "herbtrace/v1/trace.pb.h"
#include "storage/log_view.h"

namespace herbtrace::server {

// One stored entry: its bytes as stored, and decoded. (Proofs carry the leaf hash; see
// trace_reads.h.)
struct LoggedEvent {
  uint64_t seq = 0;
  std::string bytes;
  v1::LedgerEntry entry;
  v1::Event event;
};

// Reads and decodes entries once per request. Not thread-safe (one per request).
class EventCache {
 public:
  // REQUIRES: view outlives the cache.
  explicit EventCache(const storage::LogView& view) : view_(view) {}
  // DataLoss when the stored entry or its payload does not parse.
  absl::StatusOr<const LoggedEvent*> Get(uint64_t seq);
  // Get of each of `seqs` with the entries not read yet read in one batch, so a walk that
  // needs a lot's whole history pays one batched read for it, not one read per entry.
  absl::Status Load(absl::Span<const uint64_t> seqs);
  // The entry of an event id, if the log has it.
  absl::StatusOr<const LoggedEvent*> Find(absl::string_view event_id);

 private:
  // Decodes `bytes`, the stored entry `seq`, and keeps it. REQUIRES: seq is not kept yet.
  absl::StatusOr<const LoggedEvent*> Keep(uint64_t seq, std::string bytes);

  const storage::LogView& view_;
  std::vector<std::unique_ptr<LoggedEvent>> owned_;
  std::vector<std::pair<uint64_t, const LoggedEvent*>> index_;  // sorted by seq
};

// The edge parent → child as the event at `seq` (which created `child`) records it.
v1::LineageEdge EdgeFromEvent(const LoggedEvent& logged, const std::string& parent,
                              const std::string& child);

// The custody steps the event records for `batch_id` (none for other kinds). `sender_of` gives
// the sending party of a transfer a Receive names (empty if unknown).
std::vector<v1::CustodyStep> CustodyStepsFromEvent(
    const LoggedEvent& logged, const std::string& batch_id,
    const std::function<std::string(const std::string& transfer_event_id)>& sender_of);

// The harvest, if the event is the Harvest that created `batch_id`.
std::optional<v1::OriginHarvest> HarvestFromEvent(const LoggedEvent& logged,
                                                  const std::string& batch_id);

// The sending party of a transfer event (Ship, Trade, RecallAck RETURNED); empty otherwise.
std::string TransferSender(const v1::Event& event);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_EVENT_VIEWS_H_
