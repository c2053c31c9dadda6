// crm-devbroker: a Kafka-protocol broker for development and tests, from librdkafka's mock
// cluster. In memory only: everything is gone when it stops, and it keeps only about 5 MiB per
// partition. Production points the services at a real Kafka cluster (--kafka-brokers).
//
// Prints its bootstrap address as the first line on standard output, creates the CRM's topics
// and runs until SIGTERM or SIGINT.
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "common/eventlog/mock_cluster.h"
#include "common/grpc/server.h"

int main(int argc, char** argv) {
  crm::grpcutil::BlockTerminationSignals();
  CLI::App app(
      "Kafka-protocol development broker (librdkafka mock cluster; in memory, for development "
      "and tests only).",
      "crm-devbroker");
  int brokers = 1;
  int partitions = 4;
  std::string topics = "crm.contact.v1,crm.interaction.v1,crm.sales.v1,crm.analytics.v1";
  app.add_option("--brokers", brokers, "number of brokers")
      ->envname("CRM_DEVBROKER_BROKERS")
      ->check(CLI::Range(1, 9))
      ->capture_default_str();
  app.add_option("--partitions", partitions, "partitions per topic")
      ->envname("CRM_DEVBROKER_PARTITIONS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--topics", topics, "comma-separated topics to create")
      ->envname("CRM_DEVBROKER_TOPICS")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto cluster = crm::eventlog::MockKafkaCluster::Start(brokers);
  if (!cluster.ok()) {
    std::cerr << "crm-devbroker: " << cluster.status() << std::endl;
    return 1;
  }
  for (absl::string_view topic : absl::StrSplit(topics, ',', absl::SkipEmpty())) {
    if (absl::Status s = (*cluster)->CreateTopic(std::string(topic), partitions); !s.ok()) {
      std::cerr << "crm-devbroker: " << s << std::endl;
      return 1;
    }
  }
  std::cout << (*cluster)->bootstrap_servers() << std::endl;
  std::cerr << "crm-devbroker: in-memory Kafka-protocol broker for development and tests only; "
               "topics: "
            << topics << std::endl;
  crm::grpcutil::WaitForTerminationSignal();
  return 0;
}
