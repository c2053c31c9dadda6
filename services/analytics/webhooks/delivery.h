// What a webhook delivery is made of: the body, the signature, the headers, and when a failed
// one is tried again. Pure functions; the dispatcher (dispatcher.h) sends what they make.
//
//   std::string body = DeliveryBody(webhook_id, event);       // event without sealed data
//   auto headers = DeliveryHeaders(webhook_id, event.event_id(), attempt, secret, body, now);
//
// The format a receiver checks is documented on crm.analytics.v1.Webhook.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/common/v1/envelope.pb.h"

namespace crm::analytics::webhooks {

// "v1=" and the lowercase hex HMAC-SHA256 of "<timestamp>.<body>" keyed with `secret`.
std::string Signature(std::string_view secret, int64_t timestamp, std::string_view body);

// `event` as a webhook shows it: every crm.common.v1.SealedData field (a person's sealed
// personal data) removed, at any depth of the payload. INVALID_ARGUMENT if the payload's type is
// unknown to this build.
absl::StatusOr<crm::common::v1::EventEnvelope> WithoutSealedData(
    crm::common::v1::EventEnvelope event);

// The JSON body: {"webhookId": ..., "deliveryId": <event id>, "event": <envelope JSON>}, the
// event without sealed data.
absl::StatusOr<std::string> DeliveryBody(const std::string& webhook_id,
                                         const crm::common::v1::EventEnvelope& event);

using Headers = std::vector<std::pair<std::string, std::string>>;
// The headers of attempt `attempt` (1-based) signed at `now`.
Headers DeliveryHeaders(const std::string& webhook_id, const std::string& delivery_id, int attempt,
                        std::string_view secret, std::string_view body, absl::Time now);

// How long to wait after failed attempt `attempt` (1-based): `base` doubled for each attempt
// before, at most `cap`, scaled by `jitter` in [0, 1) into its upper half (so waits spread
// and never collapse to nothing).
absl::Duration RetryDelay(int attempt, absl::Duration base, absl::Duration cap, double jitter);

}  // namespace crm::analytics::webhooks
