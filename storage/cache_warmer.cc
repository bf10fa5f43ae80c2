#include "storage/cache_warmer.h"

#include <algorithm>
#include <array>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "rocksdb/cache.h"
#include "rocksdb/metadata.h"
#include "rocksdb/sst_file_reader.h"
#include "rocksdb/table_properties.h"

namespace herbtrace::storage {
namespace {

// The order a pass reads the families in: what every query reads first, the entries last.
constexpr std::array<Cf, static_cast<int>(Cf::kCount)> kWarmOrder = {
    Cf::kBatchState, Cf::kBatchHeads,   Cf::kBatchEntries, Cf::kLineageUp,
    Cf::kLineageDown, Cf::kHolderBatches, Cf::kRegistry,   Cf::kMeta,
    Cf::kConfidential, Cf::kEventIds,    Cf::kTree,         Cf::kEntries,
};

std::optional<Cf> FamilyNamed(absl::string_view name) {
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    if (CfName(static_cast<Cf>(i)) == name) return static_cast<Cf>(i);
  }
  return std::nullopt;  // the default family: the memtable keeper only
}

int Rank(Cf cf) {
  return static_cast<int>(std::find(kWarmOrder.begin(), kWarmOrder.end(), cf) -
                          kWarmOrder.begin());
}

// About what a table's blocks take in the cache once read: its keys and values uncompressed
// (keys before prefix compression, so a little more), its index and filter.
uint64_t CachedBytes(const rocksdb::TableProperties& p) {
  return p.raw_key_size + p.raw_value_size + p.index_size + p.filter_size;
}

struct Table {
  Cf cf;
  uint64_t number;
  uint64_t bytes;
  std::string path;
};

}  // namespace

std::unique_ptr<CacheWarmer> CacheWarmer::Start(const LedgerDb& db, const Options& options) {
  auto warmer = std::make_unique<CacheWarmer>(db, options);
  warmer->thread_ = std::thread([w = warmer.get()] { w->Run(); });
  return warmer;
}

CacheWarmer::CacheWarmer(const LedgerDb& db, const Options& options)
    : db_(db),
      budget_bytes_(options.budget_bytes != 0 ? options.budget_bytes
                                              : db.block_cache().GetCapacity() / 8 * 7),
      interval_(options.interval),
      on_pass_(options.on_pass) {}

CacheWarmer::~CacheWarmer() {
  {
    absl::MutexLock lock(&stop_mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void CacheWarmer::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&stop_mu_);
      if (stop_mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_)) return;
    }
    const Pass pass = WarmNow();
    if (pass.tables_read > 0 && on_pass_ && !Stopping()) on_pass_(pass);
  }
}

bool CacheWarmer::Stopping() {
  absl::MutexLock lock(&stop_mu_);
  return stop_;
}

bool CacheWarmer::Changing(const std::set<uint64_t>* live) {
  bool changing = false;
  uint64_t running = 0;
  if (db_.db().GetIntProperty("rocksdb.num-running-flushes", &running) && running > 0) {
    changing = true;
  }
  if (db_.db().GetIntProperty("rocksdb.num-running-compactions", &running) && running > 0) {
    changing = true;
  }
  auto size = db_.Get(Cf::kMeta, kMetaTreeSize);
  if (!size.ok()) return true;
  std::string now = size->value_or(std::string());
  if (last_size_.has_value() && *last_size_ != now) changing = true;
  last_size_ = std::move(now);
  if (live != nullptr) {
    // A reader replica runs no flush or compaction of its own: the writer's show as a change
    // in the tables it has caught up with.
    if (last_live_.has_value() && *last_live_ != *live) changing = true;
    last_live_ = *live;
  }
  return changing;
}

