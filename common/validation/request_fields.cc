#include "common/validation/request_fields.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/ids/ids.h"
#include "common/validation/normalize.h"

namespace crm::validation {
namespace {

uint64_t Fingerprint(const google::protobuf::Message& m) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across processes and replicas.
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

absl::Status Invalid(const std::string& field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", std::string(what)));
}

absl::Status CheckText(const std::string& field, const std::string& value, size_t max_chars,
                       bool required) {
  if (required && value.empty()) return Invalid(field, "is required");
  if (!IsCleanUtf8(value)) return Invalid(field, "must be UTF-8 text without control characters");
  if (CodePointCount(value) > max_chars) {
    return Invalid(field, absl::StrCat("must be at most ", max_chars, " characters"));
  }
  return absl::OkStatus();
}

absl::Status CheckTimestamp(const std::string& field, const google::protobuf::Timestamp& t) {
  if (t.seconds() < -62135596800 || t.seconds() > 253402300799 || t.nanos() < 0 ||
      t.nanos() > 999999999) {
    return Invalid(field, "is not a valid timestamp");
  }
  return absl::OkStatus();
}

absl::Status CheckId(const std::string& field, const std::string& id, const char* what) {
  if (id.empty()) return Invalid(field, "is required");
  if (!ids::IsWellFormed(id)) {
    return Invalid(field, absl::StrCat("is not a ", what, " id (26 characters)"));
  }
  return absl::OkStatus();
}

absl::Status CheckPrincipal(const std::string& field, const std::string& value, size_t max) {
  if (value.size() > max) {
    return Invalid(field, absl::StrCat("must be at most ", max, " characters"));
  }
  for (char c : value) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-' && c != '.' && c != '@') {
      return Invalid(field, "may hold only letters, digits and _ - . @");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRequestId(const std::string& id) {
  if (id.size() > 128) return Invalid("request_id", "must be at most 128 characters");
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) {
      return Invalid("request_id", "must be printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckImportId(const std::string& field, const std::string& import_id) {
  if (import_id.empty()) return Invalid(field, "is required");
  if (import_id.size() > 64) return Invalid(field, "must be at most 64 characters");
  for (char c : import_id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return Invalid(field, "must hold only letters, digits and . _ -");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckImportRows(const std::string& import_id, const std::vector<int64_t>& rows) {
  if (absl::Status s = CheckImportId("import_id", import_id); !s.ok()) return s;
  if (rows.empty() || rows.size() > static_cast<size_t>(kMaxImportRows)) {
    return Invalid("rows", absl::StrCat("must hold 1 to ", kMaxImportRows, " rows"));
  }
  std::set<int64_t> seen;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string field = absl::StrCat("rows[", i, "].row");
    if (rows[i] < 1) return Invalid(field, "must be 1 or more");
    if (!seen.insert(rows[i]).second) {
      return Invalid(field, absl::StrCat("row ", rows[i], " appears twice in the batch"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckWriteCommon(const std::string& request_id, int64_t expected_version) {
  if (absl::Status s = CheckRequestId(request_id); !s.ok()) return s;
  if (expected_version < 0) return Invalid("expected_version", "must not be negative");
  return absl::OkStatus();
}

absl::StatusOr<size_t> PageSize(int32_t requested, int32_t max, size_t fallback) {
  if (requested < 0 || requested > max) {
    return Invalid("page_size", absl::StrCat("must be 0 to ", max));
  }
  return requested == 0 ? fallback : static_cast<size_t>(requested);
}

std::string MakePageToken(char kind, const google::protobuf::Message& identity,
                          const std::string& position) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(std::string(1, kind), "|", Fingerprint(identity), "|", position));
}

absl::StatusOr<std::string> ReadPageToken(const std::string& token, char kind,
                                          const google::protobuf::Message& identity) {
  std::string raw;
  if (token.size() > 1024 || !absl::WebSafeBase64Unescape(token, &raw)) {
    return Invalid("page_token", "is not a token this service issued");
  }
  std::vector<std::string> parts = absl::StrSplit(raw, absl::MaxSplits('|', 2));
  uint64_t fp = 0;
  if (parts.size() != 3 || parts[0] != std::string(1, kind) || !absl::SimpleAtoi(parts[1], &fp)) {
    return Invalid("page_token", "is not a token this service issued");
  }
  if (fp != Fingerprint(identity)) {
    return Invalid("page_token", "belongs to a request with other filters or query");
  }
  return parts[2];
}

}  // namespace crm::validation
