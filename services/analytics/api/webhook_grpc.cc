#include "services/analytics/api/webhook_grpc.h"

#include "common/grpc/reactor.h"
#include "common/validation/request_fields.h"
#include "services/analytics/api/webhook_validation.h"

namespace crm::analytics {

using grpcutil::FinishNow;
using grpcutil::FinishWith;

namespace {
constexpr absl::Duration kMaxWait = absl::Seconds(60);

template <typename Request>
std::string PageToken(char kind, const Request& request, const std::string& resume_after) {
  return validation::MakePageToken(kind, validation::PagingIdentity(request), resume_after);
}
}  // namespace

projection::CallContext WebhookGrpc::Context(grpc::CallbackServerContext* context) const {
  return grpcutil::MakeCallContext(context, tenant_, kMaxWait);
}

grpc::ServerUnaryReactor* WebhookGrpc::CreateWebhook(grpc::CallbackServerContext* context,
                                                     const v1::CreateWebhookRequest* request,
                                                     v1::Webhook* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateCreateWebhook(*request, allow_http_); !s.ok()) {
    return FinishNow(reactor, s);
  }
  webhooks_->Create(Context(context), request->webhook(), request->request_id(),
                    FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* WebhookGrpc::GetWebhook(grpc::CallbackServerContext* context,
                                                  const v1::GetWebhookRequest* request,
                                                  v1::Webhook* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetWebhook(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(webhooks_->Get(Context(context), request->id()));
  return reactor;
}

grpc::ServerUnaryReactor* WebhookGrpc::ListWebhooks(grpc::CallbackServerContext* context,
                                                    const v1::ListWebhooksRequest* request,
                                                    v1::ListWebhooksResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidWebhookPage> valid = ValidateListWebhooks(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<webhooks::Webhooks::WebhookPage> page =
      webhooks_->List(Context(context), valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& w : page->webhooks) *response->add_webhooks() = std::move(w);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(PageToken('W', *request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* WebhookGrpc::DeleteWebhook(grpc::CallbackServerContext* context,
                                                     const v1::DeleteWebhookRequest* request,
                                                     google::protobuf::Empty* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateDeleteWebhook(*request); !s.ok()) return FinishNow(reactor, s);
  webhooks_->Delete(Context(context), request->id(), request->expected_version(),
                    request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* WebhookGrpc::ListWebhookDeliveries(
    grpc::CallbackServerContext* context, const v1::ListWebhookDeliveriesRequest* request,
    v1::ListWebhookDeliveriesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidWebhookPage> valid = ValidateListWebhookDeliveries(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<webhooks::Webhooks::DeliveryPage> page =
      webhooks_->ListDeliveries(Context(context), request->webhook_id(), request->state(),
                                valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& d : page->deliveries) *response->add_deliveries() = std::move(d);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(PageToken('D', *request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* WebhookGrpc::ReplayWebhookDelivery(
    grpc::CallbackServerContext* context, const v1::ReplayWebhookDeliveryRequest* request,
    v1::WebhookDelivery* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateReplayWebhookDelivery(*request); !s.ok()) {
    return FinishNow(reactor, s);
  }
  webhooks_->Replay(Context(context), request->webhook_id(), request->delivery_id(),
                    request->request_id(), FinishWith(reactor, response));
  return reactor;
}

}  // namespace crm::analytics
