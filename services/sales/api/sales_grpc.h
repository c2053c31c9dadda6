// SalesGrpc: crm.sales.v1.SalesService over gRPC's callback API.
#pragma once

#include <string>

#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "services/sales/sales_service.h"

namespace crm::sales {

class SalesGrpc final : public crm::sales::v1::SalesService::CallbackService {
 public:
  SalesGrpc(SalesService* service, std::string tenant)
      : service_(service), tenant_(std::move(tenant)) {}

  grpc::ServerUnaryReactor* CreateProduct(grpc::CallbackServerContext* context,
                                          const crm::sales::v1::CreateProductRequest* request,
                                          Product* response) override;
  grpc::ServerUnaryReactor* GetProduct(grpc::CallbackServerContext* context,
                                       const crm::sales::v1::GetProductRequest* request,
                                       Product* response) override;
  grpc::ServerUnaryReactor* UpdateProduct(grpc::CallbackServerContext* context,
                                          const crm::sales::v1::UpdateProductRequest* request,
                                          Product* response) override;
  grpc::ServerUnaryReactor* DeactivateProduct(
      grpc::CallbackServerContext* context, const crm::sales::v1::DeactivateProductRequest* request,
      Product* response) override;
  grpc::ServerUnaryReactor* ListProducts(grpc::CallbackServerContext* context,
                                         const crm::sales::v1::ListProductsRequest* request,
                                         crm::sales::v1::ListProductsResponse* response) override;

  grpc::ServerUnaryReactor* CreatePipeline(grpc::CallbackServerContext* context,
                                           const crm::sales::v1::CreatePipelineRequest* request,
                                           Pipeline* response) override;
  grpc::ServerUnaryReactor* GetPipeline(grpc::CallbackServerContext* context,
                                        const crm::sales::v1::GetPipelineRequest* request,
                                        Pipeline* response) override;
  grpc::ServerUnaryReactor* UpdatePipeline(grpc::CallbackServerContext* context,
                                           const crm::sales::v1::UpdatePipelineRequest* request,
                                           Pipeline* response) override;
  grpc::ServerUnaryReactor* ListPipelines(grpc::CallbackServerContext* context,
                                          const crm::sales::v1::ListPipelinesRequest* request,
                                          crm::sales::v1::ListPipelinesResponse* response) override;
  grpc::ServerUnaryReactor* CreateDeal(grpc::CallbackServerContext* context,
                                       const crm::sales::v1::CreateDealRequest* request,
                                       Deal* response) override;
  grpc::ServerUnaryReactor* GetDeal(grpc::CallbackServerContext* context,
                                    const crm::sales::v1::GetDealRequest* request,
                                    Deal* response) override;
  grpc::ServerUnaryReactor* UpdateDeal(grpc::CallbackServerContext* context,
                                       const crm::sales::v1::UpdateDealRequest* request,
                                       Deal* response) override;
  grpc::ServerUnaryReactor* MoveDealStage(grpc::CallbackServerContext* context,
                                          const crm::sales::v1::MoveDealStageRequest* request,
                                          Deal* response) override;
  grpc::ServerUnaryReactor* WinDeal(grpc::CallbackServerContext* context,
                                    const crm::sales::v1::WinDealRequest* request,
                                    Deal* response) override;
  grpc::ServerUnaryReactor* LoseDeal(grpc::CallbackServerContext* context,
                                     const crm::sales::v1::LoseDealRequest* request,
                                     Deal* response) override;
  grpc::ServerUnaryReactor* ReopenDeal(grpc::CallbackServerContext* context,
                                       const crm::sales::v1::ReopenDealRequest* request,
                                       Deal* response) override;
  grpc::ServerUnaryReactor* ListDeals(grpc::CallbackServerContext* context,
                                      const crm::sales::v1::ListDealsRequest* request,
                                      crm::sales::v1::ListDealsResponse* response) override;

  grpc::ServerUnaryReactor* PlaceOrder(grpc::CallbackServerContext* context,
                                       const crm::sales::v1::PlaceOrderRequest* request,
                                       Order* response) override;
  grpc::ServerUnaryReactor* GetOrder(grpc::CallbackServerContext* context,
                                     const crm::sales::v1::GetOrderRequest* request,
                                     Order* response) override;
  grpc::ServerUnaryReactor* PayOrder(grpc::CallbackServerContext* context,
                                     const crm::sales::v1::PayOrderRequest* request,
                                     Order* response) override;
  grpc::ServerUnaryReactor* FulfillOrder(grpc::CallbackServerContext* context,
                                         const crm::sales::v1::FulfillOrderRequest* request,
                                         Order* response) override;
  grpc::ServerUnaryReactor* CancelOrder(grpc::CallbackServerContext* context,
                                        const crm::sales::v1::CancelOrderRequest* request,
                                        Order* response) override;
  grpc::ServerUnaryReactor* RefundOrder(grpc::CallbackServerContext* context,
                                        const crm::sales::v1::RefundOrderRequest* request,
                                        Order* response) override;
  grpc::ServerUnaryReactor* ListOrders(grpc::CallbackServerContext* context,
                                       const crm::sales::v1::ListOrdersRequest* request,
                                       crm::sales::v1::ListOrdersResponse* response) override;

  grpc::ServerUnaryReactor* GetForecast(grpc::CallbackServerContext* context,
                                        const crm::sales::v1::GetForecastRequest* request,
                                        crm::sales::v1::Forecast* response) override;

  grpc::ServerUnaryReactor* ExportContactData(
      grpc::CallbackServerContext* context, const crm::sales::v1::ExportContactDataRequest* request,
      crm::sales::v1::ExportContactDataResponse* response) override;
  grpc::ServerBidiReactor<crm::sales::v1::ImportRecordsRequest,
                          crm::sales::v1::ImportRecordsResponse>*
  ImportRecords(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* UndoImport(grpc::CallbackServerContext* context,
                                       const crm::sales::v1::UndoImportRequest* request,
                                       crm::sales::v1::UndoImportResponse* response) override;
  grpc::ServerWriteReactor<crm::sales::v1::ExportRecordsResponse>* ExportRecords(
      grpc::CallbackServerContext* context,
      const crm::sales::v1::ExportRecordsRequest* request) override;
  grpc::ServerWriteReactor<crm::sales::v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const crm::sales::v1::SubscribeRequest* request) override;

 private:
  template <typename Request>
  grpc::ServerUnaryReactor* Act(grpc::CallbackServerContext* context, const Request& request,
                                OrderAction action, Order* response);
  CallContext Context(grpc::CallbackServerContext* context) const;

  SalesService* const service_;
  const std::string tenant_;
};

}  // namespace crm::sales
