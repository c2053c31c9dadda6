#include "services/sales/api/validation.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/ids/ids.h"
#include "common/money/money.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"
#include "common/validation/request_fields.h"

namespace crm::sales {

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

// --- Pipelines --------------------------------------------------------------------------------

namespace {

constexpr int kMaxStages = 50;

// 1 to 64 of a-z 0-9 _ -.
absl::Status CheckSlug(const std::string& field, const std::string& value) {
  if (value.empty() || value.size() > 64) return Invalid(field, "must be 1 to 64 characters");
  for (char c : value) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' && c != '-') {
      return Invalid(field, "may hold only a-z 0-9 _ -");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPipelineField(const std::string& path, Pipeline& p) {
  if (path == "name") {
    p.set_name(std::string(absl::StripAsciiWhitespace(p.name())));
    return CheckText("pipeline.name", p.name(), 200, /*required=*/true);
  }
  if (path == "stages") {
    if (p.stages().empty() || p.stages_size() > kMaxStages) {
      return Invalid("pipeline.stages", absl::StrCat("must hold 1 to ", kMaxStages, " stages"));
    }
    std::set<std::string> ids;
    for (int i = 0; i < p.stages_size(); ++i) {
      Stage& stage = *p.mutable_stages(i);
      const std::string at = absl::StrCat("pipeline.stages[", i, "]");
      RETURN_IF_ERROR(CheckSlug(at + ".id", stage.id()));
      if (!ids.insert(stage.id()).second) {
        return Invalid(at + ".id", absl::StrCat("\"", stage.id(), "\" appears twice"));
      }
      stage.set_name(std::string(absl::StripAsciiWhitespace(stage.name())));
      RETURN_IF_ERROR(CheckText(at + ".name", stage.name(), 100, /*required=*/true));
      if (stage.probability_bp() < 0 || stage.probability_bp() > 10000) {
        return Invalid(at + ".probability_bp", "must be 0 to 10000 basis points");
      }
    }
    return absl::OkStatus();
  }
  return Invalid(
      "update_mask",
      absl::StrCat("\"", path, "\" is not a field that can be updated; use name or stages"));
}

}  // namespace

absl::StatusOr<Pipeline> ValidateCreatePipeline(const v1::CreatePipelineRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  if (!request.has_pipeline()) return Invalid("pipeline", "is required");
  Pipeline p = request.pipeline();
  RETURN_IF_ERROR(CheckSlug("pipeline.id", p.id()));
  for (const char* path : {"name", "stages"}) RETURN_IF_ERROR(CheckPipelineField(path, p));
  if (p.version() != 0 || p.has_create_time() || p.has_update_time()) {
    return Invalid("pipeline.version", "version, create_time and update_time are output only");
  }
  return p;
}

absl::StatusOr<ValidPipelineUpdate> ValidateUpdatePipeline(
    const v1::UpdatePipelineRequest& request) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request.request_id(), request.expected_version()));
  if (!request.has_pipeline()) return Invalid("pipeline", "is required");
  RETURN_IF_ERROR(CheckSlug("pipeline.id", request.pipeline().id()));
  if (request.update_mask().paths().empty()) {
    return Invalid("update_mask", "must name at least one field to change");
  }
  ValidPipelineUpdate out;
  out.values = request.pipeline();
  std::set<std::string> paths(request.update_mask().paths().begin(),
                              request.update_mask().paths().end());
  for (const std::string& path : paths) {
    RETURN_IF_ERROR(CheckPipelineField(path, out.values));
    out.mask.add_paths(path);
  }
  return out;
}

absl::Status ValidateGetPipeline(const v1::GetPipelineRequest& request) {
  return CheckSlug("id", request.id());
}

// --- Deals ------------------------------------------------------------------------------------

namespace {

// A point-in-time read: a valid time, not in the future (the future is not known yet).
absl::Status CheckAsOf(const std::string& field, const google::protobuf::Timestamp& as_of) {
  RETURN_IF_ERROR(validation::CheckTimestamp(field, as_of));
  if (absl::FromUnixSeconds(as_of.seconds()) > absl::Now() + absl::Seconds(1)) {
    return Invalid(field, "is in the future; leave it unset to read the present");
  }
  return absl::OkStatus();
}

absl::Status CheckShortId(const std::string& field, const std::string& id, size_t max) {
  if (id.size() > max) return Invalid(field, absl::StrCat("must be at most ", max, " characters"));
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return Invalid(field, "must be printable ASCII without spaces");
  }
  return absl::OkStatus();
}

