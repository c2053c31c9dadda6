#include "services/sales/projection/sales_projection.h"

#include "absl/strings/ascii.h"
#include "common/status/status_macros.h"

namespace crm::sales {

using crm::common::v1::EventEnvelope;
using store::Cf;

namespace {

std::string Prefix(char kind, std::string_view tenant) {
  std::string k{kind, '/'};
  k.append(tenant);
  k.push_back('\0');
  return k;
}

std::string ProductKey(std::string_view tenant, std::string_view id) {
  return Prefix('p', tenant).append(id);
}

std::string CategoryPrefix(std::string_view tenant, const std::string& category) {
  std::string k = Prefix('g', tenant).append(absl::AsciiStrToLower(category));
  k.push_back('\0');
  return k;
}

absl::StatusOr<std::optional<Product>> Decode(const std::optional<std::string>& raw) {
  if (!raw) return std::nullopt;
  Product p;
  if (!p.ParseFromString(*raw)) return absl::DataLossError("corrupt product");
  return p;
}

}  // namespace

bool SalesProjection::Handles(std::string_view event_type) const {
  return IsProductEvent(event_type) || directory::IsContactEvent(event_type);
}

absl::StatusOr<absl::Status> SalesProjection::Apply(const EventEnvelope& event,
                                                    store::ProjectionStore::Batch& batch) {
  if (directory::IsContactEvent(event.event_type())) {
    RETURN_IF_ERROR(directory_.Apply(event, batch));
    return absl::OkStatus();
  }
  const std::string key = ProductKey(event.tenant(), event.aggregate_id());
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<Product> current, Decode(raw));
  absl::StatusOr<Product> next = ApplyProduct(current, event);
  if (!next.ok()) return next.status();
  if (current && current->category() != next->category()) {
    batch.Delete(Cf::kIndex, CategoryPrefix(event.tenant(), current->category()) + next->id());
  }
  batch.Put(Cf::kIndex, CategoryPrefix(event.tenant(), next->category()) + next->id(), "");
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(*next));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Product>> SalesProjection::GetProduct(std::string_view tenant,
                                                                   std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(Cf::kState, ProductKey(tenant, id)));
  return Decode(raw);
}

absl::StatusOr<ProductPage> SalesProjection::ListProducts(std::string_view tenant,
                                                          const std::string& category,
                                                          bool show_inactive,
                                                          std::string_view resume_after,
                                                          size_t page_size, size_t max_scan) const {
  ProductPage page;
  const bool by_category = !category.empty();
  const std::string prefix = by_category ? CategoryPrefix(tenant, category) : Prefix('p', tenant);
  std::string start;
  if (!resume_after.empty()) {
    start = prefix + std::string(resume_after);
    start.push_back('\0');
  }
  size_t scanned = 0;
  std::string last;
  absl::Status error;
  RETURN_IF_ERROR(store_->Scan(by_category ? Cf::kIndex : Cf::kState, prefix, start,
                               [&](std::string_view key, std::string_view) {
                                 if (page.products.size() >= page_size || scanned >= max_scan) {
                                   page.resume_after = last;
                                   return false;
                                 }
                                 ++scanned;
                                 last = std::string(key.substr(prefix.size()));
                                 absl::StatusOr<std::optional<Product>> p =
                                     GetProduct(tenant, last);
                                 if (!p.ok()) {
                                   error = p.status();
                                   return false;
                                 }
                                 if (*p && ((*p)->active() || show_inactive)) {
                                   page.products.push_back(std::move(**p));
                                 }
                                 return true;
                               }));
  RETURN_IF_ERROR(error);
  return page;
}

}  // namespace crm::sales
