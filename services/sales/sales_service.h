// SalesService: the sales service's application layer: the catalog, pipelines, deals, orders
// and the forecast. Its projection reads this service's topic and the contact service's (the
// contact directory deals and orders are checked against, and whose merges they follow).
//
// Lifecycle: Open() -> projector()->Start() -> serve -> Stop(). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/eventlog/event_log.h"
#include "common/projection/call_context.h"
#include "common/projection/command_writer.h"
#include "common/projection/export_source.h"
#include "common/projection/import_ledger.h"
#include "common/projection/personal_export.h"
#include "common/projection/projector.h"
#include "common/store/projection_store.h"
#include "crm/sales/v1/sales_service.pb.h"
#include "services/sales/domain/forecast.h"
#include "services/sales/projection/sales_projection.h"

namespace crm::sales {

using projection::CallContext;
template <typename T>
using Done = projection::Done<T>;

class SalesService {
 public:
  static absl::StatusOr<std::unique_ptr<SalesService>> Open(const std::string& projection_dir,
                                                            eventlog::EventLog* log, bool rebuild);
  ~SalesService();
  void Stop();

  void CreateProduct(const CallContext& ctx, const Product& product, const std::string& request_id,
                     Done<Product> done);
  void UpdateProduct(const CallContext& ctx, const Product& values,
                     const google::protobuf::FieldMask& mask, int64_t expected_version,
                     const std::string& request_id, Done<Product> done);
  void DeactivateProduct(const CallContext& ctx, const std::string& id, int64_t expected_version,
                         const std::string& request_id, Done<Product> done);
  absl::StatusOr<Product> GetProduct(const CallContext& ctx, const std::string& id) const;
  // Everything the tenant holds here, for ExportRecords: products, pipelines (the default one
  // included), deals, orders; the records read from one snapshot.
  absl::StatusOr<std::vector<projection::ExportSource<crm::sales::v1::ExportRecordsResponse>>>
  ExportSources(const CallContext& ctx) const;
  absl::StatusOr<ProductPage> ListProducts(const CallContext& ctx, const std::string& category,
                                           bool show_inactive, const std::string& resume_after,
                                           size_t page_size) const;

  // Pipelines.
  void CreatePipeline(const CallContext& ctx, const Pipeline& pipeline,
                      const std::string& request_id, Done<Pipeline> done);
  void UpdatePipeline(const CallContext& ctx, const Pipeline& values,
                      const google::protobuf::FieldMask& mask, int64_t expected_version,
                      const std::string& request_id, Done<Pipeline> done);
  absl::StatusOr<Pipeline> GetPipeline(const CallContext& ctx, const std::string& id) const;
  absl::StatusOr<std::vector<Pipeline>> ListPipelines(const CallContext& ctx) const;

  // Deals. Deals read back carry each stage visit's duration up to now (or `as_of`).
  void CreateDeal(const CallContext& ctx, const Deal& deal, const std::string& request_id,
                  Done<Deal> done);
  void UpdateDeal(const CallContext& ctx, const Deal& values,
                  const google::protobuf::FieldMask& mask, int64_t expected_version,
                  const std::string& request_id, Done<Deal> done);
  void MoveDealStage(const CallContext& ctx, const std::string& id, const std::string& stage_id,
                     int32_t probability_bp, int64_t expected_version,
                     const std::string& request_id, Done<Deal> done);
  void WinDeal(const CallContext& ctx, const std::string& id, int64_t expected_version,
               const std::string& request_id, Done<Deal> done);
  void LoseDeal(const CallContext& ctx, const std::string& id, const std::string& reason,
                int64_t expected_version, const std::string& request_id, Done<Deal> done);
  void ReopenDeal(const CallContext& ctx, const std::string& id, const std::string& stage_id,
                  int64_t expected_version, const std::string& request_id, Done<Deal> done);
  // The deal now, or as it stood at `as_of` (NOT_FOUND if it did not exist then).
  absl::StatusOr<Deal> GetDeal(
      const CallContext& ctx, const std::string& id,
      const std::optional<google::protobuf::Timestamp>& as_of = std::nullopt) const;
  // By contact: that contact's deals and those of the contacts merged into it. `filter.as_of`
  // reads the deals as they stood then.
  absl::StatusOr<DealPage> ListDeals(const CallContext& ctx, DealFilter filter,
                                     const std::string& contact_id, const std::string& resume_after,
                                     size_t page_size) const;

