// AnalyticsGrpc: crm.analytics.v1.AnalyticsService over gRPC's callback API.
#pragma once

#include <string>

#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "services/analytics/analytics_service.h"

namespace crm::analytics {

// GetCustomer360 is served raw (its answer is kept in wire form: AnalyticsService).
class AnalyticsGrpc final
    : public crm::analytics::v1::AnalyticsService::WithRawCallbackMethod_GetCustomer360<
          crm::analytics::v1::AnalyticsService::CallbackService> {
 public:
  AnalyticsGrpc(AnalyticsService* service, std::string tenant)
      : service_(service), tenant_(std::move(tenant)) {}

  // A crm.analytics.v1.GetCustomer360Request in, a Customer360 out, in wire form.
  grpc::ServerUnaryReactor* GetCustomer360(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* raw_request,
                                           grpc::ByteBuffer* raw_response) override;
  grpc::ServerUnaryReactor* GetCustomerMetrics(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::GetCustomerMetricsRequest* request,
      CustomerMetrics* response) override;
  grpc::ServerUnaryReactor* ListProductAssociations(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::ListProductAssociationsRequest* request,
      crm::analytics::v1::ListProductAssociationsResponse* response) override;
  grpc::ServerUnaryReactor* GetRecommendations(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::GetRecommendationsRequest* request,
      crm::analytics::v1::GetRecommendationsResponse* response) override;
  grpc::ServerUnaryReactor* GetRetention(
      grpc::CallbackServerContext* context, const crm::analytics::v1::GetRetentionRequest* request,
      crm::analytics::v1::GetRetentionResponse* response) override;
  grpc::ServerUnaryReactor* GetSalesReport(grpc::CallbackServerContext* context,
                                           const crm::analytics::v1::GetSalesReportRequest* request,
                                           crm::analytics::v1::SalesReport* response) override;
  grpc::ServerUnaryReactor* GetServiceReport(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::GetServiceReportRequest* request,
      crm::analytics::v1::ServiceReport* response) override;
  grpc::ServerUnaryReactor* GetEngagementTrend(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::GetEngagementTrendRequest* request,
      crm::analytics::v1::EngagementTrend* response) override;
  grpc::ServerUnaryReactor* CreateSegment(grpc::CallbackServerContext* context,
                                          const crm::analytics::v1::CreateSegmentRequest* request,
                                          crm::analytics::v1::Segment* response) override;
  grpc::ServerUnaryReactor* GetSegment(grpc::CallbackServerContext* context,
                                       const crm::analytics::v1::GetSegmentRequest* request,
                                       crm::analytics::v1::Segment* response) override;
  grpc::ServerUnaryReactor* ListSegments(
      grpc::CallbackServerContext* context, const crm::analytics::v1::ListSegmentsRequest* request,
      crm::analytics::v1::ListSegmentsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteSegment(grpc::CallbackServerContext* context,
                                          const crm::analytics::v1::DeleteSegmentRequest* request,
                                          google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* ListSegmentMembers(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::ListSegmentMembersRequest* request,
      crm::analytics::v1::ListSegmentMembersResponse* response) override;
  grpc::ServerUnaryReactor* ListSeasonalBuyers(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::ListSeasonalBuyersRequest* request,
      crm::analytics::v1::ListSeasonalBuyersResponse* response) override;
  grpc::ServerUnaryReactor* SuggestCampaign(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::SuggestCampaignRequest* request,
      crm::analytics::v1::CampaignSuggestion* response) override;
  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* context,
                                     const crm::analytics::v1::GetModelRequest* request,
                                     PurchaseModel* response) override;
  grpc::ServerUnaryReactor* FitModel(grpc::CallbackServerContext* context,
                                     const crm::analytics::v1::FitModelRequest* request,
                                     PurchaseModel* response) override;

  grpc::ServerUnaryReactor* ExportContactData(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::ExportContactDataRequest* request,
      crm::analytics::v1::ExportContactDataResponse* response) override;
  grpc::ServerWriteReactor<crm::analytics::v1::ExportRecordsResponse>* ExportRecords(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::ExportRecordsRequest* request) override;
  grpc::ServerWriteReactor<crm::analytics::v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const crm::analytics::v1::SubscribeRequest* request) override;

 private:
  CallContext Context(grpc::CallbackServerContext* context) const;

  AnalyticsService* const service_;
  const std::string tenant_;
};

}  // namespace crm::analytics
