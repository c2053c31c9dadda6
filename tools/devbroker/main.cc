// crm-devbroker: a Kafka-protocol broker for development and tests, from librdkafka's mock
// cluster. In memory only: everything is gone when it stops, and it keeps only about 5 MiB per
// partition. Production points the services at a real Kafka cluster (--kafka-brokers).
//
// Prints its bootstrap address as the first line on standard output, creates the CRM's topics
// and runs until SIGTERM or SIGINT.
//
// With --control it also reads fault-injection commands from standard input, one per line, and
// answers each with a line "ok" or "error: <why>" (what the fault tests drive):
//   down BROKER | up BROKER            take a broker down / bring it back
//   rtt BROKER MILLIS                  delay every response of a broker (0: none)
//   fail-produce COUNT KAFKA_ERROR     the next COUNT produce requests fail with that code
//   slow-produce BROKER COUNT MILLIS   the next COUNT produce responses come MILLIS late
//   leader TOPIC PARTITION BROKER      move a partition's leader (-1: none)
#include <iostream>
#include <sstream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "common/eventlog/mock_cluster.h"
#include "common/grpc/server.h"

namespace {

// Runs one control command; returns the answer line.
std::string Execute(crm::eventlog::MockKafkaCluster& cluster, const std::string& line) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  int a = 0, b = 0, c = 0;
  std::string topic;
  absl::Status s;
  if ((verb == "down" || verb == "up") && (in >> a)) {
    s = verb == "down" ? cluster.BrokerDown(a) : cluster.BrokerUp(a);
  } else if (verb == "rtt" && (in >> a >> b)) {
    s = cluster.SetRtt(a, b);
  } else if (verb == "fail-produce" && (in >> a >> b)) {
    s = cluster.FailProduces(a, b);
  } else if (verb == "slow-produce" && (in >> a >> b >> c)) {
    s = cluster.DelayProduceResponses(a, b, c);
  } else if (verb == "leader" && (in >> topic >> a >> b)) {
    s = cluster.SetLeader(topic, a, b);
  } else {
    return "error: unknown command \"" + line + "\"";
  }
  return s.ok() ? "ok" : "error: " + std::string(s.message());
}

}  // namespace

int main(int argc, char** argv) {
  crm::grpcutil::BlockTerminationSignals();
  CLI::App app(
      "Kafka-protocol development broker (librdkafka mock cluster; in memory, for development "
      "and tests only).",
      "crm-devbroker");
  int brokers = 1;
  int partitions = 4;
  std::string topics =
      "crm.contact.v1,crm.interaction.v1,crm.sales.v1,crm.analytics.v1,crm.access.v1,crm.keys.v1,"
      "crm.outbound.v1";
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
  bool control = false;
  app.add_flag("--control", control,
               "read fault-injection commands from standard input (see the source's header)");
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
  if (control) {
    // Detached: it may be blocked reading stdin when a signal ends the process.
    std::thread([cluster = cluster->get()] {
      std::string line;
      while (std::getline(std::cin, line)) {
        std::cout << Execute(*cluster, line) << std::endl;
      }
    }).detach();
  }
  crm::grpcutil::WaitForTerminationSignal();
  return 0;
}
