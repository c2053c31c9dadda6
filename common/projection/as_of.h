// Point-in-time reads of an aggregate ("as it stood at the end of last quarter"). Apply writes
// the aggregate's state after every change under a key that sorts by the change's time; a read
// at time T seeks to the last key at or before T.
//
//   batch.Put(Cf::kIndex, AsOfKey('v', tenant, id, TimestampNanos(next.update_time()),
//                                 next.version()), SerializeDeterministic(next));   // apply
//   ASSIGN_OR_RETURN(std::optional<Deal> d, ReadAsOf<Deal>(store, 'v', tenant, id, as_of));
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

// The aggregate as it stood at `as_of` (its last change at or before it); nullopt if it did
// not exist yet. DATA_LOSS if the stored state does not parse.
template <typename T>
absl::StatusOr<std::optional<T>> ReadAsOf(const store::ProjectionStore& store, char kind,
                                          std::string_view tenant, std::string_view id,
                                          const google::protobuf::Timestamp& as_of) {
  const std::string target = AsOfKey(kind, tenant, id, TimestampNanos(as_of), INT64_MAX);
  ASSIGN_OR_RETURN(auto found, store.Latest().FindLastAtOrBefore(
                                   store::Cf::kIndex, AsOfPrefix(kind, tenant, id), target));
  if (!found) return std::nullopt;
  T record;
  if (!record.ParseFromString(found->second)) {
    return absl::DataLossError("corrupt point-in-time record in projection");
  }
  return record;
}

// The aggregate as `version` left it; nullopt if no stored state has that version. Walks the
// aggregate's stored states, so it is for the rare read of an exact version (the answer to a
// repeated request), not for hot paths.
template <typename T>
absl::StatusOr<std::optional<T>> ReadVersion(const store::ProjectionStore& store, char kind,
                                             std::string_view tenant, std::string_view id,
                                             int64_t version) {
  std::optional<T> found;
  bool corrupt = false;
  RETURN_IF_ERROR(store.Scan(
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
