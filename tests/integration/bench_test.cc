// crm-bench's smoke test: a short run against the node, and one against the services run
// separately on the dev broker, give complete reports. No timing is asserted here (speed is
// measured by running crm-bench, see docs/performance.md).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "nlohmann/json.hpp"
#include "tests/integration/contact_client.h"
#include "tests/testing/scrape.h"

namespace crm::testing {
namespace {

TEST(BenchSmoke, AShortRunReportsEveryScenario) {
  TempDir dir;
  Server node = StartServer(
      "crm-node",
      {"--listen", "127.0.0.1:0", "--data-dir", dir.Sub("data"), "--metrics-listen", "127.0.0.1:0"},
      dir.path());
  ASSERT_FALSE(node.addr.empty());
  const std::string metrics_line = node.process->ReadLine();
  ASSERT_EQ(metrics_line.rfind("metrics on ", 0), 0u) << metrics_line;
  const std::string report_path = dir.Sub("bench.json");
  CommandResult r =
      RunCommand(BinaryPath("crm-bench"),
                 {"--target", node.addr, "--scenario", "ping,write,read,mixed,lag", "--duration",
                  "0.5", "--concurrency", "4", "--preload", "20", "--interactions", "2", "--json",
                  report_path, "--server-pid", std::to_string(node.process->pid()),
                  "--server-metrics", metrics_line.substr(std::string("metrics on ").size())});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(report_path);
  const nlohmann::json report = nlohmann::json::parse(in);
  EXPECT_GE(report["machine"]["cores"].get<int>(), 1);
  EXPECT_FALSE(report["machine"]["cpu_model"].get<std::string>().empty());
  EXPECT_THAT(report["allocator"].get<std::string>(), ::testing::StartsWith("jemalloc "));
  std::vector<std::string> names;
  double server_cpu = 0;
  for (const auto& s : report["scenarios"]) {
    names.push_back(s["name"]);
    for (const char* field : {"throughput_per_s", "p50_ms", "p99_ms", "errors"}) {
      EXPECT_TRUE(s.contains(field)) << s["name"] << " lacks " << field;
    }
    // CPU per call: crm-bench's own always, the node's because its pid was given.
    EXPECT_GT(s["client_cpu_us_per_call"].get<double>(), 0) << s["name"];
    server_cpu += s["server_cpu_us_per_call"].get<double>();
    // Blocks per call, because its metrics endpoint was given: none for the health check.
    for (const char* blocks : {"server_block_reads_per_call", "server_block_cache_hits_per_call"}) {
      if (s["name"] == "ping") {
        EXPECT_EQ(s[blocks], 0.0);
      } else {
        EXPECT_GE(s[blocks].get<double>(), 0) << s["name"];
      }
    }
    EXPECT_GT(s["calls"].get<int64_t>(), 0) << s["name"];
    EXPECT_EQ(s["errors"].get<int64_t>(), 0) << s["name"];
    EXPECT_GE(s["p99_ms"].get<double>(), s["p50_ms"].get<double>()) << s["name"];
    // Each against the ping of the same run; one round, so no per-round figures.
    EXPECT_GT(s["share_of_ping"].get<double>(), 0) << s["name"];
    EXPECT_FALSE(s.contains("rounds_throughput_per_s")) << s["name"];
  }
  EXPECT_EQ(report["scenarios"][0]["share_of_ping"], 1.0);
  EXPECT_EQ(names,
            (std::vector<std::string>{"ping", "write_contact", "write_interaction", "write_order",
                                      "get_contact", "search_contacts", "list_timeline",
                                      "customer_360", "mixed", "analytics_lag"}));
  EXPECT_GT(server_cpu, 0);
  // The lag is measured at half the contact write rate of the same run.
  const auto& writes = report["scenarios"][1];
  const auto& lag = report["scenarios"][9];
  EXPECT_NEAR(lag["offered_rate_per_s"].get<double>(), writes["throughput_per_s"].get<double>() / 2,
              1e-6);
  // In rounds: each scenario's rounds together, its rate per round and its share of each round's
  // ping, with the median of those shares.
  const std::string rounds_path = dir.Sub("rounds.json");
  CommandResult in_rounds =
      RunCommand(BinaryPath("crm-bench"),
                 {"--target", node.addr, "--scenario", "ping,read", "--rounds", "3", "--duration",
                  "0.2", "--concurrency", "2", "--preload", "5", "--json", rounds_path});
  ASSERT_EQ(in_rounds.exit_code, 0) << in_rounds.err;
  std::ifstream rounds_in(rounds_path);
  const nlohmann::json rounds = nlohmann::json::parse(rounds_in);
  EXPECT_EQ(rounds["rounds"], 3);
  ASSERT_EQ(rounds["scenarios"].size(), 5u);  // ping and the four reads, once each
  for (const auto& s : rounds["scenarios"]) {
    const std::vector<double> rates = s["rounds_throughput_per_s"];
    std::vector<double> shares = s["share_of_ping_per_round"];
    ASSERT_EQ(rates.size(), 3u) << s["name"];
    ASSERT_EQ(shares.size(), 3u) << s["name"];
    for (double rate : rates) EXPECT_GT(rate, 0) << s["name"];
    std::sort(shares.begin(), shares.end());
    EXPECT_DOUBLE_EQ(s["share_of_ping"].get<double>(), shares[1]) << s["name"];
    EXPECT_EQ(s["errors"], 0) << s["name"];
  }
  EXPECT_EQ(rounds["scenarios"][0]["share_of_ping_per_round"],
            nlohmann::json::array({1.0, 1.0, 1.0}));
  // ping and one other scenario for a moment, over a few new contacts: that scenario's entry in
  // the report (null if the run or its report failed).
  auto one_scenario = [&](const std::string& scenario) {
    const std::string path = dir.Sub(scenario + ".json");
    CommandResult r =
        RunCommand(BinaryPath("crm-bench"),
                   {"--target", node.addr, "--scenario", "ping," + scenario, "--duration", "0.3",
                    "--concurrency", "2", "--preload", "5", "--json", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::ifstream in(path);
    const nlohmann::json report = nlohmann::json::parse(in, nullptr, false);
    if (report.is_discarded() || !report.contains("scenarios") || report["scenarios"].size() != 2) {
      return nlohmann::json();
    }
    EXPECT_EQ(report["scenarios"][1]["name"], scenario);
    return report["scenarios"][1];
  };
  // One read alone, by its name in the report.
  const nlohmann::json timeline = one_scenario("list_timeline");
  ASSERT_TRUE(timeline.is_object());
  EXPECT_GT(timeline["throughput_per_s"].get<double>(), 0);
  EXPECT_EQ(timeline["errors"], 0);
  // A 360 as of the call's time is read afresh every time: the node answers none of them from a
  // kept 360, where 360s asked for without a time, over contacts just as new, are answered from
  // kept ones once read.
  const std::string metrics_url =
      "http://" + metrics_line.substr(std::string("metrics on ").size()) + "/metrics";
  auto kept_served = [&]() -> double {
    const std::optional<std::string> text = HttpGet(metrics_url);
    if (!text) return -1;
    return Sample(*text, "crm_analytics_customer360_kept_served_total").value_or(-1);
  };
  const double kept_before = kept_served();
  ASSERT_GE(kept_before, 0);
  const nlohmann::json unkept = one_scenario("customer_360_unkept");
  ASSERT_TRUE(unkept.is_object());
  EXPECT_GT(unkept["calls"].get<int64_t>(), 5);
  EXPECT_EQ(unkept["errors"], 0);
  EXPECT_EQ(kept_served(), kept_before);
  CommandResult kept = RunCommand(
      BinaryPath("crm-bench"), {"--target", node.addr, "--scenario", "customer_360", "--duration",
                                "0.3", "--concurrency", "2", "--preload", "5"});
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_GT(kept_served(), kept_before);
  CommandResult unknown =
      RunCommand(BinaryPath("crm-bench"), {"--target", node.addr, "--scenario", "ping,timeline"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, ::testing::HasSubstr("unknown scenario \"timeline\""));
  // The in-process rebuild beside the raw RocksDB ingest.
  const std::string rebuild_path = dir.Sub("rebuild.json");
  CommandResult rebuilt =
      RunCommand(BinaryPath("crm-bench"), {"--scenario", "rebuild", "--rebuild-events", "400",
                                           "--work-dir", dir.Sub("work"), "--json", rebuild_path});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  std::ifstream rebuild_in(rebuild_path);
  const nlohmann::json rebuild_report = nlohmann::json::parse(rebuild_in);
  std::vector<std::string> rebuild_names;
  for (const auto& s : rebuild_report["scenarios"]) {
    rebuild_names.push_back(s["name"]);
    EXPECT_GT(s["throughput_per_s"].get<double>(), 0) << s["name"];
    // Every event a projection reads writes at least its outcome and its position.
    EXPECT_GE(s["keys_per_event"].get<double>(), 1.0) << s["name"];
    // No server, so no block reads measured.
    EXPECT_TRUE(s["server_block_reads_per_call"].is_null()) << s["name"];
    EXPECT_TRUE(s["server_block_cache_hits_per_call"].is_null()) << s["name"];
  }
  EXPECT_EQ(rebuild_report["scenarios"][4]["keys_per_event"].get<double>(), 1.0);
  // The raw ingest runs before each rebuild and after the last; each rebuild's share is of the
  // two runs beside it.
  const nlohmann::json& ingest = rebuild_report["scenarios"][4];
  ASSERT_EQ(ingest["runs_throughput_per_s"].size(), 5u);
  EXPECT_FALSE(ingest.contains("share_of_rocksdb_ingest"));
  for (size_t i = 0; i < 4; ++i) {
    const nlohmann::json& rebuild = rebuild_report["scenarios"][i];
    const double beside = (ingest["runs_throughput_per_s"][i].get<double>() +
                           ingest["runs_throughput_per_s"][i + 1].get<double>()) /
                          2;
    ASSERT_TRUE(rebuild.contains("share_of_rocksdb_ingest")) << rebuild["name"];
    EXPECT_DOUBLE_EQ(rebuild["share_of_rocksdb_ingest"].get<double>(),
                     rebuild["throughput_per_s"].get<double>() / beside)
        << rebuild["name"];
    EXPECT_FALSE(rebuild.contains("runs_throughput_per_s")) << rebuild["name"];
  }
  // Five runs of as many records as the log holds events (400: contacts, interactions, orders).
  EXPECT_EQ(ingest["calls"].get<int64_t>(), 5 * 400);
  EXPECT_THAT(rebuilt.out, ::testing::HasSubstr("OF RAW"));
  // A new contact writes its record, history, search terms, duplicate blocks and outcomes.
  EXPECT_GT(rebuild_report["scenarios"][0]["keys_per_event"].get<double>(), 5.0);
  EXPECT_EQ(rebuild_names,
            (std::vector<std::string>{"rebuild_contact", "rebuild_interaction", "rebuild_sales",
                                      "rebuild_analytics", "rocksdb_ingest"}));
  // Scale: two small data sets, each on a crm-node that crm-bench starts and stops itself.
  const std::string scale_path = dir.Sub("scale.json");
  CommandResult scaled =
      RunCommand(BinaryPath("crm-bench"),
                 {"--scenario", "scale", "--scale-baseline", "30", "--scale-contacts", "60",
                  "--scale-hot-contacts", "20", "--scale-warm-up", "60", "--duration", "0.3",
                  "--concurrency", "2", "--work-dir", dir.Sub("scale"), "--json", scale_path},
                 {}, absl::Seconds(120));
  ASSERT_EQ(scaled.exit_code, 0) << scaled.err;
  std::ifstream scale_in(scale_path);
  const nlohmann::json scale_report = nlohmann::json::parse(scale_in);
  std::vector<std::string> scale_names;
  for (const auto& s : scale_report["scenarios"]) {
    scale_names.push_back(s["name"]);
    // The node crm-bench started is measured: its CPU and its block reads per call (the
    // warm-up's hundred calls may take less than a clock tick of the node's CPU).
    const bool warm_up = s["name"].get<std::string>().ends_with("_warm_up");
    EXPECT_GE(s["server_cpu_us_per_call"].get<double>(), warm_up ? 0 : 1e-9) << s["name"];
    EXPECT_GE(s["server_block_reads_per_call"].get<double>(), 0) << s["name"];
    EXPECT_GE(s["server_block_cache_hits_per_call"].get<double>(), 0) << s["name"];
    EXPECT_GT(s["calls"].get<int64_t>(), 0) << s["name"];
    EXPECT_EQ(s["errors"].get<int64_t>(), 0) << s["name"];
  }
  EXPECT_EQ(
      scale_names,
      (std::vector<std::string>{
          "scale_30_warm_up", "scale_30_ping", "scale_30_get_contact", "scale_30_search_contacts",
          "scale_30_list_timeline", "scale_30_customer_360", "scale_30_search_contacts_by_name",
          "scale_60_warm_up", "scale_60_ping", "scale_60_get_contact", "scale_60_search_contacts",
          "scale_60_list_timeline", "scale_60_customer_360", "scale_60_search_contacts_by_name"}));
  // The reads went to a fixed working set of 20 contacts at both sizes, each of which the
  // warm-up read once by each of the five reads first.
  EXPECT_EQ(scale_report["scale_hot_contacts"], 20);
  EXPECT_EQ(scale_report["scale_warm_up_limit_s"], 60.0);
  EXPECT_EQ(scale_report["scenarios"][0]["calls"], 5 * 20);
  EXPECT_EQ(scale_report["scenarios"][7]["calls"], 5 * 20);
  ASSERT_EQ(scale_report["scale"].size(), 2u);
  for (const auto& m : scale_report["scale"]) {
    const int64_t contacts = m["contacts"].get<int64_t>();
    EXPECT_EQ(m["interactions"].get<int64_t>(), 3 * contacts);
    EXPECT_EQ(m["orders"].get<int64_t>(), contacts);
    EXPECT_EQ(m["events"].get<int64_t>(), 5 * contacts);
    // The reads waited for the node to be idle after its catch-up: a second at least.
    EXPECT_GE(m["settle_seconds"].get<double>(), 1.0);
    EXPECT_GT(m["rss_bytes"].get<int64_t>(), 0);
    EXPECT_GE(m["peak_rss_bytes"].get<int64_t>(), m["rss_bytes"].get<int64_t>());
    EXPECT_GT(m["disk_bytes_per_record"].get<double>(), 0);
    for (const char* part : {"log", "contact", "interaction", "sales", "analytics"}) {
      EXPECT_GT(m["disk_bytes"][part].get<int64_t>(), 0) << part;
    }
    // Read from the node's metrics: a few records are all in the memtables.
    for (const char* part : {"contact", "interaction", "sales", "analytics"}) {
      EXPECT_EQ(m["sorted_runs"][part].get<int64_t>(), 0) << part;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("scale") + "/contacts-30"));
  // A working set of no contacts is refused by name.
  CommandResult no_hot =
      RunCommand(BinaryPath("crm-bench"), {"--scenario", "scale", "--scale-hot-contacts", "0"});
  EXPECT_NE(no_hot.exit_code, 0);
  EXPECT_THAT(no_hot.err, ::testing::HasSubstr("--scale-hot-contacts"));
  CommandResult no_warm_up =
      RunCommand(BinaryPath("crm-bench"), {"--scenario", "scale", "--scale-warm-up", "0"});
  EXPECT_NE(no_warm_up.exit_code, 0);
  EXPECT_THAT(no_warm_up.err, ::testing::HasSubstr("--scale-warm-up"));
  // Loopback only.
  EXPECT_EQ(RunCommand(BinaryPath("crm-bench"), {"--target", "10.0.0.1:7070"}).exit_code, 2);
  CommandResult remote_metrics = RunCommand(
      BinaryPath("crm-bench"),
      {"--target", node.addr, "--scenario", "ping", "--server-metrics", "10.0.0.1:9464"});
  EXPECT_EQ(remote_metrics.exit_code, 2);
  EXPECT_NE(remote_metrics.err.find("--server-metrics 10.0.0.1:9464"), std::string::npos)
      << remote_metrics.err;
  // A metrics address where no Prometheus endpoint answers (the gRPC port) is refused by name
  // before anything runs, rather than leaving the block counts out of the report.
  CommandResult no_metrics = RunCommand(
      BinaryPath("crm-bench"), {"--target", node.addr, "--scenario", "ping", "--duration", "0.1",
                                "--server-metrics", node.addr, "--json", dir.Sub("none.json")});
  EXPECT_EQ(no_metrics.exit_code, 2);
  EXPECT_NE(no_metrics.err.find("--server-metrics " + node.addr + ": no Prometheus endpoint"),
            std::string::npos)
      << no_metrics.err;
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("none.json")));
}

// The services run separately on the dev broker, as the second kind of deployment: each
// call goes to its own service, and the CPU of all four processes is reported together.
TEST(BenchSmoke, SeparateServicesOnTheDevBroker) {
  TempDir dir;
  const DevBroker broker = StartDevBroker(dir.path());
  ASSERT_FALSE(broker.brokers.empty());
  auto args = [&](const std::string& data, std::vector<std::string> extra = {}) {
    extra.insert(extra.end(), {"--metrics-listen", "127.0.0.1:0"});
    return KafkaServiceArgs(dir.Sub(data), broker.brokers, std::move(extra));
  };
  Server contact = StartServer("crm-contact", args("c"), dir.path());
  ASSERT_FALSE(contact.addr.empty());
  Server interaction = StartServer("crm-interaction", args("i"), dir.path());
  Server sales = StartServer("crm-sales", args("s"), dir.path());
  Server analytics =
      StartServer("crm-analytics", args("a", {"--contact-address", contact.addr}), dir.path());
  ASSERT_FALSE(interaction.addr.empty());
  ASSERT_FALSE(sales.addr.empty());
  ASSERT_FALSE(analytics.addr.empty());
  std::string pids;
  std::string metrics;
  for (const Server* s : {&contact, &interaction, &sales, &analytics}) {
    pids += (pids.empty() ? "" : ",") + std::to_string(s->process->pid());
    const std::string line = s->process->ReadLine();
    ASSERT_EQ(line.rfind("metrics on ", 0), 0u) << line;
    metrics += (metrics.empty() ? "" : ",") + line.substr(std::string("metrics on ").size());
  }
  const std::string report_path = dir.Sub("bench.json");
  CommandResult r = RunCommand(BinaryPath("crm-bench"), {"--target",         contact.addr,
                                                         "--interaction",    interaction.addr,
                                                         "--sales",          sales.addr,
                                                         "--analytics",      analytics.addr,
                                                         "--server-pid",     pids,
                                                         "--server-metrics", metrics,
                                                         "--scenario",       "ping,write,read,lag",
                                                         "--duration",       "0.5",
                                                         "--concurrency",    "4",
                                                         "--preload",        "10",
                                                         "--interactions",   "2",
                                                         "--json",           report_path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(report_path);
  const nlohmann::json report = nlohmann::json::parse(in);
  EXPECT_EQ(report["deployment"], "separate services");
  EXPECT_EQ(report["targets"]["interaction"], interaction.addr);
  EXPECT_EQ(report["targets"]["analytics"], analytics.addr);
  EXPECT_EQ(report["server_pids"].size(), 4u);
  std::vector<std::string> names;
  for (const auto& s : report["scenarios"]) {
    names.push_back(s["name"]);
    EXPECT_GT(s["calls"].get<int64_t>(), 0) << s["name"];
    EXPECT_EQ(s["errors"].get<int64_t>(), 0) << s["name"];
    EXPECT_GT(s["server_cpu_us_per_call"].get<double>(), 0) << s["name"];
    // The four services' block counts together: measured for every scenario.
    EXPECT_GE(s["server_block_reads_per_call"].get<double>(), 0) << s["name"];
    EXPECT_GE(s["server_block_cache_hits_per_call"].get<double>(), 0) << s["name"];
  }
  EXPECT_EQ(names, (std::vector<std::string>{"ping", "write_contact", "write_interaction",
                                             "write_order", "get_contact", "search_contacts",
                                             "list_timeline", "customer_360", "analytics_lag"}));
  // A service's address off loopback is refused by its flag's name.
  CommandResult remote =
      RunCommand(BinaryPath("crm-bench"), {"--target", contact.addr, "--sales", "10.0.0.1:7070"});
  EXPECT_EQ(remote.exit_code, 2);
  EXPECT_THAT(remote.err, ::testing::HasSubstr("--sales 10.0.0.1:7070"));
}

}  // namespace
}  // namespace crm::testing
