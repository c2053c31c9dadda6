// AnalyticsService: the analytics service's application layer. Reads are answered from the
// analytics projection alone; the only write is a purchase-model fit, recorded as a ModelFitted
// event on the service's own topic (so a rebuild reproduces the parameters without refitting).
// A background loop refits a currency's model once its purchase history has grown by a tenth.
//
// Lifecycle: Open() -> projector()->Start() -> StartRefits() -> serve -> Stop(). Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "common/eventlog/event_log.h"
#include "common/projection/call_context.h"
#include "common/projection/command_writer.h"
#include "common/projection/export_source.h"
#include "common/projection/personal_export.h"
#include "common/projection/projector.h"
#include "common/store/projection_store.h"
#include "common/store/read_cache.h"
#include "common/store/read_recorder.h"
#include "crm/analytics/v1/analytics_service.pb.h"
#include "crm/analytics/v1/resources.pb.h"
#include "google/protobuf/empty.pb.h"
#include "services/analytics/automation/automation.h"
#include "services/analytics/domain/associations.h"
#include "services/analytics/domain/metrics.h"
#include "services/analytics/domain/seasonal.h"
#include "services/analytics/domain/segments.h"
#include "services/analytics/projection/analytics_projection.h"
#include "services/analytics/webhooks/webhooks.h"

namespace crm::analytics {

using crm::analytics::v1::Customer360;

using projection::CallContext;
template <typename T>
using Done = projection::Done<T>;

// Every customer with a purchase in one currency at a time: what RFM ranks and the models fit.
struct Population {
  std::vector<std::string> contact_ids;  // survivors, in id order
  std::vector<RfmKey> rfm;               // parallel to contact_ids
  std::vector<RepeatHistory> histories;  // parallel to contact_ids
  int64_t purchase_days = 0;
};

class AnalyticsService {
 public:
  static absl::StatusOr<std::unique_ptr<AnalyticsService>> Open(const std::string& projection_dir,
                                                                eventlog::EventLog* log,
                                                                bool rebuild);
  ~AnalyticsService();
  void Stop();

  // Starts the loop that refits every tenant's models every `interval` when the tenant's
  // history has grown.
  void StartRefits(absl::Duration interval);

  // Passes the personal data of a contact (empty when unknown or erased) to `done`: at once from
  // a contact service in the same process, when the answer arrives from one elsewhere (so a
  // caller waiting for it holds no thread).
  using PersonalDataSource =
      std::function<void(const CallContext& ctx, const std::string& contact_id,
                         std::function<void(crm::contact::v1::PersonalData)> done)>;
  // Where the 360 view and the lists of customers (segment members, seasonal buyers) take
  // personal data from: analytics keeps none (the contact service's events carry it sealed), so
  // the node passes the contact service's projection here. Without one (a separate crm-analytics
  // personal data and display names are empty; given --contact-address, crm-analytics asks the
  // contact service with the caller's credential). Call before serving.
  void TakePersonalDataFrom(PersonalDataSource source) { personal_ = std::move(source); }

  // Passes the 360 as of `as_of_nanos` (nullopt: now) to `done`, in its wire form (a serialised
  // Customer360), once the contact's personal data is there (PersonalDataSource; asked for before
  // the rest is read, so that a contact service elsewhere answers while it is). NOT_FOUND for an
  // unknown contact. A merged contact answers with its survivor.
  // A 360 as of now is kept, all but its personal data (asked for on every call), and served again
  // while nothing it was read from has changed (read_recorder.h: every record, scan and directory
  // entry; the segment list; the rankings' and product figures' own staleness) and for at most
  // k360Staleness (5 s: its figures as of now, such as days since the last purchase, may be that
  // old, as its rankings already may).
  void GetCustomer360(const CallContext& ctx, const std::string& contact_id,
                      std::optional<int64_t> as_of_nanos,
                      std::function<void(absl::StatusOr<std::string>)> done) const;
  // 360s GetCustomer360 answered from a kept one since the service was opened.
  uint64_t kept_360s_served() const { return kept_360s_served_.load(std::memory_order_relaxed); }
  // About the bytes the kept 360s hold now.
  size_t kept_360s_bytes() const { return kept_360s_.cost(); }
  // The 360 from this service's projection alone: all but the contact's personal data.
  absl::StatusOr<Customer360> CustomerFile(const CallContext& ctx, const std::string& contact_id,
                                           int64_t as_of_nanos) const;
  // Everything this service holds on the person with `contact_ids` (the survivor first): the
  // customer's 360 view — metrics, segments, orders, recommendations (ExportContactData).
  absl::StatusOr<nlohmann::json> ExportPersonalData(
      const CallContext& ctx, const std::vector<std::string>& contact_ids) const;
  // `currency_code` empty: the customer's main currency.
  absl::StatusOr<CustomerMetrics> GetCustomerMetrics(const CallContext& ctx,
                                                     const std::string& contact_id,
                                                     int64_t as_of_nanos,
                                                     const std::string& currency_code,
                                                     int horizon_days) const;
  // The associations of `product_id` (all when empty) seen in at least `min_orders` orders,
  // strongest first, at most `limit`.
  absl::StatusOr<std::vector<ProductAssociation>> ListProductAssociations(
      const CallContext& ctx, const std::string& product_id, int64_t min_orders,
      size_t limit) const;
  // NOT_FOUND for an unknown contact.
  absl::StatusOr<std::vector<Recommendation>> GetRecommendations(const CallContext& ctx,
                                                                 const std::string& contact_id,
                                                                 int64_t min_orders,
                                                                 size_t limit) const;
  // Reports; times in nanoseconds.
  absl::StatusOr<crm::analytics::v1::GetRetentionResponse> GetRetention(const CallContext& ctx,
                                                                        int64_t cohorts_from,
                                                                        int64_t as_of,
                                                                        int inactivity_days) const;
  absl::StatusOr<crm::analytics::v1::SalesReport> GetSalesReport(const CallContext& ctx,
                                                                 int64_t period_start,
                                                                 int64_t period_end,
                                                                 const std::string& currency) const;
  absl::StatusOr<crm::analytics::v1::ServiceReport> GetServiceReport(const CallContext& ctx,
                                                                     int64_t period_start,
                                                                     int64_t period_end,
                                                                     int64_t as_of) const;
  absl::StatusOr<crm::analytics::v1::EngagementTrend> GetEngagementTrend(
      const CallContext& ctx, const std::string& contact_id, int months, int64_t as_of) const;

