#include "common/eventlog/topic_follower.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/process/thread_name.h"

namespace crm::eventlog {

absl::StatusOr<std::unique_ptr<TopicFollower>> TopicFollower::Start(EventLog* log,
                                                                    std::string topic,
                                                                    ApplyFn apply,
                                                                    absl::Duration catch_up) {
  absl::StatusOr<int32_t> partitions = log->PartitionCount(topic);
  if (!partitions.ok()) {
    return absl::Status(partitions.status().code(),
                        absl::StrCat("topic ", topic, ": ", partitions.status().message()));
  }
  std::unique_ptr<TopicFollower> follower(
      new TopicFollower(log, std::move(topic), std::move(apply)));
  follower->partitions_ = *partitions;
  std::vector<PartitionStart> starts;
  for (int32_t p = 0; p < *partitions; ++p) {
    starts.push_back({follower->topic_, p, 0});
    follower->next_[p] = 0;
  }
  absl::StatusOr<std::map<int32_t, int64_t>> ends = follower->Ends();
  if (!ends.ok()) return ends.status();
  absl::StatusOr<std::unique_ptr<LogReader>> reader = log->OpenReader(std::move(starts));
  if (!reader.ok()) return reader.status();
  follower->reader_ = *std::move(reader);
  follower->follower_ = std::thread([f = follower.get()] {
    process::NameThisThread("follow");
    f->Follow();
  });
  if (!follower->WaitFor(*ends, absl::Now() + catch_up)) {
    return absl::UnavailableError(absl::StrCat(
        "topic ", follower->topic_, " could not be read within ", absl::FormatDuration(catch_up)));
  }
  return follower;
}

TopicFollower::~TopicFollower() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  if (follower_.joinable()) follower_.join();
}

absl::StatusOr<std::map<int32_t, int64_t>> TopicFollower::Ends() const {
  std::map<int32_t, int64_t> ends;
  for (int32_t p = 0; p < partitions_; ++p) {
    absl::StatusOr<int64_t> end = log_->EndOffset(topic_, p);
    if (!end.ok()) return end.status();
    ends[p] = *end;
  }
  return ends;
}

bool TopicFollower::WaitFor(const std::map<int32_t, int64_t>& ends, absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return applied_cv_.wait_until(lock, absl::ToChronoTime(deadline), [&] {
    return std::all_of(ends.begin(), ends.end(),
                       [&](const auto& e) { return next_[e.first] >= e.second; });
  });
}

void TopicFollower::Follow() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    absl::StatusOr<std::vector<LogRecord>> records = reader_->Poll(256, absl::Milliseconds(100));
    if (!records.ok()) {
      spdlog::warn("{}: {}; retrying", topic_, records.status().ToString());
      continue;  // Poll waited its timeout
    }
    if (records->empty()) continue;
    for (const LogRecord& r : *records) apply_(r);
    std::lock_guard<std::mutex> lock(mu_);
    for (const LogRecord& r : *records) next_[r.partition] = r.offset + 1;
    applied_cv_.notify_all();
  }
}

absl::Status TopicFollower::AppendAndApply(
    const std::vector<crm::common::v1::EventEnvelope>& events, absl::Time deadline) {
  std::vector<std::future<absl::StatusOr<LogPosition>>> appended;
  appended.reserve(events.size());
  for (const crm::common::v1::EventEnvelope& event : events) {
    auto done = std::make_shared<std::promise<absl::StatusOr<LogPosition>>>();
    appended.push_back(done->get_future());
    log_->Append(topic_, event,
                 [done](absl::StatusOr<LogPosition> p) { done->set_value(std::move(p)); });
  }
  std::map<int32_t, int64_t> ends;
  for (std::future<absl::StatusOr<LogPosition>>& f : appended) {
    if (f.wait_until(absl::ToChronoTime(deadline)) != std::future_status::ready) {
      return absl::DeadlineExceededError(absl::StrCat(topic_, " did not take the change in time"));
    }
    absl::StatusOr<LogPosition> pos = f.get();
    if (!pos.ok()) return pos.status();
    int64_t& end = ends[pos->partition];
    end = std::max(end, pos->offset + 1);
  }
  if (!WaitFor(ends, deadline)) {
    return absl::DeadlineExceededError(
        absl::StrCat("the change is on ", topic_, " but not applied yet"));
  }
  return absl::OkStatus();
}

absl::Status TopicFollower::CatchUp(absl::Time deadline) {
  absl::StatusOr<std::map<int32_t, int64_t>> ends = Ends();
  if (!ends.ok()) return ends.status();
  if (!WaitFor(*ends, deadline)) {
    return absl::DeadlineExceededError(absl::StrCat(topic_, " was not read to its end in time"));
  }
  return absl::OkStatus();
}

}  // namespace crm::eventlog
