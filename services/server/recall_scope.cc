#include "services/server/recall_scope.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "rocksdb/db.h"
#include "services/domain/state_keys.h"

namespace herbtrace::server {
namespace {

using storage::Cf;
namespace keys = domain::keys;

// Lots read per MultiGet: large enough that RocksDB sorts and batches the block reads, small
// enough that the pinned values of one batch stay in the CPU caches.
constexpr size_t kStatesPerRead = 512;
// Up to this many lots, one Seek per lot on a shared iterator reads their acknowledgements;
// beyond it, one scan over the recall's acknowledgements.
constexpr size_t kAckSeeksAtMost = 256;

rocksdb::Slice AsSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
absl::string_view AsView(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

// Every key starting with `prefix` (which ends in the 0x00 separator) sorts below this bound.
std::string UpperBoundOf(absl::string_view prefix) {
  std::string bound(prefix);
  bound.back() = static_cast<char>(bound.back() + 1);
  return bound;
}

// Lots usually come in batch_id order already (the scope is stored by batch_id): checking
// costs one comparison per lot, sorting a 10,000-lot scope of 25-digit codes a few milliseconds.
std::vector<v1::RecallScopeLot*> ByBatchId(const std::vector<v1::RecallScopeLot*>& lots) {
  auto less = [](const v1::RecallScopeLot* a, const v1::RecallScopeLot* b) {
    return a->batch_id() < b->batch_id();
  };
  std::vector<v1::RecallScopeLot*> sorted = lots;
  if (!std::is_sorted(sorted.begin(), sorted.end(), less)) {
    std::sort(sorted.begin(), sorted.end(), less);
  }
  return sorted;
}

absl::Status AckDoesNotParse(absl::string_view batch_id) {
  return absl::DataLossError(
      absl::StrCat("a stored acknowledgement of batch ", batch_id, " does not parse"));
}

// The BatchState fields a summary shows, read straight from the stored bytes; every other field
// (lineage ids, holds, recall ids: most of the bytes) is skipped without being copied.
bool DecodeSummary(absl::string_view bytes, v1::BatchState* out) {
  using Wire = google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  for (;;) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage();
    const int field = Wire::GetTagFieldNumber(tag);
    const Wire::WireType wire = Wire::GetTagWireType(tag);
    bool ok = true;
    if (field == v1::BatchState::kHolderPartyIdFieldNumber &&
        wire == Wire::WIRETYPE_LENGTH_DELIMITED) {
      ok = Wire::ReadString(&in, out->mutable_holder_party_id());
    } else if (field == v1::BatchState::kRemainingGramsFieldNumber &&
               wire == Wire::WIRETYPE_VARINT) {
      uint64_t grams = 0;
      ok = in.ReadVarint64(&grams);
      out->set_remaining_grams(grams);
    } else if (field == v1::BatchState::kStatusFieldNumber && wire == Wire::WIRETYPE_VARINT) {
      uint32_t status = 0;
      ok = in.ReadVarint32(&status);
      out->set_status(static_cast<v1::BatchStatus>(status));
    } else if (field == v1::BatchState::kLastSeqFieldNumber && wire == Wire::WIRETYPE_VARINT) {
      uint64_t seq = 0;
      ok = in.ReadVarint64(&seq);
      out->set_last_seq(seq);
    } else {
      ok = Wire::SkipField(&in, tag);
    }
    if (!ok) return false;
  }
}

}  // namespace

absl::StatusOr<v1::RecallView> ReadRecallHeader(const storage::LedgerDb& db,
                                                absl::string_view recall_id) {
  auto bytes = db.Get(Cf::kRegistry, keys::Recall(recall_id));
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) {
    return absl::NotFoundError(absl::StrCat("recall_id: ", recall_id, " is not a recall"));
  }
  v1::RecallView view;
  if (!view.ParseFromString(**bytes)) {
    return absl::DataLossError(absl::StrCat("the stored recall ", recall_id, " does not parse"));
  }
  // Overdue is a matter of the reader's clock, not of the log.
  const bool past_deadline = view.has_ack_deadline() &&
                             absl::FromUnixSeconds(view.ack_deadline().seconds()) < absl::Now();
  for (v1::HolderAckStatus& h : *view.mutable_holders()) {
    h.set_overdue(past_deadline && h.lots_acknowledged() < h.lots());
  }
  return view;
}

absl::Status ReadScopeLots(const storage::LedgerDb& db, absl::string_view recall_id,
                           google::protobuf::RepeatedPtrField<v1::RecallScopeLot>* lots) {
  const std::string prefix = keys::RecallLotPrefix(recall_id);
  const std::string bound = UpperBoundOf(prefix);
  const rocksdb::Slice upper = AsSlice(bound);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(options, db.cf(Cf::kRegistry)));
  for (it->Seek(AsSlice(prefix)); it->Valid(); it->Next()) {
    const rocksdb::Slice value = it->value();
    if (!lots->Add()->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(absl::StrCat("the stored scope lot ",
                                              AsView(it->key()).substr(prefix.size()),
                                              " of recall ", recall_id, " does not parse"));
    }
  }
  return storage::FromRocks(it->status(), "scanning the recall's scope");
}

