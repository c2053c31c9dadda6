// SalesProjection: the catalog, pipelines, deals and orders built from this service's events,
// plus the contact directory from the contact service's.
//
// Keys (every one tenant-prefixed):
//   kState "p/" tenant \0 product_id                   -> Product
//   kState "l/" tenant \0 pipeline_id                  -> Pipeline (the default once changed)
//   kState "d/" tenant \0 deal_id                      -> Deal
//   kState "r/" tenant \0 order_id                     -> Order
//   kIndex "g/" tenant \0 category (lower) \0 product_id -> "" (products by category)
//   kIndex "c/" tenant \0 contact_id \0 deal_id         -> "" (deals by contact)
//   kIndex "s/" tenant \0 pipeline \0 stage \0 deal_id  -> "" (open deals by stage)
//   kIndex "v/" tenant \0 deal_id \0 time version       -> Deal, once superseded (as_of;
//                                                          common/projection/as_of.h)
//   kIndex "h/" tenant \0 contact_id \0 ~order_time(BE64) order_id -> "" (purchase history,
//                                                          newest first)
//   kIndex "i/" tenant \0 import_id \0 record_id       -> ImportLedgerEntry (what an import did to
//                                                          a product or order; import_ledger.h)
// The contact directory owns "k/" and "z/".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/directory/contact_directory.h"
#include "common/projection/import_ledger.h"
#include "common/projection/projector.h"
#include "common/store/projection_store.h"
#include "services/sales/domain/deal.h"
#include "services/sales/domain/order.h"
#include "services/sales/domain/product.h"

namespace crm::sales {

// The layout of this projection's keys and values: bump the number with any change to either,
// and a store of the old layout is emptied and rebuilt from the log at start
// (ProjectionStore::OpenProjection). Last bumped when the contact directory's entries began to
// keep their contact's version (an event that lost a race changes nothing), then when other
// services' events stopped leaving an outcome record (EventApplier::SecondCopyChangesNothing),
// then when its own events did too (only a request's record stays).
inline constexpr char kProjectionLayout[] = "sales/7";

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
  std::optional<google::protobuf::Timestamp> as_of;  // the deals as they stood then
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
  // The contact service's events go to the contact directory only, which refuses those its
  // entry's version has moved on from. Its own events (products, pipelines, deals, orders) are
  // each refused unless their aggregate is at the version they expect, none of those records is
  // ever removed, and what follows an applied one (indexes, history, the import ledger) follows
  // only it.
  bool SecondCopyChangesNothing(std::string_view) const override { return true; }
  void Built() override { directory_.Built(); }
  void Committed() override { directory_.Committed(); }
  // The directory entry of a contact event; the record of a product, pipeline, deal or order
  // event.
  void WillRead(const crm::common::v1::EventEnvelope& event,
                std::vector<std::string>& state_keys) const override;
  absl::StatusOr<absl::Status> Apply(const crm::common::v1::EventEnvelope& event,
                                     store::ProjectionStore::Batch& batch) override;

  absl::StatusOr<std::optional<Product>> GetProduct(std::string_view tenant,
                                                    std::string_view id) const;
  // Products after `resume_after` in id order (one category's when `category` is set).
  absl::StatusOr<ProductPage> ListProducts(std::string_view tenant, const std::string& category,
                                           bool show_inactive, std::string_view resume_after,
                                           size_t page_size, size_t max_scan) const;

  // The pipeline: stored, or the built-in default until its first change; nullopt if unknown.
  absl::StatusOr<std::optional<Pipeline>> GetPipeline(std::string_view tenant,
                                                      std::string_view id) const;
  // "default" first, then the others in id order (at most `max`).
  absl::StatusOr<std::vector<Pipeline>> ListPipelines(std::string_view tenant, size_t max) const;
  // Whether any open deal is in `stage` of `pipeline`.
  absl::StatusOr<bool> HasOpenDeals(std::string_view tenant, std::string_view pipeline,
                                    std::string_view stage) const;

  // The deal now, or as it stood at `as_of` (nullopt if it did not exist then).
  absl::StatusOr<std::optional<Deal>> GetDeal(
      std::string_view tenant, std::string_view id,
      const std::optional<google::protobuf::Timestamp>& as_of = std::nullopt) const;
  // The deal as `version` left it (nullopt if no such version is stored).
  absl::StatusOr<std::optional<Deal>> GetDealVersion(std::string_view tenant, std::string_view id,
                                                     int64_t version) const;
  // Deals matching `filter` after `resume_after`, in id order (per contact when by contact).
  absl::StatusOr<DealPage> ListDeals(std::string_view tenant, const DealFilter& filter,
                                     std::string_view resume_after, size_t page_size,
                                     size_t max_scan) const;

  absl::StatusOr<std::optional<Order>> GetOrder(std::string_view tenant, std::string_view id) const;
  // What import `import_id` did here, record by record (common/projection/import_ledger.h).
  absl::Status ScanImport(
      std::string_view tenant, std::string_view import_id,
      const std::function<bool(std::string_view id, const crm::common::v1::ImportLedgerEntry&)>& fn)
      const;
  // The orders of `contacts`, newest first, after position `resume_after`.
  absl::StatusOr<OrderPage> ListOrders(std::string_view tenant,
                                       const std::vector<std::string>& contacts,
                                       std::string_view resume_after, size_t page_size) const;

  const directory::ContactDirectory& directory() const { return directory_; }

 private:
  absl::StatusOr<absl::Status> ApplyOrderEvent(const crm::common::v1::EventEnvelope& event,
                                               store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyPipelineEvent(const crm::common::v1::EventEnvelope& event,
                                                  store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyDealEvent(const crm::common::v1::EventEnvelope& event,
                                              store::ProjectionStore::Batch& batch);

  store::ProjectionStore* const store_;
  const directory::ContactDirectory directory_;
};

}  // namespace crm::sales
