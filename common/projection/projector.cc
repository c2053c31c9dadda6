#include "common/projection/projector.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/process/thread_name.h"
#include "common/projection/records.h"
#include "common/status/status_macros.h"
#include "common/store/big_endian.h"

namespace crm::projection {

using crm::common::v1::CommandOutcome;
using crm::common::v1::EventEnvelope;
using store::Cf;

using store::DecodeInt64;
using store::EncodeInt64;
using store::PutBigEndian;

namespace keys {

std::string EventOutcome(std::string_view event_id) {
  std::string k = "o/e/";
  k.append(event_id);
  return k;
}

std::string RequestOutcome(std::string_view tenant, std::string_view request_id) {
  std::string k = "o/r/";
  k.append(tenant);
  k.push_back('\0');
  k.append(request_id);
  return k;
}

std::string Position(std::string_view topic, int32_t partition) {
  std::string k = "p/";
  k.append(topic);
  k.push_back('\0');
  PutBigEndian(k, static_cast<uint32_t>(partition), 4);
  return k;
}

std::string Counter(std::string_view name) {
  std::string k = "k/";
  k.append(name);
  return k;
}

std::string DeadLetter(std::string_view topic, int32_t partition, int64_t offset) {
  std::string k = "d/";
  k.append(topic);
  k.push_back('\0');
  PutBigEndian(k, static_cast<uint32_t>(partition), 4);
  PutBigEndian(k, static_cast<uint64_t>(offset), 8);
  return k;
}
std::string Rebuilding() { return "r/rebuilding"; }
}  // namespace keys

namespace {

constexpr char kEventsSeen[] = "events_seen";
// How long the projector waits before polling again after the log failed to answer.
constexpr absl::Duration kPollRetryDelay = absl::Milliseconds(200);
constexpr char kUnknownEvents[] = "unknown_events";
constexpr char kDeadLetters[] = "dead_letters";

// Whether this build has a schema for `event_type` (event types are message names). Asked for
// every event: the answers for the few types a log holds are kept per thread (the pool's lookup
// takes a lock and hashes the name each time).
bool KnownToThisBuild(const std::string& event_type) {
  thread_local absl::flat_hash_map<std::string, bool> known;
  const auto it = known.find(event_type);
  if (it != known.end()) return it->second;
  const bool found = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
                         event_type) != nullptr;
  if (known.size() < 4096) known.emplace(event_type, found);  // a bound against junk types
  return found;
}

}  // namespace

std::string SerializeDeterministic(const google::protobuf::Message& message) {
  // Sized first, then written into the string in one piece: a stream over the growing string
  // took a tenth of a rebuild's apply in its profile (growth, and a call per chunk).
  const size_t size = message.ByteSizeLong();
  std::string out(size, '\0');
  google::protobuf::io::ArrayOutputStream array(out.data(), static_cast<int>(size));
  google::protobuf::io::CodedOutputStream coded(&array);
  coded.SetSerializationDeterministic(true);
  message.SerializeWithCachedSizes(&coded);
  return out;
}

namespace {

// absl's containers take absl::string_view, which Debian's abseil does not alias to std's.
absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::vector<std::string> RecordedTopics(const std::vector<std::string>& topics,
                                        const EventApplier& applier) {
  std::vector<std::string> recorded;
  for (const std::string& topic : topics) {
    if (!applier.SecondCopyChangesNothing(topic)) recorded.push_back(topic);
  }
  return recorded;
}

}  // namespace

absl::Status RequestIdUsedFor(std::string_view request_id, std::string_view command) {
  return absl::InvalidArgumentError(absl::StrCat("request_id: \"", AbslView(request_id),
                                                 "\" was already used for ", AbslView(command),
                                                 "; use a new request id"));
}

Projector::Projector(ProjectorOptions options, eventlog::EventLog* log,
                     store::ProjectionStore* store, EventApplier* applier)
    : options_(std::move(options)),
      log_(log),
      store_(store),
      applier_(applier),
      recorded_topics_(RecordedTopics(options_.topics, *applier)) {}

