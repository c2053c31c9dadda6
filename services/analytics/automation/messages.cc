#include "services/analytics/automation/messages.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/projection/aggregate.h"
#include "common/projection/projector.h"
#include "common/projection/records.h"
#include "common/status/status_macros.h"
#include "common/store/big_endian.h"
#include "common/store/keys.h"
#include "common/store/record_scan.h"

namespace crm::analytics::automation {

namespace av1 = crm::analytics::v1;
namespace cv1 = crm::contact::v1;
using crm::common::v1::EventEnvelope;
using store::Cf;

namespace {

constexpr char kMessage = 'M';
constexpr char kByContact = 'Q';
constexpr char kPolicy = 'Y';

constexpr char kOutboundType[] = "crm.analytics.v1.OutboundMessage";
constexpr char kReportedType[] = "crm.analytics.v1.MessageStatusReported";
constexpr char kPolicySetType[] = "crm.analytics.v1.MessagingPolicySet";

std::string ByContactKey(std::string_view tenant, std::string_view contact_id, absl::Time at,
                         std::string_view id) {
  std::string k = store::KindPrefix(kByContact, tenant, contact_id);
  store::PutBigEndian(k, static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixNanos(at))));
  return k.append(id);
}

}  // namespace

bool IsMessageEvent(std::string_view t) {
  return t == kOutboundType || t == kReportedType || t == kPolicySetType;
}

absl::StatusOr<int> ParseClock(std::string_view hh_mm) {
  const bool digits = hh_mm.size() == 5 && hh_mm[2] == ':' && absl::ascii_isdigit(hh_mm[0]) &&
                      absl::ascii_isdigit(hh_mm[1]) && absl::ascii_isdigit(hh_mm[3]) &&
                      absl::ascii_isdigit(hh_mm[4]);
  const int hours = digits ? (hh_mm[0] - '0') * 10 + (hh_mm[1] - '0') : -1;
  const int minutes = digits ? (hh_mm[3] - '0') * 10 + (hh_mm[4] - '0') : -1;
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", std::string(hh_mm), "\" is not a time of day \"HH:MM\" (00:00 to 23:59)"));
  }
  return hours * 60 + minutes;
}

std::optional<absl::Time> QuietUntil(const av1::MessagingPolicy& policy, absl::Time now) {
  absl::StatusOr<int> start = ParseClock(policy.quiet_hours_start());
  absl::StatusOr<int> end = ParseClock(policy.quiet_hours_end());
  if (!start.ok() || !end.ok() || *start == *end) return std::nullopt;
  absl::TimeZone zone = absl::UTCTimeZone();
  if (!policy.time_zone().empty() && !absl::LoadTimeZone(policy.time_zone(), &zone)) {
    return std::nullopt;
  }
  const absl::CivilSecond local = absl::ToCivilSecond(now, zone);
  const int minute = local.hour() * 60 + local.minute();
  const bool spans_midnight = *end < *start;
  const bool quiet =
      spans_midnight ? (minute >= *start || minute < *end) : (minute >= *start && minute < *end);
  if (!quiet) return std::nullopt;
  absl::CivilDay day = absl::CivilDay(local);
  if (minute >= *end) day += 1;  // the end is tomorrow's
  const absl::CivilMinute until(day.year(), day.month(), day.day(), *end / 60, *end % 60);
  // A local time skipped by a clock change resolves to the moment after the gap.
  return absl::FromCivil(until, zone);
}

