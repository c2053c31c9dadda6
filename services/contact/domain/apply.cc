#include "services/contact/domain/apply.h"

#include <algorithm>
#include <set>

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

absl::Status CheckMergeState(const Contact& current, const EventEnvelope& event) {
  const bool restoring = event.event_type() == kContactUnmergedType;
  if (restoring && current.merged_into().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("contact ", current.id(), " is not merged into another"));
  }
  if (!restoring && !current.merged_into().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("contact ", current.id(), " was merged into ", current.merged_into()));
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

namespace {

// Appends the items of `from` whose key is not yet in `into`.
template <typename List, typename Key>
void Union(List* into, const List& from, Key key, size_t max) {
  std::set<std::string> have;
  for (const auto& x : *into) have.insert(key(x));
  for (const auto& x : from) {
    if (static_cast<size_t>(into->size()) >= max) break;
    if (have.insert(key(x)).second) *into->Add() = x;
  }
}

// Removes the items of `list` whose key is in `keys`.
template <typename List, typename Key>
void RemoveKeys(List* list, const std::set<std::string>& keys, Key key) {
  for (int i = list->size() - 1; i >= 0; --i) {
    if (keys.contains(key(list->Get(i)))) list->DeleteSubrange(i, 1);
  }
}

// Keeps exactly one primary entry.
template <typename List>
void FixPrimary(List* list) {
  bool seen = false;
  for (auto& x : *list) {
    if (x.primary() && !seen) {
      seen = true;
    } else {
      x.set_primary(false);
    }
  }
  if (!seen && !list->empty()) list->Mutable(0)->set_primary(true);
}

const auto kEmailKey = [](const crm::contact::v1::EmailAddress& e) { return e.address(); };
const auto kPhoneKey = [](const crm::contact::v1::PhoneNumber& p) { return p.number(); };
const auto kAffiliationKey = [](const crm::contact::v1::Affiliation& a) { return a.company_id(); };
const auto kTagKey = [](const std::string& t) { return t; };

// What a merge added to the survivor's unioned lists: the keys present in the merged contact
// and not in the survivor before.
struct Contribution {
  std::set<std::string> emails, phones, tags, affiliations, attributes;
};

template <typename List, typename Key>
std::set<std::string> Added(const List& before, const List& merged, Key key) {
  std::set<std::string> have, added;
  for (const auto& x : before) have.insert(key(x));
  for (const auto& x : merged) {
    if (!have.contains(key(x))) added.insert(key(x));
  }
  return added;
}

Contribution ContributionOf(const Contact& before, const Contact& merged) {
  Contribution c;
  c.emails = Added(before.personal().emails(), merged.personal().emails(), kEmailKey);
  c.phones = Added(before.personal().phones(), merged.personal().phones(), kPhoneKey);
  c.tags = Added(before.tags(), merged.tags(), kTagKey);
  c.affiliations = Added(before.affiliations(), merged.affiliations(), kAffiliationKey);
  for (const auto& [k, v] : merged.attributes()) {
    if (!before.attributes().contains(k)) c.attributes.insert(k);
  }
  return c;
}

void Withdraw(Contact& c, const Contribution& contribution) {
  RemoveKeys(c.mutable_personal()->mutable_emails(), contribution.emails, kEmailKey);
  RemoveKeys(c.mutable_personal()->mutable_phones(), contribution.phones, kPhoneKey);
  RemoveKeys(c.mutable_tags(), contribution.tags, kTagKey);
  RemoveKeys(c.mutable_affiliations(), contribution.affiliations, kAffiliationKey);
  for (const std::string& k : contribution.attributes) c.mutable_attributes()->erase(k);
  FixPrimary(c.mutable_personal()->mutable_emails());
  FixPrimary(c.mutable_personal()->mutable_phones());
  FixPrimary(c.mutable_affiliations());
}

// The contact after one of its own events. `check` off replays history without the version and
// state checks (used by unmerge, whose fold skips events).
absl::StatusOr<Contact> ApplyContactEvent(const std::optional<Contact>& current,
                                          const EventEnvelope& event, bool check) {
  const std::string& type = event.event_type();
  const bool creates = type == kContactCreatedType;
  if (check) {
    if (current && current->erased()) {
      return absl::FailedPreconditionError(
          absl::StrCat("contact ", event.aggregate_id(), " was erased"));
    }
    // An archived contact can still be erased.
    std::optional<Contact> unarchived = current;
    if (unarchived && type == kContactErasedType) unarchived->set_archived(false);
    if (absl::Status s = CheckApplies(unarchived, event, creates, "contact"); !s.ok()) return s;
    if (current && type == kContactErasedType) {
      absl::StatusOr<ContactErased> erased = Unpack<ContactErased>(event);
      if (!erased.ok()) return erased.status();
      if (current->merged_into() != erased->survivor_id()) {
        return absl::FailedPreconditionError(
            absl::StrCat("contact ", current->id(), " is merged into \"", current->merged_into(),
                         "\", not \"", erased->survivor_id(), "\""));
      }
    } else if (current) {
      if (absl::Status s = CheckMergeState(*current, event); !s.ok()) return s;
    }
  } else if (!creates && !current) {
    return absl::NotFoundError("history does not start with a creation");
  }
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
  } else if (type == kContactMergedIntoType) {
    absl::StatusOr<ContactMergedInto> into = Unpack<ContactMergedInto>(event);
    if (!into.ok()) return into.status();
    next = *current;
    next.set_merged_into(into->survivor_id());
  } else if (type == kContactUnmergedType) {
    next = *current;
    next.clear_merged_into();
  } else if (type == kContactErasedType) {
    next = ErasedContact(*current, event.occurred_at());
  } else if (type == kContactsMergedType) {
    absl::StatusOr<ContactsMerged> merged = Unpack<ContactsMerged>(event);
    if (!merged.ok()) return merged.status();
    next = MergeInto(*current, merged->merged(), merged->update_mask());
    next.add_merged_ids(merged->merged_id());
  } else {
    return absl::InvalidArgumentError(absl::StrCat("not a contact event: ", type));
  }
  Stamp(current, event, next);
  if (next.archived() && !next.has_archive_time())
    *next.mutable_archive_time() = next.update_time();
  return next;
}

}  // namespace

