// Registry reads the services share beyond domain::StateReader's calls. Keys are spelled by
// services/domain/state_keys.h, the domain layer's one spelling of its encodings.
#ifndef HERBTRACE_SERVICES_SERVER_REGISTRY_LOOKUP_H_
#define HERBTRACE_SERVICES_SERVER_REGISTRY_LOOKUP_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "herbtrace/v1/registry.pb.h"
#include "storage/ledger_db.h"

namespace herbtrace::server {

bool HasRole(const v1::Party& party, v1::PartyRole role);

// The party's registry record without its keys (domain::StateReader::Party also reads every
// key): one point read. nullopt when the party is not registered.
absl::StatusOr<std::optional<v1::Party>> PartyRecord(const storage::LedgerDb& db,
                                                     absl::string_view party_id);

// The herb catalog in force and the LoadHerbCatalog entry that loaded it; nullopt before any.
struct CatalogVersion {
  std::string version;
  uint64_t seq = 0;
};
absl::StatusOr<std::optional<CatalogVersion>> CurrentCatalog(const storage::LedgerDb& db);

// The LoadQualityLimits entry of a limits version; nullopt when not loaded.
absl::StatusOr<std::optional<uint64_t>> LimitsSeq(const storage::LedgerDb& db,
                                                  absl::string_view version);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_REGISTRY_LOOKUP_H_
