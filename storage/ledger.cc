#include "storage/ledger.h"

#include <algorithm>
#include <cstdio>
#include <future>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "crypto/checkpoint.h"
#include "crypto/merkle.h"
#include "storage/key_codec.h"
#include "storage/log_config.h"
#include "storage/tree_nodes.h"
#include "rocksdb/write_batch.h"

namespace herbtrace::storage {
namespace {

absl::Status CheckLogConfig(const LogConfig& stored, const LogConfig& wanted) {
  if (stored.origin != wanted.origin) {
    return absl::FailedPreconditionError(absl::StrCat("origin: this ledger is '", stored.origin,
                                                      "', not '", wanted.origin, "'"));
  }
  if (stored.hash != wanted.hash) {
    return absl::FailedPreconditionError(
        absl::StrCat("hash: this ledger uses ", crypto::HashAlgorithmName(stored.hash), ", not ",
                     crypto::HashAlgorithmName(wanted.hash)));
  }
  if (stored.verifier_key != wanted.verifier_key) {
    return absl::FailedPreconditionError(
        absl::StrCat("log key: this ledger was created with key ", stored.verifier_key,
                     ", not ", wanted.verifier_key));
  }
  return absl::OkStatus();
}

// What a client is told when its append is refused after `cause`, a failed write.
absl::Status Refusal(const absl::Status& cause) {
  if (absl::IsResourceExhausted(cause)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "ledger: the disk is full: appends are refused until space is freed; retry with the same "
        "event_id (",
        cause.message(), ")"));
  }
  if (absl::IsUnavailable(cause)) {
    return absl::UnavailableError(absl::StrCat(
        "ledger: a write to the disk failed: appends are refused until the ledger has "
        "recovered; retry with the same event_id (",
        cause.message(), ")"));
  }
  return absl::Status(
      cause.code(),
      absl::StrCat("ledger: a write failed and the ledger stopped taking appends until it is "
                   "reopened; retry with the same event_id (",
                   cause.message(), ")"));
}

bool Recoverable(const absl::Status& cause) {
  return absl::IsResourceExhausted(cause) || absl::IsUnavailable(cause);
}

// Rewrites the stored tree size with the value it holds, synced: proves that the WAL takes
// writes again after a recovery.
absl::Status RewriteTreeSize(LedgerDb& db, uint64_t size) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db.db().Put(wo, db.cf(Cf::kMeta),
                               rocksdb::Slice(kMetaTreeSize.data(), kMetaTreeSize.size()),
                               BigEndian64(size)),
                   "rewriting the tree size");
}

}  // namespace

Ledger::Ledger(Options options, std::unique_ptr<crypto::Hasher> hasher,
               std::unique_ptr<crypto::NoteSigner> log_signer, std::unique_ptr<LedgerDb> db,
               crypto::CompactRange tree)
    : options_(std::move(options)),
      hasher_(std::move(hasher)),
      log_signer_(std::move(log_signer)),
      db_(std::move(db)),
      view_(*db_, *hasher_),
      tree_(std::move(tree)),
      state_(*db_, options_.state_cache_bytes) {}

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(
    const std::string& path, Options options, std::unique_ptr<crypto::NoteSigner> log_signer) {
  if (options.origin.empty()) return absl::InvalidArgumentError("origin: required");
  if (log_signer == nullptr) return absl::InvalidArgumentError("log_signer: required");
  if (log_signer->name() != options.origin) {
    // A checkpoint's origin line is the signer's key name: they must be one and the same.
    return absl::InvalidArgumentError(absl::StrCat("origin: '", options.origin,
                                                   "' is not the log key's name '",
                                                   log_signer->name(), "'"));
  }
  if (options.max_group_size == 0) options.max_group_size = 1;
  if (options.clock == nullptr) options.clock = &Clock::Real();

  auto hasher = crypto::Hasher::Create(options.hash);
  if (!hasher.ok()) return hasher.status();
  LedgerDb::Options db_options;
  db_options.mode = OpenMode::kWriter;
  db_options.create_if_missing = true;
  db_options.block_cache_bytes = options.block_cache_bytes;
  db_options.env = options.env;
  auto db = LedgerDb::Open(path, db_options);
  if (!db.ok()) return db.status();

  crypto::CompactRange empty(**hasher);
  std::unique_ptr<Ledger> ledger(new Ledger(std::move(options), *std::move(hasher),
                                            std::move(log_signer), *std::move(db),
                                            std::move(empty)));
  if (auto s = ledger->InitializeOrVerify(); !s.ok()) return s;
  if (auto s = ledger->db_->KeepMemtableNonEmpty(); !s.ok()) return s;
  ledger->db_->SetStorageErrorHandler(
      [l = ledger.get()](const absl::Status& error) { l->OnStorageError(error); });
  ledger->sequencer_ = std::thread([l = ledger.get()] { l->RunSequencer(); });
  return ledger;
}

