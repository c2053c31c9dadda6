// Apply: an aggregate after an event. Deterministic: it reads only the current state and the
// event, so every replica and every rebuild reaches the same state.
//
// Times: a change takes effect at the envelope's occurred_at, or at the previous change's time
// if that is later (clocks of two writers may disagree), so update_time never goes backwards and
// "as of" reads have one timeline per record.
#pragma once

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/common/v1/envelope.pb.h"
#include "services/contact/domain/contact.h"

namespace crm::contact {

// Returns the contact after `event`, or why it does not take effect: ABORTED when the contact is
// no longer at the event's expected version (another writer won the race), NOT_FOUND when it
// does not exist, FAILED_PRECONDITION when archived, INVALID_ARGUMENT for an event type that is
// not a contact event or a payload that does not decode.
absl::StatusOr<Contact> Apply(const std::optional<Contact>& current,
                              const crm::common::v1::EventEnvelope& event);

// The survivor after a ContactsUnmerged `event`: its own events since it last held no merged
// contact (`history`, oldest first, all before `event`) folded again over `base` — the survivor
// as it was just before the first of them — without the merges that were reversed (this one and
// earlier ones in `history`), then without what those merges contributed to the unioned lists:
// what it would be had those merges never happened, with every other change kept.
absl::StatusOr<Contact> ApplyUnmerge(const std::optional<Contact>& current,
                                     const crm::common::v1::EventEnvelope& event,
                                     const std::optional<Contact>& base,
                                     const std::vector<crm::common::v1::EventEnvelope>& history);

// `survivor` with `merged` absorbed: unions of emails, phones, addresses, tags, affiliations
// and attributes; the merged values of the fields in `mask`; blanks filled from `merged`.
Contact MergeInto(const Contact& survivor, const Contact& merged,
                  const google::protobuf::FieldMask& mask);

// The same for a company.
absl::StatusOr<Company> ApplyCompany(const std::optional<Company>& current,
                                     const crm::common::v1::EventEnvelope& event);

// What is left of `current` once erased at `when`: its id, version, creation and archive times,
// marked erased and archived — nothing that says who the person was.
Contact ErasedContact(const Contact& current, const google::protobuf::Timestamp& when);

// The fields of `update` (by its mask) applied onto `current`; no version or time changes.
Contact ApplyUpdate(const Contact& current, const ContactUpdated& update);

// The event type names of the two aggregates.
inline constexpr char kContactCreatedType[] = "crm.contact.v1.ContactCreated";
inline constexpr char kContactUpdatedType[] = "crm.contact.v1.ContactUpdated";
inline constexpr char kContactArchivedType[] = "crm.contact.v1.ContactArchived";
inline constexpr char kContactMergedIntoType[] = "crm.contact.v1.ContactMergedInto";
inline constexpr char kContactsMergedType[] = "crm.contact.v1.ContactsMerged";
inline constexpr char kContactsUnmergedType[] = "crm.contact.v1.ContactsUnmerged";
inline constexpr char kContactUnmergedType[] = "crm.contact.v1.ContactUnmerged";
inline constexpr char kContactErasedType[] = "crm.contact.v1.ContactErased";
inline constexpr char kCompanyCreatedType[] = "crm.contact.v1.CompanyCreated";
inline constexpr char kCompanyUpdatedType[] = "crm.contact.v1.CompanyUpdated";
inline constexpr char kCompanyArchivedType[] = "crm.contact.v1.CompanyArchived";
inline constexpr char kRelationshipAddedType[] = "crm.contact.v1.CompanyRelationshipAdded";
inline constexpr char kRelationshipRemovedType[] = "crm.contact.v1.CompanyRelationshipRemoved";

// The tenant's data-quality rules (aggregate type "settings", id "data-quality").
inline constexpr char kDataQualityRulesSetType[] = "crm.contact.v1.DataQualityRulesSet";

// Whether `event_type` belongs to the company aggregate.
bool IsCompanyEvent(std::string_view event_type);

}  // namespace crm::contact
