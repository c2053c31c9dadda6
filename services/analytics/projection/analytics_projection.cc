#include "services/analytics/projection/analytics_projection.h"

#include <algorithm>
#include <set>

#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"
#include "common/store/big_endian.h"
#include "common/store/keys.h"
#include "crm/analytics/v1/events.pb.h"
#include "services/contact/domain/apply.h"
#include "services/contact/projection/contact_fold.h"
#include "services/interaction/domain/apply.h"
#include "services/interaction/domain/case.h"
#include "services/interaction/domain/erasure.h"
#include "services/interaction/domain/interaction.h"
#include "services/interaction/domain/task.h"
#include "services/sales/domain/deal.h"
#include "services/sales/domain/order.h"
#include "services/sales/domain/product.h"

namespace crm::analytics {

namespace av1 = crm::analytics::v1;
namespace cv1 = crm::contact::v1;
namespace iv1 = crm::interaction::v1;
namespace sv1 = crm::sales::v1;
using crm::common::v1::EventEnvelope;
using projection::TimestampNanos;
using store::Cf;

namespace {

std::string Key(char kind, std::string_view tenant, std::string_view id) {
  return store::KindKey(kind, tenant, id);
}

std::string Prefix(char kind, std::string_view tenant, std::string_view id) {
  return store::KindPrefix(kind, tenant, id);
}

// Newest first: the inverted time, then the id.
std::string NewestFirst(int64_t nanos, std::string_view id) {
  std::string k;
  store::PutBigEndian(k, UINT64_MAX - static_cast<uint64_t>(nanos));
  k.append(id);
  return k;
}

// The time NewestFirst put before the id in `position`.
absl::StatusOr<int64_t> NanosOfNewestFirst(std::string_view position) {
  if (position.size() < 8) {
    return absl::DataLossError("corrupt index entry: its position holds no time");
  }
  return static_cast<int64_t>(UINT64_MAX - store::GetBigEndian(position.substr(0, 8)));
}

template <typename T>
absl::StatusOr<std::optional<T>> Parse(const std::optional<std::string>& raw) {
  if (!raw) return std::nullopt;
  T record;
  if (!record.ParseFromString(*raw)) {
    return absl::DataLossError("corrupt record in the analytics projection");
  }
  return record;
}

template <typename T>
absl::StatusOr<std::optional<T>> ReadIn(store::ProjectionStore::Batch& batch,
                                        const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  return Parse<T>(raw);
}

template <typename T>
absl::StatusOr<std::optional<T>> ReadFrom(const store::ProjectionStore& store,
                                          const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, store.Get(Cf::kState, key));
  return Parse<T>(raw);
}

// A record's entries in a per-contact index: (contact id, key suffix after the contact).
using IndexEntries = std::vector<std::pair<std::string, std::string>>;

// Moves a record's entries under the index `kind` from `old_entries` to `new_entries`, each
// holding the record itself (`record`, serialized): a covering index, so reading a customer's
// latest records is one scan with no lookup per record.
void IndexRecord(store::ProjectionStore::Batch& batch, char kind, std::string_view tenant,
                 const IndexEntries& old_entries, const IndexEntries& new_entries,
                 std::string_view record) {
  for (const auto& e : old_entries) {
    if (std::find(new_entries.begin(), new_entries.end(), e) == new_entries.end()) {
      batch.Delete(Cf::kIndex, Prefix(kind, tenant, e.first) + e.second);
    }
  }
  for (const auto& e : new_entries) {
    batch.Put(Cf::kIndex, Prefix(kind, tenant, e.first) + e.second, record);
  }
}

// The entry of a deal, case or task under its contact (none without one).
template <typename T>
IndexEntries ByContact(const T& r) {
  if (r.contact_id().empty()) return {};
  return {{r.contact_id(), r.id()}};
}
template <typename T>
IndexEntries ByContact(const std::optional<T>& r) {
  return r ? ByContact(*r) : IndexEntries{};
}

bool IsInteractionEvent(std::string_view t) {
  return t == interaction::kInteractionLoggedType || t == interaction::kInteractionUpdatedType ||
         t == interaction::kInteractionDeletedType;
}

bool IsContactRecordEvent(std::string_view t) {
  return t == contact::kContactCreatedType || t == contact::kContactUpdatedType ||
         t == contact::kContactArchivedType || t == contact::kContactMergedIntoType ||
         t == contact::kContactsMergedType || t == contact::kContactsUnmergedType ||
         t == contact::kContactUnmergedType || t == contact::kContactErasedType;
}

// The record an event of another service reads and writes here, its aggregate's ("" for none).
std::string RecordKey(const EventEnvelope& event) {
  const std::string& t = event.event_type();
  char kind = 0;
  if (contact::IsCompanyEvent(t)) {
    kind = 'm';
  } else if (IsContactRecordEvent(t)) {
    kind = 'c';
  } else if (sales::IsOrderEvent(t)) {
    kind = 'r';
  } else if (sales::IsDealEvent(t)) {
    kind = 'l';
  } else if (IsInteractionEvent(t)) {
    kind = 'n';
  } else if (interaction::IsCaseEvent(t)) {
    kind = 's';
  } else if (interaction::IsTaskEvent(t)) {
    kind = 't';
  } else if (sales::IsProductEvent(t)) {
    kind = 'p';
  } else {
    return "";
  }
  return Key(kind, event.tenant(), event.aggregate_id());
}

// Where each kind of interaction record lives: state kind, index kind (by contact), entries.
IndexEntries EntriesOf(const iv1::Interaction& i) {
  IndexEntries out;
  if (!i.deleted()) {
    for (const std::string& c : i.contact_ids()) {
      out.emplace_back(c, NewestFirst(TimestampNanos(i.occurred_at()), i.id()));
    }
  }
  return out;
}
IndexEntries EntriesOf(const iv1::Case& c) { return ByContact(c); }
IndexEntries EntriesOf(const iv1::Task& t) { return ByContact(t); }
constexpr std::pair<char, char> KindsOf(const iv1::Interaction&) { return {'n', 'i'}; }
constexpr std::pair<char, char> KindsOf(const iv1::Case&) { return {'s', 'a'}; }
constexpr std::pair<char, char> KindsOf(const iv1::Task&) { return {'t', 'b'}; }

template <typename T>
void StoreRecord(store::ProjectionStore::Batch& batch, std::string_view tenant,
                 const std::optional<T>& current, const T& next) {
  const auto [state, index] = KindsOf(next);
  const std::string value = projection::SerializeDeterministic(next);
  IndexRecord(batch, index, tenant, current ? EntriesOf(*current) : IndexEntries{}, EntriesOf(next),
              value);
  batch.Put(Cf::kState, Key(state, tenant, next.id()), value);
}

// Erasure: the records of `contact_id` of type T lose their free text.
template <typename T>
absl::Status EraseFreeTextOf(store::ProjectionStore::Batch& batch, std::string_view tenant,
                             std::string_view contact_id) {
  const auto [state, index] = KindsOf(T());
  std::vector<std::string> ids;
  RETURN_IF_ERROR(batch.Scan(
      Cf::kIndex, Prefix(index, tenant, contact_id), [&](std::string_view, std::string_view value) {
        T record;
        if (record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          ids.push_back(record.id());
        }
        return true;
      }));
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(std::optional<T> current, ReadIn<T>(batch, Key(state, tenant, id)));
    if (!current) continue;
    T next = *current;
    interaction::EraseFreeText(next);
    StoreRecord(batch, tenant, current, next);
  }
  return absl::OkStatus();
}

}  // namespace

