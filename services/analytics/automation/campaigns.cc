#include "services/analytics/automation/campaigns.h"

#include "absl/strings/str_cat.h"
#include "common/projection/aggregate.h"
#include "common/projection/projector.h"
#include "common/projection/records.h"
#include "common/status/status_macros.h"
#include "common/store/keys.h"
#include "common/store/record_scan.h"
#include "crm/analytics/v1/events.pb.h"

namespace crm::analytics::automation {

namespace av1 = crm::analytics::v1;
using crm::common::v1::EventEnvelope;
using store::Cf;

namespace {

constexpr char kCampaign = 'K';
constexpr char kMember = 'A';
constexpr char kToSend = 'O';
constexpr char kOfContact = 'B';

constexpr char kLaunchedType[] = "crm.analytics.v1.CampaignLaunched";
constexpr char kSentType[] = "crm.analytics.v1.CampaignMessageSent";

template <typename T>
absl::StatusOr<std::optional<T>> Read(store::ProjectionStore::Batch& batch,
                                      const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  return projection::ParseRecord<T>(raw, "campaign");
}

void Put(store::ProjectionStore::Batch& batch, const std::string& key,
         const google::protobuf::Message& value) {
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(value));
}

// Adds `delta` times `amount` to the entry of its currency in `revenue`.
void AddRevenue(google::protobuf::RepeatedPtrField<crm::common::v1::Money>& revenue,
                const crm::common::v1::Money& amount, int delta) {
  for (crm::common::v1::Money& m : revenue) {
    if (m.currency_code() == amount.currency_code()) {
      m.set_minor_units(m.minor_units() + delta * amount.minor_units());
      return;
    }
  }
  crm::common::v1::Money& m = *revenue.Add();
  m.set_currency_code(amount.currency_code());
  m.set_minor_units(delta * amount.minor_units());
}

}  // namespace

bool IsCampaignEvent(std::string_view t) { return t == kLaunchedType || t == kSentType; }

CampaignProjection::CampaignProjection(store::ProjectionStore* store)
    : store_(store), with_members_(Cf::kIndex, [](std::string_view tenant) {
        return store::KindPrefix(kOfContact, tenant);
      }) {}

absl::StatusOr<absl::Status> CampaignProjection::Apply(const EventEnvelope& event,
                                                       store::ProjectionStore::Batch& batch) {
  const std::string& tenant = event.tenant();
  const std::string& id = event.aggregate_id();
  const std::string key = store::KindKey(kCampaign, tenant, id);
  ASSIGN_OR_RETURN(std::optional<av1::Campaign> current, Read<av1::Campaign>(batch, key));
  const int64_t at = current ? current->version() : 0;
  if (at != event.expected_version()) {
    if (!current && event.expected_version() != 0) {
      return absl::NotFoundError(absl::StrCat("campaign ", id, " does not exist"));
    }
    return absl::AbortedError(
        absl::StrCat("campaign ", id, " is at version ", at, ", not ", event.expected_version()));
  }
  if (event.event_type() == kLaunchedType) {
    absl::StatusOr<av1::CampaignLaunched> launched =
        projection::UnpackPayload<av1::CampaignLaunched>(event);
    if (!launched.ok()) return launched.status();
    av1::Campaign campaign = launched->campaign();
    campaign.set_id(id);
    campaign.clear_contact_ids();
    campaign.set_version(event.aggregate_version());
    *campaign.mutable_launch_time() = event.occurred_at();
    campaign.set_without_consent(launched->without_consent());
    for (const av1::CampaignRecipient& target : launched->recipients()) {
      av1::CampaignGroup& group =
          target.holdout() ? *campaign.mutable_holdout() : *campaign.mutable_treatment();
      group.set_customers(group.customers() + 1);
      av1::CampaignMemberRecord member;
      *member.mutable_recipient() = target;
      Put(batch, store::KindPrefix(kMember, tenant, id).append(target.contact_id()), member);
      batch.Put(Cf::kIndex, store::KindPrefix(kOfContact, tenant, target.contact_id()).append(id),
                "");
      with_members_.Added(tenant);
      if (!target.holdout()) {
        batch.Put(Cf::kIndex, store::KindPrefix(kToSend, tenant, id).append(target.contact_id()),
                  "");
      }
    }
    campaign.set_messages_pending(campaign.treatment().customers());
    Put(batch, key, campaign);
    return absl::OkStatus();
  }
  if (!current) return absl::NotFoundError(absl::StrCat("campaign ", id, " does not exist"));
  absl::StatusOr<av1::CampaignMessageSent> sent =
      projection::UnpackPayload<av1::CampaignMessageSent>(event);
  if (!sent.ok()) return sent.status();
  const std::string member_key = store::KindPrefix(kMember, tenant, id).append(sent->contact_id());
  ASSIGN_OR_RETURN(std::optional<av1::CampaignMemberRecord> member,
                   Read<av1::CampaignMemberRecord>(batch, member_key));
  if (!member || member->recipient().holdout() || !member->message_id().empty() ||
      !member->skipped().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("campaign ", id, " has no message still to send to ", sent->contact_id()));
  }
  member->set_message_id(sent->message_id());
  member->set_skipped(sent->skipped());
  Put(batch, member_key, *member);
  batch.Delete(Cf::kIndex, store::KindPrefix(kToSend, tenant, id).append(sent->contact_id()));
  if (sent->message_id().empty()) {
    current->set_messages_skipped(current->messages_skipped() + 1);
  } else {
    current->set_messages_sent(current->messages_sent() + 1);
  }
  current->set_messages_pending(current->messages_pending() - 1);
  current->set_version(event.aggregate_version());
  Put(batch, key, *current);
  return absl::OkStatus();
}