absl::StatusOr<bool> ScopeHasLot(const storage::LedgerDb& db, absl::string_view recall_id,
                                 absl::string_view batch_id) {
  auto lot = db.Get(Cf::kRegistry, keys::RecallLot(recall_id, batch_id));
  if (!lot.ok()) return lot.status();
  return lot->has_value();
}

absl::Status FillAcks(const storage::LedgerDb& db, absl::string_view recall_id,
                      const std::vector<v1::RecallScopeLot*>& lots) {
  if (lots.empty()) return absl::OkStatus();
  const std::vector<v1::RecallScopeLot*> sorted = ByBatchId(lots);
  const std::string prefix = keys::RecallAckPrefix(recall_id);
  const std::string bound = UpperBoundOf(prefix);
  const rocksdb::Slice upper = AsSlice(bound);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(options, db.cf(Cf::kRegistry)));
  if (sorted.size() <= kAckSeeksAtMost) {
    for (v1::RecallScopeLot* lot : sorted) {
      const std::string lot_prefix = keys::RecallAckLotPrefix(recall_id, lot->batch_id());
      for (it->Seek(AsSlice(lot_prefix)); it->Valid() && it->key().starts_with(lot_prefix);
           it->Next()) {
        const rocksdb::Slice value = it->value();
        if (!lot->add_acks()->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return AckDoesNotParse(lot->batch_id());
        }
      }
    }
    return storage::FromRocks(it->status(), "reading the recall's acknowledgements");
  }
  // One pass over every acknowledgement of the recall, joined with the lots on batch_id: both
  // sides are in batch_id order.
  size_t next = 0;
  for (it->Seek(AsSlice(prefix)); it->Valid() && next < sorted.size(); it->Next()) {
    // key := prefix ‖ batch_id ‖ 0x00 ‖ u64be(seq)
    const absl::string_view rest = AsView(it->key()).substr(prefix.size());
    const absl::string_view batch_id = rest.substr(0, rest.find('\0'));
    while (next < sorted.size() && sorted[next]->batch_id() < batch_id) ++next;
    if (next == sorted.size() || sorted[next]->batch_id() != batch_id) continue;
    const rocksdb::Slice value = it->value();
    if (!sorted[next]->add_acks()->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return AckDoesNotParse(batch_id);
    }
  }
  return storage::FromRocks(it->status(), "scanning the recall's acknowledgements");
}

namespace {

// Sets `current` of each lot from its batch state. REQUIRES: `sorted` in batch_id order.
absl::Status ReadBatchStates(const storage::LedgerDb& db,
                             const std::vector<v1::RecallScopeLot*>& sorted, CurrentState what) {
  std::vector<rocksdb::Slice> keys(std::min(kStatesPerRead, sorted.size()));
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  for (size_t begin = 0; begin < sorted.size(); begin += kStatesPerRead) {
    const size_t n = std::min(kStatesPerRead, sorted.size() - begin);
    for (size_t i = 0; i < n; ++i) keys[i] = AsSlice(sorted[begin + i]->batch_id());
    db.db().MultiGet(rocksdb::ReadOptions(), db.cf(Cf::kBatchState), n, keys.data(),
                     values.data(), statuses.data(), /*sorted_input=*/true);
    for (size_t i = 0; i < n; ++i) {
      v1::RecallScopeLot& lot = *sorted[begin + i];
      if (statuses[i].IsNotFound()) {
        return absl::DataLossError(absl::StrCat("batch ", lot.batch_id(),
                                                " is in the recall's scope but has no state"));
      }
      if (!statuses[i].ok()) return storage::FromRocks(statuses[i], "reading batch states");
      const absl::string_view bytes(values[i].data(), values[i].size());
      v1::BatchState* current = lot.mutable_current();
      const bool parsed = what == CurrentState::kWhole
                              ? current->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))
                              : DecodeSummary(bytes, current);
      if (!parsed) {
        return absl::DataLossError(
            absl::StrCat("the stored state of batch ", lot.batch_id(), " does not parse"));
      }
      if (what == CurrentState::kWhole && current->batch_id().empty()) {
        current->set_batch_id(lot.batch_id());
      }
      values[i].Reset();
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status FillCurrent(const storage::LedgerDb& db, const std::vector<v1::RecallScopeLot*>& lots,
                         CurrentState what) {
  if (what == CurrentState::kWhole) return ReadBatchStates(db, ByBatchId(lots), what);
  std::vector<v1::RecallScopeLot*> without;
  for (v1::RecallScopeLot* lot : lots) {
    if (!lot->has_current()) without.push_back(lot);
  }
  return ReadBatchStates(db, ByBatchId(without), what);
}

}  // namespace herbtrace::server
