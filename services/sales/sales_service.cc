#include "services/sales/sales_service.h"

#include <type_traits>

#include "absl/strings/str_cat.h"
#include "common/ids/ids.h"
#include "common/status/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace crm::sales {
namespace {

using Decided = projection::CommandWriter::Decision;
using Payload = projection::CommandWriter::Payload;
using projection::Take;

constexpr size_t kMaxListScan = 10000;
// How long a write may wait for the directory to learn of a contact just created.
constexpr absl::Duration kDirectoryWait = absl::Seconds(5);
// Pipelines a tenant may have (ListPipelines answers in one page).
constexpr size_t kMaxPipelines = 200;

// The time stage durations run to: `as_of` for a past read, else now.
google::protobuf::Timestamp ReadTime(const std::optional<google::protobuf::Timestamp>& as_of) {
  return as_of ? *as_of : google::protobuf::util::TimeUtil::GetCurrentTime();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SalesService>> SalesService::Open(const std::string& projection_dir,
                                                                 eventlog::EventLog* log,
                                                                 bool rebuild) {
  ASSIGN_OR_RETURN(
      std::unique_ptr<store::ProjectionStore> store,
      store::ProjectionStore::OpenProjection(projection_dir, kProjectionLayout, rebuild));
  return std::unique_ptr<SalesService>(new SalesService(std::move(store), log));
}

SalesService::SalesService(std::unique_ptr<store::ProjectionStore> store, eventlog::EventLog* log)
    : store_(std::move(store)),
      projection_(store_.get()),
      projector_(
          projection::ProjectorOptions{
              .name = "sales", .topics = {kTopic, directory::kContactTopic}, .own_topic = kTopic},
          log, store_.get(), &projection_),
      writer_(log, &projector_, kTopic, kProductAggregateType) {}

SalesService::~SalesService() { Stop(); }

void SalesService::Stop() { projector_.Stop(); }

template <typename T>
absl::StatusOr<std::optional<T>> SalesService::Current(std::string_view tenant,
                                                       const std::string& id) const {
  if constexpr (std::is_same_v<T, Product>) return projection_.GetProduct(tenant, id);
  if constexpr (std::is_same_v<T, Pipeline>) return projection_.GetPipeline(tenant, id);
  if constexpr (std::is_same_v<T, Deal>) return projection_.GetDeal(tenant, id);
  if constexpr (std::is_same_v<T, Order>) return projection_.GetOrder(tenant, id);
}

template <typename T>
void SalesService::Write(const CallContext& ctx, const std::string& command, const std::string& id,
                         const std::string& request_id,
                         const std::function<Decided(const std::optional<T>&, Payload&)>& decide,
                         Done<T> done) {
  const char* aggregate_type = std::is_same_v<T, Product>    ? kProductAggregateType
                               : std::is_same_v<T, Pipeline> ? kPipelineAggregateType
                               : std::is_same_v<T, Deal>     ? kDealAggregateType
                                                             : kOrderAggregateType;
  projection::CommandWriter::Command cmd =
      projection::CommandFor(ctx, command, aggregate_type, request_id);
  if (command.starts_with("Import")) cmd.source = std::string(projection::kImportSource);
  writer_.Run<T>(
      std::move(cmd),
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<T> current, Current<T>(ctx.tenant, id));
        return decide(current, payload);
      },
      [this, ctx](const std::string& written_id, int64_t version) -> absl::StatusOr<T> {
        if constexpr (std::is_same_v<T, Product>) return GetProduct(ctx, written_id);
        if constexpr (std::is_same_v<T, Pipeline>) return GetPipeline(ctx, written_id);
        if constexpr (std::is_same_v<T, Deal>) {
          // Deals keep every version: answer with the one this command made.
          ASSIGN_OR_RETURN(Deal deal, GetDeal(ctx, written_id));
          if (deal.version() == version) return deal;
          ASSIGN_OR_RETURN(std::optional<Deal> made,
                           projection_.GetDealVersion(ctx.tenant, written_id, version));
          return made ? *std::move(made) : deal;
        }
        if constexpr (std::is_same_v<T, Order>) return GetOrder(ctx, written_id);
      },
      std::move(done));
}

