// WebhookSender: how a delivery reaches a partner's endpoint. CurlSender is the implementation
// (libcurl): one HTTPS or HTTP POST per call, no redirects followed (a receiver must answer at
// its registered URL), bounded by a timeout.
//
// Thread-safe: each call uses its own handle.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "services/analytics/webhooks/delivery.h"

namespace crm::analytics::webhooks {

struct SendResult {
  // The HTTP status; 0 when no answer came.
  int http_status = 0;
  // Why no answer came (connection refused, timeout, TLS), or empty.
  std::string error;
  absl::Duration took;

  bool ok() const { return http_status >= 200 && http_status < 300; }
};

class WebhookSender {
 public:
  virtual ~WebhookSender() = default;
  // POSTs `body` with `headers` to `url`, waiting at most `timeout` for the whole exchange.
  virtual SendResult Post(const std::string& url, const Headers& headers, const std::string& body,
                          absl::Duration timeout) = 0;
};

class CurlSender final : public WebhookSender {
 public:
  // Calls curl_global_init once per process.
  CurlSender();
  SendResult Post(const std::string& url, const Headers& headers, const std::string& body,
                  absl::Duration timeout) override;
};

}  // namespace crm::analytics::webhooks
