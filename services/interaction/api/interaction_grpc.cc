#include "services/interaction/api/interaction_grpc.h"

#include "common/grpc/status.h"
#include "services/interaction/api/validation.h"

namespace crm::interaction {

using grpcutil::ToGrpcStatus;
namespace v1 = crm::interaction::v1;

namespace {

constexpr absl::Duration kMaxWait = absl::Seconds(30);

Done<Interaction> Finisher(grpc::ServerUnaryReactor* reactor, Interaction* response) {
  return [reactor, response](absl::StatusOr<Interaction> result) {
    if (result.ok()) *response = std::move(*result);
    reactor->Finish(ToGrpcStatus(result.status()));
  };
}

grpc::ServerUnaryReactor* Refuse(grpc::ServerUnaryReactor* reactor, const absl::Status& s) {
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

}  // namespace

CallContext InteractionGrpc::Context(grpc::CallbackServerContext* context) const {
  CallContext ctx;
  ctx.tenant = tenant_;
  ctx.deadline = std::min(absl::FromChrono(context->deadline()), absl::Now() + kMaxWait);
  return ctx;
}

grpc::ServerUnaryReactor* InteractionGrpc::LogInteraction(grpc::CallbackServerContext* context,
                                                          const v1::LogInteractionRequest* request,
                                                          Interaction* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Interaction> valid = ValidateLog(*request, absl::Now());
  if (!valid.ok()) return Refuse(reactor, valid.status());
  service_->Log(Context(context), *valid, request->request_id(), Finisher(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::GetInteraction(grpc::CallbackServerContext* context,
                                                          const v1::GetInteractionRequest* request,
                                                          Interaction* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGet(*request); !s.ok()) return Refuse(reactor, s);
  Finisher(reactor, response)(service_->Get(Context(context), request->id()));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::UpdateInteraction(
    grpc::CallbackServerContext* context, const v1::UpdateInteractionRequest* request,
    Interaction* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidUpdate> valid = ValidateUpdate(*request, absl::Now());
  if (!valid.ok()) return Refuse(reactor, valid.status());
  service_->Update(Context(context), valid->values, valid->mask, request->expected_version(),
                   request->request_id(), Finisher(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::DeleteInteraction(
    grpc::CallbackServerContext* context, const v1::DeleteInteractionRequest* request,
    Interaction* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateDelete(*request); !s.ok()) return Refuse(reactor, s);
  service_->Delete(Context(context), request->id(), request->expected_version(),
                   request->request_id(), Finisher(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::ListTimeline(grpc::CallbackServerContext* context,
                                                        const v1::ListTimelineRequest* request,
                                                        v1::ListTimelineResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidTimeline> valid = ValidateTimeline(*request);
  if (!valid.ok()) return Refuse(reactor, valid.status());
  absl::StatusOr<TimelinePage> page =
      service_->Timeline(Context(context), request->contact_id(), request->company_id(),
                         valid->filter, valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& item : page->items) *response->add_items() = std::move(item);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(TimelinePageToken(*request, page->resume_after));
    }
  }
  return Refuse(reactor, page.status());
}

}  // namespace crm::interaction
