// AnalyticsProjection: every customer's file, built from the events of the contact, interaction
// and sales services (and the analytics service's own model fits), and the reads the analytics
// service answers from.
//
// Keys (every one tenant-prefixed):
//   kState "c/" tenant \0 contact_id   -> crm.contact.v1.Contact (folded as the contact service
//                                         folds it; contact_fold.h)
//   kState "m/" tenant \0 company_id   -> crm.contact.v1.Company
//   kState "r/" tenant \0 order_id     -> crm.sales.v1.Order
//   kState "l/" tenant \0 deal_id      -> crm.sales.v1.Deal
//   kState "n/" tenant \0 interaction  -> crm.interaction.v1.Interaction
//   kState "s/" tenant \0 case_id      -> crm.interaction.v1.Case
//   kState "t/" tenant \0 task_id      -> crm.interaction.v1.Task
//   kState "f/" tenant \0 currency     -> PurchaseModel (the latest fit)
//   kState "p/" tenant \0 product_id   -> crm.sales.v1.Product
//   kState "q/" tenant \0 product_id   -> n(product): purchases holding it (BE64)
//   kState "w/" tenant \0 a \0 b       -> n(a, b): purchases holding both, both ways (BE64)
//   kState "x/" tenant                 -> N: purchases (BE64)
//   kState "j/" tenant \0 segment_id   -> Segment (its definition)
//   "v/", "d/", "y/": webhooks and their deliveries (webhooks/webhook_projection.h)
//   "R/", "U/", "P/": automation rules and their runs (automation/rule_projection.h)
//   "M/", "Q/", "Y/": messages and each tenant's messaging policy (automation/messages.h)
//   "K/", "A/", "O/", "B/": campaigns, their targets and results (automation/campaigns.h)
//   kIndex "g/" tenant \0 contact_id \0 version      -> EventEnvelope (while the contact holds
//                                                       merged contacts, for unmerge;
//                                                       contact_fold.h)
//   kIndex "h/" tenant \0 contact_id \0 ~time id     -> Order (newest first; also each
//                                                       contact's purchases, read as a
//                                                       PurchaseLedger)
//   kIndex "i/" tenant \0 contact_id \0 ~time id     -> Interaction (newest first)
//   kIndex "e/" tenant \0 contact_id \0 deal_id      -> Deal
//   kIndex "a/" tenant \0 contact_id \0 case_id      -> Case
//   kIndex "b/" tenant \0 contact_id \0 task_id      -> Task
// The per-contact indexes cover: each entry holds the record as its kState key does, so a
// customer's 360 reads each kind with one scan instead of a lookup per record.
// The contact directory owns "k/" and "z/"; the projector "o/" in kIndex.
//
// Merges are followed at read: a customer's records are those of the contact and of every
// contact merged into it (ContactDirectory::WithMerged), so apply never moves records and an
// unmerge gives them back exactly.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/directory/contact_directory.h"
#include "common/projection/projector.h"
#include "common/store/keys.h"
#include "common/store/projection_store.h"
#include "crm/analytics/v1/projection.pb.h"
#include "crm/analytics/v1/resources.pb.h"
#include "crm/contact/v1/resources.pb.h"
#include "crm/interaction/v1/resources.pb.h"
#include "crm/sales/v1/resources.pb.h"
#include "services/analytics/automation/campaigns.h"
#include "services/analytics/automation/messages.h"
#include "services/analytics/automation/rule_projection.h"
#include "services/analytics/webhooks/webhook_projection.h"

namespace crm::analytics {

inline constexpr char kTopic[] = "crm.analytics.v1";
// The layout of this projection's keys and values: bump the number with any change to either,
// and a store of the old layout is emptied and rebuilt from the log at start
// (ProjectionStore::OpenProjection). Last bumped when the contact directory's entries began to
// keep their contact's version (an event that lost a race changes nothing), then when other
// services' events stopped leaving an outcome record (EventApplier::SecondCopyChangesNothing),
// then when a message's state became its latest report's by time (Message.status_time), then
// when the purchase ledgers ("u/") gave way to the order index they copied.
inline constexpr char kProjectionLayout[] = "analytics/10";
inline constexpr char kModelAggregateType[] = "model";
inline constexpr char kSegmentAggregateType[] = "segment";

class AnalyticsProjection final : public projection::EventApplier {
 public:
  explicit AnalyticsProjection(store::ProjectionStore* store)
      : store_(store),
        directory_(store),
        webhooks_(store),
        rules_(store),
        messages_(store),
        campaigns_(store) {}