absl::Status Ledger::InitializeOrVerify() {
  const LogConfig wanted{options_.origin, options_.hash, log_signer_->VerifierKey()};
  auto size = view_.Size();
  if (!size.ok()) return size.status();

  auto config = ReadLogConfig(*db_);
  if (!config.ok() && !absl::IsNotFound(config.status())) return config.status();
  if (!config.ok()) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db().NewIterator(rocksdb::ReadOptions(), db_->cf(Cf::kEntries)));
    it->SeekToFirst();
    if (it->Valid() || *size != 0) {
      return absl::DataLossError("meta log: missing, but the ledger holds entries");
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    auto s = db_->db().Put(wo, db_->cf(Cf::kMeta), rocksdb::Slice(kMetaLog.data(), kMetaLog.size()),
                           EncodeLogConfig(wanted));
    if (!s.ok()) return FromRocks(s, "writing the log configuration");
  } else if (auto s = CheckLogConfig(*config, wanted); !s.ok()) {
    return s;
  }

  // The entries must end exactly at the recorded tree size.
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db().NewIterator(rocksdb::ReadOptions(), db_->cf(Cf::kEntries)));
  it->SeekToLast();
  if (!it->status().ok()) return FromRocks(it->status(), "reading entries");
  if (*size == 0) {
    if (it->Valid()) {
      return absl::DataLossError("entries: the tree size is 0 but entries are stored");
    }
  } else {
    if (!it->Valid()) {
      return absl::DataLossError(
          absl::StrCat("entries: the tree size is ", *size, " but no entry is stored"));
    }
    if (it->key().size() != 8) {
      return absl::DataLossError("entries: the last stored key is malformed");
    }
    const uint64_t last = ReadBigEndian64(absl::string_view(it->key().data(), 8));
    if (last != *size - 1) {
      return absl::DataLossError(absl::StrCat("entries: the last stored entry is ", last,
                                              " but the tree size is ", *size));
    }
    const crypto::Digest leaf = crypto::HashLeaf(
        *hasher_, absl::string_view(it->value().data(), it->value().size()));
    auto stored_leaf = view_.LeafHash(last);
    if (!stored_leaf.ok()) return TreeError(stored_leaf.status());
    if (*stored_leaf != leaf) {
      return absl::DataLossError(absl::StrCat("entry ", last, ": leaf hash ", crypto::ToHex(leaf),
                                              " does not match the stored tree (",
                                              crypto::ToHex(*stored_leaf), ")"));
    }
  }

  // The stored tree must reproduce the root the log last signed. Up to that size the tree is
  // vouched for by the signature; past it, nothing is, so the entries since the checkpoint are
  // re-hashed and every tree node they completed is compared: the log must never extend (and
  // later sign) a tree it cannot vouch for. The cost is bounded by the checkpoint interval.
  uint64_t verified_size = 0;
  auto note = view_.LatestCheckpointNote();
  if (!note.ok()) return note.status();
  if (note->has_value()) {
    auto verifier = crypto::NoteVerifier::Create(wanted.verifier_key);
    if (!verifier.ok()) return verifier.status();
    auto checkpoint = crypto::OpenCheckpoint(**note, **verifier);
    if (!checkpoint.ok()) {
      return absl::DataLossError(
          absl::StrCat("checkpoint: the stored checkpoint does not verify: ",
                       checkpoint.status().message()));
    }
    if (checkpoint->size > *size) {
      return absl::DataLossError(absl::StrCat("checkpoint: signed for tree size ",
                                              checkpoint->size, " but the log holds only ", *size,
                                              " entries"));
    }
    auto root = crypto::TreeRoot(*hasher_, view_.nodes(), checkpoint->size);
    if (!root.ok()) return TreeError(root.status());
    if (*root != checkpoint->root_hash) {
      return absl::DataLossError(absl::StrCat(
          "tree: the stored tree at size ", checkpoint->size, " has root ", crypto::ToHex(*root),
          " but the signed checkpoint says ", crypto::ToHex(checkpoint->root_hash)));
    }
    verified_size = checkpoint->size;
    absl::MutexLock lock(&checkpoint_mu_);
    checkpoint_size_ = checkpoint->size;
    has_checkpoint_ = true;
  }
  auto tree = crypto::CompactRange::FromNodes(*hasher_, view_.nodes(), verified_size);
  if (!tree.ok()) return TreeError(tree.status());
  tree_ = *std::move(tree);
  if (auto s = VerifyTail(verified_size, *size); !s.ok()) return s;

  absl::MutexLock lock(&durable_mu_);
  durable_size_ = *size;
  durable_root_ = tree_.Root();
  return absl::OkStatus();
}