absl::StatusOr<std::string> MessageAddress(const cv1::Contact& contact,
                                           cv1::ConsentChannel channel) {
  if (channel == cv1::CONSENT_CHANNEL_EMAIL) {
    const auto& emails = contact.personal().emails();
    if (emails.empty()) return absl::FailedPreconditionError("the customer has no email address");
    const auto primary = std::find_if(emails.begin(), emails.end(),
                                      [](const cv1::EmailAddress& e) { return e.primary(); });
    return (primary == emails.end() ? emails[0] : *primary).address();
  }
  if (channel == cv1::CONSENT_CHANNEL_SMS) {
    const auto& phones = contact.personal().phones();
    if (phones.empty()) return absl::FailedPreconditionError("the customer has no phone number");
    const auto primary = std::find_if(phones.begin(), phones.end(),
                                      [](const cv1::PhoneNumber& p) { return p.primary(); });
    return (primary == phones.end() ? phones[0] : *primary).number();
  }
  return absl::InvalidArgumentError("messages go by email or SMS only");
}

std::string FillPersonal(const std::string& text, const cv1::Contact& contact) {
  return absl::StrReplaceAll(text, {{"{given_name}", contact.personal().given_name()},
                                    {"{family_name}", contact.personal().family_name()}});
}

absl::StatusOr<absl::Status> MessageProjection::Apply(const EventEnvelope& event,
                                                      store::ProjectionStore::Batch& batch) {
  const std::string& tenant = event.tenant();
  const std::string& id = event.aggregate_id();
  const std::string& type = event.event_type();
  auto put = [&](const std::string& k, const google::protobuf::Message& value) {
    batch.Put(Cf::kState, k, projection::SerializeDeterministic(value));
  };
  if (type == kPolicySetType) {
    const std::string key = store::KindKey(kPolicy, tenant, kPolicyId);
    ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
    ASSIGN_OR_RETURN(std::optional<av1::MessagingPolicy> current,
                     projection::ParseRecord<av1::MessagingPolicy>(raw, "messaging policy"));
    const int64_t at = current ? current->version() : 0;
    if (at != event.expected_version()) {
      return absl::AbortedError(absl::StrCat("the messaging policy is at version ", at, ", not ",
                                             event.expected_version()));
    }
    absl::StatusOr<av1::MessagingPolicySet> set =
        projection::UnpackPayload<av1::MessagingPolicySet>(event);
    if (!set.ok()) return set.status();
    av1::MessagingPolicy policy = set->policy();
    policy.set_version(event.aggregate_version());
    *policy.mutable_update_time() = event.occurred_at();
    put(key, policy);
    return absl::OkStatus();
  }

  const std::string key = store::KindKey(kMessage, tenant, id);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<av1::Message> current,
                   projection::ParseRecord<av1::Message>(raw, "message"));
  if (type == kOutboundType) {
    // One event per message: a second is refused.
    if (current || event.expected_version() != 0) {
      return absl::AbortedError(absl::StrCat("message ", id, " was queued already"));
    }
    absl::StatusOr<av1::OutboundMessage> outbound =
        projection::UnpackPayload<av1::OutboundMessage>(event);
    if (!outbound.ok()) return outbound.status();
    av1::Message message = outbound->message();
    message.set_id(id);
    message.set_state(av1::MESSAGE_STATE_QUEUED);
    message.set_version(event.aggregate_version());
    *message.mutable_queue_time() = event.occurred_at();
    *message.mutable_update_time() = event.occurred_at();
    put(key, message);
    batch.Put(
        Cf::kIndex,
        ByContactKey(tenant, message.contact_id(), projection::TimeOf(event.occurred_at()), id),
        "");
    return absl::OkStatus();
  }
  if (type != kReportedType) return absl::OkStatus();
  if (!current) return absl::NotFoundError(absl::StrCat("message ", id, " does not exist"));
  // The message's own fields are its queueing's (version 1); reports are records past it, so a
  // rebasable report (every one written since they are) takes effect past other reports.
  if (!projection::TakesEffect(event, current->version(), /*defined_at=*/1)) {
    return absl::AbortedError(absl::StrCat("message ", id, " is at version ", current->version(),
                                           ", not ", event.expected_version()));
  }
  absl::StatusOr<av1::MessageStatusReported> reported =
      projection::UnpackPayload<av1::MessageStatusReported>(event);
  if (!reported.ok()) return reported.status();
  // Providers' reports arrive out of order: one older than the report that set the state does
  // not replace it (equal times go in log order), and an opened message stays opened when its
  // delivery is reported later still. Either way the report is taken: the version moves on.
  const int64_t at = projection::TimestampNanos(reported->time());
  if (!current->has_status_time() || at >= projection::TimestampNanos(current->status_time())) {
    if (!(current->state() == av1::MESSAGE_STATE_OPENED &&
          reported->state() == av1::MESSAGE_STATE_DELIVERED)) {
      current->set_state(reported->state());
    }
    current->set_status_detail(reported->detail());
    *current->mutable_status_time() = reported->time();
  }
  if (at > projection::TimestampNanos(current->update_time())) {
    *current->mutable_update_time() = reported->time();
  }
  current->set_version(current->version() + 1);
  put(key, *current);
  return absl::OkStatus();
}

