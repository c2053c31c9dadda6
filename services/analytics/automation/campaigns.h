// Campaigns: one message to each consenting customer of an audience, a random hold-out kept
// from the same list, and the orders both groups place within the attribution window.
//
// CampaignProjection keeps each campaign (with its results), its targets, the treatment targets
// still to be sent (the engine's outbox for campaigns) and each customer's campaigns, from the
// campaign events on crm.analytics.v1 (aggregate type "campaign") — and counts an order towards
// the campaigns of its customer when it starts (or stops) counting as a purchase, at apply, from
// the order's own time: deterministic, so a rebuild gives back the same results.
//
// Keys (tenant-prefixed, beside the analytics projection's own):
//   kState "K/" tenant \0 campaign_id                -> Campaign (with its results)
//   kState "A/" tenant \0 campaign_id \0 contact_id  -> CampaignMemberRecord
//   kIndex "O/" tenant \0 campaign_id \0 contact_id  -> "" (a treatment message to send)
//   kIndex "B/" tenant \0 contact_id \0 campaign_id  -> "" (the customer's campaigns)
//
// Apply runs on the projector thread; the reads are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/store/projection_store.h"
#include "common/store/tenant_flags.h"
#include "crm/analytics/v1/projection.pb.h"
#include "crm/analytics/v1/resources.pb.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/sales/v1/resources.pb.h"

namespace crm::analytics::automation {

inline constexpr char kCampaignAggregateType[] = "campaign";

// True for the event types CampaignProjection applies.
bool IsCampaignEvent(std::string_view event_type);

class CampaignProjection {
 public:
  explicit CampaignProjection(store::ProjectionStore* store);

  // Applies CampaignLaunched (ABORTED when the campaign exists) or CampaignMessageSent (ABORTED
  // on another version, NOT_FOUND for an unknown campaign or target).
  absl::StatusOr<absl::Status> Apply(const crm::common::v1::EventEnvelope& event,
                                     store::ProjectionStore::Batch& batch);
  // `order` started (`delta` 1) or stopped (-1) counting as a purchase: counted towards each
  // campaign of its customer whose attribution window holds the order's time.
  absl::Status CountPurchase(std::string_view tenant, const crm::sales::v1::Order& order, int delta,
                             store::ProjectionStore::Batch& batch);

  absl::StatusOr<std::optional<crm::analytics::v1::Campaign>> GetCampaign(
      std::string_view tenant, std::string_view id) const;
  // The tenant's campaigns after id `after`, at most `limit`, in id order.
  absl::StatusOr<std::vector<crm::analytics::v1::Campaign>> ListCampaigns(std::string_view tenant,
                                                                          std::string_view after,
                                                                          size_t limit) const;
  // Every campaign with messages still to send, as (tenant, campaign).
  absl::StatusOr<std::vector<std::pair<std::string, crm::analytics::v1::Campaign>>>
  CampaignsToSend() const;
  // Treatment targets of the campaign still to be sent, at most `limit`, in contact id order.
  absl::StatusOr<std::vector<std::string>> PendingTargets(std::string_view tenant,
                                                          std::string_view campaign_id,
                                                          size_t limit) const;
  absl::StatusOr<std::optional<crm::analytics::v1::CampaignMemberRecord>> GetMember(
      std::string_view tenant, std::string_view campaign_id, std::string_view contact_id) const;

 private:
  store::ProjectionStore* const store_;
  // Per tenant, whether any contact is a member of one of its campaigns (kIndex, kOfContact):
  // an order of a tenant without campaigns looks for none. Apply side only.
  store::TenantFlags with_members_;
};

}  // namespace crm::analytics::automation