absl::Status Ledger::TreeError(const absl::Status& status) {
  // A node the tree needs is missing or malformed: that is damage. Anything else (I/O) is not.
  if (absl::IsNotFound(status) || absl::IsDataLoss(status)) {
    return absl::DataLossError(absl::StrCat("tree: ", status.message()));
  }
  return status;
}

absl::Status Ledger::VerifyTail(uint64_t from, uint64_t size) {
  std::unique_ptr<rocksdb::Iterator> entries(
      db_->db().NewIterator(rocksdb::ReadOptions(), db_->cf(Cf::kEntries)));
  std::unique_ptr<rocksdb::Iterator> nodes(
      db_->db().NewIterator(rocksdb::ReadOptions(), db_->cf(Cf::kTree)));
  const std::string first = BigEndian64(from);
  entries->Seek(first);
  nodes->Seek(first);
  for (uint64_t seq = from; seq < size; ++seq, entries->Next(), nodes->Next()) {
    const std::string key = BigEndian64(seq);
    if (!entries->status().ok()) return FromRocks(entries->status(), "reading entries");
    if (!nodes->status().ok()) return FromRocks(nodes->status(), "reading tree");
    if (!entries->Valid() || entries->key() != rocksdb::Slice(key)) {
      return absl::DataLossError(absl::StrCat("entry ", seq, ": missing"));
    }
    const crypto::Digest leaf = crypto::HashLeaf(
        *hasher_, absl::string_view(entries->value().data(), entries->value().size()));
    const std::string expected = EncodeTreeNodes(tree_.Append(leaf));
    if (!nodes->Valid() || nodes->key() != rocksdb::Slice(key) ||
        nodes->value() != rocksdb::Slice(expected)) {
      return absl::DataLossError(absl::StrCat(
          "entry ", seq, ": its bytes and the tree nodes stored for it do not agree (leaf ",
          crypto::ToHex(leaf), ")"));
    }
  }
  return absl::OkStatus();
}

Ledger::~Ledger() {
  db_->SetStorageErrorHandler(nullptr);
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  if (sequencer_.joinable()) sequencer_.join();
  uint64_t size;
  crypto::Digest root;
  {
    absl::MutexLock lock(&durable_mu_);
    size = durable_size_;
    root = durable_root_;
  }
  bool stale;
  {
    absl::MutexLock lock(&checkpoint_mu_);
    stale = !has_checkpoint_ || checkpoint_size_ < size;
  }
  // A clean close leaves a checkpoint of everything; a failure here only costs the next open a
  // slightly older checkpoint to verify against.
  if (stale && size > 0) {
    if (auto note = SignAndStoreCheckpoint(size, root, /*sync=*/true); !note.ok()) {
      std::fprintf(stderr, "herbtrace ledger: final checkpoint not stored: %s\n",
                   std::string(note.status().message()).c_str());
    }
  }
}

