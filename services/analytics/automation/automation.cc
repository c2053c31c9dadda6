#include "services/analytics/automation/automation.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/feed/change_feed.h"
#include "common/ids/ids.h"
#include "common/projection/aggregate.h"
#include "common/projection/paging.h"
#include "common/status/status_macros.h"
#include "crm/analytics/v1/events.pb.h"
#include "services/analytics/automation/segment_triggers.h"
#include "services/analytics/domain/segments.h"

namespace crm::analytics::automation {

namespace av1 = crm::analytics::v1;
using projection::CallContext;
using Decided = projection::CommandWriter::Decision;
using Payload = projection::CommandWriter::Payload;

namespace {

constexpr char kTopic[] = "crm.analytics.v1";
// Runs a listing reads past (in other states) before it answers with what it has.
constexpr size_t kMaxScanned = 10000;
// Targets a campaign may have: all are recorded in its launch event.
constexpr size_t kMaxCampaignAudience = 10000;

absl::Status NoRule(const char* field, const std::string& id) {
  return absl::NotFoundError(absl::StrCat(field, ": rule ", id, " does not exist"));
}

// `answer` with its customers: how many, and the `max_customers` with the most runs.
constexpr absl::Duration kCatchUpWait = absl::Seconds(30);

av1::TestRuleResponse Ranked(av1::TestRuleResponse answer,
                             const std::map<std::string, int64_t>& runs_of, size_t max_customers) {
  answer.set_customers(static_cast<int64_t>(runs_of.size()));
  std::vector<std::pair<std::string, int64_t>> ranked(runs_of.begin(), runs_of.end());
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  for (size_t i = 0; i < ranked.size() && i < max_customers; ++i) {
    av1::TestRuleCustomer& c = *answer.add_top_customers();
    c.set_contact_id(ranked[i].first);
    c.set_runs(ranked[i].second);
  }
  return answer;
}

}  // namespace

Automation::Automation(const RuleProjection* projection, const MessageProjection* messages,
                       const CampaignProjection* campaigns, Facts facts, eventlog::EventLog* log,
                       projection::Projector* projector)
    : projection_(projection),
      messages_(messages),
      campaigns_(campaigns),
      facts_(std::move(facts)),
      log_(log),
      writer_(log, projector, kTopic, kRuleAggregateType),
      outbound_(log, projector, kOutboundTopic, kMessageAggregateType),
      projector_(projector) {}

Automation::~Automation() { Stop(); }

void Automation::StartEngine(EngineOptions options, std::unique_ptr<ActionPerformer> performer) {
  engine_ = std::make_unique<Engine>(projection_, messages_, campaigns_, facts_, log_, projector_,
                                     &writer_, &outbound_, std::move(performer), options);
  engine_->Start();
}

void Automation::Stop() {
  if (engine_) engine_->Stop();
}

absl::Status Automation::CheckRefs(const CallContext& ctx, const av1::RuleTrigger& trigger) const {
  if (!trigger.customer_segment_id().empty()) {
    RETURN_IF_ERROR(SegmentOf(facts_, ctx.tenant, trigger.customer_segment_id(),
                              "rule.trigger.customer_segment_id")
                        .status());
  }
  if (!trigger.has_segment_change()) return absl::OkStatus();
  return SegmentOf(facts_, ctx.tenant, trigger.segment_change().segment_id(),
                   "rule.trigger.segment_change.segment_id")
      .status();
}

void Automation::Create(const CallContext& ctx, const av1::Rule& rule,
                        const std::string& request_id, projection::Done<av1::Rule> done) {
  const std::string id = ids::NewId();
  writer_.Run<av1::Rule>(
      projection::CommandFor(ctx, "CreateRule", kRuleAggregateType, request_id),
      [&](absl::Time, Payload& payload) -> Decided {
        RETURN_IF_ERROR(CheckRefs(ctx, rule.trigger()));
        av1::RuleCreated event;
        av1::Rule& r = *event.mutable_rule();
        r.set_name(rule.name());
        *r.mutable_trigger() = rule.trigger();
        *r.mutable_actions() = rule.actions();
        return projection::Take(absl::StatusOr<av1::RuleCreated>(std::move(event)), payload, id, 0);
      },
      [this, ctx](const std::string& rule_id, int64_t) { return Get(ctx, rule_id); },
      std::move(done));
}

void Automation::Update(const CallContext& ctx, const av1::Rule& rule,
                        const google::protobuf::FieldMask& mask, int64_t expected_version,
                        const std::string& request_id, projection::Done<av1::Rule> done) {
  const std::string id = rule.id();
  writer_.Run<av1::Rule>(
      projection::Rebasable(
          projection::CommandFor(ctx, "UpdateRule", kRuleAggregateType, request_id)),
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<av1::RuleRecord> current,
                         projection_->GetRule(ctx.tenant, id));
        if (!current) return NoRule("rule.id", id);
        const int64_t version = current->rule().version();
        RETURN_IF_ERROR(projection::CheckDefinedVersion(
            version, current->defined_version(), "expected_version", "rule", id, expected_version));
        av1::RuleUpdated event;
        av1::Rule& r = *event.mutable_rule();
        r.set_name(current->rule().name());
        *r.mutable_trigger() = current->rule().trigger();
        *r.mutable_actions() = current->rule().actions();
        for (const std::string& path : mask.paths()) {
          if (path == "name") r.set_name(rule.name());
          if (path == "trigger") {
            RETURN_IF_ERROR(CheckRefs(ctx, rule.trigger()));
            *r.mutable_trigger() = rule.trigger();
          }
          if (path == "actions") *r.mutable_actions() = rule.actions();
        }
        return projection::Take(absl::StatusOr<av1::RuleUpdated>(std::move(event)), payload, id,
                                version);
      },
      [this, ctx](const std::string& rule_id, int64_t) { return Get(ctx, rule_id); },
      std::move(done));
}

