#include "common/eventlog/event_log.h"

#include <future>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace crm::eventlog {

void EventLog::Append(std::string_view topic, const crm::common::v1::EventEnvelope& event,
                      AppendCallback done) {
  std::string value;
  if (!event.SerializeToString(&value)) {
    done(absl::InternalError("event envelope could not be serialised"));
    return;
  }
  AppendRaw(topic, event.aggregate_id(), value, std::move(done));
}

absl::StatusOr<std::vector<LogRecord>> LogReader::Poll(size_t max_records, absl::Duration timeout) {
  std::vector<LogRecord> out;
  if (absl::Status s = PollInto(out, max_records, timeout); !s.ok()) return s;
  return out;
}

absl::Status EventLog::Checkpoint(const std::string& /*dir*/) {
  return absl::UnimplementedError(
      "this event log is kept outside the process; back it up by its own means");
}

absl::StatusOr<LogPosition> AppendAndWait(EventLog& log, std::string_view topic,
                                          const crm::common::v1::EventEnvelope& event) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<LogPosition>>>();
  auto future = promise->get_future();
  log.Append(topic, event,
             [promise](absl::StatusOr<LogPosition> pos) { promise->set_value(std::move(pos)); });
  return future.get();
}

std::string EncodePositions(const std::map<int32_t, int64_t>& next) {
  return absl::StrJoin(next, ",", absl::PairFormatter("="));
}

absl::StatusOr<std::map<int32_t, int64_t>> DecodePositions(const std::string& text) {
  std::map<int32_t, int64_t> next;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    const std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(item, '=');
    int32_t partition = 0;
    int64_t offset = 0;
    if (!absl::SimpleAtoi(kv.first, &partition) || !absl::SimpleAtoi(kv.second, &offset) ||
        partition < 0 || offset < 0 || next.contains(partition)) {
      return absl::InvalidArgumentError("not a list of log positions");
    }
    next[partition] = offset;
  }
  return next;
}

}  // namespace crm::eventlog
