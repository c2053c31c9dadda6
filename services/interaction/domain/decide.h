// Decide for interactions. Pure: the directory lookup is passed in.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/field_mask.pb.h"
#include "services/interaction/domain/interaction.h"

namespace crm::interaction {

// Checks that a contact may be linked: OK, NOT_FOUND, or FAILED_PRECONDITION (archived or
// merged), with a message naming `field`.
using ContactCheck = std::function<absl::Status(const std::string& field, const std::string& id)>;

absl::StatusOr<InteractionLogged> DecideLog(const Interaction& requested, const std::string& id,
                                            const ContactCheck& check);
absl::StatusOr<InteractionUpdated> DecideUpdate(const std::optional<Interaction>& current,
                                                const Interaction& values,
                                                const google::protobuf::FieldMask& mask,
                                                int64_t expected_version,
                                                const ContactCheck& check);
absl::StatusOr<InteractionDeleted> DecideDelete(const std::optional<Interaction>& current,
                                                const std::string& id, int64_t expected_version);

}  // namespace crm::interaction