  // Everything the tenant defined here, for ExportRecords: segments, webhooks (without secrets),
  // read from one snapshot. Customer figures are derived, not exported.
  std::vector<projection::ExportSource<crm::analytics::v1::ExportRecordsResponse>> ExportSources(
      const CallContext& ctx) const;

  // Segments. GetSegment fills size and revenue at `as_of_nanos`.
  void CreateSegment(const CallContext& ctx, const crm::analytics::v1::Segment& segment,
                     const std::string& request_id, Done<crm::analytics::v1::Segment> done);
  void DeleteSegment(const CallContext& ctx, const std::string& id, int64_t expected_version,
                     const std::string& request_id, Done<google::protobuf::Empty> done);
  absl::StatusOr<crm::analytics::v1::Segment> GetSegment(const CallContext& ctx,
                                                         const std::string& id,
                                                         int64_t as_of_nanos) const;
  struct SegmentPage {
    std::vector<crm::analytics::v1::Segment> segments;
    std::string resume_after;  // empty at the end
  };
  absl::StatusOr<SegmentPage> ListSegments(const CallContext& ctx, const std::string& resume_after,
                                           size_t page_size) const;
  struct MemberPage {
    std::vector<crm::analytics::v1::SegmentMember> members;
    std::string resume_after;  // a contact id; empty at the end
  };
  absl::StatusOr<MemberPage> ListSegmentMembers(const CallContext& ctx, const std::string& id,
                                                int64_t as_of_nanos,
                                                const std::string& resume_after,
                                                size_t page_size) const;

  // Seasonal buyers of `product_id` or `category` in `month`, best first, at most `limit`.
  absl::StatusOr<std::vector<SeasonalBuyer>> ListSeasonalBuyers(
      const CallContext& ctx, const std::string& product_id, const std::string& category, int month,
      const std::string& currency, int64_t as_of_nanos, size_t limit) const;
  absl::StatusOr<CampaignSuggestion> SuggestCampaign(
      const CallContext& ctx, const std::string& product_id, const std::string& category, int month,
      const std::string& currency, crm::contact::v1::ConsentChannel channel, int min_years,
      int64_t as_of_nanos, size_t limit) const;

  absl::StatusOr<PurchaseModel> GetModel(const CallContext& ctx,
                                         const std::string& currency_code) const;
  // Fits on purchases at or before `as_of_nanos` and records the fit. FAILED_PRECONDITION when
  // there are too few customers.
  void FitModel(const CallContext& ctx, const std::string& currency_code, int64_t as_of_nanos,
                const std::string& request_id, Done<PurchaseModel> done);

  // The population of `currency_code` at `as_of_nanos` (exposed for the recomputation test).
  absl::StatusOr<Population> PopulationOf(std::string_view tenant, const std::string& currency_code,
                                          int64_t as_of_nanos) const;

  projection::Projector* projector() { return &projector_; }
  // Partners' webhooks (crm.analytics.v1.WebhookService).
  webhooks::Webhooks* webhooks() { return &webhooks_; }
  // Automation rules (crm.analytics.v1.AutomationService).
  automation::Automation* automation() { return &automation_; }
  // What rule triggers read, from this service's projection.
  automation::Facts AutomationFacts() const;

