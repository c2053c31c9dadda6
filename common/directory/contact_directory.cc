#include "common/directory/contact_directory.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/projection/projector.h"
#include "common/projection/wire_field.h"
#include "common/status/status_macros.h"
#include "common/store/keys.h"
#include "crm/contact/v1/events.pb.h"

namespace crm::directory {

using crm::common::v1::EventEnvelope;
using store::Cf;

namespace {

std::string Prefix(char kind, std::string_view tenant) { return store::KindPrefix(kind, tenant); }

std::string EntryKey(std::string_view tenant, std::string_view id) {
  return Prefix('k', tenant).append(id);
}

// Present (empty) for an erased contact. Most contacts are not erased, and a key that is absent
// is answered by the bloom filters alone, where the entry's key would be found and read: apply
// asks for every interaction, case, task and order of a contact.
std::string ErasedKey(std::string_view tenant, std::string_view id) {
  return Prefix('k', tenant).append(id);  // in Cf::kIndex; the entry is in Cf::kState
}

std::string MergedPrefix(std::string_view tenant, std::string_view survivor) {
  std::string k = Prefix('z', tenant).append(survivor);
  k.push_back('\0');
  return k;
}

// What an erased contact's entry keeps: that it existed, and was erased.
void Erase(ContactDirectoryEntry& entry) {
  entry.set_archived(true);
  entry.set_erased(true);
  entry.clear_given_name();
  entry.clear_family_name();
  entry.clear_display_name();
}

}  // namespace

std::string DisplayName(const std::string& given, const std::string& family) {
  if (given.empty()) return family;
  if (family.empty()) return given;
  return absl::StrCat(given, " ", family);
}

bool IsContactEvent(std::string_view event_type) {
  return event_type.starts_with("crm.contact.v1.");
}

std::optional<ContactDirectoryEntry> ApplyContactEvent(
    const std::optional<ContactDirectoryEntry>& current, const EventEnvelope& event) {
  const std::string& type = event.event_type();
  if (type == "crm.contact.v1.DataQualityRulesSet") return std::nullopt;  // a tenant's settings
  // Lost a race: the contact service refused it at apply, so it changes nothing here either.
  if (current && event.expected_version() < current->version()) return std::nullopt;
  const bool creates =
      type == "crm.contact.v1.ContactCreated" || type == "crm.contact.v1.CompanyCreated";
  if (!creates && !current) return std::nullopt;
  ContactDirectoryEntry next = current.value_or(ContactDirectoryEntry());
  next.set_contact_id(event.aggregate_id());
  next.set_version(event.aggregate_version());
  if (type == "crm.contact.v1.ContactCreated") {
    // Its names alone, read out of the payload (ContactCreated.contact.personal, every copy
    // merged as a parse would), the rest of it skipped unparsed: parsing the whole contact for
    // them was two thirds of this function, in three projections for every new contact.
    if (!event.payload().Is<crm::contact::v1::ContactCreated>()) return std::nullopt;
    crm::contact::v1::PersonalData personal;
    if (!projection::ForEachField(
            event.payload().value(), crm::contact::v1::ContactCreated::kContactFieldNumber,
            [&](std::string_view contact) {
              return projection::MergeField(
                  contact, crm::contact::v1::Contact::kPersonalFieldNumber, personal);
            })) {
      return std::nullopt;
    }
    next.set_given_name(personal.given_name());
    next.set_family_name(personal.family_name());
  } else if (type == "crm.contact.v1.ContactUpdated") {
    crm::contact::v1::ContactUpdated updated;
    if (!event.payload().UnpackTo(&updated)) return std::nullopt;
    for (const std::string& path : updated.update_mask().paths()) {  // only names matter here
      if (path == "personal.given_name" || path == "personal") {
        next.set_given_name(updated.contact().personal().given_name());
      }
      if (path == "personal.family_name" || path == "personal") {
        next.set_family_name(updated.contact().personal().family_name());
      }
    }
  } else if (type == "crm.contact.v1.CompanyCreated") {
    crm::contact::v1::CompanyCreated created;
    if (!event.payload().UnpackTo(&created)) return std::nullopt;
    next.set_company(true);
    next.set_display_name(created.company().name());
  } else if (type == "crm.contact.v1.CompanyUpdated") {
    crm::contact::v1::CompanyUpdated updated;
    if (!event.payload().UnpackTo(&updated)) return std::nullopt;
    const auto& paths = updated.update_mask().paths();
    if (std::find(paths.begin(), paths.end(), "name") != paths.end()) {
      next.set_display_name(updated.company().name());
    }
  } else if (type == "crm.contact.v1.ContactArchived" || type == "crm.contact.v1.CompanyArchived") {
    next.set_archived(true);
  } else if (type == "crm.contact.v1.ContactErased") {
    Erase(next);
  } else if (type == "crm.contact.v1.ContactMergedInto") {
    crm::contact::v1::ContactMergedInto into;
    if (!event.payload().UnpackTo(&into)) return std::nullopt;
    next.set_merged_into(into.survivor_id());
  } else if (type == "crm.contact.v1.ContactUnmerged") {
    next.clear_merged_into();
  }
  // Any other event of a contact or company (relationships, a survivor's merges) moves only its
  // version.
  if (!next.company()) next.set_display_name(DisplayName(next.given_name(), next.family_name()));
  return next;
}

absl::Status CheckLinkable(const std::optional<ContactDirectoryEntry>& entry,
                           const std::string& field, const std::string& id, Kind kind) {
  const char* what = kind == Kind::kCompany ? "company" : "contact";
  if (!entry || entry->company() != (kind == Kind::kCompany)) {
    return absl::NotFoundError(absl::StrCat(field, ": ", what, " ", id, " does not exist"));
  }
  if (!entry->merged_into().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": ", what, " ", id, " was merged into ", entry->merged_into(), "; use that one"));
  }
  if (entry->erased()) {
    return absl::FailedPreconditionError(absl::StrCat(field, ": ", what, " ", id, " was erased"));
  }
  if (entry->archived()) {
    return absl::FailedPreconditionError(absl::StrCat(field, ": ", what, " ", id, " is archived"));
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<std::optional<ContactDirectoryEntry>> ParseEntry(
    const std::optional<std::string>& raw) {
  if (!raw) return std::nullopt;
  ContactDirectoryEntry entry;
  if (!entry.ParseFromString(*raw)) return absl::DataLossError("corrupt directory entry");
  return entry;
}

// The stored entry of `key` as `batch` sees it (a survivor's placeholder included).
absl::StatusOr<std::optional<ContactDirectoryEntry>> ReadEntry(store::ProjectionStore::Batch& batch,
                                                               const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  return ParseEntry(raw);
}

// Adds `delta` to the merged_count of `survivor`'s entry, creating a placeholder if the
// survivor's own events are not applied yet. Additions commute, so the count does not depend on
// the order in which the partitions of the survivor and of its merged contacts are applied.
absl::Status AddMerged(store::ProjectionStore::Batch& batch, std::string_view tenant,
                       std::string_view survivor, int delta) {
  const std::string key = EntryKey(tenant, survivor);
  ASSIGN_OR_RETURN(std::optional<ContactDirectoryEntry> entry, ReadEntry(batch, key));
  if (!entry) entry.emplace();
  entry->set_merged_count(entry->merged_count() + delta);
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(*entry));
  return absl::OkStatus();
}

}  // namespace

