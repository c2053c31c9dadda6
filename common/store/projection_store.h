// ProjectionStore: a service's own RocksDB, holding the projection it builds from the log.
//
// Three column families:
//   kState  the aggregates (one record per aggregate);
//   kIndex  secondary indexes and command outcomes (by event id and by request id);
//   kLog    log positions, counters and dead letters: bookkeeping about the log itself.
// The checksum covers kState and kIndex: what a rebuild from the log must reproduce byte for
// byte.
//
// Writes go through a Batch: reads through the batch see its own uncommitted writes, so many
// events can be applied in one batch; Commit writes everything, positions included, in one
// atomic WriteBatch.
//
//   ProjectionStore::Batch batch = store->NewBatch();
//   ASSIGN_OR_RETURN(auto old, batch.Get(Cf::kState, key));
//   batch.Put(Cf::kState, key, value);
//   RETURN_IF_ERROR(store->Commit(batch));
//
// Thread-safety: reads and Commit may run concurrently from any thread; a Batch belongs to one
// thread.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/store/read_cache.h"
#include "rocksdb/db.h"

namespace crm::store {

enum class Cf { kState = 0, kIndex = 1, kLog = 2 };

// Called for each entry of a scan; return false to stop.
using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;

class ProjectionStore;

// A consistent read view: either the latest state or a snapshot. A view taken while the store
// is unavailable (SetUnavailable) answers every read with UNAVAILABLE, unless it is unchecked.
class ReadView {
 public:
  // Returns the value at `key`, or nullopt if absent. INTERNAL on a storage error.
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, std::string_view key) const;
  // Visits entries whose key starts with `prefix`, from the first key >= `start` (or the
  // prefix itself when `start` is empty), in key order.
  absl::Status Scan(Cf cf, std::string_view prefix, std::string_view start, const ScanFn& fn) const;
  // Returns the last entry whose key starts with `prefix` and is <= `target`, or nullopt.
  // One seek: what "as of" reads over time-ordered keys use.
  absl::StatusOr<std::optional<std::pair<std::string, std::string>>> FindLastAtOrBefore(
      Cf cf, std::string_view prefix, std::string_view target) const;
  // Returns the hex SHA-256 over every key and value of kState and kIndex, in order.
  absl::StatusOr<std::string> Checksum() const;

 private:
  friend class ProjectionStore;
  ReadView(const ProjectionStore* store, const rocksdb::Snapshot* snapshot, bool checked);
  rocksdb::ReadOptions Options() const;
  // UNAVAILABLE with the store's reason while it is unavailable and this view is checked.
  absl::Status CheckAvailable() const;
  const ProjectionStore* store_;
  const bool checked_;
  std::shared_ptr<const rocksdb::Snapshot> snapshot_;
};

class ProjectionStore {
 public:
  class Batch {
   public:
    // Reads through the batch: its own writes first, then the database.
    absl::StatusOr<std::optional<std::string>> Get(Cf cf, std::string_view key);
    // Reads `keys` of `cf` from the database together (one MultiGet: RocksDB probes the
    // memtables' and table files' filters of many keys at once, overlapping their cache misses,
    // where a Get waits for each), for the Gets of this batch that follow; a key this batch or
    // the batch below writes is still answered from there. The database does not change under a
    // batch but through the batch below (see ReadThrough), so what was read stays true. Replaces
    // what an earlier call read.
    absl::Status ReadAhead(Cf cf, std::vector<std::string> keys);
    // Scans through the batch: its own writes merged over the database, in key order. `fn`
    // must not write to the batch (collect, then write).
    absl::Status Scan(Cf cf, std::string_view prefix, const ScanFn& fn);
    void Put(Cf cf, std::string_view key, std::string_view value);
    void Delete(Cf cf, std::string_view key);
    // Number of keys the batch writes (a key written twice counts once).
    size_t Count() const;
    // Reads through `below` too, between this batch's writes and the database: `below` is the
    // batch committed while this one is built (its writes may or may not be in the database yet;
    // read through it, they are there either way). It must outlive this batch's reads and not
    // change meanwhile; nullptr stops.
    void ReadThrough(const Batch* below) { below_ = below; }

   private:
    friend class ProjectionStore;
    explicit Batch(ProjectionStore* store) : store_(store) {}
    void Write(Cf cf, std::string_view key, std::optional<std::string_view> value);
    ProjectionStore* store_;
    const Batch* below_ = nullptr;
    // The last write of each key (nullopt: a delete), per column family, in key order. A B-tree
    // of plain strings rather than RocksDB's WriteBatchWithIndex, whose skip list decodes every
    // key it compares from the batch's buffer and searches twice per write (for the key to
    // overwrite, then to insert): rebuilds ran a fifth to a third faster (crm-bench --scenario
    // rebuild, three runs each way, 2026-12-06; docs/performance.md).
    std::array<absl::btree_map<std::string, std::optional<std::string>, std::less<>>, 3> writes_;
    // What ReadAhead read (nullopt: absent), per column family.
    std::array<absl::flat_hash_map<std::string, std::optional<std::string>>, 3> ahead_;
    // Scan's iterators over the database, one per column family and read mode (prefix, total
    // order), made by the batch's first scan of each and sought again by the next ones: the
    // database does not change while a batch is built (its projector is its only writer; a
    // commit of the batch below, if one is under way, changes only keys the batch below holds,
    // which the scan takes from there), and making an iterator costs more than a seek. Dropped at
    // the commit. Measured (crm-bench
    // --scenario rebuild, six alternations, 2026-12-06): the contact rebuild, three duplicate-block
    // scans per new contact, 4-7 % faster.
    std::array<std::unique_ptr<rocksdb::Iterator>, 6> iterators_;
  };