absl::Status CheckProbability(const std::string& field, int32_t bp) {
  if (bp < 0 || bp > 10000) return Invalid(field, "must be 0 to 10000 basis points");
  return absl::OkStatus();
}

absl::Status CheckLines(const Deal& d) {
  if (d.line_items_size() > 200) return Invalid("deal.line_items", "at most 200 are allowed");
  for (int i = 0; i < d.line_items_size(); ++i) {
    const auto& line = d.line_items(i);
    const std::string item = absl::StrCat("deal.line_items[", i, "]");
    if (line.product_id().empty()) return Invalid(item + ".product_id", "is required");
    RETURN_IF_ERROR(CheckShortId(item + ".product_id", line.product_id(), 128));
    if (line.quantity() < 1 || line.quantity() > 1000000) {
      return Invalid(item + ".quantity", "must be 1 to 1000000");
    }
    if (!line.has_unit_price()) return Invalid(item + ".unit_price", "is required");
    RETURN_IF_ERROR(money::Validate(item + ".unit_price", line.unit_price()));
    if (line.unit_price().minor_units() < 0) {
      return Invalid(item + ".unit_price.minor_units", "must not be negative");
    }
    const std::string& currency = d.has_amount() && !d.amount().currency_code().empty()
                                      ? d.amount().currency_code()
                                      : d.line_items(0).unit_price().currency_code();
    if (line.unit_price().currency_code() != currency) {
      return Invalid(item + ".unit_price.currency_code",
                     absl::StrCat("is ", line.unit_price().currency_code(), " but the deal is in ",
                                  currency, "; one currency per deal"));
    }
    RETURN_IF_ERROR(CheckProbability(item + ".discount_bp", line.discount_bp()));
  }
  return absl::OkStatus();
}

absl::Status CheckDealField(const std::string& path, Deal& d) {
  if (path == "title") {
    d.set_title(std::string(absl::StripAsciiWhitespace(d.title())));
    return CheckText("deal.title", d.title(), 200, /*required=*/true);
  }
  if (path == "owner") return validation::CheckPrincipal("deal.owner", d.owner(), 128);
  if (path == "line_items") return CheckLines(d);
  if (path == "amount") {
    if (!d.has_amount()) return Invalid("deal.amount", "is required");
    RETURN_IF_ERROR(money::Validate("deal.amount", d.amount()));
    if (d.amount().minor_units() < 0) {
      return Invalid("deal.amount.minor_units", "must not be negative");
    }
    return absl::OkStatus();
  }
  if (path == "probability_bp") return CheckProbability("deal.probability_bp", d.probability_bp());
  if (path == "expected_close_time") {
    if (!d.has_expected_close_time()) return absl::OkStatus();
    return validation::CheckTimestamp("deal.expected_close_time", d.expected_close_time());
  }
  if (path == "source") return CheckText("deal.source", d.source(), 100);
  return Invalid("update_mask", absl::StrCat("\"", path,
                                             "\" is not a field that can be updated; use title, "
                                             "owner, line_items, amount, probability_bp, "
                                             "expected_close_time or source"));
}

}  // namespace

absl::StatusOr<Deal> ValidateCreateDeal(const v1::CreateDealRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  if (!request.has_deal()) return Invalid("deal", "is required");
  Deal d = request.deal();
  if (!d.id().empty()) return Invalid("deal.id", "must be empty; the service assigns ids");
  if (d.contact_id().empty() && d.company_id().empty()) {
    return Invalid("deal.contact_id", "a deal needs a contact_id or a company_id");
  }
  if (!d.contact_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("deal.contact_id", d.contact_id(), "contact"));
  }
  if (!d.company_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("deal.company_id", d.company_id(), "company"));
  }
  RETURN_IF_ERROR(CheckShortId("deal.pipeline_id", d.pipeline_id(), 64));
  RETURN_IF_ERROR(CheckShortId("deal.stage_id", d.stage_id(), 64));
  for (const char* path : {"title", "owner", "probability_bp", "expected_close_time", "source"}) {
    RETURN_IF_ERROR(CheckDealField(path, d));
  }
  if (d.line_items().empty()) {
    RETURN_IF_ERROR(CheckDealField("amount", d));
  } else {
    if (d.has_amount() && !d.amount().currency_code().empty()) {
      RETURN_IF_ERROR(money::Validate("deal.amount", d.amount()));
    }
    RETURN_IF_ERROR(CheckLines(d));
  }
  if (d.status() != v1::DEAL_STATUS_UNSPECIFIED || d.stage_history_size() > 0 ||
      !d.lost_reason().empty()) {
    return Invalid("deal.status", "status, stage_history and lost_reason are output only");
  }
  return d;
}

