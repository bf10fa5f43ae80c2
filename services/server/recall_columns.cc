#include "services/server/recall_columns.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/wire_format_lite.h"
#include "rocksdb/db.h"
#include "services/domain/state_keys.h"
#include "services/server/recall_scope.h"

namespace herbtrace::server {
namespace {

using storage::Cf;
using Wire = google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// The fields of one stored RecallScopeLot the columns show; views into the stored bytes.
struct StoredLot {
  absl::string_view batch_id, herb_code, holder_at_recall, holder_now;
  uint32_t depth = 0;
  uint64_t grams_at_recall = 0, remaining_grams = 0, last_seq = 0;
  uint32_t status = 0;
  bool ack_required = false, acknowledged = false, has_now = false;
};

// Reads a length-delimited field's bytes as a view into `bytes`, which `in` reads.
bool ReadView(CodedInputStream& in, absl::string_view bytes, absl::string_view& out) {
  uint32_t size = 0;
  if (!in.ReadVarint32(&size)) return false;
  const size_t at = static_cast<size_t>(in.CurrentPosition());
  if (at > bytes.size() || size > bytes.size() - at) return false;
  out = bytes.substr(at, size);
  return in.Skip(static_cast<int>(size));
}

bool IsField(uint32_t tag, int field, Wire::WireType type) {
  return Wire::GetTagFieldNumber(tag) == field && Wire::GetTagWireType(tag) == type;
}

// RecallScopeLot.current: a BatchState of which the columns need four fields.
bool DecodeNow(CodedInputStream& in, absl::string_view bytes, StoredLot& lot) {
  uint32_t size = 0;
  if (!in.ReadVarint32(&size)) return false;
  const CodedInputStream::Limit limit = in.PushLimit(static_cast<int>(size));
  lot.has_now = true;
  for (;;) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    bool ok = true;
    if (IsField(tag, v1::BatchState::kHolderPartyIdFieldNumber, Wire::WIRETYPE_LENGTH_DELIMITED)) {
      ok = ReadView(in, bytes, lot.holder_now);
    } else if (IsField(tag, v1::BatchState::kRemainingGramsFieldNumber, Wire::WIRETYPE_VARINT)) {
      ok = in.ReadVarint64(&lot.remaining_grams);
    } else if (IsField(tag, v1::BatchState::kStatusFieldNumber, Wire::WIRETYPE_VARINT)) {
      ok = in.ReadVarint32(&lot.status);
    } else if (IsField(tag, v1::BatchState::kLastSeqFieldNumber, Wire::WIRETYPE_VARINT)) {
      ok = in.ReadVarint64(&lot.last_seq);
    } else {
      ok = Wire::SkipField(&in, tag);
    }
    if (!ok) return false;
  }
  const bool whole = in.ConsumedEntireMessage();
  in.PopLimit(limit);
  return whole;
}

bool DecodeLot(absl::string_view bytes, StoredLot& lot) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  for (;;) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage();
    bool ok = true;
    uint64_t flag = 0;
    if (IsField(tag, v1::RecallScopeLot::kBatchIdFieldNumber, Wire::WIRETYPE_LENGTH_DELIMITED)) {
      ok = ReadView(in, bytes, lot.batch_id);
    } else if (IsField(tag, v1::RecallScopeLot::kHerbCodeFieldNumber,
                       Wire::WIRETYPE_LENGTH_DELIMITED)) {
      ok = ReadView(in, bytes, lot.herb_code);
    } else if (IsField(tag, v1::RecallScopeLot::kDepthFieldNumber, Wire::WIRETYPE_VARINT)) {
      ok = in.ReadVarint32(&lot.depth);
    } else if (IsField(tag, v1::RecallScopeLot::kHolderAtRecallFieldNumber,
                       Wire::WIRETYPE_LENGTH_DELIMITED)) {
      ok = ReadView(in, bytes, lot.holder_at_recall);
    } else if (IsField(tag, v1::RecallScopeLot::kGramsAtRecallFieldNumber,
                       Wire::WIRETYPE_VARINT)) {
      ok = in.ReadVarint64(&lot.grams_at_recall);
    } else if (IsField(tag, v1::RecallScopeLot::kAckRequiredFieldNumber, Wire::WIRETYPE_VARINT)) {
      ok = in.ReadVarint64(&flag);
      lot.ack_required = flag != 0;
    } else if (IsField(tag, v1::RecallScopeLot::kAcknowledgedFieldNumber, Wire::WIRETYPE_VARINT)) {
      ok = in.ReadVarint64(&flag);
      lot.acknowledged = flag != 0;
    } else if (IsField(tag, v1::RecallScopeLot::kCurrentFieldNumber,
                       Wire::WIRETYPE_LENGTH_DELIMITED)) {
      ok = DecodeNow(in, bytes, lot);
    } else {
      ok = Wire::SkipField(&in, tag);
    }
    if (!ok) return false;
  }
}