  // Opens (or creates) the store at `path`. INTERNAL with RocksDB's reason if it cannot.
  static absl::StatusOr<std::unique_ptr<ProjectionStore>> Open(const std::string& path);
  // Deletes the store at `path` (for a rebuild). OK if there is none.
  static absl::Status Destroy(const std::string& path);
  // Opens the store of a projection whose keys and values have the layout `layout` (its name
  // and a number, bumped whenever either changes). The store is emptied first — so that the
  // projection is rebuilt from the log, which is how a projection's schema changes — when
  // `rebuild` is set, or when it holds another layout or data written before layouts were
  // recorded (logged as a warning).
  static absl::StatusOr<std::unique_ptr<ProjectionStore>> OpenProjection(const std::string& path,
                                                                         std::string_view layout,
                                                                         bool rebuild);
  ~ProjectionStore();

  Batch NewBatch() { return Batch(this); }
  // Writes the batch atomically. `sync` forces an fsync; projections leave it off because
  // the log already holds every event durably and a replay restores anything lost.
  absl::Status Commit(Batch& batch, bool sync = false);
  // Keys put or deleted by the commits since the store was opened (a key written twice in one
  // batch counts once): what a projection costs per event, for crm-bench's rebuild report.
  uint64_t keys_written() const { return keys_written_.load(std::memory_order_relaxed); }
  // Keys of `cf` read through batches one at a time from the database (Batch::Get of a key no
  // batch holds and ReadAhead did not read), since the store was opened: what a projection's
  // EventApplier::WillRead leaves to single lookups.
  uint64_t single_reads(Cf cf) const {
    return single_reads_[static_cast<size_t>(cf)].load(std::memory_order_relaxed);
  }

  // The latest committed state.
  ReadView Latest() const { return ReadView(this, nullptr, /*checked=*/true); }
  // A snapshot: every read through it sees the same committed state.
  ReadView Snapshot() const { return ReadView(this, db_->GetSnapshot(), /*checked=*/true); }
  // The same, readable even while the store is unavailable: for the projector's own
  // bookkeeping (positions, outcomes, status), which stays true during a rebuild.
  ReadView Unchecked() const { return ReadView(this, nullptr, /*checked=*/false); }
  ReadView UncheckedSnapshot() const {
    return ReadView(this, db_->GetSnapshot(), /*checked=*/false);
  }

  // From now on checked reads fail with UNAVAILABLE and `reason` (a projection that is being
  // rebuilt holds partial state, which must not be served as if it were whole).
  void SetUnavailable(std::string reason);
  void SetAvailable();
  bool available() const { return !unavailable_.load(std::memory_order_acquire); }

  // Empties the projection (every key of kState, kIndex and kLog; the layout stays) and writes
  // `key` = `value` in kLog, in one atomic, synced write.
  absl::Status Clear(std::string_view key, std::string_view value);
  // How many times Clear emptied the store since it was opened (for caches of what it holds).
  uint64_t emptied() const { return emptied_.load(std::memory_order_acquire); }

  // Compacts every column family into one sorted run (its last level), on RocksDB's background
  // threads; reads and writes go on meanwhile. Blocks the caller until done, or until
  // CancelCompaction() (CANCELLED). A store filled in one go — built from the log — holds its
  // records in several levels and the newest files of level 0, each a place every seek must look
  // in; afterwards a read looks in the memtables and one level.
  absl::Status Compact();
  // Ends a Compact() under way, and refuses later ones (shutdown) until ResumeCompaction().
  void CancelCompaction();
  void ResumeCompaction();
  // The sorted runs of a column family's table files — each level-0 file and each non-empty
  // deeper level — every one a place a seek looks in besides the memtables.
  int SortedRuns(Cf cf) const;

  // Writes a consistent copy of the store to `dir` (which must not exist), hard-linking files
  // where the file system allows. INTERNAL with RocksDB's reason if it cannot.
  absl::Status Checkpoint(const std::string& dir) const;

