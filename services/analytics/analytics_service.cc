#include "services/analytics/analytics_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <limits>
#include <map>
#include <set>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "common/ids/ids.h"
#include "common/money/money.h"
#include "common/process/thread_name.h"
#include "common/projection/aggregate.h"
#include "common/projection/wire_field.h"
#include "common/status/status_macros.h"
#include "crm/analytics/v1/events.pb.h"
#include "services/analytics/domain/reports.h"

namespace crm::analytics {
namespace {

namespace av1 = crm::analytics::v1;
namespace iv1 = crm::interaction::v1;
namespace sv1 = crm::sales::v1;
using Decided = projection::CommandWriter::Decision;
using Payload = projection::CommandWriter::Payload;
using projection::TimestampNanos;

constexpr size_t kLatest = 10;       // orders and interactions in the 360
constexpr size_t kOpenItems = 20;    // open deals, cases and tasks in the 360
constexpr size_t kScanItems = 1000;  // records of one kind read per customer
constexpr int kMaxMergeDepth = 100;
constexpr size_t kMaxPairs = 100000;          // co-purchase pairs read for one answer
constexpr size_t kOffers = 5;                 // recommendations in the 360
constexpr size_t kScanInteractions = 100000;  // a customer's interactions read for a trend
constexpr int64_t kMinPairOrders = 2;
constexpr size_t kMaxSegmentsIn360 = 100;
// How old the RFM ranking behind a 360 may be: a representative's screen may lag new orders
// elsewhere in the tenant by this much, so a steady write load does not make every 360 rank
// the whole tenant again. GetCustomerMetrics and segment listings always rank exactly.
constexpr absl::Duration k360Staleness = absl::Seconds(5);

bool CaseOpen(const iv1::Case& c) {
  return c.status() != iv1::CASE_STATUS_RESOLVED && c.status() != iv1::CASE_STATUS_CLOSED;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AnalyticsService>> AnalyticsService::Open(
    const std::string& projection_dir, eventlog::EventLog* log, bool rebuild) {
  ASSIGN_OR_RETURN(
      std::unique_ptr<store::ProjectionStore> store,
      store::ProjectionStore::OpenProjection(projection_dir, kProjectionLayout, rebuild));
  return std::unique_ptr<AnalyticsService>(new AnalyticsService(std::move(store), log));
}

AnalyticsService::AnalyticsService(std::unique_ptr<store::ProjectionStore> store,
                                   eventlog::EventLog* log)
    : store_(std::move(store)),
      projection_(store_.get()),
      projector_(projection::ProjectorOptions{.name = "analytics",
                                              .topics = {kTopic, directory::kContactTopic,
                                                         "crm.interaction.v1", "crm.sales.v1",
                                                         automation::kOutboundTopic},
                                              .own_topic = kTopic},
                 log, store_.get(), &projection_),
      writer_(log, &projector_, kTopic, kModelAggregateType),
      webhooks_(&projection_.webhooks(), log, &projector_),
      automation_(&projection_.rules(), &projection_.messages(), &projection_.campaigns(),
                  AutomationFacts(), log, &projector_),
      kept_360s_(store_->cache_bytes() / 2,
                 [](std::string_view key, const std::shared_ptr<const File360>& f) {
                   return key.size() + f->survivor.size() + f->contact.size() + f->rest.size() +
                          f->depends.marks.size() * sizeof(store::DropMark) +
                          f->depends.conditions.size() * 64 + 256;
                 }) {}

AnalyticsService::~AnalyticsService() { Stop(); }

void AnalyticsService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (refits_.joinable()) refits_.join();
  webhooks_.Stop();
  automation_.Stop();
  projector_.Stop();
}

automation::Facts AnalyticsService::AutomationFacts() const {
  automation::Facts facts;
  facts.category_of = [this](const std::string& tenant, const std::string& product_id) {
    absl::StatusOr<std::optional<crm::sales::v1::Product>> p =
        projection_.GetProduct(tenant, product_id);
    return p.ok() && *p ? (*p)->category() : std::string();
  };
  facts.deal = [this](const std::string& tenant,
                      const std::string& deal_id) -> std::optional<crm::sales::v1::Deal> {
    absl::StatusOr<std::optional<crm::sales::v1::Deal>> d = projection_.GetDeal(tenant, deal_id);
    return d.ok() ? *d : std::nullopt;
  };
  facts.owner_of = [this](const std::string& tenant, const std::string& contact_id) {
    absl::StatusOr<std::optional<crm::contact::v1::Contact>> c =
        projection_.GetContact(tenant, contact_id);
    return c.ok() && *c ? (*c)->owner() : std::string();
  };
  facts.contact = [this](
                      const std::string& tenant,
                      const std::string& contact_id) -> std::optional<crm::contact::v1::Contact> {
    absl::StatusOr<std::optional<crm::contact::v1::Contact>> c =
        projection_.GetContact(tenant, contact_id);
    return c.ok() ? *c : std::nullopt;
  };
  facts.segment = [this](const std::string& tenant,
                         const std::string& segment_id) -> std::optional<av1::Segment> {
    absl::StatusOr<std::optional<av1::Segment>> segment =
        projection_.GetSegment(tenant, segment_id);
    return segment.ok() ? *segment : std::nullopt;
  };
  facts.is_member = [this](const std::string& tenant, const av1::SegmentFilter& filter,
                           const std::string& contact_id,
                           absl::Time as_of) -> absl::StatusOr<bool> {
    bool member = false;
    RETURN_IF_ERROR(ForEachMember(
        tenant, filter, absl::ToUnixNanos(as_of), "",
        [&](const crm::contact::v1::Contact&, const CustomerView&) {
          member = true;
          return false;
        },
        contact_id));
    return member;
  };
  facts.members = [this](const std::string& tenant, const av1::SegmentFilter& filter,
                         absl::Time as_of,
                         const std::function<bool(const crm::contact::v1::Contact&)>& fn) {
    return ForEachMember(
        tenant, filter, absl::ToUnixNanos(as_of), "",
        [&](const crm::contact::v1::Contact& c, const CustomerView&) { return fn(c); });
  };
  facts.customers =
      [this](const std::string& tenant, bool with_purchases,
             const std::function<void(const automation::CustomerHistory&)>& fn) -> absl::Status {
    if (!with_purchases) {
      return projection_.ForEachRecord<crm::contact::v1::Contact>(
          'c', tenant, [&](const crm::contact::v1::Contact& c) {
            if (c.archived()) return true;
            automation::CustomerHistory h;
            h.contact_id = c.id();
            h.created = projection::TimeOf(c.create_time());
            fn(h);
            return true;
          });
    }
    std::map<std::string, std::optional<PurchaseModel>> models;  // currency -> as fitted now
    absl::Status error;
    RETURN_IF_ERROR(projection_.ForEachLedger(tenant, [&](std::string_view contact,
                                                          const av1::PurchaseLedger& ledger) {
      automation::CustomerHistory h;
      h.contact_id = std::string(contact);
      for (const av1::LedgerPurchase& p : ledger.purchases()) {
        h.purchases.emplace_back(projection::TimeOf(p.order_time()), p.order_id());
      }
      std::sort(h.purchases.begin(), h.purchases.end());
      std::vector<LedgerPurchase> purchases(ledger.purchases().begin(), ledger.purchases().end());
      const std::string currency = MainCurrency(purchases);
      if (!models.contains(currency)) {
        absl::StatusOr<std::optional<PurchaseModel>> model = projection_.GetModel(tenant, currency);
        if (!model.ok()) error.Update(model.status());
        models[currency] = model.ok() ? *model : std::nullopt;
      }
      const std::optional<PurchaseModel>& model = models[currency];
      h.churn_risk_bp = [&purchases, &currency, &model](absl::Time at) -> int32_t {
        const int64_t nanos = absl::ToUnixNanos(at);
        absl::StatusOr<CustomerFacts> facts = FactsOf(purchases, currency, nanos);
        return facts.ok() ? ChurnRiskBp(*facts, model, nanos) : 0;
      };
      fn(h);
    }));
    return error;
  };
  facts.cases = [this](const std::string& tenant,
                       const std::function<void(const iv1::Case&)>& fn) -> absl::Status {
    return projection_.ForEachRecord<iv1::Case>('s', tenant, [&](const iv1::Case& c) {
      fn(c);
      return true;
    });
  };
  return facts;
}

void AnalyticsService::StartRefits(absl::Duration interval) {
  refits_ = std::thread([this, interval] {
    process::NameThisThread("refits");
    RefitLoop(interval);
  });
}

absl::StatusOr<std::set<std::string>> AnalyticsService::Currencies(std::string_view tenant) const {
  std::set<std::string> currencies;
  RETURN_IF_ERROR(
      projection_.ForEachLedger(tenant, [&](std::string_view, const av1::PurchaseLedger& l) {
        for (const auto& p : l.purchases()) currencies.insert(p.net().currency_code());
      }));
  return currencies;
}

void AnalyticsService::RefitLoop(absl::Duration interval) {
  auto stopping = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  };
  // Once caught up, rank the customers of every tenant and currency, so the first customer
  // files do not wait for a scan of every customer.
  while (!stopping() && !projector_.WaitUntilCaughtUp(absl::Now() + absl::Seconds(1)).ok()) {
  }
  absl::StatusOr<std::set<std::string>> tenants = projection_.TenantsWithPurchases();
  if (!tenants.ok()) spdlog::warn("ranking: {}", tenants.status().ToString());
  for (const std::string& tenant : tenants.ok() ? *tenants : std::set<std::string>()) {
    absl::StatusOr<std::set<std::string>> currencies = Currencies(tenant);
    if (!currencies.ok()) continue;
    for (const std::string& currency : *currencies) {
      if (stopping()) return;
      const absl::Time start = absl::Now();
      // At an as_of after every purchase: the ranking every present-day call shares.
      if (absl::Status s = Ranking(tenant, currency, std::numeric_limits<int64_t>::max() / 2,
                                   absl::InfiniteDuration())
                               .status();
          !s.ok()) {
        spdlog::warn("ranking {} customers of tenant {}: {}", currency, tenant, s.ToString());
      } else {
        spdlog::info("ranked the {} customers of tenant {} in {}", currency, tenant,
                     absl::FormatDuration(absl::Now() - start));
      }
    }
  }
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stop_cv_.wait_for(lock, absl::ToChronoSeconds(interval), [this] { return stopping_; })) {
        return;
      }
    }
    absl::StatusOr<std::set<std::string>> all = projection_.TenantsWithPurchases();
    if (!all.ok()) {
      spdlog::warn("model refit: {}", all.status().ToString());
      continue;
    }
    for (const std::string& tenant : *all) {
      if (stopping()) return;
      RefitTenant(tenant);
    }
  }
}

