#include "services/analytics/webhooks/dispatcher.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/projection/aggregate.h"
#include "crm/analytics/v1/events.pb.h"
#include "spdlog/spdlog.h"

namespace crm::analytics::webhooks {

namespace av1 = crm::analytics::v1;
using crm::common::v1::EventEnvelope;

namespace {

constexpr size_t kReplaysPerStep = 8;
constexpr size_t kRecordsPerRead = 32;
constexpr absl::Duration kRecordWait = absl::Seconds(30);

// The webhook's event types of `topic`.
std::vector<std::string> TypesOf(const av1::Webhook& webhook, const std::string& topic) {
  std::vector<std::string> types;
  for (const std::string& type : webhook.event_types()) {
    if (absl::StartsWith(type, topic + ".")) types.push_back(type);
  }
  return types;
}

}  // namespace

Dispatcher::Dispatcher(const WebhookProjection* projection, eventlog::EventLog* log,
                       projection::Projector* projector, projection::CommandWriter* writer,
                       std::unique_ptr<WebhookSender> sender, DispatchOptions options)
    : projection_(projection),
      log_(log),
      projector_(projector),
      writer_(writer),
      sender_(std::move(sender)),
      options_(options),
      random_(std::random_device{}()) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  worker_.Start("webhooks", projector_, options_.idle_poll, [this] { return Pass(); });
}

void Dispatcher::Stop() { worker_.Stop(); }

bool Dispatcher::Stopping() { return worker_.Stopping(); }

bool Dispatcher::Pass() {
  bool busy = false;
  absl::StatusOr<std::vector<std::pair<std::string, av1::WebhookRecord>>> webhooks =
      projection_->AllWebhooks();
  if (webhooks.ok()) {
    std::set<std::string> live;
    for (const auto& [tenant, record] : *webhooks) live.insert(record.webhook().id());
    for (auto it = readers_.begin(); it != readers_.end();) {
      it = live.contains(it->first.first) ? std::next(it) : readers_.erase(it);
    }
    for (const auto& [tenant, record] : *webhooks) {
      if (Stopping()) break;
      busy |= Step(tenant, record);
    }
  } else if (!absl::IsUnavailable(webhooks.status())) {
    // UNAVAILABLE while the projection is rebuilt; anything else is worth a line.
    spdlog::warn("webhooks: {}", webhooks.status().ToString());
  }
  return busy;
}

bool Dispatcher::Step(const std::string& tenant, const av1::WebhookRecord& webhook) {
  const std::string& id = webhook.webhook().id();

  absl::StatusOr<std::vector<av1::WebhookDeliveryRecord>> replays =
      projection_->Replays(tenant, id, kReplaysPerStep);
  if (replays.ok() && !replays->empty()) {
    for (const av1::WebhookDeliveryRecord& replay : *replays) {
      EventEnvelope event;
      absl::StatusOr<std::optional<av1::WebhookRecord>> current =
          projection_->GetWebhook(tenant, id);
      if (!event.ParseFromString(replay.event()) || !current.ok() || !*current) return true;
      (void)Deliver(tenant, **current, "", event, "", /*replay=*/true);
      if (Stopping()) break;
    }
    return true;
  }

  if (webhook.webhook().has_next_attempt_time() &&
      projection::TimeOf(webhook.webhook().next_attempt_time()) > absl::Now()) {
    return false;  // waiting out a retry
  }
  bool did = false;
  for (const auto& [topic, cursor] : webhook.cursors()) {
    Reader& reader = readers_[{id, topic}];
    if (!reader.feed || reader.recorded != cursor) {
      feed::FeedQuery query;
      query.tenant = tenant;
      query.topic = topic;
      query.event_types = TypesOf(webhook.webhook(), topic);
      query.cursor = cursor;
      absl::StatusOr<std::unique_ptr<feed::ChangeFeed>> opened =
          feed::ChangeFeed::Open(log_, std::move(query));
      if (!opened.ok()) {
        spdlog::warn("webhook {}: cannot read {}: {}", id, topic, opened.status().ToString());
        continue;
      }
      reader.feed = *std::move(opened);
      reader.recorded = cursor;
      reader.read_to = cursor;
      reader.recorded_at = absl::Now();
    }
    absl::StatusOr<std::vector<feed::FeedItem>> items =
        reader.feed->Next(kRecordsPerRead, absl::ZeroDuration());
    if (!items.ok()) {
      reader.feed.reset();
      continue;
    }
    for (const feed::FeedItem& item : *items) {
      if (!item.event) {
        reader.read_to = item.cursor;
        continue;
      }
      // The webhook as it stands now: every record moves its version on.
      absl::StatusOr<std::optional<av1::WebhookRecord>> current =
          projection_->GetWebhook(tenant, id);
      if (!current.ok() || !*current) {
        reader.feed.reset();
        return true;
      }
      absl::StatusOr<av1::WebhookDeliveryState> state =
          Deliver(tenant, **current, topic, *item.event, item.cursor, /*replay=*/false);
      did = true;
      if (!state.ok() || *state == av1::WEBHOOK_DELIVERY_STATE_RETRYING) {
        // Start again from the recorded cursor: the same event, once the retry is due.
        reader.feed.reset();
        return true;
      }
      reader.recorded = item.cursor;
      reader.read_to = item.cursor;
      reader.recorded_at = absl::Now();
      if (Stopping()) return true;
    }
    if (reader.read_to != reader.recorded &&
        absl::Now() - reader.recorded_at >= options_.cursor_record_interval) {
      absl::StatusOr<std::optional<av1::WebhookRecord>> current =
          projection_->GetWebhook(tenant, id);
      if (!current.ok() || !*current) return true;
      av1::WebhookCursorAdvanced advanced;
      advanced.set_topic(topic);
      advanced.set_cursor(reader.read_to);
      const absl::Status recorded = Record(
          tenant, id, (*current)->webhook().version(),
          absl::StrCat("webhook-cursor-", id, "-", (*current)->webhook().version()), advanced);
      if (recorded.ok()) {
        reader.recorded = reader.read_to;
        reader.recorded_at = absl::Now();
      } else {
        reader.feed.reset();
      }
      did = true;
    }
  }
  return did;
}

