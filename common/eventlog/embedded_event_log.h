// EmbeddedEventLog: a durable event log inside one process, stored in its own RocksDB.
//
// Used by the single-process node (crm-node), the zero-dependency default. Appends are
// group-committed: one writer thread takes every append queued since its last write, writes
// them in one WriteBatch with sync=true, and only then runs their callbacks. Readers in the same
// process are woken as soon as records are durable, so a projection applies its own writes
// within microseconds.
//
// Every topic has `partitions` partitions, created on first use; the partition is chosen by a
// stable hash of the key. Lifecycle: Open() -> use from any thread -> destroy (drains appends).
//
// The newest records of each partition (`tail_records`) are also kept in memory once durable: a
// reader that keeps up, as every projection of a running node does, takes them from there under
// the lock it already holds to learn the partition's end, instead of opening a RocksDB iterator
// and seeking for a handful of records. A reader further behind (a rebuild, a new replica) reads
// RocksDB as before.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "common/eventlog/event_log.h"
#include "rocksdb/db.h"

namespace crm::eventlog {

struct EmbeddedEventLogOptions {
  // Directory of the log's RocksDB; created if missing.
  std::string path;
  // Partitions per topic. Must stay the same for the life of the data directory.
  int32_t partitions = 8;
  // Newest records per partition kept in memory for readers that keep up (0: none). Each is
  // also bounded to `tail_bytes` of keys and values.
  size_t tail_records = 256;
  size_t tail_bytes = 256 << 10;
};

class EmbeddedEventLog final : public EventLog {
 public:
  // Opens (or creates) the log at options.path. INVALID_ARGUMENT for a bad option, INTERNAL
  // if RocksDB cannot open it, FAILED_PRECONDITION if the directory was made with another
  // partition count.
  static absl::StatusOr<std::unique_ptr<EmbeddedEventLog>> Open(
      const EmbeddedEventLogOptions& options);
  ~EmbeddedEventLog() override;

  void AppendRaw(std::string_view topic, std::string_view key, std::string_view value,
                 AppendCallback done) override;
  absl::StatusOr<int32_t> PartitionCount(std::string_view topic) override;
  absl::StatusOr<int64_t> EndOffset(std::string_view topic, int32_t partition) override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      std::vector<PartitionStart> starts) override;
  absl::Status Flush(absl::Duration timeout) override;
  // A RocksDB checkpoint of the durable records (what every append acknowledged so far holds).
  absl::Status Checkpoint(const std::string& dir) override;

  // Returns the partition `key` maps to for a topic of `partitions` partitions.
  static int32_t PartitionFor(std::string_view key, int32_t partitions);

  // Readers waiting in Poll now, and the times a waiting reader woke to find none of its
  // partitions had grown (appends to other topics wake no reader; a reader of a topic wakes for
  // its other partitions). For tests and diagnostics.
  int64_t waiting_readers();
  int64_t idle_wakeups();

 private:
  class Reader;
  struct Pending {
    std::string topic;
    int32_t partition;
    std::string key;
    std::string value;
    AppendCallback done;
  };
  using TopicPartition = std::pair<std::string, int32_t>;
  // The newest durable records of one partition, oldest first, at consecutive offsets.
  struct Tail {
    struct Record {
      int64_t offset;
      std::string key;
      std::string value;
    };
    std::deque<Record> records;
    size_t bytes = 0;
  };

  EmbeddedEventLog(std::unique_ptr<rocksdb::DB> db, const EmbeddedEventLogOptions& options,
                   std::map<TopicPartition, int64_t> ends);
  void WriterLoop();
  // Blocks until some partition in `next` has records past its position, or `deadline`.
  void WaitForRecordsLocked(const std::map<TopicPartition, int64_t>& next, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t EndLocked(const TopicPartition& tp) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Keeps a record just made durable in its partition's tail, dropping the oldest beyond the
  // bounds.
  void AddToTailLocked(const TopicPartition& tp, int64_t offset, std::string key, std::string value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<rocksdb::DB> db_;
  const int32_t partitions_;
  const size_t tail_records_;
  const size_t tail_bytes_;

  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  // Offsets of the next record per partition, for durable records only.
  std::map<TopicPartition, int64_t> ends_ ABSL_GUARDED_BY(mu_);
  // Records made durable since Open, per topic: a waiting reader wakes when one of its topics'
  // count moves, not for every append (the node's readers each read a few of its topics). An
  // entry, once made, stays (a waiter holds its address).
  std::map<std::string, int64_t, std::less<>> published_ ABSL_GUARDED_BY(mu_);
  int64_t waiting_readers_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t idle_wakeups_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<TopicPartition, Tail> tails_ ABSL_GUARDED_BY(mu_);
  int64_t appends_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace crm::eventlog
