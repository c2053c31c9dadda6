#include "services/analytics/automation/engine.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"
#include "crm/analytics/v1/events.pb.h"
#include "services/analytics/automation/segment_triggers.h"
#include "services/analytics/automation/time_triggers.h"
#include "services/analytics/domain/segments.h"
#include "services/analytics/webhooks/delivery.h"
#include "spdlog/spdlog.h"

namespace crm::analytics::automation {

namespace av1 = crm::analytics::v1;
using crm::common::v1::EventEnvelope;

namespace {

constexpr size_t kRunsPerStep = 8;
constexpr size_t kRecordsPerRead = 32;
constexpr absl::Duration kRecordWait = absl::Seconds(30);

// A refusal that another attempt would meet again.
bool Permanent(const absl::Status& s) {
  return absl::IsInvalidArgument(s) || absl::IsNotFound(s) || absl::IsFailedPrecondition(s) ||
         absl::IsPermissionDenied(s) || absl::IsUnauthenticated(s) || absl::IsAlreadyExists(s) ||
         absl::IsOutOfRange(s) || absl::IsUnimplemented(s);
}

// The command that appends an automation record to aggregate (`type`, `id`) at `version`.
projection::CommandWriter::Command AutomationCommand(const std::string& tenant, const char* name,
                                                     const char* type, const std::string& id,
                                                     int64_t version,
                                                     const std::string& request_id) {
  projection::CommandWriter::Command command;
  command.tenant = tenant;
  command.actor = "automation-engine";
  command.request_id = request_id;
  command.command = name;
  command.aggregate_type = type;
  command.aggregate_id = id;
  command.expected_version = version;
  command.now = absl::Now();
  command.deadline = command.now + kRecordWait;
  command.source = "automation";
  return command;
}

// The command of an event written once per run and action: aggregate `id` at version 0, so a
// second write (after a crash or a lost answer) is refused ABORTED.
projection::CommandWriter::Command OneTime(const std::string& tenant, const char* name,
                                           const char* type, const std::string& id) {
  return AutomationCommand(tenant, name, type, id, 0, absl::StrCat("rule:", id));
}

}  // namespace

Engine::Engine(const RuleProjection* projection, const MessageProjection* messages,
               const CampaignProjection* campaigns, Facts facts, eventlog::EventLog* log,
               projection::Projector* projector, projection::CommandWriter* writer,
               projection::CommandWriter* outbound, std::unique_ptr<ActionPerformer> performer,
               EngineOptions options)
    : projection_(projection),
      messages_(messages),
      campaigns_(campaigns),
      facts_(std::move(facts)),
      log_(log),
      projector_(projector),
      writer_(writer),
      outbound_(outbound),
      performer_(std::move(performer)),
      options_(options),
      random_(std::random_device{}()) {}

Engine::~Engine() { Stop(); }

void Engine::Start() {
  worker_.Start("automation", projector_, options_.idle_poll, [this] { return Pass(); });
}

void Engine::Stop() { worker_.Stop(); }

bool Engine::Stopping() { return worker_.Stopping(); }

bool Engine::Pass() {
  bool busy = false;
  absl::StatusOr<std::vector<std::pair<std::string, av1::RuleRecord>>> rules =
      projection_->AllRules();
  if (rules.ok()) {
    std::set<std::string> live;
    for (const auto& [tenant, record] : *rules) {
      if (record.rule().enabled()) live.insert(record.rule().id());
    }
    for (auto it = readers_.begin(); it != readers_.end();) {
      it = live.contains(it->first.first) ? std::next(it) : readers_.erase(it);
    }
    for (const auto& [tenant, record] : *rules) {
      if (Stopping()) break;
      busy |= Step(tenant, record);
    }
  } else if (!absl::IsUnavailable(rules.status())) {
    spdlog::warn("automation: {}", rules.status().ToString());
  }
  absl::StatusOr<std::vector<std::pair<std::string, av1::Campaign>>> campaigns =
      campaigns_->CampaignsToSend();
  if (campaigns.ok()) {
    for (const auto& [tenant, campaign] : *campaigns) {
      if (Stopping()) break;
      busy |= SendCampaign(tenant, campaign);
    }
  }
  return busy;
}

bool Engine::SendCampaign(const std::string& tenant, const av1::Campaign& campaign) {
  const std::string& id = campaign.id();
  const absl::Time now = absl::Now();
  if (auto wait = campaign_wait_.find(id); wait != campaign_wait_.end()) {
    if (wait->second > now) return false;
    campaign_wait_.erase(wait);
  }
  absl::StatusOr<av1::MessagingPolicy> policy = messages_->GetPolicy(tenant);
  if (!policy.ok()) return false;
  if (std::optional<absl::Time> until = QuietUntil(*policy, now)) {
    campaign_wait_[id] = *until;
    return false;
  }
  absl::StatusOr<std::vector<std::string>> targets =
      campaigns_->PendingTargets(tenant, id, kRunsPerStep);
  if (!targets.ok()) return false;
  av1::PlannedMessage planned;
  planned.set_channel(campaign.channel());
  planned.set_subject(campaign.subject());
  planned.set_body(campaign.body());
  av1::Message origin;
  origin.set_campaign_id(id);
  for (const std::string& contact_id : *targets) {
    if (Stopping()) return true;
    planned.set_contact_id(contact_id);
    std::string skipped;
    const std::string message_id = absl::StrCat(id, ":", contact_id);
    absl::StatusOr<std::string> sent = Send(tenant, message_id, planned, origin, &skipped);
    if (!sent.ok() && Permanent(sent.status())) {
      skipped = std::string(sent.status().message());  // e.g. the customer is gone
    } else if (!sent.ok()) {
      spdlog::warn("campaign {}: message to {} not sent, retrying: {}", id, contact_id,
                   sent.status().ToString());
      campaign_wait_[id] = absl::Now() + options_.retry_base;
      return true;
    }
    av1::CampaignMessageSent recorded;
    recorded.set_contact_id(contact_id);
    if (skipped.empty()) recorded.set_message_id(message_id);
    recorded.set_skipped(skipped);
    absl::StatusOr<std::optional<av1::Campaign>> current = campaigns_->GetCampaign(tenant, id);
    if (!current.ok() || !*current) return true;
    const int64_t version = (*current)->version();
    const absl::Status written =
        Append(tenant, "RecordCampaignMessage", kCampaignAggregateType, id, version,
               absl::StrCat("campaign-sent:", message_id, ":v", version), recorded);
    if (!written.ok()) {
      spdlog::warn("campaign {}: message to {} not recorded: {}", id, contact_id,
                   written.ToString());
      return true;
    }
  }
  return true;
}

bool Engine::Step(const std::string& tenant, const av1::RuleRecord& rule) {
  const std::string& id = rule.rule().id();
  bool did = false;
  absl::StatusOr<std::vector<av1::RuleRunRecord>> pending =
      projection_->PendingRuns(tenant, id, kRunsPerStep);
  if (pending.ok()) {
    for (const av1::RuleRunRecord& run : *pending) {
      if (Stopping()) return true;
      if (run.run().has_next_attempt_time() &&
          projection::TimeOf(run.run().next_attempt_time()) > absl::Now()) {
        break;  // not due yet (a delay, or a retry's wait), nor any after it
      }
      (void)Perform(tenant, run, rule.rule().enabled());
      did = true;
    }
  }
  if (rule.rule().enabled()) {
    const av1::RuleTrigger& trigger = rule.rule().trigger();
    did |= IsTimeTrigger(trigger)         ? ScanTime(tenant, rule)
           : trigger.has_segment_change() ? ScanSegment(tenant, rule)
                                          : Decide(tenant, rule);
  }
  return did;
}

bool Engine::ScanTime(const std::string& tenant, const av1::RuleRecord& record) {
  constexpr size_t kRunsPerScan = 500;
  const av1::Rule& rule = record.rule();
  const absl::Time now = absl::Now();
  if (!ScanDue(rule.id(), now)) return false;
  const absl::Time enabled = projection::TimeOf(record.enable_time());
  struct Found {
    TimeDue due;
    std::string aggregate_id;  // the customer, or the case
    Match match;
  };
  std::vector<Found> found;
  bool more = false;
  // Keeps `d` unless its run was decided already or the customer does not meet the rule's
  // condition; false once the scan's bound is reached.
  auto keep = [&](TimeDue d, std::string aggregate_id, Match match) {
    absl::StatusOr<std::optional<av1::RuleRunRecord>> run =
        projection_->GetRun(tenant, rule.id(), d.run_id);
    if (!run.ok() || run->has_value()) return true;  // decided already (or unreadable)
    const absl::StatusOr<bool> meets =
        MeetsCustomerCondition(rule.trigger(), facts_, tenant, match.contact_id, d.due);
    if (!meets.ok()) {
      spdlog::warn("rule {}: {} skipped: {}", rule.id(), d.run_id, meets.status().ToString());
    }
    if (!meets.ok() || !*meets) return true;
    if (found.size() >= kRunsPerScan) {
      more = true;
      return false;
    }
    found.push_back({std::move(d), std::move(aggregate_id), std::move(match)});
    return true;
  };
  const absl::Status scanned =
      ReadsCases(rule.trigger())
          ? facts_.cases(tenant,
                         [&](const crm::interaction::v1::Case& c) {
                           for (TimeDue& d : CaseBreaches(rule.trigger().case_sla_breach(), c,
                                                          enabled, now, true)) {
                             Match match;
                             match.contact_id = c.contact_id();
                             match.case_id = c.id();
                             match.owner = c.owner().empty()
                                               ? facts_.owner_of(tenant, c.contact_id())
                                               : c.owner();
                             if (!keep(std::move(d), c.id(), std::move(match))) return;
                           }
                         })
          : facts_.customers(
                tenant, ReadsPurchases(rule.trigger()), [&](const CustomerHistory& customer) {
                  for (TimeDue& d : DueMoments(rule.trigger(), customer, enabled, now, true)) {
                    Match match;
                    match.contact_id = customer.contact_id;
                    match.order_id = d.order_id;
                    match.owner = facts_.owner_of(tenant, customer.contact_id);
                    if (!keep(std::move(d), customer.contact_id, std::move(match))) return;
                  }
                });
  if (!scanned.ok()) {
    spdlog::warn("rule {}: time trigger not scanned: {}", rule.id(), scanned.ToString());
    return false;
  }
  bool did = false;
  for (const Found& f : found) {
    if (Stopping()) return true;
    const crm::common::v1::EventEnvelope event =
        TimeEvent(tenant, rule.trigger(), f.aggregate_id, f.due);
    const absl::Status recorded =
        Record(tenant, rule.id(), absl::StrCat("rule-run:", rule.id(), ":", f.due.run_id),
               PlanRun(rule, event, f.match));
    did = true;
    // FAILED_PRECONDITION: decided already. Anything else: scanned again next time.
    if (!recorded.ok() && !absl::IsFailedPrecondition(recorded)) return true;
  }
  if (!more) last_scan_[rule.id()] = now;
  return did;
}

bool Engine::ScanDue(const std::string& rule_id, absl::Time now) {
  if (auto last = last_scan_.find(rule_id);
      last != last_scan_.end() && now - last->second < options_.time_scan_interval) {
    return false;
  }
  // What a trigger reads must be as new as the log.
  return projector_->WaitUntilCaughtUp(now + kRecordWait).ok();
}

bool Engine::ScanSegment(const std::string& tenant, const av1::RuleRecord& listed) {
  constexpr size_t kRunsPerScan = 500;
  constexpr int kMovesPerRecord = 1000;
  const absl::Time now = absl::Now();
  if (!ScanDue(listed.rule().id(), now)) return false;
  // As it is now (the pass's own records moved its version on).
  const absl::StatusOr<std::optional<av1::RuleRecord>> current =
      projection_->GetRule(tenant, listed.rule().id());
  if (!current.ok() || !current->has_value() || !(*current)->rule().enabled()) return false;
  const av1::RuleRecord& record = **current;
  const av1::Rule& rule = record.rule();
  const av1::SegmentChangeTrigger& trigger = rule.trigger().segment_change();
  const std::optional<av1::Segment> segment = facts_.segment(tenant, trigger.segment_id());
  if (!segment) {
    spdlog::warn("rule {}: segment {} does not exist; nothing to compare", rule.id(),
                 trigger.segment_id());
    last_scan_[rule.id()] = now;
    return false;
  }
  // Membership changes only with the rule's version: the members read belong to `record`'s
  // version or a later one, and every record below expects the version it follows, so a scan
  // that raced another (a second replica, a disable) is refused rather than applied twice.
  absl::StatusOr<std::map<std::string, av1::SegmentMemberRecord>> seen =
      projection_->SegmentMembers(tenant, rule.id());
  std::set<std::string> members;
  const absl::Status read = seen.ok() ? facts_.members(tenant, segment->filter(), now,
                                                       [&](const crm::contact::v1::Contact& c) {
                                                         members.insert(c.id());
                                                         return !Stopping();
                                                       })
                                      : seen.status();
  if (!read.ok() || Stopping()) {
    if (!read.ok()) spdlog::warn("rule {}: segment not read: {}", rule.id(), read.ToString());
    return false;
  }
  const SegmentMoves moves = DiffMembers(*seen, members);
  int64_t version = rule.version();
  auto append = [&](const std::string& request_id, const google::protobuf::Message& payload) {
    const absl::Status s = Append(tenant, "RecordRuleRun", kRuleAggregateType, rule.id(), version,
                                  absl::StrCat(request_id, ":v", version), payload);
    if (s.ok()) ++version;
    return s;
  };
  // The moves not acted on (all of them on the first look), in chunks.
  const bool joins = trigger.change() == av1::SEGMENT_CHANGE_JOINED;
  std::vector<std::string> acted;
  av1::RuleSegmentScanned quiet;
  auto flush = [&](bool baseline_complete) {
    if (quiet.moves().empty() && !baseline_complete) return absl::OkStatus();
    quiet.set_baseline_complete(baseline_complete);
    const absl::Status s = append(absl::StrCat("rule-segment:", rule.id()), quiet);
    quiet.Clear();
    return s;
  };
  auto move = [&](const std::string& contact_id, bool member) -> absl::Status {
    const bool acts = rule.has_segment_watch_time() && member == joins && [&] {
      if (member) return true;
      // Leaving by being deleted or merged away is not leaving.
      const std::optional<crm::contact::v1::Contact> c = facts_.contact(tenant, contact_id);
      return c && !c->archived() && c->merged_into().empty();
    }();
    if (acts) {
      acted.push_back(contact_id);
      return absl::OkStatus();
    }
    av1::SegmentMove& m = *quiet.add_moves();
    m.set_contact_id(contact_id);
    m.set_member(member);
    return quiet.moves_size() >= kMovesPerRecord ? flush(false) : absl::OkStatus();
  };
  absl::Status recorded;
  for (const std::string& id : moves.joined) {
    if (recorded.ok()) recorded = move(id, true);
  }
  for (const std::string& id : moves.left) {
    if (recorded.ok()) recorded = move(id, false);
  }
  if (recorded.ok()) recorded = flush(!rule.has_segment_watch_time());
  bool did = version != rule.version();
  if (!recorded.ok()) {
    spdlog::warn("rule {}: segment changes not recorded: {}", rule.id(), recorded.ToString());
    return did;  // looked at again next pass
  }
  size_t runs = 0;
  for (const std::string& contact_id : acted) {
    if (Stopping() || runs == kRunsPerScan) return true;  // the rest on the next pass
    const auto it = seen->find(contact_id);
    const int changes = (it == seen->end() ? 0 : it->second.changes()) + 1;
    Match match;
    match.contact_id = contact_id;
    match.owner = facts_.owner_of(tenant, contact_id);
    av1::RuleTriggered triggered =
        PlanRun(rule, SegmentEvent(tenant, contact_id, joins, changes, now), match);
    triggered.mutable_segment_move()->set_contact_id(contact_id);
    triggered.mutable_segment_move()->set_member(joins);
    recorded = append(absl::StrCat("rule-run:", rule.id(), ":", triggered.run().id()), triggered);
    ++runs;
    did = true;
    if (!recorded.ok()) {
      spdlog::warn("rule {}: run for {} not recorded: {}", rule.id(), contact_id,
                   recorded.ToString());
      return true;
    }
  }
  last_scan_[rule.id()] = now;
  return did;
}

absl::Status Engine::Perform(const std::string& tenant, const av1::RuleRunRecord& record,
                             bool rule_enabled) {
  const av1::RuleRun& run = record.run();
  const int attempt = run.attempts() + 1;
  av1::RuleRunAttempted attempted;
  attempted.set_run_id(run.id());
  *attempted.mutable_results() = run.results();
  if (run.has_due_time() && run.attempts() == 0 && !rule_enabled) {
    // A delayed run whose rule was disabled before it fell due: nothing is done.
    projection::SetTimestamp(absl::Now(), attempted.mutable_time());
    attempted.set_state(av1::RULE_RUN_STATE_CANCELLED);
    return Record(tenant, run.rule_id(),
                  absl::StrCat("rule-attempt:", run.rule_id(), ":", run.id(), ":", attempt),
                  attempted);
  }
  // No message goes out in the tenant's quiet hours: the run waits until they end, and the wait
  // is not an attempt.
  bool sends = false;
  for (int i = 0; i < record.planned_size() && i < run.results_size(); ++i) {
    sends |= record.planned(i).has_send_message() && run.results(i).resource().empty() &&
             run.results(i).skipped().empty();
  }
  if (sends) {
    ASSIGN_OR_RETURN(av1::MessagingPolicy policy, messages_->GetPolicy(tenant));
    const absl::Time now = absl::Now();
    if (std::optional<absl::Time> until = QuietUntil(policy, now)) {
      projection::SetTimestamp(now, attempted.mutable_time());
      projection::SetTimestamp(*until, attempted.mutable_next_attempt_time());
      attempted.set_state(av1::RULE_RUN_STATE_PENDING);
      attempted.set_deferred(true);
      return Record(tenant, run.rule_id(),
                    absl::StrCat("rule-defer:", run.rule_id(), ":", run.id(), ":",
                                 absl::ToUnixSeconds(*until)),
                    attempted);
    }
  }
  bool permanent = false;
  bool failed = false;
  for (int i = 0; i < attempted.results_size(); ++i) {
    av1::RuleActionResult& result = *attempted.mutable_results(i);
    if (!result.resource().empty() || !result.skipped().empty()) continue;  // done before
    const av1::PlannedAction* planned = i < record.planned_size() ? &record.planned(i) : nullptr;
    if (planned == nullptr || planned->kind_case() == av1::PlannedAction::KIND_NOT_SET) {
      // Could not be planned when decided (the error says why): no attempt changes that.
      if (result.error().empty()) result.set_error("the action could not be planned");
      permanent = failed = true;
      continue;
    }
    absl::StatusOr<std::string> done = absl::UnimplementedError("unknown action");
    const std::string request_id = absl::StrCat("rule:", run.rule_id(), ":", run.id(), ":", i);
    if (planned->has_create_task()) {
      done = performer_->CreateTask(tenant, planned->create_task(), request_id);
    } else if (planned->has_change_contact()) {
      done = performer_->ChangeContact(tenant, planned->change_contact(), request_id);
    } else if (planned->has_notify()) {
      done = Notify(tenant, planned->notify(), i);
    } else if (planned->has_send_message()) {
      std::string skipped;
      av1::Message origin;
      origin.set_rule_id(run.rule_id());
      origin.set_run_id(run.id());
      done = Send(tenant, absl::StrCat(run.rule_id(), ":", run.id(), ":", i),
                  planned->send_message(), origin, &skipped);
      if (done.ok() && !skipped.empty()) {
        result.set_skipped(skipped);
        result.clear_error();
        continue;
      }
    }
    if (done.ok()) {
      result.set_resource(*done);
      result.clear_error();
    } else {
      result.set_error(std::string(done.status().message()));
      failed = true;
      permanent |= Permanent(done.status());
    }
  }
  const absl::Time now = absl::Now();
  projection::SetTimestamp(now, attempted.mutable_time());
  if (!failed) {
    attempted.set_state(av1::RULE_RUN_STATE_SUCCEEDED);
  } else if (permanent || attempt >= options_.max_attempts) {
    attempted.set_state(av1::RULE_RUN_STATE_DEAD_LETTERED);
    spdlog::warn("rule {}: run {} dead-lettered after attempt {}", run.rule_id(), run.id(),
                 attempt);
  } else {
    attempted.set_state(av1::RULE_RUN_STATE_PENDING);
    const double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    projection::SetTimestamp(
        now + webhooks::RetryDelay(attempt, options_.retry_base, options_.retry_cap, jitter),
        attempted.mutable_next_attempt_time());
  }
  const absl::Status recorded =
      Record(tenant, run.rule_id(),
             absl::StrCat("rule-attempt:", run.rule_id(), ":", run.id(), ":", attempt), attempted);
  if (!recorded.ok()) {
    spdlog::warn("rule {}: attempt {} of run {} not recorded: {}", run.rule_id(), attempt, run.id(),
                 recorded.ToString());
  }
  return recorded;
}

bool Engine::Decide(const std::string& tenant, const av1::RuleRecord& rule) {
  const std::string& id = rule.rule().id();
  const std::string topic = TriggerTopic(rule.rule().trigger());
  auto cursor = rule.cursors().find(topic);
  if (topic.empty() || cursor == rule.cursors().end()) return false;
  Reader& reader = readers_[{id, topic}];
  if (!reader.feed || reader.recorded != cursor->second) {
    feed::FeedQuery query;
    query.tenant = tenant;
    query.topic = topic;
    query.event_types = TriggerEventTypes(rule.rule().trigger());
    query.cursor = cursor->second;
    absl::StatusOr<std::unique_ptr<feed::ChangeFeed>> opened =
        feed::ChangeFeed::Open(log_, std::move(query));
    if (!opened.ok()) {
      spdlog::warn("rule {}: cannot read {}: {}", id, topic, opened.status().ToString());
      return false;
    }
    reader.feed = *std::move(opened);
    reader.recorded = cursor->second;
    reader.read_to = cursor->second;
    reader.recorded_at = absl::Now();
  }
  absl::StatusOr<std::vector<feed::FeedItem>> items =
      reader.feed->Next(kRecordsPerRead, absl::ZeroDuration());
  if (!items.ok()) {
    reader.feed.reset();
    return false;
  }
  // What a trigger reads besides the event (a product's category, a deal's owner) must be at
  // least as new as the event: wait until the projection holds everything the log held now.
  if (!items->empty() && !projector_->WaitUntilCaughtUp(absl::Now() + kRecordWait).ok()) {
    reader.feed.reset();
    return false;
  }
  bool did = false;
  for (const feed::FeedItem& item : *items) {
    if (!item.event) {
      reader.read_to = item.cursor;
      continue;
    }
    absl::StatusOr<std::optional<Match>> match =
        MatchTrigger(rule.rule().trigger(), *item.event, facts_);
    if (!match.ok()) {
      spdlog::warn("rule {}: event {} skipped: {}", id, item.event->event_id(),
                   match.status().ToString());
    }
    if (!match.ok() || !*match) {
      reader.read_to = item.cursor;
      continue;
    }
    // The rule as it stands now: a definition changed since it was read is the one that acts.
    absl::StatusOr<std::optional<av1::RuleRecord>> current = projection_->GetRule(tenant, id);
    if (!current.ok() || !*current || !(*current)->rule().enabled()) {
      reader.feed.reset();
      return true;
    }
    av1::RuleTriggered triggered = PlanRun((*current)->rule(), *item.event, **match);
    triggered.set_topic(topic);
    triggered.set_cursor_after(item.cursor);
    const absl::Status recorded =
        Record(tenant, id, absl::StrCat("rule-run:", id, ":", item.event->event_id()), triggered);
    did = true;
    if (!recorded.ok() && !absl::IsFailedPrecondition(recorded)) {
      // Start again from the recorded cursor (the rule changed under us, or the log is away).
      reader.feed.reset();
      return true;
    }
    // FAILED_PRECONDITION: this event's run exists (the log held the event twice).
    reader.read_to = item.cursor;
    if (recorded.ok()) {
      reader.recorded = item.cursor;
      reader.recorded_at = absl::Now();
    }
    if (Stopping()) return true;
  }
  if (reader.read_to != reader.recorded &&
      absl::Now() - reader.recorded_at >= options_.cursor_record_interval) {
    av1::RuleCursorAdvanced advanced;
    advanced.set_topic(topic);
    advanced.set_cursor(reader.read_to);
    const absl::Status recorded = Record(tenant, id, absl::StrCat("rule-cursor:", id), advanced);
    if (recorded.ok()) {
      reader.recorded = reader.read_to;
      reader.recorded_at = absl::Now();
    } else {
      reader.feed.reset();
    }
    did = true;
  }
  return did;
}

absl::StatusOr<std::string> Engine::Notify(const std::string& tenant,
                                           const av1::RuleNotification& notification, int index) {
  const std::string id =
      absl::StrCat(notification.rule_id(), ":", notification.run_id(), ":", index);
  const absl::Status written = writer_->WriteAndWait(
      OneTime(tenant, "NotifyPartners", kNotificationAggregateType, id), notification);
  // ABORTED: it exists already (written before a crash or a lost answer) — done.
  if (!written.ok() && !absl::IsAborted(written)) return written;
  return absl::StrCat("notifications/", id);
}

absl::StatusOr<std::string> Engine::Send(const std::string& tenant, const std::string& id,
                                         const av1::PlannedMessage& planned,
                                         const av1::Message& origin, std::string* skipped) {
  const std::string resource = absl::StrCat("messages/", id);
  // Queued before a crash or a lost answer: done (and counted in the cap already).
  ASSIGN_OR_RETURN(std::optional<av1::Message> queued, messages_->GetMessage(tenant, id));
  if (queued) return resource;
  ASSIGN_OR_RETURN(crm::contact::v1::Contact contact,
                   performer_->GetContact(tenant, planned.contact_id()));
  const std::string channel =
      planned.channel() == crm::contact::v1::CONSENT_CHANNEL_SMS ? "SMS" : "email";
  if (contact.archived()) {
    *skipped = "the customer is deleted";
    return std::string();
  }
  if (!ConsentGranted(contact, planned.channel())) {
    *skipped = absl::StrCat("no consent for ", channel);
    return std::string();
  }
  absl::StatusOr<std::string> to = MessageAddress(contact, planned.channel());
  if (!to.ok()) {
    *skipped = std::string(to.status().message());
    return std::string();
  }
  ASSIGN_OR_RETURN(av1::MessagingPolicy policy, messages_->GetPolicy(tenant));
  const absl::Time now = absl::Now();
  if (policy.max_messages_per_customer() > 0) {
    const absl::Duration period = absl::Seconds(policy.cap_period().seconds());
    ASSIGN_OR_RETURN(int64_t sent,
                     messages_->CountSince(tenant, planned.contact_id(), now - period));
    if (sent >= policy.max_messages_per_customer()) {
      *skipped = absl::StrCat("frequency cap: ", sent, " messages to the customer in the last ",
                              absl::FormatDuration(period));
      return std::string();
    }
  }
  av1::OutboundMessage outbound;
  av1::Message& message = *outbound.mutable_message();
  message = origin;
  message.set_contact_id(planned.contact_id());
  message.set_channel(planned.channel());
  message.set_to(*to);
  message.set_subject(FillPersonal(planned.subject(), contact));
  message.set_body(FillPersonal(planned.body(), contact));
  const absl::Status written =
      outbound_->WriteAndWait(OneTime(tenant, "SendMessage", kMessageAggregateType, id), outbound);
  // ABORTED: queued already (written before a crash or a lost answer) — done.
  if (!written.ok() && !absl::IsAborted(written)) return written;
  return resource;
}

absl::Status Engine::Record(const std::string& tenant, const std::string& rule_id,
                            const std::string& request_id,
                            const google::protobuf::Message& payload) {
  ASSIGN_OR_RETURN(std::optional<av1::RuleRecord> current, projection_->GetRule(tenant, rule_id));
  if (!current) return absl::NotFoundError(absl::StrCat("rule ", rule_id, " does not exist"));
  // A record refused because the rule moved on is made again at the new version: the version is
  // part of the request id, so the retry is not answered with the first refusal.
  const int64_t version = current->rule().version();
  return Append(tenant, "RecordRuleRun", kRuleAggregateType, rule_id, version,
                absl::StrCat(request_id, ":v", version), payload);
}

absl::Status Engine::Append(const std::string& tenant, const char* command_name, const char* type,
                            const std::string& id, int64_t version, const std::string& request_id,
                            const google::protobuf::Message& payload) {
  return writer_->WriteAndWait(
      AutomationCommand(tenant, command_name, type, id, version, request_id), payload);
}

}  // namespace crm::analytics::automation
