// What a service holds on one person, for ContactService.ExportContactData (the right of access
// and portability): each service exports its part as one JSON object of its records in
// protobuf's JSON mapping, and the contact service puts the parts together.
//
//   PersonalDataExport part = [&](const CallContext& ctx, const std::vector<std::string>& ids) {
//     nlohmann::json out;
//     out["orders"] = ...;   // with AppendJson(out["orders"], order)
//     return out;
//   };
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/projection/call_context.h"
#include "google/protobuf/message.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "nlohmann/json.hpp"

namespace crm::projection {

// A service's part of an export for the person whose contact ids (the survivor first, then the
// contacts merged into it) are `contact_ids`, confined to the caller's tenant.
using PersonalDataExport = std::function<absl::StatusOr<nlohmann::json>(
    const CallContext& ctx, const std::vector<std::string>& contact_ids)>;

// Pages of (up to 1000) records a part reads per kind at most: an export is bounded too.
inline constexpr int kMaxExportPages = 100;

// A service's ExportContactData: `part` for the validated `contact_ids` (1 to 1000 contact ids;
// INVALID_ARGUMENT naming "contact_ids[i]" otherwise), as JSON text.
absl::StatusOr<std::string> ExportPart(const CallContext& ctx,
                                       const google::protobuf::RepeatedPtrField<std::string>& ids,
                                       const PersonalDataExport& part);

// `message` in protobuf's JSON mapping (field names as in the .proto files).
nlohmann::json ToJson(const google::protobuf::Message& message);

}  // namespace crm::projection
