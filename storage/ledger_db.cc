// On-disk layout of a HerbTrace ledger. Integers in keys are 8-byte big-endian (u64be) so that
// RocksDB's byte order is numeric order; ids never contain NUL, so NUL separates key parts.
//
//   entries        key   := u64be(seq)
//                  value := LedgerEntry bytes, exactly as hashed (leaf = H(0x00 ‖ value))
//   tree           key   := u64be(seq)
//                  value := the complete subtrees leaf `seq` completed, bottom-up, 32 bytes each
//                           (see tree_nodes.h): node (level, index) is hash number `level`
//                           under seq ((index + 1) << level) − 1
//   event_ids      key   := event id (UTF-8)
//                  value := u64be(seq) ‖ H(signed payload) ‖ u64be(tree size its group
//                           committed), so a retry gets back the very receipt of the first append
//   batch_heads    key   := batch id
//                  value := u64be(seq) ‖ leaf hash of the newest entry touching the batch
//   batch_state    key   := batch id
//                  value := domain state, encoded by the rules that own it
//   batch_entries  key   := batch id ‖ 0x00 ‖ u64be(seq)      value := ""
//   lineage_down   key   := parent id ‖ 0x00 ‖ child id       value := edge, owned by the rules
//   lineage_up     key   := child id ‖ 0x00 ‖ parent id       value := edge, owned by the rules
//   holder_batches key   := holder party id ‖ 0x00 ‖ batch id value := ""
//   registry       key   := kind ‖ '/' ‖ id ("party/…", "key/…", "base/…", "herb/…")
//                  value := registry record, owned by the rules
//   confidential   key   := u64be(seq) ‖ field path          value := opening (salt ‖ value)
//   meta           "tree_size"  → u64be(number of entries)
//                  "checkpoint" → the latest signed checkpoint note, as signed
//                  "log"        → log configuration (origin, hash algorithm, public key)
//   default        "memtable-keeper" → "", written without the WAL (see KeepMemtableNonEmpty)
//
// One append is one WriteBatch over all of these, so the log and its indexes never disagree.
#include "storage/ledger_db.h"

#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "storage/info_log.h"