absl::StatusOr<ValidDealUpdate> ValidateUpdateDeal(const v1::UpdateDealRequest& request) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request.request_id(), request.expected_version()));
  if (!request.has_deal()) return Invalid("deal", "is required");
  RETURN_IF_ERROR(validation::CheckId("deal.id", request.deal().id(), "deal"));
  if (request.update_mask().paths().empty()) {
    return Invalid("update_mask", "must name at least one field to change");
  }
  ValidDealUpdate out;
  out.values = request.deal();
  std::set<std::string> paths(request.update_mask().paths().begin(),
                              request.update_mask().paths().end());
  for (const std::string& path : paths) {
    RETURN_IF_ERROR(CheckDealField(path, out.values));
    out.mask.add_paths(path);
  }
  return out;
}

absl::Status ValidateGetDeal(const v1::GetDealRequest& request) {
  RETURN_IF_ERROR(validation::CheckId("id", request.id(), "deal"));
  return request.has_as_of() ? CheckAsOf("as_of", request.as_of()) : absl::OkStatus();
}

absl::Status ValidateDealChange(const std::string& id, int64_t expected_version,
                                const std::string& request_id) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request_id, expected_version));
  return validation::CheckId("id", id, "deal");
}

absl::Status ValidateMoveDealStage(const v1::MoveDealStageRequest& request) {
  RETURN_IF_ERROR(
      ValidateDealChange(request.id(), request.expected_version(), request.request_id()));
  if (request.stage_id().empty()) return Invalid("stage_id", "is required");
  RETURN_IF_ERROR(CheckShortId("stage_id", request.stage_id(), 64));
  return CheckProbability("probability_bp", request.probability_bp());
}

absl::Status ValidateLoseDeal(const v1::LoseDealRequest& request) {
  RETURN_IF_ERROR(
      ValidateDealChange(request.id(), request.expected_version(), request.request_id()));
  return CheckText("reason", request.reason(), 500, /*required=*/true);
}

absl::StatusOr<ValidDealList> ValidateListDeals(const v1::ListDealsRequest& request) {
  ValidDealList out;
  ASSIGN_OR_RETURN(out.page_size, validation::PageSize(request.page_size(), 1000, 50));
  RETURN_IF_ERROR(CheckShortId("pipeline_id", request.pipeline_id(), 64));
  RETURN_IF_ERROR(CheckShortId("stage_id", request.stage_id(), 64));
  RETURN_IF_ERROR(validation::CheckPrincipal("owner", request.owner(), 128));
  out.filter.pipeline_id = request.pipeline_id();
  out.filter.stage_id = request.stage_id();
  out.filter.owner = request.owner();
  if (!request.contact_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("contact_id", request.contact_id(), "contact"));
    out.contact_id = request.contact_id();
  }
  if (!request.company_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("company_id", request.company_id(), "company"));
    out.filter.company_id = request.company_id();
  }
  if (request.has_close_after()) {
    RETURN_IF_ERROR(validation::CheckTimestamp("close_after", request.close_after()));
    out.filter.close_after_nanos = projection::TimestampNanos(request.close_after());
  }
  if (request.has_close_before()) {
    RETURN_IF_ERROR(validation::CheckTimestamp("close_before", request.close_before()));
    out.filter.close_before_nanos = projection::TimestampNanos(request.close_before());
  }
  if (!v1::DealStatus_IsValid(request.status())) return Invalid("status", "is not a deal status");
  out.filter.status = request.status();
  if (request.has_as_of()) {
    RETURN_IF_ERROR(CheckAsOf("as_of", request.as_of()));
    out.filter.as_of = request.as_of();
  }
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(
        out.resume_after,
        validation::ReadPageToken(request.page_token(), 'D', validation::PagingIdentity(request)));
    const size_t bar = out.resume_after.find('|');
    size_t scan = 0;
    if (bar == std::string::npos || !absl::SimpleAtoi(out.resume_after.substr(0, bar), &scan)) {
      return Invalid("page_token", "is not a token this service issued");
    }
  }
  return out;
}

