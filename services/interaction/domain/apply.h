// Apply for interactions.
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

}  // namespace crm::interaction
