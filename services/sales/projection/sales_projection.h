// SalesProjection: the catalog (and, as the sales service grows, deals and orders) built from
// this service's events, plus the contact directory from the contact service's.
//
// Keys: kState "p/" tenant \0 product_id -> Product, "d/" tenant \0 deal_id -> Deal;
// kIndex "g/" tenant \0 category (lower case) \0 product_id -> "", "c/" tenant \0 contact_id
// \0 deal_id -> "" (deals by contact), "r/" tenant \0 order_id -> Order (kState), "h/" tenant
// \0 contact_id \0 ~order_time(BE64) order_id -> "" (purchase history, newest first).
// The contact directory owns "k/" and "z/".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/directory/contact_directory.h"
#include "common/projection/projector.h"
#include "common/store/projection_store.h"
#include "services/sales/domain/deal.h"
#include "services/sales/domain/order.h"
#include "services/sales/domain/product.h"

namespace crm::sales {

struct ProductPage {
  std::vector<Product> products;
  std::string resume_after;  // a product id; empty at the end
};

struct DealFilter {
  std::string pipeline_id;
  std::string stage_id;
  std::string owner;
  std::vector<std::string> contact_ids;  // empty: all; else these contacts' deals
  std::string company_id;
  std::optional<int64_t> close_after_nanos;
  std::optional<int64_t> close_before_nanos;
  int status = 0;
};

struct DealPage {
  std::vector<Deal> deals;
  std::string resume_after;  // opaque; empty at the end
};

struct OrderPage {
  std::vector<Order> orders;
  std::string resume_after;  // opaque position; empty at the end
};

class SalesProjection final : public projection::EventApplier {
 public:
  explicit SalesProjection(store::ProjectionStore* store) : store_(store), directory_(store) {}

  bool Handles(std::string_view event_type) const override;
  absl::StatusOr<absl::Status> Apply(const crm::common::v1::EventEnvelope& event,
                                     store::ProjectionStore::Batch& batch) override;

  absl::StatusOr<std::optional<Product>> GetProduct(std::string_view tenant,
                                                    std::string_view id) const;
  // Products after `resume_after` in id order (one category's when `category` is set).
  absl::StatusOr<ProductPage> ListProducts(std::string_view tenant, const std::string& category,
                                           bool show_inactive, std::string_view resume_after,
                                           size_t page_size, size_t max_scan) const;

  absl::StatusOr<std::optional<Deal>> GetDeal(std::string_view tenant, std::string_view id) const;
  // Deals matching `filter` after `resume_after`, in id order (per contact when by contact).
  absl::StatusOr<DealPage> ListDeals(std::string_view tenant, const DealFilter& filter,
                                     std::string_view resume_after, size_t page_size,
                                     size_t max_scan) const;

  absl::StatusOr<std::optional<Order>> GetOrder(std::string_view tenant, std::string_view id) const;
  // The orders of `contacts`, newest first, after position `resume_after`.
  absl::StatusOr<OrderPage> ListOrders(std::string_view tenant,
                                       const std::vector<std::string>& contacts,
                                       std::string_view resume_after, size_t page_size) const;

  const directory::ContactDirectory& directory() const { return directory_; }

 private:
  absl::StatusOr<absl::Status> ApplyOrderEvent(const crm::common::v1::EventEnvelope& event,
                                               store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyDealEvent(const crm::common::v1::EventEnvelope& event,
                                              store::ProjectionStore::Batch& batch);

  store::ProjectionStore* const store_;
  const directory::ContactDirectory directory_;
};

}  // namespace crm::sales
