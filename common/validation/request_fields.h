// Checks every API shares: the error shape ("field: what is wrong"), text, timestamps, ids,
// request ids, paging and page tokens bound to the request they came from.
//
//   RETURN_IF_ERROR(CheckText("contact.job_title", title, 200));
//   ASSIGN_OR_RETURN(size_t page_size, PageSize(request.page_size(), 1000, 50));
//   std::string token = MakePageToken('L', PagingIdentity(request), last_id);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"

namespace crm::validation {

// INVALID_ARGUMENT "field: what".
absl::Status Invalid(const std::string& field, std::string_view what);

// UTF-8 without control characters, at most `max_chars` code points, non-empty if `required`.
absl::Status CheckText(const std::string& field, const std::string& value, size_t max_chars,
                       bool required = false);

// A google.protobuf.Timestamp in its valid range (years 1 to 9999).
absl::Status CheckTimestamp(const std::string& field, const google::protobuf::Timestamp& t);

// An id made by crm::ids::NewId; `what` names the kind in the message ("contact").
absl::Status CheckId(const std::string& field, const std::string& id, const char* what);

// A user or principal id: at most `max` characters of letters, digits and _ - . @.
absl::Status CheckPrincipal(const std::string& field, const std::string& value, size_t max);

// A request id: at most 128 printable ASCII characters without spaces (empty allowed).
absl::Status CheckRequestId(const std::string& request_id);

// A bulk import's id: 1-64 characters of letters, digits and . _ -.
absl::Status CheckImportId(const std::string& field, const std::string& import_id);

// Most rows in one message of a bulk import (ImportRecords).
inline constexpr int kMaxImportRows = 1000;

// What a message of ImportRecords must be as a whole: an import id (CheckImportId), 1 to
// kMaxImportRows rows, row numbers of 1 or more and unique within it ("rows[i].row").
absl::Status CheckImportRows(const std::string& import_id, const std::vector<int64_t>& rows);

template <typename ImportRequest>
absl::Status CheckImportBatch(const ImportRequest& request) {
  std::vector<int64_t> rows;
  rows.reserve(request.rows_size());
  for (const auto& row : request.rows()) rows.push_back(row.row());
  return CheckImportRows(request.import_id(), rows);
}

// A request id and an expected version (not negative).
absl::Status CheckWriteCommon(const std::string& request_id, int64_t expected_version);

// `requested` in 0..max; 0 means `fallback`.
absl::StatusOr<size_t> PageSize(int32_t requested, int32_t max, size_t fallback);

// A page token of `kind` carrying `position`, bound to the request `identity` (the request
// without its paging fields, see PagingIdentity).
std::string MakePageToken(char kind, const google::protobuf::Message& identity,
                          const std::string& position);

// The position in `token`. INVALID_ARGUMENT naming page_token if it is not a token of `kind`
// made for a request equal to `identity`.
absl::StatusOr<std::string> ReadPageToken(const std::string& token, char kind,
                                          const google::protobuf::Message& identity);

// The request without page_token and page_size: what a token is bound to.
template <typename Request>
Request PagingIdentity(const Request& r) {
  Request copy = r;
  copy.clear_page_token();
  copy.clear_page_size();
  return copy;
}

// A list request's page: its size (1..max, 0 meaning `fallback`) and where it resumes (from
// its page token of `kind`, empty on the first page).
struct ValidPage {
  std::string resume_after;
  size_t page_size = 0;
};
template <typename Request>
absl::StatusOr<ValidPage> ReadPage(const Request& request, char kind, int32_t max,
                                   size_t fallback) {
  ValidPage out;
  absl::StatusOr<size_t> size = PageSize(request.page_size(), max, fallback);
  if (!size.ok()) return size.status();
  out.page_size = *size;
  if (!request.page_token().empty()) {
    absl::StatusOr<std::string> after =
        ReadPageToken(request.page_token(), kind, PagingIdentity(request));
    if (!after.ok()) return after.status();
    out.resume_after = *std::move(after);
  }
  return out;
}

}  // namespace crm::validation