bool AnalyticsProjection::Handles(std::string_view t) const {
  // Every event of the services it follows: what it does not need it passes over.
  return t.starts_with("crm.contact.v1.") || t.starts_with("crm.interaction.v1.") ||
         t.starts_with("crm.sales.v1.") || t.starts_with("crm.analytics.v1.");
}

void AnalyticsProjection::WillRead(const EventEnvelope& event,
                                   std::vector<std::string>& state_keys) const {
  directory_.WillRead(event, state_keys);
  if (std::string key = RecordKey(event); !key.empty()) state_keys.push_back(std::move(key));
}

absl::StatusOr<absl::Status> AnalyticsProjection::Apply(const EventEnvelope& event,
                                                        store::ProjectionStore::Batch& batch) {
  const std::string& t = event.event_type();
  if (directory::IsContactEvent(t) || sales::IsOrderEvent(t)) purchases_changed_ = true;
  if (directory::IsContactEvent(t)) return ApplyContactEvent(event, batch);
  if (sales::IsOrderEvent(t)) return ApplyOrderEvent(event, batch);
  if (sales::IsDealEvent(t)) return ApplyDealEvent(event, batch);
  if (IsInteractionEvent(t)) return ApplyInteractionEvent(event, batch);
  if (interaction::IsCaseEvent(t)) return ApplyCaseEvent(event, batch);
  if (interaction::IsTaskEvent(t)) return ApplyTaskEvent(event, batch);
  if (sales::IsProductEvent(t)) return ApplyProductEvent(event, batch);
  if (t == "crm.analytics.v1.ModelFitted") return ApplyModelEvent(event, batch);
  if (webhooks::IsWebhookEvent(t)) return webhooks_.Apply(event, batch);
  if (automation::IsRuleEvent(t)) return rules_.Apply(event, batch);
  if (automation::IsMessageEvent(t)) return messages_.Apply(event, batch);
  if (automation::IsCampaignEvent(t)) return campaigns_.Apply(event, batch);
  if (t == "crm.analytics.v1.SegmentCreated" || t == "crm.analytics.v1.SegmentDeleted") {
    return ApplySegmentEvent(event, batch);
  }
  return absl::OkStatus();  // pipelines: not needed here
}

