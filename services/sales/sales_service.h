// SalesService: the sales service's application layer (this version: the product catalog).
// Its projection reads this service's topic and the contact service's (the contact directory
// the coming deals and orders are checked against).
//
// Lifecycle: Open() -> projector()->Start() -> serve -> Stop(). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/eventlog/event_log.h"
#include "common/projection/command_writer.h"
#include "common/projection/projector.h"
#include "common/store/projection_store.h"
#include "services/sales/domain/forecast.h"
#include "services/sales/projection/sales_projection.h"

namespace crm::sales {

struct CallContext {
  std::string tenant;
  std::string actor;
  absl::Time deadline = absl::InfiniteFuture();
};

template <typename T>
using Done = std::function<void(absl::StatusOr<T>)>;

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
  absl::StatusOr<ProductPage> ListProducts(const CallContext& ctx, const std::string& category,
                                           bool show_inactive, const std::string& resume_after,
                                           size_t page_size) const;

  // Deals.
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
  absl::StatusOr<Deal> GetDeal(const CallContext& ctx, const std::string& id) const;
  // By contact: that contact's deals and those of the contacts merged into it.
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

  // The forecast over the deals of `owner` and `pipeline_id` (either may be empty).
  absl::StatusOr<crm::sales::v1::Forecast> GetForecast(const CallContext& ctx,
                                                       const ForecastInput& input,
                                                       const std::string& owner,
                                                       const std::string& pipeline_id) const;

  projection::Projector* projector() { return &projector_; }

 private:
  SalesService(std::unique_ptr<store::ProjectionStore> store, eventlog::EventLog* log);
  // A product command: decide against the current product, answer with the product.
  void WriteProduct(
      const CallContext& ctx, const std::string& command, const std::string& id,
      const std::string& request_id,
      const std::function<projection::CommandWriter::Decision(
          const std::optional<Product>&, projection::CommandWriter::Payload&)>& decide,
      Done<Product> done);

  void WriteDeal(const CallContext& ctx, const std::string& command, const std::string& id,
                 const std::string& request_id,
                 const std::function<projection::CommandWriter::Decision(
                     const std::optional<Deal>&, projection::CommandWriter::Payload&)>& decide,
                 Done<Deal> done);

  void WriteOrder(const CallContext& ctx, const std::string& command, const std::string& id,
                  const std::string& request_id,
                  const std::function<projection::CommandWriter::Decision(
                      const std::optional<Order>&, projection::CommandWriter::Payload&)>& decide,
                  Done<Order> done);

  std::unique_ptr<store::ProjectionStore> store_;
  SalesProjection projection_;
  projection::Projector projector_;
  projection::CommandWriter writer_;
};

}  // namespace crm::sales