void Automation::SetEnabled(const CallContext& ctx, const std::string& id, bool enabled,
                            int64_t expected_version, const std::string& request_id,
                            projection::Done<av1::Rule> done) {
  // Already so (also a repeated request): nothing to change, the rule as it is.
  absl::StatusOr<av1::Rule> now = Get(ctx, id);
  if (now.ok() && now->enabled() == enabled) {
    done(std::move(now));
    return;
  }
  writer_.Run<av1::Rule>(
      projection::Rebasable(projection::CommandFor(ctx, enabled ? "EnableRule" : "DisableRule",
                                                   kRuleAggregateType, request_id)),
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<av1::RuleRecord> current,
                         projection_->GetRule(ctx.tenant, id));
        if (!current) return NoRule("id", id);
        const int64_t version = current->rule().version();
        RETURN_IF_ERROR(projection::CheckDefinedVersion(
            version, current->defined_version(), "expected_version", "rule", id, expected_version));
        if (current->rule().enabled() == enabled) {
          return absl::FailedPreconditionError(
              absl::StrCat("id: rule ", id, " is already ", enabled ? "enabled" : "disabled"));
        }
        if (!enabled) {
          return projection::Take(absl::StatusOr<av1::RuleDisabled>(av1::RuleDisabled()), payload,
                                  id, version);
        }
        // The rule acts on what is appended from now on.
        av1::RuleEnabled event;
        for (const std::string& topic : RuleTopics()) {
          ASSIGN_OR_RETURN((*event.mutable_start_cursors())[topic], feed::EndCursor(log_, topic));
        }
        return projection::Take(absl::StatusOr<av1::RuleEnabled>(std::move(event)), payload, id,
                                version);
      },
      [this, ctx](const std::string& rule_id, int64_t) { return Get(ctx, rule_id); },
      std::move(done));
}

absl::StatusOr<av1::Rule> Automation::Get(const CallContext& ctx, const std::string& id,
                                          const char* field) const {
  ASSIGN_OR_RETURN(std::optional<av1::RuleRecord> record, projection_->GetRule(ctx.tenant, id));
  if (!record) return NoRule(field, id);
  return record->rule();
}

absl::StatusOr<Automation::RulePage> Automation::List(const CallContext& ctx,
                                                      const std::string& resume_after,
                                                      size_t page_size) const {
  ASSIGN_OR_RETURN(std::vector<av1::RuleRecord> records,
                   projection_->ListRules(ctx.tenant, resume_after, page_size + 1));
  RulePage page;
  page.rules =
      projection::FirstPage(records, page_size, &page.resume_after,
                            [](av1::RuleRecord& r) { return std::move(*r.mutable_rule()); });
  return page;
}