bool Projector::Recorded(std::string_view topic) const {
  for (const std::string& t : recorded_topics_) {
    if (t == topic) return true;
  }
  return false;
}

void Projector::Expect(std::string_view event_id) {
  absl::MutexLock lock(&expected_mu_);
  if (expected_.try_emplace(AbslView(event_id)).second)
    expecting_.fetch_add(1, std::memory_order_release);
}

void Projector::Unexpect(std::string_view event_id) {
  absl::MutexLock lock(&expected_mu_);
  if (expected_.erase(AbslView(event_id)) > 0) expecting_.fetch_sub(1, std::memory_order_release);
}

void Projector::Deliver(std::string_view event_id, const CommandOutcome& outcome) {
  absl::MutexLock lock(&expected_mu_);
  const auto it = expected_.find(AbslView(event_id));
  if (it != expected_.end() && !it->second) it->second = outcome;
}

absl::StatusOr<CommandOutcome> Projector::TakeOutcome(std::string_view event_id) {
  {
    absl::MutexLock lock(&expected_mu_);
    const auto it = expected_.find(AbslView(event_id));
    if (it != expected_.end()) {
      std::optional<CommandOutcome> kept = std::move(it->second);
      expected_.erase(it);
      expecting_.fetch_sub(1, std::memory_order_release);
      if (kept) return *std::move(kept);
    }
  }
  return ReadOutcome(event_id);
}

Projector::~Projector() { Stop(); }

absl::Status Projector::Start() {
  std::vector<eventlog::PartitionStart> starts;
  std::map<TopicPartition, int64_t> next;
  const absl::Time deadline = absl::Now() + options_.start_timeout;
  bool empty = true;
  for (const std::string& topic : options_.topics) {
    absl::StatusOr<int32_t> partitions = log_->PartitionCount(topic);
    while (absl::IsUnavailable(partitions.status()) && absl::Now() < deadline) {
      spdlog::warn("projection {}: log not reachable yet ({}); retrying", options_.name,
                   partitions.status().ToString());
      absl::SleepFor(absl::Milliseconds(200));  // Retry back-off, not synchronisation.
      partitions = log_->PartitionCount(topic);
    }
    if (!partitions.ok()) {
      return absl::Status(partitions.status().code(),
                          absl::StrCat("projection ", options_.name, ": topic ", topic, ": ",
                                       partitions.status().message()));
    }
    for (int32_t p = 0; p < *partitions; ++p) {
      ASSIGN_OR_RETURN(std::optional<std::string> stored,
                       store_->Unchecked().Get(Cf::kLog, keys::Position(topic, p)));
      const int64_t offset = stored ? DecodeInt64(*stored) : 0;
      empty = empty && offset == 0;
      starts.push_back({topic, p, offset});
      next[{topic, p}] = offset;
    }
  }
  ASSIGN_OR_RETURN(reader_, log_->OpenReader(std::move(starts)));
  ASSIGN_OR_RETURN(std::optional<std::string> rebuilding,
                   store_->Unchecked().Get(Cf::kLog, keys::Rebuilding()));
  if (rebuilding) {
    spdlog::warn("projection {}: a rebuild was under way; continuing it", options_.name);
    store_->SetUnavailable(
        absl::StrCat("projection ", options_.name, " is being rebuilt from the log; retry later"));
    rebuild_began_ = absl::Now();
  }
  applied_since_empty_ = empty || rebuilding ? 0 : -1;
  {
    absl::MutexLock lock(&mu_);
    next_ = std::move(next);
    started_ = true;
    rebuilding_ = rebuilding.has_value();
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Projector::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();  // it ends the commit under way, if any
  {
    absl::MutexLock lock(&commit_mu_);
    committer_stopping_ = true;
  }
  if (committer_.joinable()) committer_.join();
  if (compactor_.joinable()) {
    store_->CancelCompaction();
    compactor_.join();
  }
  NotifyWaiters(/*stopping=*/true);
  reader_.reset();
}

void Projector::Run() {
  process::NameThisThread(absl::StrCat("proj-", options_.name));
  // Ends the commit under way, if any (a batch applied while the next was built).
  auto finish_committing = [this] {
    if (absl::Status s = FinishCommitting(); !s.ok()) {
      spdlog::critical("projection {}: {}; stopping the process", options_.name, s.ToString());
      std::abort();
    }
  };
  for (;;) {
    bool stop = false;
    bool rebuild = false;
    bool rebuilding = false;
    {
      absl::MutexLock lock(&mu_);
      stop = stopping_;
      rebuild = rebuild_requested_;
      rebuilding = rebuilding_;
    }
    if (stop) {
      finish_committing();
      return;
    }
    if (rebuild) {
      finish_committing();
      if (absl::Status s = BeginRebuild(); !s.ok()) {
        spdlog::warn("projection {}: cannot begin the rebuild yet: {}", options_.name,
                     s.ToString());
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithTimeout(absl::Condition(&stopping_), kPollRetryDelay);
        continue;
      }
      rebuilding = true;
    }
    if (rebuilding) {
      if (absl::Status s = MaybeEndRebuild(); !s.ok()) {
        spdlog::warn("projection {}: rebuild: {}", options_.name, s.ToString());
      }
    }
    if (absl::Status s = reader_->PollInto(polled_, options_.max_batch, absl::Milliseconds(50));
        !s.ok()) {
      spdlog::warn("projection {}: reading the log failed: {}", options_.name, s.ToString());
      finish_committing();
      NotifyWaiters(false);
      // A failure that returns at once (a damaged record, a broker refusing) must not spin:
      // wait a little, or until Stop.
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), kPollRetryDelay);
      continue;
    }
    if (!polled_.empty()) {
      if (absl::Status s = ApplyBatch(polled_); !s.ok()) {
        // The projection's own storage failed: continuing could only diverge from the log.
        spdlog::critical("projection {}: {}; stopping the process", options_.name, s.ToString());
        std::abort();
      }
      if (applied_since_empty_ >= 0) applied_since_empty_ += static_cast<int64_t>(polled_.size());
    } else {
      finish_committing();  // caught up: what was applied is committed before waiting for more
      if (!rebuilding && applied_since_empty_ >= 0) MaybeCompact();
    }
    NotifyWaiters(false);
  }
}