  bool Handles(std::string_view event_type) const override;
  // Every other service's event goes through that service's own apply (its version check) and
  // the contact directory (the same); what follows an applied one — ledgers, counts, indexes —
  // follows only it, and an erasure's scrub leaves scrubbed records as they are. Its own topic
  // and the outbound messages' keep their outcome records: a copy of a rebasable record (a rule
  // run's report, a message's delivery report) would take effect again past the first.
  bool SecondCopyChangesNothing(std::string_view topic) const override {
    return topic != kTopic && topic != automation::kOutboundTopic;
  }
  // The directory entry of a contact event and the record of another service's event here.
  void WillRead(const crm::common::v1::EventEnvelope& event,
                std::vector<std::string>& state_keys) const override;
  absl::StatusOr<absl::Status> Apply(const crm::common::v1::EventEnvelope& event,
                                     store::ProjectionStore::Batch& batch) override;
  // Writes the purchase counts the batch's orders moved ("x/", "q/", "w/"), each once.
  absl::Status Finish(store::ProjectionStore::Batch& batch) override;
  void Built() override;
  void Committed() override;

  // Grows after every committed change to purchases or to who is a customer (orders, contacts,
  // merges), and when the store is emptied for a rebuild: a population derived from the store at
  // generation g is current while it is g.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // Grows after every committed change to a segment's definition (created, deleted), and when
  // the store is emptied: a list of segments read at generation g is current while it is g. Read
  // it before the store.
  uint64_t segments_generation() const {
    return segments_generation_.load(std::memory_order_acquire);
  }

  const directory::ContactDirectory& directory() const { return directory_; }
  // Partners' webhooks and their deliveries (keys "v/", "d/", "y/").
  const webhooks::WebhookProjection& webhooks() const { return webhooks_; }
  // Automation rules and their runs (keys "R/", "U/", "P/").
  const automation::RuleProjection& rules() const { return rules_; }
  const automation::MessageProjection& messages() const { return messages_; }
  const automation::CampaignProjection& campaigns() const { return campaigns_; }
  // A deal as the analytics projection holds it.
  absl::StatusOr<std::optional<crm::sales::v1::Deal>> GetDeal(std::string_view tenant,
                                                              std::string_view id) const;

  absl::StatusOr<std::optional<crm::contact::v1::Contact>> GetContact(std::string_view tenant,
                                                                      std::string_view id) const;
  absl::StatusOr<std::optional<crm::contact::v1::Company>> GetCompany(std::string_view tenant,
                                                                      std::string_view id) const;
  // The purchases of `contacts` (their own ledgers, concatenated): their orders that count
  // (sales::IsPurchase), each contact's by order id. With `latest`, also their newest `limit`
  // orders, counting or not, newest first, from the same reads.
  absl::StatusOr<std::vector<crm::analytics::v1::LedgerPurchase>> Purchases(
      std::string_view tenant, const std::vector<std::string>& contacts,
      std::vector<crm::sales::v1::Order>* latest = nullptr, size_t limit = 0) const;
  // Every tenant with at least one customer with purchases, in order.
  absl::StatusOr<std::set<std::string>> TenantsWithPurchases() const;
  // Calls `fn(contact_id, ledger)` for every contact with purchases, in contact id order; a
  // ledger holds the contact's own purchases by order id.
  absl::Status ForEachLedger(
      std::string_view tenant,
      const std::function<void(std::string_view, const crm::analytics::v1::PurchaseLedger&)>& fn)
      const;

  // The newest `limit` interactions of `contacts`, newest first.
  absl::StatusOr<std::vector<crm::interaction::v1::Interaction>> LatestInteractions(
      std::string_view tenant, const std::vector<std::string>& contacts, size_t limit) const;
  // An interaction as the projection stores it: when it occurred, and its serialised form.
  struct StoredInteraction {
    int64_t occurred_at_nanos = 0;
    std::string bytes;  // a crm.interaction.v1.Interaction
  };
  // LatestInteractions as stored, not parsed: for an answer that carries them as they are (a
  // 360's wire form) or needs only their times.
  absl::StatusOr<std::vector<StoredInteraction>> LatestStoredInteractions(
      std::string_view tenant, const std::vector<std::string>& contacts, size_t limit) const;
  // The deals, cases and tasks of `contacts` (at most `limit` each kind), in id order.
  absl::StatusOr<std::vector<crm::sales::v1::Deal>> Deals(std::string_view tenant,
                                                          const std::vector<std::string>& contacts,
                                                          size_t limit) const;
  absl::StatusOr<std::vector<crm::interaction::v1::Case>> Cases(
      std::string_view tenant, const std::vector<std::string>& contacts, size_t limit) const;
  absl::StatusOr<std::vector<crm::interaction::v1::Task>> Tasks(
      std::string_view tenant, const std::vector<std::string>& contacts, size_t limit) const;

