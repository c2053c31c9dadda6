// Request validation for ContactService: every field checked, every error naming the field
// ("contact.personal.emails[1].address: ...") and saying what to fix. Validation also
// normalises (emails lower case, phones E.164, tags lower case, one primary email and phone),
// so the layers below only see clean input. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/contact/v1/contact_service.pb.h"
#include "services/contact/projection/contact_projection.h"

namespace crm::contact {

template <typename T>
struct ValidUpdate {
  T values;                          // normalised values of the masked fields, id set
  google::protobuf::FieldMask mask;  // canonical: "personal" expanded to its fields
};

struct ValidList {
  ListFilter filter;
  std::string resume_after;
  size_t page_size = 0;
};

struct ValidSearch {
  std::vector<std::string> words;
  size_t page_size = 0;
  size_t offset = 0;
  bool show_archived = false;
};

struct ValidHistory {
  int64_t offset = 0;  // Entries to skip.
  size_t page_size = 0;
};

// One row of an ImportRecords batch: its record validated and normalised as for a create
// (output-only fields dropped; an id allowed), or why it is invalid — the row's result, not the
// batch's.
struct ImportItem {
  int64_t row = 0;
  absl::Status invalid;
  std::optional<Contact> contact;
  std::optional<Company> company;
  // The row says the record is archived: created archived (ImportContact).
  bool archived = false;
  // Why the row is skipped (a contact merged into another or erased); empty if it is not.
  std::string skip;
  // What the row may be matched by (its id, emails, phones, domain): rows of a batch that share
  // one go in order.
  std::vector<std::string> keys;
};

// Contacts. Page tokens are bound to the request's other fields: a token used with other
// filters or another query is refused.
// A batch of ImportRecords: INVALID_ARGUMENT for the batch as a whole (import id, number of rows,
// row numbers); each row's own validity in its item.
absl::StatusOr<std::vector<ImportItem>> ValidateImport(
    const crm::contact::v1::ImportRecordsRequest& request);
absl::Status ValidateUndoImport(const crm::contact::v1::UndoImportRequest& request);
absl::StatusOr<Contact> ValidateCreate(const crm::contact::v1::CreateContactRequest& request);
absl::StatusOr<ValidUpdate<Contact>> ValidateUpdate(
    const crm::contact::v1::UpdateContactRequest& request);
absl::Status ValidateGet(const crm::contact::v1::GetContactRequest& request);
absl::Status ValidateDelete(const crm::contact::v1::DeleteContactRequest& request);
absl::Status ValidateErase(const crm::contact::v1::EraseContactRequest& request);
absl::Status ValidateExport(const crm::contact::v1::ExportContactDataRequest& request);
absl::StatusOr<ValidList> ValidateList(const crm::contact::v1::ListContactsRequest& request);
std::string ListPageToken(const crm::contact::v1::ListContactsRequest& request,
                          const std::string& resume_after);
absl::StatusOr<ValidSearch> ValidateSearch(const crm::contact::v1::SearchContactsRequest& request);
std::string SearchPageToken(const crm::contact::v1::SearchContactsRequest& request, size_t offset);
absl::StatusOr<ValidHistory> ValidateHistory(
    const crm::contact::v1::GetContactHistoryRequest& request);
std::string HistoryPageToken(const crm::contact::v1::GetContactHistoryRequest& request,
                             int64_t offset);

struct ValidMerge {
  google::protobuf::FieldMask mask;
};
absl::StatusOr<ValidMerge> ValidateMerge(const crm::contact::v1::MergeContactsRequest& request);
absl::Status ValidateUnmerge(const crm::contact::v1::UnmergeContactsRequest& request);
absl::Status ValidateContactQuality(const crm::contact::v1::GetContactQualityRequest& request);
absl::Status ValidateCompanyQuality(const crm::contact::v1::GetCompanyQualityRequest& request);
struct ValidIncomplete {
  int below = 100;
  std::string resume_after;
  size_t page_size = 0;
};
absl::StatusOr<ValidIncomplete> ValidateListIncomplete(
    const crm::contact::v1::ListIncompleteContactsRequest& request);
std::string IncompletePageToken(const crm::contact::v1::ListIncompleteContactsRequest& request,
                                const std::string& resume_after);
absl::Status ValidateQualityRules(const crm::contact::v1::UpdateDataQualityRulesRequest& request);
absl::Status ValidateFindDuplicates(const crm::contact::v1::FindDuplicatesRequest& request);
struct ValidDuplicateList {
  std::string resume_after;
  double min_score = 0.5;
  size_t page_size = 0;
};
absl::StatusOr<ValidDuplicateList> ValidateListDuplicates(
    const crm::contact::v1::ListDuplicateCandidatesRequest& request);
std::string DuplicatesPageToken(const crm::contact::v1::ListDuplicateCandidatesRequest& request,
                                const std::string& resume_after);

// Companies.
absl::StatusOr<Company> ValidateCreateCompany(
    const crm::contact::v1::CreateCompanyRequest& request);
absl::StatusOr<ValidUpdate<Company>> ValidateUpdateCompany(
    const crm::contact::v1::UpdateCompanyRequest& request);
absl::Status ValidateGetCompany(const crm::contact::v1::GetCompanyRequest& request);
absl::Status ValidateDeleteCompany(const crm::contact::v1::DeleteCompanyRequest& request);
absl::StatusOr<ValidList> ValidateListCompanies(
    const crm::contact::v1::ListCompaniesRequest& request);
std::string ListCompaniesPageToken(const crm::contact::v1::ListCompaniesRequest& request,
                                   const std::string& resume_after);
absl::StatusOr<ValidSearch> ValidateSearchCompanies(
    const crm::contact::v1::SearchCompaniesRequest& request);
std::string SearchCompaniesPageToken(const crm::contact::v1::SearchCompaniesRequest& request,
                                     size_t offset);
absl::StatusOr<ValidHistory> ValidateCompanyHistory(
    const crm::contact::v1::GetCompanyHistoryRequest& request);
std::string CompanyHistoryPageToken(const crm::contact::v1::GetCompanyHistoryRequest& request,
                                    int64_t offset);
absl::Status ValidateAddRelationship(const crm::contact::v1::AddRelationshipRequest& request);
absl::Status ValidateRemoveRelationship(const crm::contact::v1::RemoveRelationshipRequest& request);
absl::Status ValidateListRelationships(const crm::contact::v1::ListRelationshipsRequest& request);

}  // namespace crm::contact
