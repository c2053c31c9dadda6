// Apply for interactions, and the contact directory kept from the contact service's events.
// Deterministic: only the current state and the event.
#pragma once

#include <optional>

#include "absl/status/statusor.h"
#include "crm/common/v1/envelope.pb.h"
#include "services/interaction/domain/interaction.h"

namespace crm::interaction {

// The interaction after `event`, or why it does not take effect (ABORTED on a version race,
// NOT_FOUND, FAILED_PRECONDITION when deleted).
absl::StatusOr<Interaction> Apply(const std::optional<Interaction>& current,
                                  const crm::common::v1::EventEnvelope& event);

// The directory entry after a contact-service event (nullopt: the event does not concern the
// directory). Never refuses: the contact service already decided.
std::optional<DirectoryEntry> ApplyDirectory(const std::optional<DirectoryEntry>& current,
                                             const crm::common::v1::EventEnvelope& event);

}  // namespace crm::interaction
