// Request checks of crm.analytics.v1.WebhookService: INVALID_ARGUMENT naming the field and what
// is wrong; a valid request writes nothing until it reaches the service.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/validation/request_fields.h"
#include "crm/analytics/v1/webhook_service.pb.h"

namespace crm::analytics {

using ValidWebhookPage = validation::ValidPage;

// `allow_http`: whether a plain http:// URL is accepted (--webhook-allow-http).
absl::Status ValidateCreateWebhook(const crm::analytics::v1::CreateWebhookRequest& request,
                                   bool allow_http);
absl::Status ValidateGetWebhook(const crm::analytics::v1::GetWebhookRequest& request);
absl::StatusOr<ValidWebhookPage> ValidateListWebhooks(
    const crm::analytics::v1::ListWebhooksRequest& request);
absl::Status ValidateDeleteWebhook(const crm::analytics::v1::DeleteWebhookRequest& request);
absl::StatusOr<ValidWebhookPage> ValidateListWebhookDeliveries(
    const crm::analytics::v1::ListWebhookDeliveriesRequest& request);
absl::Status ValidateReplayWebhookDelivery(
    const crm::analytics::v1::ReplayWebhookDeliveryRequest& request);

}  // namespace crm::analytics