absl::StatusOr<Order> ValidatePlaceOrder(const v1::PlaceOrderRequest& request) {
  RETURN_IF_ERROR(validation::CheckRequestId(request.request_id()));
  if (!request.has_order()) return Invalid("order", "is required");
  Order o = request.order();
  if (!o.id().empty()) return Invalid("order.id", "must be empty; the service assigns ids");
  RETURN_IF_ERROR(validation::CheckId("order.contact_id", o.contact_id(), "contact"));
  if (!o.company_id().empty()) {
    RETURN_IF_ERROR(validation::CheckId("order.company_id", o.company_id(), "company"));
  }
  if (o.line_items().empty()) return Invalid("order.line_items", "needs at least one line");
  Deal lines;  // The same line rules as a deal's.
  *lines.mutable_line_items() = o.line_items();
  if (absl::Status s = CheckLines(lines); !s.ok()) {
    std::string message(s.message());
    message.replace(0, 4, "order");  // "deal.line_items..." -> "order.line_items..."
    return absl::InvalidArgumentError(message);
  }
  if (!o.has_order_time()) return Invalid("order.order_time", "is required");
  RETURN_IF_ERROR(validation::CheckTimestamp("order.order_time", o.order_time()));
  if (o.order_time().seconds() < 0) return Invalid("order.order_time", "must not be before 1970");
  if (o.status() != v1::ORDER_STATUS_UNSPECIFIED || o.has_total() || o.has_refunded()) {
    return Invalid("order.status", "status, total, refunded and net are output only");
  }
  return o;
}

absl::Status ValidateGetOrder(const v1::GetOrderRequest& request) {
  return validation::CheckId("id", request.id(), "order");
}

absl::Status ValidateOrderChange(const std::string& id, int64_t expected_version,
                                 const std::string& request_id) {
  RETURN_IF_ERROR(validation::CheckWriteCommon(request_id, expected_version));
  return validation::CheckId("id", id, "order");
}

// --- Import -----------------------------------------------------------------------------------