// Distinct strings (parties, herbs) numbered in the order first seen.
class Names {
 public:
  uint32_t Of(absl::string_view name) {
    auto [it, added] = index_.try_emplace(name, static_cast<uint32_t>(names_.size()));
    if (added) names_.emplace_back(name);
    return it->second;
  }
  const std::string& operator[](uint32_t i) const { return names_[i]; }
  size_t size() const { return names_.size(); }

 private:
  absl::flat_hash_map<std::string, uint32_t> index_;
  std::vector<std::string> names_;
};

// A lot as the columns hold it: its code in a shared buffer, its strings by number.
struct Lot {
  size_t batch_begin = 0;
  uint32_t batch_size = 0;
  uint32_t herb = 0, holder_at_recall = 0, holder_now = 0, depth = 0;
  uint64_t grams_at_recall = 0, remaining_grams = 0, last_seq = 0;
  v1::BatchStatus status = v1::BATCH_STATUS_UNSPECIFIED;
  bool ack_required = false, acknowledged = false, has_now = false;
};

// The scope as the columns hold it, built lot by lot in batch_id order.
class ScopeColumns {
 public:
  Lot& Add(const StoredLot& stored) {
    Lot& lot = lots.emplace_back();
    lot.batch_begin = codes.size();
    lot.batch_size = static_cast<uint32_t>(stored.batch_id.size());
    codes.append(stored.batch_id.data(), stored.batch_id.size());
    lot.herb = herbs.Of(stored.herb_code);
    lot.holder_at_recall = parties.Of(stored.holder_at_recall);
    lot.holder_now = stored.has_now ? parties.Of(stored.holder_now) : lot.holder_at_recall;
    lot.depth = stored.depth;
    lot.grams_at_recall = stored.grams_at_recall;
    lot.remaining_grams = stored.remaining_grams;
    lot.last_seq = stored.last_seq;
    lot.status = static_cast<v1::BatchStatus>(stored.status);
    lot.ack_required = stored.ack_required;
    lot.acknowledged = stored.acknowledged;
    lot.has_now = stored.has_now;
    return lot;
  }

  // Fills the view's columns; returns the highest last_seq of any lot now.
  uint64_t Emit(v1::RecallView& view) {
    // Holders by party_id; each one's lots by depth, then batch_id (the scan's order).
    std::vector<std::vector<uint32_t>> held(parties.size());
    uint64_t last_seq = 0;
    for (uint32_t i = 0; i < lots.size(); ++i) {
      held[lots[i].holder_at_recall].push_back(i);
      last_seq = std::max(last_seq, lots[i].last_seq);
    }
    std::vector<uint32_t> holders;
    for (uint32_t p = 0; p < held.size(); ++p) {
      if (!held[p].empty()) holders.push_back(p);
    }
    std::sort(holders.begin(), holders.end(),
              [&](uint32_t a, uint32_t b) { return parties[a] < parties[b]; });
    absl::flat_hash_map<uint32_t, uint32_t> herb_columns;  // herb number → scope_herb_codes index
    for (const uint32_t p : holders) {
      std::vector<uint32_t>& own = held[p];
      std::stable_sort(own.begin(), own.end(),
                       [&](uint32_t a, uint32_t b) { return lots[a].depth < lots[b].depth; });
      v1::RecallHolderLots* group = view.add_lots_by_holder();
      group->set_party_id(parties[p]);
      const int n = static_cast<int>(own.size());
      group->mutable_batch_ids()->Reserve(n);
      group->mutable_herb_indexes()->Reserve(n);
      group->mutable_depths()->Reserve(n);
      group->mutable_grams_at_recall()->Reserve(n);
      group->mutable_remaining_grams()->Reserve(n);
      group->mutable_statuses()->Reserve(n);
      group->mutable_ack_required()->Reserve(n);
      group->mutable_acknowledged()->Reserve(n);
      for (uint32_t column = 0; column < own.size(); ++column) {
        const Lot& lot = lots[own[column]];
        group->add_batch_ids()->assign(codes, lot.batch_begin, lot.batch_size);
        auto [herb, added] =
            herb_columns.try_emplace(lot.herb, static_cast<uint32_t>(herb_columns.size()));
        if (added) view.add_scope_herb_codes(herbs[lot.herb]);
        group->add_herb_indexes(herb->second);
        group->add_depths(lot.depth);
        group->add_grams_at_recall(lot.grams_at_recall);
        group->add_remaining_grams(lot.remaining_grams);
        group->add_statuses(lot.status);
        group->add_ack_required(lot.ack_required);
        group->add_acknowledged(lot.acknowledged);
        if (lot.holder_now != p) (*group->mutable_holders_now())[column] = parties[lot.holder_now];
      }
    }
    view.set_scope_lots(static_cast<uint32_t>(lots.size()));
    return last_seq;
  }