absl::StatusOr<av1::WebhookDeliveryState> Dispatcher::Deliver(
    const std::string& tenant, const av1::WebhookRecord& webhook, const std::string& topic,
    const EventEnvelope& event, const std::string& cursor_after, bool replay) {
  const std::string& id = webhook.webhook().id();
  absl::StatusOr<std::optional<av1::WebhookDeliveryRecord>> existing =
      projection_->GetDelivery(tenant, id, event.event_id());
  if (!existing.ok()) return existing.status();
  const int attempt = *existing ? (*existing)->delivery().attempts_size() + 1 : 1;

  const absl::Time now = absl::Now();
  SendResult result;
  bool sendable = true;
  absl::StatusOr<std::string> body = DeliveryBody(id, event);
  if (!body.ok()) {
    sendable = false;
    result.error = absl::StrCat("not sent: ", body.status().message());
  } else {
    const Headers headers =
        DeliveryHeaders(id, event.event_id(), attempt, webhook.secret(), *body, now);
    result = sender_->Post(webhook.webhook().url(), headers, *body, options_.timeout);
  }

  av1::WebhookDeliveryAttempted attempted;
  attempted.set_delivery_id(event.event_id());
  if (!*existing) attempted.set_event(event.SerializeAsString());
  av1::WebhookAttempt& a = *attempted.mutable_attempt();
  a.set_number(attempt);
  projection::SetTimestamp(now, a.mutable_time());
  a.set_http_status(result.http_status);
  a.set_error(result.error);
  a.set_duration_ms(absl::ToInt64Milliseconds(result.took));
  a.set_replay(replay);
  av1::WebhookDeliveryState state = av1::WEBHOOK_DELIVERY_STATE_SUCCEEDED;
  if (!result.ok()) {
    if (replay || !sendable || attempt >= options_.max_attempts) {
      state = av1::WEBHOOK_DELIVERY_STATE_DEAD_LETTERED;
    } else {
      state = av1::WEBHOOK_DELIVERY_STATE_RETRYING;
      const double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
      projection::SetTimestamp(
          absl::Now() + RetryDelay(attempt, options_.retry_base, options_.retry_cap, jitter),
          attempted.mutable_next_attempt_time());
    }
  }
  attempted.set_state(state);
  attempted.set_topic(topic);
  if (!replay && state != av1::WEBHOOK_DELIVERY_STATE_RETRYING) {
    attempted.set_cursor_after(cursor_after);
  }
  if (state == av1::WEBHOOK_DELIVERY_STATE_DEAD_LETTERED) {
    spdlog::warn("webhook {}: delivery {} dead-lettered after attempt {}: {}", id, event.event_id(),
                 attempt, result.error);
  }
  const absl::Status recorded =
      Record(tenant, id, webhook.webhook().version(),
             absl::StrCat("webhook-", id, "-", event.event_id(), "-", attempt), attempted);
  if (!recorded.ok()) {
    spdlog::warn("webhook {}: attempt {} of delivery {} not recorded: {}", id, attempt,
                 event.event_id(), recorded.ToString());
    return recorded;
  }
  return state;
}

absl::Status Dispatcher::Record(const std::string& tenant, const std::string& webhook_id,
                                int64_t version, const std::string& request_id,
                                const google::protobuf::Message& payload) {
  projection::CommandWriter::Command command;
  command.tenant = tenant;
  command.actor = "webhook-dispatcher";
  command.request_id = request_id;
  command.command = "RecordWebhookDelivery";
  command.aggregate_type = kWebhookAggregateType;
  command.aggregate_id = webhook_id;
  command.expected_version = version;
  command.now = absl::Now();
  command.deadline = command.now + kRecordWait;
  command.source = "integration";
  return writer_->WriteAndWait(command, payload);
}

}  // namespace crm::analytics::webhooks
