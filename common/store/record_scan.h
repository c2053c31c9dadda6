// Reading a projection's records kind by kind: every record of one kind and tenant lives under
// store::KindPrefix(kind, tenant) in kState, keyed by its id, so a page of them is one scan.
//
//   ASSIGN_OR_RETURN(std::vector<Order> page,
//                    store::ScanRecords<Order>(view, 'r', tenant, after_id, 500));
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
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

// Every record of `kind` of every tenant, as (tenant, record), in key order: what a background
// worker (a dispatcher) works through. DATA_LOSS if a record does not parse as T.
template <typename T>
absl::StatusOr<std::vector<std::pair<std::string, T>>> ScanAllTenants(const ReadView& view,
                                                                      char kind) {
  std::vector<std::pair<std::string, T>> out;
  absl::Status error;
  const std::string prefix{kind, '/'};
  const absl::Status scanned =
      view.Scan(Cf::kState, prefix, "", [&](std::string_view key, std::string_view value) {
        const std::string_view rest = key.substr(prefix.size());
        const size_t end = rest.find('\0');
        T record;
        if (end == std::string_view::npos ||
            !record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError(
              absl::StrCat("a record of kind ", std::string(1, kind), " does not parse"));
          return false;
        }
        out.emplace_back(std::string(rest.substr(0, end)), std::move(record));
        return true;
      });
  if (!scanned.ok()) return scanned;
  if (!error.ok()) return error;
  return out;
}

// A page of the records under `prefix` in kState (keyed prefix + id) whose ids follow `after`:
// up to `limit` that `keep` accepts, reading at most `max_scanned`, so a rare filter does not
// scan without end. `scanned_to` is the last id read (resume after it); `at_end` when nothing
// is left.
template <typename T>
struct FilteredPage {
  std::vector<T> records;
  std::string scanned_to;
  bool at_end = true;
};
template <typename T>
absl::StatusOr<FilteredPage<T>> ScanFiltered(const ReadView& view, const std::string& prefix,
                                             std::string_view after, size_t limit,
                                             size_t max_scanned,
                                             const std::function<bool(const T&)>& keep) {
  std::string start;
  if (!after.empty()) {
    start = prefix;
    start.append(after);
    start.push_back('\0');
  }
  FilteredPage<T> page;
  size_t scanned = 0;
  absl::Status error;
  const absl::Status result =
      view.Scan(Cf::kState, prefix, start, [&](std::string_view key, std::string_view value) {
        if (page.records.size() >= limit || scanned >= max_scanned) {
          page.at_end = false;
          return false;
        }
        ++scanned;
        page.scanned_to = std::string(key.substr(prefix.size()));
        T record;
        if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError(absl::StrCat("a record under ", prefix, " does not parse"));
          return false;
        }
        if (keep(record)) page.records.push_back(std::move(record));
        return true;
      });
  if (!result.ok()) return result;
  if (!error.ok()) return error;
  return page;
}

}  // namespace crm::store
