#include "services/domain/state_reader.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/domain/state_keys.h"

namespace herbtrace::domain {
namespace {

using storage::Cf;

template <typename M>
absl::StatusOr<M> Parse(absl::string_view bytes, absl::string_view key) {
  M message;
  if (!message.ParseFromString(std::string(bytes))) {
    return absl::DataLossError(absl::StrCat("state value under '", key, "' does not parse"));
  }
  return message;
}

// Visits every key with `prefix` in order; stops early when `visit` returns false.
absl::Status Scan(const storage::LedgerDb& db, Cf cf, absl::string_view prefix,
                  const std::function<absl::StatusOr<bool>(absl::string_view key,
                                                           absl::string_view value)>& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(rocksdb::ReadOptions(), db.cf(cf)));
  const rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
    absl::StatusOr<bool> more = visit(absl::string_view(it->key().data(), it->key().size()),
                                      absl::string_view(it->value().data(), it->value().size()));
    if (!more.ok()) return more.status();
    if (!*more) break;
  }
  return storage::FromRocks(it->status(), absl::StrCat("scanning ", storage::CfName(cf)));
}

template <typename M>
absl::StatusOr<std::vector<M>> ScanAll(const storage::LedgerDb& db, Cf cf,
                                       absl::string_view prefix) {
  std::vector<M> out;
  absl::Status s = Scan(
      db, cf, prefix, [&](absl::string_view key, absl::string_view value) -> absl::StatusOr<bool> {
        auto m = Parse<M>(value, key);
        if (!m.ok()) return m.status();
        out.push_back(*std::move(m));
        return true;
      });
  if (!s.ok()) return s;
  return out;
}

// The ids after `prefix` in the keys of a `<id> 0x00 <id>` family.
absl::StatusOr<std::vector<std::string>> ScanSuffixes(const storage::LedgerDb& db, Cf cf,
                                                      const std::string& prefix) {
  std::vector<std::string> out;
  absl::Status s =
      Scan(db, cf, prefix, [&](absl::string_view key, absl::string_view) -> absl::StatusOr<bool> {
        out.emplace_back(key.substr(prefix.size()));
        return true;
      });
  if (!s.ok()) return s;
  return out;
}

template <typename M>
absl::StatusOr<M> GetMessage(const storage::LedgerDb& db, Cf cf, absl::string_view key,
                             absl::Status not_found) {
  auto bytes = db.Get(cf, key);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return not_found;
  return Parse<M>(**bytes, key);
}

}  // namespace

absl::StatusOr<v1::Party> StateReader::Party(absl::string_view party_id) const {
  auto party = GetMessage<v1::Party>(
      db_, Cf::kRegistry, keys::Party(party_id),
      absl::NotFoundError(absl::StrCat("party_id: ", party_id, " is not registered")));
  if (!party.ok()) return party;
  auto key_ids = ScanSuffixes(db_, Cf::kRegistry, keys::PartyKeyPrefix(party_id));
  if (!key_ids.ok()) return key_ids.status();
  for (const std::string& key_id : *key_ids) {
    auto key = Key(key_id);
    if (!key.ok()) return key.status();
    *party->add_keys() = *std::move(key);
  }
  return party;
}

absl::StatusOr<std::vector<v1::Party>> StateReader::Parties() const {
  return ScanAll<v1::Party>(db_, Cf::kRegistry, keys::kPartyPrefix);
}

absl::StatusOr<v1::SigningKey> StateReader::Key(absl::string_view key_id) const {
  return GetMessage<v1::SigningKey>(
      db_, Cf::kRegistry, keys::Key(key_id),
      absl::NotFoundError(absl::StrCat("key_id: ", key_id, " is not registered")));
}

absl::StatusOr<v1::PlantingBase> StateReader::Base(absl::string_view base_id) const {
  return GetMessage<v1::PlantingBase>(
      db_, Cf::kRegistry, keys::Base(base_id),
      absl::NotFoundError(absl::StrCat("base_id: ", base_id, " is not registered")));
}

absl::StatusOr<std::vector<v1::PlantingBase>> StateReader::Bases(
    absl::string_view owner_party_id) const {
  // A base id starts with its owner's party id, so one owner's bases are one key range.
  return ScanAll<v1::PlantingBase>(db_, Cf::kRegistry, keys::Base(owner_party_id));
}

absl::StatusOr<v1::Herb> StateReader::Herb(absl::string_view herb_code) const {
  return GetMessage<v1::Herb>(
      db_, Cf::kRegistry, keys::Herb(herb_code),
      absl::NotFoundError(absl::StrCat("herb_code: ", herb_code, " is not in the catalog")));
}

absl::StatusOr<std::vector<v1::Herb>> StateReader::Herbs() const {
  return ScanAll<v1::Herb>(db_, Cf::kRegistry, keys::kHerbPrefix);
}