namespace herbtrace::storage {
namespace {

constexpr std::array<absl::string_view, static_cast<int>(Cf::kCount)> kCfNames = {
    "entries",       "tree",        "event_ids",     "batch_heads",
    "batch_state",   "batch_entries", "lineage_down", "lineage_up",
    "holder_batches", "registry",   "confidential",  "meta",
};

rocksdb::ColumnFamilyOptions CfOptions(Cf cf, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Point look-ups dominate (event ids, batch heads, tree nodes): bloom filters pay for themselves.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // Index and filter in 4 KiB partitions under a pinned top level, stored uncompressed. A
  // table's whole index is one block otherwise: at 10M events the last level's tables have
  // index blocks of hundreds of KB that the block cache cannot keep beside the data, and every
  // read that missed re-read and ZSTD-decompressed one of them (66 % of the server's CPU in the
  // upstream query: 41.7 ms per call at 10M, 1.8 ms at 1M). A partition that misses costs a
  // 4 KiB read.
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.pin_top_level_index_and_filter = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.enable_index_compression = false;
  table.format_version = 5;
  // ZSTD at every level: LZ4 has no entropy coding, so it leaves the hex event ids and
  // digit-only batch codes that fill every index at their text size (ZSTD: event_ids −25 %,
  // batch state −28 %, lineage −42 %, measured on a 1M-event market). Flushed tables in LZ4
  // would hold a third to a half of each index until compacted (466 bytes per event after a
  // 1M-event load, against 447 with ZSTD flushes); the flush's extra CPU did not show in the
  // server's CPU per event.
  o.compression = rocksdb::kZSTD;
  // ZSTD's level 1 compresses these blocks within 1 % of its default level 3, faster.
  o.compression_opts.level = 1;
  // Level targets follow the last level's size: L0 compacts straight into the last level while
  // a family is small, and later the last level holds ~90 % of it. That halves the bytes
  // compaction rewrites (459 → 213 MB for a 1M-event load), which pays for ZSTD's dearer
  // compression (compaction CPU 3.5 s before, 3.4–3.8 s after).
  o.level_compaction_dynamic_level_bytes = true;
  if (cf == Cf::kEntries) {
    // Consecutive entries of one bundle repeat its root, root signature, key id and all but the
    // lowest hashes of their membership proofs; a 16 KiB block holds ~20 entries, so the
    // compressor stores those once per block instead of once per 5 entries (ZSTD at 4 KiB: 318,
    // at 16 KiB: 221 bytes per bundled entry; 8 KiB: 255, 32 KiB: 202). The price is on reads
    // that miss the block cache: 11 µs of CPU to decompress an entry's block instead of 2.
    table.block_size = 16 << 10;
  }
  if (cf == Cf::kTree) {
    // Hashes do not compress: trying costs CPU on every flush and compaction and saves nothing.
    o.compression = rocksdb::kNoCompression;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (cf == Cf::kEntries || cf == Cf::kTree) {
    // Keys arrive in order and are never overwritten; reads are hits.
    o.optimize_filters_for_hits = true;
    // All keys share the empty prefix, so every insert starts from where the previous one
    // ended: appending in key order costs O(1) per key instead of a skiplist search.
    o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(0));
  }
  if (cf == Cf::kEventIds || cf == Cf::kBatchHeads) {
    // Every append asks whether its event id is new: almost always "no", which a memtable bloom
    // filter answers without walking the skiplist.
    o.memtable_prefix_bloom_size_ratio = 0.1;
    o.memtable_whole_key_filtering = true;
  }
  return o;
}

absl::string_view ReasonName(rocksdb::BackgroundErrorReason reason) {
  switch (reason) {
    case rocksdb::BackgroundErrorReason::kFlush:
    case rocksdb::BackgroundErrorReason::kFlushNoWAL:
      return "flush";
    case rocksdb::BackgroundErrorReason::kCompaction:
      return "compaction";
    case rocksdb::BackgroundErrorReason::kWriteCallback:
      return "WAL write";
    case rocksdb::BackgroundErrorReason::kMemTable:
      return "memtable";
    case rocksdb::BackgroundErrorReason::kManifestWrite:
    case rocksdb::BackgroundErrorReason::kManifestWriteNoWAL:
      return "MANIFEST write";
  }
  return "background write";
}

}  // namespace

// Hands RocksDB's background errors to the storage error handler and keeps every recovery in
// the owner's hands (see ledger_db.h).
class LedgerDb::WriteErrorListener final : public rocksdb::EventListener {
 public:
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* error) override {
    if (error->IsIOError() && !error->IsIOFenced() &&
        error->severity() > rocksdb::Status::Severity::kHardError) {
      // RocksDB calls a non-retryable I/O error fatal and would refuse Resume() until a reopen.
      // The write that hit it never reached a memtable, and Resume() flushes the memtables and
      // starts a new WAL and MANIFEST, exactly as after a full disk: recoverable.
      *error = rocksdb::Status(*error, rocksdb::Status::Severity::kHardError);
    }
    const absl::Status mapped = FromRocks(*error, ReasonName(reason));
    absl::MutexLock lock(&mu_);
    if (handler_) handler_(mapped);
  }

  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    // The ledger resumes when it can re-read what is durable; RocksDB's own timer must not.
    *auto_recovery = false;
  }

  void Set(StorageErrorHandler handler) {
    absl::MutexLock lock(&mu_);
    handler_ = std::move(handler);
  }

 private:
  absl::Mutex mu_;
  StorageErrorHandler handler_ ABSL_GUARDED_BY(mu_);
};

LedgerDb::LedgerDb(std::string path, OpenMode mode, std::shared_ptr<rocksdb::Cache> block_cache)
    : path_(std::move(path)),
      mode_(mode),
      block_cache_(std::move(block_cache)),
      errors_(std::make_shared<WriteErrorListener>()) {}

absl::string_view CfName(Cf cf) { return kCfNames[static_cast<int>(cf)]; }

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kSpaceLimit) {
    return absl::ResourceExhaustedError(message);
  }
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsNotFound()) return absl::NotFoundError(message);
  // RocksDB's InvalidArgument is a misuse of the database by HerbTrace, never the client's.
  if (s.IsInvalidArgument()) return absl::InternalError(message);
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

