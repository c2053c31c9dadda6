// Request validation for SalesService: every field checked, errors name the field.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/sales/v1/sales_service.pb.h"
#include "services/sales/domain/deal.h"
#include "services/sales/domain/forecast.h"
#include "services/sales/domain/product.h"
#include "services/sales/projection/sales_projection.h"

namespace crm::sales {

// One row of an ImportRecords batch (see crm::contact::ImportItem): its record validated and
// normalised as for CreateProduct or PlaceOrder, or why it is invalid.
struct ImportItem {
  int64_t row = 0;
  absl::Status invalid;
  std::optional<Product> product;
  // The order to place (no status or amounts) and the status it is to be taken to, with the
  // amount refunded.
  std::optional<Order> order;
  crm::sales::v1::OrderStatus status = crm::sales::v1::ORDER_STATUS_PLACED;
  crm::common::v1::Money refunded;
  std::vector<std::string> keys;
  std::string skip;
};

// A batch of ImportRecords: INVALID_ARGUMENT for the batch as a whole (import id, number of rows,
// row numbers); each row's own validity in its item.
absl::StatusOr<std::vector<ImportItem>> ValidateImport(
    const crm::sales::v1::ImportRecordsRequest& request);
absl::Status ValidateUndoImport(const crm::sales::v1::UndoImportRequest& request);

// Returns the normalised product (SKU upper case).
absl::StatusOr<Product> ValidateCreateProduct(const crm::sales::v1::CreateProductRequest& request);
struct ValidProductUpdate {
  Product values;
  google::protobuf::FieldMask mask;
};
absl::StatusOr<ValidProductUpdate> ValidateUpdateProduct(
    const crm::sales::v1::UpdateProductRequest& request);
absl::Status ValidateGetProduct(const crm::sales::v1::GetProductRequest& request);
absl::Status ValidateDeactivateProduct(const crm::sales::v1::DeactivateProductRequest& request);
struct ValidProductList {
  std::string category;
  bool show_inactive = false;
  std::string resume_after;
  size_t page_size = 0;
};
absl::StatusOr<ValidProductList> ValidateListProducts(
    const crm::sales::v1::ListProductsRequest& request);
std::string ProductsPageToken(const crm::sales::v1::ListProductsRequest& request,
                              const std::string& resume_after);

// Pipelines.
absl::StatusOr<Pipeline> ValidateCreatePipeline(
    const crm::sales::v1::CreatePipelineRequest& request);
struct ValidPipelineUpdate {
  Pipeline values;
  google::protobuf::FieldMask mask;
};
absl::StatusOr<ValidPipelineUpdate> ValidateUpdatePipeline(
    const crm::sales::v1::UpdatePipelineRequest& request);
absl::Status ValidateGetPipeline(const crm::sales::v1::GetPipelineRequest& request);

// Deals.
absl::StatusOr<Deal> ValidateCreateDeal(const crm::sales::v1::CreateDealRequest& request);
struct ValidDealUpdate {
  Deal values;
  google::protobuf::FieldMask mask;
};
absl::StatusOr<ValidDealUpdate> ValidateUpdateDeal(
    const crm::sales::v1::UpdateDealRequest& request);
absl::Status ValidateGetDeal(const crm::sales::v1::GetDealRequest& request);
absl::Status ValidateMoveDealStage(const crm::sales::v1::MoveDealStageRequest& request);
absl::Status ValidateDealChange(const std::string& id, int64_t expected_version,
                                const std::string& request_id);
absl::Status ValidateLoseDeal(const crm::sales::v1::LoseDealRequest& request);
struct ValidDealList {
  DealFilter filter;
  std::string contact_id;
  std::string resume_after;
  size_t page_size = 0;
};
absl::StatusOr<ValidDealList> ValidateListDeals(const crm::sales::v1::ListDealsRequest& request);
std::string DealsPageToken(const crm::sales::v1::ListDealsRequest& request,
                           const std::string& resume_after);

// Orders.
absl::StatusOr<Order> ValidatePlaceOrder(const crm::sales::v1::PlaceOrderRequest& request);
absl::Status ValidateGetOrder(const crm::sales::v1::GetOrderRequest& request);
absl::Status ValidateOrderChange(const std::string& id, int64_t expected_version,
                                 const std::string& request_id);
absl::Status ValidateRefund(const crm::sales::v1::RefundOrderRequest& request);
struct ValidOrderList {
  std::string resume_after;
  size_t page_size = 0;
};
absl::StatusOr<ValidOrderList> ValidateListOrders(const crm::sales::v1::ListOrdersRequest& request);
std::string OrdersPageToken(const crm::sales::v1::ListOrdersRequest& request,
                            const std::string& resume_after);

// The forecast.
absl::StatusOr<ForecastInput> ValidateForecast(const crm::sales::v1::GetForecastRequest& request);

}  // namespace crm::sales