  // Orders.
  void PlaceOrder(const CallContext& ctx, const Order& order, const std::string& request_id,
                  Done<Order> done);
  void ActOnOrder(const CallContext& ctx, const std::string& id, OrderAction action,
                  int64_t expected_version, const std::string& request_id, Done<Order> done);
  void RefundOrder(const CallContext& ctx, const std::string& id,
                   const crm::common::v1::Money& amount, int64_t expected_version,
                   const std::string& request_id, Done<Order> done);
  absl::StatusOr<Order> GetOrder(const CallContext& ctx, const std::string& id) const;
  // A contact's purchase history with the contacts merged into it, newest first.
  absl::StatusOr<OrderPage> ListOrders(const CallContext& ctx, const std::string& contact_id,
                                       const std::string& resume_after, size_t page_size) const;

  // Everything this service holds on the person with `contact_ids` (the survivor first): their
  // orders and deals (ContactService.ExportContactData).
  absl::StatusOr<nlohmann::json> ExportPersonalData(
      const CallContext& ctx, const std::vector<std::string>& contact_ids) const;

  // The forecast over the deals of `owner` and `pipeline_id` (either may be empty), now or as
  // they stood at `as_of`.
  absl::StatusOr<crm::sales::v1::Forecast> GetForecast(
      const CallContext& ctx, ForecastInput input, const std::string& owner,
      const std::string& pipeline_id,
      const std::optional<google::protobuf::Timestamp>& as_of) const;

  // Bulk import (ImportRecords), one row. A product is matched by its SKU and gets the row's
  // name, category and price, or is created. An order is matched by its id (and then left as it
  // is), or placed — with the row's id if it has one — and taken to the row's status with one
  // more command per step. Request ids ImportRequestId(import_id, row) (+ "#pay", "#fulfil",
  // "#cancel", "#refund"), the import id as correlation id. `done` gets the row's result.
  void ImportProduct(const CallContext& ctx, const std::string& import_id, int64_t row,
                     const Product& product, Done<crm::common::v1::ImportRowResult> done);
  void ImportOrder(const CallContext& ctx, const std::string& import_id, int64_t row,
                   const Order& order, crm::sales::v1::OrderStatus status,
                   const crm::common::v1::Money& refunded,
                   Done<crm::common::v1::ImportRowResult> done);
  // Undoes import `import_id`: deactivates the products it created, restores the fields it
  // changed on others, cancels the orders it placed (refunds what is left of those that can no
  // longer be cancelled). NOT_FOUND if the import wrote nothing here.
  void UndoImport(const CallContext& ctx, const std::string& import_id,
                  Done<crm::common::v1::ImportUndoSummary> done);

  projection::Projector* projector() { return &projector_; }

 private:
  SalesService(std::unique_ptr<store::ProjectionStore> store, eventlog::EventLog* log);
  // One command on an aggregate of type T (Product, Pipeline, Deal, Order): `decide` against its
  // current state, append, answer with the aggregate as the projection then shows it.
  template <typename T>
  void Write(const CallContext& ctx, const std::string& command, const std::string& id,
             const std::string& request_id,
             const std::function<projection::CommandWriter::Decision(
                 const std::optional<T>&, projection::CommandWriter::Payload&)>& decide,
             Done<T> done);
  // Undoes what import `import_id` did to one record.
  void UndoRecord(const CallContext& ctx, const std::string& import_id, const std::string& id,
                  const crm::common::v1::ImportLedgerEntry& entry, Done<bool> done);
  // Takes an order an import placed through `steps` (from its status), one after the other.
  void OrderSteps(const CallContext& ctx, const std::string& request_id, const std::string& id,
                  std::vector<std::string> steps, const crm::common::v1::Money& refunded,
                  Done<Order> done);
  // The current state of aggregate `id` of type T; nullopt if it does not exist.
  template <typename T>
  absl::StatusOr<std::optional<T>> Current(std::string_view tenant, const std::string& id) const;
  // Checks links from a deal or order to contacts and companies in the directory, waiting
  // briefly for one created a moment ago. Valid while `ctx` lives.
  LinkCheck Links(const CallContext& ctx);
  // Resolves pipeline ids ("" = default) in this tenant. Valid while `ctx` lives.
  PipelineLookup Pipelines(const CallContext& ctx) const;

  std::unique_ptr<store::ProjectionStore> store_;
  SalesProjection projection_;
  projection::Projector projector_;
  projection::CommandWriter writer_;
};

}  // namespace crm::sales
