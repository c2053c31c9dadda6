#include "common/feed/change_feed.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/status_macros.h"

namespace crm::feed {
namespace {

using crm::common::v1::EventEnvelope;

constexpr size_t kMaxFilters = 50;
constexpr size_t kMaxNameLength = 200;
// What a cursor starts with, so another token is told apart (and the format can change).
constexpr char kCursorVersion[] = "feed1";

absl::Status Invalid(const std::string& field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", std::string(what)));
}

// The positions in `cursor` for `topic`. INVALID_ARGUMENT naming cursor otherwise.
absl::StatusOr<std::map<int32_t, int64_t>> ReadCursor(const std::string& cursor,
                                                      const std::string& topic) {
  const absl::Status invalid = Invalid("cursor", absl::StrCat("not a cursor of ", topic));
  std::string text;
  if (!absl::WebSafeBase64Unescape(cursor, &text)) return invalid;
  const std::vector<std::string> parts = absl::StrSplit(text, '|');
  if (parts.size() != 3 || parts[0] != kCursorVersion || parts[1] != topic) return invalid;
  absl::StatusOr<std::map<int32_t, int64_t>> positions = eventlog::DecodePositions(parts[2]);
  if (!positions.ok()) return invalid;
  return positions;
}

}  // namespace

absl::Status ValidateQuery(const FeedQuery& query) {
  const std::string package = query.topic + ".";
  for (size_t i = 0; i < query.event_types.size(); ++i) {
    const std::string& type = query.event_types[i];
    const std::string field = absl::StrCat("event_types[", i, "]");
    if (type.empty()) return Invalid(field, "must not be empty");
    if (type.size() > kMaxNameLength) {
      return Invalid(field, absl::StrCat("longer than ", kMaxNameLength, " characters"));
    }
    if (!absl::StartsWith(type, package) ||
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type) ==
            nullptr) {
      return Invalid(field, absl::StrCat("\"", type, "\" is not an event type of ", query.topic,
                                         " (e.g. \"", package, "...\")"));
    }
  }
  if (query.event_types.size() > kMaxFilters) {
    return Invalid("event_types", absl::StrCat("at most ", kMaxFilters, " entries"));
  }
  for (size_t i = 0; i < query.aggregate_types.size(); ++i) {
    const std::string& type = query.aggregate_types[i];
    const std::string field = absl::StrCat("aggregate_types[", i, "]");
    if (type.empty() || type.size() > 64 || !std::all_of(type.begin(), type.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || c == '_';
        })) {
      return Invalid(field, "an aggregate type is 1-64 of a-z and _, e.g. \"contact\"");
    }
  }
  if (query.aggregate_types.size() > kMaxFilters) {
    return Invalid("aggregate_types", absl::StrCat("at most ", kMaxFilters, " entries"));
  }
  if (!query.cursor.empty()) {
    if (query.start_time) return Invalid("start_time", "give a cursor or a start time, not both");
    RETURN_IF_ERROR(ReadCursor(query.cursor, query.topic).status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ChangeFeed>> ChangeFeed::Open(eventlog::EventLog* log,
                                                             FeedQuery query) {
  RETURN_IF_ERROR(ValidateQuery(query));
  ASSIGN_OR_RETURN(const int32_t partitions, log->PartitionCount(query.topic));
  std::map<int32_t, int64_t> next;
  for (int32_t p = 0; p < partitions; ++p) next[p] = 0;
  if (!query.cursor.empty()) {
    using Positions = std::map<int32_t, int64_t>;
    ASSIGN_OR_RETURN(Positions resumed, ReadCursor(query.cursor, query.topic));
    for (const auto& [partition, offset] : resumed) {
      if (!next.contains(partition)) {
        return Invalid("cursor", absl::StrCat("names partition ", partition, " but ", query.topic,
                                              " has ", partitions));
      }
      next[partition] = offset;
    }
  }
  std::vector<eventlog::PartitionStart> starts;
  for (const auto& [partition, offset] : next) starts.push_back({query.topic, partition, offset});
  ASSIGN_OR_RETURN(std::unique_ptr<eventlog::LogReader> reader, log->OpenReader(std::move(starts)));
  return std::unique_ptr<ChangeFeed>(
      new ChangeFeed(std::move(query), std::move(next), std::move(reader)));
}

ChangeFeed::ChangeFeed(FeedQuery query, std::map<int32_t, int64_t> next,
                       std::unique_ptr<eventlog::LogReader> reader)
    : query_(std::move(query)), next_(std::move(next)), reader_(std::move(reader)) {}

namespace {
std::string MakeCursor(const std::string& topic, const std::map<int32_t, int64_t>& next) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kCursorVersion, "|", topic, "|", eventlog::EncodePositions(next)));
}
}  // namespace

absl::StatusOr<std::string> EndCursor(eventlog::EventLog* log, const std::string& topic) {
  ASSIGN_OR_RETURN(const int32_t partitions, log->PartitionCount(topic));
  std::map<int32_t, int64_t> next;
  for (int32_t p = 0; p < partitions; ++p) {
    ASSIGN_OR_RETURN(next[p], log->EndOffset(topic, p));
  }
  return MakeCursor(topic, next);
}

std::string ChangeFeed::Cursor() const { return MakeCursor(query_.topic, next_); }

bool ChangeFeed::Wanted(const EventEnvelope& event) const {
  auto listed = [](const std::vector<std::string>& list, const std::string& value) {
    return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
  };
  if (event.tenant() != query_.tenant) return false;
  if (!listed(query_.event_types, event.event_type())) return false;
  if (!listed(query_.aggregate_types, event.aggregate_type())) return false;
  if (query_.start_time) {
    const absl::Time at = absl::FromUnixSeconds(event.occurred_at().seconds()) +
                          absl::Nanoseconds(event.occurred_at().nanos());
    if (at < *query_.start_time) return false;
  }
  return true;
}

absl::StatusOr<std::vector<FeedItem>> ChangeFeed::Next(size_t max_records, absl::Duration wait) {
  ASSIGN_OR_RETURN(std::vector<eventlog::LogRecord> records, reader_->Poll(max_records, wait));
  std::vector<FeedItem> items;
  bool passed_unwanted = false;
  for (const eventlog::LogRecord& record : records) {
    next_[record.partition] = record.offset + 1;
    EventEnvelope event;
    // A record that is not an event is the projections' dead letter, nothing a partner can use.
    if (!event.ParseFromString(record.value) || !Wanted(event)) {
      passed_unwanted = true;
      continue;
    }
    items.push_back({Cursor(), std::move(event)});
    passed_unwanted = false;
  }
  if (passed_unwanted) items.push_back({Cursor(), std::nullopt});
  return items;
}

}  // namespace crm::feed