absl::Status MessageProjection::Erase(std::string_view tenant, std::string_view contact_id,
                                      store::ProjectionStore::Batch& batch) {
  const std::string prefix = store::KindPrefix(kByContact, tenant, contact_id);
  std::vector<std::string> ids;
  RETURN_IF_ERROR(batch.Scan(Cf::kIndex, prefix, [&](std::string_view k, std::string_view) {
    ids.emplace_back(k.substr(prefix.size() + 8));
    return true;
  }));
  for (const std::string& id : ids) {
    const std::string key = store::KindKey(kMessage, tenant, id);
    ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
    ASSIGN_OR_RETURN(std::optional<av1::Message> message,
                     projection::ParseRecord<av1::Message>(raw, "message"));
    if (!message) continue;
    message->clear_to();
    message->clear_subject();
    message->clear_body();
    batch.Put(Cf::kState, key, projection::SerializeDeterministic(*message));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<av1::Message>> MessageProjection::GetMessage(
    std::string_view tenant, std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, store::KindKey(kMessage, tenant, id)));
  return projection::ParseRecord<av1::Message>(raw, "message");
}

absl::StatusOr<MessageProjection::MessagePage> MessageProjection::ListMessages(
    std::string_view tenant, const MessageFilter& filter, std::string_view after, size_t limit,
    size_t max_scanned) const {
  ASSIGN_OR_RETURN(
      store::FilteredPage<av1::Message> found,
      store::ScanFiltered<av1::Message>(
          store_->Latest(), store::KindPrefix(kMessage, tenant), after, limit, max_scanned,
          [&](const av1::Message& m) {
            return (filter.contact_id.empty() || m.contact_id() == filter.contact_id) &&
                   (filter.rule_id.empty() || m.rule_id() == filter.rule_id) &&
                   (filter.campaign_id.empty() || m.campaign_id() == filter.campaign_id);
          }));
  MessagePage page;
  page.messages = std::move(found.records);
  page.scanned_to = std::move(found.scanned_to);
  page.at_end = found.at_end;
  return page;
}

absl::StatusOr<int64_t> MessageProjection::CountSince(std::string_view tenant,
                                                      std::string_view contact_id,
                                                      absl::Time since) const {
  const std::string prefix = store::KindPrefix(kByContact, tenant, contact_id);
  std::string start = prefix;
  store::PutBigEndian(start, static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixNanos(since))));
  int64_t count = 0;
  RETURN_IF_ERROR(store_->Scan(Cf::kIndex, prefix, start, [&](std::string_view, std::string_view) {
    ++count;
    return true;
  }));
  return count;
}

absl::StatusOr<av1::MessagingPolicy> MessageProjection::GetPolicy(std::string_view tenant) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, store::KindKey(kPolicy, tenant, kPolicyId)));
  ASSIGN_OR_RETURN(std::optional<av1::MessagingPolicy> policy,
                   projection::ParseRecord<av1::MessagingPolicy>(raw, "messaging policy"));
  return policy ? *policy : av1::MessagingPolicy();
}

}  // namespace crm::analytics::automation
