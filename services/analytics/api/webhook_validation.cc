#include "services/analytics/api/webhook_validation.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/validation/request_fields.h"
#include "services/analytics/webhooks/webhook_projection.h"
#include "services/analytics/webhooks/webhooks.h"

namespace crm::analytics {

using validation::Invalid;

namespace {

constexpr size_t kMaxUrl = 2000;
constexpr int kMaxEventTypes = 50;
constexpr size_t kMinSecret = 24;
constexpr size_t kMaxSecret = 200;

absl::Status CheckUrl(const std::string& url, bool allow_http) {
  const std::string field = "webhook.url";
  if (url.empty()) return Invalid(field, "is required");
  if (url.size() > kMaxUrl)
    return Invalid(field, absl::StrCat("longer than ", kMaxUrl, " characters"));
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= ' ' || c >= 0x7f; })) {
    return Invalid(field, "must not contain spaces, control or non-ASCII characters");
  }
  std::string_view rest;
  if (absl::StartsWith(url, "https://")) {
    rest = std::string_view(url).substr(8);
  } else if (absl::StartsWith(url, "http://")) {
    if (!allow_http) {
      return Invalid(field,
                     "must be an https:// URL (this server takes http:// only when "
                     "started with --webhook-allow-http)");
    }
    rest = std::string_view(url).substr(7);
  } else {
    return Invalid(field, "must be an absolute https:// URL, e.g. https://partner.example/hooks");
  }
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.front() == ':') return Invalid(field, "has no host");
  if (authority.find('@') != std::string_view::npos) {
    return Invalid(field,
                   "must not carry credentials (user@host); the signature authenticates "
                   "deliveries");
  }
  if (url.find('#') != std::string::npos) return Invalid(field, "must not have a fragment (#...)");
  return absl::OkStatus();
}

absl::Status CheckEventTypes(const google::protobuf::RepeatedPtrField<std::string>& types) {
  if (types.empty()) {
    return Invalid("webhook.event_types",
                   "name at least one event type, e.g. \"crm.sales.v1.OrderPlaced\"");
  }
  if (types.size() > kMaxEventTypes) {
    return Invalid("webhook.event_types", absl::StrCat("at most ", kMaxEventTypes, " entries"));
  }
  std::set<std::string> seen;
  for (int i = 0; i < types.size(); ++i) {
    const std::string& type = types[i];
    const std::string field = absl::StrCat("webhook.event_types[", i, "]");
    const auto& topics = webhooks::WebhookTopics();
    const bool of_a_topic = std::any_of(topics.begin(), topics.end(), [&](const std::string& t) {
      return absl::StartsWith(type, t + ".");
    });
    if (type.size() > 200 || !of_a_topic ||
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type) ==
            nullptr) {
      return Invalid(field, absl::StrCat("\"", type.substr(0, 200),
                                         "\" is not an event type of crm.contact.v1, "
                                         "crm.interaction.v1, crm.sales.v1 or crm.analytics.v1"));
    }
    if (webhooks::IsWebhookEvent(type)) {
      return Invalid(field, "webhook events are not delivered to webhooks");
    }
    if (!seen.insert(type).second)
      return Invalid(field, absl::StrCat("\"", type, "\" is repeated"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCreateWebhook(const v1::CreateWebhookRequest& request, bool allow_http) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  if (!request.has_webhook()) return Invalid("webhook", "is required");
  const v1::Webhook& w = request.webhook();
  if (!w.id().empty()) return Invalid("webhook.id", "must be empty; the service assigns ids");
  if (w.version() != 0 || w.has_create_time() || w.delivered_count() != 0 ||
      w.dead_letter_count() != 0 || w.has_next_attempt_time()) {
    return Invalid("webhook.version",
                   "version, create_time, delivered_count, dead_letter_count "
                   "and next_attempt_time are output only");
  }
  RETURN_IF_ERROR(CheckUrl(w.url(), allow_http));
  RETURN_IF_ERROR(CheckEventTypes(w.event_types()));
  RETURN_IF_ERROR(validation::CheckText("webhook.description", w.description(), 200,
                                        /*required=*/false));
  const std::string& secret = w.secret();
  if (!secret.empty()) {
    if (secret.size() < kMinSecret || secret.size() > kMaxSecret) {
      return Invalid("webhook.secret", absl::StrCat("must be ", kMinSecret, " to ", kMaxSecret,
                                                    " characters (or empty: one is generated)"));
    }
    if (std::any_of(secret.begin(), secret.end(),
                    [](unsigned char c) { return c <= ' ' || c >= 0x7f; })) {
      return Invalid("webhook.secret", "must be printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateGetWebhook(const v1::GetWebhookRequest& request) {
  return validation::CheckId("id", request.id(), "webhook");
}

absl::StatusOr<ValidWebhookPage> ValidateListWebhooks(const v1::ListWebhooksRequest& request) {
  return validation::ReadPage(request, 'W', 1000, 50);
}

absl::Status ValidateDeleteWebhook(const v1::DeleteWebhookRequest& request) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request.request_id(), request.expected_version()));
  return validation::CheckId("id", request.id(), "webhook");
}

absl::StatusOr<ValidWebhookPage> ValidateListWebhookDeliveries(
    const v1::ListWebhookDeliveriesRequest& request) {
  RETURN_IF_ERROR(validation::CheckId("webhook_id", request.webhook_id(), "webhook"));
  if (!v1::WebhookDeliveryState_IsValid(request.state())) {
    return Invalid("state", absl::StrCat(request.state(), " is not a WebhookDeliveryState"));
  }
  return validation::ReadPage(request, 'D', 1000, 50);
}

absl::Status ValidateReplayWebhookDelivery(const v1::ReplayWebhookDeliveryRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  RETURN_IF_ERROR(validation::CheckId("webhook_id", request.webhook_id(), "webhook"));
  return validation::CheckId("delivery_id", request.delivery_id(), "delivery");
}

}  // namespace crm::analytics