absl::Status AnalyticsProjection::Finish(store::ProjectionStore::Batch& batch) {
  for (const auto& [key, delta] : counts_) {
    if (delta == 0) continue;
    ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
    const int64_t n = (raw ? store::DecodeInt64(*raw) : 0) + delta;
    if (n == 0) {
      batch.Delete(Cf::kState, key);  // removed at zero, so a rebuild writes the same keys
    } else {
      batch.Put(Cf::kState, key, store::EncodeInt64(n));
    }
  }
  counts_.clear();
  return absl::OkStatus();
}

void AnalyticsProjection::Built() {
  directory_.Built();
  purchases_built_ = purchases_built_ || purchases_changed_;
  purchases_changed_ = false;
  segments_built_ = segments_built_ || segments_changed_;
  segments_changed_ = false;
}

void AnalyticsProjection::Committed() {
  directory_.Committed();
  const uint64_t emptied = store_->emptied();
  const bool was_emptied = emptied != emptied_;
  emptied_ = emptied;
  if (purchases_built_ || was_emptied) {
    purchases_built_ = false;
    generation_.fetch_add(1, std::memory_order_release);
  }
  if (segments_built_ || was_emptied) {
    segments_built_ = false;
    segments_generation_.fetch_add(1, std::memory_order_release);
  }
}