absl::Status CampaignProjection::CountPurchase(std::string_view tenant,
                                               const crm::sales::v1::Order& order, int delta,
                                               store::ProjectionStore::Batch& batch) {
  if (order.contact_id().empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(const bool any, with_members_.Any(batch, tenant));
  if (!any) return absl::OkStatus();
  const std::string prefix = store::KindPrefix(kOfContact, tenant, order.contact_id());
  std::vector<std::string> campaigns;
  RETURN_IF_ERROR(batch.Scan(Cf::kIndex, prefix, [&](std::string_view k, std::string_view) {
    campaigns.emplace_back(k.substr(prefix.size()));
    return true;
  }));
  const int64_t at = projection::TimestampNanos(order.order_time());
  for (const std::string& id : campaigns) {
    const std::string key = store::KindKey(kCampaign, tenant, id);
    ASSIGN_OR_RETURN(std::optional<av1::Campaign> campaign, Read<av1::Campaign>(batch, key));
    if (!campaign) continue;
    const int64_t start = projection::TimestampNanos(campaign->launch_time());
    const int64_t end = start + campaign->attribution_window().seconds() * 1000000000;
    if (at < start || at >= end) continue;
    const std::string member_key =
        store::KindPrefix(kMember, tenant, id).append(order.contact_id());
    ASSIGN_OR_RETURN(std::optional<av1::CampaignMemberRecord> member,
                     Read<av1::CampaignMemberRecord>(batch, member_key));
    if (!member) continue;
    av1::CampaignGroup& group = member->recipient().holdout() ? *campaign->mutable_holdout()
                                                              : *campaign->mutable_treatment();
    const int64_t before = member->orders();
    member->set_orders(std::max<int64_t>(0, before + delta));
    if ((before == 0) != (member->orders() == 0)) {
      group.set_converted(group.converted() + (member->orders() > 0 ? 1 : -1));
    }
    group.set_orders(group.orders() + delta);
    AddRevenue(*group.mutable_revenue(), order.net(), delta);
    Put(batch, member_key, *member);
    Put(batch, key, *campaign);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<av1::Campaign>> CampaignProjection::GetCampaign(
    std::string_view tenant, std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, store::KindKey(kCampaign, tenant, id)));
  return projection::ParseRecord<av1::Campaign>(raw, "campaign");
}

absl::StatusOr<std::vector<av1::Campaign>> CampaignProjection::ListCampaigns(
    std::string_view tenant, std::string_view after, size_t limit) const {
  return store::ScanRecords<av1::Campaign>(store_->Latest(), kCampaign, tenant, after, limit);
}

absl::StatusOr<std::vector<std::pair<std::string, av1::Campaign>>>
CampaignProjection::CampaignsToSend() const {
  ASSIGN_OR_RETURN(auto all, store::ScanAllTenants<av1::Campaign>(store_->Latest(), kCampaign));
  std::vector<std::pair<std::string, av1::Campaign>> out;
  for (auto& [tenant, campaign] : all) {
    if (campaign.messages_pending() > 0) out.emplace_back(std::move(tenant), std::move(campaign));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> CampaignProjection::PendingTargets(
    std::string_view tenant, std::string_view campaign_id, size_t limit) const {
  const std::string prefix = store::KindPrefix(kToSend, tenant, campaign_id);
  std::vector<std::string> out;
  RETURN_IF_ERROR(store_->Scan(Cf::kIndex, prefix, "", [&](std::string_view k, std::string_view) {
    if (out.size() >= limit) return false;
    out.emplace_back(k.substr(prefix.size()));
    return true;
  }));
  return out;
}

absl::StatusOr<std::optional<av1::CampaignMemberRecord>> CampaignProjection::GetMember(
    std::string_view tenant, std::string_view campaign_id, std::string_view contact_id) const {
  ASSIGN_OR_RETURN(
      std::optional<std::string> raw,
      store_->Get(Cf::kState, store::KindPrefix(kMember, tenant, campaign_id).append(contact_id)));
  return projection::ParseRecord<av1::CampaignMemberRecord>(raw, "campaign member");
}

}  // namespace crm::analytics::automation
