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

// `bytes` parsed into `event`, as `event.ParseFromString(bytes)` would but for one thing: the
// payload and the time of the event parsed into it before are reused, not freed and made again
// (with their strings' room) — freeing them was a sixth of parsing an envelope, and a projector
// parses every record it reads into the same few envelopes. An empty payload or time (all
// fields zero) reads as absent, as every accessor reads an absent one: only `has_payload()` and
// `has_occurred_at()` could tell them apart, and no service writes an event with either empty.
inline bool ParseEnvelope(const std::string& bytes, crm::common::v1::EventEnvelope& event) {
  google::protobuf::Any* payload = event.release_payload();
  google::protobuf::Timestamp* time = event.release_occurred_at();
  event.Clear();  // the strings keep their room
  if (payload != nullptr) {
    payload->Clear();
    event.set_allocated_payload(payload);
  }
  if (time != nullptr) {
    time->Clear();
    event.set_allocated_occurred_at(time);
  }
  const bool parsed = event.MergeFromString(bytes);  // onto the cleared fields: a parse
  if (event.has_payload() && event.payload().type_url().empty() &&
      event.payload().value().empty()) {
    event.clear_payload();
  }
  if (event.has_occurred_at() && event.occurred_at().seconds() == 0 &&
      event.occurred_at().nanos() == 0) {
    event.clear_occurred_at();
  }
  return parsed;
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
