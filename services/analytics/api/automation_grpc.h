// AutomationGrpc: crm.analytics.v1.AutomationService over gRPC's callback API, served by the
// analytics service's process (automation/automation.h does the work).
#pragma once

#include <string>

#include "crm/analytics/v1/automation_service.grpc.pb.h"
#include "services/analytics/automation/automation.h"

namespace crm::analytics {

class AutomationGrpc final : public crm::analytics::v1::AutomationService::CallbackService {
 public:
  // `log` is the log the outbound messages are read from.
  AutomationGrpc(automation::Automation* automation, eventlog::EventLog* log, std::string tenant)
      : automation_(automation), log_(log), tenant_(std::move(tenant)) {}

  grpc::ServerUnaryReactor* CreateRule(grpc::CallbackServerContext* context,
                                       const crm::analytics::v1::CreateRuleRequest* request,
                                       crm::analytics::v1::Rule* response) override;
  grpc::ServerUnaryReactor* GetRule(grpc::CallbackServerContext* context,
                                    const crm::analytics::v1::GetRuleRequest* request,
                                    crm::analytics::v1::Rule* response) override;
  grpc::ServerUnaryReactor* UpdateRule(grpc::CallbackServerContext* context,
                                       const crm::analytics::v1::UpdateRuleRequest* request,
                                       crm::analytics::v1::Rule* response) override;
  grpc::ServerUnaryReactor* EnableRule(grpc::CallbackServerContext* context,
                                       const crm::analytics::v1::EnableRuleRequest* request,
                                       crm::analytics::v1::Rule* response) override;
  grpc::ServerUnaryReactor* DisableRule(grpc::CallbackServerContext* context,
                                        const crm::analytics::v1::DisableRuleRequest* request,
                                        crm::analytics::v1::Rule* response) override;
  grpc::ServerUnaryReactor* ListRules(grpc::CallbackServerContext* context,
                                      const crm::analytics::v1::ListRulesRequest* request,
                                      crm::analytics::v1::ListRulesResponse* response) override;
  grpc::ServerUnaryReactor* TestRule(grpc::CallbackServerContext* context,
                                     const crm::analytics::v1::TestRuleRequest* request,
                                     crm::analytics::v1::TestRuleResponse* response) override;
  grpc::ServerUnaryReactor* ListRuleRuns(
      grpc::CallbackServerContext* context, const crm::analytics::v1::ListRuleRunsRequest* request,
      crm::analytics::v1::ListRuleRunsResponse* response) override;
  grpc::ServerUnaryReactor* GetMessagingPolicy(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::GetMessagingPolicyRequest* request,
      crm::analytics::v1::MessagingPolicy* response) override;
  grpc::ServerUnaryReactor* UpdateMessagingPolicy(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::UpdateMessagingPolicyRequest* request,
      crm::analytics::v1::MessagingPolicy* response) override;
  grpc::ServerUnaryReactor* GetMessage(grpc::CallbackServerContext* context,
                                       const crm::analytics::v1::GetMessageRequest* request,
                                       crm::analytics::v1::Message* response) override;
  grpc::ServerUnaryReactor* ListMessages(
      grpc::CallbackServerContext* context, const crm::analytics::v1::ListMessagesRequest* request,
      crm::analytics::v1::ListMessagesResponse* response) override;
  grpc::ServerUnaryReactor* ReportMessageStatus(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::ReportMessageStatusRequest* request,
      crm::analytics::v1::Message* response) override;
  grpc::ServerUnaryReactor* LaunchCampaign(grpc::CallbackServerContext* context,
                                           const crm::analytics::v1::LaunchCampaignRequest* request,
                                           crm::analytics::v1::Campaign* response) override;
  grpc::ServerUnaryReactor* GetCampaign(grpc::CallbackServerContext* context,
                                        const crm::analytics::v1::GetCampaignRequest* request,
                                        crm::analytics::v1::Campaign* response) override;
  grpc::ServerUnaryReactor* ListCampaigns(
      grpc::CallbackServerContext* context, const crm::analytics::v1::ListCampaignsRequest* request,
      crm::analytics::v1::ListCampaignsResponse* response) override;
  grpc::ServerWriteReactor<crm::analytics::v1::StreamOutboundMessagesResponse>*
  StreamOutboundMessages(grpc::CallbackServerContext* context,
                         const crm::analytics::v1::StreamOutboundMessagesRequest* request) override;

 private:
  projection::CallContext Context(grpc::CallbackServerContext* context) const;

  automation::Automation* const automation_;
  eventlog::EventLog* const log_;
  const std::string tenant_;
};

}  // namespace crm::analytics
