#include "services/sales/projection/sales_projection.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/projection/as_of.h"
#include "common/projection/import_ledger.h"
#include "common/status/status_macros.h"
#include "common/store/big_endian.h"
#include "common/store/keys.h"

namespace crm::sales {

using crm::common::v1::EventEnvelope;
using store::Cf;

namespace {

std::string Prefix(char kind, std::string_view tenant) { return store::KindPrefix(kind, tenant); }

constexpr char kDealAsOfKind = 'v';
// The import ledger (common/projection/import_ledger.h).
constexpr char kImportKind = 'i';

// The open-deals-by-stage prefix of a pipeline's stage.
std::string OpenDealPrefix(std::string_view tenant, std::string_view pipeline,
                           std::string_view stage) {
  std::string k = Prefix('s', tenant);
  k.append(pipeline);
  k.push_back('\0');
  k.append(stage);
  k.push_back('\0');
  return k;
}

// The deal's entry in the open-deals index; empty if it is closed.
std::string OpenDealKey(std::string_view tenant, const Deal& d) {
  if (d.status() != crm::sales::v1::DEAL_STATUS_OPEN) return "";
  return OpenDealPrefix(tenant, d.pipeline_id(), d.stage_id()).append(d.id());
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

// The record an event of this service's own reads and writes: its aggregate's.
std::string RecordKey(const EventEnvelope& event) {
  const std::string& t = event.event_type();
  if (IsPipelineEvent(t)) return Prefix('l', event.tenant()).append(event.aggregate_id());
  if (IsDealEvent(t)) return Prefix('d', event.tenant()).append(event.aggregate_id());
  if (IsOrderEvent(t)) return Prefix('r', event.tenant()).append(event.aggregate_id());
  return ProductKey(event.tenant(), event.aggregate_id());
}

}  // namespace

bool SalesProjection::Handles(std::string_view event_type) const {
  return IsProductEvent(event_type) || IsPipelineEvent(event_type) || IsDealEvent(event_type) ||
         IsOrderEvent(event_type) || directory::IsContactEvent(event_type);
}

void SalesProjection::WillRead(const EventEnvelope& event,
                               std::vector<std::string>& state_keys) const {
  if (directory::IsContactEvent(event.event_type())) {
    directory_.WillRead(event, state_keys);
  } else if (Handles(event.event_type())) {
    state_keys.push_back(RecordKey(event));
  }
}

absl::StatusOr<absl::Status> SalesProjection::Apply(const EventEnvelope& event,
                                                    store::ProjectionStore::Batch& batch) {
  if (directory::IsContactEvent(event.event_type())) {
    RETURN_IF_ERROR(directory_.Apply(event, batch));
    return absl::OkStatus();
  }
  if (IsPipelineEvent(event.event_type())) return ApplyPipelineEvent(event, batch);
  if (IsDealEvent(event.event_type())) return ApplyDealEvent(event, batch);
  if (IsOrderEvent(event.event_type())) {
    ASSIGN_OR_RETURN(absl::Status applied, ApplyOrderEvent(event, batch));
    if (applied.ok()) RETURN_IF_ERROR(projection::RecordImport(batch, kImportKind, event, {}));
    return applied;
  }
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<Product> current, Decode(raw));
  absl::StatusOr<Product> next = ApplyProduct(current, event);
  if (!next.ok()) return next.status();
  if (event.source() == projection::kImportSource) {
    // Products keep no versions: the ledger keeps the product as it was.
    std::vector<std::string> paths;
    if (crm::sales::v1::ProductUpdated u; event.payload().UnpackTo(&u)) {
      paths.assign(u.update_mask().paths().begin(), u.update_mask().paths().end());
    }
    RETURN_IF_ERROR(
        projection::RecordImport(batch, kImportKind, event, paths, raw ? *raw : std::string()));
  }
  if (current && current->category() != next->category()) {
    batch.Delete(Cf::kIndex, CategoryPrefix(event.tenant(), current->category()) + next->id());
  }
  batch.Put(Cf::kIndex, CategoryPrefix(event.tenant(), next->category()) + next->id(), "");
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(*next));
  return absl::OkStatus();
}

absl::StatusOr<absl::Status> SalesProjection::ApplyDealEvent(const EventEnvelope& event,
                                                             store::ProjectionStore::Batch& batch) {
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  std::optional<Deal> current;
  if (raw) {
    current.emplace();
    if (!current->ParseFromString(*raw)) return absl::DataLossError("corrupt deal");
  }
  absl::StatusOr<Deal> next = ApplyDeal(current, event);
  if (!next.ok()) return next.status();
  if (!current && !next->contact_id().empty()) {
    std::string by_contact = Prefix('c', event.tenant()).append(next->contact_id());
    by_contact.push_back('\0');
    batch.Put(Cf::kIndex, by_contact + next->id(), "");
  }
  const std::string was_open = current ? OpenDealKey(event.tenant(), *current) : "";
  const std::string is_open = OpenDealKey(event.tenant(), *next);
  if (was_open != is_open) {
    if (!was_open.empty()) batch.Delete(Cf::kIndex, was_open);
    if (!is_open.empty()) batch.Put(Cf::kIndex, is_open, "");
  }
  if (current) projection::KeepSuperseded(batch, kDealAsOfKind, event.tenant(), *current, *raw);
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(*next));
  return absl::OkStatus();
}

