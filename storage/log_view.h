// Reads of a ledger: entries as stored, leaf hashes, roots and proofs for any past tree size,
// batch histories and heads, the latest signed checkpoint. Used by the writer and by reader
// processes (a secondary LedgerDb) alike.
//
// Thread-safe. Every call reads the database as it is now; a reader that follows a writer sees
// new entries after LedgerDb::CatchUp.
#ifndef HERBTRACE_STORAGE_LOG_VIEW_H_
#define HERBTRACE_STORAGE_LOG_VIEW_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "herbtrace/v1/entry.pb.h"
#include "storage/ledger_db.h"
#include "storage/tree_nodes.h"

namespace herbtrace::storage {

// The head of one batch's hash chain.
struct BatchHead {
  uint64_t seq = 0;
  crypto::Digest leaf_hash{};
};

// value := u64be(seq) ‖ leaf hash.
std::string EncodeBatchHead(const BatchHead& head);
absl::StatusOr<BatchHead> DecodeBatchHead(absl::string_view value, absl::string_view batch_id);

// What event_ids holds for one event id:
//   value := u64be(seq) ‖ H(signed payload) ‖ u64be(size of the tree its group committed)
// The committed size lets a retry get back exactly the receipt the first append got.
struct EventRecord {
  uint64_t seq = 0;
  crypto::Digest payload_hash{};
  uint64_t committed_size = 0;
};
std::string EncodeEventRecord(const EventRecord& record);
absl::StatusOr<EventRecord> DecodeEventRecord(absl::string_view value, absl::string_view event_id);

// meta "tree_size" := u64be(number of entries in the log).
absl::StatusOr<uint64_t> DecodeTreeSize(absl::string_view value);

// The key of one entry in a batch's history: batch id ‖ 0x00 ‖ u64be(seq).
std::string BatchEntryKey(absl::string_view batch_id, uint64_t seq);

class LogView {
 public:
  // REQUIRES: db and hasher outlive the view.
  LogView(const LedgerDb& db, const crypto::Hasher& hasher)
      : db_(db), hasher_(hasher), stored_nodes_(db), nodes_(stored_nodes_) {}

  const crypto::Hasher& hasher() const { return hasher_; }
  const crypto::NodeReader& nodes() const { return nodes_; }

  // Number of entries in the log, as recorded with the last committed group.
  absl::StatusOr<uint64_t> Size() const;

  // The entry's stored bytes; NotFound("entry N: ...") past the end.
  absl::StatusOr<std::string> EntryBytes(uint64_t seq) const;
  // The stored bytes of each of `seqs`, in that order, in one batched read.
  absl::StatusOr<std::vector<std::string>> EntriesBytes(absl::Span<const uint64_t> seqs) const;
  absl::StatusOr<crypto::Digest> LeafHash(uint64_t seq) const;

  // Root of the first `size` entries. OutOfRange if size exceeds the log.
  absl::StatusOr<crypto::Digest> RootAt(uint64_t size) const;
  absl::StatusOr<std::vector<crypto::Digest>> InclusionProof(uint64_t seq,
                                                            uint64_t tree_size) const;

  // The same for many entries at once, in the order of `seqs`: the stored bytes in one
  // batched read, the leaf hashes and proofs in another (crypto::InclusionProofs), and the tree
  // size checked against the log once. What a read that proves a batch's history or a lineage
  // uses. NotFound("entry N: ...") for an entry past the end; OutOfRange for a size beyond the
  // log; InvalidArgument unless every seq < tree_size. `log_size`, when given, is the log's size
  // as the caller has just read it: a log only grows, so the size is not read again.
  struct ProvenEntry {
    uint64_t seq = 0;
    std::string bytes;
    crypto::Digest leaf_hash{};
    std::vector<crypto::Digest> proof;
  };
  absl::StatusOr<std::vector<ProvenEntry>> ProvenEntries(
      absl::Span<const uint64_t> seqs, uint64_t tree_size,
      std::optional<uint64_t> log_size = std::nullopt) const;
  absl::StatusOr<std::vector<crypto::Digest>> ConsistencyProof(uint64_t size1,
                                                              uint64_t size2) const;

  // The receipt for the entry at `seq` as of the tree of `tree_size` entries: its leaf hash,
  // that size and its root. With the committed size of its group, the receipt the log gave.
  absl::StatusOr<v1::Receipt> ReceiptFor(uint64_t seq, uint64_t tree_size) const;

  // Sequence number of an event id, if the log has it.
  absl::StatusOr<std::optional<uint64_t>> FindEvent(absl::string_view event_id) const;
  absl::StatusOr<std::optional<EventRecord>> FindEventRecord(absl::string_view event_id) const;

  // The latest signed checkpoint note, exactly as signed; nullopt before the first.
  absl::StatusOr<std::optional<std::string>> LatestCheckpointNote() const;

  absl::StatusOr<std::optional<BatchHead>> Head(absl::string_view batch_id) const;
  // Every entry that touched the batch, oldest first.
  absl::StatusOr<std::vector<uint64_t>> BatchHistory(absl::string_view batch_id) const;

 private:
  absl::Status CheckSize(uint64_t size, absl::string_view field) const;

  const LedgerDb& db_;
  const crypto::Hasher& hasher_;
  TreeNodeReader stored_nodes_;
  CachedNodeReader nodes_;  // proofs and roots read the upper levels through this
};

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_LOG_VIEW_H_