absl::Status Projector::RequestRebuild(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  if (!started_ || stopping_) {
    return absl::FailedPreconditionError(
        absl::StrCat("projection ", options_.name, " is not running"));
  }
  rebuild_requested_ = true;
  auto emptied = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !rebuild_requested_ || stopping_;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&emptied), deadline)) {
    return absl::DeadlineExceededError(
        absl::StrCat("projection ", options_.name,
                     " has not begun its rebuild yet (the log cannot be reached); it will"));
  }
  if (rebuild_requested_) return absl::UnavailableError("the service is shutting down");
  return absl::OkStatus();
}

bool Projector::rebuilding() const {
  absl::MutexLock lock(&mu_);
  return rebuilding_;
}

absl::Status Projector::BeginRebuild() {
  std::vector<eventlog::PartitionStart> starts;
  std::map<TopicPartition, int64_t> next;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [tp, _] : next_) {
      starts.push_back({tp.first, tp.second, 0});
      next[tp] = 0;
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<eventlog::LogReader> reader,
                   log_->OpenReader(std::move(starts)));
  // A compaction of the data about to go is wasted work: end it (the rebuild compacts anew).
  if (compactor_.joinable()) {
    store_->CancelCompaction();
    compactor_.join();
    store_->ResumeCompaction();
  }
  store_->SetUnavailable(
      absl::StrCat("projection ", options_.name, " is being rebuilt from the log; retry later"));
  if (absl::Status s = store_->Clear(keys::Rebuilding(), "1"); !s.ok()) {
    spdlog::critical("projection {}: emptying the store failed: {}; stopping the process",
                     options_.name, s.ToString());
    std::abort();
  }
  reader_ = std::move(reader);
  rebuild_target_.clear();
  rebuild_began_ = absl::Now();
  applied_since_empty_ = 0;
  applier_->Committed();
  {
    absl::MutexLock lock(&mu_);
    next_ = std::move(next);
    rebuild_requested_ = false;
    rebuilding_ = true;
  }
  spdlog::warn("projection {}: emptied; rebuilding from the start of the log", options_.name);
  return absl::OkStatus();
}