void AnalyticsService::RefitTenant(const std::string& tenant) {
  CallContext ctx;
  ctx.tenant = tenant;
  ctx.actor = "analytics-refit";
  absl::StatusOr<std::set<std::string>> currencies = Currencies(tenant);
  if (!currencies.ok()) {
    spdlog::warn("model refit of tenant {}: {}", tenant, currencies.status().ToString());
    return;
  }
  const int64_t now = absl::ToUnixNanos(absl::Now());
  for (const std::string& currency : *currencies) {
    absl::StatusOr<Population> pop = PopulationOf(tenant, currency, now);
    absl::StatusOr<std::optional<PurchaseModel>> model = projection_.GetModel(tenant, currency);
    if (!pop.ok() || !model.ok() || pop->contact_ids.size() < 10) continue;
    if (*model && pop->purchase_days * 10 < (*model)->purchase_days() * 11) continue;
    // The same request id on every replica: one fit per step of growth takes effect.
    std::promise<absl::Status> fitted;
    ctx.deadline = absl::Now() + absl::Seconds(30);  // bounds a shutdown waiting on it
    FitModel(ctx, currency, now, absl::StrCat("refit-", currency, "-", pop->purchase_days),
             [&fitted](absl::StatusOr<PurchaseModel> m) { fitted.set_value(m.status()); });
    const absl::Status s = fitted.get_future().get();
    if (s.ok()) {
      spdlog::info("model refit of tenant {}: {} on {} customers, {} purchase days", tenant,
                   currency, pop->contact_ids.size(), pop->purchase_days);
    } else {
      spdlog::warn("model refit of tenant {}, {}: {}", tenant, currency, s.ToString());
    }
  }
}

absl::StatusOr<directory::ContactDirectoryEntry> AnalyticsService::Survivor(
    std::string_view tenant, const std::string& contact_id) const {
  std::string id = contact_id;
  for (int depth = 0; depth < kMaxMergeDepth; ++depth) {
    ASSIGN_OR_RETURN(std::optional<directory::ContactDirectoryEntry> entry,
                     projection_.directory().Get(tenant, id));
    if (!entry || entry->company()) {
      return absl::NotFoundError(
          absl::StrCat("contact_id: contact ", contact_id, " does not exist"));
    }
    if (entry->merged_into().empty()) return *std::move(entry);
    id = entry->merged_into();
  }
  return absl::InternalError(absl::StrCat("contact ", contact_id, ": merge chain too long"));
}