namespace {

// The order of an import row: validated as PlaceOrder takes it, its id (optional), status and
// refunded amount apart.
absl::Status ValidateImportOrder(const Order& row, ImportItem& item) {
  Order o = row;
  const std::string id = o.id();
  if (!id.empty()) RETURN_IF_ERROR(validation::CheckId("order.id", id, "order"));
  if (!v1::OrderStatus_IsValid(o.status())) {
    return Invalid("order.status", absl::StrCat("unknown value ", o.status()));
  }
  item.status = o.status() == v1::ORDER_STATUS_UNSPECIFIED ? v1::ORDER_STATUS_PLACED : o.status();
  if (item.status == v1::ORDER_STATUS_PARTIALLY_REFUNDED ||
      item.status == v1::ORDER_STATUS_REFUNDED) {
    if (!o.has_refunded() || o.refunded().minor_units() <= 0) {
      return Invalid("order.refunded", "is required (more than zero) for a refunded order");
    }
    RETURN_IF_ERROR(money::Validate("order.refunded", o.refunded()));
    item.refunded = o.refunded();
  }
  for (int f : {Order::kIdFieldNumber, Order::kStatusFieldNumber, Order::kTotalFieldNumber,
                Order::kRefundedFieldNumber, Order::kNetFieldNumber, Order::kVersionFieldNumber,
                Order::kCreateTimeFieldNumber, Order::kUpdateTimeFieldNumber}) {
    o.GetReflection()->ClearField(&o, Order::descriptor()->FindFieldByNumber(f));
  }
  v1::PlaceOrderRequest place;
  *place.mutable_order() = std::move(o);
  ASSIGN_OR_RETURN(Order valid, ValidatePlaceOrder(place));
  valid.set_id(id);
  item.order = std::move(valid);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ImportItem>> ValidateImport(const v1::ImportRecordsRequest& request) {
  RETURN_IF_ERROR(validation::CheckImportBatch(request));
  std::vector<ImportItem> items;
  items.reserve(request.rows_size());
  for (const auto& row : request.rows()) {
    ImportItem item;
    item.row = row.row();
    if (row.has_product()) {
      v1::CreateProductRequest create;
      *create.mutable_product() = row.product();
      create.mutable_product()->clear_id();  // a product's id follows from its SKU
      absl::StatusOr<Product> product = ValidateCreateProduct(create);
      if (product.ok()) {
        item.keys.push_back("sku:" + product->sku());
        item.product = *std::move(product);
      } else {
        item.invalid = product.status();
      }
    } else if (row.has_order()) {
      item.invalid = ValidateImportOrder(row.order(), item);
      if (item.order && !item.order->id().empty()) item.keys.push_back("id:" + item.order->id());
    } else {
      item.invalid = Invalid("record", "a product or an order is required");
    }
    items.push_back(std::move(item));
  }
  return items;
}

absl::Status ValidateUndoImport(const v1::UndoImportRequest& request) {
  return validation::CheckImportId("import_id", request.import_id());
}

absl::Status ValidateRefund(const v1::RefundOrderRequest& request) {
  RETURN_IF_ERROR(
      ValidateOrderChange(request.id(), request.expected_version(), request.request_id()));
  if (!request.has_amount()) return Invalid("amount", "is required");
  RETURN_IF_ERROR(money::Validate("amount", request.amount()));
  if (request.amount().minor_units() <= 0) {
    return Invalid("amount.minor_units", "must be more than zero");
  }
  return absl::OkStatus();
}

absl::StatusOr<ValidOrderList> ValidateListOrders(const v1::ListOrdersRequest& request) {
  ValidOrderList out;
  RETURN_IF_ERROR(validation::CheckId("contact_id", request.contact_id(), "contact"));
  ASSIGN_OR_RETURN(out.page_size, validation::PageSize(request.page_size(), 1000, 50));
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(
        std::string raw,
        validation::ReadPageToken(request.page_token(), 'O', validation::PagingIdentity(request)));
    if (!absl::WebSafeBase64Unescape(raw, &out.resume_after) || out.resume_after.size() < 9) {
      return Invalid("page_token", "is not a token this service issued");
    }
  }
  return out;
}

std::string OrdersPageToken(const v1::ListOrdersRequest& request, const std::string& resume_after) {
  return validation::MakePageToken('O', validation::PagingIdentity(request),
                                   absl::WebSafeBase64Escape(resume_after));
}

absl::StatusOr<ForecastInput> ValidateForecast(const v1::GetForecastRequest& request) {
  ForecastInput in;
  if (!request.has_period_start()) return Invalid("period_start", "is required");
  if (!request.has_period_end()) return Invalid("period_end", "is required");
  RETURN_IF_ERROR(validation::CheckTimestamp("period_start", request.period_start()));
  RETURN_IF_ERROR(validation::CheckTimestamp("period_end", request.period_end()));
  if (request.period_start().seconds() < 0) {
    return Invalid("period_start", "must not be before 1970");
  }
  const int64_t span = projection::TimestampNanos(request.period_end()) -
                       projection::TimestampNanos(request.period_start());
  if (span <= 0) return Invalid("period_end", "must be after period_start");
  if (span > int64_t{5} * 366 * 86400 * 1000000000) {
    return Invalid("period_end", "the period may span at most 5 years");
  }
  RETURN_IF_ERROR(money::MinorDigits("currency_code", request.currency_code()).status());
  RETURN_IF_ERROR(validation::CheckPrincipal("owner", request.owner(), 128));
  RETURN_IF_ERROR(CheckShortId("pipeline_id", request.pipeline_id(), 64));
  if (request.has_as_of()) RETURN_IF_ERROR(CheckAsOf("as_of", request.as_of()));
  in.period_start = request.period_start();
  in.period_end = request.period_end();
  in.currency_code = request.currency_code();
  return in;
}

std::string DealsPageToken(const v1::ListDealsRequest& request, const std::string& resume_after) {
  return validation::MakePageToken('D', validation::PagingIdentity(request), resume_after);
}

}  // namespace crm::sales
