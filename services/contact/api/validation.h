// Request validation for ContactService: every field checked, every error naming the field
// ("contact.personal.emails[1].address: ...") and saying what to fix. Validation also
// normalises (emails lower case, phones E.164, tags lower case, one primary email and phone),
// so the layers below only see clean input. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/contact/v1/contact_service.pb.h"
#include "services/contact/projection/contact_projection.h"

namespace crm::contact {

// Returns the normalised contact to create.
absl::StatusOr<Contact> ValidateCreate(const crm::contact::v1::CreateContactRequest& request);

struct ValidUpdate {
  Contact values;                    // normalised values of the masked fields, id set
  google::protobuf::FieldMask mask;  // canonical: "personal" expanded to its fields
};
absl::StatusOr<ValidUpdate> ValidateUpdate(const crm::contact::v1::UpdateContactRequest& request);

absl::Status ValidateGet(const crm::contact::v1::GetContactRequest& request);
absl::Status ValidateDelete(const crm::contact::v1::DeleteContactRequest& request);

struct ValidList {
  ListFilter filter;
  std::string resume_after;
  size_t page_size = 0;
};
absl::StatusOr<ValidList> ValidateList(const crm::contact::v1::ListContactsRequest& request);
// The token that continues `request` after contact `resume_after`.
std::string ListPageToken(const crm::contact::v1::ListContactsRequest& request,
                          const std::string& resume_after);

struct ValidSearch {
  std::vector<std::string> words;
  size_t page_size = 0;
  size_t offset = 0;
  bool show_archived = false;
};
absl::StatusOr<ValidSearch> ValidateSearch(const crm::contact::v1::SearchContactsRequest& request);
// The token that continues `request` at result `offset`.
std::string SearchPageToken(const crm::contact::v1::SearchContactsRequest& request, size_t offset);

}  // namespace crm::contact
