// The Prometheus endpoint (--metrics-listen) of the real node, scraped over HTTP with libcurl:
// every call counted and timed by method and code, appends timed, projections' lag, events and
// store sizes, the analytics service's kept 360s, the process's RocksDB counters and memory,
// process metrics; a bad address refused at start.
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "tests/integration/contact_client.h"
#include "tests/testing/scrape.h"

namespace crm::testing {
namespace {

TEST(Metrics, TheNodeCountsCallsAppendsProjectionsAndItself) {
  TempDir dir;
  Server node = StartServer(
      "crm-node",
      {"--listen", "127.0.0.1:0", "--data-dir", dir.Sub("data"), "--metrics-listen", "127.0.0.1:0"},
      dir.path());
  ASSERT_FALSE(node.addr.empty());
  const std::string line = node.process->ReadLine();
  ASSERT_TRUE(absl::StartsWith(line, "metrics on 127.0.0.1:")) << line;
  const std::string url = "http://" + line.substr(std::string("metrics on ").size()) + "/metrics";

  Contact ann;
  ASSERT_TRUE(CreateContact(node, "Ann", "Metric", "", &ann).ok());
  Contact bad;
  ExpectInvalid(CreateContact(node, "", "", "", &bad), "contact");
  ASSERT_TRUE(WaitCaughtUp(node, absl::Seconds(30), "contact"));
  for (int i = 0; i < 2; ++i) {  // the second from the contact store's read cache
    Contact read;
    ASSERT_TRUE(GetContact(node, ann.id(), &read).ok());
  }
  ASSERT_TRUE(WaitCaughtUp(node, absl::Seconds(30), "interaction"));
  for (int i = 0; i < 2; ++i) {  // the second from the interaction store's scan cache
    crm::interaction::v1::ListTimelineRequest timeline;
    timeline.set_contact_id(ann.id());
    crm::interaction::v1::ListTimelineResponse page;
    ASSERT_TRUE(node.interactions->ListTimeline(Ctx().get(), timeline, &page).ok());
  }
  ASSERT_TRUE(WaitCaughtUp(node, absl::Seconds(30), "analytics"));
  auto analytics = crm::analytics::v1::AnalyticsService::NewStub(node.channel);
  for (int i = 0; i < 2; ++i) {  // the second from the kept 360
    crm::analytics::v1::GetCustomer360Request file_req;
    file_req.set_contact_id(ann.id());
    crm::analytics::v1::Customer360 file;
    ASSERT_TRUE(analytics->GetCustomer360(Ctx().get(), file_req, &file).ok());
  }

  const std::optional<std::string> text = HttpGet(url);
  ASSERT_TRUE(text.has_value()) << url;
  const std::map<std::string, std::string> create = {
      {"grpc_service", "crm.contact.v1.ContactService"}, {"grpc_method", "CreateContact"}};
  auto with = [](std::map<std::string, std::string> labels, const char* k, const char* v) {
    labels[k] = v;
    return labels;
  };
  EXPECT_EQ(Sample(*text, "grpc_server_handled_total", with(create, "grpc_code", "OK")), 1);
  EXPECT_EQ(
      Sample(*text, "grpc_server_handled_total", with(create, "grpc_code", "INVALID_ARGUMENT")), 1);
  EXPECT_EQ(Sample(*text, "grpc_server_handling_seconds_count", with(create, "grpc_code", "OK")),
            1);
  EXPECT_GT(Sample(*text, "grpc_server_handling_seconds_sum", with(create, "grpc_code", "OK"))
                .value_or(0),
            0);
  // Only the accepted create reached the log.
  EXPECT_EQ(Sample(*text, "crm_log_append_seconds_count", {{"topic", "crm.contact.v1"}}), 1);
  EXPECT_EQ(Sample(*text, "crm_log_append_errors_total", {{"topic", "crm.contact.v1"}}), 0);
  // Every projection of the node, caught up.
  for (const char* p : {"contact", "interaction", "sales", "analytics"}) {
    EXPECT_EQ(Sample(*text, "crm_projection_lag_records",
                     {{"projection", p}, {"topic", "crm.contact.v1"}}),
              0)
        << p;
    EXPECT_GE(Sample(*text, "crm_projection_events_total", {{"projection", p}}).value_or(0), 1)
        << p;
    EXPECT_EQ(Sample(*text, "crm_projection_dead_letters_total", {{"projection", p}}), 0) << p;
    // The create's wait for its projections ended with its answer.
    EXPECT_EQ(Sample(*text, "crm_projection_commands_waiting", {{"projection", p}}), 0) << p;
    EXPECT_TRUE(
        Sample(*text, "crm_store_estimated_keys", {{"projection", p}, {"cf", "state"}}).has_value())
        << p;
    EXPECT_TRUE(Sample(*text, "crm_store_read_cache_misses_total", {{"projection", p}}).has_value())
        << p;
    EXPECT_TRUE(Sample(*text, "crm_store_scan_cache_misses_total", {{"projection", p}}).has_value())
        << p;
    // A new store's few records are all in its memtables.
    EXPECT_EQ(Sample(*text, "crm_store_sorted_runs", {{"projection", p}, {"cf", "index"}}), 0) << p;
  }
  EXPECT_GE(
      Sample(*text, "crm_store_read_cache_hits_total", {{"projection", "contact"}}).value_or(0), 1);
  EXPECT_GE(
      Sample(*text, "crm_store_scan_cache_hits_total", {{"projection", "interaction"}}).value_or(0),
      1);
  EXPECT_GT(
      Sample(*text, "crm_store_cache_bytes", {{"projection", "interaction"}, {"cache", "scans"}})
          .value_or(0),
      0);
  EXPECT_GT(
      Sample(*text, "crm_store_cache_bytes", {{"projection", "contact"}, {"cache", "records"}})
          .value_or(0),
      0);
  EXPECT_EQ(Sample(*text, "crm_analytics_customer360_kept_served_total"), 1);
  EXPECT_GT(Sample(*text, "crm_analytics_customer360_kept_bytes").value_or(0), 0);
  EXPECT_GT(Sample(*text, "crm_store_memtable_bytes", {{"projection", "contact"}, {"cf", "state"}})
                .value_or(0),
            0);
  // The process's RocksDB: its budget (the 256 MiB default), the memtables charged to it, and
  // counters of its reads and background work, present from the start.
  EXPECT_EQ(Sample(*text, "crm_rocksdb_block_cache_capacity_bytes"), 256 << 20);
  EXPECT_GT(Sample(*text, "crm_rocksdb_block_cache_usage_bytes").value_or(0), 0);
  EXPECT_GT(Sample(*text, "crm_rocksdb_memtable_bytes").value_or(0), 0);
  for (const char* counter :
       {"crm_rocksdb_block_cache_hits_total", "crm_rocksdb_block_cache_misses_total",
        "crm_rocksdb_bloom_filter_useful_total", "crm_rocksdb_flush_write_bytes_total",
        "crm_rocksdb_compaction_read_bytes_total", "crm_rocksdb_compaction_write_bytes_total",
        "crm_rocksdb_write_stall_seconds_total"}) {
    EXPECT_GE(Sample(*text, counter).value_or(-1), 0) << counter;
  }
  EXPECT_GT(Sample(*text, "process_resident_memory_bytes").value_or(0), 1 << 20);
  // The node's heap is jemalloc's, which counts what it holds.
  const double allocated = Sample(*text, "crm_allocator_allocated_bytes").value_or(0);
  EXPECT_GT(allocated, 1 << 20);
  EXPECT_GE(Sample(*text, "crm_allocator_resident_bytes").value_or(0), allocated);
  EXPECT_GT(Sample(*text, "process_open_fds").value_or(0), 3);
  EXPECT_GT(Sample(*text, "process_cpu_seconds_total").value_or(0), 0);
  EXPECT_GT(Sample(*text, "process_start_time_seconds").value_or(0), 1.7e9);

  // A second scrape sees the next call.
  Contact read;
  ASSERT_TRUE(GetContact(node, ann.id(), &read).ok());
  const std::optional<std::string> again = HttpGet(url);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(Sample(*again, "grpc_server_handled_total",
                   {{"grpc_method", "GetContact"}, {"grpc_code", "OK"}}),
            3);  // the two before the first scrape, and this one
}

TEST(Metrics, ABadAddressIsRefusedAtStartByName) {
  TempDir dir;
  for (const char* listen : {"nonsense", "256.0.0.1:80"}) {
    const CommandResult r = RunCommand(
        BinaryPath("crm-node"),
        {"--listen", "127.0.0.1:0", "--data-dir", dir.Sub("data"), "--metrics-listen", listen}, {},
        absl::Seconds(20));
    EXPECT_EQ(r.exit_code, 2) << listen << ": " << r.err;
    EXPECT_NE(r.err.find("--metrics-listen"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace crm::testing