absl::Status AnalyticsService::ForEachCustomer(
    std::string_view tenant,
    const std::function<absl::Status(const std::string&, const std::vector<LedgerPurchase>&)>& fn)
    const {
  ASSIGN_OR_RETURN(const std::set<std::string> absorbing,
                   projection_.directory().Survivors(tenant));
  std::map<std::string, std::vector<LedgerPurchase>> deferred;  // survivors of merges
  std::vector<LedgerPurchase> purchases;
  absl::Status error;
  RETURN_IF_ERROR(projection_.ForEachLedger(
      tenant, [&](std::string_view contact, const av1::PurchaseLedger& ledger) {
        if (!error.ok()) return;
        std::string id(contact);
        for (int depth = 0; depth < kMaxMergeDepth; ++depth) {
          absl::StatusOr<std::optional<directory::ContactDirectoryEntry>> entry =
              projection_.directory().GetOnce(tenant, id);
          if (!entry.ok()) {
            error = entry.status();
            return;
          }
          if (!*entry) break;  // not known to the directory: on its own
          if ((*entry)->merged_into().empty()) {
            if ((*entry)->archived()) return;
            break;
          }
          id = (*entry)->merged_into();
        }
        if (id != contact || absorbing.contains(id)) {
          auto& all = deferred[id];
          all.insert(all.end(), ledger.purchases().begin(), ledger.purchases().end());
          return;
        }
        purchases.assign(ledger.purchases().begin(), ledger.purchases().end());
        error = fn(id, purchases);
      }));
  RETURN_IF_ERROR(error);
  for (const auto& [id, all] : deferred) RETURN_IF_ERROR(fn(id, all));
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, std::vector<LedgerPurchase>>>
AnalyticsService::PurchasesBySurvivor(std::string_view tenant) const {
  std::map<std::string, std::vector<LedgerPurchase>> by_survivor;
  RETURN_IF_ERROR(ForEachCustomer(
      tenant, [&](const std::string& id, const std::vector<LedgerPurchase>& purchases) {
        by_survivor[id] = purchases;
        return absl::OkStatus();
      }));
  return by_survivor;
}

absl::StatusOr<AnalyticsService::RfmRanking> AnalyticsService::Ranking(
    std::string_view tenant, const std::string& currency, int64_t as_of,
    absl::Duration max_staleness) const {
  const std::pair<std::string, std::string> key{std::string(tenant), currency};
  const uint64_t generation = projection_.generation();
  {
    std::unique_lock<std::mutex> lock(cache_mu_);
    CachedRanking& c = rankings_[key];
    // A ranking costs a scan of every customer: a caller that accepts staleness accepts it for
    // at least ten times as long as the last one took, so rebuilding takes a tenth of a core at
    // most however large the population.
    const absl::Duration staleness = max_staleness > absl::ZeroDuration()
                                         ? std::max(max_staleness, 10 * c.build_time)
                                         : absl::ZeroDuration();
    auto usable = [&] {
      return c.built_once && as_of >= c.latest_purchase &&
             (c.generation == generation || absl::Now() - c.built < staleness);
    };
    // While another call rebuilds it, a caller that accepts staleness takes the old one; the
    // others wait for the new one.
    auto old_will_do = [&] {
      return max_staleness > absl::ZeroDuration() && c.built_once && as_of >= c.latest_purchase;
    };
    // An answer kept with this ranking (read_recorder.h) holds while the ranking would serve.
    auto served = [&] {
      if (store::ReadRecorder* r = store::ReadRecorder::Current()) {
        r->Require([this, g = c.generation, built = c.built, staleness] {
          return projection_.generation() == g || absl::Now() - built < staleness;
        });
      }
      return c.ranking;
    };
    while (c.rebuilding && !usable()) {
      if (old_will_do()) return served();
      ranking_built_.wait(lock);
    }
    if (usable()) return served();
    c.rebuilding = true;
  }
  // Its own reads are many and watched as a whole, by its generation.
  store::ReadRecorder::Paused whole;
  // Far in the future every purchase counts; ranks hold for any as_of after the latest one.
  constexpr int64_t kFuture = std::numeric_limits<int64_t>::max() / 2;
  const absl::Time started = absl::Now();
  absl::StatusOr<Population> everything = PopulationOf(tenant, currency, kFuture);
  int64_t latest = std::numeric_limits<int64_t>::min();
  RfmRanking ranking;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    CachedRanking& c = rankings_[key];
    c.rebuilding = false;
    ranking_built_.notify_all();
    if (!everything.ok()) return everything.status();
    for (const RfmKey& k : everything->rfm) latest = std::max(latest, kFuture - k.recency_nanos);
    ranking = {std::make_shared<const RfmScorer>(everything->rfm), kFuture};
    c.generation = generation;
    c.built = absl::Now();
    c.build_time = c.built - started;
    c.latest_purchase = latest;
    c.ranking = ranking;
    c.built_once = true;
  }
  if (as_of >= latest) {
    if (store::ReadRecorder* r = whole.paused()) {
      r->Require([this, generation] { return projection_.generation() == generation; });
    }
    return ranking;
  }
  if (store::ReadRecorder* r = whole.paused()) r->Spoil();
  ASSIGN_OR_RETURN(Population then, PopulationOf(tenant, currency, as_of));  // a past as_of
  return RfmRanking{std::make_shared<const RfmScorer>(then.rfm), as_of};
}

absl::StatusOr<std::shared_ptr<const AnalyticsService::ProductStats>>
AnalyticsService::ProductStatsOf(std::string_view tenant, absl::Duration max_staleness) const {
  const uint64_t generation = projection_.generation();
  // An answer kept with these figures (read_recorder.h) holds while they would serve.
  auto served = [&](const CachedStats& c) {
    if (store::ReadRecorder* r = store::ReadRecorder::Current()) {
      r->Require([this, g = c.generation, built = c.built, max_staleness] {
        return projection_.generation() == g || absl::Now() - built < max_staleness;
      });
    }
    return c.stats;
  };
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    const auto it = product_stats_.find(tenant);
    if (it != product_stats_.end() &&
        (it->second.generation == generation || absl::Now() - it->second.built < max_staleness)) {
      return served(it->second);
    }
  }
  auto stats = std::make_shared<ProductStats>();
  {
    store::ReadRecorder::Paused whole;  // watched as a whole, by the generation
    ASSIGN_OR_RETURN(stats->orders, projection_.PurchaseCount(tenant));
    ASSIGN_OR_RETURN(stats->counts, projection_.ProductCounts(tenant));
  }
  std::lock_guard<std::mutex> lock(cache_mu_);
  CachedStats& c = product_stats_[std::string(tenant)];
  c = {generation, absl::Now(), stats};
  return served(c);
}

absl::StatusOr<Population> AnalyticsService::PopulationOf(std::string_view tenant,
                                                          const std::string& currency_code,
                                                          int64_t as_of_nanos) const {
  struct Member {
    std::string id;
    RfmKey rfm;
    RepeatHistory history;
  };
  std::vector<Member> members;
  Population pop;
  RETURN_IF_ERROR(ForEachCustomer(
      tenant,
      [&](const std::string& id, const std::vector<LedgerPurchase>& purchases) -> absl::Status {
        ASSIGN_OR_RETURN(CustomerFacts facts, FactsOf(purchases, currency_code, as_of_nanos));
        if (facts.purchases == 0) return absl::OkStatus();
        members.push_back({id, RfmKeyOf(facts, as_of_nanos), facts.repeat});
        pop.purchase_days += facts.purchase_days;
        return absl::OkStatus();
      }));
  std::sort(members.begin(), members.end(),
            [](const Member& a, const Member& b) { return a.id < b.id; });
  pop.contact_ids.reserve(members.size());
  pop.rfm.reserve(members.size());
  pop.histories.reserve(members.size());
  for (Member& m : members) {
    pop.contact_ids.push_back(std::move(m.id));
    pop.rfm.push_back(m.rfm);
    pop.histories.push_back(std::move(m.history));
  }
  return pop;
}

absl::StatusOr<AnalyticsService::CustomerRecords> AnalyticsService::ReadCustomer(
    std::string_view tenant, const directory::ContactDirectoryEntry& survivor, size_t interactions,
    size_t orders) const {
  CustomerRecords r;
  ASSIGN_OR_RETURN(r.contacts, projection_.directory().WithMerged(tenant, survivor));
  ASSIGN_OR_RETURN(r.purchases, projection_.Purchases(tenant, r.contacts,
                                                      orders > 0 ? &r.orders : nullptr, orders));
  ASSIGN_OR_RETURN(r.cases, projection_.Cases(tenant, r.contacts, kScanItems));
  ASSIGN_OR_RETURN(r.interactions,
                   projection_.LatestStoredInteractions(tenant, r.contacts, interactions));
  r.interactions_complete = r.interactions.size() < interactions;
  return r;
}