absl::StatusOr<absl::Status> SalesProjection::ApplyPipelineEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  std::optional<Pipeline> current;
  if (raw) {
    current.emplace();
    if (!current->ParseFromString(*raw)) return absl::DataLossError("corrupt pipeline");
  }
  absl::StatusOr<Pipeline> next = ApplyPipeline(current, event);
  if (!next.ok()) return next.status();
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(*next));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Pipeline>> SalesProjection::GetPipeline(std::string_view tenant,
                                                                     std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, Prefix('l', tenant).append(id)));
  if (!raw) {
    if (id == kDefaultPipelineId) return DefaultPipeline();
    return std::nullopt;
  }
  Pipeline p;
  if (!p.ParseFromString(*raw)) return absl::DataLossError("corrupt pipeline");
  return p;
}

absl::StatusOr<std::vector<Pipeline>> SalesProjection::ListPipelines(std::string_view tenant,
                                                                     size_t max) const {
  std::vector<Pipeline> out;
  ASSIGN_OR_RETURN(std::optional<Pipeline> standard, GetPipeline(tenant, kDefaultPipelineId));
  out.push_back(*std::move(standard));
  const std::string prefix = Prefix('l', tenant);
  absl::Status error;
  RETURN_IF_ERROR(
      store_->Scan(Cf::kState, prefix, "", [&](std::string_view key, std::string_view value) {
        if (key.substr(prefix.size()) == kDefaultPipelineId) return true;
        Pipeline p;
        if (!p.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError("corrupt pipeline");
          return false;
        }
        out.push_back(std::move(p));
        return out.size() < max;
      }));
  RETURN_IF_ERROR(error);
  return out;
}

absl::StatusOr<bool> SalesProjection::HasOpenDeals(std::string_view tenant,
                                                   std::string_view pipeline,
                                                   std::string_view stage) const {
  bool found = false;
  RETURN_IF_ERROR(store_->Scan(Cf::kIndex, OpenDealPrefix(tenant, pipeline, stage), "",
                               [&](std::string_view, std::string_view) {
                                 found = true;
                                 return false;
                               }));
  return found;
}

namespace {

std::string HistoryPrefix(std::string_view tenant, std::string_view contact) {
  std::string k = Prefix('h', tenant).append(contact);
  k.push_back('\0');
  return k;
}

std::string HistoryPosition(const Order& o) {
  std::string k;
  const int64_t nanos = projection::TimestampNanos(o.order_time());
  store::PutBigEndian(k, UINT64_MAX - static_cast<uint64_t>(nanos));
  return k.append(o.id());
}

}  // namespace

absl::StatusOr<absl::Status> SalesProjection::ApplyOrderEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  std::optional<Order> current;
  if (raw) {
    current.emplace();
    if (!current->ParseFromString(*raw)) return absl::DataLossError("corrupt order");
  }
  absl::StatusOr<Order> next = ApplyOrder(current, event);
  if (!next.ok()) return next.status();
  if (!current) {
    batch.Put(Cf::kIndex,
              HistoryPrefix(event.tenant(), next->contact_id()) + HistoryPosition(*next), "");
  }
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(*next));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Order>> SalesProjection::GetOrder(std::string_view tenant,
                                                               std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, Prefix('r', tenant).append(id)));
  if (!raw) return std::nullopt;
  Order o;
  if (!o.ParseFromString(*raw)) return absl::DataLossError("corrupt order");
  return o;
}

absl::StatusOr<OrderPage> SalesProjection::ListOrders(std::string_view tenant,
                                                      const std::vector<std::string>& contacts,
                                                      std::string_view resume_after,
                                                      size_t page_size) const {
  // Each contact's history is newest first; take up to a page from each and merge.
  std::vector<std::pair<std::string, std::string>> entries;  // (position, order id)
  for (const std::string& contact : contacts) {
    const std::string prefix = HistoryPrefix(tenant, contact);
    std::string start;
    if (!resume_after.empty()) {
      start = prefix + std::string(resume_after);
      start.push_back('\0');
    }
    size_t taken = 0;
    RETURN_IF_ERROR(
        store_->Scan(Cf::kIndex, prefix, start, [&](std::string_view key, std::string_view) {
          const std::string position(key.substr(prefix.size()));
          entries.emplace_back(position, position.substr(8));
          return ++taken <= page_size;
        }));
  }
  std::sort(entries.begin(), entries.end());
  OrderPage page;
  for (const auto& [position, id] : entries) {
    if (page.orders.size() >= page_size) {
      page.resume_after = HistoryPosition(page.orders.back());
      break;
    }
    ASSIGN_OR_RETURN(std::optional<Order> o, GetOrder(tenant, id));
    if (o) page.orders.push_back(std::move(*o));
  }
  return page;
}