LinkCheck SalesService::Links(const CallContext& ctx) {
  return [this, &ctx](const std::string& field, const std::string& id, Link kind) {
    return projection_.directory().CheckLinkableWaiting(
        projector_, ctx.tenant, field, id, std::min(ctx.deadline, absl::Now() + kDirectoryWait),
        kind == Link::kCompany ? directory::Kind::kCompany : directory::Kind::kContact);
  };
}

PipelineLookup SalesService::Pipelines(const CallContext& ctx) const {
  return [this, &ctx](const std::string& field, const std::string& id) -> absl::StatusOr<Pipeline> {
    const std::string name = id.empty() ? std::string(kDefaultPipelineId) : id;
    ASSIGN_OR_RETURN(std::optional<Pipeline> p, projection_.GetPipeline(ctx.tenant, name));
    if (!p) return absl::NotFoundError(absl::StrCat(field, ": no pipeline \"", name, "\""));
    return *std::move(p);
  };
}

void SalesService::CreateProduct(const CallContext& ctx, const Product& product,
                                 const std::string& request_id, Done<Product> done) {
  const std::string id = ProductId(ctx.tenant, product.sku());
  Write<Product>(
      ctx, "CreateProduct", id, request_id,
      [&](const std::optional<Product>& existing, Payload& payload) {
        return Take(DecideCreateProduct(existing, product, id), payload, id, 0);
      },
      std::move(done));
}

void SalesService::UpdateProduct(const CallContext& ctx, const Product& values,
                                 const google::protobuf::FieldMask& mask, int64_t expected_version,
                                 const std::string& request_id, Done<Product> done) {
  Write<Product>(
      ctx, "UpdateProduct", values.id(), request_id,
      [&](const std::optional<Product>& current, Payload& payload) {
        return Take(DecideUpdateProduct(current, values, mask, expected_version), payload,
                    values.id(), current ? current->version() : 0);
      },
      std::move(done));
}