absl::StatusOr<absl::Status> AnalyticsProjection::ApplyContactEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  RETURN_IF_ERROR(directory_.Apply(event, batch));
  const std::string& t = event.event_type();
  if (t == contact::kContactErasedType) {
    ASSIGN_OR_RETURN(bool erased, directory_.Erased(batch, event.tenant(), event.aggregate_id()));
    if (erased) {
      RETURN_IF_ERROR(
          EraseFreeTextOf<iv1::Interaction>(batch, event.tenant(), event.aggregate_id()));
      RETURN_IF_ERROR(EraseFreeTextOf<iv1::Case>(batch, event.tenant(), event.aggregate_id()));
      RETURN_IF_ERROR(EraseFreeTextOf<iv1::Task>(batch, event.tenant(), event.aggregate_id()));
    }
  }
  if (contact::IsCompanyEvent(t)) {
    const std::string key = RecordKey(event);
    ASSIGN_OR_RETURN(std::optional<cv1::Company> current, ReadIn<cv1::Company>(batch, key));
    absl::StatusOr<cv1::Company> next = contact::ApplyCompany(current, event);
    if (!next.ok()) return next.status();
    batch.Put(Cf::kState, key, projection::SerializeDeterministic(*next));
    return absl::OkStatus();
  }
  if (!IsContactRecordEvent(t)) return absl::OkStatus();
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<cv1::Contact> current, ReadIn<cv1::Contact>(batch, key));
  // Erasure: only the contact's id and times stay; purchase aggregates keep no personal data.
  ASSIGN_OR_RETURN(absl::StatusOr<cv1::Contact> next,
                   t == contact::kContactErasedType
                       ? contact::FoldErasure(current, event, batch, 'g')
                       : contact::FoldContactEvent(current, event, batch, 'g'));
  if (!next.ok()) return next.status();
  if (t == contact::kContactErasedType) {
    RETURN_IF_ERROR(messages_.Erase(event.tenant(), event.aggregate_id(), batch));
  }
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(*next));
  return absl::OkStatus();
}

absl::StatusOr<absl::Status> AnalyticsProjection::ApplyOrderEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<sv1::Order> current, ReadIn<sv1::Order>(batch, key));
  absl::StatusOr<sv1::Order> next = sales::ApplyOrder(current, event);
  if (!next.ok()) return next.status();
  // Co-purchase counts change when the order starts or stops counting as a purchase.
  const bool counted = current && sales::IsPurchase(*current);
  if (counted != sales::IsPurchase(*next)) {
    const int64_t delta = sales::IsPurchase(*next) ? 1 : -1;
    RETURN_IF_ERROR(
        campaigns_.CountPurchase(event.tenant(), *next, static_cast<int>(delta), batch));
    std::set<std::string> products;
    for (const sv1::LineItem& line : next->line_items()) products.insert(line.product_id());
    counts_[Key('x', event.tenant(), "")] += delta;
    for (const std::string& a : products) {
      counts_[Key('q', event.tenant(), a)] += delta;
      for (const std::string& b : products) {
        if (a != b) counts_[Prefix('w', event.tenant(), a) + b] += delta;
      }
    }
  }
  auto entries = [](const sv1::Order& o) -> IndexEntries {
    return {{o.contact_id(), NewestFirst(TimestampNanos(o.order_time()), o.id())}};
  };
  const std::string value = projection::SerializeDeterministic(*next);
  IndexRecord(batch, 'h', event.tenant(), current ? entries(*current) : IndexEntries{},
              entries(*next), value);
  batch.Put(Cf::kState, key, value);
  return absl::OkStatus();
}

absl::StatusOr<absl::Status> AnalyticsProjection::ApplyDealEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<sv1::Deal> current, ReadIn<sv1::Deal>(batch, key));
  absl::StatusOr<sv1::Deal> next = sales::ApplyDeal(current, event);
  if (!next.ok()) return next.status();
  const std::string value = projection::SerializeDeterministic(*next);
  IndexRecord(batch, 'e', event.tenant(), ByContact(current), ByContact(*next), value);
  batch.Put(Cf::kState, key, value);
  return absl::OkStatus();
}

absl::StatusOr<absl::Status> AnalyticsProjection::ApplyInteractionEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<iv1::Interaction> current, ReadIn<iv1::Interaction>(batch, key));
  absl::StatusOr<iv1::Interaction> next = interaction::Apply(current, event);
  if (!next.ok()) return next.status();
  for (const std::string& contact : next->contact_ids()) {
    ASSIGN_OR_RETURN(bool erased, directory_.Erased(batch, event.tenant(), contact));
    if (erased) {
      interaction::EraseFreeText(*next);
      break;
    }
  }
  StoreRecord(batch, event.tenant(), current, *next);
  return absl::OkStatus();
}

