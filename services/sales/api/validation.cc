#include "services/sales/api/validation.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/ids/ids.h"
#include "common/money/money.h"
#include "common/status/status_macros.h"
#include "common/validation/request_fields.h"

namespace crm::sales {

namespace v1 = crm::sales::v1;
using validation::CheckText;
using validation::Invalid;

namespace {

absl::Status CheckSku(std::string& sku) {
  sku = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(sku));
  if (sku.empty() || sku.size() > 64) return Invalid("product.sku", "must be 1 to 64 characters");
  for (char c : sku) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-' && c != '.' && c != '/') {
      return Invalid("product.sku", "may hold only A-Z a-z 0-9 _ - . /");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckField(const std::string& path, Product& p) {
  if (path == "name") {
    p.set_name(std::string(absl::StripAsciiWhitespace(p.name())));
    return CheckText("product.name", p.name(), 200, /*required=*/true);
  }
  if (path == "category") {
    p.set_category(std::string(absl::StripAsciiWhitespace(p.category())));
    return CheckText("product.category", p.category(), 100);
  }
  if (path == "unit_price") {
    if (!p.has_unit_price()) return Invalid("product.unit_price", "is required");
    RETURN_IF_ERROR(money::Validate("product.unit_price", p.unit_price()));
    if (p.unit_price().minor_units() < 0) {
      return Invalid("product.unit_price.minor_units", "must not be negative");
    }
    return absl::OkStatus();
  }
  return Invalid("update_mask", absl::StrCat("\"", path,
                                             "\" is not a field that can be updated; use name, "
                                             "category or unit_price"));
}

}  // namespace

absl::StatusOr<Product> ValidateCreateProduct(const v1::CreateProductRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  if (!request.has_product()) return Invalid("product", "is required");
  Product p = request.product();
  if (!p.id().empty()) return Invalid("product.id", "must be empty; it is derived from the SKU");
  RETURN_IF_ERROR(CheckSku(*p.mutable_sku()));
  for (const char* path : {"name", "category", "unit_price"}) RETURN_IF_ERROR(CheckField(path, p));
  p.clear_active();
  p.clear_version();
  p.clear_create_time();
  p.clear_update_time();
  return p;
}

absl::StatusOr<ValidProductUpdate> ValidateUpdateProduct(const v1::UpdateProductRequest& request) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request.request_id(), request.expected_version()));
  if (!request.has_product()) return Invalid("product", "is required");
  RETURN_IF_ERROR(validation::CheckId("product.id", request.product().id(), "product"));
  if (request.update_mask().paths().empty()) {
    return Invalid("update_mask", "must name at least one field to change");
  }
  ValidProductUpdate out;
  out.values = request.product();
  std::set<std::string> paths(request.update_mask().paths().begin(),
                              request.update_mask().paths().end());
  for (const std::string& path : paths) {
    RETURN_IF_ERROR(CheckField(path, out.values));
    out.mask.add_paths(path);
  }
  return out;
}

absl::Status ValidateGetProduct(const v1::GetProductRequest& request) {
  return validation::CheckId("id", request.id(), "product");
}

absl::Status ValidateDeactivateProduct(const v1::DeactivateProductRequest& request) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request.request_id(), request.expected_version()));
  return validation::CheckId("id", request.id(), "product");
}

absl::StatusOr<ValidProductList> ValidateListProducts(const v1::ListProductsRequest& request) {
  ValidProductList out;
  ASSIGN_OR_RETURN(out.page_size, validation::PageSize(request.page_size(), 1000, 50));
  out.category = std::string(absl::StripAsciiWhitespace(request.category()));
  RETURN_IF_ERROR(CheckText("category", out.category, 100));
  out.show_inactive = request.show_inactive();
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(
        out.resume_after,
        validation::ReadPageToken(request.page_token(), 'P', validation::PagingIdentity(request)));
    if (!ids::IsWellFormed(out.resume_after)) {
      return Invalid("page_token", "is not a token this service issued");
    }
  }
  return out;
}

std::string ProductsPageToken(const v1::ListProductsRequest& request,
                              const std::string& resume_after) {
  return validation::MakePageToken('P', validation::PagingIdentity(request), resume_after);
}

}  // namespace crm::sales