absl::StatusOr<v1::BatchState> StateReader::Batch(absl::string_view batch_id) const {
  return GetMessage<v1::BatchState>(
      db_, Cf::kBatchState, batch_id,
      absl::NotFoundError(absl::StrCat("batch_id: ", batch_id, " is not in the log")));
}

absl::StatusOr<std::vector<std::string>> StateReader::Children(absl::string_view batch_id) const {
  return ScanSuffixes(db_, Cf::kLineageDown, keys::LineagePrefix(batch_id));
}

absl::StatusOr<std::vector<std::string>> StateReader::Parents(absl::string_view batch_id) const {
  return ScanSuffixes(db_, Cf::kLineageUp, keys::LineagePrefix(batch_id));
}

absl::StatusOr<std::vector<std::string>> StateReader::HeldBy(absl::string_view party_id) const {
  return ScanSuffixes(db_, Cf::kHolderBatches, keys::HolderPrefix(party_id));
}

absl::StatusOr<std::vector<v1::JudgedTest>> StateReader::Tests(absl::string_view batch_id) const {
  return ScanAll<v1::JudgedTest>(db_, Cf::kRegistry, keys::TestPrefix(batch_id));
}

absl::StatusOr<std::string> StateReader::CurrentLimitsVersion() const {
  auto version = db_.Get(Cf::kRegistry, keys::kLimitsCurrent);
  if (!version.ok()) return version.status();
  if (!version->has_value()) {
    return absl::NotFoundError("limits_version: no quality limits are loaded");
  }
  return **version;
}

absl::StatusOr<v1::LoadQualityLimits> StateReader::Limits(absl::string_view version) const {
  return GetMessage<v1::LoadQualityLimits>(
      db_, Cf::kRegistry, keys::Limits(version),
      absl::NotFoundError(absl::StrCat("limits_version: ", version, " is not loaded")));
}

absl::StatusOr<v1::RecallView> StateReader::Recall(absl::string_view recall_id) const {
  auto view = GetMessage<v1::RecallView>(
      db_, Cf::kRegistry, keys::Recall(recall_id),
      absl::NotFoundError(absl::StrCat("recall_id: ", recall_id, " is not a recall")));
  if (!view.ok()) return view;
  auto lots = ScanAll<v1::RecallScopeLot>(db_, Cf::kRegistry, keys::RecallLotPrefix(recall_id));
  if (!lots.ok()) return lots.status();
  std::sort(lots->begin(), lots->end(),
            [](const v1::RecallScopeLot& a, const v1::RecallScopeLot& b) {
              return a.depth() != b.depth() ? a.depth() < b.depth() : a.batch_id() < b.batch_id();
            });
  for (v1::RecallScopeLot& lot : *lots) {
    auto acks = ScanAll<v1::RecallAckRecord>(db_, Cf::kRegistry,
                                             keys::RecallAckLotPrefix(recall_id, lot.batch_id()));
    if (!acks.ok()) return acks.status();
    for (v1::RecallAckRecord& ack : *acks) *lot.add_acks() = std::move(ack);
    auto current = Batch(lot.batch_id());
    if (!current.ok()) return current.status();
    *lot.mutable_current() = *std::move(current);
    *view->add_lots() = std::move(lot);
  }
  // Overdue is a matter of the reader's clock, not of the log.
  const bool past_deadline = view->has_ack_deadline() &&
                             absl::FromUnixSeconds(view->ack_deadline().seconds()) < absl::Now();
  for (v1::HolderAckStatus& h : *view->mutable_holders()) {
    h.set_overdue(past_deadline && h.lots_acknowledged() < h.lots());
  }
  return view;
}

absl::StatusOr<std::vector<v1::RecallSummary>> StateReader::Recalls() const {
  auto views = ScanAll<v1::RecallView>(db_, Cf::kRegistry, keys::kRecallPrefix);
  if (!views.ok()) return views.status();
  std::vector<v1::RecallSummary> out;
  out.reserve(views->size());
  for (const v1::RecallView& v : *views) {
    v1::RecallSummary s;
    s.set_recall_id(v.recall_id());
    s.set_seq(v.seq());
    s.set_batch_id(v.batch_id());
    s.set_herb_code(v.herb_code());
    s.set_severity(v.severity());
    *s.mutable_issued_at() = v.issued_at();
    s.set_status(v.status());
    uint32_t lots = 0, acknowledged = 0;
    for (const v1::HolderAckStatus& h : v.holders()) {
      lots += h.lots();
      acknowledged += h.lots_acknowledged();
    }
    s.set_lots(lots);
    s.set_lots_acknowledged(acknowledged);
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const v1::RecallSummary& a, const v1::RecallSummary& b) {
    return a.seq() > b.seq();
  });
  return out;
}

}  // namespace herbtrace::domain