absl::StatusOr<absl::Status> AnalyticsProjection::ApplyCaseEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<iv1::Case> current, ReadIn<iv1::Case>(batch, key));
  absl::StatusOr<iv1::Case> next = interaction::ApplyCase(current, event);
  if (!next.ok()) return next.status();
  ASSIGN_OR_RETURN(bool erased, directory_.Erased(batch, event.tenant(), next->contact_id()));
  if (erased) interaction::EraseFreeText(*next);
  StoreRecord(batch, event.tenant(), current, *next);
  return absl::OkStatus();
}

absl::StatusOr<absl::Status> AnalyticsProjection::ApplyTaskEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<iv1::Task> current, ReadIn<iv1::Task>(batch, key));
  absl::StatusOr<iv1::Task> next = interaction::ApplyTask(current, event);
  if (!next.ok()) return next.status();
  ASSIGN_OR_RETURN(bool erased, directory_.Erased(batch, event.tenant(), next->contact_id()));
  if (erased) interaction::EraseFreeText(*next);
  StoreRecord(batch, event.tenant(), current, *next);
  return absl::OkStatus();
}

absl::StatusOr<absl::Status> AnalyticsProjection::ApplyProductEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<sv1::Product> current, ReadIn<sv1::Product>(batch, key));
  absl::StatusOr<sv1::Product> next = sales::ApplyProduct(current, event);
  if (!next.ok()) return next.status();
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(*next));
  return absl::OkStatus();
}

absl::StatusOr<absl::Status> AnalyticsProjection::ApplySegmentEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string key = Key('j', event.tenant(), event.aggregate_id());
  segments_changed_ = true;
  ASSIGN_OR_RETURN(std::optional<av1::Segment> current, ReadIn<av1::Segment>(batch, key));
  if (absl::Status s = projection::CheckEventVersion(current, event, "segment"); !s.ok()) return s;
  if (event.event_type() == "crm.analytics.v1.SegmentDeleted") {
    batch.Delete(Cf::kState, key);
    return absl::OkStatus();
  }
  av1::SegmentCreated created;
  if (!event.payload().UnpackTo(&created)) return absl::InvalidArgumentError("bad payload");
  av1::Segment next = created.segment();
  next.set_id(event.aggregate_id());
  next.set_version(event.aggregate_version());
  *next.mutable_create_time() = event.occurred_at();
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(next));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<av1::Segment>> AnalyticsProjection::GetSegment(
    std::string_view tenant, std::string_view id) const {
  return ReadFrom<av1::Segment>(*store_, Key('j', tenant, id));
}

absl::StatusOr<absl::Status> AnalyticsProjection::ApplyModelEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string key = Key('f', event.tenant(), event.aggregate_id());
  ASSIGN_OR_RETURN(std::optional<av1::PurchaseModel> current,
                   ReadIn<av1::PurchaseModel>(batch, key));
  if (absl::Status s = projection::CheckEventVersion(current, event, "model"); !s.ok()) return s;
  av1::ModelFitted fitted;
  if (!event.payload().UnpackTo(&fitted)) return absl::InvalidArgumentError("bad payload");
  av1::PurchaseModel next = fitted.model();
  next.set_currency_code(event.aggregate_id());
  next.set_version(event.aggregate_version());
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(next));
  return absl::OkStatus();
}

// --- Reads ------------------------------------------------------------------------------------

absl::StatusOr<std::optional<cv1::Contact>> AnalyticsProjection::GetContact(
    std::string_view tenant, std::string_view id) const {
  return ReadFrom<cv1::Contact>(*store_, Key('c', tenant, id));
}

absl::StatusOr<std::optional<cv1::Company>> AnalyticsProjection::GetCompany(
    std::string_view tenant, std::string_view id) const {
  return ReadFrom<cv1::Company>(*store_, Key('m', tenant, id));
}

absl::StatusOr<std::optional<av1::PurchaseModel>> AnalyticsProjection::GetModel(
    std::string_view tenant, std::string_view currency) const {
  return ReadFrom<av1::PurchaseModel>(*store_, Key('f', tenant, currency));
}