void ContactDirectory::WillRead(const EventEnvelope& event,
                                std::vector<std::string>& state_keys) const {
  if (IsContactEvent(event.event_type())) {
    state_keys.push_back(EntryKey(event.tenant(), event.aggregate_id()));
  }
}

absl::Status ContactDirectory::Apply(const EventEnvelope& event,
                                     store::ProjectionStore::Batch& batch) const {
  const std::string key = EntryKey(event.tenant(), event.aggregate_id());
  ASSIGN_OR_RETURN(std::optional<ContactDirectoryEntry> current, ReadEntry(batch, key));
  std::optional<ContactDirectoryEntry> next = ApplyContactEvent(current, event);
  if (!next) return absl::OkStatus();
  // Written before the survivors' counts: a contact merged into itself is refused by the contact
  // service, but if one came, its count must not be overwritten.
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(*next));
  changed_.push_back(key);
  if (next->erased() && !(current && current->erased())) {
    batch.Put(Cf::kIndex, ErasedKey(event.tenant(), event.aggregate_id()), "");
    erasures_.Added(event.tenant());
  }
  const std::string old_survivor = current ? current->merged_into() : "";
  if (old_survivor != next->merged_into()) {
    if (!old_survivor.empty()) {
      batch.Delete(Cf::kIndex, MergedPrefix(event.tenant(), old_survivor) + next->contact_id());
      RETURN_IF_ERROR(AddMerged(batch, event.tenant(), old_survivor, -1));
      changed_.push_back(EntryKey(event.tenant(), old_survivor));
    }
    if (!next->merged_into().empty()) {
      batch.Put(Cf::kIndex, MergedPrefix(event.tenant(), next->merged_into()) + next->contact_id(),
                "");
      RETURN_IF_ERROR(AddMerged(batch, event.tenant(), next->merged_into(), +1));
      changed_.push_back(EntryKey(event.tenant(), next->merged_into()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ContactDirectory::Erased(store::ProjectionStore::Batch& batch,
                                              std::string_view tenant,
                                              std::string_view contact_id) const {
  if (contact_id.empty()) return false;
  ASSIGN_OR_RETURN(const bool any, erasures_.Any(batch, tenant));
  if (!any) return false;
  ASSIGN_OR_RETURN(std::optional<std::string> marker,
                   batch.Get(Cf::kIndex, ErasedKey(tenant, contact_id)));
  return marker.has_value();
}

absl::StatusOr<std::optional<ContactDirectoryEntry>> ContactDirectory::Get(
    std::string_view tenant, std::string_view contact_id) const {
  return Read(tenant, contact_id, /*keep=*/true);
}

absl::StatusOr<std::optional<ContactDirectoryEntry>> ContactDirectory::GetOnce(
    std::string_view tenant, std::string_view contact_id) const {
  return Read(tenant, contact_id, /*keep=*/false);
}

absl::StatusOr<std::optional<ContactDirectoryEntry>> ContactDirectory::Read(
    std::string_view tenant, std::string_view contact_id, bool keep) const {
  const std::string key = EntryKey(tenant, contact_id);
  uint64_t generation = 0;
  // While the store is unavailable (being rebuilt) its own answer is given: UNAVAILABLE.
  if (store_->available()) {
    if (auto kept = cached_.Find(key, &generation)) return *std::move(kept);
  }
  ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<ContactDirectoryEntry> entry, ParseEntry(raw));
  if (entry && entry->contact_id().empty()) entry.reset();  // a survivor not created yet
  if (keep) {
    cached_.Keep(key, entry, generation);
  } else {
    store::UnrecordedRead();
  }
  return entry;
}

void ContactDirectory::Built() const {
  if (built_.empty()) {
    built_.swap(changed_);
  } else {
    for (std::string& key : changed_) built_.push_back(std::move(key));
    changed_.clear();
  }
}

void ContactDirectory::Committed() const {
  const uint64_t emptied = store_->emptied();
  if (emptied != emptied_) {
    cached_.ForgetAll();
  } else if (!built_.empty()) {
    cached_.Forget([this](const std::function<void(std::string_view)>& drop) {
      for (const std::string& key : built_) drop(key);
    });
  }
  emptied_ = emptied;
  built_.clear();
}

absl::Status ContactDirectory::CheckLinkableWaiting(projection::Projector& projector,
                                                    std::string_view tenant,
                                                    const std::string& field, const std::string& id,
                                                    absl::Time deadline, Kind kind) const {
  ASSIGN_OR_RETURN(std::optional<ContactDirectoryEntry> entry, Get(tenant, id));
  if (!entry) {
    // Perhaps created a moment ago: wait for the directory to catch up, then look again.
    if (absl::Status s = projector.WaitUntilCaughtUp(deadline); !s.ok()) {
      return absl::UnavailableError(absl::StrCat(
          field, ": ", kind == Kind::kCompany ? "company " : "contact ", id,
          " is not known yet and the contact directory is behind the contact log; retry"));
    }
    ASSIGN_OR_RETURN(entry, Get(tenant, id));
  }
  return CheckLinkable(entry, field, id, kind);
}

absl::StatusOr<std::set<std::string>> ContactDirectory::Survivors(std::string_view tenant) const {
  std::set<std::string> out;
  const std::string prefix = Prefix('z', tenant);
  RETURN_IF_ERROR(store_->Scan(Cf::kIndex, prefix, "", [&](std::string_view key, std::string_view) {
    const std::string_view rest = key.substr(prefix.size());
    out.emplace(rest.substr(0, rest.find('\0')));
    return true;
  }));
  return out;
}

absl::StatusOr<std::vector<std::string>> ContactDirectory::WithMerged(
    std::string_view tenant, const ContactDirectoryEntry& entry) const {
  if (entry.merged_count() == 0) return std::vector<std::string>{entry.contact_id()};
  return WithMerged(tenant, entry.contact_id());
}

absl::StatusOr<std::vector<std::string>> ContactDirectory::WithMerged(
    std::string_view tenant, std::string_view contact_id) const {
  std::vector<std::string> ids = {std::string(contact_id)};
  for (size_t i = 0; i < ids.size() && ids.size() < 1000; ++i) {
    const std::string prefix = MergedPrefix(tenant, ids[i]);
    RETURN_IF_ERROR(
        store_->Scan(Cf::kIndex, prefix, "", [&](std::string_view key, std::string_view) {
          ids.emplace_back(key.substr(prefix.size()));
          return ids.size() < 1000;
        }));
  }
  return ids;
}

}  // namespace crm::directory
