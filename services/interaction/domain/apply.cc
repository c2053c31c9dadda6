#include "services/interaction/domain/apply.h"

#include "absl/strings/str_cat.h"
#include "crm/contact/v1/events.pb.h"
#include "google/protobuf/util/field_mask_util.h"

namespace crm::interaction {

using crm::common::v1::EventEnvelope;

namespace {

bool Before(const google::protobuf::Timestamp& a, const google::protobuf::Timestamp& b) {
  return a.seconds() < b.seconds() || (a.seconds() == b.seconds() && a.nanos() < b.nanos());
}

std::string DisplayName(const crm::contact::v1::Contact& c) {
  const auto& p = c.personal();
  if (p.given_name().empty()) return p.family_name();
  if (p.family_name().empty()) return p.given_name();
  return absl::StrCat(p.given_name(), " ", p.family_name());
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

std::optional<DirectoryEntry> ApplyDirectory(const std::optional<DirectoryEntry>& current,
                                             const EventEnvelope& event) {
  const std::string& type = event.event_type();
  DirectoryEntry next = current.value_or(DirectoryEntry());
  next.set_contact_id(event.aggregate_id());
  if (type == "crm.contact.v1.ContactCreated") {
    crm::contact::v1::ContactCreated created;
    if (!event.payload().UnpackTo(&created)) return std::nullopt;
    next.set_given_name(created.contact().personal().given_name());
    next.set_family_name(created.contact().personal().family_name());
    next.set_display_name(DisplayName(created.contact()));
  } else if (type == "crm.contact.v1.ContactUpdated") {
    crm::contact::v1::ContactUpdated updated;
    if (!current || !event.payload().UnpackTo(&updated)) return std::nullopt;
    // Only a name change matters here.
    bool touched = false;
    for (const std::string& path : updated.update_mask().paths()) {
      if (path == "personal.given_name" || path == "personal") {
        next.set_given_name(updated.contact().personal().given_name());
        touched = true;
      }
      if (path == "personal.family_name" || path == "personal") {
        next.set_family_name(updated.contact().personal().family_name());
        touched = true;
      }
    }
    if (!touched) return std::nullopt;
    crm::contact::v1::Contact names;
    names.mutable_personal()->set_given_name(next.given_name());
    names.mutable_personal()->set_family_name(next.family_name());
    next.set_display_name(DisplayName(names));
  } else if (type == "crm.contact.v1.ContactArchived") {
    if (!current) return std::nullopt;
    next.set_archived(true);
  } else if (type == "crm.contact.v1.ContactMergedInto") {
    crm::contact::v1::ContactMergedInto into;
    if (!current || !event.payload().UnpackTo(&into)) return std::nullopt;
    next.set_merged_into(into.survivor_id());
  } else if (type == "crm.contact.v1.ContactUnmerged") {
    if (!current) return std::nullopt;
    next.clear_merged_into();
  } else {
    return std::nullopt;
  }
  return next;
}

}  // namespace crm::interaction