absl::StatusOr<std::optional<sv1::Deal>> AnalyticsProjection::GetDeal(std::string_view tenant,
                                                                      std::string_view id) const {
  return ReadFrom<sv1::Deal>(*store_, Key('l', tenant, id));
}

absl::StatusOr<std::optional<sv1::Product>> AnalyticsProjection::GetProduct(
    std::string_view tenant, std::string_view id) const {
  return ReadFrom<sv1::Product>(*store_, Key('p', tenant, id));
}

absl::StatusOr<int64_t> AnalyticsProjection::PurchaseCount(std::string_view tenant) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(Cf::kState, Key('x', tenant, "")));
  return raw ? store::DecodeInt64(*raw) : 0;
}

absl::StatusOr<std::map<std::string, int64_t>> AnalyticsProjection::ProductCounts(
    std::string_view tenant) const {
  std::map<std::string, int64_t> out;
  const std::string prefix = Key('q', tenant, "");
  RETURN_IF_ERROR(
      store_->Scan(Cf::kState, prefix, "", [&](std::string_view key, std::string_view value) {
        out.emplace(key.substr(prefix.size()), store::DecodeInt64(value));
        return true;
      }));
  return out;
}

absl::StatusOr<std::vector<AnalyticsProjection::PairCount>> AnalyticsProjection::PairCounts(
    std::string_view tenant, std::string_view a, size_t max) const {
  std::vector<PairCount> out;
  const std::string prefix = a.empty() ? Key('w', tenant, "") : Prefix('w', tenant, a);
  RETURN_IF_ERROR(
      store_->Scan(Cf::kState, prefix, "", [&](std::string_view key, std::string_view value) {
        const std::string_view rest = key.substr(Key('w', tenant, "").size());
        const size_t nul = rest.find('\0');
        out.push_back({std::string(rest.substr(0, nul)), std::string(rest.substr(nul + 1)),
                       store::DecodeInt64(value)});
        return out.size() < max;
      }));
  return out;
}

namespace {

// A purchase as the analytics reads it, from its order (which must count: sales::IsPurchase).
absl::StatusOr<av1::LedgerPurchase> PurchaseOf(const sv1::Order& order) {
  av1::LedgerPurchase p;
  p.set_order_id(order.id());
  *p.mutable_order_time() = order.order_time();
  *p.mutable_net() = order.net();
  for (const sv1::LineItem& line : order.line_items()) {
    av1::LedgerLine* l = p.add_lines();
    l->set_product_id(line.product_id());
    l->set_quantity(line.quantity());
    ASSIGN_OR_RETURN(*l->mutable_amount(), sales::LineAmount(line));
  }
  return p;
}

// An order as the index "h/" holds it.
absl::StatusOr<sv1::Order> ParseOrder(std::string_view value) {
  sv1::Order order;
  if (!order.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError("corrupt order in the analytics projection's order index");
  }
  return order;
}

// Adds the order to `ledger` if it counts as a purchase.
absl::Status AddPurchase(const sv1::Order& order, av1::PurchaseLedger& ledger) {
  if (!sales::IsPurchase(order)) return absl::OkStatus();
  ASSIGN_OR_RETURN(*ledger.add_purchases(), PurchaseOf(order));
  return absl::OkStatus();
}

// A ledger's purchases in order id order, as PurchaseLedger promises (the index holds them
// newest first).
void SortById(av1::PurchaseLedger& ledger) {
  std::sort(ledger.mutable_purchases()->pointer_begin(), ledger.mutable_purchases()->pointer_end(),
            [](const av1::LedgerPurchase* a, const av1::LedgerPurchase* b) {
              return a->order_id() < b->order_id();
            });
}

}  // namespace