Contact MergeInto(const Contact& survivor, const Contact& merged,
                  const google::protobuf::FieldMask& mask) {
  Contact next = survivor;
  auto* p = next.mutable_personal();
  const auto& m = merged.personal();
  const std::set<std::string> take(mask.paths().begin(), mask.paths().end());
  auto pick = [&](const std::string& path, const std::string& mine, const std::string& theirs) {
    return (take.contains(path) || mine.empty()) && !theirs.empty() ? theirs : mine;
  };
  p->set_given_name(pick("personal.given_name", p->given_name(), m.given_name()));
  p->set_family_name(pick("personal.family_name", p->family_name(), m.family_name()));
  next.set_job_title(pick("job_title", next.job_title(), merged.job_title()));
  next.set_owner(pick("owner", next.owner(), merged.owner()));
  if ((take.contains("lifecycle_stage") ||
       next.lifecycle_stage() == crm::contact::v1::LIFECYCLE_STAGE_UNSPECIFIED) &&
      merged.lifecycle_stage() != crm::contact::v1::LIFECYCLE_STAGE_UNSPECIFIED) {
    next.set_lifecycle_stage(merged.lifecycle_stage());
  }
  Union(p->mutable_emails(), m.emails(), kEmailKey, kMaxEmails);
  Union(p->mutable_phones(), m.phones(), kPhoneKey, kMaxPhones);
  for (const auto& a : m.addresses()) {
    if (static_cast<size_t>(p->addresses_size()) >= kMaxAddresses) break;
    *p->add_addresses() = a;
  }
  Union(next.mutable_tags(), merged.tags(), kTagKey, kMaxTags);
  Union(next.mutable_affiliations(), merged.affiliations(), kAffiliationKey, kMaxAffiliations);
  for (const auto& [k, v] : merged.attributes()) {
    if (static_cast<size_t>(next.attributes_size()) >= kMaxAttributes &&
        !next.attributes().contains(k)) {
      continue;
    }
    if (take.contains("attributes") || !next.attributes().contains(k)) {
      (*next.mutable_attributes())[k] = v;
    }
  }
  if (take.contains("consents")) {
    *next.mutable_consents() = merged.consents();
  } else {
    // Per channel, the consent recorded last wins; the survivor's on a tie.
    for (const auto& theirs : merged.consents()) {
      bool found = false;
      for (auto& mine : *next.mutable_consents()) {
        if (mine.channel() != theirs.channel()) continue;
        found = true;
        if (Before(mine.recorded_at(), theirs.recorded_at())) mine = theirs;
      }
      if (!found) *next.add_consents() = theirs;
    }
  }
  FixPrimary(p->mutable_emails());
  FixPrimary(p->mutable_phones());
  FixPrimary(next.mutable_affiliations());
  return next;
}

