// Checkpoints as the services hand them out, with the witnesses' cosignatures the log collected.
//
// Cosignatures live in the meta column family, one per witness, the newest kept:
//   key   := "cosig/" ‖ witness name
//   value := the cosigned checkpoint as a signed note holding only the witness's line:
//            checkpoint body ‖ "\n" ‖ "— " name " " base64(key hash ‖ timestamp ‖ signature) "\n"
// "Newest" is the larger tree size, then the later cosignature timestamp. The log's own
// signature is not repeated there: the stored checkpoint ("checkpoint" in meta) carries it.
#ifndef HERBTRACE_SERVICES_SERVER_CHECKPOINTS_H_
#define HERBTRACE_SERVICES_SERVER_CHECKPOINTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/checkpoint.h"
#include "crypto/signed_note.h"
#include "herbtrace/v1/ledger.pb.h"
#include "services/server/log_source.h"
#include "storage/ledger_db.h"

namespace herbtrace::server {

inline constexpr absl::string_view kMetaCosignaturePrefix = "cosig/";

// The message's fields from a note and its parsed body.
v1::Checkpoint CheckpointProto(const std::string& note, const crypto::Checkpoint& checkpoint);

// One witness's stored cosignature.
struct StoredCosignature {
  std::string body;  // the checkpoint text it cosigns
  crypto::Checkpoint checkpoint;
  crypto::NoteSignature signature;
  uint64_t timestamp = 0;  // from the signature's first 8 bytes
};

// Every stored cosignature, by witness name.
absl::StatusOr<std::vector<StoredCosignature>> ReadCosignatures(const storage::LedgerDb& db);

// Stores `cosignature` in the writer's database unless the witness's stored one is newer, and
// then invalidates the source's cosigned notes. Returns whether it was stored;
// FailedPrecondition on a replica. REQUIRES: the caller serializes calls (read-compare-write).
absl::StatusOr<bool> StoreCosignature(LogSource& source, const StoredCosignature& cosignature);

// `note` with the lines of every stored cosignature of the same checkpoint body appended (after
// the lines it already has; a witness line it already carries is not repeated).
absl::StatusOr<std::string> AttachCosignatures(const storage::LedgerDb& db,
                                               const std::string& note);

// The latest checkpoint as a message, with its cosignatures: from the source's cosigned notes,
// which read the stored cosignatures again only after a new one was stored or the note changed.
absl::StatusOr<v1::Checkpoint> CosignedCheckpoint(const LogSource& source,
                                                  const StoredCheckpoint& stored);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_CHECKPOINTS_H_
