// Decide: from a contact's current state and a validated command, the event to append, or the
// reason the command is refused. Pure functions: no I/O, the time is passed in.
//
// Refusals: NOT_FOUND (no such contact), FAILED_PRECONDITION (archived), ABORTED (the caller's
// expected version is stale), INVALID_ARGUMENT (the result would be an invalid contact).
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/field_mask.pb.h"
#include "services/contact/domain/contact.h"

namespace crm::contact {

// Decides CreateContact for an already validated and normalised `requested` contact.
absl::StatusOr<ContactCreated> DecideCreate(const Contact& requested, const std::string& new_id,
                                            absl::Time now);

// Decides UpdateContact: `values` holds the new values of the fields in the (validated) `mask`.
// `expected_version` 0 means "the current version".
absl::StatusOr<ContactUpdated> DecideUpdate(const std::optional<Contact>& current,
                                            const Contact& values,
                                            const google::protobuf::FieldMask& mask,
                                            int64_t expected_version, absl::Time now);

// Decides DeleteContact (archive).
absl::StatusOr<ContactArchived> DecideArchive(const std::optional<Contact>& current,
                                              const std::string& id, int64_t expected_version);

// Returns OK if `contact` can be told apart from nobody: it has a name, an email or a phone.
absl::Status CheckIdentifiable(const Contact& contact, const std::string& field);

}  // namespace crm::contact