absl::StatusOr<CustomerMetrics> AnalyticsService::Metrics(
    std::string_view tenant, const std::string& survivor, const CustomerRecords& records,
    int64_t as_of_nanos, std::string currency_code, int horizon_days,
    absl::Duration rfm_staleness) const {
  if (currency_code.empty()) currency_code = MainCurrency(records.purchases);
  MetricsInput in;
  in.contact_id = survivor;
  in.as_of_nanos = as_of_nanos;
  in.horizon_days = horizon_days;
  if (!currency_code.empty()) {
    ASSIGN_OR_RETURN(in.facts, FactsOf(records.purchases, currency_code, as_of_nanos));
    ASSIGN_OR_RETURN(in.model, projection_.GetModel(tenant, currency_code));
  }
  if (in.facts.purchases > 0) {
    ASSIGN_OR_RETURN(RfmRanking ranking,
                     Ranking(tenant, currency_code, as_of_nanos, rfm_staleness));
    in.rfm = ranking.scorer->Score(RfmKeyOf(in.facts, ranking.reference));
  }
  for (const iv1::Case& c : records.cases) {
    if (TimestampNanos(c.create_time()) > as_of_nanos) continue;
    in.engagement.open_cases += CaseOpen(c);
    in.engagement.breached_cases += CaseBreached(c, as_of_nanos);
  }
  // The latest interaction at or before as_of: among those read, else (an early as_of) read on.
  auto last_before = [&](const std::vector<AnalyticsProjection::StoredInteraction>& newest_first) {
    for (const AnalyticsProjection::StoredInteraction& i : newest_first) {
      if (i.occurred_at_nanos <= as_of_nanos) {
        in.engagement.last_interaction_nanos = i.occurred_at_nanos;
        return;
      }
    }
  };
  last_before(records.interactions);
  if (!in.engagement.last_interaction_nanos && !records.interactions_complete) {
    ASSIGN_OR_RETURN(std::vector<AnalyticsProjection::StoredInteraction> more,
                     projection_.LatestStoredInteractions(tenant, records.contacts, kScanItems));
    last_before(more);
  }
  return BuildMetrics(in);
}

absl::StatusOr<CustomerMetrics> AnalyticsService::GetCustomerMetrics(
    const CallContext& ctx, const std::string& contact_id, int64_t as_of_nanos,
    const std::string& currency_code, int horizon_days) const {
  ASSIGN_OR_RETURN(const directory::ContactDirectoryEntry survivor,
                   Survivor(ctx.tenant, contact_id));
  ASSIGN_OR_RETURN(CustomerRecords records, ReadCustomer(ctx.tenant, survivor, kLatest));
  return Metrics(ctx.tenant, survivor.contact_id(), records, as_of_nanos, currency_code,
                 horizon_days, absl::ZeroDuration());
}

std::vector<std::string> AnalyticsService::NamesOf(const CallContext& ctx,
                                                   const std::vector<std::string>& ids) const {
  constexpr size_t kInFlight = 32;  // the most asked of the contact service at once
  std::vector<crm::contact::v1::PersonalData> found(ids.size());
  for (size_t first = 0; personal_ && first < ids.size(); first += kInFlight) {
    const size_t end = std::min(ids.size(), first + kInFlight);
    // Safe to destroy once Wait returns, though the last answer's thread may still be leaving.
    absl::BlockingCounter answered(static_cast<int>(end - first));
    for (size_t i = first; i < end; ++i) {
      personal_(ctx, ids[i], [&, i](crm::contact::v1::PersonalData p) {
        found[i] = std::move(p);
        answered.DecrementCount();
      });
    }
    answered.Wait();
  }
  std::vector<std::string> names;
  names.reserve(ids.size());
  for (const auto& p : found)
    names.push_back(directory::DisplayName(p.given_name(), p.family_name()));
  return names;
}

absl::StatusOr<nlohmann::json> AnalyticsService::ExportPersonalData(
    const CallContext& ctx, const std::vector<std::string>& contact_ids) const {
  if (contact_ids.empty()) return nlohmann::json::object();
  absl::StatusOr<Customer360> file =
      CustomerFile(ctx, contact_ids.front(), absl::ToUnixNanos(absl::Now()));
  if (absl::IsNotFound(file.status())) return nlohmann::json::object();  // not seen here yet
  if (!file.ok()) return file.status();
  file->clear_contact();  // the contact service's part has it
  return nlohmann::json{{"customer_360", projection::ToJson(*file)}};
}

std::string AnalyticsService::Customer360Wire(const File360& file,
                                              const crm::contact::v1::PersonalData& personal) {
  std::string contact = file.contact;
  if (personal.ByteSizeLong() > 0)
    projection::AppendField(contact, 2, personal.SerializeAsString());
  std::string out;
  out.reserve(contact.size() + file.rest.size() + 8);
  projection::AppendField(out, 1, contact);
  out.append(file.rest);
  return out;
}

