// WebhookProjection: the webhooks of every tenant and their deliveries, the part of the analytics
// projection that the webhook dispatcher and WebhookService read. Built only from the webhook
// events on crm.analytics.v1 (aggregate type "webhook": created, deleted, each delivery attempt,
// each replay asked for, each move of a read position), so a rebuild gives back every webhook
// with what it has been sent and where its deliveries stand.
//
// Keys (tenant-prefixed, beside the analytics projection's own):
//   kState "v/" tenant \0 webhook_id                  -> WebhookRecord
//   kState "d/" tenant \0 webhook_id \0 delivery_id   -> WebhookDeliveryRecord
//   kIndex "y/" tenant \0 webhook_id \0 delivery_id   -> "" (a replay is asked for)
//
// Apply runs on the projector thread; the reads are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/store/projection_store.h"
#include "crm/analytics/v1/projection.pb.h"
#include "crm/common/v1/envelope.pb.h"

namespace crm::analytics::webhooks {

inline constexpr char kWebhookAggregateType[] = "webhook";

// True for the event types this projection applies ("crm.analytics.v1.Webhook...").
bool IsWebhookEvent(std::string_view event_type);

class WebhookProjection {
 public:
  explicit WebhookProjection(store::ProjectionStore* store) : store_(store) {}

  // Applies one webhook event. The decision: OK, or ABORTED when the event expects another
  // version of the webhook, NOT_FOUND when it is gone (then nothing is written).
  absl::StatusOr<absl::Status> Apply(const crm::common::v1::EventEnvelope& event,
                                     store::ProjectionStore::Batch& batch);

  absl::StatusOr<std::optional<crm::analytics::v1::WebhookRecord>> GetWebhook(
      std::string_view tenant, std::string_view id) const;
  // The tenant's webhooks after id `after`, at most `limit`, in id order.
  absl::StatusOr<std::vector<crm::analytics::v1::WebhookRecord>> ListWebhooks(
      std::string_view tenant, std::string_view after, size_t limit) const;
  // Every webhook of every tenant, as (tenant, record): what the dispatcher works through.
  absl::StatusOr<std::vector<std::pair<std::string, crm::analytics::v1::WebhookRecord>>>
  AllWebhooks() const;

  absl::StatusOr<std::optional<crm::analytics::v1::WebhookDeliveryRecord>> GetDelivery(
      std::string_view tenant, std::string_view webhook_id, std::string_view delivery_id) const;
  // The webhook's deliveries after id `after` in `state` (every state when UNSPECIFIED), at most
  // `limit`, in delivery id order; reads at most `max_scanned` records, so a rare state does not
  // scan without end: `scanned_to` is the last id read (resume after it).
  struct DeliveryPage {
    std::vector<crm::analytics::v1::WebhookDelivery> deliveries;
    std::string scanned_to;
    bool at_end = false;
  };
  absl::StatusOr<DeliveryPage> ListDeliveries(std::string_view tenant, std::string_view webhook_id,
                                              crm::analytics::v1::WebhookDeliveryState state,
                                              std::string_view after, size_t limit,
                                              size_t max_scanned) const;
  // The deliveries of the webhook whose replay is asked for, at most `limit`.
  absl::StatusOr<std::vector<crm::analytics::v1::WebhookDeliveryRecord>> Replays(
      std::string_view tenant, std::string_view webhook_id, size_t limit) const;

 private:
  store::ProjectionStore* const store_;
};

}  // namespace crm::analytics::webhooks
