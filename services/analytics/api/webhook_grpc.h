// WebhookGrpc: crm.analytics.v1.WebhookService over gRPC's callback API, served by the analytics
// service's process (webhooks/webhooks.h does the work).
#pragma once

#include <string>

#include "crm/analytics/v1/webhook_service.grpc.pb.h"
#include "services/analytics/webhooks/webhooks.h"

namespace crm::analytics {

class WebhookGrpc final : public crm::analytics::v1::WebhookService::CallbackService {
 public:
  // `allow_http`: accept http:// URLs (--webhook-allow-http).
  WebhookGrpc(webhooks::Webhooks* webhooks, std::string tenant, bool allow_http)
      : webhooks_(webhooks), tenant_(std::move(tenant)), allow_http_(allow_http) {}

  grpc::ServerUnaryReactor* CreateWebhook(grpc::CallbackServerContext* context,
                                          const crm::analytics::v1::CreateWebhookRequest* request,
                                          crm::analytics::v1::Webhook* response) override;
  grpc::ServerUnaryReactor* GetWebhook(grpc::CallbackServerContext* context,
                                       const crm::analytics::v1::GetWebhookRequest* request,
                                       crm::analytics::v1::Webhook* response) override;
  grpc::ServerUnaryReactor* ListWebhooks(
      grpc::CallbackServerContext* context, const crm::analytics::v1::ListWebhooksRequest* request,
      crm::analytics::v1::ListWebhooksResponse* response) override;
  grpc::ServerUnaryReactor* DeleteWebhook(grpc::CallbackServerContext* context,
                                          const crm::analytics::v1::DeleteWebhookRequest* request,
                                          google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* ListWebhookDeliveries(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::ListWebhookDeliveriesRequest* request,
      crm::analytics::v1::ListWebhookDeliveriesResponse* response) override;
  grpc::ServerUnaryReactor* ReplayWebhookDelivery(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::ReplayWebhookDeliveryRequest* request,
      crm::analytics::v1::WebhookDelivery* response) override;

 private:
  projection::CallContext Context(grpc::CallbackServerContext* context) const;

  webhooks::Webhooks* const webhooks_;
  const std::string tenant_;
  const bool allow_http_;
};

}  // namespace crm::analytics
