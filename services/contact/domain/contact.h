// The contact aggregate: names shared by its domain, projection and API.
//
// Two aggregates live here, both on the topic "crm.contact.v1": the contact (state
// crm.contact.v1.Contact; events ContactCreated, ContactUpdated, ContactArchived) and the company
// (state crm.contact.v1.Company; events CompanyCreated, CompanyUpdated, CompanyArchived,
// CompanyRelationshipAdded, CompanyRelationshipRemoved).
#pragma once

#include "crm/contact/v1/events.pb.h"
#include "crm/contact/v1/resources.pb.h"

namespace crm::contact {

using crm::contact::v1::Company;
using crm::contact::v1::CompanyArchived;
using crm::contact::v1::CompanyCreated;
using crm::contact::v1::CompanyRelationshipAdded;
using crm::contact::v1::CompanyRelationshipRemoved;
using crm::contact::v1::CompanyUpdated;
using crm::contact::v1::Contact;
using crm::contact::v1::ContactArchived;
using crm::contact::v1::ContactCreated;
using crm::contact::v1::ContactErased;
using crm::contact::v1::ContactMergedInto;
using crm::contact::v1::ContactsMerged;
using crm::contact::v1::ContactsUnmerged;
using crm::contact::v1::ContactUnmerged;
using crm::contact::v1::ContactUpdated;
using crm::contact::v1::Relationship;

// The log topic of contact events.
inline constexpr char kTopic[] = "crm.contact.v1";
// Aggregate types in the envelope.
inline constexpr char kAggregateType[] = "contact";
inline constexpr char kCompanyAggregateType[] = "company";

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
inline constexpr size_t kMaxAffiliations = 20;
inline constexpr size_t kMaxRoleChars = 100;
inline constexpr size_t kMaxIndustryChars = 100;
inline constexpr size_t kMaxRelationships = 200;

}  // namespace crm::contact
