// Webhooks: partners' endpoints and the delivery of the tenant's events to them — the
// application layer behind crm.analytics.v1.WebhookService. Registrations, deletions and replays
// are commands on crm.analytics.v1 (aggregate type "webhook"); the dispatcher (dispatcher.h)
// sends the deliveries and records each attempt there too, so the projection (webhook_projection.h)
// always knows what was delivered and where each webhook's deliveries stand.
//
// Lifecycle: constructed by AnalyticsService -> StartDispatcher() (optional) -> Stop().
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/eventlog/event_log.h"
#include "common/projection/call_context.h"
#include "common/projection/command_writer.h"
#include "common/projection/projector.h"
#include "crm/analytics/v1/resources.pb.h"
#include "google/protobuf/empty.pb.h"
#include "services/analytics/webhooks/dispatcher.h"
#include "services/analytics/webhooks/webhook_projection.h"

namespace crm::analytics::webhooks {

// The topics a webhook can follow: those the analytics projection reads.
const std::vector<std::string>& WebhookTopics();

class Webhooks {
 public:
  Webhooks(const WebhookProjection* projection, eventlog::EventLog* log,
           projection::Projector* projector);
  ~Webhooks();

  // Starts delivering (one replica of the analytics service should: each dispatching replica
  // sends every delivery). `sender` is how requests go out.
  void StartDispatcher(DispatchOptions options, std::unique_ptr<WebhookSender> sender);
  void Stop();

  // Registers `webhook` (url, event types, description, secret: validated by the caller); a
  // secret is generated when empty. Answers with the webhook and its secret.
  void Create(const projection::CallContext& ctx, crm::analytics::v1::Webhook webhook,
              const std::string& request_id, projection::Done<crm::analytics::v1::Webhook> done);
  // NOT_FOUND; ABORTED if the webhook changed since the expected version (the dispatcher's
  // records of its deliveries move the version on but do not count, here or for Replay: both
  // are rebasable commands, common/projection/aggregate.h).
  void Delete(const projection::CallContext& ctx, const std::string& id, int64_t expected_version,
              const std::string& request_id, projection::Done<google::protobuf::Empty> done);
  // NOT_FOUND for a webhook or delivery the tenant does not have.
  void Replay(const projection::CallContext& ctx, const std::string& webhook_id,
              const std::string& delivery_id, const std::string& request_id,
              projection::Done<crm::analytics::v1::WebhookDelivery> done);

  // The webhook without its secret; NOT_FOUND if the tenant has none of that id.
  absl::StatusOr<crm::analytics::v1::Webhook> Get(const projection::CallContext& ctx,
                                                  const std::string& id) const;
  struct WebhookPage {
    std::vector<crm::analytics::v1::Webhook> webhooks;
    std::string resume_after;  // empty at the end
  };
  absl::StatusOr<WebhookPage> List(const projection::CallContext& ctx,
                                   const std::string& resume_after, size_t page_size) const;
  struct DeliveryPage {
    std::vector<crm::analytics::v1::WebhookDelivery> deliveries;
    std::string resume_after;  // empty at the end
  };
  // NOT_FOUND for an unknown webhook.
  absl::StatusOr<DeliveryPage> ListDeliveries(const projection::CallContext& ctx,
                                              const std::string& webhook_id,
                                              crm::analytics::v1::WebhookDeliveryState state,
                                              const std::string& resume_after,
                                              size_t page_size) const;

 private:
  const WebhookProjection* const projection_;
  eventlog::EventLog* const log_;
  projection::CommandWriter writer_;
  projection::Projector* const projector_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

}  // namespace crm::analytics::webhooks