absl::Status Projector::MaybeEndRebuild() {
  std::map<TopicPartition, int64_t> next;
  {
    absl::MutexLock lock(&mu_);
    next = next_;
  }
  if (rebuild_target_.empty()) {
    std::map<TopicPartition, int64_t> target;
    for (const auto& [tp, _] : next) {
      ASSIGN_OR_RETURN(target[tp], log_->EndOffset(tp.first, tp.second));
    }
    rebuild_target_ = std::move(target);
  }
  for (const auto& [tp, end] : rebuild_target_) {
    if (next[tp] < end) return absl::OkStatus();
  }
  RETURN_IF_ERROR(FinishCommitting());  // one past the target may be under way
  store::ProjectionStore::Batch batch = store_->NewBatch();
  batch.Delete(Cf::kLog, keys::Rebuilding());
  RETURN_IF_ERROR(store_->Commit(batch, /*sync=*/true));
  store_->SetAvailable();
  applier_->Committed();
  {
    absl::MutexLock lock(&mu_);
    rebuilding_ = false;
  }
  rebuild_target_.clear();
  spdlog::info("projection {}: rebuilt from the log in {}", options_.name,
               absl::FormatDuration(absl::Now() - rebuild_began_));
  return absl::OkStatus();
}

void Projector::MaybeCompact() {
  const int64_t applied = applied_since_empty_;
  applied_since_empty_ = -1;  // once per build from empty
  if (options_.compact_after_records <= 0 || applied < options_.compact_after_records) return;
  if (compactor_.joinable()) compactor_.join();  // done: a rebuild ended any under way
  spdlog::info("projection {}: caught up after {} records into an empty store; compacting it",
               options_.name, applied);
  compactor_ = std::thread([this] {
    process::NameThisThread(absl::StrCat("compact-", options_.name));
    const absl::Time start = absl::Now();
    if (absl::Status s = store_->Compact(); !s.ok()) {
      // Nothing is lost: the store stays as it was, only spread over more sorted runs. Stop
      // cancels it: that is no fault.
      if (absl::IsCancelled(s)) {
        spdlog::info("projection {}: compaction stopped with the service", options_.name);
      } else {
        spdlog::warn("projection {}: {}", options_.name, s.ToString());
      }
      return;
    }
    spdlog::info("projection {}: compacted in {}", options_.name,
                 absl::FormatDuration(absl::Now() - start));
  });
}

