#include "services/interaction/api/interaction_grpc.h"

#include "common/grpc/export_stream.h"
#include "common/grpc/feed_stream.h"
#include "common/grpc/reactor.h"
#include "common/grpc/status.h"
#include "common/grpc/wire.h"
#include "services/interaction/api/validation.h"

namespace crm::interaction {

using grpcutil::FinishNow;
using grpcutil::FinishWith;
using grpcutil::ToGrpcStatus;
namespace {

constexpr absl::Duration kMaxWait = absl::Seconds(30);

}  // namespace

CallContext InteractionGrpc::Context(grpc::CallbackServerContext* context) const {
  return grpcutil::MakeCallContext(context, tenant_, kMaxWait);
}

grpc::ServerUnaryReactor* InteractionGrpc::LogInteraction(grpc::CallbackServerContext* context,
                                                          const v1::LogInteractionRequest* request,
                                                          Interaction* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Interaction> valid = ValidateLog(*request, absl::Now());
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->Log(Context(context), *valid, request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::GetInteraction(grpc::CallbackServerContext* context,
                                                          const v1::GetInteractionRequest* request,
                                                          Interaction* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGet(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(service_->Get(Context(context), request->id()));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::UpdateInteraction(
    grpc::CallbackServerContext* context, const v1::UpdateInteractionRequest* request,
    Interaction* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidUpdate> valid = ValidateUpdate(*request, absl::Now());
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->Update(Context(context), valid->values, valid->mask, request->expected_version(),
                   request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::DeleteInteraction(
    grpc::CallbackServerContext* context, const v1::DeleteInteractionRequest* request,
    Interaction* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateDelete(*request); !s.ok()) return FinishNow(reactor, s);
  service_->Delete(Context(context), request->id(), request->expected_version(),
                   request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::ListTimeline(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* raw_request,
                                                        grpc::ByteBuffer* raw_response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  v1::ListTimelineRequest request;
  if (absl::Status s = grpcutil::ParseRequest(*raw_request, request); !s.ok()) {
    return FinishNow(reactor, s);
  }
  absl::StatusOr<ValidTimeline> valid = ValidateTimeline(request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<TimelinePage> page =
      service_->Timeline(Context(context), request.contact_id(), request.company_id(),
                         valid->filter, valid->resume_after, valid->page_size);
  if (page.ok()) {
    // ListTimelineResponse: repeated TimelineItem items = 1; string next_page_token = 2.
    grpcutil::WireWriter out;
    for (const std::string& item : page->items) out.Add(1, item);
    if (!page->resume_after.empty()) {
      out.Add(2, TimelinePageToken(request, page->resume_after));
    }
    *raw_response = std::move(out).Finish();
  }
  return FinishNow(reactor, page.status());
}

// --- Tasks ------------------------------------------------------------------------------------

grpc::ServerUnaryReactor* InteractionGrpc::CreateTask(grpc::CallbackServerContext* context,
                                                      const v1::CreateTaskRequest* request,
                                                      Task* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Task> valid = ValidateCreateTask(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->CreateTask(Context(context), *valid, request->request_id(),
                       FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::GetTask(grpc::CallbackServerContext* context,
                                                   const v1::GetTaskRequest* request,
                                                   Task* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetTask(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(service_->GetTask(Context(context), request->id()));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::CompleteTask(grpc::CallbackServerContext* context,
                                                        const v1::CompleteTaskRequest* request,
                                                        Task* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s =
          ValidateTaskChange(request->id(), request->expected_version(), request->request_id());
      !s.ok()) {
    return FinishNow(reactor, s);
  }
  service_->CompleteTask(Context(context), request->id(), request->expected_version(),
                         request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::RescheduleTask(grpc::CallbackServerContext* context,
                                                          const v1::RescheduleTaskRequest* request,
                                                          Task* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<TaskRescheduled> valid = ValidateReschedule(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->RescheduleTask(Context(context), request->id(), *valid, request->expected_version(),
                           request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::CancelTask(grpc::CallbackServerContext* context,
                                                      const v1::CancelTaskRequest* request,
                                                      Task* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s =
          ValidateTaskChange(request->id(), request->expected_version(), request->request_id());
      !s.ok()) {
    return FinishNow(reactor, s);
  }
  service_->CancelTask(Context(context), request->id(), request->expected_version(),
                       request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::ListTasks(grpc::CallbackServerContext* context,
                                                     const v1::ListTasksRequest* request,
                                                     v1::ListTasksResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidTaskList> valid = ValidateListTasks(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<TaskPage> page =
      service_->ListTasks(Context(context), request->assignee(), valid->from_nanos, valid->to_nanos,
                          valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& t : page->tasks) *response->add_tasks() = std::move(t);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(TasksPageToken(*request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

// --- Cases ------------------------------------------------------------------------------------

grpc::ServerUnaryReactor* InteractionGrpc::OpenCase(grpc::CallbackServerContext* context,
                                                    const v1::OpenCaseRequest* request,
                                                    Case* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Case> valid = ValidateOpenCase(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->OpenCase(Context(context), *valid, request->request_id(),
                     FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::GetCase(grpc::CallbackServerContext* context,
                                                   const v1::GetCaseRequest* request,
                                                   Case* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetCase(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(service_->GetCase(Context(context), request->id()));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::AssignCase(grpc::CallbackServerContext* context,
                                                      const v1::AssignCaseRequest* request,
                                                      Case* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateAssignCase(*request); !s.ok()) return FinishNow(reactor, s);
  service_->AssignCase(Context(context), request->id(), request->owner(),
                       request->expected_version(), request->request_id(),
                       FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::CommentOnCase(grpc::CallbackServerContext* context,
                                                         const v1::CommentOnCaseRequest* request,
                                                         Case* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateCommentOnCase(*request); !s.ok()) return FinishNow(reactor, s);
  service_->CommentOnCase(Context(context), request->id(), request->comment(),
                          request->expected_version(), request->request_id(),
                          FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::ChangeCasePriority(
    grpc::CallbackServerContext* context, const v1::ChangeCasePriorityRequest* request,
    Case* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateChangeCasePriority(*request); !s.ok()) return FinishNow(reactor, s);
  service_->ChangeCasePriority(Context(context), request->id(), request->priority(),
                               request->expected_version(), request->request_id(),
                               FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::ChangeCaseStatus(
    grpc::CallbackServerContext* context, const v1::ChangeCaseStatusRequest* request,
    Case* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateChangeCaseStatus(*request); !s.ok()) return FinishNow(reactor, s);
  service_->ChangeCaseStatus(Context(context), request->id(), request->status(),
                             request->expected_version(), request->request_id(),
                             FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* InteractionGrpc::ListCases(grpc::CallbackServerContext* context,
                                                     const v1::ListCasesRequest* request,
                                                     v1::ListCasesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidCaseList> valid = ValidateListCases(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<CasePage> page =
      service_->ListCases(Context(context), valid->filter, valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& c : page->cases) *response->add_cases() = std::move(c);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(CasesPageToken(*request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* InteractionGrpc::ExportContactData(
    grpc::CallbackServerContext* context,
    const crm::interaction::v1::ExportContactDataRequest* request,
    crm::interaction::v1::ExportContactDataResponse* response) {
  return grpcutil::AnswerExport(context, Context(context), *service_, *request, response);
}

grpc::ServerWriteReactor<crm::interaction::v1::ExportRecordsResponse>*
InteractionGrpc::ExportRecords(grpc::CallbackServerContext* context,
                               const crm::interaction::v1::ExportRecordsRequest*) {
  return grpcutil::ServeExport<crm::interaction::v1::ExportRecordsResponse>(
      service_->ExportSources(Context(context)));
}

grpc::ServerWriteReactor<crm::interaction::v1::SubscribeResponse>* InteractionGrpc::Subscribe(
    grpc::CallbackServerContext* context, const crm::interaction::v1::SubscribeRequest* request) {
  return grpcutil::ServeFeed<crm::interaction::v1::SubscribeResponse>(
      context, *request, service_->projector()->log(), kTopic, tenant_, nullptr);
}

}  // namespace crm::interaction