  // Calls `fn` for every record of a kind in the tenant, in id order: 'r' orders, 'l' deals,
  // 'n' interactions, 's' cases, 'p' products.
  // ('c' contacts, 'j' segments too), starting after id `after`; `fn` returns false to stop.
  template <typename T>
  absl::Status ForEachRecord(char kind, std::string_view tenant,
                             const std::function<bool(const T&)>& fn,
                             std::string_view after = "") const {
    const std::string prefix = store::KindPrefix(kind, tenant);
    std::string start;
    if (!after.empty()) {
      start = prefix;
      start.append(after);
      start.push_back('\0');
    }
    absl::Status error;
    absl::Status scanned = store_->Scan(
        store::Cf::kState, prefix, start, [&](std::string_view, std::string_view value) {
          T record;
          if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            error = absl::DataLossError("corrupt record");
            return false;
          }
          return fn(record);
        });
    return scanned.ok() ? error : scanned;
  }

  absl::StatusOr<std::optional<crm::sales::v1::Product>> GetProduct(std::string_view tenant,
                                                                    std::string_view id) const;
  // Co-purchase counts: N, n(product) for every product, and the n(a, b) of `a` (every a when
  // empty) as (a, b, n), at most `max` pairs.
  absl::StatusOr<int64_t> PurchaseCount(std::string_view tenant) const;
  absl::StatusOr<std::map<std::string, int64_t>> ProductCounts(std::string_view tenant) const;
  struct PairCount {
    std::string a;
    std::string b;
    int64_t n = 0;
  };
  absl::StatusOr<std::vector<PairCount>> PairCounts(std::string_view tenant, std::string_view a,
                                                    size_t max) const;

  absl::StatusOr<std::optional<crm::analytics::v1::Segment>> GetSegment(std::string_view tenant,
                                                                        std::string_view id) const;
  absl::StatusOr<std::optional<crm::analytics::v1::PurchaseModel>> GetModel(
      std::string_view tenant, std::string_view currency) const;

 private:
  absl::StatusOr<absl::Status> ApplyContactEvent(const crm::common::v1::EventEnvelope& event,
                                                 store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyOrderEvent(const crm::common::v1::EventEnvelope& event,
                                               store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyDealEvent(const crm::common::v1::EventEnvelope& event,
                                              store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyInteractionEvent(const crm::common::v1::EventEnvelope& event,
                                                     store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyCaseEvent(const crm::common::v1::EventEnvelope& event,
                                              store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyTaskEvent(const crm::common::v1::EventEnvelope& event,
                                              store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyProductEvent(const crm::common::v1::EventEnvelope& event,
                                                 store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplySegmentEvent(const crm::common::v1::EventEnvelope& event,
                                                 store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyModelEvent(const crm::common::v1::EventEnvelope& event,
                                               store::ProjectionStore::Batch& batch);

  store::ProjectionStore* const store_;
  const directory::ContactDirectory directory_;
  webhooks::WebhookProjection webhooks_;
  automation::RuleProjection rules_;
  automation::MessageProjection messages_;
  automation::CampaignProjection campaigns_;
  // How much the batch being applied moved each purchase count ("x/", "q/", "w/" keys), written
  // at Finish: an order moves the tenant's count and each of its products', which most orders of
  // a batch share, so each is read and written once per batch (projector thread).
  absl::flat_hash_map<std::string, int64_t> counts_;
  // Changed in the batch being applied, and in those built since the last Committed (projector
  // thread).
  bool purchases_changed_ = false;
  bool purchases_built_ = false;
  std::atomic<uint64_t> generation_{0};
  bool segments_changed_ = false;
  bool segments_built_ = false;
  std::atomic<uint64_t> segments_generation_{0};
  // The store's emptyings (ProjectionStore::emptied) as of the last Committed: an emptying for a
  // rebuild makes everything derived from the store before it stale (projector thread).
  uint64_t emptied_ = 0;
};

}  // namespace crm::analytics
