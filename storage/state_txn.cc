#include "storage/state_txn.h"

#include <memory>

#include "absl/strings/str_cat.h"

namespace herbtrace::storage {

absl::StatusOr<std::optional<std::string>> StateTxn::Get(Cf cf, absl::string_view key) const {
  if (auto s = CheckStateFamily(cf); !s.ok()) return s;
  std::string value;
  rocksdb::Status s = batch_.GetFromBatchAndDB(&db_.db(), rocksdb::ReadOptions(), db_.cf(cf),
                                               rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s, absl::StrCat("reading ", CfName(cf)));
  return value;
}

absl::Status StateTxn::ForEachWithPrefix(
    Cf cf, absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) const {
  if (auto s = CheckStateFamily(cf); !s.ok()) return s;
  std::unique_ptr<rocksdb::Iterator> it(batch_.NewIteratorWithBase(
      db_.cf(cf), db_.db().NewIterator(rocksdb::ReadOptions(), db_.cf(cf))));
  const rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
    if (!visit(absl::string_view(it->key().data(), it->key().size()),
               absl::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status(), absl::StrCat("scanning ", CfName(cf)));
}

absl::Status StateTxn::CheckStateFamily(Cf cf) {
  switch (cf) {
    case Cf::kBatchState:
    case Cf::kLineageDown:
    case Cf::kLineageUp:
    case Cf::kHolderBatches:
    case Cf::kRegistry:
    case Cf::kConfidential:
      return absl::OkStatus();
    default:
      return absl::InternalError(
          absl::StrCat("state rule tried to use ", CfName(cf), ", which only the log uses"));
  }
}

absl::Status StateTxn::Put(Cf cf, absl::string_view key, absl::string_view value) {
  if (auto s = CheckStateFamily(cf); !s.ok()) return s;
  return FromRocks(batch_.Put(db_.cf(cf), rocksdb::Slice(key.data(), key.size()),
                              rocksdb::Slice(value.data(), value.size())),
                   "staging a state change");
}

absl::Status StateTxn::Delete(Cf cf, absl::string_view key) {
  if (auto s = CheckStateFamily(cf); !s.ok()) return s;
  return FromRocks(batch_.Delete(db_.cf(cf), rocksdb::Slice(key.data(), key.size())),
                   "staging a state change");
}

}  // namespace herbtrace::storage
