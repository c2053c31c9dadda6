// ExportSource: one kind of record a service gives in its ExportRecords stream, page by page
// (crmctl export; common/grpc/export_stream.h serves the stream). A source is a stateful
// function: each call returns the next page, an empty one at the end.
//
//   std::vector<ExportSource<ExportRecordsResponse>> sources = {
//       KindSource<Contact, ExportRecordsResponse>(view, 'c', tenant,
//           [](Contact& c, ExportRecordsResponse& r) { *r.mutable_contact() = std::move(c); })};
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/store/record_scan.h"

namespace crm::projection {

template <typename Response>
using ExportSource = std::function<absl::StatusOr<std::vector<Response>>()>;

// Records per page: a stream holds one page in memory.
inline constexpr size_t kExportPage = 256;

// Every record of `kind` of `tenant` in `view` (a snapshot, for a point-in-time export), each
// put into a response by `put`, in id order.
template <typename Record, typename Response>
ExportSource<Response> KindSource(store::ReadView view, char kind, std::string tenant,
                                  std::function<void(Record&, Response&)> put) {
  auto after = std::make_shared<std::string>();
  return [view = std::move(view), kind, tenant = std::move(tenant), put = std::move(put),
          after]() -> absl::StatusOr<std::vector<Response>> {
    absl::StatusOr<std::vector<Record>> records =
        store::ScanRecords<Record>(view, kind, tenant, *after, kExportPage);
    if (!records.ok()) return records.status();
    std::vector<Response> out;
    out.reserve(records->size());
    for (Record& record : *records) {
      *after = record.id();
      put(record, out.emplace_back());
    }
    return out;
  };
}

// A source of one page of records already at hand (small kinds such as pipelines).
template <typename Response>
ExportSource<Response> FixedSource(std::vector<Response> records) {
  auto given = std::make_shared<bool>(false);
  return [records = std::move(records), given]() -> absl::StatusOr<std::vector<Response>> {
    if (*given) return std::vector<Response>();
    *given = true;
    return records;
  };
}

}  // namespace crm::projection
