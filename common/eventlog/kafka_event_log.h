// KafkaEventLog: the event log on a Kafka cluster, through librdkafka.
//
// The producer is idempotent (enable.idempotence=true, acks=all): an append completes only with
// the broker's delivery report, so an acknowledged append is replicated to the in-sync
// replicas. Partitioning uses librdkafka's default partitioner on the record key, so every
// producer puts one aggregate's events in the same partition.
//
// Readers are plain assigned consumers: no consumer group and no offset commits. A projection
// keeps its positions in its own RocksDB, committed atomically with what it applied, and
// opens its reader at those positions. Fetch settings favour latency (a write waits for its own
// projection to apply it).
//
// A reader in the process that appended a record gets it from memory once the append is
// acknowledged, at its acknowledged offset, rather than when its next fetch brings it back (the
// fetch's copy is then passed over): a write waiting for its own projection waits for the
// broker's acknowledgement only, not for a fetch after it as well. Records appended by other
// processes, and any a reader is not yet up to, come from the fetches as before. The process
// keeps its last kOwnRecordsPerPartition acknowledged appends per partition for this.
//
// A lost produce acknowledgement makes librdkafka resend; a broker that does not de-duplicate
// (librdkafka's mock cluster does not) then holds the record twice. Projections de-duplicate by
// event id.
//
// Lifecycle: Open() -> use from any thread -> destroy (flushes, up to the delivery timeout).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "common/eventlog/event_log.h"

struct rd_kafka_s;
struct rd_kafka_message_s;

namespace crm::eventlog {

struct KafkaEventLogOptions {
  // bootstrap.servers, e.g. "127.0.0.1:9092".
  std::string brokers;
  // client.id reported to the brokers.
  std::string client_id = "crm";
  // How long an append may take before it fails (librdkafka's message.timeout.ms).
  absl::Duration delivery_timeout = absl::Seconds(10);
  // Timeout for metadata and offset queries.
  absl::Duration request_timeout = absl::Seconds(5);
  // Extra librdkafka properties for producer and consumers (security.protocol, sasl.*, ...).
  std::map<std::string, std::string> properties;
};

class KafkaEventLog final : public EventLog {
 public:
  // Creates the producer. INVALID_ARGUMENT names a librdkafka property it refused. Does not
  // wait for the brokers: an unreachable cluster shows as failing appends.
  static absl::StatusOr<std::unique_ptr<KafkaEventLog>> Open(const KafkaEventLogOptions& options);
  ~KafkaEventLog() override;

  void AppendRaw(std::string_view topic, std::string_view key, std::string_view value,
                 AppendCallback done) override;
  absl::StatusOr<int32_t> PartitionCount(std::string_view topic) override;
  absl::StatusOr<int64_t> EndOffset(std::string_view topic, int32_t partition) override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      std::vector<PartitionStart> starts) override;
  absl::Status Flush(absl::Duration timeout) override;

  // Acknowledged appends kept per partition for this process's readers.
  static constexpr size_t kOwnRecordsPerPartition = 256;

 private:
  class Reader;
  using TopicPartition = std::pair<std::string, int32_t>;
  struct OwnRecord {
    std::string key;
    std::string value;
  };
  explicit KafkaEventLog(KafkaEventLogOptions options);
  // Takes `producer` (whose delivery reports come to this log) and starts polling it.
  void Start(rd_kafka_s* producer);
  void PollLoop();
  // librdkafka's delivery report of an append (the log is its opaque): answers the appender.
  static void OnDelivery(rd_kafka_s* rk, const rd_kafka_message_s* msg, void* opaque);
  // From the delivery report of an acknowledged append: keeps it for the readers of its
  // partition, if this process has any, and wakes them.
  void Acknowledged(const TopicPartition& tp, int64_t offset, std::string_view key,
                    std::string_view value);
  // Appends to `out` (up to `max_records` in all) the kept records each of `next`'s partitions
  // continues with, advancing `next`.
  void TakeOwn(std::map<TopicPartition, int64_t>& next, size_t max_records,
               std::vector<LogRecord>& out);

  const KafkaEventLogOptions options_;
  rd_kafka_s* producer_ = nullptr;  // set once, by Start
  absl::Mutex own_mu_;
  std::map<TopicPartition, std::map<int64_t, OwnRecord>> own_ ABSL_GUARDED_BY(own_mu_);
  std::set<Reader*> readers_ ABSL_GUARDED_BY(own_mu_);
  std::atomic<bool> stopping_{false};
  std::thread poller_;
};

}  // namespace crm::eventlog