 private:
  AnalyticsService(std::unique_ptr<store::ProjectionStore> store, eventlog::EventLog* log);
  // The display name (directory::DisplayName) of each of `ids`, in order, from
  // PersonalDataSource ("" where it has none): asked for a few dozen at a time and waited for.
  std::vector<std::string> NamesOf(const CallContext& ctx,
                                   const std::vector<std::string>& ids) const;
  PersonalDataSource personal_;
  // The directory entry of the surviving contact of `contact_id` (its own unless merged);
  // NOT_FOUND if unknown.
  absl::StatusOr<directory::ContactDirectoryEntry> Survivor(std::string_view tenant,
                                                            const std::string& contact_id) const;
  // A 360 without its personal data, in its wire form, as GetCustomer360 keeps it.
  struct File360 {
    std::string survivor;         // whose personal data goes in it
    std::string contact;          // its Contact (without personal data), serialised
    std::string rest;             // the rest of its Customer360 (all but the contact), serialised
                                  // (the latest interactions appended as stored)
    store::Dependencies depends;  // kept as of now: what it holds while
  };
  // Customer360's wire form from a File360's parts and the personal data: the contact (field 1)
  // with its personal data (Contact field 2) after its other fields, then the rest (whose
  // latest interactions, field 7, come after its other fields).
  static std::string Customer360Wire(const File360& file,
                                     const crm::contact::v1::PersonalData& personal);
  // CustomerFile of the survivor `entry` (Survivor of `contact_id`, which errors name). With
  // `stored_interactions`, its latest interactions are left there as stored (newest first, for a
  // wire form to carry as they are), not parsed into it.
  absl::StatusOr<Customer360> CustomerFile(
      const CallContext& ctx, const directory::ContactDirectoryEntry& entry,
      const std::string& contact_id, int64_t as_of_nanos,
      std::vector<AnalyticsProjection::StoredInteraction>* stored_interactions = nullptr) const;
  // Calls `fn(survivor, purchases)` once for every live customer with purchases: its own and
  // those of the contacts merged into it; archived survivors are left out. Streams the ledgers,
  // holding only the customers that absorbed merged contacts (who come last), so a population of
  // millions costs one scan, not a copy of every purchase. Stops at the first error of `fn`.
  absl::Status ForEachCustomer(
      std::string_view tenant,
      const std::function<absl::Status(const std::string&, const std::vector<LedgerPurchase>&)>& fn)
      const;
  // Every purchase under its surviving contact (ForEachCustomer into a map).
  absl::StatusOr<std::map<std::string, std::vector<LedgerPurchase>>> PurchasesBySurvivor(
      std::string_view tenant) const;
  // What one customer's answers are built from, read once per call.
  struct CustomerRecords {
    std::vector<std::string> contacts;  // the survivor first, then those merged into it
    std::vector<LedgerPurchase> purchases;
    std::vector<crm::sales::v1::Order> orders;  // newest first, as many as asked
    std::vector<crm::interaction::v1::Case> cases;
    std::vector<AnalyticsProjection::StoredInteraction> interactions;  // newest first
    bool interactions_complete = false;  // every interaction, not just the newest
  };
  absl::StatusOr<CustomerRecords> ReadCustomer(std::string_view tenant,
                                               const directory::ContactDirectoryEntry& survivor,
                                               size_t interactions, size_t orders = 0) const;
  // The figures of `survivor` from its records.
  absl::StatusOr<CustomerMetrics> Metrics(std::string_view tenant, const std::string& survivor,
                                          const CustomerRecords& records, int64_t as_of_nanos,
                                          std::string currency_code, int horizon_days,
                                          absl::Duration rfm_staleness) const;
  // Recommendations for a customer who made `purchases`; `stats_staleness` as for ProductStatsOf.
  absl::StatusOr<std::vector<Recommendation>> RecommendFor(
      std::string_view tenant, const std::vector<LedgerPurchase>& purchases, int64_t min_orders,
      size_t limit, absl::Duration stats_staleness) const;
  // A tenant's order count and every product's order count.
  struct ProductStats {
    int64_t orders = 0;
    std::map<std::string, int64_t> counts;
  };
  // The stats as of the latest commit, or from a cache this young. Every order rewrites these
  // counters, so until RocksDB compacts them a scan walks every version of them: the cache keeps
  // that from every read.
  absl::StatusOr<std::shared_ptr<const ProductStats>> ProductStatsOf(
      std::string_view tenant, absl::Duration max_staleness) const;
  // Calls `fn` for each customer meeting `filter` at `as_of_nanos`, in contact id order after
  // `after`, until it returns false. `only` limits the scan to one customer; `rfm_staleness` as
  // for Ranking.
  absl::Status ForEachMember(
      std::string_view tenant, const crm::analytics::v1::SegmentFilter& filter, int64_t as_of_nanos,
      const std::string& after,
      const std::function<bool(const crm::contact::v1::Contact&, const CustomerView&)>& fn,
      const std::string& only = "", absl::Duration rfm_staleness = absl::ZeroDuration()) const;
  // RFM ranking of a currency's customers at `as_of`: a scorer and the time keys are measured
  // at (score a customer with RfmKey{reference − last purchase, days, revenue}). When as_of is at
  // or after the currency's latest purchase, ranks by recency do not depend on it, so one
  // ranking per projection generation serves every such call.
  struct RfmRanking {
    std::shared_ptr<const RfmScorer> scorer;
    int64_t reference = 0;
  };
  // `max_staleness`: a cached ranking from an older generation serves if it is this young (or,
  // when not zero, ten times as young as its rebuild took), or, when not zero, while another
  // call is rebuilding it. One call at a time rebuilds.
  absl::StatusOr<RfmRanking> Ranking(std::string_view tenant, const std::string& currency,
                                     int64_t as_of, absl::Duration max_staleness) const;
  // Appends the associations of `product_id` (every product when empty) seen in at least
  // `min_orders` orders, given N and every product's count.
  absl::Status AddAssociations(std::string_view tenant, const std::string& product_id,
                               int64_t min_orders, int64_t orders,
                               const std::map<std::string, int64_t>& counts,
                               std::vector<ProductAssociation>& out) const;
  // Every product's category, lower case.
  absl::StatusOr<std::map<std::string, std::string>> Categories(std::string_view tenant) const;
  // Calls `fn` with each live customer's seasonal record (those who bought it then).
  absl::Status ForEachSeasonal(
      std::string_view tenant, const std::string& product_id, const std::string& category,
      int month, const std::string& currency, int64_t as_of,
      const std::function<void(const crm::contact::v1::Contact&, SeasonalBuyer)>& fn) const;
  // The tenant's segments (at most the first kMaxSegmentsIn360), from a cache kept while
  // no segment is created or deleted: a 360 would otherwise seek for them in every level of the
  // store (their keys are outside the prefix filters), though most tenants have few or none.
  absl::StatusOr<std::shared_ptr<const std::vector<crm::analytics::v1::Segment>>> SegmentList(
      std::string_view tenant) const;
  // The segments `survivor` belongs to at `as_of_nanos`.
  absl::StatusOr<std::vector<crm::analytics::v1::Segment>> SegmentsOf(std::string_view tenant,
                                                                      const std::string& survivor,
                                                                      int64_t as_of_nanos) const;
  // Every currency the tenant's customers bought in.
  absl::StatusOr<std::set<std::string>> Currencies(std::string_view tenant) const;
  // Warms the rankings once the projection has caught up, then refits the models as they grow.
  void RefitLoop(absl::Duration interval);
  // One tenant's step of the loop: a refit of each currency's model whose history grew by a
  // tenth.
  void RefitTenant(const std::string& tenant);

