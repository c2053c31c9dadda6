// Reading a projection's records kind by kind: every record of one kind and tenant lives under
// store::KindPrefix(kind, tenant) in kState, keyed by its id, so a page of them is one scan.
//
//   ASSIGN_OR_RETURN(std::vector<Order> page,
//                    store::ScanRecords<Order>(view, 'r', tenant, after_id, 500));
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/store/keys.h"
#include "common/store/projection_store.h"

namespace crm::store {

// Up to `limit` records of `kind` of `tenant` whose ids follow `after` (from the first when
// empty), in id order. DATA_LOSS if a record does not parse as T.
template <typename T>
absl::StatusOr<std::vector<T>> ScanRecords(const ReadView& view, char kind, std::string_view tenant,
                                           std::string_view after, size_t limit) {
  const std::string prefix = KindPrefix(kind, tenant);
  std::string start;
  if (!after.empty()) {
    start = prefix;
    start.append(after);
    start.push_back('\0');
  }
  std::vector<T> out;
  absl::Status error;
  const absl::Status scanned =
      view.Scan(Cf::kState, prefix, start, [&](std::string_view, std::string_view value) {
        if (out.size() >= limit) return false;
        if (!out.emplace_back().ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError(
              absl::StrCat("a record of kind ", std::string(1, kind), " does not parse"));
          return false;
        }
        return true;
      });
  if (!scanned.ok()) return scanned;
  if (!error.ok()) return error;
  return out;
}

}  // namespace crm::store
