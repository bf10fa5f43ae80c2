// Reads a ledger's tables into its block cache while the ledger is at rest.
//
// Why: RocksDB caches blocks as reads miss, so the first question about any lot reads its
// blocks from the disk, and a table a compaction wrote starts cold even when the blocks it
// replaced were cached. The operating system's page cache cannot be relied on to cover that
// (on the project machine the host takes it back within seconds: a table read whole was 71 %
// resident 20 s later with 23 GB of memory free), so the block cache is the ledger's only
// cache. The warmer reads each live table once, when no appends, flushes or compactions are
// under way (on a reader replica: when the tables it follows have not changed since the last
// look). It chooses the tables that fit in its budget — the index families first (states,
// heads, histories, lineage, holders, registry, event ids, tree nodes), then the entries,
// newest tables first — and reads them in the opposite order, so that what queries need most
// is what the least-recently-used cache evicts last. A table is read through its own reader on the ledger's block cache: the cache
// keys of a block depend on the table (its session id and file number, kept in its
// properties), not the reader, so the ledger's own reads then hit.
//
// Thread-safe.
#ifndef HERBTRACE_STORAGE_CACHE_WARMER_H_
#define HERBTRACE_STORAGE_CACHE_WARMER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/ledger_db.h"

namespace herbtrace::storage {

class CacheWarmer {
 public:
  // What one pass did.
  struct Pass {
    int tables_read = 0;
    uint64_t bytes_read = 0;  // table file bytes
    bool budget_reached = false;
    absl::Duration took;
  };

  struct Options {
    // How much of the cache the live tables read may take (their keys and values uncompressed,
    // indexes and filters); a table that would not fit is not read, nor any after it. What
    // queries read, and the blocks of tables compacted away, are not counted: the cache is
    // least-recently-used, and those blocks of deleted tables are never read again. A table
    // read once is not read again if the cache later evicts its blocks. 0: seven eighths of
    // the cache's capacity.
    size_t budget_bytes = 0;
    // How often the background thread looks for new tables and a ledger at rest.
    absl::Duration interval = absl::Seconds(1);
    // Called by the background thread after each pass that read a table (for the server's log).
    std::function<void(const Pass&)> on_pass;
  };

  // Starts the background thread. REQUIRES: db outlives the warmer.
  static std::unique_ptr<CacheWarmer> Start(const LedgerDb& db, const Options& options);
  // Without a thread: WarmNow() does the work (tests, tools).
  CacheWarmer(const LedgerDb& db, const Options& options);
  ~CacheWarmer();
  CacheWarmer(const CacheWarmer&) = delete;
  CacheWarmer& operator=(const CacheWarmer&) = delete;

  // Reads the live tables not read before that fit in the budget, chosen and read as above,
  // unless the ledger changes again (it then stops between two tables). Nothing is
  // read while the ledger changes, nor when its tables are those of the last pass. A table
  // that vanished meanwhile (compacted away) or does not read is skipped until the tables
  // change. Reads never depend on the warmer, so it has no errors to report.
  Pass WarmNow() ABSL_LOCKS_EXCLUDED(warm_mu_, stop_mu_);

 private:
  // Lock order: warm_mu_, then stop_mu_.
  void Run() ABSL_LOCKS_EXCLUDED(warm_mu_, stop_mu_);
  bool Stopping() ABSL_LOCKS_EXCLUDED(stop_mu_);
  // True while the ledger changes: its size or (when given) its set of live tables moved since
  // the last look, or a flush or a compaction runs.
  bool Changing(const std::set<uint64_t>* live) ABSL_EXCLUSIVE_LOCKS_REQUIRED(warm_mu_);

  const LedgerDb& db_;
  const size_t budget_bytes_;
  const absl::Duration interval_;
  const std::function<void(const Pass&)> on_pass_;
  absl::Mutex warm_mu_;  // one pass at a time
  // The live tables read, by file number, with what their blocks take in the cache.
  std::map<uint64_t, uint64_t> warmed_ ABSL_GUARDED_BY(warm_mu_);
  uint64_t warmed_bytes_ ABSL_GUARDED_BY(warm_mu_) = 0;
  // The live tables when a pass last went through them all or up to the budget.
  std::set<uint64_t> settled_ ABSL_GUARDED_BY(warm_mu_);
  std::optional<std::string> last_size_ ABSL_GUARDED_BY(warm_mu_);  // meta tree_size, raw
  std::optional<std::set<uint64_t>> last_live_ ABSL_GUARDED_BY(warm_mu_);
  absl::Mutex stop_mu_;
  bool stop_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread thread_;
};

}  // namespace herbtrace::storage

#endif  // HERBTRACE_STORAGE_CACHE_WARMER_H_