  std::unique_ptr<store::ProjectionStore> store_;
  AnalyticsProjection projection_;
  projection::Projector projector_;
  projection::CommandWriter writer_;
  webhooks::Webhooks webhooks_;
  automation::Automation automation_;

  struct CachedRanking {
    uint64_t generation = 0;
    absl::Time built;
    int64_t latest_purchase = 0;
    RfmRanking ranking;
    // One call at a time rebuilds a ranking (it scans every customer); callers that accept a
    // stale one use the old one meanwhile, the others wait for it.
    bool rebuilding = false;
    bool built_once = false;
    absl::Duration build_time;  // how long the last rebuild took
  };
  mutable std::condition_variable ranking_built_;
  mutable std::mutex cache_mu_;
  mutable std::map<std::pair<std::string, std::string>, CachedRanking> rankings_;
  struct CachedStats {
    uint64_t generation = 0;
    absl::Time built;
    std::shared_ptr<const ProductStats> stats;
  };
  mutable std::map<std::string, CachedStats, std::less<>> product_stats_;
  struct CachedSegments {
    uint64_t generation = 0;  // AnalyticsProjection::segments_generation
    std::shared_ptr<const std::vector<crm::analytics::v1::Segment>> segments;
  };
  mutable std::map<std::string, CachedSegments, std::less<>> segment_lists_;
  // 360s as of now (CustomerFile360), by tenant and the contact id asked for.
  mutable store::ReadCache<std::shared_ptr<const File360>> kept_360s_;
  mutable std::atomic<uint64_t> kept_360s_served_{0};

  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread refits_;
};

}  // namespace crm::analytics
