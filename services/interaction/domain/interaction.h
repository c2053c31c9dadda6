// The interaction aggregate and the contact directory: names shared by the interaction
// service's domain, projection and API.
#pragma once

#include "common/directory/contact_directory.h"
#include "crm/interaction/v1/events.pb.h"
#include "crm/interaction/v1/resources.pb.h"

namespace crm::interaction {

using crm::interaction::v1::Interaction;
using crm::interaction::v1::InteractionDeleted;
using crm::interaction::v1::InteractionLogged;
using crm::interaction::v1::InteractionUpdated;
using crm::interaction::v1::TimelineItem;

// This service's topic, and the contact service's, which it reads for its directory.
inline constexpr char kTopic[] = "crm.interaction.v1";
using directory::kContactTopic;
inline constexpr char kAggregateType[] = "interaction";

inline constexpr char kInteractionLoggedType[] = "crm.interaction.v1.InteractionLogged";
inline constexpr char kInteractionUpdatedType[] = "crm.interaction.v1.InteractionUpdated";
inline constexpr char kInteractionDeletedType[] = "crm.interaction.v1.InteractionDeleted";

inline constexpr size_t kMaxSubjectChars = 200;
inline constexpr size_t kMaxBodyBytes = 65536;
inline constexpr size_t kMaxContacts = 50;
inline constexpr int32_t kMaxDurationSeconds = 7 * 24 * 3600;

}  // namespace crm::interaction
