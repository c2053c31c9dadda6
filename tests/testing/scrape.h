// Reading a Prometheus endpoint (a server's --metrics-listen) from tests and crm-bench:
//
//   std::optional<std::string> text = HttpGet("http://127.0.0.1:9464/metrics");
//   std::optional<double> ok = Sample(*text, "grpc_server_handled_total", {{"grpc_code", "OK"}});
#pragma once

#include <map>
#include <optional>
#include <string>

namespace crm::testing {

// The body of GET `url` (libcurl, 10 s timeout), or nullopt unless it answered 200.
std::optional<std::string> HttpGet(const std::string& url);

// The value of the first sample of metric `name` in the text exposition `text` whose labels
// include every one of `labels`, or nullopt.
std::optional<double> Sample(const std::string& text, const std::string& name,
                             const std::map<std::string, std::string>& labels = {});

}  // namespace crm::testing
