#include "services/analytics/api/analytics_grpc.h"

#include "common/grpc/export_stream.h"
#include "common/grpc/feed_stream.h"
#include "common/grpc/reactor.h"
#include "common/grpc/wire.h"
#include "services/analytics/api/validation.h"

namespace crm::analytics {

using grpcutil::FinishNow;
using grpcutil::FinishWith;
namespace {
constexpr absl::Duration kMaxWait = absl::Seconds(60);
}  // namespace

CallContext AnalyticsGrpc::Context(grpc::CallbackServerContext* context) const {
  return grpcutil::MakeCallContext(context, tenant_, kMaxWait);
}

grpc::ServerUnaryReactor* AnalyticsGrpc::GetCustomer360(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* raw_request,
                                                        grpc::ByteBuffer* raw_response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  v1::GetCustomer360Request request;
  if (absl::Status s = grpcutil::ParseRequest(*raw_request, request); !s.ok()) {
    return FinishNow(reactor, s);
  }
  absl::StatusOr<int64_t> as_of = ValidateGetCustomer360(request);
  if (!as_of.ok()) return FinishNow(reactor, as_of.status());
  service_->GetCustomer360(Context(context), request.contact_id(),
                           request.has_as_of() ? std::optional<int64_t>(*as_of) : std::nullopt,
                           [reactor, raw_response](absl::StatusOr<std::string> wire) {
                             if (wire.ok()) {
                               const grpc::Slice slice(*wire);
                               *raw_response = grpc::ByteBuffer(&slice, 1);
                             }
                             FinishNow(reactor, wire.status());
                           });
  return reactor;
}

grpc::ServerUnaryReactor* AnalyticsGrpc::GetCustomerMetrics(
    grpc::CallbackServerContext* context, const v1::GetCustomerMetricsRequest* request,
    CustomerMetrics* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidMetricsRequest> valid = ValidateGetCustomerMetrics(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  FinishWith(reactor, response)(
      service_->GetCustomerMetrics(Context(context), request->contact_id(), valid->as_of_nanos,
                                   request->currency_code(), valid->horizon_days));
  return reactor;
}

grpc::ServerUnaryReactor* AnalyticsGrpc::ListProductAssociations(
    grpc::CallbackServerContext* context, const v1::ListProductAssociationsRequest* request,
    v1::ListProductAssociationsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidAssociationsRequest> valid = ValidateListProductAssociations(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<std::vector<ProductAssociation>> found = service_->ListProductAssociations(
      Context(context), request->product_id(), valid->min_orders, valid->limit);
  if (found.ok()) {
    for (auto& a : *found) *response->add_associations() = std::move(a);
  }
  return FinishNow(reactor, found.status());
}

grpc::ServerUnaryReactor* AnalyticsGrpc::GetRecommendations(
    grpc::CallbackServerContext* context, const v1::GetRecommendationsRequest* request,
    v1::GetRecommendationsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidAssociationsRequest> valid = ValidateGetRecommendations(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<std::vector<Recommendation>> found = service_->GetRecommendations(
      Context(context), request->contact_id(), valid->min_orders, valid->limit);
  if (found.ok()) {
    for (auto& r : *found) *response->add_recommendations() = std::move(r);
  }
  return FinishNow(reactor, found.status());
}

grpc::ServerUnaryReactor* AnalyticsGrpc::GetRetention(grpc::CallbackServerContext* context,
                                                      const v1::GetRetentionRequest* request,
                                                      v1::GetRetentionResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidRetention> valid = ValidateGetRetention(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  FinishWith(reactor, response)(service_->GetRetention(Context(context), valid->cohorts_from,
                                                       valid->as_of, valid->inactivity_days));
  return reactor;
}

grpc::ServerUnaryReactor* AnalyticsGrpc::GetSalesReport(grpc::CallbackServerContext* context,
                                                        const v1::GetSalesReportRequest* request,
                                                        v1::SalesReport* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidPeriod> valid = ValidateGetSalesReport(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  FinishWith(reactor, response)(service_->GetSalesReport(Context(context), valid->start, valid->end,
                                                         request->currency_code()));
  return reactor;
}

grpc::ServerUnaryReactor* AnalyticsGrpc::GetServiceReport(
    grpc::CallbackServerContext* context, const v1::GetServiceReportRequest* request,
    v1::ServiceReport* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidPeriod> valid = ValidateGetServiceReport(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  FinishWith(reactor, response)(
      service_->GetServiceReport(Context(context), valid->start, valid->end, valid->as_of));
  return reactor;
}

grpc::ServerUnaryReactor* AnalyticsGrpc::GetEngagementTrend(
    grpc::CallbackServerContext* context, const v1::GetEngagementTrendRequest* request,
    v1::EngagementTrend* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidEngagement> valid = ValidateGetEngagementTrend(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  FinishWith(reactor, response)(service_->GetEngagementTrend(
      Context(context), request->contact_id(), valid->months, valid->as_of));
  return reactor;
}

grpc::ServerUnaryReactor* AnalyticsGrpc::CreateSegment(grpc::CallbackServerContext* context,
                                                       const v1::CreateSegmentRequest* request,
                                                       v1::Segment* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateCreateSegment(*request); !s.ok()) return FinishNow(reactor, s);
  service_->CreateSegment(Context(context), request->segment(), request->request_id(),
                          FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AnalyticsGrpc::GetSegment(grpc::CallbackServerContext* context,
                                                    const v1::GetSegmentRequest* request,
                                                    v1::Segment* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<int64_t> as_of = ValidateGetSegment(*request);
  if (!as_of.ok()) return FinishNow(reactor, as_of.status());
  FinishWith(reactor, response)(service_->GetSegment(Context(context), request->id(), *as_of));
  return reactor;
}

grpc::ServerUnaryReactor* AnalyticsGrpc::ListSegments(grpc::CallbackServerContext* context,
                                                      const v1::ListSegmentsRequest* request,
                                                      v1::ListSegmentsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidPage> valid = ValidateListSegments(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<AnalyticsService::SegmentPage> page =
      service_->ListSegments(Context(context), valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& s : page->segments) *response->add_segments() = std::move(s);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(PageToken('G', *request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* AnalyticsGrpc::DeleteSegment(grpc::CallbackServerContext* context,
                                                       const v1::DeleteSegmentRequest* request,
                                                       google::protobuf::Empty* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateDeleteSegment(*request); !s.ok()) return FinishNow(reactor, s);
  service_->DeleteSegment(Context(context), request->id(), request->expected_version(),
                          request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AnalyticsGrpc::ListSegmentMembers(
    grpc::CallbackServerContext* context, const v1::ListSegmentMembersRequest* request,
    v1::ListSegmentMembersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidPage> valid = ValidateListSegmentMembers(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<AnalyticsService::MemberPage> page = service_->ListSegmentMembers(
      Context(context), request->id(), valid->as_of, valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& m : page->members) *response->add_members() = std::move(m);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(PageToken('M', *request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* AnalyticsGrpc::ListSeasonalBuyers(
    grpc::CallbackServerContext* context, const v1::ListSeasonalBuyersRequest* request,
    v1::ListSeasonalBuyersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidSeasonal> valid = ValidateListSeasonalBuyers(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<std::vector<SeasonalBuyer>> buyers = service_->ListSeasonalBuyers(
      Context(context), request->product_id(), request->category(), request->month(),
      request->currency_code(), valid->as_of, valid->limit);
  if (buyers.ok()) {
    for (auto& b : *buyers) *response->add_buyers() = std::move(b);
  }
  return FinishNow(reactor, buyers.status());
}

grpc::ServerUnaryReactor* AnalyticsGrpc::SuggestCampaign(grpc::CallbackServerContext* context,
                                                         const v1::SuggestCampaignRequest* request,
                                                         v1::CampaignSuggestion* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidSeasonal> valid = ValidateSuggestCampaign(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  FinishWith(reactor, response)(service_->SuggestCampaign(
      Context(context), request->product_id(), request->category(), request->month(),
      request->currency_code(), request->channel(), valid->min_years, valid->as_of, valid->limit));
  return reactor;
}

grpc::ServerUnaryReactor* AnalyticsGrpc::GetModel(grpc::CallbackServerContext* context,
                                                  const v1::GetModelRequest* request,
                                                  PurchaseModel* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetModel(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(service_->GetModel(Context(context), request->currency_code()));
  return reactor;
}

grpc::ServerUnaryReactor* AnalyticsGrpc::FitModel(grpc::CallbackServerContext* context,
                                                  const v1::FitModelRequest* request,
                                                  PurchaseModel* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<int64_t> as_of = ValidateFitModel(*request);
  if (!as_of.ok()) return FinishNow(reactor, as_of.status());
  service_->FitModel(Context(context), request->currency_code(), *as_of, request->request_id(),
                     FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AnalyticsGrpc::ExportContactData(
    grpc::CallbackServerContext* context,
    const crm::analytics::v1::ExportContactDataRequest* request,
    crm::analytics::v1::ExportContactDataResponse* response) {
  return grpcutil::AnswerExport(context, Context(context), *service_, *request, response);
}

grpc::ServerWriteReactor<crm::analytics::v1::ExportRecordsResponse>* AnalyticsGrpc::ExportRecords(
    grpc::CallbackServerContext* context, const crm::analytics::v1::ExportRecordsRequest*) {
  return grpcutil::ServeExport<crm::analytics::v1::ExportRecordsResponse>(
      service_->ExportSources(Context(context)));
}

grpc::ServerWriteReactor<crm::analytics::v1::SubscribeResponse>* AnalyticsGrpc::Subscribe(
    grpc::CallbackServerContext* context, const crm::analytics::v1::SubscribeRequest* request) {
  return grpcutil::ServeFeed<crm::analytics::v1::SubscribeResponse>(
      context, *request, service_->projector()->log(), kTopic, tenant_, nullptr);
}

}  // namespace crm::analytics
