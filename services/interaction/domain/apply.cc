#include "services/interaction/domain/apply.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"

namespace crm::interaction {

using crm::common::v1::EventEnvelope;

namespace {

bool Before(const google::protobuf::Timestamp& a, const google::protobuf::Timestamp& b) {
  return a.seconds() < b.seconds() || (a.seconds() == b.seconds() && a.nanos() < b.nanos());
}

}  // namespace

absl::StatusOr<Interaction> Apply(const std::optional<Interaction>& current,
                                  const EventEnvelope& event) {
  const int64_t at = current ? current->version() : 0;
  if (at != event.expected_version()) {
    return absl::AbortedError(absl::StrCat("interaction ", event.aggregate_id(), " is at version ",
                                           at, ", the change expected ", event.expected_version()));
  }
  const std::string& type = event.event_type();
  Interaction next;
  if (type == kInteractionLoggedType) {
    InteractionLogged logged;
    if (!event.payload().UnpackTo(&logged)) {
      return absl::InvalidArgumentError("InteractionLogged payload does not decode");
    }
    next = std::move(*logged.mutable_interaction());
  } else {
    if (!current) {
      return absl::NotFoundError(
          absl::StrCat("interaction ", event.aggregate_id(), " does not exist"));
    }
    if (current->deleted()) {
      return absl::FailedPreconditionError(
          absl::StrCat("interaction ", event.aggregate_id(), " is deleted"));
    }
    next = *current;
    if (type == kInteractionUpdatedType) {
      InteractionUpdated updated;
      if (!event.payload().UnpackTo(&updated)) {
        return absl::InvalidArgumentError("InteractionUpdated payload does not decode");
      }
      google::protobuf::util::FieldMaskUtil::MergeOptions options;
      options.set_replace_message_fields(true);
      options.set_replace_repeated_fields(true);
      google::protobuf::util::FieldMaskUtil::MergeMessageTo(updated.interaction(),
                                                            updated.update_mask(), options, &next);
    } else if (type == kInteractionDeletedType) {
      next.set_deleted(true);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("not an interaction event: ", type));
    }
  }
  google::protobuf::Timestamp effective = event.occurred_at();
  if (current && Before(effective, current->update_time())) effective = current->update_time();
  next.set_id(event.aggregate_id());
  next.set_version(event.aggregate_version());
  *next.mutable_update_time() = effective;
  *next.mutable_create_time() = current ? current->create_time() : effective;
  return next;
}

}  // namespace crm::interaction