  std::string codes;  // every lot's batch_id, back to back
  std::vector<Lot> lots;
  Names parties, herbs;
};

}  // namespace

absl::StatusOr<uint64_t> ReadScopeByHolder(const storage::LedgerDb& db,
                                           absl::string_view recall_id, v1::RecallView& view) {
  const std::string prefix = domain::keys::RecallLotPrefix(recall_id);
  std::string bound = prefix;
  bound.back() = static_cast<char>(bound.back() + 1);
  const rocksdb::Slice upper(bound);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(options, db.cf(Cf::kRegistry)));

  ScopeColumns scope;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    const absl::string_view bytes(it->value().data(), it->value().size());
    StoredLot stored;
    if (!DecodeLot(bytes, stored)) {
      const absl::string_view key(it->key().data(), it->key().size());
      return absl::DataLossError(absl::StrCat("the stored scope lot ", key.substr(prefix.size()),
                                              " of recall ", recall_id, " does not parse"));
    }
    scope.Add(stored);
  }
  if (!it->status().ok()) return storage::FromRocks(it->status(), "scanning the recall's scope");
  it.reset();

  // Records written before the rules kept the lot's state now: read the batch states.
  google::protobuf::RepeatedPtrField<v1::RecallScopeLot> stand_ins;
  std::vector<v1::RecallScopeLot*> without_now;
  std::vector<size_t> stood_for;
  for (size_t i = 0; i < scope.lots.size(); ++i) {
    const Lot& lot = scope.lots[i];
    if (lot.has_now) continue;
    v1::RecallScopeLot* stand_in = stand_ins.Add();
    stand_in->set_batch_id(scope.codes.substr(lot.batch_begin, lot.batch_size));
    without_now.push_back(stand_in);
    stood_for.push_back(i);
  }
  if (!without_now.empty()) {
    if (auto s = FillCurrent(db, without_now, CurrentState::kSummary); !s.ok()) return s;
    for (size_t k = 0; k < stood_for.size(); ++k) {
      const v1::BatchState& now = without_now[k]->current();
      Lot& lot = scope.lots[stood_for[k]];
      lot.holder_now = scope.parties.Of(now.holder_party_id());
      lot.remaining_grams = now.remaining_grams();
      lot.status = now.status();
      lot.last_seq = now.last_seq();
    }
  }
  return scope.Emit(view);
}

uint64_t GroupByHolder(const std::vector<v1::RecallScopeLot*>& lots, v1::RecallView& view) {
  ScopeColumns scope;
  for (const v1::RecallScopeLot* lot : lots) {
    StoredLot stored;
    stored.batch_id = lot->batch_id();
    stored.herb_code = lot->herb_code();
    stored.holder_at_recall = lot->holder_at_recall();
    stored.holder_now = lot->current().holder_party_id();
    stored.has_now = true;
    stored.depth = lot->depth();
    stored.grams_at_recall = lot->grams_at_recall();
    stored.remaining_grams = lot->current().remaining_grams();
    stored.last_seq = lot->current().last_seq();
    stored.status = static_cast<uint32_t>(lot->current().status());
    stored.ack_required = lot->ack_required();
    stored.acknowledged = lot->acknowledged();
    scope.Add(stored);
  }
  return scope.Emit(view);
}

}  // namespace herbtrace::server