uint64_t Ledger::size() const {
  absl::MutexLock lock(&durable_mu_);
  return durable_size_;
}

void Ledger::AppendAsync(AppendRequest request, AppendCallback done) {
  absl::Status refused;
  {
    absl::MutexLock lock(&queue_mu_);
    if (stopping_) {
      refused = absl::UnavailableError("ledger: closing");
    } else if (!failed_.ok()) {
      refused = failed_;  // already the refusal the client is told
    } else {
      queue_.push_back(Pending{std::move(request), std::move(done), nullptr, 0});
      return;
    }
  }
  done(refused);
}

absl::Status Ledger::write_status() const {
  absl::MutexLock lock(&queue_mu_);
  return failed_;
}

void Ledger::StopAppends(absl::Status refusal, bool recoverable) {
  absl::MutexLock lock(&queue_mu_);
  if (!failed_.ok() && (recoverable || !recoverable_)) return;  // the first cause stays
  // A first failure, or one that makes the stop final: its cause is what clients are told.
  failed_ = std::move(refusal);
  recoverable_ = recoverable;
}

void Ledger::OnStorageError(const absl::Status& error) {
  StopAppends(Refusal(error), Recoverable(error));
}

void Ledger::AppendManyAsync(std::vector<AppendRequest> requests, AppendManyCallback done) {
  if (requests.empty()) return;
  auto shared = std::make_shared<const AppendManyCallback>(std::move(done));
  absl::Status refused;
  {
    absl::MutexLock lock(&queue_mu_);
    if (stopping_) {
      refused = absl::UnavailableError("ledger: closing");
    } else if (!failed_.ok()) {
      refused = failed_;
    } else {
      for (size_t i = 0; i < requests.size(); ++i) {
        queue_.push_back(Pending{std::move(requests[i]), nullptr, shared, i});
      }
      return;
    }
  }
  for (size_t i = 0; i < requests.size(); ++i) (*shared)(i, refused);
}

absl::StatusOr<v1::Receipt> Ledger::Append(AppendRequest request) {
  std::promise<absl::StatusOr<v1::Receipt>> promise;
  std::future<absl::StatusOr<v1::Receipt>> result = promise.get_future();
  AppendAsync(std::move(request),
              [&promise](absl::StatusOr<v1::Receipt> r) { promise.set_value(std::move(r)); });
  return result.get();
}

