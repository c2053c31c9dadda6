// Messages: what automation sends customers (SendMessageAction) and how a tenant paces it.
//
// A message is queued as an OutboundMessage event on crm.outbound.v1 — the topic a delivery
// adapter reads — and reported on by the adapter (MessageStatusReported on crm.analytics.v1).
// MessageProjection keeps every message, an index of each customer's messages by time (the
// frequency cap counts it) and each tenant's MessagingPolicy; the pure helpers below decide quiet
// hours and fill a message's text.
//
// Keys (tenant-prefixed, beside the analytics projection's own):
//   kState "M/" tenant \0 message_id                       -> Message
//   kIndex "Q/" tenant \0 contact_id \0 queued(BE64 ns) id -> "" (the customer's messages)
//   kState "Y/" tenant \0 "policy"                         -> MessagingPolicy
//
// Apply runs on the projector thread; the reads are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/store/projection_store.h"
#include "crm/analytics/v1/events.pb.h"
#include "crm/analytics/v1/resources.pb.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/contact/v1/resources.pb.h"

namespace crm::analytics::automation {

inline constexpr char kOutboundTopic[] = "crm.outbound.v1";
inline constexpr char kMessageAggregateType[] = "message";
inline constexpr char kPolicyAggregateType[] = "messaging-policy";
inline constexpr char kPolicyId[] = "policy";

// True for the event types MessageProjection applies.
bool IsMessageEvent(std::string_view event_type);

// "HH:MM" as minutes after midnight; INVALID_ARGUMENT otherwise.
absl::StatusOr<int> ParseClock(std::string_view hh_mm);

// When the quiet hours that hold `now` end, or nullopt when `now` is outside them (or the
// policy has none). The policy must be valid (time zone known, clocks well formed).
std::optional<absl::Time> QuietUntil(const crm::analytics::v1::MessagingPolicy& policy,
                                     absl::Time now);

// The address a message on `channel` goes to (the primary email, lower case; the primary
// phone, E.164), or why there is none — FAILED_PRECONDITION naming what is missing. Consent is
// checked separately (ConsentGranted).
absl::StatusOr<std::string> MessageAddress(const crm::contact::v1::Contact& contact,
                                           crm::contact::v1::ConsentChannel channel);

// `text` with "{given_name}" and "{family_name}" replaced from `contact`.
std::string FillPersonal(const std::string& text, const crm::contact::v1::Contact& contact);

class MessageProjection {
 public:
  explicit MessageProjection(store::ProjectionStore* store) : store_(store) {}

  // Applies one message event: OutboundMessage (refused ABORTED when the message exists),
  // MessageStatusReported (ABORTED on another version, NOT_FOUND for an unknown message),
  // MessagingPolicySet (ABORTED on another version).
  absl::StatusOr<absl::Status> Apply(const crm::common::v1::EventEnvelope& event,
                                     store::ProjectionStore::Batch& batch);
  // A contact was erased: its messages keep their ids, states and times, not their address or
  // text.
  absl::Status Erase(std::string_view tenant, std::string_view contact_id,
                     store::ProjectionStore::Batch& batch);

  absl::StatusOr<std::optional<crm::analytics::v1::Message>> GetMessage(std::string_view tenant,
                                                                        std::string_view id) const;
  // Messages after id `after` that match `filter` (each field set), at most `limit`,
  // in id order, reading at most `max_scanned`: `scanned_to` is the last id read.
  struct MessagePage {
    std::vector<crm::analytics::v1::Message> messages;
    std::string scanned_to;
    bool at_end = false;
  };
  struct MessageFilter {
    std::string contact_id;
    std::string rule_id;
    std::string campaign_id;
  };
  absl::StatusOr<MessagePage> ListMessages(std::string_view tenant, const MessageFilter& filter,
                                           std::string_view after, size_t limit,
                                           size_t max_scanned) const;
  // Messages queued to the customer at or after `since`.
  absl::StatusOr<int64_t> CountSince(std::string_view tenant, std::string_view contact_id,
                                     absl::Time since) const;
  // The tenant's policy (the default, version 0, when never set).
  absl::StatusOr<crm::analytics::v1::MessagingPolicy> GetPolicy(std::string_view tenant) const;

 private:
  store::ProjectionStore* const store_;
};

}  // namespace crm::analytics::automation
