// MockKafkaCluster: a Kafka-protocol broker from librdkafka's mock cluster (rdkafka_mock.h).
//
// For development and tests only. It keeps the log in memory, listens on 127.0.0.1 at a
// random port, has no CreateTopics (use CreateTopic), keeps only about 5 MiB per partition
// (older records are dropped silently) and does not de-duplicate idempotent-producer retries.
// Its fault injection (BrokerDown/BrokerUp) is what the fault tests use.
//
// Lifecycle: Start() -> use from any thread -> destroy (closes the listeners).
#pragma once

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

  rd_kafka_mock_cluster_s* raw() { return cluster_; }

 private:
  MockKafkaCluster(rd_kafka_s* handle, rd_kafka_mock_cluster_s* cluster);
  rd_kafka_s* const handle_;
  rd_kafka_mock_cluster_s* const cluster_;
  std::string bootstrap_;
};

}  // namespace crm::eventlog
