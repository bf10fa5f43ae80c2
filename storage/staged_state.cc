#include "storage/staged_state.h"

#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace herbtrace::storage {
namespace {

// The first key after every key that starts with `prefix`, or "" when there is none (the prefix
// is all 0xff).
std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace

StagedState::StagedState(LedgerDb& db, size_t max_cached_bytes)
    : db_(db), max_cached_bytes_(max_cached_bytes) {}

size_t StagedState::Cost(absl::string_view key, const Slot& slot) {
  // Node, hash slot and string headers: about 96 bytes besides the key and value bytes.
  return 96 + key.size() + (slot.value.has_value() ? slot.value->size() : 0);
}

absl::StatusOr<std::optional<absl::string_view>> StagedState::Get(Cf cf, absl::string_view key) {
  Family& family = families_[static_cast<int>(cf)];
  auto it = family.find(key);
  if (it == family.end()) {
    std::string value;
    rocksdb::Status s = db_.db().Get(rocksdb::ReadOptions(), db_.cf(cf),
                                     rocksdb::Slice(key.data(), key.size()), &value);
    Slot slot;
    if (s.ok()) {
      slot.value = std::move(value);
    } else if (!s.IsNotFound()) {
      return FromRocks(s, absl::StrCat("reading ", CfName(cf)));
    }
    bytes_ += Cost(key, slot);
    it = family.emplace(std::string(key), std::move(slot)).first;
  }
  if (!it->second.value.has_value()) return std::nullopt;
  return absl::string_view(*it->second.value);
}

absl::Status StagedState::ForEachWithPrefix(
    Cf cf, absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) const {
  const Family& family = families_[static_cast<int>(cf)];
  const absl::btree_set<absl::string_view>& staged = staged_[static_cast<int>(cf)];
  // The upper bound lets RocksDB skip files past the prefix and stop at its end.
  const std::string end = PrefixEnd(prefix);
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  if (!end.empty()) options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> stored(db_.db().NewIterator(options, db_.cf(cf)));
  const rocksdb::Slice p(prefix.data(), prefix.size());
  stored->Seek(p);
  auto mine = staged.lower_bound(prefix);
  auto stored_valid = [&] { return stored->Valid() && stored->key().starts_with(p); };
  auto mine_valid = [&] { return mine != staged.end() && absl::StartsWith(*mine, prefix); };
  while (true) {
    const bool has_stored = stored_valid();
    const bool has_mine = mine_valid();
    if (!has_stored && !has_mine) break;
    const absl::string_view stored_key =
        has_stored ? absl::string_view(stored->key().data(), stored->key().size())
                   : absl::string_view();
    if (has_mine && (!has_stored || *mine <= stored_key)) {
      // A staged change shadows what RocksDB holds under the same key.
      if (has_stored && *mine == stored_key) stored->Next();
      const Slot& slot = family.find(*mine)->second;
      const absl::string_view key = *mine;
      ++mine;
      if (!slot.value.has_value()) continue;  // deleted in this group
      if (!visit(key, *slot.value)) return absl::OkStatus();
    } else {
      if (!visit(stored_key,
                 absl::string_view(stored->value().data(), stored->value().size()))) {
        return absl::OkStatus();
      }
      stored->Next();
    }
  }
  return FromRocks(stored->status(), absl::StrCat("scanning ", CfName(cf)));
}

void StagedState::Stage(Cf cf, absl::string_view key, std::optional<absl::string_view> value) {
  const int index = static_cast<int>(cf);
  Family& family = families_[index];
  auto it = family.find(key);
  const bool existed = it != family.end();
  if (!existed) it = family.emplace(std::string(key), Slot{}).first;
  Slot& slot = it->second;
  if (existed) bytes_ -= Cost(it->first, slot);
  // The value is replaced below either way: the undo record takes it over.
  if (in_append_) undo_.push_back(Undo{index, &it->first, existed, std::move(slot)});
  if (value.has_value()) {
    slot.value.emplace(*value);
  } else {
    slot.value.reset();
  }
  if (!slot.staged) {
    slot.staged = true;
    staged_[index].insert(absl::string_view(it->first));
  }
  bytes_ += Cost(it->first, slot);
}

void StagedState::Put(Cf cf, absl::string_view key, absl::string_view value) {
  Stage(cf, key, value);
}

void StagedState::Delete(Cf cf, absl::string_view key) { Stage(cf, key, std::nullopt); }

void StagedState::BeginAppend() {
  undo_.clear();
  in_append_ = true;
}

void StagedState::AcceptAppend() {
  undo_.clear();
  in_append_ = false;
}

void StagedState::RejectAppend() {
  for (auto undo = undo_.rbegin(); undo != undo_.rend(); ++undo) {
    Family& family = families_[undo->cf];
    auto it = family.find(*undo->key);
    Slot& slot = it->second;
    bytes_ -= Cost(it->first, slot);
    if (!undo->before.staged && slot.staged) {
      staged_[undo->cf].erase(absl::string_view(it->first));
    }
    if (!undo->existed) {
      family.erase(it);
      continue;
    }
    slot = std::move(undo->before);
    bytes_ += Cost(it->first, slot);
  }
  undo_.clear();
  in_append_ = false;
}

void StagedState::AddChangesTo(rocksdb::WriteBatch& batch) const {
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    if (staged_[i].empty()) continue;
    rocksdb::ColumnFamilyHandle* handle = db_.cf(static_cast<Cf>(i));
    const Family& family = families_[i];
    for (absl::string_view key : staged_[i]) {
      const Slot& slot = family.find(key)->second;
      const rocksdb::Slice k(key.data(), key.size());
      if (slot.value.has_value()) {
        batch.Put(handle, k, *slot.value);
      } else {
        batch.Delete(handle, k);
      }
    }
  }
}

void StagedState::Committed() {
  if (bytes_ > max_cached_bytes_) {
    Discard();
    return;
  }
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    Family& family = families_[i];
    for (absl::string_view key : staged_[i]) family.find(key)->second.staged = false;
    staged_[i].clear();
  }
}

void StagedState::Discard() {
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    staged_[i].clear();
    families_[i].clear();
  }
  undo_.clear();
  in_append_ = false;
  bytes_ = 0;
}

size_t StagedState::cached_keys() const {
  size_t n = 0;
  for (const Family& family : families_) n += family.size();
  return n;
}

size_t StagedState::staged_keys() const {
  size_t n = 0;
  for (const auto& keys : staged_) n += keys.size();
  return n;
}

}  // namespace herbtrace::storage