  // Point reads of records (kState) in the latest state (Latest(), not snapshots) are kept in
  // memory, found values and absent keys alike, up to cache_bytes() of keys and values (those
  // read least recently go first). Commit drops the keys it wrote before it returns, so a reader
  // told of a commit never reads an older value; Clear drops everything; a read that began before a
  // commit keeps nothing. A value of more than a 64th of cache_bytes() is not kept. Hits and
  // misses since the store was opened (for /metrics):
  uint64_t read_cache_hits() const { return cache_.hits(); }
  uint64_t read_cache_misses() const { return cache_.misses(); }

  // Scans of the latest state (Latest()) from the start of their prefix are kept in memory too,
  // up to cache_bytes() more: the first kScanRunEntries entries under the prefix (those the scan
  // visited and up to kScanReadAhead more), or all of them if fewer, as far as they take at most a
  // 128th of cache_bytes(). A later scan of the same prefix visits them from memory and, if it
  // wants more than were kept, goes on in the database after the last one. Commit drops every kept
  // scan whose prefix a key it wrote starts with, before it returns; the same guards as for
  // records apply. Scans from a later `start`, through snapshots or unchecked, and of prefixes
  // longer than kScanPrefixMax bytes are not kept; nor, once a column family's kept prefixes have
  // kScanPrefixLengths different lengths, those of yet another length (each is a lookup per key
  // a commit writes). Hits and misses since the store was opened (for /metrics):
  uint64_t scan_cache_hits() const { return scans_.hits(); }
  uint64_t scan_cache_misses() const { return scans_.misses(); }
  // About the bytes each cache holds now (for /metrics).
  size_t read_cache_bytes() const { return cache_.cost(); }
  size_t scan_cache_bytes() const { return scans_.cost(); }
  static constexpr size_t kScanRunEntries = 64;
  static constexpr size_t kScanReadAhead = 16;
  static constexpr size_t kScanPrefixMax = 255;
  static constexpr int kScanPrefixLengths = 16;

  // The bytes of each of the two caches: ProjectionCacheBytes() (memory.h) when the store opened.
  size_t cache_bytes() const { return cache_bytes_; }

  // Convenience for Latest().Get / Latest().Scan.
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, std::string_view key) const {
    return Latest().Get(cf, key);
  }
  absl::Status Scan(Cf cf, std::string_view prefix, std::string_view start,
                    const ScanFn& fn) const {
    return Latest().Scan(cf, prefix, start, fn);
  }

  const std::string& path() const { return path_; }

  // A RocksDB integer property of one column family (e.g. "rocksdb.estimate-num-keys", or
  // "rocksdb.num-files-at-level0", which RocksDB serves as text), or nullopt if RocksDB does not
  // know it.
  std::optional<uint64_t> IntProperty(Cf cf, const std::string& name) const;

 private:
  friend class ReadView;
  ProjectionStore(std::string path, rocksdb::DB* db,
                  std::vector<rocksdb::ColumnFamilyHandle*> handles);
  rocksdb::ColumnFamilyHandle* Handle(Cf cf) const { return handles_[static_cast<int>(cf)]; }

  // The record at `key` (kState) in the latest state, from the read cache or the database
  // (keeping it).
  absl::StatusOr<std::optional<std::string>> GetRecord(std::string_view key) const;

  // The first entries under a prefix, as a scan kept them: keys and values one after another
  // in `data`, each entry's two ends in `ends`.
  struct ScanRun {
    std::string data;
    std::vector<std::pair<uint32_t, uint32_t>> ends;  // end of the key, end of the value
    bool complete = false;                            // every entry under the prefix
  };
  // Latest().Scan from the start of `prefix`: from the scan cache, or the database (keeping
  // what it read when it may).
  absl::Status ScanLatest(Cf cf, std::string_view prefix, const ScanFn& fn) const;
  // Whether scans of `prefix` in `cf` may be kept: registers its length.
  bool MayKeepScan(Cf cf, std::string_view prefix) const;
  // Drops every kept scan whose prefix a key `batch` wrote starts with. Writer only, after the
  // commit.
  void ForgetScans(const Batch& batch);

  const std::string path_;
  rocksdb::DB* db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;
  std::atomic<bool> unavailable_{false};
  std::atomic<uint64_t> keys_written_{0};
  std::array<std::atomic<uint64_t>, 3> single_reads_{};
  std::atomic<uint64_t> emptied_{0};
  const size_t cache_bytes_;
  // Point reads of records (kState), kept until a commit writes them.
  mutable ReadCache<std::optional<std::string>> cache_;
  // Scans from a prefix's start, keyed by the column family's number and the prefix, kept until a
  // commit writes under the prefix.
  mutable ReadCache<std::shared_ptr<const ScanRun>> scans_;
  // Per column family, a bit for each length of prefix (0 to kScanPrefixMax) whose scans may be
  // kept: the lengths Commit looks up each key it writes at.
  mutable std::array<std::array<std::atomic<uint64_t>, 4>, 3> scan_lengths_{};
  mutable absl::Mutex reason_mu_;
  std::string reason_ ABSL_GUARDED_BY(reason_mu_);
};

}  // namespace crm::store