absl::StatusOr<av1::TestRuleResponse> Automation::Test(const CallContext& ctx,
                                                       const av1::Rule& rule, absl::Time start,
                                                       absl::Time end, size_t max_customers) const {
  constexpr int64_t kMaxEvents = 1000000;
  constexpr size_t kPerRead = 512;
  // What the trial reads besides the log (ledgers, contacts, cases, segments) is as new as the
  // log when it is called.
  RETURN_IF_ERROR(
      projector_->WaitUntilCaughtUp(std::min(ctx.deadline, absl::Now() + kCatchUpWait)));
  av1::TestRuleResponse answer;
  answer.set_complete(true);
  std::map<std::string, int64_t> runs_of;  // contact -> runs
  if (ReadsCases(rule.trigger())) {
    // Every breach in the period, also of cases answered or resolved since (events_read: cases).
    absl::Status unmet;
    RETURN_IF_ERROR(facts_.cases(ctx.tenant, [&](const crm::interaction::v1::Case& c) {
      answer.set_events_read(answer.events_read() + 1);
      for (const TimeDue& due : CaseBreaches(rule.trigger().case_sla_breach(), c, start,
                                             end - absl::Nanoseconds(1), /*current_only=*/false)) {
        absl::StatusOr<bool> meets =
            MeetsCustomerCondition(rule.trigger(), facts_, ctx.tenant, c.contact_id(), due.due);
        if (!meets.ok()) unmet.Update(meets.status());
        if (!meets.ok() || !*meets) continue;
        answer.set_runs(answer.runs() + 1);
        ++runs_of[c.contact_id()];
      }
    }));
    RETURN_IF_ERROR(unmet);
    return Ranked(std::move(answer), runs_of, max_customers);
  }
  if (rule.trigger().has_segment_change()) {
    // Who is a member at the end of the period and was not at its start, or the other way
    // round (events_read: members read at both ends).
    const av1::SegmentChangeTrigger& trigger = rule.trigger().segment_change();
    ASSIGN_OR_RETURN(const av1::Segment segment,
                     SegmentOf(facts_, ctx.tenant, trigger.segment_id(),
                               "rule.trigger.segment_change.segment_id"));
    std::map<std::string, av1::SegmentMemberRecord> then;
    RETURN_IF_ERROR(facts_.members(ctx.tenant, segment.filter(), start,
                                   [&](const crm::contact::v1::Contact& c) {
                                     then[c.id()].set_member(true);
                                     return true;
                                   }));
    std::set<std::string> at_end;
    RETURN_IF_ERROR(facts_.members(ctx.tenant, segment.filter(), end - absl::Nanoseconds(1),
                                   [&](const crm::contact::v1::Contact& c) {
                                     at_end.insert(c.id());
                                     return true;
                                   }));
    answer.set_events_read(static_cast<int64_t>(then.size() + at_end.size()));
    const SegmentMoves moves = DiffMembers(then, at_end);
    for (const std::string& id :
         trigger.change() == av1::SEGMENT_CHANGE_JOINED ? moves.joined : moves.left) {
      answer.set_runs(answer.runs() + 1);
      ++runs_of[id];
    }
    return Ranked(std::move(answer), runs_of, max_customers);
  }
  if (IsTimeTrigger(rule.trigger())) {
    // Every lapse, churn-risk crossing or anniversary of every customer in the period (events_read:
    // customers read).
    absl::Status unmet;
    RETURN_IF_ERROR(facts_.customers(
        ctx.tenant, ReadsPurchases(rule.trigger()), [&](const CustomerHistory& customer) {
          answer.set_events_read(answer.events_read() + 1);
          for (const TimeDue& due :
               DueMoments(rule.trigger(), customer, start, end - absl::Nanoseconds(1),
                          /*current_only=*/false)) {
            absl::StatusOr<bool> meets = MeetsCustomerCondition(rule.trigger(), facts_, ctx.tenant,
                                                                customer.contact_id, due.due);
            if (!meets.ok()) unmet.Update(meets.status());
            if (!meets.ok() || !*meets) continue;
            answer.set_runs(answer.runs() + 1);
            ++runs_of[customer.contact_id];
          }
        }));
    RETURN_IF_ERROR(unmet);
    return Ranked(std::move(answer), runs_of, max_customers);
  }
  feed::FeedQuery query;
  query.tenant = ctx.tenant;
  query.topic = TriggerTopic(rule.trigger());
  query.event_types = TriggerEventTypes(rule.trigger());
  query.start_time = start;
  ASSIGN_OR_RETURN(std::unique_ptr<feed::ChangeFeed> feed, feed::ChangeFeed::Open(log_, query));
  while (true) {
    if (answer.events_read() >= kMaxEvents || absl::Now() > ctx.deadline) {
      answer.set_complete(false);
      break;
    }
    ASSIGN_OR_RETURN(std::vector<feed::FeedItem> items, feed->Next(kPerRead, absl::ZeroDuration()));
    if (items.empty()) break;  // the end of the log as it is
    for (const feed::FeedItem& item : items) {
      if (!item.event) continue;
      answer.set_events_read(answer.events_read() + 1);
      const absl::Time at = projection::TimeOf(item.event->occurred_at());
      if (at < start || at >= end) continue;
      absl::StatusOr<std::optional<Match>> match =
          MatchTrigger(rule.trigger(), *item.event, facts_);
      if (!match.ok() || !*match) continue;
      answer.set_runs(answer.runs() + 1);
      if (!(*match)->contact_id.empty()) ++runs_of[(*match)->contact_id];
    }
  }
  return Ranked(std::move(answer), runs_of, max_customers);
}

