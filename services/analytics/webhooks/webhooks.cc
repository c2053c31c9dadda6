#include "services/analytics/webhooks/webhooks.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/feed/change_feed.h"
#include "common/ids/ids.h"
#include "common/projection/aggregate.h"
#include "common/projection/paging.h"
#include "common/status/status_macros.h"
#include "crm/analytics/v1/events.pb.h"

namespace crm::analytics::webhooks {

namespace av1 = crm::analytics::v1;
using projection::CallContext;
using Decided = projection::CommandWriter::Decision;
using Payload = projection::CommandWriter::Payload;

namespace {

constexpr char kTopic[] = "crm.analytics.v1";
// Deliveries a listing reads past (in other states) before it answers with what it has.
constexpr size_t kMaxScanned = 10000;

// 32 random bytes, base64url: a secret nobody chose.
std::string NewSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();  // no randomness: nothing is safe
  return absl::WebSafeBase64Escape(
      std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

// NOT_FOUND naming the request field that holds the id.
absl::Status NoWebhook(const char* field, const std::string& id) {
  return absl::NotFoundError(absl::StrCat(field, ": webhook ", id, " does not exist"));
}

}  // namespace

const std::vector<std::string>& WebhookTopics() {
  static const auto* topics = new std::vector<std::string>{"crm.contact.v1", "crm.interaction.v1",
                                                           "crm.sales.v1", "crm.analytics.v1"};
  return *topics;
}

Webhooks::Webhooks(const WebhookProjection* projection, eventlog::EventLog* log,
                   projection::Projector* projector)
    : projection_(projection),
      log_(log),
      writer_(log, projector, kTopic, kWebhookAggregateType),
      projector_(projector) {}

Webhooks::~Webhooks() { Stop(); }

void Webhooks::StartDispatcher(DispatchOptions options, std::unique_ptr<WebhookSender> sender) {
  dispatcher_ = std::make_unique<Dispatcher>(projection_, log_, projector_, &writer_,
                                             std::move(sender), options);
  dispatcher_->Start();
}

void Webhooks::Stop() {
  if (dispatcher_) dispatcher_->Stop();
}

void Webhooks::Create(const CallContext& ctx, av1::Webhook webhook, const std::string& request_id,
                      projection::Done<av1::Webhook> done) {
  const std::string id = ids::NewId();
  std::string secret = webhook.secret().empty() ? NewSecret() : webhook.secret();
  webhook.clear_secret();
  writer_.Run<av1::Webhook>(
      projection::CommandFor(ctx, "CreateWebhook", kWebhookAggregateType, request_id),
      [&](absl::Time, Payload& payload) -> Decided {
        av1::WebhookCreated event;
        *event.mutable_webhook() = webhook;
        event.set_secret(secret);
        // Deliveries start at the end of each followed topic as it is now.
        for (const std::string& topic : WebhookTopics()) {
          const bool followed =
              std::any_of(webhook.event_types().begin(), webhook.event_types().end(),
                          [&](const std::string& t) { return absl::StartsWith(t, topic + "."); });
          if (!followed) continue;
          ASSIGN_OR_RETURN((*event.mutable_start_cursors())[topic], feed::EndCursor(log_, topic));
        }
        return projection::Take(absl::StatusOr<av1::WebhookCreated>(std::move(event)), payload, id,
                                0);
      },
      [this, ctx](const std::string& webhook_id, int64_t) -> absl::StatusOr<av1::Webhook> {
        ASSIGN_OR_RETURN(std::optional<av1::WebhookRecord> record,
                         projection_->GetWebhook(ctx.tenant, webhook_id));
        if (!record) return NoWebhook("id", webhook_id);
        av1::Webhook answer = record->webhook();
        answer.set_secret(record->secret());  // the creator's only sight of it
        return answer;
      },
      std::move(done));
}

void Webhooks::Delete(const CallContext& ctx, const std::string& id, int64_t expected_version,
                      const std::string& request_id,
                      projection::Done<google::protobuf::Empty> done) {
  writer_.Run<google::protobuf::Empty>(
      projection::Rebasable(
          projection::CommandFor(ctx, "DeleteWebhook", kWebhookAggregateType, request_id)),
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<av1::WebhookRecord> current,
                         projection_->GetWebhook(ctx.tenant, id));
        if (!current) return NoWebhook("id", id);
        const int64_t version = current->webhook().version();
        RETURN_IF_ERROR(projection::CheckDefinedVersion(version, current->defined_version(),
                                                        "expected_version", "webhook", id,
                                                        expected_version));
        return projection::Take(absl::StatusOr<av1::WebhookDeleted>(av1::WebhookDeleted()), payload,
                                id, version);
      },
      [](const std::string&, int64_t) -> absl::StatusOr<google::protobuf::Empty> {
        return google::protobuf::Empty();
      },
      std::move(done));
}

