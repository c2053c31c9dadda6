// MockKafkaCluster: a Kafka-protocol broker from librdkafka's mock cluster (rdkafka_mock.h).
//
// For development and tests only. It keeps the log in memory, listens on 127.0.0.1 at a
// random port, has no CreateTopics (use CreateTopic), keeps only about 5 MiB per partition
// (older records are dropped silently) and does not de-duplicate idempotent-producer retries.
// Its fault injection (brokers down, added latency, failed or late produce responses, moved
// leaders) is what the fault tests drive, through crm-devbroker --control.
//
// Lifecycle: Start() -> use from any thread -> destroy (closes the listeners).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace crm::eventlog {

class MockKafkaCluster {
 public:
  // Starts `brokers` brokers. INTERNAL if librdkafka cannot.
  static absl::StatusOr<std::unique_ptr<MockKafkaCluster>> Start(int brokers = 1);
  ~MockKafkaCluster();
  MockKafkaCluster(const MockKafkaCluster&) = delete;
  MockKafkaCluster& operator=(const MockKafkaCluster&) = delete;

  // The bootstrap.servers string, e.g. "127.0.0.1:40123".
  const std::string& bootstrap_servers() const { return bootstrap_; }

  // Creates `topic` with `partitions` partitions (replication factor 1). Creating an existing
  // topic is an error from the mock (ALREADY_EXISTS).
  absl::Status CreateTopic(const std::string& topic, int partitions);

  // Takes broker `broker_id` (1-based) down or up again.
  absl::Status BrokerDown(int broker_id);
  absl::Status BrokerUp(int broker_id);

  // Delays every response of broker `broker_id` by `rtt_ms` milliseconds (0: no delay).
  absl::Status SetRtt(int broker_id, int rtt_ms);
  // The next `count` Produce requests, to any broker, fail with Kafka error code `error`
  // (e.g. 6 NOT_LEADER_OR_FOLLOWER, 7 REQUEST_TIMED_OUT, 19 NOT_ENOUGH_REPLICAS).
  absl::Status FailProduces(int count, int error);
  // The next `count` Fetch requests, to any broker, fail with Kafka error code `error`.
  absl::Status FailFetches(int count, int error);
  // The next `count` Produce requests to broker `broker_id` succeed, but their responses come
  // `rtt_ms` late: past the client's request timeout, the client sends them again and the mock
  // (which does not de-duplicate) keeps the records twice.
  absl::Status DelayProduceResponses(int broker_id, int count, int rtt_ms);
  // Moves the leadership of `topic`/`partition` to broker `broker_id` (-1: no leader).
  absl::Status SetLeader(const std::string& topic, int partition, int broker_id);

  rd_kafka_mock_cluster_s* raw() { return cluster_; }

 private:
  MockKafkaCluster(rd_kafka_s* handle, rd_kafka_mock_cluster_s* cluster);
  absl::Status FailRequests(int16_t api_key, int count, int error);
  rd_kafka_s* const handle_;
  rd_kafka_mock_cluster_s* const cluster_;
  std::string bootstrap_;
};

}  // namespace crm::eventlog