absl::StatusOr<std::vector<av1::LedgerPurchase>> AnalyticsProjection::Purchases(
    std::string_view tenant, const std::vector<std::string>& contacts,
    std::vector<sv1::Order>* latest, size_t limit) const {
  std::vector<av1::LedgerPurchase> out;
  std::vector<std::pair<std::string, sv1::Order>> newest;  // position in the index, order
  for (const std::string& c : contacts) {
    const std::string prefix = Prefix('h', tenant, c);
    av1::PurchaseLedger ledger;
    size_t taken = 0;
    absl::Status read;
    RETURN_IF_ERROR(
        store_->Scan(Cf::kIndex, prefix, "", [&](std::string_view key, std::string_view value) {
          absl::StatusOr<sv1::Order> order = ParseOrder(value);
          read = order.ok() ? AddPurchase(*order, ledger) : order.status();
          if (!read.ok()) return false;
          if (latest != nullptr && taken < limit) {
            ++taken;
            newest.emplace_back(key.substr(prefix.size()), *std::move(order));
          }
          return true;
        }));
    RETURN_IF_ERROR(read);
    SortById(ledger);
    for (av1::LedgerPurchase& p : *ledger.mutable_purchases()) out.push_back(std::move(p));
  }
  if (latest != nullptr) {
    // Each contact's are newest first already; several contacts' are merged by position.
    if (contacts.size() > 1) {
      std::sort(newest.begin(), newest.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    if (newest.size() > limit) newest.resize(limit);
    latest->clear();
    latest->reserve(newest.size());
    for (auto& [position, order] : newest) latest->push_back(std::move(order));
  }
  return out;
}

absl::StatusOr<std::set<std::string>> AnalyticsProjection::TenantsWithPurchases() const {
  // Order index keys are "h/<tenant>\0<contact>\0...": one seek past each tenant's keys finds
  // the next; its orders are read until one counts (nearly always the first).
  const std::string root = "h/";
  std::set<std::string> tenants;
  std::string start;
  for (;;) {
    std::optional<std::string> found;
    bool purchase = false;
    absl::Status added;
    RETURN_IF_ERROR(
        store_->Scan(Cf::kIndex, root, start, [&](std::string_view key, std::string_view value) {
          const std::string_view rest = key.substr(root.size());
          const std::string_view tenant = rest.substr(0, rest.find('\0'));
          if (found && *found != tenant) return false;
          found.emplace(tenant);
          absl::StatusOr<sv1::Order> order = ParseOrder(value);
          added = order.status();
          purchase = order.ok() && sales::IsPurchase(*order);
          return added.ok() && !purchase;
        }));
    RETURN_IF_ERROR(added);
    if (!found) return tenants;
    start = root + *found + '\x01';  // past "<tenant>\0..."
    if (purchase) tenants.insert(*std::move(found));
  }
}

absl::Status AnalyticsProjection::ForEachLedger(
    std::string_view tenant,
    const std::function<void(std::string_view, const av1::PurchaseLedger&)>& fn) const {
  // The index "h/" holds each contact's orders together ("h/<tenant>\0<contact>\0..."), contacts
  // in id order: a contact's ledger is complete when the scan reaches the next contact.
  const std::string prefix = Key('h', tenant, "");
  std::string contact;
  av1::PurchaseLedger ledger;
  auto done = [&] {
    if (ledger.purchases().empty()) return;
    SortById(ledger);
    fn(contact, ledger);
    ledger.Clear();
  };
  absl::Status added;
  RETURN_IF_ERROR(
      store_->Scan(Cf::kIndex, prefix, "", [&](std::string_view key, std::string_view value) {
        const std::string_view rest = key.substr(prefix.size());
        const std::string_view of = rest.substr(0, rest.find('\0'));
        if (of != contact) {
          done();
          contact.assign(of);
        }
        absl::StatusOr<sv1::Order> order = ParseOrder(value);
        added = order.ok() ? AddPurchase(*order, ledger) : order.status();
        return added.ok();
      }));
  RETURN_IF_ERROR(added);
  done();
  return absl::OkStatus();
}

namespace {

// The entries under the index `kind` of each contact: up to `limit` per contact, merged by
// position, at most `limit` in all, each given to `take(position, record)` in position order.
absl::Status IndexedEntries(
    const store::ProjectionStore& store, char kind, std::string_view tenant,
    const std::vector<std::string>& contacts, size_t limit,
    const std::function<absl::Status(std::string_view, std::string_view)>& take) {
  if (limit == 0) return absl::OkStatus();
  if (contacts.size() == 1) {
    // One index, already in position order: taken as it is scanned, nothing copied.
    const std::string prefix = Prefix(kind, tenant, contacts[0]);
    absl::Status taken;
    size_t count = 0;
    RETURN_IF_ERROR(
        store.Scan(Cf::kIndex, prefix, "", [&](std::string_view key, std::string_view value) {
          taken = take(key.substr(prefix.size()), value);
          return taken.ok() && ++count < limit;
        }));
    return taken;
  }
  std::vector<std::pair<std::string, std::string>> found;  // position, record
  for (const std::string& c : contacts) {
    const std::string prefix = Prefix(kind, tenant, c);
    size_t taken = 0;
    RETURN_IF_ERROR(
        store.Scan(Cf::kIndex, prefix, "", [&](std::string_view key, std::string_view value) {
          found.emplace_back(key.substr(prefix.size()), value);
          return ++taken < limit;
        }));
  }
  std::sort(found.begin(), found.end());
  if (found.size() > limit) found.resize(limit);
  for (const auto& [position, value] : found) RETURN_IF_ERROR(take(position, value));
  return absl::OkStatus();
}

// IndexedEntries' records, parsed.
template <typename T>
absl::StatusOr<std::vector<T>> IndexedRecords(const store::ProjectionStore& store, char kind,
                                              std::string_view tenant,
                                              const std::vector<std::string>& contacts,
                                              size_t limit) {
  std::vector<T> out;
  RETURN_IF_ERROR(IndexedEntries(
      store, kind, tenant, contacts, limit, [&](std::string_view, std::string_view value) {
        if (!out.emplace_back().ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return absl::DataLossError(
              absl::StrCat("corrupt index entry under ", std::string(1, kind)));
        }
        return absl::OkStatus();
      }));
  return out;
}

}  // namespace

absl::StatusOr<std::vector<iv1::Interaction>> AnalyticsProjection::LatestInteractions(
    std::string_view tenant, const std::vector<std::string>& contacts, size_t limit) const {
  return IndexedRecords<iv1::Interaction>(*store_, 'i', tenant, contacts, limit);
}

absl::StatusOr<std::vector<AnalyticsProjection::StoredInteraction>>
AnalyticsProjection::LatestStoredInteractions(std::string_view tenant,
                                              const std::vector<std::string>& contacts,
                                              size_t limit) const {
  std::vector<StoredInteraction> out;
  RETURN_IF_ERROR(
      IndexedEntries(*store_, 'i', tenant, contacts, limit,
                     [&](std::string_view position, std::string_view value) -> absl::Status {
                       ASSIGN_OR_RETURN(const int64_t nanos, NanosOfNewestFirst(position));
                       out.push_back({nanos, std::string(value)});
                       return absl::OkStatus();
                     }));
  return out;
}

absl::StatusOr<std::vector<sv1::Deal>> AnalyticsProjection::Deals(
    std::string_view tenant, const std::vector<std::string>& contacts, size_t limit) const {
  return IndexedRecords<sv1::Deal>(*store_, 'e', tenant, contacts, limit);
}

absl::StatusOr<std::vector<iv1::Case>> AnalyticsProjection::Cases(
    std::string_view tenant, const std::vector<std::string>& contacts, size_t limit) const {
  return IndexedRecords<iv1::Case>(*store_, 'a', tenant, contacts, limit);
}

absl::StatusOr<std::vector<iv1::Task>> AnalyticsProjection::Tasks(
    std::string_view tenant, const std::vector<std::string>& contacts, size_t limit) const {
  return IndexedRecords<iv1::Task>(*store_, 'b', tenant, contacts, limit);
}

}  // namespace crm::analytics