void Webhooks::Replay(const CallContext& ctx, const std::string& webhook_id,
                      const std::string& delivery_id, const std::string& request_id,
                      projection::Done<av1::WebhookDelivery> done) {
  writer_.Run<av1::WebhookDelivery>(
      projection::Rebasable(
          projection::CommandFor(ctx, "ReplayWebhookDelivery", kWebhookAggregateType, request_id)),
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<av1::WebhookRecord> current,
                         projection_->GetWebhook(ctx.tenant, webhook_id));
        if (!current) return NoWebhook("webhook_id", webhook_id);
        ASSIGN_OR_RETURN(std::optional<av1::WebhookDeliveryRecord> delivery,
                         projection_->GetDelivery(ctx.tenant, webhook_id, delivery_id));
        if (!delivery) {
          return absl::NotFoundError(
              absl::StrCat("delivery_id: webhook ", webhook_id, " has no delivery ", delivery_id));
        }
        av1::WebhookDeliveryReplayRequested event;
        event.set_delivery_id(delivery_id);
        return projection::Take(
            absl::StatusOr<av1::WebhookDeliveryReplayRequested>(std::move(event)), payload,
            webhook_id, current->webhook().version());
      },
      [this, ctx, delivery_id](const std::string& id,
                               int64_t) -> absl::StatusOr<av1::WebhookDelivery> {
        ASSIGN_OR_RETURN(std::optional<av1::WebhookDeliveryRecord> delivery,
                         projection_->GetDelivery(ctx.tenant, id, delivery_id));
        if (!delivery) {
          return absl::NotFoundError(
              absl::StrCat("delivery_id: webhook ", id, " has no delivery ", delivery_id));
        }
        return delivery->delivery();
      },
      std::move(done));
}

absl::StatusOr<av1::Webhook> Webhooks::Get(const CallContext& ctx, const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<av1::WebhookRecord> record,
                   projection_->GetWebhook(ctx.tenant, id));
  if (!record) return NoWebhook("id", id);
  return record->webhook();
}

absl::StatusOr<Webhooks::WebhookPage> Webhooks::List(const CallContext& ctx,
                                                     const std::string& resume_after,
                                                     size_t page_size) const {
  ASSIGN_OR_RETURN(std::vector<av1::WebhookRecord> records,
                   projection_->ListWebhooks(ctx.tenant, resume_after, page_size + 1));
  WebhookPage page;
  page.webhooks =
      projection::FirstPage(records, page_size, &page.resume_after,
                            [](av1::WebhookRecord& r) { return std::move(*r.mutable_webhook()); });
  return page;
}

absl::StatusOr<Webhooks::DeliveryPage> Webhooks::ListDeliveries(const CallContext& ctx,
                                                                const std::string& webhook_id,
                                                                av1::WebhookDeliveryState state,
                                                                const std::string& resume_after,
                                                                size_t page_size) const {
  ASSIGN_OR_RETURN(std::optional<av1::WebhookRecord> record,
                   projection_->GetWebhook(ctx.tenant, webhook_id));
  if (!record) return NoWebhook("webhook_id", webhook_id);
  ASSIGN_OR_RETURN(WebhookProjection::DeliveryPage found,
                   projection_->ListDeliveries(ctx.tenant, webhook_id, state, resume_after,
                                               page_size, kMaxScanned));
  DeliveryPage page;
  page.deliveries = std::move(found.deliveries);
  if (!found.at_end) page.resume_after = found.scanned_to;
  return page;
}

}  // namespace crm::analytics::webhooks