void Ledger::RunSequencer() {
  absl::Duration backoff = options_.recovery_backoff_min;
  for (;;) {
    std::vector<Pending> group;
    std::deque<Pending> refused;
    absl::Status refusal;
    bool sign_idle_checkpoint = false;
    bool try_recovery = false;
    {
      absl::MutexLock lock(&queue_mu_);
      auto ready = [](Ledger* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->queue_mu_) {
        return !self->queue_.empty() || self->stopping_ || !self->failed_.ok();
      };
      if (!failed_.ok()) {
        // Refusing appends: what queued before the failure was noticed is refused too; with
        // nothing queued, the sequencer tries to recover once per backoff (or, after a failure
        // it cannot recover from, waits to close).
        auto woken = [](Ledger* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->queue_mu_) {
          return !self->queue_.empty() || self->stopping_;
        };
        if (!woken(this)) {
          if (recoverable_) {
            queue_mu_.AwaitWithTimeout(absl::Condition(+woken, this), backoff);
          } else {
            queue_mu_.Await(absl::Condition(+woken, this));
          }
        }
        refused.swap(queue_);
        refusal = failed_;
        if (refused.empty() && stopping_) return;
        try_recovery = refused.empty() && recoverable_;
      } else {
        if (unsigned_appends_) {
          // Entries are durable but not yet under a signed checkpoint: sign one once the log has
          // been idle for the checkpoint interval, so readers and verifiers never wait on the
          // next append for a checkpoint covering what is already there.
          const absl::Duration wait = std::max(
              absl::ZeroDuration(),
              options_.checkpoint_interval - (options_.clock->Now() - last_checkpoint_at_));
          if (!queue_mu_.AwaitWithTimeout(absl::Condition(+ready, this), wait)) {
            sign_idle_checkpoint = true;
          }
        } else {
          queue_mu_.Await(absl::Condition(+ready, this));
        }
        if (!failed_.ok()) continue;  // refused and recovered at the top of the loop
        if (!sign_idle_checkpoint) {
          if (queue_.empty()) return;  // stopping, and everything queued has been committed
          const size_t n = std::min(queue_.size(), options_.max_group_size);
          group.reserve(n);
          for (size_t i = 0; i < n; ++i) {
            group.push_back(std::move(queue_.front()));
            queue_.pop_front();
          }
        }
      }
    }
    if (!refused.empty()) {
      for (Pending& p : refused) p.Finish(refusal);
      continue;
    }
    if (try_recovery) {
      const absl::Status recovered = Recover();
      if (recovered.ok()) {
        backoff = options_.recovery_backoff_min;
        absl::MutexLock lock(&queue_mu_);
        failed_ = absl::OkStatus();
        recoverable_ = false;
      } else {
        std::fprintf(stderr, "herbtrace ledger: appends still refused: %s\n",
                     std::string(recovered.message()).c_str());
        if (absl::IsDataLoss(recovered)) StopAppends(Refusal(recovered), /*recoverable=*/false);
        backoff = std::min(backoff * 2, options_.recovery_backoff_max);
      }
      continue;
    }
    if (sign_idle_checkpoint) {
      SignCheckpointNow(/*sync=*/true);
      continue;
    }
    CommitGroup(std::move(group));
  }
}

void Ledger::SignCheckpointNow(bool sync) {
  last_checkpoint_at_ = options_.clock->Now();
  unsigned_appends_ = false;
  if (auto note = SignAndStoreCheckpoint(tree_.size(), tree_.Root(), sync); !note.ok()) {
    std::fprintf(stderr, "herbtrace ledger: checkpoint not stored: %s\n",
                 std::string(note.status().message()).c_str());
  }
}

// What one append of a group came to, before the group is durable.
struct Ledger::Staged {
  absl::StatusOr<v1::Receipt> result = absl::UnknownError("not staged");
  // A retry of the append at that index of the same group: completes with its receipt.
  std::optional<size_t> same_as;
  crypto::Digest payload_hash{};
};

// One group while it is staged: the log's own families go straight into `batch`; the rules'
// state changes are staged in state_ (so later appends of the same group read them) and added
// to `batch` at commit; batch heads as the group leaves them go to heads_; the group's event ids.
struct Ledger::Group {
  rocksdb::WriteBatch batch;
  std::vector<Staged> staged;
  absl::flat_hash_map<std::string, size_t> ids;
  uint64_t next_seq = 0;
};

namespace {

// Past this many cached batch heads the cache is dropped after a commit (~100 bytes each).
constexpr size_t kMaxCachedHeads = 200'000;

}  // namespace

void Ledger::ForgetCachedState() {
  state_.Discard();
  heads_.clear();
}

