// Request validation for SalesService: every field checked, errors name the field.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "crm/sales/v1/sales_service.pb.h"
#include "services/sales/domain/product.h"

namespace crm::sales {

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

}  // namespace crm::sales