Contact ErasedContact(const Contact& current, const Timestamp& when) {
  Contact erased;
  erased.set_id(current.id());
  erased.set_version(current.version());
  *erased.mutable_create_time() = current.create_time();
  *erased.mutable_update_time() = current.update_time();
  erased.set_archived(true);
  *erased.mutable_archive_time() = current.archived() ? current.archive_time() : when;
  erased.set_erased(true);
  *erased.mutable_erase_time() = when;
  return erased;
}

absl::StatusOr<Contact> Apply(const std::optional<Contact>& current, const EventEnvelope& event) {
  if (event.event_type() == kContactsUnmergedType) {
    return absl::InvalidArgumentError("ContactsUnmerged needs the survivor's history");
  }
  return ApplyContactEvent(current, event, /*check=*/true);
}

absl::StatusOr<Contact> ApplyUnmerge(const std::optional<Contact>& current,
                                     const EventEnvelope& event, const std::optional<Contact>& base,
                                     const std::vector<EventEnvelope>& history) {
  if (absl::Status s = CheckApplies(current, event, false, "contact"); !s.ok()) return s;
  if (absl::Status s = CheckMergeState(*current, event); !s.ok()) return s;
  absl::StatusOr<ContactsUnmerged> unmerge = Unpack<ContactsUnmerged>(event);
  if (!unmerge.ok()) return unmerge.status();
  if (std::find(current->merged_ids().begin(), current->merged_ids().end(), unmerge->merged_id()) ==
      current->merged_ids().end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("contact ", current->id(), " has not absorbed ", unmerge->merged_id()));
  }
  // Every merge reversed so far, this one included.
  std::set<std::string> reversed = {unmerge->merged_id()};
  for (const EventEnvelope& e : history) {
    if (e.event_type() != kContactsUnmergedType) continue;
    absl::StatusOr<ContactsUnmerged> earlier = Unpack<ContactsUnmerged>(e);
    if (!earlier.ok()) return earlier.status();
    reversed.insert(earlier->merged_id());
  }
  std::optional<Contact> state = base;
  std::vector<Contribution> contributions;
  for (const EventEnvelope& e : history) {
    if (e.event_type() == kContactsUnmergedType) continue;
    if (e.event_type() == kContactsMergedType) {
      absl::StatusOr<ContactsMerged> merged = Unpack<ContactsMerged>(e);
      if (!merged.ok()) return merged.status();
      if (reversed.contains(merged->merged_id()) && state) {
        contributions.push_back(ContributionOf(*state, merged->merged()));
        continue;
      }
    }
    absl::StatusOr<Contact> next = ApplyContactEvent(state, e, /*check=*/false);
    if (!next.ok()) return next.status();
    state = std::move(*next);
  }
  if (!state) return absl::FailedPreconditionError("the survivor has no history");
  for (const Contribution& c : contributions) Withdraw(*state, c);
  // Version and times continue from the current state, not from the fold.
  Contact next = std::move(*state);
  *next.mutable_create_time() = current->create_time();
  next.set_version(current->version());
  *next.mutable_update_time() = current->update_time();
  Stamp(current, event, next);
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