void AnalyticsService::GetCustomer360(const CallContext& ctx, const std::string& contact_id,
                                      std::optional<int64_t> as_of_nanos,
                                      std::function<void(absl::StatusOr<std::string>)> done) const {
  std::shared_ptr<const File360> kept;
  const std::string key = absl::StrCat(ctx.tenant, absl::string_view("\0", 1), contact_id);
  if (!as_of_nanos) {
    uint64_t generation = 0;
    if (auto found = kept_360s_.Find(key, &generation); found && (*found)->depends.Hold()) {
      kept = *std::move(found);
    }
  }
  if (kept != nullptr) kept_360s_served_.fetch_add(1, std::memory_order_relaxed);
  if (kept != nullptr && !personal_) return done(Customer360Wire(*kept, {}));
  if (kept != nullptr) {
    personal_(ctx, kept->survivor,
              [kept, done = std::move(done)](crm::contact::v1::PersonalData personal) {
                done(Customer360Wire(*kept, personal));
              });
    return;
  }
  // Not kept: read (as of now, recording what from: read_recorder.h). The survivor first, for
  // its personal data to be asked for while the rest is read.
  std::optional<store::ReadRecorder> recorder;
  if (!as_of_nanos) recorder.emplace();
  absl::StatusOr<directory::ContactDirectoryEntry> entry = Survivor(ctx.tenant, contact_id);
  if (!entry.ok()) return done(entry.status());
  // The last of the two parts to arrive passes the 360 on.
  struct Join {
    std::function<void(absl::StatusOr<std::string>)> done;
    // The two parts, each stored once before its Arrived.
    absl::StatusOr<std::shared_ptr<const File360>> file;
    crm::contact::v1::PersonalData personal;
    std::atomic<int> pending{2};
    void Arrived() {
      if (pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      if (!file.ok()) return done(file.status());
      done(Customer360Wire(**file, personal));
    }
  };
  auto join = std::make_shared<Join>();
  join->done = std::move(done);
  if (personal_) {
    store::ReadRecorder::Paused other_service;  // its reads are not this answer's
    personal_(ctx, entry->contact_id(), [join](crm::contact::v1::PersonalData personal) {
      join->personal = std::move(personal);
      join->Arrived();
    });
  } else {
    join->Arrived();
  }
  const int64_t as_of = as_of_nanos.value_or(absl::ToUnixNanos(absl::Now()));
  const absl::Time now = absl::FromUnixNanos(as_of);
  std::vector<AnalyticsProjection::StoredInteraction> interactions;
  absl::StatusOr<Customer360> file = CustomerFile(ctx, *entry, contact_id, as_of, &interactions);
  if (!file.ok()) {
    join->file = file.status();
  } else {
    auto parts = std::make_shared<File360>();
    parts->survivor = entry->contact_id();
    parts->contact = file->contact().SerializeAsString();
    file->clear_contact();
    parts->rest = file->SerializeAsString();
    // Carried as stored (wire_field.h): parsing them only to serialise them again was a third
    // of the instructions of a 360 read from the projection.
    for (const AnalyticsProjection::StoredInteraction& i : interactions) {
      projection::AppendField(parts->rest, Customer360::kLatestInteractionsFieldNumber, i.bytes);
    }
    if (recorder && !recorder->spoiled()) {
      // Its figures as of now hold for k360Staleness — for a random three quarters to all of it:
      // the 360s first read together (a dashboard, a campaign, a restart) would otherwise all be
      // read again together, every 5 s.
      thread_local absl::BitGen spread;
      const absl::Duration holds =
          k360Staleness * (0.75 + 0.25 * absl::Uniform<double>(spread, 0.0, 1.0));
      recorder->Require([now, holds] { return absl::Now() - now < holds; });
      parts->depends = std::move(*recorder).Take();
      recorder.reset();
      kept_360s_.Put(key, parts);
    }
    join->file = std::move(parts);
  }
  recorder.reset();
  join->Arrived();
}

absl::StatusOr<Customer360> AnalyticsService::CustomerFile(const CallContext& ctx,
                                                           const std::string& contact_id,
                                                           int64_t as_of_nanos) const {
  ASSIGN_OR_RETURN(const directory::ContactDirectoryEntry entry, Survivor(ctx.tenant, contact_id));
  return CustomerFile(ctx, entry, contact_id, as_of_nanos);
}

absl::StatusOr<Customer360> AnalyticsService::CustomerFile(
    const CallContext& ctx, const directory::ContactDirectoryEntry& entry,
    const std::string& contact_id, int64_t as_of_nanos,
    std::vector<AnalyticsProjection::StoredInteraction>* stored_interactions) const {
  const std::string& survivor = entry.contact_id();
  ASSIGN_OR_RETURN(std::optional<crm::contact::v1::Contact> contact,
                   projection_.GetContact(ctx.tenant, survivor));
  if (!contact) {
    return absl::NotFoundError(absl::StrCat("contact_id: contact ", contact_id, " does not exist"));
  }
  ASSIGN_OR_RETURN(CustomerRecords records, ReadCustomer(ctx.tenant, entry, kLatest, kLatest));
  const std::vector<std::string>& contacts = records.contacts;
  Customer360 out;
  if (!contact->affiliations().empty()) {
    ASSIGN_OR_RETURN(std::optional<crm::contact::v1::Company> company,
                     projection_.GetCompany(ctx.tenant, contact->affiliations(0).company_id()));
    if (company) *out.mutable_company() = *std::move(company);
  }
  *out.mutable_contact() = *std::move(contact);
  out.mutable_contact()->clear_personal();  // this projection keeps none (GetCustomer360 adds it)
  for (size_t i = 1; i < contacts.size(); ++i) out.add_merged_contact_ids(contacts[i]);
  ASSIGN_OR_RETURN(*out.mutable_metrics(),
                   Metrics(ctx.tenant, survivor, records, as_of_nanos, "", 365, k360Staleness));
  // The metrics above were the records' last reader: moved, not copied.
  for (sv1::Order& o : records.orders) *out.add_latest_orders() = std::move(o);
  if (stored_interactions != nullptr) {
    *stored_interactions = std::move(records.interactions);
  } else {
    for (const AnalyticsProjection::StoredInteraction& i : records.interactions) {
      if (!out.add_latest_interactions()->ParseFromString(i.bytes)) {
        return absl::DataLossError("corrupt interaction in the analytics projection");
      }
    }
  }
  ASSIGN_OR_RETURN(std::vector<sv1::Deal> deals,
                   projection_.Deals(ctx.tenant, contacts, kScanItems));
  for (sv1::Deal& d : deals) {
    if (d.status() == sv1::DEAL_STATUS_OPEN && out.open_deals_size() < int{kOpenItems}) {
      *out.add_open_deals() = std::move(d);
    }
  }
  for (const iv1::Case& c : records.cases) {
    if (CaseOpen(c) && out.open_cases_size() < int{kOpenItems}) *out.add_open_cases() = c;
  }
  ASSIGN_OR_RETURN(std::vector<av1::Segment> segments,
                   SegmentsOf(ctx.tenant, survivor, as_of_nanos));
  for (av1::Segment& s : segments) *out.add_segments() = std::move(s);
  ASSIGN_OR_RETURN(
      std::vector<Recommendation> offers,
      RecommendFor(ctx.tenant, records.purchases, kMinPairOrders, kOffers, k360Staleness));
  for (Recommendation& r : offers) *out.add_recommended_offers() = std::move(r);
  ASSIGN_OR_RETURN(std::vector<iv1::Task> tasks,
                   projection_.Tasks(ctx.tenant, contacts, kScanItems));
  for (iv1::Task& t : tasks) {
    if (t.status() == iv1::TASK_STATUS_OPEN && out.open_tasks_size() < int{kOpenItems}) {
      *out.add_open_tasks() = std::move(t);
    }
  }
  return out;
}

absl::Status AnalyticsService::AddAssociations(std::string_view tenant,
                                               const std::string& product_id, int64_t min_orders,
                                               int64_t orders,
                                               const std::map<std::string, int64_t>& counts,
                                               std::vector<ProductAssociation>& out) const {
  ASSIGN_OR_RETURN(const auto pairs, projection_.PairCounts(tenant, product_id, kMaxPairs));
  for (const auto& pair : pairs) {
    if (pair.n < min_orders) continue;
    const auto a = counts.find(pair.a);
    const auto b = counts.find(pair.b);
    out.push_back(MakeAssociation(pair.a, pair.b, pair.n, a == counts.end() ? 0 : a->second,
                                  b == counts.end() ? 0 : b->second, orders));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ProductAssociation>> AnalyticsService::ListProductAssociations(
    const CallContext& ctx, const std::string& product_id, int64_t min_orders, size_t limit) const {
  ASSIGN_OR_RETURN(const std::shared_ptr<const ProductStats> stats,
                   ProductStatsOf(ctx.tenant, absl::ZeroDuration()));
  std::vector<ProductAssociation> out;
  RETURN_IF_ERROR(
      AddAssociations(ctx.tenant, product_id, min_orders, stats->orders, stats->counts, out));
  std::sort(out.begin(), out.end(), Stronger);
  if (out.size() > limit) out.resize(limit);
  return out;
}

absl::StatusOr<std::vector<Recommendation>> AnalyticsService::GetRecommendations(
    const CallContext& ctx, const std::string& contact_id, int64_t min_orders, size_t limit) const {
  ASSIGN_OR_RETURN(const directory::ContactDirectoryEntry entry, Survivor(ctx.tenant, contact_id));
  ASSIGN_OR_RETURN(std::vector<std::string> contacts,
                   projection_.directory().WithMerged(ctx.tenant, entry));
  ASSIGN_OR_RETURN(std::vector<LedgerPurchase> purchases,
                   projection_.Purchases(ctx.tenant, contacts));
  return RecommendFor(ctx.tenant, purchases, min_orders, limit, absl::ZeroDuration());
}

absl::StatusOr<std::vector<Recommendation>> AnalyticsService::RecommendFor(
    std::string_view tenant, const std::vector<LedgerPurchase>& purchases, int64_t min_orders,
    size_t limit, absl::Duration stats_staleness) const {
  std::set<std::string> bought;
  for (const LedgerPurchase& p : purchases) {
    for (const auto& line : p.lines()) bought.insert(line.product_id());
  }
  // The counts once; then each bought product's pairs.
  ASSIGN_OR_RETURN(const std::shared_ptr<const ProductStats> stats,
                   ProductStatsOf(tenant, stats_staleness));
  const std::map<std::string, int64_t>& counts = stats->counts;
  std::vector<ProductAssociation> associations;
  for (const std::string& product : bought) {
    RETURN_IF_ERROR(
        AddAssociations(tenant, product, min_orders, stats->orders, counts, associations));
  }
  const std::map<std::string, int64_t> none;
  const std::map<std::string, int64_t>& popularity = bought.empty() ? counts : none;
  std::map<std::string, ProductInfo> products;
  auto know = [&](const std::string& id) -> absl::Status {
    if (products.contains(id)) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::optional<sv1::Product> p, projection_.GetProduct(tenant, id));
    if (p) products[id] = ProductInfo{p->name(), p->category(), p->active()};
    return absl::OkStatus();
  };
  for (const ProductAssociation& a : associations) {
    RETURN_IF_ERROR(know(a.product_id()));
    RETURN_IF_ERROR(know(a.associated_product_id()));
  }
  for (const auto& [id, n] : popularity) RETURN_IF_ERROR(know(id));
  return Recommend(bought, associations, popularity, products, limit);
}

absl::StatusOr<av1::GetRetentionResponse> AnalyticsService::GetRetention(
    const CallContext& ctx, int64_t cohorts_from, int64_t as_of, int inactivity_days) const {
  ASSIGN_OR_RETURN(const auto by_survivor, PurchasesBySurvivor(ctx.tenant));
  std::vector<std::vector<int64_t>> customers;
  for (const auto& [id, purchases] : by_survivor) {
    std::vector<int64_t>& times = customers.emplace_back();
    for (const LedgerPurchase& p : purchases) times.push_back(TimestampNanos(p.order_time()));
  }
  return ComputeRetention(customers, cohorts_from, as_of, inactivity_days);
}

absl::StatusOr<av1::SalesReport> AnalyticsService::GetSalesReport(
    const CallContext& ctx, int64_t period_start, int64_t period_end,
    const std::string& currency) const {
  SalesInput in;
  in.period_start = period_start;
  in.period_end = period_end;
  in.currency_code = currency;
  RETURN_IF_ERROR(projection_.ForEachRecord<sv1::Order>('r', ctx.tenant, [&](const sv1::Order& o) {
    in.orders.push_back(o);
    return true;
  }));
  RETURN_IF_ERROR(projection_.ForEachRecord<sv1::Deal>('l', ctx.tenant, [&](const sv1::Deal& d) {
    in.deals.push_back(d);
    return true;
  }));
  RETURN_IF_ERROR(
      projection_.ForEachRecord<sv1::Product>('p', ctx.tenant, [&](const sv1::Product& p) {
        in.products[p.id()] = p;
        return true;
      }));
  return ComputeSalesReport(in);
}

absl::StatusOr<av1::ServiceReport> AnalyticsService::GetServiceReport(const CallContext& ctx,
                                                                      int64_t period_start,
                                                                      int64_t period_end,
                                                                      int64_t as_of) const {
  std::vector<iv1::Interaction> interactions;
  std::vector<iv1::Case> cases;
  RETURN_IF_ERROR(
      projection_.ForEachRecord<iv1::Interaction>('n', ctx.tenant, [&](const iv1::Interaction& i) {
        interactions.push_back(i);
        return true;
      }));
  RETURN_IF_ERROR(projection_.ForEachRecord<iv1::Case>('s', ctx.tenant, [&](const iv1::Case& c) {
    cases.push_back(c);
    return true;
  }));
  return ComputeServiceReport(interactions, cases, period_start, period_end, as_of);
}

absl::StatusOr<av1::EngagementTrend> AnalyticsService::GetEngagementTrend(
    const CallContext& ctx, const std::string& contact_id, int months, int64_t as_of) const {
  ASSIGN_OR_RETURN(const directory::ContactDirectoryEntry entry, Survivor(ctx.tenant, contact_id));
  const std::string& survivor = entry.contact_id();
  ASSIGN_OR_RETURN(std::vector<std::string> contacts,
                   projection_.directory().WithMerged(ctx.tenant, entry));
  ASSIGN_OR_RETURN(std::vector<iv1::Interaction> interactions,
                   projection_.LatestInteractions(ctx.tenant, contacts, kScanInteractions));
  return ComputeEngagement(survivor, interactions, months, as_of);
}

absl::StatusOr<std::map<std::string, std::string>> AnalyticsService::Categories(
    std::string_view tenant) const {
  std::map<std::string, std::string> categories;
  RETURN_IF_ERROR(projection_.ForEachRecord<sv1::Product>('p', tenant, [&](const sv1::Product& p) {
    categories[p.id()] = absl::AsciiStrToLower(p.category());
    return true;
  }));
  return categories;
}

absl::Status AnalyticsService::ForEachSeasonal(
    std::string_view tenant, const std::string& product_id, const std::string& category, int month,
    const std::string& currency, int64_t as_of,
    const std::function<void(const crm::contact::v1::Contact&, SeasonalBuyer)>& fn) const {
  ASSIGN_OR_RETURN(const auto by_survivor, PurchasesBySurvivor(tenant));
  ASSIGN_OR_RETURN(const auto categories, Categories(tenant));
  const std::string wanted = absl::AsciiStrToLower(category);
  auto matches = [&](const av1::LedgerLine& line) {
    if (!product_id.empty() && line.product_id() != product_id) return false;
    if (wanted.empty()) return true;
    const auto it = categories.find(line.product_id());
    return it != categories.end() && it->second == wanted;
  };
  return projection_.ForEachRecord<crm::contact::v1::Contact>(
      'c', tenant, [&](const crm::contact::v1::Contact& c) {
        if (!c.merged_into().empty() || c.archived()) return true;
        const auto it = by_survivor.find(c.id());
        if (it == by_survivor.end()) return true;
        std::optional<SeasonalBuyer> b =
            SeasonalOf(c.id(), "", it->second, matches, month, currency, as_of);
        if (b) fn(c, *std::move(b));
        return true;
      });
}

absl::StatusOr<std::vector<SeasonalBuyer>> AnalyticsService::ListSeasonalBuyers(
    const CallContext& ctx, const std::string& product_id, const std::string& category, int month,
    const std::string& currency, int64_t as_of, size_t limit) const {
  std::vector<SeasonalBuyer> buyers;
  RETURN_IF_ERROR(ForEachSeasonal(
      ctx.tenant, product_id, category, month, currency, as_of,
      [&](const crm::contact::v1::Contact&, SeasonalBuyer b) { buyers.push_back(std::move(b)); }));
  std::sort(buyers.begin(), buyers.end(), BetterSeasonal);
  if (buyers.size() > limit) buyers.resize(limit);
  // Names for the few listed only: they may come from another service.
  std::vector<std::string> ids;
  for (const SeasonalBuyer& b : buyers) ids.push_back(b.contact_id());
  std::vector<std::string> names = NamesOf(ctx, ids);
  for (size_t i = 0; i < buyers.size(); ++i) buyers[i].set_display_name(std::move(names[i]));
  return buyers;
}

absl::StatusOr<CampaignSuggestion> AnalyticsService::SuggestCampaign(
    const CallContext& ctx, const std::string& product_id, const std::string& category, int month,
    const std::string& currency, crm::contact::v1::ConsentChannel channel, int min_years,
    int64_t as_of, size_t limit) const {
  ASSIGN_OR_RETURN(const int digits, money::MinorDigits("currency_code", currency));
  std::vector<SeasonalBuyer> consenting;
  int without_consent = 0;
  RETURN_IF_ERROR(ForEachSeasonal(ctx.tenant, product_id, category, month, currency, as_of,
                                  [&](const crm::contact::v1::Contact& c, SeasonalBuyer b) {
                                    if (b.years() < min_years) return;
                                    if (!ConsentGranted(c, channel)) {
                                      ++without_consent;
                                      return;
                                    }
                                    consenting.push_back(std::move(b));
                                  }));
  CampaignSuggestion suggestion =
      SuggestCampaignFor(std::move(consenting), without_consent, month, as_of, digits, limit);
  std::vector<std::string> ids;
  for (const auto& target : suggestion.targets()) ids.push_back(target.buyer().contact_id());
  std::vector<std::string> names = NamesOf(ctx, ids);
  for (int i = 0; i < suggestion.targets_size(); ++i) {
    suggestion.mutable_targets(i)->mutable_buyer()->set_display_name(std::move(names[i]));
  }
  return suggestion;
}

absl::Status AnalyticsService::ForEachMember(
    std::string_view tenant, const av1::SegmentFilter& filter, int64_t as_of,
    const std::string& after,
    const std::function<bool(const crm::contact::v1::Contact&, const CustomerView&)>& fn,
    const std::string& only, absl::Duration rfm_staleness) const {
  // One customer reads only their own purchases; a scan groups every ledger once.
  std::map<std::string, std::vector<LedgerPurchase>> by_survivor;
  if (only.empty()) {
    ASSIGN_OR_RETURN(by_survivor, PurchasesBySurvivor(tenant));
  } else {
    ASSIGN_OR_RETURN(std::vector<std::string> contacts,
                     projection_.directory().WithMerged(tenant, only));
    ASSIGN_OR_RETURN(by_survivor[only], projection_.Purchases(tenant, contacts));
  }
  std::optional<RfmRanking> ranking;
  if (UsesRfm(filter)) {
    ASSIGN_OR_RETURN(ranking, Ranking(tenant, filter.currency_code(), as_of, rfm_staleness));
  }
  // The catalog is read only for a filter on a category (a one-customer check, such as a rule's
  // customer condition on each event, would otherwise read every product each time).
  std::map<std::string, std::string> categories;
  if (!filter.bought_category().empty()) {
    ASSIGN_OR_RETURN(categories, Categories(tenant));
  }
  std::map<std::string, std::string> industries;  // company -> lower-case industry
  const std::vector<LedgerPurchase> none;
  absl::Status error;
  auto visit = [&](const crm::contact::v1::Contact& c) -> bool {
    if (!c.merged_into().empty() || c.archived()) return true;
    if (!only.empty() && c.id() != only) return true;
    CustomerView view;
    view.contact = &c;
    const auto it = by_survivor.find(c.id());
    view.purchases = it == by_survivor.end() ? &none : &it->second;
    view.category_of = [&](const std::string& product) {
      const auto found = categories.find(product);
      return found == categories.end() ? std::string() : found->second;
    };
    for (const auto& a : c.affiliations()) {
      if (!industries.contains(a.company_id())) {
        absl::StatusOr<std::optional<crm::contact::v1::Company>> company =
            projection_.GetCompany(tenant, a.company_id());
        if (!company.ok()) {
          error = company.status();
          return false;
        }
        industries[a.company_id()] =
            *company ? absl::AsciiStrToLower((*company)->industry()) : std::string();
      }
      view.industries.push_back(industries[a.company_id()]);
    }
    if (!filter.currency_code().empty()) {
      absl::StatusOr<CustomerFacts> facts = FactsOf(*view.purchases, filter.currency_code(), as_of);
      if (!facts.ok()) {
        error = facts.status();
        return false;
      }
      view.revenue_minor = facts->revenue_minor;
      if (ranking && facts->purchases > 0) {
        view.rfm = ranking->scorer->Score(RfmKeyOf(*facts, ranking->reference));
      }
    }
    if (UsesInteractions(filter)) {
      absl::StatusOr<std::vector<std::string>> contacts =
          projection_.directory().WithMerged(tenant, c.id());
      absl::StatusOr<std::vector<iv1::Interaction>> latest =
          contacts.ok() ? projection_.LatestInteractions(tenant, *contacts, kScanItems)
                        : absl::StatusOr<std::vector<iv1::Interaction>>(contacts.status());
      if (!latest.ok()) {
        error = latest.status();
        return false;
      }
      for (const iv1::Interaction& i : *latest) {
        if (TimestampNanos(i.occurred_at()) <= as_of) {
          view.last_interaction_nanos = TimestampNanos(i.occurred_at());
          break;
        }
      }
    }
    if (!Matches(filter, view, as_of)) return true;
    return fn(c, view);
  };
  if (!only.empty()) {
    ASSIGN_OR_RETURN(std::optional<crm::contact::v1::Contact> c,
                     projection_.GetContact(tenant, only));
    if (c) visit(*c);
    return error;
  }
  RETURN_IF_ERROR(projection_.ForEachRecord<crm::contact::v1::Contact>('c', tenant, visit, after));
  return error;
}

std::vector<projection::ExportSource<av1::ExportRecordsResponse>> AnalyticsService::ExportSources(
    const CallContext& ctx) const {
  using Response = av1::ExportRecordsResponse;
  std::vector<projection::ExportSource<Response>> sources;
  sources.push_back(projection::KindSource<av1::Segment, Response>(
      store_->Snapshot(), 'j', ctx.tenant,
      [](av1::Segment& s, Response& r) { *r.mutable_segment() = std::move(s); }));
  // Webhooks: few per tenant, one page; their secrets stay here.
  auto after = std::make_shared<std::string>();
  sources.push_back([this, tenant = ctx.tenant, after]() -> absl::StatusOr<std::vector<Response>> {
    ASSIGN_OR_RETURN(std::vector<av1::WebhookRecord> records,
                     projection_.webhooks().ListWebhooks(tenant, *after, projection::kExportPage));
    std::vector<Response> out(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      *after = records[i].webhook().id();
      *out[i].mutable_webhook() = std::move(*records[i].mutable_webhook());
    }
    return out;
  });
  return sources;
}

void AnalyticsService::CreateSegment(const CallContext& ctx, const av1::Segment& segment,
                                     const std::string& request_id, Done<av1::Segment> done) {
  const std::string id = ids::NewId();
  projection::CommandWriter::Command cmd =
      projection::CommandFor(ctx, "CreateSegment", kSegmentAggregateType, request_id);
  writer_.Run<av1::Segment>(
      std::move(cmd),
      [&](absl::Time, Payload& payload) -> Decided {
        av1::SegmentCreated event;
        *event.mutable_segment() = segment;
        event.mutable_segment()->set_id(id);
        return projection::Take(absl::StatusOr<av1::SegmentCreated>(std::move(event)), payload, id,
                                0);
      },
      [this, ctx](const std::string& segment_id, int64_t) -> absl::StatusOr<av1::Segment> {
        ASSIGN_OR_RETURN(std::optional<av1::Segment> s,
                         projection_.GetSegment(ctx.tenant, segment_id));
        if (!s)
          return absl::NotFoundError(absl::StrCat("id: segment ", segment_id, " does not exist"));
        return *std::move(s);
      },
      std::move(done));
}

void AnalyticsService::DeleteSegment(const CallContext& ctx, const std::string& id,
                                     int64_t expected_version, const std::string& request_id,
                                     Done<google::protobuf::Empty> done) {
  projection::CommandWriter::Command cmd =
      projection::CommandFor(ctx, "DeleteSegment", kSegmentAggregateType, request_id);
  writer_.Run<google::protobuf::Empty>(
      std::move(cmd),
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<av1::Segment> current,
                         projection_.GetSegment(ctx.tenant, id));
        RETURN_IF_ERROR(projection::CheckExpectedVersion(current, "segment", id, expected_version));
        return projection::Take(absl::StatusOr<av1::SegmentDeleted>(av1::SegmentDeleted()), payload,
                                id, current->version());
      },
      [](const std::string&, int64_t) -> absl::StatusOr<google::protobuf::Empty> {
        return google::protobuf::Empty();
      },
      std::move(done));
}

