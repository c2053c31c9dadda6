// InteractionGrpc: crm.interaction.v1.InteractionService over gRPC's callback API.
#pragma once

#include <string>

#include "crm/interaction/v1/interaction_service.grpc.pb.h"
#include "services/interaction/interaction_service.h"

namespace crm::interaction {

// ListTimeline is served raw (grpcutil::WireWriter): its items go out as stored.
class InteractionGrpc final
    : public crm::interaction::v1::InteractionService::WithRawCallbackMethod_ListTimeline<
          crm::interaction::v1::InteractionService::CallbackService> {
 public:
  InteractionGrpc(InteractionService* service, std::string tenant)
      : service_(service), tenant_(std::move(tenant)) {}

  grpc::ServerUnaryReactor* LogInteraction(
      grpc::CallbackServerContext* context,
      const crm::interaction::v1::LogInteractionRequest* request, Interaction* response) override;
  grpc::ServerUnaryReactor* GetInteraction(
      grpc::CallbackServerContext* context,
      const crm::interaction::v1::GetInteractionRequest* request, Interaction* response) override;
  grpc::ServerUnaryReactor* UpdateInteraction(
      grpc::CallbackServerContext* context,
      const crm::interaction::v1::UpdateInteractionRequest* request,
      Interaction* response) override;
  grpc::ServerUnaryReactor* DeleteInteraction(
      grpc::CallbackServerContext* context,
      const crm::interaction::v1::DeleteInteractionRequest* request,
      Interaction* response) override;
  // A crm.interaction.v1.ListTimelineRequest in, a ListTimelineResponse out, in wire form.
  grpc::ServerUnaryReactor* ListTimeline(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;

  grpc::ServerUnaryReactor* OpenCase(grpc::CallbackServerContext* context,
                                     const crm::interaction::v1::OpenCaseRequest* request,
                                     Case* response) override;
  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* context,
                                    const crm::interaction::v1::GetCaseRequest* request,
                                    Case* response) override;
  grpc::ServerUnaryReactor* AssignCase(grpc::CallbackServerContext* context,
                                       const crm::interaction::v1::AssignCaseRequest* request,
                                       Case* response) override;
  grpc::ServerUnaryReactor* CommentOnCase(grpc::CallbackServerContext* context,
                                          const crm::interaction::v1::CommentOnCaseRequest* request,
                                          Case* response) override;
  grpc::ServerUnaryReactor* ChangeCasePriority(
      grpc::CallbackServerContext* context,
      const crm::interaction::v1::ChangeCasePriorityRequest* request, Case* response) override;
  grpc::ServerUnaryReactor* ChangeCaseStatus(
      grpc::CallbackServerContext* context,
      const crm::interaction::v1::ChangeCaseStatusRequest* request, Case* response) override;
  grpc::ServerUnaryReactor* ListCases(grpc::CallbackServerContext* context,
                                      const crm::interaction::v1::ListCasesRequest* request,
                                      crm::interaction::v1::ListCasesResponse* response) override;

  grpc::ServerUnaryReactor* CreateTask(grpc::CallbackServerContext* context,
                                       const crm::interaction::v1::CreateTaskRequest* request,
                                       Task* response) override;
  grpc::ServerUnaryReactor* GetTask(grpc::CallbackServerContext* context,
                                    const crm::interaction::v1::GetTaskRequest* request,
                                    Task* response) override;
  grpc::ServerUnaryReactor* CompleteTask(grpc::CallbackServerContext* context,
                                         const crm::interaction::v1::CompleteTaskRequest* request,
                                         Task* response) override;
  grpc::ServerUnaryReactor* RescheduleTask(
      grpc::CallbackServerContext* context,
      const crm::interaction::v1::RescheduleTaskRequest* request, Task* response) override;
  grpc::ServerUnaryReactor* CancelTask(grpc::CallbackServerContext* context,
                                       const crm::interaction::v1::CancelTaskRequest* request,
                                       Task* response) override;
  grpc::ServerUnaryReactor* ListTasks(grpc::CallbackServerContext* context,
                                      const crm::interaction::v1::ListTasksRequest* request,
                                      crm::interaction::v1::ListTasksResponse* response) override;

  grpc::ServerUnaryReactor* ExportContactData(
      grpc::CallbackServerContext* context,
      const crm::interaction::v1::ExportContactDataRequest* request,
      crm::interaction::v1::ExportContactDataResponse* response) override;
  grpc::ServerWriteReactor<crm::interaction::v1::ExportRecordsResponse>* ExportRecords(
      grpc::CallbackServerContext* context,
      const crm::interaction::v1::ExportRecordsRequest* request) override;
  grpc::ServerWriteReactor<crm::interaction::v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const crm::interaction::v1::SubscribeRequest* request) override;

 private:
  CallContext Context(grpc::CallbackServerContext* context) const;

  InteractionService* const service_;
  const std::string tenant_;
};

}  // namespace crm::interaction
