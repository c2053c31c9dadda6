// The event log: the source of truth every projection is built from.
//
// One small interface with two implementations:
//   - KafkaEventLog (kafka_event_log.h): librdkafka, for every multi-process deployment;
//   - EmbeddedEventLog (embedded_event_log.h): durable, RocksDB-backed, inside one process.
// Both pass the same contract tests (tests/unit/common/eventlog/event_log_contract_test.cc).
//
// Records are addressed by (topic, partition, offset). A topic has a fixed number of
// partitions; the record key (the aggregate id) chooses the partition, so one aggregate's
// events stay in order. Offsets within a partition only grow.
//
//   log->Append("crm.contact.v1", envelope, [](absl::StatusOr<LogPosition> pos) { ... });
//   ASSIGN_OR_RETURN(auto reader, log->OpenReader({{"crm.contact.v1", 0, next_offset}}));
//   ASSIGN_OR_RETURN(auto records, reader->Poll(512, absl::Milliseconds(100)));
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "crm/common/v1/envelope.pb.h"

namespace crm::eventlog {

// Where a record sits in the log.
struct LogPosition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// One record read from the log.
struct LogRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
};

// Where a reader starts in one partition: the first offset it returns.
struct PartitionStart {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// Runs exactly once with the record's position once it is durable, or with UNAVAILABLE or
// DEADLINE_EXCEEDED if it could not be made durable (then the record may or may not be in the
// log: readers must tolerate it appearing, see the event id de-duplication in projections).
using AppendCallback = std::function<void(absl::StatusOr<LogPosition>)>;

// Reads records of a fixed set of partitions in offset order per partition. Not thread-safe:
// one thread polls a reader.
class LogReader {
 public:
  virtual ~LogReader() = default;

  // Puts in `out`, replacing what it held, up to `max_records` records that follow the ones
  // already returned, waiting up to `timeout` for the first one. Empty means nothing arrived in
  // time. UNAVAILABLE if the log cannot be reached (the caller retries; the reader keeps its
  // positions; `out` is then empty). A reader may reuse the storage of the records `out` held:
  // the embedded log's does, so a caller polling into one vector copies records into strings
  // it already has instead of allocating three per record.
  virtual absl::Status PollInto(std::vector<LogRecord>& out, size_t max_records,
                                absl::Duration timeout) = 0;
  // The same, into a new vector.
  absl::StatusOr<std::vector<LogRecord>> Poll(size_t max_records, absl::Duration timeout);
};

// The log. All methods are thread-safe.
class EventLog {
 public:
  virtual ~EventLog() = default;

  // Appends a record with `key` and `value` to `topic`. `done` runs exactly once, on a thread
  // owned by the log; it must not block.
  virtual void AppendRaw(std::string_view topic, std::string_view key, std::string_view value,
                         AppendCallback done) = 0;

  // Appends `event`, keyed by its aggregate id. The envelope carries the expected aggregate
  // version and the request id; the log itself does not interpret them.
  void Append(std::string_view topic, const crm::common::v1::EventEnvelope& event,
              AppendCallback done);

  // Returns the number of partitions of `topic`. NOT_FOUND if the topic does not exist,
  // UNAVAILABLE if the log cannot be reached.
  virtual absl::StatusOr<int32_t> PartitionCount(std::string_view topic) = 0;

  // Returns the offset the next record appended to the partition will get.
  virtual absl::StatusOr<int64_t> EndOffset(std::string_view topic, int32_t partition) = 0;

  // Opens a reader positioned at `starts`.
  virtual absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      std::vector<PartitionStart> starts) = 0;

  // Waits until every append issued so far has completed, up to `timeout`.
  virtual absl::Status Flush(absl::Duration timeout) = 0;

  // Writes a consistent copy of the log to `dir` (which must not exist), for a log this process
  // owns. UNIMPLEMENTED for a log kept elsewhere (Kafka is backed up by its own means).
  virtual absl::Status Checkpoint(const std::string& dir);
};

// Appends and blocks until the record is durable. For tools and tests; services use Append.
absl::StatusOr<LogPosition> AppendAndWait(EventLog& log, std::string_view topic,
                                          const crm::common::v1::EventEnvelope& event);

// The next offset of each partition as text, "partition=offset,..." (for page tokens and feed
// cursors), and back. INVALID_ARGUMENT if `text` is not such a list.
std::string EncodePositions(const std::map<int32_t, int64_t>& next);
absl::StatusOr<std::map<int32_t, int64_t>> DecodePositions(const std::string& text);

}  // namespace crm::eventlog
