// Reads the fields of a stored LedgerEntry that a whole-log pass needs — seq, event id, the
// signed payload and the batch links — straight from the stored bytes, without building the
// message: a full parse allocates a string for every id, hash, signature and bundle proof hash,
// which is most of what an audit would otherwise spend per entry besides hashing.
//
// Bytes are the truth, and the scan reads them as protobuf does: it accepts exactly the bytes
// LedgerEntry::ParseFromArray accepts, with the same field values. The fast path takes only the
// plain shape the log writes (each field once, with its declared wire type, in the shortest
// tags, ASCII strings) and checks every nested message against the shapes read from the
// descriptors; anything else (unknown fields, repeated singular fields, non-ASCII strings, ...)
// is parsed by protobuf itself.
//
// Not thread-safe; one scanner per thread, reused across entries.
#ifndef HERBTRACE_STORAGE_ENTRY_SCAN_H_
#define HERBTRACE_STORAGE_ENTRY_SCAN_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "herbtrace/v1/entry.pb.h"

namespace herbtrace::storage {

struct ScannedBatchLink {
  absl::string_view batch_id;
  absl::string_view prev_leaf_hash;
};

class EntryScanner {
 public:
  // False exactly when the bytes do not parse as a LedgerEntry. The views below point into
  // `bytes` or into the scanner: valid until the next Scan and while `bytes` lives.
  bool Scan(absl::string_view bytes);

  uint64_t seq() const { return seq_; }
  absl::string_view event_id() const { return event_id_; }
  absl::string_view payload() const { return payload_; }
  const std::vector<ScannedBatchLink>& batch_prev() const { return batch_prev_; }

  // How many scans protobuf parsed (the bytes were outside the fast path's shape).
  uint64_t parsed_by_protobuf() const { return parsed_by_protobuf_; }

 private:
  bool ScanPlain(absl::string_view bytes);
  bool Parse(absl::string_view bytes);

  uint64_t seq_ = 0;
  absl::string_view event_id_;
  absl::string_view payload_;
  std::vector<ScannedBatchLink> batch_prev_;
  v1::LedgerEntry parsed_;
  uint64_t parsed_by_protobuf_ = 0;
};

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_ENTRY_SCAN_H_
