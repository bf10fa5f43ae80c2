#include "storage/state_txn.h"

#include "absl/strings/str_cat.h"

namespace herbtrace::storage {

absl::StatusOr<std::optional<std::string>> StateTxn::Get(Cf cf, absl::string_view key) const {
  auto value = View(cf, key);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::nullopt;
  return std::string(**value);
}

absl::StatusOr<std::optional<absl::string_view>> StateTxn::View(Cf cf,
                                                                absl::string_view key) const {
  if (auto s = CheckStateFamily(cf); !s.ok()) return s;
  return state_.Get(cf, key);
}

absl::Status StateTxn::ForEachWithPrefix(
    Cf cf, absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) const {
  if (auto s = CheckStateFamily(cf); !s.ok()) return s;
  return state_.ForEachWithPrefix(cf, prefix, visit);
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
  state_.Put(cf, key, value);
  return absl::OkStatus();
}

absl::Status StateTxn::Delete(Cf cf, absl::string_view key) {
  if (auto s = CheckStateFamily(cf); !s.ok()) return s;
  state_.Delete(cf, key);
  return absl::OkStatus();
}

}  // namespace herbtrace::storage
