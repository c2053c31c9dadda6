// The contact aggregate: names shared by its domain, projection and API.
//
// The state is crm.contact.v1.Contact itself; its events are ContactCreated, ContactUpdated
// and ContactArchived, carried on the topic "crm.contact.v1".
#pragma once

#include "crm/contact/v1/events.pb.h"
#include "crm/contact/v1/resources.pb.h"

namespace crm::contact {

using crm::contact::v1::Contact;
using crm::contact::v1::ContactArchived;
using crm::contact::v1::ContactCreated;
using crm::contact::v1::ContactUpdated;

// The log topic of contact events.
inline constexpr char kTopic[] = "crm.contact.v1";
// Aggregate type in the envelope.
inline constexpr char kAggregateType[] = "contact";

// Sizes the API accepts (also documented in resources.proto).
inline constexpr size_t kMaxNameChars = 200;
inline constexpr size_t kMaxEmails = 20;
inline constexpr size_t kMaxPhones = 20;
inline constexpr size_t kMaxAddresses = 10;
inline constexpr size_t kMaxAddressLines = 4;
inline constexpr size_t kMaxTags = 50;
inline constexpr size_t kMaxTagChars = 64;
inline constexpr size_t kMaxAttributes = 100;
inline constexpr size_t kMaxAttributeKeyChars = 64;
inline constexpr size_t kMaxAttributeValueChars = 1024;
inline constexpr size_t kMaxLabelChars = 64;
inline constexpr size_t kMaxOwnerChars = 128;

}  // namespace crm::contact
