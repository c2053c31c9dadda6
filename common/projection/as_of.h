// Point-in-time reads of an aggregate ("as it stood at the end of last quarter"). The aggregate's
// current state is its state key (kState); apply keeps every state a change supersedes under a
// key that sorts by that state's own change time. A read at time T is the last stored state at
// or before T, the current one included — so a record that never changed costs no copy.
//
//   if (current) KeepSuperseded(batch, 'v', tenant, *current, current_bytes);   // apply
//   batch.Put(Cf::kState, state_key, SerializeDeterministic(next));
//   ASSIGN_OR_RETURN(std::optional<Deal> d,
//                    ReadAsOf<Deal>(store, 'v', tenant, id, state_key, as_of));
//
// Key: kind/tenant\0id\0 time(BE64 ns) version(BE64), in kIndex (it is part of the checksum:
// a rebuild writes the same history).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"
#include "common/store/big_endian.h"
#include "common/store/keys.h"
#include "common/store/projection_store.h"

namespace crm::projection {

// kind/tenant\0id\0: every stored state of one aggregate.
inline std::string AsOfPrefix(char kind, std::string_view tenant, std::string_view id) {
  return store::KindPrefix(kind, tenant, id);
}

// The key of the aggregate's state after the change at `time_nanos` that made `version`.
inline std::string AsOfKey(char kind, std::string_view tenant, std::string_view id,
                           int64_t time_nanos, int64_t version) {
  std::string k = AsOfPrefix(kind, tenant, id);
  store::PutBigEndian(k, static_cast<uint64_t>(time_nanos));
  store::PutBigEndian(k, static_cast<uint64_t>(version));
  return k;
}

// Apply: keeps `current` (its stored bytes `bytes`), which the change being applied supersedes.
template <typename T>
void KeepSuperseded(store::ProjectionStore::Batch& batch, char kind, std::string_view tenant,
                    const T& current, std::string_view bytes) {
  batch.Put(
      store::Cf::kIndex,
      AsOfKey(kind, tenant, current.id(), TimestampNanos(current.update_time()), current.version()),
      bytes);
}

// The aggregate as it stood at `as_of` (its last change at or before it, by time then version);
// nullopt if it did not exist yet. DATA_LOSS if a stored state does not parse.
template <typename T>
absl::StatusOr<std::optional<T>> ReadAsOf(const store::ProjectionStore& store, char kind,
                                          std::string_view tenant, std::string_view id,
                                          std::string_view state_key,
                                          const google::protobuf::Timestamp& as_of) {
  const store::ReadView view = store.Snapshot();
  const int64_t at = TimestampNanos(as_of);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, view.Get(store::Cf::kState, state_key));
  std::optional<T> now;
  if (raw) {
    now.emplace();
    if (!now->ParseFromString(*raw)) return absl::DataLossError("corrupt record in projection");
    if (TimestampNanos(now->update_time()) > at) now.reset();  // changed after `as_of`
  }
  ASSIGN_OR_RETURN(auto found,
                   view.FindLastAtOrBefore(store::Cf::kIndex, AsOfPrefix(kind, tenant, id),
                                           AsOfKey(kind, tenant, id, at, INT64_MAX)));
  if (now) {
    if (!found) return now;
    // By time, then version: the current state is the latest version, so it comes last unless a
    // state it superseded bears a later time.
    const std::string_view found_key = found->first;
    const auto found_time =
        static_cast<int64_t>(store::GetBigEndian(found_key.substr(found_key.size() - 16)));
    if (TimestampNanos(now->update_time()) >= found_time) return now;
  }
  if (!found) return std::nullopt;
  T record;
  if (!record.ParseFromString(found->second)) {
    return absl::DataLossError("corrupt point-in-time record in projection");
  }
  return record;
}

// The aggregate as `version` left it; nullopt if no stored state has that version. The current
// state first; else walks the superseded ones, so it is for the rare read of an exact version
// (the answer to a repeated request), not for hot paths.
template <typename T>
absl::StatusOr<std::optional<T>> ReadVersion(const store::ProjectionStore& store, char kind,
                                             std::string_view tenant, std::string_view id,
                                             std::string_view state_key, int64_t version) {
  const store::ReadView view = store.Snapshot();
  ASSIGN_OR_RETURN(std::optional<std::string> raw, view.Get(store::Cf::kState, state_key));
  if (raw) {
    T now;
    if (!now.ParseFromString(*raw)) return absl::DataLossError("corrupt record in projection");
    if (now.version() == version) return now;
  }
  std::optional<T> found;
  bool corrupt = false;
  RETURN_IF_ERROR(view.Scan(
      store::Cf::kIndex, AsOfPrefix(kind, tenant, id), "",
      [&](std::string_view key, std::string_view value) {
        if (static_cast<int64_t>(store::GetBigEndian(key.substr(key.size() - 8))) != version) {
          return true;
        }
        found.emplace();
        corrupt = !found->ParseFromArray(value.data(), static_cast<int>(value.size()));
        return false;
      }));
  if (corrupt) return absl::DataLossError("corrupt point-in-time record in projection");
  return found;
}

}  // namespace crm::projection