absl::Status Projector::ApplyBatch(const std::vector<eventlog::LogRecord>& records) {
  store::ProjectionStore::Batch batch = store_->NewBatch();
  if (committing_ != nullptr) batch.ReadThrough(&committing_->batch);
  std::map<std::string, int64_t> counters;
  std::map<TopicPartition, int64_t> advanced;
  std::pair<const TopicPartition, int64_t>* at = nullptr;  // the last record's in `advanced`
  // The records go in runs of kReadAhead: each run's envelopes are parsed first, so that what
  // the applier will read for the whole run is read in one go (EventApplier::WillRead). A run
  // small enough that its envelopes stay in the core's caches until they are applied. A service
  // keeping up with its writes applies a record or two at a time: nothing to read together, so
  // a batch of fewer than kReadAheadFrom records reads one by one.
  const bool read_ahead = records.size() >= kReadAheadFrom;
  if (parsed_.size() < kReadAhead) parsed_.resize(kReadAhead);
  for (size_t run = 0; run < records.size(); run += kReadAhead) {
    const size_t n = std::min(kReadAhead, records.size() - run);
    std::vector<std::string> ahead;
    for (size_t i = 0; i < n; ++i) {
      EventEnvelope& event = parsed_[i];
      parsed_ok_[i] = ParseEnvelope(records[run + i].value, event) && !event.event_id().empty();
      if (parsed_ok_[i] && read_ahead) applier_->WillRead(event, ahead);
    }
    if (read_ahead) RETURN_IF_ERROR(batch.ReadAhead(Cf::kState, std::move(ahead)));
    for (size_t i = 0; i < n; ++i) {
      const eventlog::LogRecord& r = records[run + i];
      RETURN_IF_ERROR(ApplyOne(r, parsed_ok_[i], parsed_[i], batch, counters));
      // A poll returns its records partition by partition: the entry of the record before is
      // nearly always this one's.
      if (at == nullptr || at->first.second != r.partition || at->first.first != r.topic) {
        at = &*advanced.try_emplace(TopicPartition(r.topic, r.partition), 0).first;
      }
      at->second = r.offset + 1;
    }
  }
  RETURN_IF_ERROR(applier_->Finish(batch));
  // Each partition's position once, where its last record leaves it (read back only from the
  // committed store).
  for (const auto& [tp, next] : advanced) {
    batch.Put(Cf::kLog, keys::Position(tp.first, tp.second), EncodeInt64(next));
  }
  for (const auto& [name, delta] : counters) {
    ASSIGN_OR_RETURN(std::optional<std::string> old, batch.Get(Cf::kLog, keys::Counter(name)));
    batch.Put(Cf::kLog, keys::Counter(name), EncodeInt64((old ? DecodeInt64(*old) : 0) + delta));
  }
  // Commits stay in log order: the one under way ends first.
  std::unique_ptr<Committing> done;
  RETURN_IF_ERROR(FinishCommitting(&done));
  batch.ReadThrough(nullptr);
  applier_->Built();
  if (options_.pipelined_commits && records.size() >= options_.max_batch) {
    committing_ = std::make_unique<Committing>(
        Committing{std::move(batch), std::move(advanced), absl::OkStatus(), false});
    if (!committer_.joinable()) committer_ = std::thread([this] { CommitLoop(); });
    absl::MutexLock lock(&commit_mu_);
    to_commit_ = committing_.get();
    to_retire_ = std::move(done);
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(store_->Commit(batch));
  Committed(advanced);
  return absl::OkStatus();
}

absl::Status Projector::FinishCommitting(std::unique_ptr<Committing>* done) {
  if (committing_ == nullptr) return absl::OkStatus();
  std::unique_ptr<Committing> c = std::move(committing_);
  {
    absl::MutexLock lock(&commit_mu_);
    commit_mu_.Await(absl::Condition(&c->committed));
  }
  RETURN_IF_ERROR(c->status);
  Committed(c->advanced);
  if (done != nullptr) *done = std::move(c);
  return absl::OkStatus();
}

void Projector::CommitLoop() {
  process::NameThisThread(absl::StrCat("commit-", options_.name));
  for (;;) {
    Committing* c = nullptr;
    std::unique_ptr<Committing> retired;
    {
      absl::MutexLock lock(&commit_mu_);
      commit_mu_.Await(absl::Condition(
          +[](Projector* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->commit_mu_) {
            return p->to_commit_ != nullptr || p->committer_stopping_;
          },
          this));
      if (to_commit_ == nullptr) return;  // stopping, nothing left
      c = std::exchange(to_commit_, nullptr);
      retired = std::move(to_retire_);
    }
    absl::Status status = store_->Commit(c->batch);
    {
      absl::MutexLock lock(&commit_mu_);
      c->status = std::move(status);
      c->committed = true;
    }
    retired.reset();  // once the applying thread can go on
  }
}

void Projector::Committed(const std::map<TopicPartition, int64_t>& advanced) {
  applier_->Committed();
  absl::MutexLock lock(&mu_);
  for (const auto& [tp, offset] : advanced) next_[tp] = offset;
}

absl::Status Projector::ApplyOne(const eventlog::LogRecord& record, bool parsed,
                                 EventEnvelope& event, store::ProjectionStore::Batch& batch,
                                 std::map<std::string, int64_t>& counters) {
  if (!parsed) {
    crm::common::v1::DeadLetter dl;
    dl.set_topic(record.topic);
    dl.set_partition(record.partition);
    dl.set_offset(record.offset);
    dl.set_key(record.key);
    dl.set_value(record.value);
    dl.set_error(event.event_id().empty() ? "not an event envelope (no event id)"
                                          : "not an event envelope");
    batch.Put(Cf::kLog, keys::DeadLetter(record.topic, record.partition, record.offset),
              SerializeDeterministic(dl));
    ++counters[kDeadLetters];
    spdlog::warn("projection {}: record {}/{}@{} is not an event; set aside as a dead letter",
                 options_.name, record.topic, record.partition, record.offset);
    return absl::OkStatus();
  }
  const bool recorded = Recorded(record.topic);
  const std::string event_key = recorded ? keys::EventOutcome(event.event_id()) : std::string();
  if (recorded) {
    ASSIGN_OR_RETURN(std::optional<std::string> seen, batch.Get(Cf::kIndex, event_key));
    if (seen) return absl::OkStatus();  // A second copy of an event: already applied.
  }
  // Whether a caller may be waiting on this event's outcome (Expect); rarely so in a rebuild.
  const bool telling = expecting_.load(std::memory_order_acquire) > 0;
  // A request id is recognised on the own topic only: other services' request ids are theirs.
  std::string request_key;
  std::optional<CommandOutcome> earlier;
  if (!event.request_id().empty() && record.topic == options_.own_topic) {
    request_key = keys::RequestOutcome(event.tenant(), event.request_id());
    ASSIGN_OR_RETURN(std::optional<std::string> first, batch.Get(Cf::kIndex, request_key));
    if (first) {
      earlier.emplace();
      if (!earlier->ParseFromString(*first)) {
        return absl::DataLossError(
            absl::StrCat("corrupt outcome for request ", event.request_id()));
      }
      if (earlier->event_id() == event.event_id()) {
        // A second copy of the event that took the request, where no event record is kept.
        if (telling) Deliver(event.event_id(), *earlier);
        return absl::OkStatus();
      }
    }
  }
  ++counters[kEventsSeen];

  CommandOutcome outcome;
  // Records `outcome` where it is kept: under the event id where the topic keeps such records,
  // under the request id if `request` (the request's first outcome), for a waiting caller.
  auto record_outcome = [&](bool request) {
    if (recorded || request) {
      const std::string value = SerializeDeterministic(outcome);
      if (recorded) batch.Put(Cf::kIndex, event_key, value);
      if (request) batch.Put(Cf::kIndex, request_key, value);
    }
    if (telling) Deliver(event.event_id(), outcome);
  };
  auto begin_outcome = [&] {
    outcome.set_event_id(event.event_id());
    outcome.set_command(event.command());
    outcome.set_aggregate_id(event.aggregate_id());
  };
  if (earlier) {
    if (earlier->command() == event.command()) {
      outcome = *std::move(earlier);  // The first outcome stands; this event takes no effect.
    } else {
      begin_outcome();
      const absl::Status refused = RequestIdUsedFor(event.request_id(), earlier->command());
      outcome.set_code(static_cast<int>(refused.code()));
      outcome.set_message(std::string(refused.message()));
    }
    record_outcome(false);
    return absl::OkStatus();
  }

  // A type this projection does not apply, or one this build has no schema for at all (a newer
  // producer's, even under a prefix the projection takes whole, such as "crm.contact.v1.").
  if (!applier_->Handles(event.event_type()) || !KnownToThisBuild(event.event_type())) {
    ++counters[kUnknownEvents];
    begin_outcome();
    outcome.set_code(static_cast<int>(absl::StatusCode::kUnimplemented));
    outcome.set_message(absl::StrCat("event type ", event.event_type(), " is not known here"));
    record_outcome(false);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(absl::Status decision, applier_->Apply(event, batch));
  if (!recorded && request_key.empty() && !telling) return absl::OkStatus();
  begin_outcome();
  outcome.set_code(static_cast<int>(decision.code()));
  outcome.set_message(std::string(decision.message()));
  outcome.set_version(decision.ok() ? event.aggregate_version() : event.expected_version());
  record_outcome(!request_key.empty());
  return absl::OkStatus();
}

void Projector::NotifyWaiters(bool stopping) {
  struct Ready {
    std::string event_id;
    OutcomeCallback done;
    absl::Status status;
  };
  std::vector<Ready> ready;
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    for (auto& [tp, list] : waiters_) {
      const auto it = next_.find(tp);
      const int64_t next = it == next_.end() ? 0 : it->second;
      std::vector<Waiter> keep;
      for (Waiter& w : list) {
        if (w.offset < next) {
          ready.push_back({std::move(w.event_id), std::move(w.done), absl::OkStatus()});
        } else if (stopping) {
          ready.push_back({std::move(w.event_id), std::move(w.done),
                           absl::UnavailableError("the service is shutting down; the write is in "
                                                  "the log and takes effect on restart")});
        } else if (w.deadline <= now) {
          ready.push_back(
              {std::move(w.event_id), std::move(w.done),
               absl::DeadlineExceededError("the write is in the log but the projection had not "
                                           "applied it by the deadline; read it back later")});
        } else {
          keep.push_back(std::move(w));
        }
      }
      list = std::move(keep);
    }
  }
  for (Ready& r : ready) {
    if (r.status.ok()) {
      r.done(TakeOutcome(r.event_id));
    } else {
      Unexpect(r.event_id);
      r.done(r.status);
    }
  }
}

void Projector::WhenApplied(const eventlog::LogPosition& position, std::string event_id,
                            absl::Time deadline, OutcomeCallback done) {
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    const TopicPartition tp{position.topic, position.partition};
    const auto it = next_.find(tp);
    if (stopping_) {
      refused = absl::UnavailableError("the service is shutting down");
    } else if (it == next_.end()) {
      refused = absl::InternalError(absl::StrCat("projection ", options_.name, " does not read ",
                                                 position.topic, "/", position.partition));
    } else if (position.offset >= it->second) {
      waiters_[tp].push_back(
          Waiter{position.offset, std::move(event_id), deadline, std::move(done)});
      return;
    }
  }
  if (!refused.ok()) {
    Unexpect(event_id);
    done(refused);
    return;
  }
  // Already applied: answer on the caller's thread.
  done(TakeOutcome(event_id));
}

