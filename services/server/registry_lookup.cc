#include "services/server/registry_lookup.h"

#include "absl/strings/str_cat.h"
#include "services/domain/state_keys.h"
#include "storage/key_codec.h"

namespace herbtrace::server {
namespace {

absl::StatusOr<std::optional<uint64_t>> SeqAt(const storage::LedgerDb& db,
                                              const std::string& key) {
  auto value = db.Get(storage::Cf::kRegistry, key);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::nullopt;
  if ((*value)->size() != 8) {
    return absl::DataLossError(absl::StrCat("registry ", key, ": not an 8-byte sequence number"));
  }
  return storage::ReadBigEndian64(**value);
}

}  // namespace

bool HasRole(const v1::Party& party, v1::PartyRole role) {
  for (int r : party.roles()) {
    if (r == role) return true;
  }
  return false;
}

absl::StatusOr<std::optional<v1::Party>> PartyRecord(const storage::LedgerDb& db,
                                                     absl::string_view party_id) {
  const std::string key = domain::keys::Party(party_id);
  auto value = db.Get(storage::Cf::kRegistry, key);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::nullopt;
  v1::Party party;
  if (!party.ParseFromString(**value)) {
    return absl::DataLossError(absl::StrCat("state value under '", key, "' does not parse"));
  }
  return party;
}

absl::StatusOr<std::optional<CatalogVersion>> CurrentCatalog(const storage::LedgerDb& db) {
  auto version = db.Get(storage::Cf::kRegistry, domain::keys::kCatalogCurrent);
  if (!version.ok()) return version.status();
  if (!version->has_value()) return std::nullopt;
  auto seq = SeqAt(db, domain::keys::Catalog(**version));
  if (!seq.ok()) return seq.status();
  if (!seq->has_value()) {
    return absl::DataLossError(
        absl::StrCat("registry: catalog ", **version, " is in force but was never loaded"));
  }
  return CatalogVersion{**version, **seq};
}

absl::StatusOr<std::optional<uint64_t>> LimitsSeq(const storage::LedgerDb& db,
                                                  absl::string_view version) {
  return SeqAt(db, domain::keys::LimitSeq(version));
}

}  // namespace herbtrace::server