absl::StatusOr<Automation::RunPage> Automation::ListRuns(const CallContext& ctx,
                                                         const std::string& rule_id,
                                                         av1::RuleRunState state,
                                                         const std::string& resume_after,
                                                         size_t page_size) const {
  ASSIGN_OR_RETURN(std::optional<av1::RuleRecord> record,
                   projection_->GetRule(ctx.tenant, rule_id));
  if (!record) return NoRule("rule_id", rule_id);
  ASSIGN_OR_RETURN(
      RuleProjection::RunPage found,
      projection_->ListRuns(ctx.tenant, rule_id, state, resume_after, page_size, kMaxScanned));
  RunPage page;
  page.runs = std::move(found.runs);
  if (!found.at_end) page.resume_after = found.scanned_to;
  return page;
}

absl::StatusOr<av1::MessagingPolicy> Automation::GetPolicy(const CallContext& ctx) const {
  return messages_->GetPolicy(ctx.tenant);
}

void Automation::SetPolicy(const CallContext& ctx, const av1::MessagingPolicy& policy,
                           int64_t expected_version, const std::string& request_id,
                           projection::Done<av1::MessagingPolicy> done) {
  writer_.Run<av1::MessagingPolicy>(
      projection::CommandFor(ctx, "UpdateMessagingPolicy", kPolicyAggregateType, request_id),
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(av1::MessagingPolicy current, messages_->GetPolicy(ctx.tenant));
        if (expected_version != 0 && expected_version != current.version()) {
          return absl::AbortedError(
              absl::StrCat("expected_version: the messaging policy is at "
                           "version ",
                           current.version(), ", not ", expected_version));
        }
        av1::MessagingPolicySet event;
        *event.mutable_policy() = policy;
        event.mutable_policy()->clear_version();
        event.mutable_policy()->clear_update_time();
        return projection::Take(absl::StatusOr<av1::MessagingPolicySet>(std::move(event)), payload,
                                kPolicyId, current.version());
      },
      [this, ctx](const std::string&, int64_t) { return GetPolicy(ctx); }, std::move(done));
}

absl::StatusOr<av1::Message> Automation::GetMessage(const CallContext& ctx, const std::string& id,
                                                    const char* field) const {
  ASSIGN_OR_RETURN(std::optional<av1::Message> message, messages_->GetMessage(ctx.tenant, id));
  if (!message)
    return absl::NotFoundError(absl::StrCat(field, ": message ", id, " does not exist"));
  return *message;
}

absl::StatusOr<Automation::MessagePage> Automation::ListMessages(
    const CallContext& ctx, const MessageProjection::MessageFilter& filter,
    const std::string& resume_after, size_t page_size) const {
  ASSIGN_OR_RETURN(
      MessageProjection::MessagePage found,
      messages_->ListMessages(ctx.tenant, filter, resume_after, page_size, kMaxScanned));
  MessagePage page;
  page.messages = std::move(found.messages);
  if (!found.at_end) page.resume_after = found.scanned_to;
  return page;
}

void Automation::ReportStatus(const CallContext& ctx, const std::string& message_id,
                              av1::MessageState state, const std::string& detail, absl::Time time,
                              const std::string& request_id, projection::Done<av1::Message> done) {
  writer_.Run<av1::Message>(
      // A report is the provider's fact, not a change based on what the adapter read: it takes
      // effect past other reports (two racing for one message both count).
      projection::Rebasable(
          projection::CommandFor(ctx, "ReportMessageStatus", kMessageAggregateType, request_id)),
      [&](absl::Time now, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(av1::Message current, GetMessage(ctx, message_id, "message_id"));
        av1::MessageStatusReported event;
        event.set_state(state);
        event.set_detail(detail);
        projection::SetTimestamp(time == absl::InfinitePast() ? now : time, event.mutable_time());
        return projection::Take(absl::StatusOr<av1::MessageStatusReported>(std::move(event)),
                                payload, message_id, current.version());
      },
      [this, ctx](const std::string& id, int64_t) { return GetMessage(ctx, id); }, std::move(done));
}