void SalesService::DeactivateProduct(const CallContext& ctx, const std::string& id,
                                     int64_t expected_version, const std::string& request_id,
                                     Done<Product> done) {
  Write<Product>(
      ctx, "DeactivateProduct", id, request_id,
      [&](const std::optional<Product>& current, Payload& payload) {
        return Take(DecideDeactivateProduct(current, id, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

absl::StatusOr<Product> SalesService::GetProduct(const CallContext& ctx,
                                                 const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<Product> p, projection_.GetProduct(ctx.tenant, id));
  if (!p) return absl::NotFoundError(absl::StrCat("id: product ", id, " does not exist"));
  return *std::move(p);
}

absl::StatusOr<ProductPage> SalesService::ListProducts(const CallContext& ctx,
                                                       const std::string& category,
                                                       bool show_inactive,
                                                       const std::string& resume_after,
                                                       size_t page_size) const {
  return projection_.ListProducts(ctx.tenant, category, show_inactive, resume_after, page_size,
                                  kMaxListScan);
}

void SalesService::CreateDeal(const CallContext& ctx, const Deal& deal,
                              const std::string& request_id, Done<Deal> done) {
  const std::string id = ids::NewId();
  Write<Deal>(
      ctx, "CreateDeal", id, request_id,
      [&](const std::optional<Deal>&, Payload& payload) {
        return Take(DecideCreateDeal(deal, id, Pipelines(ctx), Links(ctx)), payload, id, 0);
      },
      std::move(done));
}

void SalesService::UpdateDeal(const CallContext& ctx, const Deal& values,
                              const google::protobuf::FieldMask& mask, int64_t expected_version,
                              const std::string& request_id, Done<Deal> done) {
  Write<Deal>(
      ctx, "UpdateDeal", values.id(), request_id,
      [&](const std::optional<Deal>& current, Payload& payload) {
        return Take(DecideUpdateDeal(current, values, mask, expected_version), payload, values.id(),
                    current ? current->version() : 0);
      },
      std::move(done));
}

void SalesService::MoveDealStage(const CallContext& ctx, const std::string& id,
                                 const std::string& stage_id, int32_t probability_bp,
                                 int64_t expected_version, const std::string& request_id,
                                 Done<Deal> done) {
  Write<Deal>(
      ctx, "MoveDealStage", id, request_id,
      [&](const std::optional<Deal>& current, Payload& payload) {
        return Take(DecideMoveStage(current, id, Pipelines(ctx), stage_id, probability_bp,
                                    expected_version),
                    payload, id, current ? current->version() : 0);
      },
      std::move(done));
}

void SalesService::WinDeal(const CallContext& ctx, const std::string& id, int64_t expected_version,
                           const std::string& request_id, Done<Deal> done) {
  Write<Deal>(
      ctx, "WinDeal", id, request_id,
      [&](const std::optional<Deal>& current, Payload& payload) {
        return Take(DecideWin(current, id, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

void SalesService::LoseDeal(const CallContext& ctx, const std::string& id,
                            const std::string& reason, int64_t expected_version,
                            const std::string& request_id, Done<Deal> done) {
  Write<Deal>(
      ctx, "LoseDeal", id, request_id,
      [&](const std::optional<Deal>& current, Payload& payload) {
        return Take(DecideLose(current, id, reason, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

void SalesService::ReopenDeal(const CallContext& ctx, const std::string& id,
                              const std::string& stage_id, int64_t expected_version,
                              const std::string& request_id, Done<Deal> done) {
  Write<Deal>(
      ctx, "ReopenDeal", id, request_id,
      [&](const std::optional<Deal>& current, Payload& payload) {
        return Take(DecideReopen(current, id, Pipelines(ctx), stage_id, expected_version), payload,
                    id, current ? current->version() : 0);
      },
      std::move(done));
}

absl::StatusOr<Deal> SalesService::GetDeal(
    const CallContext& ctx, const std::string& id,
    const std::optional<google::protobuf::Timestamp>& as_of) const {
  ASSIGN_OR_RETURN(std::optional<Deal> d, projection_.GetDeal(ctx.tenant, id, as_of));
  if (!d) {
    return absl::NotFoundError(
        absl::StrCat("id: deal ", id, " does not exist", as_of ? " at as_of" : ""));
  }
  FillStageDurations(*d, ReadTime(as_of));
  return *std::move(d);
}

absl::StatusOr<DealPage> SalesService::ListDeals(const CallContext& ctx, DealFilter filter,
                                                 const std::string& contact_id,
                                                 const std::string& resume_after,
                                                 size_t page_size) const {
  if (!contact_id.empty()) {
    ASSIGN_OR_RETURN(filter.contact_ids,
                     projection_.directory().WithMerged(ctx.tenant, contact_id));
  }
  ASSIGN_OR_RETURN(DealPage page, projection_.ListDeals(ctx.tenant, filter, resume_after, page_size,
                                                        kMaxListScan));
  const google::protobuf::Timestamp now = ReadTime(filter.as_of);
  for (Deal& d : page.deals) FillStageDurations(d, now);
  return page;
}

void SalesService::PlaceOrder(const CallContext& ctx, const Order& order,
                              const std::string& request_id, Done<Order> done) {
  const std::string id = ids::NewId();
  Write<Order>(
      ctx, "PlaceOrder", id, request_id,
      [&](const std::optional<Order>&, Payload& payload) {
        return Take(DecidePlaceOrder(order, id, Links(ctx)), payload, id, 0);
      },
      std::move(done));
}

void SalesService::ActOnOrder(const CallContext& ctx, const std::string& id, OrderAction action,
                              int64_t expected_version, const std::string& request_id,
                              Done<Order> done) {
  const char* command = action == OrderAction::kPay      ? "PayOrder"
                        : action == OrderAction::kFulfil ? "FulfillOrder"
                                                         : "CancelOrder";
  Write<Order>(
      ctx, command, id, request_id,
      [&](const std::optional<Order>& current, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(payload, DecideOrderAction(current, id, action, expected_version));
        return std::make_pair(id, current ? current->version() : 0);
      },
      std::move(done));
}

void SalesService::RefundOrder(const CallContext& ctx, const std::string& id,
                               const crm::common::v1::Money& amount, int64_t expected_version,
                               const std::string& request_id, Done<Order> done) {
  Write<Order>(
      ctx, "RefundOrder", id, request_id,
      [&](const std::optional<Order>& current, Payload& payload) {
        return Take(DecideRefund(current, id, amount, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

absl::StatusOr<Order> SalesService::GetOrder(const CallContext& ctx, const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<Order> o, projection_.GetOrder(ctx.tenant, id));
  if (!o) return absl::NotFoundError(absl::StrCat("id: order ", id, " does not exist"));
  return *std::move(o);
}

absl::StatusOr<OrderPage> SalesService::ListOrders(const CallContext& ctx,
                                                   const std::string& contact_id,
                                                   const std::string& resume_after,
                                                   size_t page_size) const {
  ASSIGN_OR_RETURN(std::vector<std::string> contacts,
                   projection_.directory().WithMerged(ctx.tenant, contact_id));
  return projection_.ListOrders(ctx.tenant, contacts, resume_after, page_size);
}

absl::StatusOr<crm::sales::v1::Forecast> SalesService::GetForecast(
    const CallContext& ctx, ForecastInput input, const std::string& owner,
    const std::string& pipeline_id, const std::optional<google::protobuf::Timestamp>& as_of) const {
  // Every deal of the owner and pipeline, in pages; bounded so one call stays bounded.
  constexpr size_t kMaxDeals = 100000;
  DealFilter filter;
  filter.owner = owner;
  filter.pipeline_id = pipeline_id;
  filter.as_of = as_of;
  std::vector<Deal> deals;
  std::string resume;
  do {
    ASSIGN_OR_RETURN(DealPage page,
                     projection_.ListDeals(ctx.tenant, filter, resume, 1000, kMaxListScan));
    for (Deal& d : page.deals) deals.push_back(std::move(d));
    resume = page.resume_after;
  } while (!resume.empty() && deals.size() < kMaxDeals);
  if (!resume.empty()) {
    return absl::ResourceExhaustedError(
        "owner: more than 100000 deals; narrow the forecast by owner or pipeline");
  }
  if (pipeline_id.empty()) {
    ASSIGN_OR_RETURN(input.pipelines, ListPipelines(ctx));
  } else {
    ASSIGN_OR_RETURN(Pipeline p, Pipelines(ctx)("pipeline_id", pipeline_id));
    input.pipelines.push_back(std::move(p));
  }
  return ComputeForecast(deals, input);
}

void SalesService::CreatePipeline(const CallContext& ctx, const Pipeline& pipeline,
                                  const std::string& request_id, Done<Pipeline> done) {
  Write<Pipeline>(
      ctx, "CreatePipeline", pipeline.id(), request_id,
      [&](const std::optional<Pipeline>& existing, Payload& payload) {
        return Take(DecidePipelineCreate(existing, pipeline), payload, pipeline.id(), 0);
      },
      std::move(done));
}

void SalesService::UpdatePipeline(const CallContext& ctx, const Pipeline& values,
                                  const google::protobuf::FieldMask& mask, int64_t expected_version,
                                  const std::string& request_id, Done<Pipeline> done) {
  Write<Pipeline>(
      ctx, "UpdatePipeline", values.id(), request_id,
      [&](const std::optional<Pipeline>& current, Payload& payload) {
        const StageInUse in_use = [&](const std::string& stage) {
          return projection_.HasOpenDeals(ctx.tenant, values.id(), stage);
        };
        return Take(DecidePipelineUpdate(current, values, mask, expected_version, in_use), payload,
                    values.id(), current ? current->version() : 0);
      },
      std::move(done));
}

absl::StatusOr<Pipeline> SalesService::GetPipeline(const CallContext& ctx,
                                                   const std::string& id) const {
  return Pipelines(ctx)("id", id);
}

absl::StatusOr<std::vector<projection::ExportSource<crm::sales::v1::ExportRecordsResponse>>>
SalesService::ExportSources(const CallContext& ctx) const {
  using Response = crm::sales::v1::ExportRecordsResponse;
  const store::ReadView view = store_->Snapshot();
  ASSIGN_OR_RETURN(std::vector<Pipeline> pipelines, ListPipelines(ctx));
  std::vector<Response> pipeline_records(pipelines.size());
  for (size_t i = 0; i < pipelines.size(); ++i) {
    *pipeline_records[i].mutable_pipeline() = std::move(pipelines[i]);
  }
  std::vector<projection::ExportSource<Response>> sources;
  sources.push_back(projection::KindSource<Product, Response>(
      view, 'p', ctx.tenant, [](Product& p, Response& r) { *r.mutable_product() = std::move(p); }));
  sources.push_back(projection::FixedSource<Response>(std::move(pipeline_records)));
  sources.push_back(projection::KindSource<Deal, Response>(
      view, 'd', ctx.tenant, [](Deal& d, Response& r) { *r.mutable_deal() = std::move(d); }));
  sources.push_back(projection::KindSource<Order, Response>(
      view, 'r', ctx.tenant, [](Order& o, Response& r) { *r.mutable_order() = std::move(o); }));
  return sources;
}

absl::StatusOr<std::vector<Pipeline>> SalesService::ListPipelines(const CallContext& ctx) const {
  return projection_.ListPipelines(ctx.tenant, kMaxPipelines);
}

absl::StatusOr<nlohmann::json> SalesService::ExportPersonalData(
    const CallContext& ctx, const std::vector<std::string>& contact_ids) const {
  nlohmann::json out = {{"orders", nlohmann::json::array()}, {"deals", nlohmann::json::array()}};
  for (const std::string& contact_id : contact_ids) {
    std::string resume;
    for (int page = 0; page < projection::kMaxExportPages; ++page) {
      ASSIGN_OR_RETURN(OrderPage orders, ListOrders(ctx, contact_id, resume, 1000));
      for (const Order& o : orders.orders) out["orders"].push_back(projection::ToJson(o));
      if (orders.resume_after.empty()) break;
      resume = orders.resume_after;
    }
  }
  DealFilter filter;
  filter.contact_ids = contact_ids;
  std::string resume;
  for (int page = 0; page < projection::kMaxExportPages; ++page) {
    ASSIGN_OR_RETURN(DealPage deals, ListDeals(ctx, filter, "", resume, 1000));
    for (const Deal& d : deals.deals) out["deals"].push_back(projection::ToJson(d));
    if (deals.resume_after.empty()) break;
    resume = deals.resume_after;
  }
  return out;
}

// --- Import -----------------------------------------------------------------------------------

void SalesService::ImportProduct(const CallContext& ctx, const std::string& import_id, int64_t row,
                                 const Product& product,
                                 Done<crm::common::v1::ImportRowResult> done) {
  auto match = std::make_shared<projection::ImportMatch>();
  const std::string id = ProductId(ctx.tenant, product.sku());
  Write<Product>(
      projection::ImportContext(ctx, import_id), "ImportProduct", id,
      projection::ImportRequestId(import_id, row),
      [&](const std::optional<Product>& current, Payload& payload) -> Decided {
        if (!current) return Take(DecideCreateProduct(current, product, id), payload, id, 0);
        match->matched_by = "sku";
        auto [values, mask] = ImportProductChanges(*current, product);
        if (mask.paths().empty()) {
          match->unchanged.emplace(id, current->version());
          return projection::Unchanged();
        }
        return Take(DecideUpdateProduct(current, values, mask, current->version()), payload, id,
                    current->version());
      },
      projection::ImportRowDone<Product>(row, match, nullptr, std::move(done)));
}

void SalesService::OrderSteps(const CallContext& ctx, const std::string& request_id,
                              const std::string& id, std::vector<std::string> steps,
                              const crm::common::v1::Money& refunded, Done<Order> done) {
  if (steps.empty()) {
    done(GetOrder(ctx, id));
    return;
  }
  const std::string step = steps.front();
  steps.erase(steps.begin());
  Done<Order> next = [this, ctx, request_id, id, steps = std::move(steps), refunded,
                      done](absl::StatusOr<Order> order) mutable {
    if (!order.ok()) return done(order.status());
    OrderSteps(ctx, request_id, id, std::move(steps), refunded, std::move(done));
  };
  const std::string step_id = request_id + "#" + step;
  if (step == "refund") return RefundOrder(ctx, id, refunded, 0, step_id, std::move(next));
  ActOnOrder(ctx, id,
             step == "pay"      ? OrderAction::kPay
             : step == "fulfil" ? OrderAction::kFulfil
                                : OrderAction::kCancel,
             0, step_id, std::move(next));
}

void SalesService::ImportOrder(const CallContext& ctx, const std::string& import_id, int64_t row,
                               const Order& order, crm::sales::v1::OrderStatus status,
                               const crm::common::v1::Money& refunded,
                               Done<crm::common::v1::ImportRowResult> done) {
  using crm::sales::v1::OrderStatus;
  auto match = std::make_shared<projection::ImportMatch>();
  const std::string id = order.id().empty() ? ids::NewId() : order.id();
  const std::string request_id = projection::ImportRequestId(import_id, row);
  // The steps from placed to the row's status.
  std::vector<std::string> steps;
  switch (status) {
    case OrderStatus::ORDER_STATUS_PAID:
      steps = {"pay"};
      break;
    case OrderStatus::ORDER_STATUS_FULFILLED:
      steps = {"pay", "fulfil"};
      break;
    case OrderStatus::ORDER_STATUS_CANCELLED:
      steps = {"cancel"};
      break;
    case OrderStatus::ORDER_STATUS_PARTIALLY_REFUNDED:
    case OrderStatus::ORDER_STATUS_REFUNDED:
      steps = {"pay", "refund"};
      break;
    default:
      break;
  }
  const CallContext ictx = projection::ImportContext(ctx, import_id);
  projection::ImportStep<Order> then;
  if (!steps.empty()) {
    then = [this, ictx, request_id, steps, refunded](const std::string& placed, Done<Order> d) {
      OrderSteps(ictx, request_id, placed, steps, refunded, std::move(d));
    };
  }
  Write<Order>(
      ictx, "ImportOrder", id, request_id,
      [&](const std::optional<Order>& current, Payload& payload) -> Decided {
        if (current) {  // an order is a fact: one that exists stays as it is
          match->matched_by = "id";
          match->unchanged.emplace(id, current->version());
          return projection::Unchanged();
        }
        return Take(DecidePlaceOrder(order, id, Links(ctx)), payload, id, 0);
      },
      projection::ImportRowDone<Order>(row, match, std::move(then), std::move(done)));
}

void SalesService::UndoRecord(const CallContext& ctx, const std::string& import_id,
                              const std::string& id,
                              const crm::common::v1::ImportLedgerEntry& entry, Done<bool> done) {
  using crm::sales::v1::OrderStatus;
  const std::string request_id = absl::StrCat("undo-import:", import_id, ":", id);
  auto answer = [done](const auto& record) {
    done(record.ok() ? absl::StatusOr<bool>(true) : absl::StatusOr<bool>(record.status()));
  };
  if (entry.aggregate_type() == kOrderAggregateType) {
    absl::StatusOr<Order> order = GetOrder(ctx, id);
    if (!order.ok()) return done(order.status());
    switch (order->status()) {
      case OrderStatus::ORDER_STATUS_PLACED:
      case OrderStatus::ORDER_STATUS_PAID:
        return ActOnOrder(ctx, id, OrderAction::kCancel, 0, request_id, answer);
      case OrderStatus::ORDER_STATUS_FULFILLED:
      case OrderStatus::ORDER_STATUS_PARTIALLY_REFUNDED:
        return RefundOrder(ctx, id, order->net(), 0, request_id, answer);
      default:
        return done(true);  // cancelled or refunded in full already
    }
  }
  absl::StatusOr<Product> product = GetProduct(ctx, id);
  if (!product.ok()) return done(product.status());
  if (entry.created()) {
    if (!product->active()) return done(true);
    return DeactivateProduct(ctx, id, 0, request_id, answer);
  }
  Product before;
  if (!before.ParseFromString(entry.before())) {
    return done(absl::DataLossError(absl::StrCat("the import ledger's copy of ", id)));
  }
  google::protobuf::FieldMask mask;
  for (const std::string& path : entry.paths()) mask.add_paths(path);
  UpdateProduct(ctx, before, mask, 0, request_id, answer);
}

void SalesService::UndoImport(const CallContext& ctx, const std::string& import_id,
                              Done<crm::common::v1::ImportUndoSummary> done) {
  projection::UndoAll(
      ctx, import_id,
      [this](std::string_view tenant, std::string_view id, const projection::ImportLedgerFn& fn) {
        return projection_.ScanImport(tenant, id, fn);
      },
      [this, ctx, import_id](const std::string& id, const crm::common::v1::ImportLedgerEntry& e,
                             Done<bool> d) { UndoRecord(ctx, import_id, id, e, std::move(d)); },
      "product or order", std::move(done));
}

}  // namespace crm::sales