void Ledger::CommitGroup(std::vector<Pending> pending) {
  Group group;
  group.staged.resize(pending.size());
  group.next_seq = tree_.size();
  const crypto::CompactRange tree_before = tree_;
  const std::vector<absl::StatusOr<std::optional<EventRecord>>> logged = FindEventRecords(pending);
  for (size_t i = 0; i < pending.size(); ++i) {
    AppendRequest& request = pending[i].request;
    Staged& out = group.staged[i];
    if (request.event_id.empty()) {
      out.result = absl::InvalidArgumentError("event_id: required");
      continue;
    }
    out.payload_hash = hasher_->Hash(request.signed_event.payload());
    if (ResolveRetry(request, logged[i], i, group)) continue;
    absl::Status staged = StageAppend(request, i, group);
    if (!staged.ok()) out.result = staged;
  }
  if (group.next_seq > tree_before.size()) Commit(group, tree_before);

  // Resolve retries first: their originals' results are moved out below.
  for (Staged& s : group.staged) {
    if (s.same_as.has_value()) s.result = group.staged[*s.same_as].result;
  }
  for (size_t i = 0; i < pending.size(); ++i) pending[i].Finish(std::move(group.staged[i].result));

  if (tree_.size() > tree_before.size()) {
    unsigned_appends_ = true;
    if (options_.clock->Now() - last_checkpoint_at_ >= options_.checkpoint_interval) {
      // Not synced: it rides on the next group's WAL sync; losing it to a crash only means the
      // previous checkpoint is the one verified on open.
      SignCheckpointNow(/*sync=*/false);
    }
  }
}

std::vector<absl::StatusOr<std::optional<EventRecord>>> Ledger::FindEventRecords(
    const std::vector<Pending>& pending) const {
  // One MultiGet for the whole group: RocksDB looks each memtable and table file up once for
  // all the ids (almost all of them new) instead of once per id.
  std::vector<rocksdb::Slice> keys;
  std::vector<size_t> of;  // keys[k] is the id of pending[of[k]]
  keys.reserve(pending.size());
  of.reserve(pending.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    const std::string& id = pending[i].request.event_id;
    if (id.empty()) continue;
    keys.emplace_back(id);
    of.push_back(i);
  }
  std::vector<absl::StatusOr<std::optional<EventRecord>>> records(
      pending.size(), absl::StatusOr<std::optional<EventRecord>>(std::optional<EventRecord>()));
  if (keys.empty()) return records;
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->db().MultiGet(rocksdb::ReadOptions(), db_->cf(Cf::kEventIds), keys.size(), keys.data(),
                     values.data(), statuses.data());
  for (size_t k = 0; k < keys.size(); ++k) {
    absl::StatusOr<std::optional<EventRecord>>& record = records[of[k]];
    if (statuses[k].IsNotFound()) continue;
    if (!statuses[k].ok()) {
      record = FromRocks(statuses[k], "reading event_ids");
      continue;
    }
    auto decoded = DecodeEventRecord(absl::string_view(values[k].data(), values[k].size()),
                                     absl::string_view(keys[k].data(), keys[k].size()));
    if (decoded.ok()) {
      record = std::optional<EventRecord>(*decoded);
    } else {
      record = decoded.status();
    }
  }
  return records;
}

bool Ledger::ResolveRetry(const AppendRequest& request,
                          const absl::StatusOr<std::optional<EventRecord>>& logged, size_t index,
                          Group& group) {
  Staged& out = group.staged[index];
  if (auto it = group.ids.find(request.event_id); it != group.ids.end()) {
    if (group.staged[it->second].payload_hash == out.payload_hash) {
      out.same_as = it->second;
    } else {
      out.result = absl::AlreadyExistsError(absl::StrCat(
          "event_id: ", request.event_id, " was submitted earlier in this group with other bytes"));
    }
    return true;
  }
  if (!logged.ok()) {
    out.result = logged.status();
    return true;
  }
  if (!logged->has_value()) return false;
  const EventRecord& record = **logged;
  if (record.payload_hash == out.payload_hash) {
    out.result = view_.ReceiptFor(record.seq, record.committed_size);
  } else {
    out.result = absl::AlreadyExistsError(
        absl::StrCat("event_id: ", request.event_id, " is already in the log at seq ",
                     record.seq, " with other bytes"));
  }
  return true;
}

absl::StatusOr<std::optional<BatchHead>> Ledger::CurrentHead(const std::string& batch_id) const {
  if (auto it = heads_.find(batch_id); it != heads_.end()) return it->second;
  return view_.Head(batch_id);
}

