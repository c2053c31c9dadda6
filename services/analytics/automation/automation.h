// Automation: rules that act on the tenant's events — the application layer behind
// crm.analytics.v1.AutomationService. Rule changes are commands on crm.analytics.v1 (aggregate
// type "rule"); the engine (engine.h) records each run it decides and each attempt at its
// actions there too, so the projection (rule_projection.h) always knows what was decided and
// what was done.
//
// Lifecycle: constructed by AnalyticsService -> StartEngine() (optional) -> Stop().
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/eventlog/event_log.h"
#include "common/projection/call_context.h"
#include "common/projection/command_writer.h"
#include "common/projection/projector.h"
#include "crm/analytics/v1/automation_service.pb.h"
#include "crm/analytics/v1/resources.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "services/analytics/automation/campaigns.h"
#include "services/analytics/automation/engine.h"
#include "services/analytics/automation/messages.h"
#include "services/analytics/automation/rule_projection.h"

namespace crm::analytics::automation {

class Automation {
 public:
  // `facts` reads what triggers need from the analytics projection.
  Automation(const RuleProjection* projection, const MessageProjection* messages,
             const CampaignProjection* campaigns, Facts facts, eventlog::EventLog* log,
             projection::Projector* projector);
  ~Automation();

  // Starts deciding and acting (one replica of the analytics service should); `performer` is
  // how actions are done.
  void StartEngine(EngineOptions options, std::unique_ptr<ActionPerformer> performer);
  void Stop();

  // Creates `rule` (name, trigger, actions: validated by the caller), disabled.
  void Create(const projection::CallContext& ctx, const crm::analytics::v1::Rule& rule,
              const std::string& request_id, projection::Done<crm::analytics::v1::Rule> done);
  // Sets the fields of `mask` (name, trigger, actions; validated by the caller) from `rule`.
  // NOT_FOUND; ABORTED if the rule changed since the expected version (the engine's records of
  // its runs move the version on but do not count, here or in SetEnabled: both are rebasable
  // commands, common/projection/aggregate.h).
  void Update(const projection::CallContext& ctx, const crm::analytics::v1::Rule& rule,
              const google::protobuf::FieldMask& mask, int64_t expected_version,
              const std::string& request_id, projection::Done<crm::analytics::v1::Rule> done);
  // Enables or disables; a rule already so is answered as it is. NOT_FOUND, ABORTED.
  void SetEnabled(const projection::CallContext& ctx, const std::string& id, bool enabled,
                  int64_t expected_version, const std::string& request_id,
                  projection::Done<crm::analytics::v1::Rule> done);

  // NOT_FOUND (naming the request field `field`) if the tenant has no rule of that id.
  absl::StatusOr<crm::analytics::v1::Rule> Get(const projection::CallContext& ctx,
                                               const std::string& id,
                                               const char* field = "id") const;
  struct RulePage {
    std::vector<crm::analytics::v1::Rule> rules;
    std::string resume_after;  // empty at the end
  };
  absl::StatusOr<RulePage> List(const projection::CallContext& ctx, const std::string& resume_after,
                                size_t page_size) const;
  struct RunPage {
    std::vector<crm::analytics::v1::RuleRun> runs;
    std::string resume_after;  // empty at the end
  };
  // NOT_FOUND for an unknown rule.
  // Tries `rule` (validated by the caller) on the events of [start, end) without acting:
  // TestRule's answer, at most `max_customers` listed.
  absl::StatusOr<crm::analytics::v1::TestRuleResponse> Test(const projection::CallContext& ctx,
                                                            const crm::analytics::v1::Rule& rule,
                                                            absl::Time start, absl::Time end,
                                                            size_t max_customers) const;
  absl::StatusOr<RunPage> ListRuns(const projection::CallContext& ctx, const std::string& rule_id,
                                   crm::analytics::v1::RuleRunState state,
                                   const std::string& resume_after, size_t page_size) const;

  // The tenant's messaging policy (the default, version 0, when never set).
  absl::StatusOr<crm::analytics::v1::MessagingPolicy> GetPolicy(
      const projection::CallContext& ctx) const;
  // Sets the tenant's messaging policy (validated by the caller). ABORTED on a stale version.
  void SetPolicy(const projection::CallContext& ctx,
                 const crm::analytics::v1::MessagingPolicy& policy, int64_t expected_version,
                 const std::string& request_id,
                 projection::Done<crm::analytics::v1::MessagingPolicy> done);
  // NOT_FOUND (naming the request field `field`) for an unknown message.
  absl::StatusOr<crm::analytics::v1::Message> GetMessage(const projection::CallContext& ctx,
                                                         const std::string& id,
                                                         const char* field = "id") const;
  struct MessagePage {
    std::vector<crm::analytics::v1::Message> messages;
    std::string resume_after;  // empty at the end
  };
  absl::StatusOr<MessagePage> ListMessages(const projection::CallContext& ctx,
                                           const MessageProjection::MessageFilter& filter,
                                           const std::string& resume_after, size_t page_size) const;
  // Launches `campaign` (validated by the caller): its audience resolved to the customers with
  // consent for its channel, the hold-out drawn at random. NOT_FOUND for an unknown segment or
  // contact, FAILED_PRECONDITION when no one consents or the audience is over 10,000.
  void LaunchCampaign(const projection::CallContext& ctx,
                      const crm::analytics::v1::Campaign& campaign, const std::string& request_id,
                      projection::Done<crm::analytics::v1::Campaign> done);
  // NOT_FOUND for an unknown campaign.
  absl::StatusOr<crm::analytics::v1::Campaign> GetCampaign(const projection::CallContext& ctx,
                                                           const std::string& id) const;
  struct CampaignPage {
    std::vector<crm::analytics::v1::Campaign> campaigns;
    std::string resume_after;  // empty at the end
  };
  absl::StatusOr<CampaignPage> ListCampaigns(const projection::CallContext& ctx,
                                             const std::string& resume_after,
                                             size_t page_size) const;
  // Records what became of a message (state DELIVERED, FAILED or OPENED; validated by the
  // caller). NOT_FOUND for an unknown message.
  void ReportStatus(const projection::CallContext& ctx, const std::string& message_id,
                    crm::analytics::v1::MessageState state, const std::string& detail,
                    absl::Time time, const std::string& request_id,
                    projection::Done<crm::analytics::v1::Message> done);

 private:
  // NOT_FOUND when what `trigger` names does not exist (a segment).
  absl::Status CheckRefs(const projection::CallContext& ctx,
                         const crm::analytics::v1::RuleTrigger& trigger) const;

  const RuleProjection* const projection_;
  const MessageProjection* const messages_;
  const CampaignProjection* const campaigns_;
  const Facts facts_;
  eventlog::EventLog* const log_;
  projection::CommandWriter writer_;
  projection::CommandWriter outbound_;
  projection::Projector* const projector_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace crm::analytics::automation
