#include "common/eventlog/mock_cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace crm::eventlog {

absl::StatusOr<std::unique_ptr<MockKafkaCluster>> MockKafkaCluster::Start(int brokers) {
  if (brokers < 1) return absl::InvalidArgumentError("mock cluster needs at least one broker");
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only owns the cluster; it never connects anywhere.
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("mock cluster: ", err));
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(handle, brokers);
  if (cluster == nullptr) {
    rd_kafka_destroy(handle);
    return absl::InternalError("mock cluster: rd_kafka_mock_cluster_new failed");
  }
  return std::unique_ptr<MockKafkaCluster>(new MockKafkaCluster(handle, cluster));
}

MockKafkaCluster::MockKafkaCluster(rd_kafka_s* handle, rd_kafka_mock_cluster_s* cluster)
    : handle_(handle), cluster_(cluster), bootstrap_(rd_kafka_mock_cluster_bootstraps(cluster)) {}

MockKafkaCluster::~MockKafkaCluster() {
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(handle_);
}

absl::Status MockKafkaCluster::CreateTopic(const std::string& topic, int partitions) {
  const rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    return absl::AlreadyExistsError(absl::StrCat("topic ", topic, " already exists"));
  }
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("create topic ", topic, ": ", rd_kafka_err2str(e)));
  }
  return absl::OkStatus();
}

absl::Status MockKafkaCluster::BrokerDown(int broker_id) {
  const rd_kafka_resp_err_t e = rd_kafka_mock_broker_set_down(cluster_, broker_id);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return absl::InternalError(rd_kafka_err2str(e));
  return absl::OkStatus();
}

absl::Status MockKafkaCluster::BrokerUp(int broker_id) {
  const rd_kafka_resp_err_t e = rd_kafka_mock_broker_set_up(cluster_, broker_id);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return absl::InternalError(rd_kafka_err2str(e));
  return absl::OkStatus();
}

namespace {
// Kafka protocol API keys of Produce and Fetch (librdkafka's RD_KAFKAP_* are not in its public
// headers).
constexpr int16_t kProduceApiKey = 0;
constexpr int16_t kFetchApiKey = 1;

absl::Status FromMock(rd_kafka_resp_err_t e) {
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return absl::InternalError(rd_kafka_err2str(e));
  return absl::OkStatus();
}
}  // namespace

absl::Status MockKafkaCluster::SetRtt(int broker_id, int rtt_ms) {
  return FromMock(rd_kafka_mock_broker_set_rtt(cluster_, broker_id, rtt_ms));
}

absl::Status MockKafkaCluster::FailProduces(int count, int error) {
  return FailRequests(kProduceApiKey, count, error);
}

absl::Status MockKafkaCluster::FailFetches(int count, int error) {
  return FailRequests(kFetchApiKey, count, error);
}

absl::Status MockKafkaCluster::FailRequests(int16_t api_key, int count, int error) {
  std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(count),
                                          static_cast<rd_kafka_resp_err_t>(error));
  rd_kafka_mock_push_request_errors_array(cluster_, api_key, errors.size(), errors.data());
  return absl::OkStatus();
}

absl::Status MockKafkaCluster::DelayProduceResponses(int broker_id, int count, int rtt_ms) {
  for (int i = 0; i < count; ++i) {
    RETURN_IF_ERROR(FromMock(rd_kafka_mock_broker_push_request_error_rtts(
        cluster_, broker_id, kProduceApiKey, 1, RD_KAFKA_RESP_ERR_NO_ERROR, rtt_ms)));
  }
  return absl::OkStatus();
}

absl::Status MockKafkaCluster::SetLeader(const std::string& topic, int partition, int broker_id) {
  return FromMock(
      rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), partition, broker_id));
}

}  // namespace crm::eventlog