absl::StatusOr<av1::Segment> AnalyticsService::GetSegment(const CallContext& ctx,
                                                          const std::string& id,
                                                          int64_t as_of) const {
  ASSIGN_OR_RETURN(std::optional<av1::Segment> segment, projection_.GetSegment(ctx.tenant, id));
  if (!segment) return absl::NotFoundError(absl::StrCat("id: segment ", id, " does not exist"));
  int32_t size = 0;
  int64_t revenue = 0;
  RETURN_IF_ERROR(ForEachMember(ctx.tenant, segment->filter(), as_of, "",
                                [&](const crm::contact::v1::Contact&, const CustomerView& v) {
                                  ++size;
                                  revenue += v.revenue_minor;
                                  return true;
                                }));
  segment->set_size(size);
  if (!segment->filter().currency_code().empty()) {
    segment->mutable_revenue()->set_currency_code(segment->filter().currency_code());
    segment->mutable_revenue()->set_minor_units(revenue);
  }
  return *std::move(segment);
}

absl::StatusOr<AnalyticsService::SegmentPage> AnalyticsService::ListSegments(
    const CallContext& ctx, const std::string& resume_after, size_t page_size) const {
  SegmentPage page;
  RETURN_IF_ERROR(projection_.ForEachRecord<av1::Segment>(
      'j', ctx.tenant,
      [&](const av1::Segment& s) {
        if (page.segments.size() >= page_size) {
          page.resume_after = page.segments.back().id();
          return false;
        }
        page.segments.push_back(s);
        return true;
      },
      resume_after));
  return page;
}

