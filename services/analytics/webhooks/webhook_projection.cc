#include "services/analytics/webhooks/webhook_projection.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/projection/aggregate.h"
#include "common/projection/projector.h"
#include "common/status/status_macros.h"
#include "common/store/keys.h"
#include "common/store/record_scan.h"
#include "crm/analytics/v1/events.pb.h"

namespace crm::analytics::webhooks {

namespace av1 = crm::analytics::v1;
using crm::common::v1::EventEnvelope;
using store::Cf;

namespace {

constexpr char kWebhook = 'v';
constexpr char kDelivery = 'd';
constexpr char kReplay = 'y';

std::string DeliveryKey(char kind, std::string_view tenant, std::string_view webhook_id,
                        std::string_view delivery_id) {
  return store::KindPrefix(kind, tenant, webhook_id).append(delivery_id);
}

template <typename T>
absl::StatusOr<std::optional<T>> Parse(const std::optional<std::string>& raw) {
  if (!raw) return std::nullopt;
  T record;
  if (!record.ParseFromString(*raw)) {
    return absl::DataLossError("corrupt webhook record in the analytics projection");
  }
  return record;
}

absl::Status Put(store::ProjectionStore::Batch& batch, Cf cf, const std::string& key,
                 const google::protobuf::Message& value) {
  batch.Put(cf, key, projection::SerializeDeterministic(value));
  return absl::OkStatus();
}

// The delivery record an attempt starts from when none exists yet: what the event says.
absl::StatusOr<av1::WebhookDeliveryRecord> NewDelivery(const std::string& webhook_id,
                                                       const av1::WebhookDeliveryAttempted& a) {
  EventEnvelope delivered;
  if (!delivered.ParseFromString(a.event())) {
    return absl::InvalidArgumentError("event: not an EventEnvelope");
  }
  av1::WebhookDeliveryRecord record;
  av1::WebhookDelivery& d = *record.mutable_delivery();
  d.set_id(a.delivery_id());
  d.set_webhook_id(webhook_id);
  d.set_event_type(delivered.event_type());
  d.set_aggregate_type(delivered.aggregate_type());
  d.set_aggregate_id(delivered.aggregate_id());
  *d.mutable_event_time() = delivered.occurred_at();
  record.set_event(a.event());
  return record;
}

}  // namespace

bool IsWebhookEvent(std::string_view event_type) {
  return event_type.starts_with("crm.analytics.v1.Webhook");
}

absl::StatusOr<absl::Status> WebhookProjection::Apply(const EventEnvelope& event,
                                                      store::ProjectionStore::Batch& batch) {
  const std::string& tenant = event.tenant();
  const std::string& id = event.aggregate_id();
  const std::string key = store::KindKey(kWebhook, tenant, id);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<av1::WebhookRecord> current, Parse<av1::WebhookRecord>(raw));
  const int64_t at = current ? current->webhook().version() : 0;
  if (!projection::TakesEffect(event, at, current ? current->defined_version() : 0)) {
    if (!current && event.expected_version() != 0) {
      return absl::NotFoundError(absl::StrCat("webhook ", id, " does not exist"));
    }
    return absl::AbortedError(
        absl::StrCat("webhook ", id, " is at version ", at, ", not ", event.expected_version()));
  }
  const std::string& type = event.event_type();

  if (type == "crm.analytics.v1.WebhookCreated") {
    av1::WebhookCreated created;
    if (!event.payload().UnpackTo(&created)) return absl::InvalidArgumentError("bad payload");
    av1::WebhookRecord record;
    *record.mutable_webhook() = created.webhook();
    av1::Webhook& w = *record.mutable_webhook();
    w.set_id(id);
    w.clear_secret();
    w.set_version(at + 1);
    record.set_defined_version(at + 1);
    *w.mutable_create_time() = event.occurred_at();
    record.set_secret(created.secret());
    for (const auto& [topic, cursor] : created.start_cursors())
      (*record.mutable_cursors())[topic] = cursor;
    RETURN_IF_ERROR(Put(batch, Cf::kState, key, record));
    return absl::OkStatus();
  }

  if (!current) return absl::NotFoundError(absl::StrCat("webhook ", id, " does not exist"));
  av1::WebhookRecord next = *current;
  next.mutable_webhook()->set_version(at + 1);

