#include "services/contact/domain/decide.h"

#include <algorithm>

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

template <typename T>
absl::Status CheckVersion(const T& current, int64_t expected_version, const char* kind) {
  if (expected_version != 0 && expected_version != current.version()) {
    return absl::AbortedError(absl::StrCat(kind, " ", current.id(), " is at version ",
                                           current.version(), ", not expected_version ",
                                           expected_version, "; read it again and retry"));
  }
  return absl::OkStatus();
}

absl::Status CheckNotMerged(const Company&) { return absl::OkStatus(); }
absl::Status CheckNotMerged(const Contact& c) {
  if (!c.merged_into().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("contact ", c.id(), " was merged into ", c.merged_into()));
  }
  return absl::OkStatus();
}

bool Erased(const Company&) { return false; }
bool Erased(const Contact& c) { return c.erased(); }

template <typename T>
absl::Status CheckExists(const std::optional<T>& current, const std::string& id, const char* kind) {
  if (!current) return absl::NotFoundError(absl::StrCat(kind, " ", id, " does not exist"));
  if (Erased(*current)) {
    return absl::FailedPreconditionError(absl::StrCat(kind, " ", id, " was erased"));
  }
  if (current->archived()) {
    return absl::FailedPreconditionError(absl::StrCat(kind, " ", id, " is archived"));
  }
  return CheckNotMerged(*current);
}

template <typename T>
absl::Status CheckWritable(const std::optional<T>& current, const std::string& id,
                           int64_t expected_version, const char* kind) {
  if (absl::Status s = CheckExists(current, id, kind); !s.ok()) return s;
  return CheckVersion(*current, expected_version, kind);
}

absl::Status CheckAffiliations(const Contact& c, const Facts& facts) {
  for (int i = 0; i < c.affiliations_size(); ++i) {
    const std::string& company = c.affiliations(i).company_id();
    if (!facts.company_exists || !facts.company_exists(company)) {
      return absl::NotFoundError(absl::StrCat("contact.affiliations[", i, "].company_id: company ",
                                              company, " does not exist"));
    }
  }
  return absl::OkStatus();
}

template <typename T>
void ClearOutputOnly(T& r) {
  r.clear_archived();
  r.clear_version();
  r.clear_create_time();
  r.clear_update_time();
  r.clear_archive_time();
}

bool SameRelationship(const Relationship& a, const Relationship& b) {
  return a.related_company_id() == b.related_company_id() && a.type() == b.type();
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
                                            absl::Time now, const Facts& facts) {
  if (absl::Status s = CheckIdentifiable(requested, "contact.personal"); !s.ok()) return s;
  if (absl::Status s = CheckAffiliations(requested, facts); !s.ok()) return s;
  ContactCreated event;
  Contact* c = event.mutable_contact();
  *c = requested;
  c->set_id(new_id);
  ClearOutputOnly(*c);  // Derived at apply.
  StampConsents(*c, now);
  return event;
}

absl::StatusOr<ContactUpdated> DecideUpdate(const std::optional<Contact>& current,
                                            const Contact& values,
                                            const google::protobuf::FieldMask& mask,
                                            int64_t expected_version, absl::Time now,
                                            const Facts& facts) {
  if (absl::Status s = CheckWritable(current, values.id(), expected_version, "contact"); !s.ok()) {
    return s;
  }
  ContactUpdated event;
  event.set_contact_id(current->id());
  *event.mutable_update_mask() = mask;
  *event.mutable_contact() = values;
  event.mutable_contact()->set_id(current->id());
  StampConsents(*event.mutable_contact(), now);
  // The contact as it would be after the update must still be identifiable.
  const Contact after = ApplyUpdate(*current, event);
  if (absl::Status s = CheckIdentifiable(after, "update_mask"); !s.ok()) return s;
  for (const std::string& path : mask.paths()) {
    if (path == "affiliations") {
      if (absl::Status s = CheckAffiliations(values, facts); !s.ok()) return s;
    }
  }
  return event;
}

absl::StatusOr<ContactArchived> DecideArchive(const std::optional<Contact>& current,
                                              const std::string& id, int64_t expected_version) {
  if (absl::Status s = CheckWritable(current, id, expected_version, "contact"); !s.ok()) return s;
  ContactArchived event;
  event.set_contact_id(id);
  return event;
}

absl::StatusOr<ContactErased> DecideErase(const std::optional<Contact>& current,
                                          const std::string& id, bool with_survivor) {
  if (!current) return absl::NotFoundError(absl::StrCat("id: contact ", id, " does not exist"));
  if (current->erased()) {
    return absl::FailedPreconditionError(absl::StrCat("id: contact ", id, " is already erased"));
  }
  if (!current->merged_into().empty() && !with_survivor) {
    return absl::FailedPreconditionError(
        absl::StrCat("id: contact ", id, " was merged into ", current->merged_into(),
                     "; erase that one, which erases this one with it"));
  }
  if (with_survivor && current->merged_into().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("id: contact ", id, " is no longer merged into another"));
  }
  ContactErased event;
  if (with_survivor) event.set_survivor_id(current->merged_into());
  return event;
}

absl::StatusOr<ContactMergedInto> DecideMergeInto(const std::optional<Contact>& merged,
                                                  const std::optional<Contact>& survivor,
                                                  const std::string& merged_id,
                                                  const std::string& survivor_id,
                                                  int64_t merged_expected_version,
                                                  const std::string& merge_id) {
  if (absl::Status s = CheckWritable(merged, merged_id, merged_expected_version, "contact");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckExists(survivor, survivor_id, "contact"); !s.ok()) return s;
  ContactMergedInto event;
  event.set_survivor_id(survivor_id);
  event.set_merge_id(merge_id);
  return event;
}