CacheWarmer::Pass CacheWarmer::WarmNow() {
  absl::MutexLock lock(&warm_mu_);
  const absl::Time start = absl::Now();
  Pass pass;
  std::vector<rocksdb::LiveFileMetaData> live;
  db_.db().GetLiveFilesMetaData(&live);
  std::set<uint64_t> live_numbers;
  for (const rocksdb::LiveFileMetaData& f : live) live_numbers.insert(f.file_number);
  if (Changing(&live_numbers)) return pass;
  // Nothing flushed or compacted since a pass that went through every table, or up to the
  // budget: nothing to read, and no table to look at again to find it does not fit.
  if (live_numbers == settled_) return pass;
  // Tables compacted away since are forgotten, with what they were counted for.
  for (auto it = warmed_.begin(); it != warmed_.end();) {
    if (live_numbers.count(it->first) > 0) {
      ++it;
    } else {
      warmed_bytes_ -= it->second;
      it = warmed_.erase(it);
    }
  }
  std::vector<Table> tables;
  for (const rocksdb::LiveFileMetaData& f : live) {
    const std::optional<Cf> cf = FamilyNamed(f.column_family_name);
    if (!cf.has_value() || warmed_.count(f.file_number) > 0) continue;
    tables.push_back({*cf, f.file_number, f.size, f.directory + "/" + f.relative_filename});
  }
  // Newest first within a family: for the entries, the newest tables hold what is asked for
  // most; elsewhere the newest tables are the small ones the last compactions left.
  std::sort(tables.begin(), tables.end(), [](const Table& a, const Table& b) {
    if (Rank(a.cf) != Rank(b.cf)) return Rank(a.cf) < Rank(b.cf);
    return a.number > b.number;
  });
  // Whether a table fits is decided from its properties, which the ledger holds for its open
  // tables: opening a table that does not fit would already load its index and filter.
  std::map<Cf, rocksdb::TablePropertiesCollection> properties;
  for (const Table& table : tables) {
    if (properties.count(table.cf) == 0) {
      (void)db_.db().GetPropertiesOfAllTables(db_.cf(table.cf), &properties[table.cf]);
    }
  }

  // The tables that fit, in that order; then read the other way round, so that what queries
  // need most is what the cache used last, and evicts last.
  std::vector<std::pair<const Table*, uint64_t>> chosen;  // with what it takes in the cache
  uint64_t chosen_bytes = 0;
  for (const Table& table : tables) {
    const auto found = properties[table.cf].find(table.path);
    if (found == properties[table.cf].end() || found->second == nullptr) {
      continue;  // compacted away since the listing (a replica's writer deletes tables)
    }
    const uint64_t cached = CachedBytes(*found->second);
    if (warmed_bytes_ + chosen_bytes + cached > budget_bytes_) {
      pass.budget_reached = true;
      break;
    }
    chosen.emplace_back(&table, cached);
    chosen_bytes += cached;
  }
  rocksdb::ReadOptions read;
  read.readahead_size = 2 << 20;  // the disk in large reads: the whole table is wanted
  bool interrupted = false;
  for (auto it = chosen.rbegin(); it != chosen.rend(); ++it) {
    const Table& table = *it->first;
    if (pass.tables_read > 0 && Changing(nullptr)) {
      interrupted = true;
      break;
    }
    rocksdb::SstFileReader reader(db_.db().GetOptions(db_.cf(table.cf)));
    if (!reader.Open(table.path).ok()) continue;  // likewise
    std::unique_ptr<rocksdb::Iterator> rows(reader.NewIterator(read));
    uint64_t keys = 0;
    for (rows->SeekToFirst(); rows->Valid(); rows->Next()) {
      if (++keys % 4096 == 0 && Stopping()) return pass;
    }
    if (!rows->status().ok()) continue;
    warmed_.emplace(table.number, it->second);
    warmed_bytes_ += it->second;
    ++pass.tables_read;
    pass.bytes_read += table.bytes;
  }
  // A table that did not read is not tried again until the tables change: a replica's next
  // catch-up, or the writer's next flush, does that.
  if (!interrupted) settled_ = std::move(live_numbers);
  pass.took = absl::Now() - start;
  return pass;
}

}  // namespace herbtrace::storage