absl::StatusOr<AnalyticsService::MemberPage> AnalyticsService::ListSegmentMembers(
    const CallContext& ctx, const std::string& id, int64_t as_of, const std::string& resume_after,
    size_t page_size) const {
  ASSIGN_OR_RETURN(std::optional<av1::Segment> segment, projection_.GetSegment(ctx.tenant, id));
  if (!segment) return absl::NotFoundError(absl::StrCat("id: segment ", id, " does not exist"));
  MemberPage page;
  RETURN_IF_ERROR(ForEachMember(ctx.tenant, segment->filter(), as_of, resume_after,
                                [&](const crm::contact::v1::Contact& c, const CustomerView&) {
                                  if (page.members.size() >= page_size) {
                                    page.resume_after = page.members.back().contact_id();
                                    return false;
                                  }
                                  av1::SegmentMember& m = page.members.emplace_back();
                                  m.set_contact_id(c.id());
                                  return true;
                                }));
  std::vector<std::string> ids;
  for (const av1::SegmentMember& m : page.members) ids.push_back(m.contact_id());
  std::vector<std::string> names = NamesOf(ctx, ids);
  for (size_t i = 0; i < page.members.size(); ++i) {
    page.members[i].set_display_name(std::move(names[i]));
  }
  return page;
}

