// Import: what a row of a bulk import changes on the existing record it matched. Pure.
//
// A row adds to a record rather than replacing it: its non-empty scalar fields (names, job
// title, owner, lifecycle stage; a company's name, domain, industry, size, address) replace the
// record's, and its list fields are added to the record's own (emails and phones by address and
// number, addresses, tags, affiliations by company, attributes by key, consents by channel).
#pragma once

#include <utility>

#include "google/protobuf/field_mask.pb.h"
#include "services/contact/domain/contact.h"

namespace crm::contact {

// The values and mask of the update that brings `row` into `current` (ids as `current`'s); an
// empty mask when `current` already holds everything the row says.
std::pair<Contact, google::protobuf::FieldMask> ImportChanges(const Contact& current,
                                                              const Contact& row);
std::pair<Company, google::protobuf::FieldMask> ImportCompanyChanges(const Company& current,
                                                                     const Company& row);

}  // namespace crm::contact