absl::Status Ledger::StageAppend(AppendRequest& request, size_t index, Group& group) {
  const uint64_t seq = group.next_seq;
  const absl::Time now = options_.clock->Now();
  state_.BeginAppend();
  StateTxn txn(state_, seq, now);
  absl::Status status =
      options_.rule != nullptr ? options_.rule->Apply(request, txn) : absl::OkStatus();
  v1::LedgerEntry entry;
  if (status.ok()) status = LinkBatches(request, txn.touched_batches(), entry);
  if (!status.ok()) {
    state_.RejectAppend();
    return status;
  }
  state_.AcceptAppend();

  entry.set_seq(seq);
  entry.set_received_at_unix_micros(absl::ToUnixMicros(now));
  entry.set_event_id(request.event_id);
  // Accepted: the request's bytes are needed only in the entry now (a retry later in the group
  // compares payload hashes).
  *entry.mutable_signed_event() = std::move(request.signed_event);
  if (request.bundle.has_value()) *entry.mutable_bundle() = std::move(*request.bundle);
  const std::string bytes = entry.SerializeAsString();
  const crypto::Digest leaf = crypto::HashLeaf(*hasher_, bytes);

  const std::string seq_key = BigEndian64(seq);
  group.batch.Put(db_->cf(Cf::kEntries), seq_key, bytes);
  group.batch.Put(db_->cf(Cf::kTree), seq_key, EncodeTreeNodes(tree_.Append(leaf)));
  const std::string head = EncodeBatchHead(BatchHead{seq, leaf});
  for (const std::string& batch_id : txn.touched_batches()) {
    heads_[batch_id] = BatchHead{seq, leaf};
    group.batch.Put(db_->cf(Cf::kBatchHeads), batch_id, head);
    group.batch.Put(db_->cf(Cf::kBatchEntries), BatchEntryKey(batch_id, seq), rocksdb::Slice());
  }

  v1::Receipt receipt;
  receipt.set_event_id(request.event_id);
  receipt.set_seq(seq);
  receipt.set_leaf_hash(std::string(crypto::AsBytes(leaf)));
  receipt.set_received_at_unix_micros(entry.received_at_unix_micros());
  group.staged[index].result = std::move(receipt);
  group.ids.emplace(request.event_id, index);
  ++group.next_seq;
  return absl::OkStatus();
}

absl::Status Ledger::LinkBatches(const AppendRequest& request,
                                 const std::set<std::string>& touched,
                                 v1::LedgerEntry& entry) const {
  for (const std::string& batch_id : touched) {
    if (batch_id.empty() || batch_id.find('\0') != std::string::npos) {
      // Index keys use NUL as a separator.
      return absl::InvalidArgumentError("batch_id: must not be empty or contain NUL");
    }
    auto head = CurrentHead(batch_id);
    if (!head.ok()) return head.status();
    v1::BatchLink* link = entry.add_batch_prev();
    link->set_batch_id(batch_id);
    if (head->has_value()) {
      const absl::string_view b = crypto::AsBytes((*head)->leaf_hash);
      link->set_prev_leaf_hash(b.data(), b.size());
    }
  }
  for (const auto& [batch_id, expected] : request.expected_heads) {
    auto head = CurrentHead(batch_id);
    if (!head.ok()) return head.status();
    const std::string current =
        head->has_value() ? std::string(crypto::AsBytes((*head)->leaf_hash)) : std::string();
    if (current != expected) {
      return absl::AbortedError(absl::StrCat(
          "expected_heads[", batch_id, "]: stale head: the batch's head is now ",
          head->has_value() ? crypto::ToHex((*head)->leaf_hash) : std::string("(none)")));
    }
  }
  return absl::OkStatus();
}