absl::StatusOr<ContactsMerged> DecideAbsorb(const std::optional<Contact>& survivor,
                                            const Contact& merged,
                                            const google::protobuf::FieldMask& mask,
                                            int64_t survivor_expected_version,
                                            const std::string& merge_id) {
  if (absl::Status s =
          CheckWritable(survivor, merged.merged_into(), survivor_expected_version, "contact");
      !s.ok()) {
    return s;
  }
  if (merged.merged_into() != survivor->id()) {
    return absl::FailedPreconditionError(
        absl::StrCat("contact ", merged.id(), " is not frozen for a merge into ", survivor->id()));
  }
  ContactsMerged event;
  event.set_merged_id(merged.id());
  event.set_merge_id(merge_id);
  *event.mutable_merged() = merged;
  event.mutable_merged()->clear_merged_into();
  *event.mutable_update_mask() = mask;
  return event;
}

absl::StatusOr<ContactsUnmerged> DecideUnmergeSurvivor(const std::optional<Contact>& survivor,
                                                       const std::string& merged_id,
                                                       const std::string& unmerge_id) {
  if (!survivor) return absl::NotFoundError("the survivor of this merge does not exist");
  if (absl::Status s = CheckExists(survivor, survivor->id(), "contact"); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(s.message(), "; unmerge or restore it first"));
  }
  if (std::find(survivor->merged_ids().begin(), survivor->merged_ids().end(), merged_id) ==
      survivor->merged_ids().end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("contact ", survivor->id(), " has not absorbed ", merged_id));
  }
  ContactsUnmerged event;
  event.set_merged_id(merged_id);
  event.set_merge_id(unmerge_id);
  return event;
}

absl::StatusOr<ContactUnmerged> DecideRestore(const std::optional<Contact>& merged,
                                              const std::string& merged_id,
                                              const std::string& unmerge_id) {
  if (!merged) return absl::NotFoundError(absl::StrCat("contact ", merged_id, " does not exist"));
  if (merged->merged_into().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("merged_id: contact ", merged_id, " is not merged into another"));
  }
  ContactUnmerged event;
  event.set_survivor_id(merged->merged_into());
  event.set_merge_id(unmerge_id);
  return event;
}

absl::StatusOr<CompanyCreated> DecideCreateCompany(const Company& requested,
                                                   const std::string& new_id) {
  CompanyCreated event;
  Company* c = event.mutable_company();
  *c = requested;
  c->set_id(new_id);
  c->clear_relationships();
  ClearOutputOnly(*c);
  return event;
}

absl::StatusOr<CompanyUpdated> DecideUpdateCompany(const std::optional<Company>& current,
                                                   const Company& values,
                                                   const google::protobuf::FieldMask& mask,
                                                   int64_t expected_version) {
  if (absl::Status s = CheckWritable(current, values.id(), expected_version, "company"); !s.ok()) {
    return s;
  }
  CompanyUpdated event;
  event.set_company_id(current->id());
  *event.mutable_company() = values;
  *event.mutable_update_mask() = mask;
  return event;
}

absl::StatusOr<CompanyArchived> DecideArchiveCompany(const std::optional<Company>& current,
                                                     const std::string& id,
                                                     int64_t expected_version) {
  if (absl::Status s = CheckWritable(current, id, expected_version, "company"); !s.ok()) return s;
  CompanyArchived event;
  event.set_company_id(id);
  return event;
}

absl::StatusOr<CompanyRelationshipAdded> DecideAddRelationship(
    const std::optional<Company>& current, const Relationship& relationship,
    int64_t expected_version, const Facts& facts) {
  if (absl::Status s =
          CheckWritable(current, relationship.company_id(), expected_version, "company");
      !s.ok()) {
    return s;
  }
  if (!facts.company_exists || !facts.company_exists(relationship.related_company_id())) {
    return absl::NotFoundError(absl::StrCat("relationship.related_company_id: company ",
                                            relationship.related_company_id(), " does not exist"));
  }
  for (const Relationship& r : current->relationships()) {
    if (SameRelationship(r, relationship)) {
      return absl::AlreadyExistsError("relationship: this relationship already exists");
    }
  }
  if (static_cast<size_t>(current->relationships_size()) >= kMaxRelationships) {
    return absl::FailedPreconditionError(absl::StrCat("company ", current->id(), " already has ",
                                                      kMaxRelationships,
                                                      " relationships, the most allowed"));
  }
  CompanyRelationshipAdded event;
  *event.mutable_relationship() = relationship;
  event.mutable_relationship()->clear_create_time();
  return event;
}

absl::StatusOr<CompanyRelationshipRemoved> DecideRemoveRelationship(
    const std::optional<Company>& current, const Relationship& relationship,
    int64_t expected_version) {
  if (absl::Status s =
          CheckWritable(current, relationship.company_id(), expected_version, "company");
      !s.ok()) {
    return s;
  }
  for (const Relationship& r : current->relationships()) {
    if (SameRelationship(r, relationship)) {
      CompanyRelationshipRemoved event;
      *event.mutable_relationship() = r;
      return event;
    }
  }
  return absl::NotFoundError("relationship: no such relationship on this company");
}

}  // namespace crm::contact
