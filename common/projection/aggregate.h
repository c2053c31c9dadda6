// Checks every aggregate's decide and apply share. An aggregate type T has id(), version() and
// update_time().
//
//   RETURN_IF_ERROR(CheckExpectedVersion(current, "deal", id, expected_version));   // decide
//   RETURN_IF_ERROR(CheckEventVersion(current, event, "deal"));                     // apply
//   *next.mutable_update_time() = EffectiveTime(current, event);
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "crm/common/v1/envelope.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace crm::projection {

// Nanoseconds since the Unix epoch, saturating: a valid Timestamp (years 1 to 9999) reaches
// beyond int64 nanoseconds (1677 to 2262), and overflow would be undefined.
inline int64_t TimestampNanos(const google::protobuf::Timestamp& t) {
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1000000000 - 1;
  if (t.seconds() > kMaxSeconds) return std::numeric_limits<int64_t>::max();
  if (t.seconds() < -kMaxSeconds) return std::numeric_limits<int64_t>::min();
  return t.seconds() * 1000000000 + t.nanos();
}

// A Timestamp as absl::Time, and back (nanosecond precision).
inline absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(TimestampNanos(t));
}
inline void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(t);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

// Decide side: NOT_FOUND if the aggregate does not exist; ABORTED if the caller pinned a
// version (non-zero) and the aggregate has moved on.
template <typename T>
absl::Status CheckExpectedVersion(const std::optional<T>& current, const char* kind,
                                  const std::string& id, int64_t expected_version) {
  if (!current) return absl::NotFoundError(absl::StrCat(kind, " ", id, " does not exist"));
  if (expected_version != 0 && expected_version != current->version()) {
    return absl::AbortedError(absl::StrCat(kind, " ", id, " is at version ", current->version(),
                                           ", not expected_version ", expected_version,
                                           "; read it again and retry"));
  }
  return absl::OkStatus();
}

// Apply side: ABORTED unless the aggregate is at the version the event expects (another writer
// won the race).
template <typename T>
absl::Status CheckEventVersion(const std::optional<T>& current,
                               const crm::common::v1::EventEnvelope& event, const char* kind) {
  const int64_t at = current ? current->version() : 0;
  if (at != event.expected_version()) {
    return absl::AbortedError(absl::StrCat(
        kind, " ", event.aggregate_id(), " is at version ", at, ", the change expected version ",
        event.expected_version(), "; another change won the race"));
  }
  return absl::OkStatus();
}

// For aggregates a background worker also writes to (a rule's runs, a webhook's deliveries),
// whose own fields last changed at `defined_at` (0: not known, taken as `version`).
//
// Decide side: a caller's pinned version (non-zero) is refused with ABORTED only if the
// aggregate's own fields changed after it — the worker's records move the version on, but a
// caller who read the rule before them read the same rule.
inline absl::Status CheckDefinedVersion(int64_t version, int64_t defined_at, const char* field,
                                        const char* kind, const std::string& id,
                                        int64_t expected_version) {
  const int64_t defined = defined_at == 0 ? version : defined_at;
  if (expected_version == 0 || (expected_version >= defined && expected_version <= version)) {
    return absl::OkStatus();
  }
  return absl::AbortedError(absl::StrCat(field, ": ", kind, " ", id, " is at version ", version,
                                         " (last changed at ", defined, "), not ", expected_version,
                                         "; read it again and retry"));
}

// Apply side: whether `event` takes effect on the aggregate now at `version`: at exactly the
// version it expects, or — when rebasable (the envelope's field) — past it through the worker's
// records alone. An event without the field (every event written before it was) is held to its
// exact version, so a rebuild decides as the first apply did.
inline bool TakesEffect(const crm::common::v1::EventEnvelope& event, int64_t version,
                        int64_t defined_at) {
  if (event.expected_version() == version) return true;
  const int64_t defined = defined_at == 0 ? version : defined_at;
  return event.rebasable() && event.expected_version() >= defined &&
         event.expected_version() < version;
}

// When a change takes effect: the event's time, or the previous change's if that is later, so a
// record's time never goes backwards.
template <typename T>
google::protobuf::Timestamp EffectiveTime(const std::optional<T>& current,
                                          const crm::common::v1::EventEnvelope& event) {
  if (current && TimestampNanos(current->update_time()) > TimestampNanos(event.occurred_at())) {
    return current->update_time();
  }
  return event.occurred_at();
}

}  // namespace crm::projection