void Automation::LaunchCampaign(const CallContext& ctx, const av1::Campaign& campaign,
                                const std::string& request_id,
                                projection::Done<av1::Campaign> done) {
  const std::string id = ids::NewId();
  writer_.Run<av1::Campaign>(
      projection::CommandFor(ctx, "LaunchCampaign", kCampaignAggregateType, request_id),
      [&](absl::Time, Payload& payload) -> Decided {
        std::vector<crm::contact::v1::Contact> audience;
        if (!campaign.segment_id().empty()) {
          ASSIGN_OR_RETURN(
              const av1::Segment segment,
              SegmentOf(facts_, ctx.tenant, campaign.segment_id(), "campaign.segment_id"));
          RETURN_IF_ERROR(facts_.members(ctx.tenant, segment.filter(), absl::Now(),
                                         [&](const crm::contact::v1::Contact& c) {
                                           audience.push_back(c);
                                           return audience.size() <= kMaxCampaignAudience;
                                         }));
          if (audience.size() > kMaxCampaignAudience) {
            return absl::FailedPreconditionError(
                absl::StrCat("campaign.segment_id: segment ", campaign.segment_id(),
                             " has more than ", kMaxCampaignAudience,
                             " members; narrow it (a campaign reaches at most that many)"));
          }
        }
        for (int i = 0; i < campaign.contact_ids_size(); ++i) {
          std::optional<crm::contact::v1::Contact> c =
              facts_.contact(ctx.tenant, campaign.contact_ids(i));
          if (!c) {
            return absl::NotFoundError(absl::StrCat("campaign.contact_ids[", i, "]: contact ",
                                                    campaign.contact_ids(i), " does not exist"));
          }
          audience.push_back(*std::move(c));
        }
        av1::CampaignLaunched event;
        std::vector<std::string> consenting;
        std::set<std::string> seen;
        for (const crm::contact::v1::Contact& c : audience) {
          if (!seen.insert(c.id()).second || c.archived()) continue;
          if (ConsentGranted(c, campaign.channel())) {
            consenting.push_back(c.id());
          } else {
            event.set_without_consent(event.without_consent() + 1);
          }
        }
        if (consenting.empty()) {
          return absl::FailedPreconditionError(
              absl::StrCat("campaign: no customer of the audience has consent for the channel (",
                           event.without_consent(), " without)"));
        }
        // The hold-out: a random draw of the list, decided here and recorded with the launch.
        std::shuffle(consenting.begin(), consenting.end(), std::mt19937_64(std::random_device{}()));
        const size_t holdout = consenting.size() * campaign.holdout_percent() / 100;
        for (size_t i = 0; i < consenting.size(); ++i) {
          av1::CampaignRecipient& target = *event.add_recipients();
          target.set_contact_id(consenting[i]);
          target.set_holdout(i < holdout);
        }
        av1::Campaign& c = *event.mutable_campaign();
        c.set_name(campaign.name());
        c.set_segment_id(campaign.segment_id());
        c.set_channel(campaign.channel());
        c.set_subject(campaign.subject());
        c.set_body(campaign.body());
        c.set_holdout_percent(campaign.holdout_percent());
        *c.mutable_attribution_window() = campaign.attribution_window();
        return projection::Take(absl::StatusOr<av1::CampaignLaunched>(std::move(event)), payload,
                                id, 0);
      },
      [this, ctx](const std::string& campaign_id, int64_t) {
        return GetCampaign(ctx, campaign_id);
      },
      std::move(done));
}

absl::StatusOr<av1::Campaign> Automation::GetCampaign(const CallContext& ctx,
                                                      const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<av1::Campaign> campaign, campaigns_->GetCampaign(ctx.tenant, id));
  if (!campaign) return absl::NotFoundError(absl::StrCat("id: campaign ", id, " does not exist"));
  return *campaign;
}

absl::StatusOr<Automation::CampaignPage> Automation::ListCampaigns(const CallContext& ctx,
                                                                   const std::string& resume_after,
                                                                   size_t page_size) const {
  ASSIGN_OR_RETURN(std::vector<av1::Campaign> found,
                   campaigns_->ListCampaigns(ctx.tenant, resume_after, page_size + 1));
  CampaignPage page;
  page.campaigns = projection::FirstPage(found, page_size, &page.resume_after,
                                         [](av1::Campaign& c) { return std::move(c); });
  return page;
}

}  // namespace crm::analytics::automation
