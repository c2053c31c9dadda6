#include "services/contact/domain/apply.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"

namespace crm::contact {

using crm::common::v1::EventEnvelope;
using google::protobuf::Timestamp;
using google::protobuf::util::FieldMaskUtil;

namespace {

bool Before(const Timestamp& a, const Timestamp& b) {
  return a.seconds() < b.seconds() || (a.seconds() == b.seconds() && a.nanos() < b.nanos());
}

// A masked field takes the new value as a whole: lists and maps are replaced, not appended.
template <typename T>
void MergeMasked(const T& values, const google::protobuf::FieldMask& mask, T& into) {
  FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(values, mask, options, &into);
}

// The version check and bookkeeping every aggregate shares. `kind` names it in messages.
template <typename T>
absl::Status CheckApplies(const std::optional<T>& current, const EventEnvelope& event, bool creates,
                          const char* kind) {
  const int64_t at = current ? current->version() : 0;
  if (at != event.expected_version()) {
    return absl::AbortedError(absl::StrCat(
        kind, " ", event.aggregate_id(), " is at version ", at, ", the change expected version ",
        event.expected_version(), "; another change won the race"));
  }
  if (creates) return absl::OkStatus();
  if (!current) {
    return absl::NotFoundError(absl::StrCat(kind, " ", event.aggregate_id(), " does not exist"));
  }
  if (current->archived()) {
    return absl::FailedPreconditionError(
        absl::StrCat(kind, " ", event.aggregate_id(), " is archived"));
  }
  return absl::OkStatus();
}

template <typename T>
void Stamp(const std::optional<T>& current, const EventEnvelope& event, T& next) {
  Timestamp effective = event.occurred_at();
  if (current && Before(effective, current->update_time())) effective = current->update_time();
  next.set_id(event.aggregate_id());
  next.set_version(event.aggregate_version());
  *next.mutable_update_time() = effective;
  if (!current) *next.mutable_create_time() = effective;
}

template <typename Payload>
absl::StatusOr<Payload> Unpack(const EventEnvelope& event) {
  Payload payload;
  if (!event.payload().UnpackTo(&payload)) {
    return absl::InvalidArgumentError(absl::StrCat(event.event_type(), " payload does not decode"));
  }
  return payload;
}

}  // namespace

bool IsCompanyEvent(std::string_view t) {
  return t == kCompanyCreatedType || t == kCompanyUpdatedType || t == kCompanyArchivedType ||
         t == kRelationshipAddedType || t == kRelationshipRemovedType;
}

Contact ApplyUpdate(const Contact& current, const ContactUpdated& update) {
  Contact next = current;
  MergeMasked(update.contact(), update.update_mask(), next);
  return next;
}

absl::StatusOr<Contact> Apply(const std::optional<Contact>& current, const EventEnvelope& event) {
  const std::string& type = event.event_type();
  const bool creates = type == kContactCreatedType;
  if (absl::Status s = CheckApplies(current, event, creates, "contact"); !s.ok()) return s;
  Contact next;
  if (creates) {
    absl::StatusOr<ContactCreated> created = Unpack<ContactCreated>(event);
    if (!created.ok()) return created.status();
    next = std::move(*created->mutable_contact());
  } else if (type == kContactUpdatedType) {
    absl::StatusOr<ContactUpdated> updated = Unpack<ContactUpdated>(event);
    if (!updated.ok()) return updated.status();
    next = ApplyUpdate(*current, *updated);
  } else if (type == kContactArchivedType) {
    next = *current;
    next.set_archived(true);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("not a contact event: ", type));
  }
  Stamp(current, event, next);
  if (next.archived() && !next.has_archive_time())
    *next.mutable_archive_time() = next.update_time();
  return next;
}

absl::StatusOr<Company> ApplyCompany(const std::optional<Company>& current,
                                     const EventEnvelope& event) {
  const std::string& type = event.event_type();
  const bool creates = type == kCompanyCreatedType;
  if (absl::Status s = CheckApplies(current, event, creates, "company"); !s.ok()) return s;
  Company next;
  if (creates) {
    absl::StatusOr<CompanyCreated> created = Unpack<CompanyCreated>(event);
    if (!created.ok()) return created.status();
    next = std::move(*created->mutable_company());
  } else if (type == kCompanyUpdatedType) {
    absl::StatusOr<CompanyUpdated> updated = Unpack<CompanyUpdated>(event);
    if (!updated.ok()) return updated.status();
    next = *current;
    MergeMasked(updated->company(), updated->update_mask(), next);
  } else if (type == kCompanyArchivedType) {
    next = *current;
    next.set_archived(true);
  } else if (type == kRelationshipAddedType) {
    absl::StatusOr<CompanyRelationshipAdded> added = Unpack<CompanyRelationshipAdded>(event);
    if (!added.ok()) return added.status();
    next = *current;
    Relationship* r = next.add_relationships();
    *r = added->relationship();
    r->set_company_id(event.aggregate_id());
  } else if (type == kRelationshipRemovedType) {
    absl::StatusOr<CompanyRelationshipRemoved> removed = Unpack<CompanyRelationshipRemoved>(event);
    if (!removed.ok()) return removed.status();
    next = *current;
    auto* list = next.mutable_relationships();
    for (int i = 0; i < list->size(); ++i) {
      if (list->Get(i).related_company_id() == removed->relationship().related_company_id() &&
          list->Get(i).type() == removed->relationship().type()) {
        list->DeleteSubrange(i, 1);
        break;
      }
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("not a company event: ", type));
  }
  Stamp(current, event, next);
  if (type == kRelationshipAddedType) {
    *next.mutable_relationships()->rbegin()->mutable_create_time() = next.update_time();
  }
  if (next.archived() && !next.has_archive_time())
    *next.mutable_archive_time() = next.update_time();
  return next;
}

}  // namespace crm::contact
