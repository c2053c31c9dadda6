// Engine: runs the automation rules. One thread works through every rule of every tenant:
//   1. the outbox — the rule's runs still pending whose attempt is due: performs each action not
//      yet done (ActionPerformer, request id "rule:<rule_id>:<run_id>:<index>") and records the
//      attempt as a RuleRunAttempted event (SUCCEEDED; PENDING with the next attempt's time,
//      after exponential backoff with jitter; DEAD_LETTERED after max_attempts or a refusal
//      that a retry cannot change);
//      A run with a message to send waits out the tenant's quiet hours first (recorded as a
//      deferral, not an attempt); a message goes out only with the customer's consent for its
//      channel and within the frequency cap, else its action is recorded as skipped;
//   2. while the rule is enabled, the events of its trigger's topic from the rule's recorded
//      cursor: each that matches is recorded as a RuleTriggered event — the run and its actions,
//      resolved — with the cursor after it, before anything is done (the decision is in the log
//      and in the projection in one write, so it is never forgotten and never taken twice).
// Then the campaigns with messages still to send: each treatment target's message as a rule's
// (quiet hours, consent, cap), recorded as CampaignMessageSent.
// Every record waits until the projection has applied it. A crash between an action and its
// record repeats the action with the same request id: the other service answers with its first
// outcome, so nothing is done twice.
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
#include "common/projection/projector.h"
#include "crm/analytics/v1/projection.pb.h"
#include "services/analytics/automation/actions.h"
#include "services/analytics/automation/campaigns.h"
#include "services/analytics/automation/messages.h"
#include "services/analytics/automation/rule_projection.h"
#include "services/analytics/automation/triggers.h"

namespace crm::analytics::automation {

struct EngineOptions {
  // Attempts before a run is dead-lettered.
  int max_attempts = 8;
  // The wait after the first failed attempt; doubled after each, at most retry_cap, jittered.
  absl::Duration retry_base = absl::Seconds(10);
  absl::Duration retry_cap = absl::Hours(1);
  // How often the engine looks for work when it found none.
  absl::Duration idle_poll = absl::Milliseconds(200);
  // How often a rule's read position is recorded when it only passed events it does not take.
  absl::Duration cursor_record_interval = absl::Seconds(30);
  // How often time triggers (no purchase for N days, anniversaries, churn risk, SLA breaches)
  // and segment changes are looked for.
  absl::Duration time_scan_interval = absl::Hours(1);
};

class Engine {
 public:
  // Decides and acts on nothing until `projector` has caught up with the log.
  // `writer` records on crm.analytics.v1, `outbound` queues messages on crm.outbound.v1.
  Engine(const RuleProjection* projection, const MessageProjection* messages,
         const CampaignProjection* campaigns, Facts facts, eventlog::EventLog* log,
         projection::Projector* projector, projection::CommandWriter* writer,
         projection::CommandWriter* outbound, std::unique_ptr<ActionPerformer> performer,
         EngineOptions options);
  ~Engine();

  void Start();
  void Stop();

 private:
  struct Reader {
    std::unique_ptr<feed::ChangeFeed> feed;
    std::string recorded;  // the cursor recorded in the projection the feed started from
    std::string read_to;   // the feed's position (past events the rule does not take)
    absl::Time recorded_at;
  };

  // One pass over every rule; true if it did anything.
  bool Pass();
  // Does what is due for one rule; true if it did anything.
  bool Step(const std::string& tenant, const crm::analytics::v1::RuleRecord& rule);
  // Performs a pending run's remaining actions and records the attempt (a delayed run of a
  // rule disabled since is recorded CANCELLED instead).
  absl::Status Perform(const std::string& tenant, const crm::analytics::v1::RuleRunRecord& run,
                       bool rule_enabled);
  // Looks for the customers a time trigger falls due for and records their runs.
  bool ScanTime(const std::string& tenant, const crm::analytics::v1::RuleRecord& rule);
  // Whether a scan of the rule is due (the scan interval passed) and the projection has caught
  // up with the log, so what a scan reads is as new as the log.
  bool ScanDue(const std::string& rule_id, absl::Time now);
  // Compares a SegmentChangeTrigger's segment with the members the rule last saw and records the
  // changes: those it acts on as runs, with the change; the others (all on the first look after
  // enabling) as RuleSegmentScanned.
  bool ScanSegment(const std::string& tenant, const crm::analytics::v1::RuleRecord& rule);
  // Reads the rule's topic and records the runs its events trigger.
  bool Decide(const std::string& tenant, const crm::analytics::v1::RuleRecord& rule);
  // Appends a rule event expecting the rule at the version it has now, and waits until applied.
  // `request_id` is qualified with that version.
  absl::Status Record(const std::string& tenant, const std::string& rule_id,
                      const std::string& request_id, const google::protobuf::Message& payload);
  // Publishes `notification` (action `index` of its run) once: its aggregate is the run and
  // action, so a second write is refused and counts as done.
  absl::StatusOr<std::string> Notify(const std::string& tenant,
                                     const crm::analytics::v1::RuleNotification& notification,
                                     int index);
  // Queues message `id` once (written at version 0), with the rule or campaign fields of
  // `origin`: answers "messages/<id>", or "" with `skipped` set when it must not go out (no
  // consent for the channel, no address, the frequency cap).
  absl::StatusOr<std::string> Send(const std::string& tenant, const std::string& id,
                                   const crm::analytics::v1::PlannedMessage& message,
                                   const crm::analytics::v1::Message& origin, std::string* skipped);
  // Sends the next messages of a campaign, outside quiet hours; true if it did anything.
  bool SendCampaign(const std::string& tenant, const crm::analytics::v1::Campaign& campaign);
  // Appends `payload` as command `command` to aggregate (`type`, `id`) expecting `version`, and
  // waits until applied.
  absl::Status Append(const std::string& tenant, const char* command, const char* type,
                      const std::string& id, int64_t version, const std::string& request_id,
                      const google::protobuf::Message& payload);
  bool Stopping();

  const RuleProjection* const projection_;
  const MessageProjection* const messages_;
  const CampaignProjection* const campaigns_;
  const Facts facts_;
  eventlog::EventLog* const log_;
  projection::Projector* const projector_;
  projection::CommandWriter* const writer_;
  projection::CommandWriter* const outbound_;
  const std::unique_ptr<ActionPerformer> performer_;
  const EngineOptions options_;

  std::map<std::pair<std::string, std::string>, Reader> readers_;  // (rule id, topic)
  std::map<std::string, absl::Time> last_scan_;      // rule id -> when its trigger was scanned
  std::map<std::string, absl::Time> campaign_wait_;  // campaign id -> not before (quiet, retry)
  std::mt19937_64 random_;

  projection::PollingWorker worker_;
};

}  // namespace crm::analytics::automation
