// Apply: the contact after an event. Deterministic: it reads only the current state and the
// event (its time is the envelope's occurred_at), so every replica and every rebuild reaches the
// same state.
#pragma once

#include <optional>

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

// The fields of `update` (by its mask) applied onto `current`; no version or time changes.
Contact ApplyUpdate(const Contact& current, const ContactUpdated& update);

// The event type names this aggregate produces.
inline constexpr char kContactCreatedType[] = "crm.contact.v1.ContactCreated";
inline constexpr char kContactUpdatedType[] = "crm.contact.v1.ContactUpdated";
inline constexpr char kContactArchivedType[] = "crm.contact.v1.ContactArchived";

}  // namespace crm::contact
