// Decide: from an aggregate's current state and a validated command, the event to append, or
// the reason the command is refused. Pure functions: no I/O; the time and any facts about other
// aggregates (does this company exist?) are passed in.
//
// Refusals: NOT_FOUND (no such record), FAILED_PRECONDITION (archived), ABORTED (the caller's
// expected version is stale), ALREADY_EXISTS, INVALID_ARGUMENT (the result would be invalid).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/field_mask.pb.h"
#include "services/contact/domain/contact.h"

namespace crm::contact {

// Facts about other aggregates a decision may need, read by the caller from the projection.
struct Facts {
  // Whether a (non-archived) company exists.
  std::function<bool(const std::string& company_id)> company_exists;
};

// Decides CreateContact for an already validated and normalised `requested` contact.
absl::StatusOr<ContactCreated> DecideCreate(const Contact& requested, const std::string& new_id,
                                            absl::Time now, const Facts& facts);

// Decides UpdateContact: `values` holds the new values of the fields in the (validated) `mask`.
// `expected_version` 0 means "the current version".
absl::StatusOr<ContactUpdated> DecideUpdate(const std::optional<Contact>& current,
                                            const Contact& values,
                                            const google::protobuf::FieldMask& mask,
                                            int64_t expected_version, absl::Time now,
                                            const Facts& facts);

// Decides DeleteContact (archive).
absl::StatusOr<ContactArchived> DecideArchive(const std::optional<Contact>& current,
                                              const std::string& id, int64_t expected_version);

// Decides EraseContact: a contact, archived or not, not erased already and not merged into
// another — unless `with_survivor` (erasing the contacts merged into an erased one).
absl::StatusOr<ContactErased> DecideErase(const std::optional<Contact>& current,
                                          const std::string& id, bool with_survivor = false);

// Returns OK if `contact` can be told apart from nobody: it has a name, an email or a phone.
absl::Status CheckIdentifiable(const Contact& contact, const std::string& field);

// Merge, step 1 (on the merged contact): freeze `merged` as a pointer to the survivor.
absl::StatusOr<ContactMergedInto> DecideMergeInto(const std::optional<Contact>& merged,
                                                  const std::optional<Contact>& survivor,
                                                  const std::string& merged_id,
                                                  const std::string& survivor_id,
                                                  int64_t merged_expected_version,
                                                  const std::string& merge_id);
// Merge, step 2 (on the survivor): absorb the frozen `merged` contact.
absl::StatusOr<ContactsMerged> DecideAbsorb(const std::optional<Contact>& survivor,
                                            const Contact& merged,
                                            const google::protobuf::FieldMask& mask,
                                            int64_t survivor_expected_version,
                                            const std::string& merge_id);
// Unmerge, step 1 (on the survivor).
absl::StatusOr<ContactsUnmerged> DecideUnmergeSurvivor(const std::optional<Contact>& survivor,
                                                       const std::string& merged_id,
                                                       const std::string& unmerge_id);
// Unmerge, step 2 (on the merged contact); also the compensation of a merge whose step 2 failed.
absl::StatusOr<ContactUnmerged> DecideRestore(const std::optional<Contact>& merged,
                                              const std::string& merged_id,
                                              const std::string& unmerge_id);

// Companies.
absl::StatusOr<CompanyCreated> DecideCreateCompany(const Company& requested,
                                                   const std::string& new_id);
absl::StatusOr<CompanyUpdated> DecideUpdateCompany(const std::optional<Company>& current,
                                                   const Company& values,
                                                   const google::protobuf::FieldMask& mask,
                                                   int64_t expected_version);
absl::StatusOr<CompanyArchived> DecideArchiveCompany(const std::optional<Company>& current,
                                                     const std::string& id,
                                                     int64_t expected_version);
// `relationship.company_id` is `current`; the related company must exist per `facts`.
absl::StatusOr<CompanyRelationshipAdded> DecideAddRelationship(
    const std::optional<Company>& current, const Relationship& relationship,
    int64_t expected_version, const Facts& facts);
absl::StatusOr<CompanyRelationshipRemoved> DecideRemoveRelationship(
    const std::optional<Company>& current, const Relationship& relationship,
    int64_t expected_version);

}  // namespace crm::contact
