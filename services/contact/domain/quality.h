// Data quality: which expected facts a record lacks, and how complete it is under a tenant's
// rules. Pure functions.
//
// The facts a record lacks are a pair of bit sets (which checks apply, which fail), computed
// from the record alone; the projection indexes records by that pair. Completeness weighs the
// pair with the tenant's rules at read time, so changing the rules needs no re-indexing.
// Staleness depends on the time of the read and is reported beside completeness.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "crm/contact/v1/resources.pb.h"
#include "services/contact/domain/contact.h"

namespace crm::contact {

using crm::contact::v1::DataQuality;
using crm::contact::v1::DataQualityRules;
using crm::contact::v1::QualityCheck;

// Bit (1 << check) per QualityCheck.
struct CheckBits {
  uint16_t applicable = 0;
  uint16_t missing = 0;
};

CheckBits ContactChecks(const Contact& contact);
CheckBits CompanyChecks(const Company& company);

// The rules of a tenant that has not set any: every weight at its default, stale after 365 days.
DataQualityRules DefaultRules();

// The weight of `check` under `rules` (the documented default when the rules do not say).
int Weight(const DataQualityRules& rules, QualityCheck check);

// Completeness 0..100 of a record with `bits` under `rules` (100 when no weighted check applies).
int Completeness(CheckBits bits, const DataQualityRules& rules);

// The full view: completeness, an issue per failed weighted check, and staleness at `now`.
DataQuality Assess(CheckBits bits, const DataQualityRules& rules,
                   const google::protobuf::Timestamp& update_time, absl::Time now);

// Every check in the order they are reported.
const std::vector<QualityCheck>& AllChecks();

}  // namespace crm::contact
