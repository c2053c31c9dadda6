// TopicFollower: reads one small topic from its start and then follows it on a thread of its own,
// handing every record to a callback — how a process keeps state that lives on a topic of its own
// rather than in a projection (the API keys of crm.access.v1, the data keys of crm.keys.v1).
// Writers append through it and wait until their record has been applied here.
//
//   ASSIGN_OR_RETURN(auto follower, TopicFollower::Start(log, "crm.access.v1",
//                                                        [&](const LogRecord& r) { ... }));
//   RETURN_IF_ERROR(follower->AppendAndApply(event, deadline));
//
// `apply` runs on the follower's thread, one record at a time, in each partition's order; it must
// do its own locking against readers. Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/eventlog/event_log.h"

namespace crm::eventlog {

class TopicFollower {
 public:
  using ApplyFn = std::function<void(const LogRecord& record)>;

  // Starts following `topic` from its start and returns once every record it held at the call
  // was applied, waiting at most `catch_up`. NOT_FOUND if the topic does not exist; UNAVAILABLE
  // if it could not be read in time.
  static absl::StatusOr<std::unique_ptr<TopicFollower>> Start(EventLog* log, std::string topic,
                                                              ApplyFn apply,
                                                              absl::Duration catch_up);
  ~TopicFollower();

  // Appends `event` (keyed by its aggregate id) and waits until it was applied here, up to
  // `deadline`. DEADLINE_EXCEEDED or the log's error otherwise.
  absl::Status AppendAndApply(const crm::common::v1::EventEnvelope& event, absl::Time deadline) {
    return AppendAndApply(std::vector<crm::common::v1::EventEnvelope>{event}, deadline);
  }
  // The same for several events at once: appended together, so they share the log's commits.
  absl::Status AppendAndApply(const std::vector<crm::common::v1::EventEnvelope>& events,
                              absl::Time deadline);

  // Waits until every record on the topic at the call was applied here, up to `deadline`.
  absl::Status CatchUp(absl::Time deadline);

 private:
  TopicFollower(EventLog* log, std::string topic, ApplyFn apply)
      : log_(log), topic_(std::move(topic)), apply_(std::move(apply)) {}
  void Follow();
  // The end offset of every partition now.
  absl::StatusOr<std::map<int32_t, int64_t>> Ends() const;
  // Waits until `ends` were reached.
  bool WaitFor(const std::map<int32_t, int64_t>& ends, absl::Time deadline);

  EventLog* const log_;
  const std::string topic_;
  const ApplyFn apply_;
  int32_t partitions_ = 0;
  std::unique_ptr<LogReader> reader_;
  std::mutex mu_;
  std::condition_variable applied_cv_;
  std::map<int32_t, int64_t> next_;  // next offset per partition; guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  std::thread follower_;
};

}  // namespace crm::eventlog
