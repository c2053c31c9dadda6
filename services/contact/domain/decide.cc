#include "services/contact/domain/decide.h"

#include "absl/strings/str_cat.h"
#include "services/contact/domain/apply.h"

namespace crm::contact {
namespace {

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(t);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

// Consents without a time were recorded now.
void StampConsents(Contact& c, absl::Time now) {
  for (auto& consent : *c.mutable_consents()) {
    if (!consent.has_recorded_at()) SetTimestamp(now, consent.mutable_recorded_at());
  }
}

absl::Status CheckVersion(const Contact& current, int64_t expected_version) {
  if (expected_version != 0 && expected_version != current.version()) {
    return absl::AbortedError(absl::StrCat("contact ", current.id(), " is at version ",
                                           current.version(), ", not expected_version ",
                                           expected_version, "; read it again and retry"));
  }
  return absl::OkStatus();
}

absl::Status CheckExists(const std::optional<Contact>& current, const std::string& id) {
  if (!current) return absl::NotFoundError(absl::StrCat("contact ", id, " does not exist"));
  if (current->archived()) {
    return absl::FailedPreconditionError(absl::StrCat("contact ", id, " is archived"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckIdentifiable(const Contact& c, const std::string& field) {
  const auto& p = c.personal();
  if (p.given_name().empty() && p.family_name().empty() && p.emails().empty() &&
      p.phones().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": a contact needs a given_name, family_name, email or phone"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ContactCreated> DecideCreate(const Contact& requested, const std::string& new_id,
                                            absl::Time now) {
  if (absl::Status s = CheckIdentifiable(requested, "contact.personal"); !s.ok()) return s;
  ContactCreated event;
  Contact* c = event.mutable_contact();
  *c = requested;
  c->set_id(new_id);
  // Output-only fields are derived at apply.
  c->clear_archived();
  c->clear_version();
  c->clear_create_time();
  c->clear_update_time();
  c->clear_archive_time();
  StampConsents(*c, now);
  return event;
}

absl::StatusOr<ContactUpdated> DecideUpdate(const std::optional<Contact>& current,
                                            const Contact& values,
                                            const google::protobuf::FieldMask& mask,
                                            int64_t expected_version, absl::Time now) {
  if (absl::Status s = CheckExists(current, values.id()); !s.ok()) return s;
  if (absl::Status s = CheckVersion(*current, expected_version); !s.ok()) return s;
  ContactUpdated event;
  event.set_contact_id(current->id());
  *event.mutable_update_mask() = mask;
  *event.mutable_contact() = values;
  event.mutable_contact()->set_id(current->id());
  StampConsents(*event.mutable_contact(), now);
  // The contact as it would be after the update must still be identifiable.
  const Contact after = ApplyUpdate(*current, event);
  if (absl::Status s = CheckIdentifiable(after, "update_mask"); !s.ok()) return s;
  return event;
}

absl::StatusOr<ContactArchived> DecideArchive(const std::optional<Contact>& current,
                                              const std::string& id, int64_t expected_version) {
  if (absl::Status s = CheckExists(current, id); !s.ok()) return s;
  if (absl::Status s = CheckVersion(*current, expected_version); !s.ok()) return s;
  ContactArchived event;
  event.set_contact_id(id);
  return event;
}

}  // namespace crm::contact
