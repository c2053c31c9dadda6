#include "services/contact/domain/apply.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"

namespace crm::contact {

using crm::common::v1::EventEnvelope;
using google::protobuf::util::FieldMaskUtil;

Contact ApplyUpdate(const Contact& current, const ContactUpdated& update) {
  Contact next = current;
  FieldMaskUtil::MergeOptions options;
  // A masked field takes the new value as a whole: lists and maps are replaced, not appended.
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(update.contact(), update.update_mask(), options, &next);
  return next;
}

absl::StatusOr<Contact> Apply(const std::optional<Contact>& current, const EventEnvelope& event) {
  const int64_t at = current ? current->version() : 0;
  if (at != event.expected_version()) {
    return absl::AbortedError(absl::StrCat(
        "contact ", event.aggregate_id(), " is at version ", at, ", the change expected version ",
        event.expected_version(), "; another change won the race"));
  }
  const std::string& type = event.event_type();
  Contact next;
  if (type == kContactCreatedType) {
    ContactCreated created;
    if (!event.payload().UnpackTo(&created)) {
      return absl::InvalidArgumentError("ContactCreated payload does not decode");
    }
    next = std::move(*created.mutable_contact());
    next.set_id(event.aggregate_id());
    *next.mutable_create_time() = event.occurred_at();
  } else {
    if (!current) {
      return absl::NotFoundError(absl::StrCat("contact ", event.aggregate_id(), " does not exist"));
    }
    if (current->archived()) {
      return absl::FailedPreconditionError(
          absl::StrCat("contact ", event.aggregate_id(), " is archived"));
    }
    if (type == kContactUpdatedType) {
      ContactUpdated updated;
      if (!event.payload().UnpackTo(&updated)) {
        return absl::InvalidArgumentError("ContactUpdated payload does not decode");
      }
      next = ApplyUpdate(*current, updated);
    } else if (type == kContactArchivedType) {
      next = *current;
      next.set_archived(true);
      *next.mutable_archive_time() = event.occurred_at();
    } else {
      return absl::InvalidArgumentError(absl::StrCat("not a contact event: ", type));
    }
  }
  next.set_version(event.aggregate_version());
  *next.mutable_update_time() = event.occurred_at();
  return next;
}

}  // namespace crm::contact
