// Dispatcher: delivers events to webhooks. One thread works through every webhook of every
// tenant: it replays what was asked to be replayed, then, unless the webhook is waiting out a
// retry, reads each followed topic from the webhook's recorded cursor (a change feed of the
// webhook's tenant and event types), POSTs each event, and records the attempt as a
// WebhookDeliveryAttempted event — waiting until the projection has applied it before the next,
// so the recorded cursor only moves past an event once its delivery is finished (succeeded or
// dead-lettered). A crash between a POST and its record repeats that POST after the restart,
// with the same delivery id; nothing is skipped and nothing is sent that is not in the log.
//
// Lifecycle: construct -> Start() -> Stop() (or destroy). Start and Stop from one thread.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>

#include "absl/time/time.h"
#include "common/eventlog/event_log.h"
#include "common/feed/change_feed.h"
#include "common/projection/command_writer.h"
#include "common/projection/polling_worker.h"
#include "crm/analytics/v1/projection.pb.h"
#include "services/analytics/webhooks/sender.h"
#include "services/analytics/webhooks/webhook_projection.h"

namespace crm::analytics::webhooks {

struct DispatchOptions {
  // Attempts before a delivery is dead-lettered.
  int max_attempts = 10;
  // The wait after the first failed attempt; doubled after each, at most retry_cap, jittered.
  absl::Duration retry_base = absl::Seconds(10);
  absl::Duration retry_cap = absl::Hours(1);
  // How long one POST may take.
  absl::Duration timeout = absl::Seconds(10);
  // How often the dispatcher looks for work when it found none.
  absl::Duration idle_poll = absl::Milliseconds(200);
  // How often a webhook's read position is recorded when it only passed events it does not take.
  absl::Duration cursor_record_interval = absl::Seconds(30);
};

class Dispatcher {
 public:
  // Delivers nothing until `projector` has caught up with the log (what was recorded before a
  // restart is known before anything is sent again).
  Dispatcher(const WebhookProjection* projection, eventlog::EventLog* log,
             projection::Projector* projector, projection::CommandWriter* writer,
             std::unique_ptr<WebhookSender> sender, DispatchOptions options);
  ~Dispatcher();

  void Start();
  void Stop();

 private:
  // One webhook's reader of one topic.
  struct Reader {
    std::unique_ptr<feed::ChangeFeed> feed;
    std::string recorded;    // the cursor recorded in the projection the feed started from
    std::string read_to;     // the feed's position (past events it does not take)
    absl::Time recorded_at;  // when `recorded` was last written
  };

  // One pass over every webhook; true if it did anything.
  bool Pass();
  // Does what is due for one webhook; true if it did anything.
  bool Step(const std::string& tenant, const crm::analytics::v1::WebhookRecord& webhook);
  // POSTs `event` as attempt n of its delivery and records the outcome. Returns the state
  // recorded, or an error when the record could not be written (the caller starts again from
  // the recorded cursor).
  absl::StatusOr<crm::analytics::v1::WebhookDeliveryState> Deliver(
      const std::string& tenant, const crm::analytics::v1::WebhookRecord& webhook,
      const std::string& topic, const crm::common::v1::EventEnvelope& event,
      const std::string& cursor_after, bool replay);
  // Appends a webhook event expecting the webhook at `version` and waits until it is applied.
  absl::Status Record(const std::string& tenant, const std::string& webhook_id, int64_t version,
                      const std::string& request_id, const google::protobuf::Message& payload);
  bool Stopping();

  const WebhookProjection* const projection_;
  eventlog::EventLog* const log_;
  projection::Projector* const projector_;
  projection::CommandWriter* const writer_;
  const std::unique_ptr<WebhookSender> sender_;
  const DispatchOptions options_;

  std::map<std::pair<std::string, std::string>, Reader> readers_;  // (webhook id, topic)
  std::mt19937_64 random_;

  projection::PollingWorker worker_;
};

}  // namespace crm::analytics::webhooks
