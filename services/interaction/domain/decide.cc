#include "services/interaction/domain/decide.h"

#include "absl/strings/str_cat.h"

namespace crm::interaction {
namespace {

absl::Status CheckWritable(const std::optional<Interaction>& current, const std::string& id,
                           int64_t expected_version) {
  if (!current) return absl::NotFoundError(absl::StrCat("interaction ", id, " does not exist"));
  if (current->deleted()) {
    return absl::FailedPreconditionError(absl::StrCat("interaction ", id, " is deleted"));
  }
  if (expected_version != 0 && expected_version != current->version()) {
    return absl::AbortedError(absl::StrCat("interaction ", id, " is at version ",
                                           current->version(), ", not expected_version ",
                                           expected_version, "; read it again and retry"));
  }
  return absl::OkStatus();
}

absl::Status CheckContacts(const Interaction& i, const ContactCheck& check) {
  for (int k = 0; k < i.contact_ids_size(); ++k) {
    if (absl::Status s = check(absl::StrCat("interaction.contact_ids[", k, "]"), i.contact_ids(k));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<InteractionLogged> DecideLog(const Interaction& requested, const std::string& id,
                                            const ContactCheck& check) {
  if (absl::Status s = CheckContacts(requested, check); !s.ok()) return s;
  InteractionLogged event;
  *event.mutable_interaction() = requested;
  event.mutable_interaction()->set_id(id);
  event.mutable_interaction()->clear_version();
  event.mutable_interaction()->clear_deleted();
  event.mutable_interaction()->clear_create_time();
  event.mutable_interaction()->clear_update_time();
  return event;
}

absl::StatusOr<InteractionUpdated> DecideUpdate(const std::optional<Interaction>& current,
                                                const Interaction& values,
                                                const google::protobuf::FieldMask& mask,
                                                int64_t expected_version,
                                                const ContactCheck& check) {
  if (absl::Status s = CheckWritable(current, values.id(), expected_version); !s.ok()) return s;
  for (const std::string& path : mask.paths()) {
    if (path == "contact_ids") {
      if (absl::Status s = CheckContacts(values, check); !s.ok()) return s;
    }
  }
  InteractionUpdated event;
  event.set_interaction_id(values.id());
  *event.mutable_interaction() = values;
  *event.mutable_update_mask() = mask;
  return event;
}

absl::StatusOr<InteractionDeleted> DecideDelete(const std::optional<Interaction>& current,
                                                const std::string& id, int64_t expected_version) {
  if (absl::Status s = CheckWritable(current, id, expected_version); !s.ok()) return s;
  InteractionDeleted event;
  event.set_interaction_id(id);
  return event;
}

}  // namespace crm::interaction
