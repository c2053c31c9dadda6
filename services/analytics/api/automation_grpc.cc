#include "services/analytics/api/automation_grpc.h"

#include "common/grpc/feed_stream.h"
#include "common/grpc/reactor.h"
#include "common/projection/aggregate.h"
#include "common/validation/request_fields.h"
#include "services/analytics/api/automation_validation.h"

namespace crm::analytics {

using grpcutil::FinishNow;
using grpcutil::FinishWith;

namespace {
constexpr absl::Duration kMaxWait = absl::Seconds(60);
}  // namespace

projection::CallContext AutomationGrpc::Context(grpc::CallbackServerContext* context) const {
  return grpcutil::MakeCallContext(context, tenant_, kMaxWait);
}

grpc::ServerUnaryReactor* AutomationGrpc::CreateRule(grpc::CallbackServerContext* context,
                                                     const v1::CreateRuleRequest* request,
                                                     v1::Rule* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateCreateRule(*request); !s.ok()) return FinishNow(reactor, s);
  automation_->Create(Context(context), request->rule(), request->request_id(),
                      FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AutomationGrpc::GetRule(grpc::CallbackServerContext* context,
                                                  const v1::GetRuleRequest* request,
                                                  v1::Rule* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetRule(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(automation_->Get(Context(context), request->id()));
  return reactor;
}

grpc::ServerUnaryReactor* AutomationGrpc::UpdateRule(grpc::CallbackServerContext* context,
                                                     const v1::UpdateRuleRequest* request,
                                                     v1::Rule* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateUpdateRule(*request); !s.ok()) return FinishNow(reactor, s);
  automation_->Update(Context(context), request->rule(), request->update_mask(),
                      request->expected_version(), request->request_id(),
                      FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AutomationGrpc::EnableRule(grpc::CallbackServerContext* context,
                                                     const v1::EnableRuleRequest* request,
                                                     v1::Rule* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateEnableRule(*request); !s.ok()) return FinishNow(reactor, s);
  automation_->SetEnabled(Context(context), request->id(), true, request->expected_version(),
                          request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AutomationGrpc::DisableRule(grpc::CallbackServerContext* context,
                                                      const v1::DisableRuleRequest* request,
                                                      v1::Rule* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateDisableRule(*request); !s.ok()) return FinishNow(reactor, s);
  automation_->SetEnabled(Context(context), request->id(), false, request->expected_version(),
                          request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AutomationGrpc::ListRules(grpc::CallbackServerContext* context,
                                                    const v1::ListRulesRequest* request,
                                                    v1::ListRulesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<validation::ValidPage> valid = ValidateListRules(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<automation::Automation::RulePage> page =
      automation_->List(Context(context), valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& r : page->rules) *response->add_rules() = std::move(r);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(
          validation::MakePageToken('R', validation::PagingIdentity(*request), page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* AutomationGrpc::TestRule(grpc::CallbackServerContext* context,
                                                   const v1::TestRuleRequest* request,
                                                   v1::TestRuleResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<size_t> max_customers = ValidateTestRule(*request);
  if (!max_customers.ok()) return FinishNow(reactor, max_customers.status());
  const projection::CallContext ctx = Context(context);
  absl::StatusOr<v1::Rule> rule = request->rule_id().empty()
                                      ? absl::StatusOr<v1::Rule>(request->rule())
                                      : automation_->Get(ctx, request->rule_id(), "rule_id");
  if (!rule.ok()) return FinishNow(reactor, rule.status());
  FinishWith(reactor,
             response)(automation_->Test(ctx, *rule, projection::TimeOf(request->start_time()),
                                         projection::TimeOf(request->end_time()), *max_customers));
  return reactor;
}

grpc::ServerUnaryReactor* AutomationGrpc::ListRuleRuns(grpc::CallbackServerContext* context,
                                                       const v1::ListRuleRunsRequest* request,
                                                       v1::ListRuleRunsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<validation::ValidPage> valid = ValidateListRuleRuns(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<automation::Automation::RunPage> page =
      automation_->ListRuns(Context(context), request->rule_id(), request->state(),
                            valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& r : page->runs) *response->add_runs() = std::move(r);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(
          validation::MakePageToken('N', validation::PagingIdentity(*request), page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* AutomationGrpc::GetMessagingPolicy(
    grpc::CallbackServerContext* context, const v1::GetMessagingPolicyRequest* request,
    v1::MessagingPolicy* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetMessagingPolicy(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(automation_->GetPolicy(Context(context)));
  return reactor;
}

grpc::ServerUnaryReactor* AutomationGrpc::UpdateMessagingPolicy(
    grpc::CallbackServerContext* context, const v1::UpdateMessagingPolicyRequest* request,
    v1::MessagingPolicy* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateUpdateMessagingPolicy(*request); !s.ok()) {
    return FinishNow(reactor, s);
  }
  automation_->SetPolicy(Context(context), request->policy(), request->expected_version(),
                         request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AutomationGrpc::GetMessage(grpc::CallbackServerContext* context,
                                                     const v1::GetMessageRequest* request,
                                                     v1::Message* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetMessage(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(automation_->GetMessage(Context(context), request->id()));
  return reactor;
}

grpc::ServerUnaryReactor* AutomationGrpc::ListMessages(grpc::CallbackServerContext* context,
                                                       const v1::ListMessagesRequest* request,
                                                       v1::ListMessagesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<validation::ValidPage> valid = ValidateListMessages(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<automation::Automation::MessagePage> page = automation_->ListMessages(
      Context(context), {request->contact_id(), request->rule_id(), request->campaign_id()},
      valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& m : page->messages) *response->add_messages() = std::move(m);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(
          validation::MakePageToken('M', validation::PagingIdentity(*request), page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* AutomationGrpc::ReportMessageStatus(
    grpc::CallbackServerContext* context, const v1::ReportMessageStatusRequest* request,
    v1::Message* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateReportMessageStatus(*request); !s.ok()) {
    return FinishNow(reactor, s);
  }
  automation_->ReportStatus(
      Context(context), request->message_id(), request->state(), request->detail(),
      request->has_time() ? projection::TimeOf(request->time()) : absl::InfinitePast(),
      request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerWriteReactor<v1::StreamOutboundMessagesResponse>*
AutomationGrpc::StreamOutboundMessages(grpc::CallbackServerContext* context,
                                       const v1::StreamOutboundMessagesRequest* request) {
  feed::FeedQuery query;
  query.topic = automation::kOutboundTopic;
  // The topic holds only OutboundMessage events (crm.analytics.v1's, on a topic of its own).
  if (absl::Status s = grpcutil::ReadFeedStart(*request, query); !s.ok()) {
    return new grpcutil::RefusedStream<v1::StreamOutboundMessagesResponse>(s);
  }
  return grpcutil::ServeFeedQuery<v1::StreamOutboundMessagesResponse>(
      context, std::move(query), log_, tenant_, nullptr,
      "crm.analytics.v1.AutomationService/StreamOutboundMessages");
}

grpc::ServerUnaryReactor* AutomationGrpc::LaunchCampaign(grpc::CallbackServerContext* context,
                                                         const v1::LaunchCampaignRequest* request,
                                                         v1::Campaign* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateLaunchCampaign(*request); !s.ok()) return FinishNow(reactor, s);
  automation_->LaunchCampaign(Context(context), request->campaign(), request->request_id(),
                              FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AutomationGrpc::GetCampaign(grpc::CallbackServerContext* context,
                                                      const v1::GetCampaignRequest* request,
                                                      v1::Campaign* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetCampaign(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(automation_->GetCampaign(Context(context), request->id()));
  return reactor;
}

grpc::ServerUnaryReactor* AutomationGrpc::ListCampaigns(grpc::CallbackServerContext* context,
                                                        const v1::ListCampaignsRequest* request,
                                                        v1::ListCampaignsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<validation::ValidPage> valid = ValidateListCampaigns(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<automation::Automation::CampaignPage> page =
      automation_->ListCampaigns(Context(context), valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& c : page->campaigns) *response->add_campaigns() = std::move(c);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(
          validation::MakePageToken('K', validation::PagingIdentity(*request), page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

}  // namespace crm::analytics