void Ledger::Commit(Group& group, const crypto::CompactRange& tree_before) {
  const uint64_t size = group.next_seq;
  // Every receipt of the group names the tree the group committed: one root per group.
  const std::string root(crypto::AsBytes(tree_.Root()));
  for (const auto& [event_id, index] : group.ids) {
    v1::Receipt& receipt = *group.staged[index].result;
    receipt.set_tree_size(size);
    receipt.set_root_hash(root);
    group.batch.Put(db_->cf(Cf::kEventIds), event_id,
                    EncodeEventRecord({receipt.seq(), group.staged[index].payload_hash, size}));
  }
  state_.AddChangesTo(group.batch);
  group.batch.Put(db_->cf(Cf::kMeta), rocksdb::Slice(kMetaTreeSize.data(), kMetaTreeSize.size()),
                  BigEndian64(size));
  absl::Status written = db_->KeepMemtableNonEmpty();
  if (written.ok()) {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    written = FromRocks(db_->db().Write(wo, &group.batch), "committing appends");
  }
  if (written.ok()) {
    state_.Committed();
    if (heads_.size() > kMaxCachedHeads) heads_.clear();
    absl::MutexLock lock(&durable_mu_);
    durable_size_ = size;
    durable_root_ = tree_.Root();
    return;
  }
  // The outcome of a failed synced write is unknown until RocksDB has resumed: the record may
  // be in the WAL. So nothing of the group is acknowledged, appends are refused, and the
  // sequencer's recovery re-reads what RocksDB really holds (see the top of ledger.h); clients
  // retry with the same event ids and get the original receipts for whatever did land.
  tree_ = tree_before;
  ForgetCachedState();
  const absl::Status refusal = Refusal(written);
  for (const auto& [event_id, index] : group.ids) group.staged[index].result = refusal;
  StopAppends(refusal, Recoverable(written));
}

absl::Status Ledger::Recover() {
  ForgetCachedState();
  if (auto s = db_->Resume(); !s.ok()) return s;
  auto stored = view_.Size();
  if (!stored.ok()) return stored.status();
  if (*stored < tree_.size()) {
    return absl::DataLossError(absl::StrCat("meta tree_size: ", *stored,
                                            " after resuming writes, but ", tree_.size(),
                                            " entries were durable before"));
  }
  if (*stored > tree_.size()) {
    // The failed group landed after all: take the tree from the log, checking every entry.
    const uint64_t from = tree_.size();
    const crypto::CompactRange before = tree_;
    if (auto s = VerifyTail(from, *stored); !s.ok()) {
      tree_ = before;
      return absl::IsDataLoss(s) ? s : absl::UnavailableError(s.message());
    }
    unsigned_appends_ = true;
  }
  if (auto s = db_->KeepMemtableNonEmpty(); !s.ok()) return s;
  if (auto s = RewriteTreeSize(*db_, *stored); !s.ok()) return s;
  absl::MutexLock lock(&durable_mu_);
  durable_size_ = *stored;
  durable_root_ = tree_.Root();
  return absl::OkStatus();
}

absl::StatusOr<std::string> Ledger::SignCheckpoint() {
  uint64_t size;
  crypto::Digest root;
  {
    absl::MutexLock lock(&durable_mu_);
    size = durable_size_;
    root = durable_root_;
  }
  return SignAndStoreCheckpoint(size, root, /*sync=*/true);
}

absl::StatusOr<std::string> Ledger::SignAndStoreCheckpoint(uint64_t size,
                                                           const crypto::Digest& root, bool sync) {
  crypto::Checkpoint checkpoint;
  checkpoint.origin = options_.origin;
  checkpoint.size = size;
  checkpoint.root_hash = root;
  auto note = crypto::SignCheckpoint(checkpoint, *log_signer_);
  if (!note.ok()) return note.status();

  absl::MutexLock lock(&checkpoint_mu_);
  if (has_checkpoint_ && size < checkpoint_size_) {
    // A newer checkpoint is already stored; this one is valid but not the latest.
    return note;
  }
  if (auto s = db_->KeepMemtableNonEmpty(); !s.ok()) return s;
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  auto s = db_->db().Put(wo, db_->cf(Cf::kMeta),
                         rocksdb::Slice(kMetaCheckpoint.data(), kMetaCheckpoint.size()), *note);
  if (!s.ok()) return FromRocks(s, "storing the checkpoint");
  checkpoint_size_ = size;
  has_checkpoint_ = true;
  return note;
}

}  // namespace herbtrace::storage