absl::StatusOr<std::optional<Deal>> SalesProjection::GetDealVersion(std::string_view tenant,
                                                                    std::string_view id,
                                                                    int64_t version) const {
  return projection::ReadVersion<Deal>(*store_, kDealAsOfKind, tenant, id,
                                       Prefix('d', tenant).append(id), version);
}

absl::StatusOr<std::optional<Deal>> SalesProjection::GetDeal(
    std::string_view tenant, std::string_view id,
    const std::optional<google::protobuf::Timestamp>& as_of) const {
  if (as_of) {
    return projection::ReadAsOf<Deal>(*store_, kDealAsOfKind, tenant, id,
                                      Prefix('d', tenant).append(id), *as_of);
  }
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, Prefix('d', tenant).append(id)));
  if (!raw) return std::nullopt;
  Deal d;
  if (!d.ParseFromString(*raw)) return absl::DataLossError("corrupt deal");
  return d;
}

absl::StatusOr<DealPage> SalesProjection::ListDeals(std::string_view tenant,
                                                    const DealFilter& filter,
                                                    std::string_view resume_after, size_t page_size,
                                                    size_t max_scan) const {
  DealPage page;
  auto keep = [&filter](const Deal& d) {
    if (!filter.pipeline_id.empty() && d.pipeline_id() != filter.pipeline_id) return false;
    if (!filter.stage_id.empty() && d.stage_id() != filter.stage_id) return false;
    if (!filter.owner.empty() && d.owner() != filter.owner) return false;
    if (!filter.company_id.empty() && d.company_id() != filter.company_id) return false;
    if (filter.status != 0 && d.status() != filter.status) return false;
    if (filter.close_after_nanos &&
        (!d.has_expected_close_time() ||
         projection::TimestampNanos(d.expected_close_time()) < *filter.close_after_nanos)) {
      return false;
    }
    return !(filter.close_before_nanos &&
             (!d.has_expected_close_time() ||
              projection::TimestampNanos(d.expected_close_time()) >= *filter.close_before_nanos));
  };
  // One or more scans: every deal, or each contact's deals; the position names the scan.
  std::vector<std::string> prefixes;
  if (filter.contact_ids.empty()) {
    prefixes.push_back(Prefix('d', tenant));
  } else {
    for (const std::string& c : filter.contact_ids) {
      std::string p = Prefix('c', tenant).append(c);
      p.push_back('\0');
      prefixes.push_back(p);
    }
  }
  // resume_after = "<scan index>|<last id>".
  size_t first = 0;
  std::string after;
  if (!resume_after.empty()) {
    const size_t bar = resume_after.find('|');
    first = static_cast<size_t>(std::stoul(std::string(resume_after.substr(0, bar))));
    after = std::string(resume_after.substr(bar + 1));
  }
  size_t scanned = 0;
  absl::Status error;
  for (size_t i = first; i < prefixes.size() && page.resume_after.empty(); ++i) {
    const std::string& prefix = prefixes[i];
    std::string start;
    if (i == first && !after.empty()) {
      start = prefix + after;
      start.push_back('\0');
    }
    std::string last;
    RETURN_IF_ERROR(store_->Scan(filter.contact_ids.empty() ? Cf::kState : Cf::kIndex, prefix,
                                 start, [&](std::string_view key, std::string_view) {
                                   if (page.deals.size() >= page_size || scanned >= max_scan) {
                                     page.resume_after = absl::StrCat(i, "|", last);
                                     return false;
                                   }
                                   ++scanned;
                                   last = std::string(key.substr(prefix.size()));
                                   absl::StatusOr<std::optional<Deal>> d =
                                       GetDeal(tenant, last, filter.as_of);
                                   if (!d.ok()) {
                                     error = d.status();
                                     return false;
                                   }
                                   if (*d && keep(**d)) page.deals.push_back(std::move(**d));
                                   return true;
                                 }));
    RETURN_IF_ERROR(error);
  }
  return page;
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

absl::Status SalesProjection::ScanImport(
    std::string_view tenant, std::string_view import_id,
    const std::function<bool(std::string_view id, const crm::common::v1::ImportLedgerEntry&)>& fn)
    const {
  return projection::ScanImport(store_->Latest(), kImportKind, tenant, import_id, fn);
}

}  // namespace crm::sales
