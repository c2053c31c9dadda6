// ChangeFeed: one subscriber's read of a service's events — the change feed that integration
// partners follow (each service's Subscribe). It reads the service's topic from a cursor, a time
// or the start of the log, keeps only the events of one tenant (and of the requested event and
// aggregate types), and gives each event with the cursor to resume after it.
//
//   FeedQuery query{.tenant = "acme", .topic = "crm.contact.v1", .cursor = request.cursor()};
//   ASSIGN_OR_RETURN(std::unique_ptr<ChangeFeed> feed, ChangeFeed::Open(log, query));
//   ASSIGN_OR_RETURN(std::vector<FeedItem> items, feed->Next(64, absl::Milliseconds(250)));
//
// Order: each partition's order, so every aggregate's events come in the order they happened
// (the log keys records by aggregate id); events of different aggregates may interleave
// differently on another read. Delivery is at least once: a subscriber that resumes from the
// cursor of the last item it processed sees every later event, and may see again ones it had
// received but not recorded. A cursor is the next offset of every partition of the topic,
// opaque to callers, valid as long as the log keeps those records.
//
// A ChangeFeed is used by one thread at a time; each has its own reader, so a slow subscriber
// holds back no one but itself.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/eventlog/event_log.h"
#include "crm/common/v1/envelope.pb.h"

namespace crm::feed {

struct FeedQuery {
  // The caller's tenant: only its events are given.
  std::string tenant;
  // The service's topic, e.g. "crm.contact.v1".
  std::string topic;
  // Only these event types ("crm.contact.v1.ContactCreated"); every type when empty.
  std::vector<std::string> event_types;
  // Only events of aggregates of these types ("contact"); every type when empty.
  std::vector<std::string> aggregate_types;
  // Continue after this cursor (from an earlier FeedItem); empty: not given.
  std::string cursor;
  // Without a cursor: only events that occurred at or after this time.
  std::optional<absl::Time> start_time;
};

struct FeedItem {
  // Resume here to continue after this item.
  std::string cursor;
  // The event; nullopt for a progress item (records were read past the last event given, none
  // of them for this subscriber: the cursor moves on all the same).
  std::optional<crm::common::v1::EventEnvelope> event;
};

// Checks `query`'s filters and start: INVALID_ARGUMENT naming the request field (event_types,
// aggregate_types, cursor, start_time) and what is wrong.
absl::Status ValidateQuery(const FeedQuery& query);

// The cursor at the current end of `topic`: a feed opened with it gives only the events appended
// after this call. NOT_FOUND or UNAVAILABLE from the log.
absl::StatusOr<std::string> EndCursor(eventlog::EventLog* log, const std::string& topic);

class ChangeFeed {
 public:
  // Opens a feed for `query` (validated as ValidateQuery does; a cursor must be one of this
  // topic's, for its partitions). NOT_FOUND or UNAVAILABLE from the log.
  static absl::StatusOr<std::unique_ptr<ChangeFeed>> Open(eventlog::EventLog* log, FeedQuery query);

  // The next events for this subscriber, from at most `max_records` records, waiting up to
  // `wait` for the first; ends with a progress item when records after the last event were read.
  // Empty when nothing arrived. UNAVAILABLE if the log cannot be read (call again).
  absl::StatusOr<std::vector<FeedItem>> Next(size_t max_records, absl::Duration wait);

 private:
  ChangeFeed(FeedQuery query, std::map<int32_t, int64_t> next,
             std::unique_ptr<eventlog::LogReader> reader);
  bool Wanted(const crm::common::v1::EventEnvelope& event) const;
  std::string Cursor() const;

  const FeedQuery query_;
  std::map<int32_t, int64_t> next_;
  std::unique_ptr<eventlog::LogReader> reader_;
};

}  // namespace crm::feed
