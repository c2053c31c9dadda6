#include "common/eventlog/event_log.h"

#include <future>

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

}  // namespace crm::eventlog