  if (type == "crm.analytics.v1.WebhookDeleted") {
    batch.Delete(Cf::kState, key);
    // Its deliveries and replay marks go with it.
    for (auto [cf, kind] : {std::pair{Cf::kState, kDelivery}, std::pair{Cf::kIndex, kReplay}}) {
      std::vector<std::string> keys;
      RETURN_IF_ERROR(batch.Scan(cf, store::KindPrefix(kind, tenant, id),
                                 [&](std::string_view k, std::string_view) {
                                   keys.emplace_back(k);
                                   return true;
                                 }));
      for (const std::string& k : keys) batch.Delete(cf, k);
    }
    return absl::OkStatus();
  }

  if (type == "crm.analytics.v1.WebhookCursorAdvanced") {
    av1::WebhookCursorAdvanced advanced;
    if (!event.payload().UnpackTo(&advanced)) return absl::InvalidArgumentError("bad payload");
    (*next.mutable_cursors())[advanced.topic()] = advanced.cursor();
    RETURN_IF_ERROR(Put(batch, Cf::kState, key, next));
    return absl::OkStatus();
  }

  if (type == "crm.analytics.v1.WebhookDeliveryReplayRequested") {
    av1::WebhookDeliveryReplayRequested replay;
    if (!event.payload().UnpackTo(&replay)) return absl::InvalidArgumentError("bad payload");
    const std::string dkey = DeliveryKey(kDelivery, tenant, id, replay.delivery_id());
    ASSIGN_OR_RETURN(std::optional<std::string> draw, batch.Get(Cf::kState, dkey));
    ASSIGN_OR_RETURN(std::optional<av1::WebhookDeliveryRecord> delivery,
                     Parse<av1::WebhookDeliveryRecord>(draw));
    if (!delivery) {
      return absl::NotFoundError(
          absl::StrCat("delivery ", replay.delivery_id(), " of webhook ", id, " does not exist"));
    }
    av1::WebhookDelivery& d = *delivery->mutable_delivery();
    if (d.state() == av1::WEBHOOK_DELIVERY_STATE_DEAD_LETTERED) {
      next.mutable_webhook()->set_dead_letter_count(next.webhook().dead_letter_count() - 1);
    }
    d.set_state(av1::WEBHOOK_DELIVERY_STATE_REPLAY_REQUESTED);
    d.clear_next_attempt_time();
    RETURN_IF_ERROR(Put(batch, Cf::kState, dkey, *delivery));
    batch.Put(Cf::kIndex, DeliveryKey(kReplay, tenant, id, replay.delivery_id()), "");
    RETURN_IF_ERROR(Put(batch, Cf::kState, key, next));
    return absl::OkStatus();
  }

  if (type == "crm.analytics.v1.WebhookDeliveryAttempted") {
    av1::WebhookDeliveryAttempted attempted;
    if (!event.payload().UnpackTo(&attempted)) return absl::InvalidArgumentError("bad payload");
    const std::string dkey = DeliveryKey(kDelivery, tenant, id, attempted.delivery_id());
    ASSIGN_OR_RETURN(std::optional<std::string> draw, batch.Get(Cf::kState, dkey));
    ASSIGN_OR_RETURN(std::optional<av1::WebhookDeliveryRecord> delivery,
                     Parse<av1::WebhookDeliveryRecord>(draw));
    if (!delivery) {
      absl::StatusOr<av1::WebhookDeliveryRecord> fresh = NewDelivery(id, attempted);
      if (!fresh.ok()) return fresh.status();
      delivery = *std::move(fresh);
    }
    av1::WebhookDelivery& d = *delivery->mutable_delivery();
    av1::Webhook& w = *next.mutable_webhook();
    const av1::WebhookDeliveryState before = d.state();
    const av1::WebhookDeliveryState after = attempted.state();
    if (before == av1::WEBHOOK_DELIVERY_STATE_DEAD_LETTERED) {
      w.set_dead_letter_count(w.dead_letter_count() - 1);
    }
    if (after == av1::WEBHOOK_DELIVERY_STATE_DEAD_LETTERED) {
      w.set_dead_letter_count(w.dead_letter_count() + 1);
    }
    if (after == av1::WEBHOOK_DELIVERY_STATE_SUCCEEDED &&
        before != av1::WEBHOOK_DELIVERY_STATE_SUCCEEDED) {
      w.set_delivered_count(w.delivered_count() + 1);
    }
    d.set_state(after);
    *d.add_attempts() = attempted.attempt();
    if (after == av1::WEBHOOK_DELIVERY_STATE_RETRYING) {
      *d.mutable_next_attempt_time() = attempted.next_attempt_time();
    } else {
      d.clear_next_attempt_time();
    }
    if (attempted.attempt().replay()) {
      batch.Delete(Cf::kIndex, DeliveryKey(kReplay, tenant, id, attempted.delivery_id()));
    } else if (after == av1::WEBHOOK_DELIVERY_STATE_RETRYING) {
      *w.mutable_next_attempt_time() = attempted.next_attempt_time();
    } else {
      w.clear_next_attempt_time();
    }
    if (!attempted.cursor_after().empty()) {
      (*next.mutable_cursors())[attempted.topic()] = attempted.cursor_after();
    }
    RETURN_IF_ERROR(Put(batch, Cf::kState, dkey, *delivery));
    RETURN_IF_ERROR(Put(batch, Cf::kState, key, next));
    return absl::OkStatus();
  }
  return absl::OkStatus();  // a webhook event of a later version: nothing known to do
}