absl::StatusOr<CommandOutcome> Projector::ReadOutcome(std::string_view event_id) const {
  // Unchecked: an event applied during a rebuild has its outcome, which is whole.
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   store_->Unchecked().Get(Cf::kIndex, keys::EventOutcome(event_id)));
  if (!value) {
    return absl::UnavailableError(absl::StrCat("projection ", options_.name,
                                               " has not applied event ", std::string(event_id)));
  }
  CommandOutcome outcome;
  if (!outcome.ParseFromString(*value)) return absl::DataLossError("corrupt command outcome");
  return outcome;
}

absl::StatusOr<std::optional<CommandOutcome>> Projector::FindRequest(
    std::string_view tenant, std::string_view request_id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   store_->Get(Cf::kIndex, keys::RequestOutcome(tenant, request_id)));
  if (!value) return std::nullopt;
  CommandOutcome outcome;
  if (!outcome.ParseFromString(*value)) return absl::DataLossError("corrupt command outcome");
  return outcome;
}

absl::Status Projector::WaitUntilCaughtUp(absl::Time deadline) {
  std::map<TopicPartition, int64_t> targets;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [tp, _] : next_) targets[tp] = 0;
  }
  for (auto& [tp, end] : targets) {
    ASSIGN_OR_RETURN(end, log_->EndOffset(tp.first, tp.second));
  }
  absl::MutexLock lock(&mu_);
  auto caught_up = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const auto& [tp, end] : targets) {
      if (next_[tp] < end) return false;
    }
    return true;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&caught_up), deadline)) {
    return absl::DeadlineExceededError(
        absl::StrCat("projection ", options_.name, " has not caught up with the log"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Projector::Lag() {
  std::map<TopicPartition, int64_t> next;
  {
    absl::MutexLock lock(&mu_);
    next = next_;
  }
  int64_t lag = 0;
  for (const auto& [tp, offset] : next) {
    ASSIGN_OR_RETURN(int64_t end, log_->EndOffset(tp.first, tp.second));
    lag += std::max<int64_t>(0, end - offset);
  }
  return lag;
}

absl::StatusOr<std::vector<std::pair<std::string, crm::common::v1::DeadLetter>>>
Projector::DeadLetters(std::string_view after, size_t limit) const {
  const std::string prefix = "d/";  // of every keys::DeadLetter
  std::string start;
  if (!after.empty()) {
    start = std::string(after);
    start.push_back('\0');  // the first key after `after`
  }
  std::vector<std::pair<std::string, crm::common::v1::DeadLetter>> out;
  absl::Status error;
  RETURN_IF_ERROR(store_->Unchecked().Scan(
      Cf::kLog, prefix, start, [&](std::string_view key, std::string_view value) {
        if (out.size() == limit) return false;
        crm::common::v1::DeadLetter dl;
        if (!dl.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError(
              absl::StrCat("projection ", options_.name, ": a stored dead letter cannot be read"));
          return false;
        }
        out.emplace_back(std::string(key), std::move(dl));
        return true;
      }));
  RETURN_IF_ERROR(error);
  return out;
}

absl::StatusOr<crm::admin::v1::GetProjectionStatusResponse> Projector::Status() {
  const store::ReadView view = store_->UncheckedSnapshot();
  ASSIGN_OR_RETURN(crm::admin::v1::GetProjectionStatusResponse out, ProgressIn(view));
  ASSIGN_OR_RETURN(*out.mutable_checksum(), view.Checksum());
  return out;
}

absl::StatusOr<crm::admin::v1::GetProjectionStatusResponse> Projector::Progress() {
  return ProgressIn(store_->Unchecked());
}

absl::StatusOr<crm::admin::v1::GetProjectionStatusResponse> Projector::ProgressIn(
    const store::ReadView& view) {
  crm::admin::v1::GetProjectionStatusResponse out;
  out.set_projection(options_.name);
  std::vector<TopicPartition> partitions;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [tp, _] : next_) partitions.push_back(tp);
  }
  for (const TopicPartition& tp : partitions) {
    auto* p = out.add_partitions();
    p->set_topic(tp.first);
    p->set_partition(tp.second);
    ASSIGN_OR_RETURN(std::optional<std::string> stored,
                     view.Get(Cf::kLog, keys::Position(tp.first, tp.second)));
    p->set_next_offset(stored ? DecodeInt64(*stored) : 0);
    absl::StatusOr<int64_t> end = log_->EndOffset(tp.first, tp.second);
    p->set_end_offset(end.ok() ? *end : -1);
    if (end.ok()) out.set_lag(out.lag() + std::max<int64_t>(0, *end - p->next_offset()));
  }
  out.set_rebuilding(rebuilding());
  for (const auto& [name, field] : std::vector<
           std::pair<const char*, void (crm::admin::v1::GetProjectionStatusResponse::*)(int64_t)>>{
           {kEventsSeen, &crm::admin::v1::GetProjectionStatusResponse::set_events_seen},
           {kUnknownEvents, &crm::admin::v1::GetProjectionStatusResponse::set_unknown_events},
           {kDeadLetters, &crm::admin::v1::GetProjectionStatusResponse::set_dead_letters}}) {
    ASSIGN_OR_RETURN(std::optional<std::string> v, view.Get(Cf::kLog, keys::Counter(name)));
    (out.*field)(v ? DecodeInt64(*v) : 0);
  }
  return out;
}

}  // namespace crm::projection