absl::StatusOr<std::unique_ptr<LedgerDb>> LedgerDb::Open(const std::string& path,
                                                         const Options& options) {
  if (options.create_if_missing && options.mode == OpenMode::kWriter) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("creating ", path, ": ", ec.message()));
    }
  }
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::unique_ptr<LedgerDb> ledger_db(new LedgerDb(path, options.mode, cache));

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing && options.mode == OpenMode::kWriter;
  db_options.create_missing_column_families = db_options.create_if_missing;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  db_options.keep_log_file_num = 4;
  // A WAL file is deleted only once every family with data in it has flushed; a family written
  // rarely (the registry), or only without the WAL (the default family's marker, ledger.cc),
  // would otherwise pin every WAL since — 6.7 GB of them after a 3.8M-event load, all replayed
  // by the next open after a crash. Past this size RocksDB flushes the families that hold the
  // oldest WAL.
  db_options.max_total_wal_size = 256 << 20;
  // A crash can tear the WAL's last record, which was never acknowledged (acknowledgement
  // follows the sync): tolerate that. Corruption anywhere else must stop the open, never be
  // silently truncated away with acknowledged appends behind it.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  if (options.env != nullptr) db_options.env = options.env;
  if (options.mode != OpenMode::kReadOnly && options.env == nullptr) {
    db_options.info_log = NewInfoLog(
        options.mode == OpenMode::kSecondary ? options.secondary_path : path);
  }
  if (options.mode == OpenMode::kWriter) {
    // Recovery from write errors is the Ledger's (see ledger_db.h): no automatic resume.
    db_options.max_bgerror_resume_count = 0;
    db_options.listeners.push_back(ledger_db->errors_);
  }
  if (options.mode == OpenMode::kSecondary) {
    // A secondary keeps every file open it has seen; it must be able to reopen them all.
    db_options.max_open_files = -1;
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    descriptors.emplace_back(std::string(kCfNames[i]), CfOptions(static_cast<Cf>(i), cache));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  switch (options.mode) {
    case OpenMode::kWriter:
      s = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
      break;
    case OpenMode::kReadOnly:
      s = rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &handles, &raw);
      break;
    case OpenMode::kSecondary:
      if (options.secondary_path.empty()) {
        return absl::InvalidArgumentError("secondary_path: required for a secondary reader");
      }
      s = rocksdb::DB::OpenAsSecondary(db_options, path, options.secondary_path, descriptors,
                                       &handles, &raw);
      break;
  }
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening ledger at ", path));
  ledger_db->db_.reset(raw);
  ledger_db->default_handle_ = handles[0];
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) ledger_db->handles_[i] = handles[i + 1];
  return ledger_db;
}

LedgerDb::~LedgerDb() {
  errors_->Set(nullptr);
  if (db_ == nullptr) return;
  if (mode_ == OpenMode::kWriter) {
    // A clean close leaves no WAL to replay: the next open (and any reader or auditor) starts
    // from sorted tables at once. Failure only costs the next open a replay.
    rocksdb::FlushOptions flush;
    flush.wait = true;
    std::vector<rocksdb::ColumnFamilyHandle*> all(handles_.begin(), handles_.end());
    (void)db_->Flush(flush, all);
  }
  for (auto* h : handles_) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
  }
  if (default_handle_ != nullptr) db_->DestroyColumnFamilyHandle(default_handle_);
  db_->Close();
  db_.reset();
}

absl::StatusOr<std::optional<std::string>> LedgerDb::Get(Cf which, absl::string_view key) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(which), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s, absl::StrCat("reading ", CfName(which)));
  return value;
}

void LedgerDb::SetStorageErrorHandler(StorageErrorHandler handler) {
  errors_->Set(std::move(handler));
}

absl::Status LedgerDb::KeepMemtableNonEmpty() {
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  return FromRocks(db_->Put(wo, default_handle_, "memtable-keeper", rocksdb::Slice()),
                   "writing the memtable keeper");
}

absl::Status LedgerDb::Resume() {
  if (mode_ != OpenMode::kWriter) return absl::OkStatus();
  return FromRocks(db_->Resume(), "resuming writes");
}

absl::Status LedgerDb::CatchUp() {
  if (mode_ != OpenMode::kSecondary) return absl::OkStatus();
  return FromRocks(db_->TryCatchUpWithPrimary(), "catching up with the writer");
}

}  // namespace herbtrace::storage
