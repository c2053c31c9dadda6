// Decoding what a projection reads: an event's typed payload, and a stored record that may be
// absent. One place for the error each gives, so every applier reports the same way.
//
//   ASSIGN_OR_RETURN(RuleCreated created, projection::UnpackPayload<RuleCreated>(event));
//   ASSIGN_OR_RETURN(std::optional<Rule> rule, projection::ParseRecord<Rule>(raw, "rule"));
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "crm/common/v1/envelope.pb.h"

namespace crm::projection {

// The payload of `event` as T; INVALID_ARGUMENT naming the event type when it is not a T.
template <typename T>
absl::StatusOr<T> UnpackPayload(const crm::common::v1::EventEnvelope& event) {
  T payload;
  if (!event.payload().UnpackTo(&payload)) {
    return absl::InvalidArgumentError(
        absl::StrCat(event.event_type(), ": payload does not decode"));
  }
  return payload;
}

// `raw` parsed as T (nullopt when absent); DATA_LOSS naming `what` when it does not parse.
template <typename T>
absl::StatusOr<std::optional<T>> ParseRecord(const std::optional<std::string>& raw,
                                             std::string_view what) {
  if (!raw) return std::nullopt;
  T record;
  if (!record.ParseFromString(*raw)) {
    return absl::DataLossError(
        absl::StrCat("corrupt ", std::string(what), " record in the projection"));
  }
  return record;
}

}  // namespace crm::projection
