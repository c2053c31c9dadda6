// The Prometheus endpoint (--metrics-listen) of the real node, scraped over HTTP with libcurl:
// every call counted and timed by method and code, appends timed, projections' lag, events and
// store sizes, process metrics; a bad address refused at start.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

// The body of GET `url`, or nullopt.
std::optional<std::string> HttpGet(const std::string& url) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return std::nullopt;
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) {
        static_cast<std::string*>(out)->append(data, size * n);
        return size * n;
      });
  const CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK || status != 200) return std::nullopt;
  return body;
}

// The value of the sample of `name` whose labels include every one of `labels`, or nullopt.
std::optional<double> Sample(const std::string& text, const std::string& name,
                             const std::map<std::string, std::string>& labels = {}) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, name) || line.size() <= name.size()) continue;
    const char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    bool all = true;
    for (const auto& [k, v] : labels) {
      all = all && absl::StrContains(line, k + "=\"" + v + "\"");
    }
    if (!all) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) return value;
  }
  return std::nullopt;
}

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
    EXPECT_TRUE(
        Sample(*text, "crm_store_estimated_keys", {{"projection", p}, {"cf", "state"}}).has_value())
        << p;
  }
  EXPECT_GT(Sample(*text, "crm_store_memtable_bytes", {{"projection", "contact"}, {"cf", "state"}})
                .value_or(0),
            0);
  EXPECT_GT(Sample(*text, "process_resident_memory_bytes").value_or(0), 1 << 20);
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
            1);
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