absl::StatusOr<std::optional<av1::WebhookRecord>> WebhookProjection::GetWebhook(
    std::string_view tenant, std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, store::KindKey(kWebhook, tenant, id)));
  return Parse<av1::WebhookRecord>(raw);
}

absl::StatusOr<std::vector<av1::WebhookRecord>> WebhookProjection::ListWebhooks(
    std::string_view tenant, std::string_view after, size_t limit) const {
  return store::ScanRecords<av1::WebhookRecord>(store_->Latest(), kWebhook, tenant, after, limit);
}

absl::StatusOr<std::vector<std::pair<std::string, av1::WebhookRecord>>>
WebhookProjection::AllWebhooks() const {
  return store::ScanAllTenants<av1::WebhookRecord>(store_->Latest(), kWebhook);
}

absl::StatusOr<std::optional<av1::WebhookDeliveryRecord>> WebhookProjection::GetDelivery(
    std::string_view tenant, std::string_view webhook_id, std::string_view delivery_id) const {
  ASSIGN_OR_RETURN(
      std::optional<std::string> raw,
      store_->Get(Cf::kState, DeliveryKey(kDelivery, tenant, webhook_id, delivery_id)));
  return Parse<av1::WebhookDeliveryRecord>(raw);
}

absl::StatusOr<WebhookProjection::DeliveryPage> WebhookProjection::ListDeliveries(
    std::string_view tenant, std::string_view webhook_id, av1::WebhookDeliveryState state,
    std::string_view after, size_t limit, size_t max_scanned) const {
  ASSIGN_OR_RETURN(store::FilteredPage<av1::WebhookDeliveryRecord> found,
                   store::ScanFiltered<av1::WebhookDeliveryRecord>(
                       store_->Latest(), store::KindPrefix(kDelivery, tenant, webhook_id), after,
                       limit, max_scanned, [state](const av1::WebhookDeliveryRecord& r) {
                         return state == av1::WEBHOOK_DELIVERY_STATE_UNSPECIFIED ||
                                r.delivery().state() == state;
                       }));
  DeliveryPage page;
  for (av1::WebhookDeliveryRecord& r : found.records) {
    page.deliveries.push_back(std::move(*r.mutable_delivery()));
  }
  page.scanned_to = std::move(found.scanned_to);
  page.at_end = found.at_end;
  return page;
}

absl::StatusOr<std::vector<av1::WebhookDeliveryRecord>> WebhookProjection::Replays(
    std::string_view tenant, std::string_view webhook_id, size_t limit) const {
  const std::string prefix = store::KindPrefix(kReplay, tenant, webhook_id);
  std::vector<std::string> ids;
  RETURN_IF_ERROR(store_->Scan(Cf::kIndex, prefix, "", [&](std::string_view key, std::string_view) {
    if (ids.size() >= limit) return false;
    ids.emplace_back(key.substr(prefix.size()));
    return true;
  }));
  std::vector<av1::WebhookDeliveryRecord> out;
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(std::optional<av1::WebhookDeliveryRecord> record,
                     GetDelivery(tenant, webhook_id, id));
    if (record) out.push_back(*std::move(record));
  }
  return out;
}

}  // namespace crm::analytics::webhooks
