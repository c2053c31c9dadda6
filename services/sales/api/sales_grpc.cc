#include "services/sales/api/sales_grpc.h"

#include "common/grpc/export_stream.h"
#include "common/grpc/feed_stream.h"
#include "common/grpc/import_stream.h"
#include "common/grpc/reactor.h"
#include "services/sales/api/validation.h"

namespace crm::sales {

using grpcutil::FinishNow;
using grpcutil::FinishWith;
namespace {
constexpr absl::Duration kMaxWait = absl::Seconds(30);
}  // namespace

CallContext SalesGrpc::Context(grpc::CallbackServerContext* context) const {
  return grpcutil::MakeCallContext(context, tenant_, kMaxWait);
}

grpc::ServerUnaryReactor* SalesGrpc::CreateProduct(grpc::CallbackServerContext* context,
                                                   const v1::CreateProductRequest* request,
                                                   Product* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Product> valid = ValidateCreateProduct(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->CreateProduct(Context(context), *valid, request->request_id(),
                          FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::GetProduct(grpc::CallbackServerContext* context,
                                                const v1::GetProductRequest* request,
                                                Product* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetProduct(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(service_->GetProduct(Context(context), request->id()));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::UpdateProduct(grpc::CallbackServerContext* context,
                                                   const v1::UpdateProductRequest* request,
                                                   Product* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidProductUpdate> valid = ValidateUpdateProduct(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->UpdateProduct(Context(context), valid->values, valid->mask, request->expected_version(),
                          request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::DeactivateProduct(grpc::CallbackServerContext* context,
                                                       const v1::DeactivateProductRequest* request,
                                                       Product* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateDeactivateProduct(*request); !s.ok()) return FinishNow(reactor, s);
  service_->DeactivateProduct(Context(context), request->id(), request->expected_version(),
                              request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::ListProducts(grpc::CallbackServerContext* context,
                                                  const v1::ListProductsRequest* request,
                                                  v1::ListProductsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidProductList> valid = ValidateListProducts(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<ProductPage> page =
      service_->ListProducts(Context(context), valid->category, valid->show_inactive,
                             valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& p : page->products) *response->add_products() = std::move(p);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(ProductsPageToken(*request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* SalesGrpc::CreatePipeline(grpc::CallbackServerContext* context,
                                                    const v1::CreatePipelineRequest* request,
                                                    Pipeline* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Pipeline> valid = ValidateCreatePipeline(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->CreatePipeline(Context(context), *valid, request->request_id(),
                           FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::GetPipeline(grpc::CallbackServerContext* context,
                                                 const v1::GetPipelineRequest* request,
                                                 Pipeline* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetPipeline(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(service_->GetPipeline(Context(context), request->id()));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::UpdatePipeline(grpc::CallbackServerContext* context,
                                                    const v1::UpdatePipelineRequest* request,
                                                    Pipeline* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidPipelineUpdate> valid = ValidateUpdatePipeline(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->UpdatePipeline(Context(context), valid->values, valid->mask,
                           request->expected_version(), request->request_id(),
                           FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::ListPipelines(grpc::CallbackServerContext* context,
                                                   const v1::ListPipelinesRequest*,
                                                   v1::ListPipelinesResponse* response) {
  absl::StatusOr<std::vector<Pipeline>> pipelines = service_->ListPipelines(Context(context));
  if (pipelines.ok()) {
    for (Pipeline& p : *pipelines) *response->add_pipelines() = std::move(p);
  }
  return FinishNow(context->DefaultReactor(), pipelines.status());
}

grpc::ServerUnaryReactor* SalesGrpc::CreateDeal(grpc::CallbackServerContext* context,
                                                const v1::CreateDealRequest* request,
                                                Deal* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Deal> valid = ValidateCreateDeal(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->CreateDeal(Context(context), *valid, request->request_id(),
                       FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::GetDeal(grpc::CallbackServerContext* context,
                                             const v1::GetDealRequest* request, Deal* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetDeal(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(
      service_->GetDeal(Context(context), request->id(),
                        request->has_as_of() ? std::optional(request->as_of()) : std::nullopt));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::UpdateDeal(grpc::CallbackServerContext* context,
                                                const v1::UpdateDealRequest* request,
                                                Deal* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidDealUpdate> valid = ValidateUpdateDeal(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->UpdateDeal(Context(context), valid->values, valid->mask, request->expected_version(),
                       request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::MoveDealStage(grpc::CallbackServerContext* context,
                                                   const v1::MoveDealStageRequest* request,
                                                   Deal* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateMoveDealStage(*request); !s.ok()) return FinishNow(reactor, s);
  service_->MoveDealStage(Context(context), request->id(), request->stage_id(),
                          request->probability_bp(), request->expected_version(),
                          request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::WinDeal(grpc::CallbackServerContext* context,
                                             const v1::WinDealRequest* request, Deal* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s =
          ValidateDealChange(request->id(), request->expected_version(), request->request_id());
      !s.ok()) {
    return FinishNow(reactor, s);
  }
  service_->WinDeal(Context(context), request->id(), request->expected_version(),
                    request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::LoseDeal(grpc::CallbackServerContext* context,
                                              const v1::LoseDealRequest* request, Deal* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateLoseDeal(*request); !s.ok()) return FinishNow(reactor, s);
  service_->LoseDeal(Context(context), request->id(), request->reason(),
                     request->expected_version(), request->request_id(),
                     FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::ReopenDeal(grpc::CallbackServerContext* context,
                                                const v1::ReopenDealRequest* request,
                                                Deal* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s =
          ValidateDealChange(request->id(), request->expected_version(), request->request_id());
      !s.ok()) {
    return FinishNow(reactor, s);
  }
  service_->ReopenDeal(Context(context), request->id(), request->stage_id(),
                       request->expected_version(), request->request_id(),
                       FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::ListDeals(grpc::CallbackServerContext* context,
                                               const v1::ListDealsRequest* request,
                                               v1::ListDealsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidDealList> valid = ValidateListDeals(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<DealPage> page = service_->ListDeals(
      Context(context), valid->filter, valid->contact_id, valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& d : page->deals) *response->add_deals() = std::move(d);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(DealsPageToken(*request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* SalesGrpc::PlaceOrder(grpc::CallbackServerContext* context,
                                                const v1::PlaceOrderRequest* request,
                                                Order* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Order> valid = ValidatePlaceOrder(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->PlaceOrder(Context(context), *valid, request->request_id(),
                       FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::GetOrder(grpc::CallbackServerContext* context,
                                              const v1::GetOrderRequest* request, Order* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetOrder(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(service_->GetOrder(Context(context), request->id()));
  return reactor;
}

template <typename Request>
grpc::ServerUnaryReactor* SalesGrpc::Act(grpc::CallbackServerContext* context,
                                         const Request& request, OrderAction action,
                                         Order* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s =
          ValidateOrderChange(request.id(), request.expected_version(), request.request_id());
      !s.ok()) {
    return FinishNow(reactor, s);
  }
  service_->ActOnOrder(Context(context), request.id(), action, request.expected_version(),
                       request.request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::PayOrder(grpc::CallbackServerContext* context,
                                              const v1::PayOrderRequest* request, Order* response) {
  return Act(context, *request, OrderAction::kPay, response);
}

grpc::ServerUnaryReactor* SalesGrpc::FulfillOrder(grpc::CallbackServerContext* context,
                                                  const v1::FulfillOrderRequest* request,
                                                  Order* response) {
  return Act(context, *request, OrderAction::kFulfil, response);
}

grpc::ServerUnaryReactor* SalesGrpc::CancelOrder(grpc::CallbackServerContext* context,
                                                 const v1::CancelOrderRequest* request,
                                                 Order* response) {
  return Act(context, *request, OrderAction::kCancel, response);
}

grpc::ServerUnaryReactor* SalesGrpc::RefundOrder(grpc::CallbackServerContext* context,
                                                 const v1::RefundOrderRequest* request,
                                                 Order* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateRefund(*request); !s.ok()) return FinishNow(reactor, s);
  service_->RefundOrder(Context(context), request->id(), request->amount(),
                        request->expected_version(), request->request_id(),
                        FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::ListOrders(grpc::CallbackServerContext* context,
                                                const v1::ListOrdersRequest* request,
                                                v1::ListOrdersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidOrderList> valid = ValidateListOrders(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<OrderPage> page = service_->ListOrders(Context(context), request->contact_id(),
                                                        valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& o : page->orders) *response->add_orders() = std::move(o);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(OrdersPageToken(*request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* SalesGrpc::GetForecast(grpc::CallbackServerContext* context,
                                                 const v1::GetForecastRequest* request,
                                                 v1::Forecast* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ForecastInput> valid = ValidateForecast(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  FinishWith(reactor, response)(service_->GetForecast(
      Context(context), *std::move(valid), request->owner(), request->pipeline_id(),
      request->has_as_of() ? std::optional(request->as_of()) : std::nullopt));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::ExportContactData(
    grpc::CallbackServerContext* context, const crm::sales::v1::ExportContactDataRequest* request,
    crm::sales::v1::ExportContactDataResponse* response) {
  return grpcutil::AnswerExport(context, Context(context), *service_, *request, response);
}

grpc::ServerWriteReactor<crm::sales::v1::ExportRecordsResponse>* SalesGrpc::ExportRecords(
    grpc::CallbackServerContext* context, const crm::sales::v1::ExportRecordsRequest*) {
  absl::StatusOr<std::vector<projection::ExportSource<crm::sales::v1::ExportRecordsResponse>>>
      sources = service_->ExportSources(Context(context));
  if (!sources.ok()) {
    sources = std::vector<projection::ExportSource<crm::sales::v1::ExportRecordsResponse>>{
        [status = sources.status()]()
            -> absl::StatusOr<std::vector<crm::sales::v1::ExportRecordsResponse>> {
          return status;
        }};
  }
  return grpcutil::ServeExport<crm::sales::v1::ExportRecordsResponse>(*std::move(sources));
}

grpc::ServerWriteReactor<crm::sales::v1::SubscribeResponse>* SalesGrpc::Subscribe(
    grpc::CallbackServerContext* context, const crm::sales::v1::SubscribeRequest* request) {
  return grpcutil::ServeFeed<crm::sales::v1::SubscribeResponse>(
      context, *request, service_->projector()->log(), kTopic, tenant_, nullptr);
}

grpc::ServerBidiReactor<crm::sales::v1::ImportRecordsRequest,
                        crm::sales::v1::ImportRecordsResponse>*
SalesGrpc::ImportRecords(grpc::CallbackServerContext* context) {
  return grpcutil::ServeImportRows<crm::sales::v1::ImportRecordsRequest,
                                   crm::sales::v1::ImportRecordsResponse, ImportItem>(
      [this, context] { return Context(context); }, &ValidateImport,
      [this](const CallContext& ctx, const std::string& import_id, const ImportItem& item,
             Done<crm::common::v1::ImportRowResult> done) {
        if (item.product) {
          return service_->ImportProduct(ctx, import_id, item.row, *item.product, std::move(done));
        }
        service_->ImportOrder(ctx, import_id, item.row, *item.order, item.status, item.refunded,
                              std::move(done));
      });
}

grpc::ServerUnaryReactor* SalesGrpc::UndoImport(grpc::CallbackServerContext* context,
                                                const crm::sales::v1::UndoImportRequest* request,
                                                crm::sales::v1::UndoImportResponse* response) {
  return grpcutil::ServeUndoImport(context, tenant_, ValidateUndoImport(*request),
                                   request->import_id(), response,
                                   [this](const CallContext& ctx, const std::string& import_id,
                                          Done<crm::common::v1::ImportUndoSummary> done) {
                                     service_->UndoImport(ctx, import_id, std::move(done));
                                   });
}

}  // namespace crm::sales