absl::StatusOr<std::shared_ptr<const std::vector<av1::Segment>>> AnalyticsService::SegmentList(
    std::string_view tenant) const {
  // The generation first, then the store: a list read across a change is filed under the
  // generation before it, which that change's end makes stale.
  const uint64_t generation = projection_.segments_generation();
  // An answer kept with this list (read_recorder.h) holds while it is current.
  if (store::ReadRecorder* r = store::ReadRecorder::Current()) {
    r->Require([this, generation] { return projection_.segments_generation() == generation; });
  }
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    const auto it = segment_lists_.find(tenant);
    if (it != segment_lists_.end() && it->second.generation == generation) {
      return it->second.segments;
    }
  }
  auto segments = std::make_shared<std::vector<av1::Segment>>();
  store::ReadRecorder::Paused whole;  // watched as a whole, by the generation
  RETURN_IF_ERROR(projection_.ForEachRecord<av1::Segment>('j', tenant, [&](const av1::Segment& s) {
    segments->push_back(s);
    return segments->size() < kMaxSegmentsIn360;
  }));
  std::lock_guard<std::mutex> lock(cache_mu_);
  segment_lists_[std::string(tenant)] = {generation, segments};
  return segments;
}

absl::StatusOr<std::vector<av1::Segment>> AnalyticsService::SegmentsOf(std::string_view tenant,
                                                                       const std::string& survivor,
                                                                       int64_t as_of) const {
  ASSIGN_OR_RETURN(const std::shared_ptr<const std::vector<av1::Segment>> segments,
                   SegmentList(tenant));
  std::vector<av1::Segment> out;
  for (const av1::Segment& s : *segments) {
    bool member = false;
    RETURN_IF_ERROR(ForEachMember(
        tenant, s.filter(), as_of, "",
        [&](const crm::contact::v1::Contact&, const CustomerView&) {
          member = true;
          return false;
        },
        survivor, k360Staleness));
    if (member) {
      av1::Segment& brief = out.emplace_back();
      brief.set_id(s.id());
      brief.set_name(s.name());
    }
  }
  return out;
}

absl::StatusOr<PurchaseModel> AnalyticsService::GetModel(const CallContext& ctx,
                                                         const std::string& currency_code) const {
  ASSIGN_OR_RETURN(std::optional<PurchaseModel> m, projection_.GetModel(ctx.tenant, currency_code));
  if (!m) {
    return absl::NotFoundError(
        absl::StrCat("currency_code: no purchase model for ", currency_code,
                     " yet; it is fitted once 10 customers have bought in it (or call FitModel)"));
  }
  return *std::move(m);
}

void AnalyticsService::FitModel(const CallContext& ctx, const std::string& currency_code,
                                int64_t as_of_nanos, const std::string& request_id,
                                Done<PurchaseModel> done) {
  projection::CommandWriter::Command cmd =
      projection::CommandFor(ctx, "FitModel", kModelAggregateType, request_id);
  writer_.Run<PurchaseModel>(
      std::move(cmd),
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<PurchaseModel> current,
                         projection_.GetModel(ctx.tenant, currency_code));
        ASSIGN_OR_RETURN(Population pop, PopulationOf(ctx.tenant, currency_code, as_of_nanos));
        absl::StatusOr<BgNbdFit> bg = FitBgNbd(pop.histories);
        if (!bg.ok()) {
          return absl::FailedPreconditionError(
              absl::StrCat("currency_code: ", pop.contact_ids.size(), " customers bought in ",
                           currency_code, " by as_of; ", bg.status().message()));
        }
        av1::ModelFitted event;
        PurchaseModel& m = *event.mutable_model();
        m.set_currency_code(currency_code);
        m.mutable_fit_as_of()->set_seconds(as_of_nanos / 1000000000);
        m.mutable_fit_as_of()->set_nanos(static_cast<int32_t>(as_of_nanos % 1000000000));
        m.set_customers(static_cast<int32_t>(pop.contact_ids.size()));
        m.set_purchase_days(pop.purchase_days);
        m.set_bgnbd_r(bg->params.r);
        m.set_bgnbd_alpha(bg->params.alpha);
        m.set_bgnbd_a(bg->params.a);
        m.set_bgnbd_b(bg->params.b);
        m.set_bgnbd_log_likelihood(bg->log_likelihood);
        if (absl::StatusOr<GammaGammaFit> gg = FitGammaGamma(pop.histories); gg.ok()) {
          m.set_gamma_gamma_p(gg->params.p);
          m.set_gamma_gamma_q(gg->params.q);
          m.set_gamma_gamma_gamma(gg->params.gamma);
          m.set_gamma_gamma_log_likelihood(gg->log_likelihood);
        }
        return projection::Take(absl::StatusOr<av1::ModelFitted>(std::move(event)), payload,
                                currency_code, current ? current->version() : 0);
      },
      [this, ctx](const std::string& currency, int64_t) { return GetModel(ctx, currency); },
      std::move(done));
}

}  // namespace crm::analytics
