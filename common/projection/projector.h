// Projector: keeps one projection up to date with the log.
//
// A projector owns one thread. It reads the partitions of its topics from the positions stored
// in the projection, and for every record, in one ProjectionStore batch:
//   - decodes the envelope; a record that cannot be decoded becomes a dead letter;
//   - skips an event id it has seen before (the log may hold an event twice), by the outcome
//     recorded under the event id, or under its request id; a topic whose applier refuses a
//     second copy by itself (EventApplier::SecondCopyChangesNothing) keeps no record per event;
//   - recognises a repeated request id (on the service's own topic): the first outcome stands
//     and the new event takes no effect;
//   - skips and counts an event type the applier does not handle;
//   - otherwise asks the EventApplier to decide and apply, and records the outcome under the
//     request id (if any) and, where the topic keeps them, the event id;
//   - hands the outcome to a command waiting on the event (Expect), in memory;
//   - advances the partition's stored position.
// The records go through that in runs of up to 32: a run's envelopes are decoded first and the
// records their events will read (EventApplier::WillRead) are read in one go.
// A batch of up to `max_batch` records commits atomically with its positions, so a crash at
// any point loses nothing and applies nothing twice. Only after the commit are the waiters of
// those positions told (read-your-writes for the command that appended them).
//
// Rebuild (RequestRebuild): the projector thread empties the store in place, marking it as
// rebuilding in the same write, and replays the log from its start. Until it has caught up with
// the log as it was when the rebuild began, the store answers reads with UNAVAILABLE (partial
// state is never served as whole) while the projector's own bookkeeping stays readable; a
// restart part way finds the mark and continues.
//
// Lifecycle: construct -> Start() -> Stop() (or destroy). Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/eventlog/event_log.h"
#include "common/store/projection_store.h"
#include "crm/admin/v1/admin_service.pb.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/common/v1/outcome.pb.h"

namespace crm::projection {

// A service's rules for turning its events into projection state. Implementations read and
// write only through the batch and the event: no clock, no randomness, no I/O (determinism).
class EventApplier {
 public:
  virtual ~EventApplier() = default;

  // Returns true if this applier knows `event_type` (e.g. "crm.contact.v1.ContactCreated").
  virtual bool Handles(std::string_view event_type) const = 0;

  // Decides whether `event` takes effect and, if so, writes its effect into `batch`. Returns
  // the decision: OK if applied; ABORTED, NOT_FOUND or FAILED_PRECONDITION if refused (then it
  // must have written nothing). The outer status is a storage failure, which stops the
  // projector.
  virtual absl::StatusOr<absl::Status> Apply(const crm::common::v1::EventEnvelope& event,
                                             store::ProjectionStore::Batch& batch) = 0;

  // Adds to `state_keys` the kState keys Apply will read for `event`, as far as the envelope
  // tells (the aggregate's record, say): the projector reads a batch's keys in one go before
  // applying it (ProjectionStore::Batch::ReadAhead), which costs less than reading them one by
  // one. Only a hint: a key not named is read when Apply asks for it, one named and not read
  // costs a lookup.
  virtual void WillRead(const crm::common::v1::EventEnvelope& event,
                        std::vector<std::string>& state_keys) const {
    (void)event;
    (void)state_keys;
  }

  // Called on the projector thread after the last Apply of a batch, before the batch is
  // committed: an applier that gathers what several of a batch's events change (a count each of
  // them moves, say) writes it into `batch` now, once. An error is a storage failure, which
  // stops the projector.
  virtual absl::Status Finish(store::ProjectionStore::Batch& batch) {
    (void)batch;
    return absl::OkStatus();
  }

  // Called on the projector thread once a batch of applied events is built, before its commit:
  // what Apply noted for caches of derived state is set aside for the Committed after that
  // commit. (The commit of a full batch runs while the next batch is applied, so Apply may note
  // the next batch's changes before the Committed of this one.)
  virtual void Built() {}
  // Called on the projector thread after a batch of applied events is committed: readers see
  // it from now on (a place to invalidate caches of derived state: what was set aside at Built).
  virtual void Committed() {}

  // True if a second copy of an event of `topic` changes nothing: each of its appliers refuses
  // an event its aggregate has moved on from (they all check the version the event expects, and
  // no aggregate's record is ever removed, so a creation's copy finds what it created), and what
  // else they do is the same on a second run. The projector then keeps no outcome record per
  // event of that topic, which served only to recognise such a copy: a read and a write less per
  // event. A waiting command is told its outcome in memory (Projector::Expect), and on the own
  // topic an event with a request id keeps the request's record whatever this says (a repeated
  // request needs it; it recognises a copy of the event too).
  virtual bool SecondCopyChangesNothing(std::string_view topic) const {
    (void)topic;
    return false;
  }
};

struct ProjectorOptions {
  // Projection name, e.g. "contact"; used in logs and the admin API.
  std::string name;
  // Topics to consume, every partition of each.
  std::vector<std::string> topics;
  // The topic this service writes its own commands to. Request ids are recognised only on it:
  // other services' request ids are theirs, not this service's.
  std::string own_topic;
  // Records per atomic batch.
  size_t max_batch = 512;
  // A full batch (the projector is behind the log: a rebuild, a catch-up) is committed on a
  // thread of its own while the next batch is applied, reading through it, so building and
  // committing use two cores. Batches that are not full (a running service keeping up) are
  // committed before the projector goes on, as every batch is when this is off.
  bool pipelined_commits = true;
  // How long Start() retries a log that cannot be reached.
  absl::Duration start_timeout = absl::Seconds(30);
  // Once a projection built from an empty store (a first start, a new layout, a rebuild) has
  // caught up with the log, having applied at least this many records, its store is compacted
  // into one sorted run in the background (ProjectionStore::Compact): a store filled in one go
  // otherwise keeps its records spread over every level for a long time. 0: never.
  int64_t compact_after_records = 100000;
};

class Projector {
 public:
  using OutcomeCallback = std::function<void(absl::StatusOr<crm::common::v1::CommandOutcome>)>;

  Projector(ProjectorOptions options, eventlog::EventLog* log, store::ProjectionStore* store,
            EventApplier* applier);
  ~Projector();

  // The log it reads (for the change feed, which reads it too).
  eventlog::EventLog* log() const { return log_; }

  // Loads positions, opens the reader and starts applying. NOT_FOUND if a topic does not
  // exist; UNAVAILABLE if the log cannot be reached within start_timeout.
  absl::Status Start();
  // Stops applying; waiters still pending get UNAVAILABLE. Idempotent.
  void Stop();

  // Called before appending an event whose outcome a caller will wait for (WhenApplied): the
  // projector keeps that event's outcome in memory when it applies it (the first copy's, if the
  // log holds two), so the wait needs no record of it in the store. Each Expect ends with one
  // WhenApplied for the event, or with Unexpect if the append failed. CommandWriter::Write
  // calls both.
  void Expect(std::string_view event_id);
  void Unexpect(std::string_view event_id);
  // How many expected events' outcomes are held (until their waiters are answered): the
  // commands waiting for this projection (crm_projection_commands_waiting on /metrics).
  size_t expecting() const { return expecting_.load(std::memory_order_acquire); }

  // Runs `done` once the record at `position` is applied, with the outcome of `event_id`: the
  // one kept since Expect, else the one recorded in the store (UNAVAILABLE if there is none); or
  // with DEADLINE_EXCEEDED at `deadline`; or UNAVAILABLE on Stop(). Runs on the projector
  // thread or, if already applied, on the caller's; must not block.
  void WhenApplied(const eventlog::LogPosition& position, std::string event_id, absl::Time deadline,
                   OutcomeCallback done);

  // Returns the outcome recorded for a request id in `tenant`, if any.
  absl::StatusOr<std::optional<crm::common::v1::CommandOutcome>> FindRequest(
      std::string_view tenant, std::string_view request_id) const;

  // Blocks until the projection has applied everything the log held when called.
  // DEADLINE_EXCEEDED at `deadline`.
  absl::Status WaitUntilCaughtUp(absl::Time deadline);

  // Checksum, positions and counters, taken from one snapshot.
  absl::StatusOr<crm::admin::v1::GetProjectionStatusResponse> Status();
  // The same without the checksum (which reads the whole store): cheap enough for every scrape.
  absl::StatusOr<crm::admin::v1::GetProjectionStatusResponse> Progress();

  // The dead letters after the one stored under `after` (from the first when empty), at most
  // `limit`, in log order, each with the key it is stored under (a position for paging).
  absl::StatusOr<std::vector<std::pair<std::string, crm::common::v1::DeadLetter>>> DeadLetters(
      std::string_view after, size_t limit) const;

  // How many records the log holds that the projection has not applied yet, over all its
  // partitions. UNAVAILABLE if the log cannot be reached (what readiness is judged on).
  absl::StatusOr<int64_t> Lag();

  // Asks the projector thread to rebuild the projection (see above) and waits until the store
  // has been emptied, up to `deadline`. FAILED_PRECONDITION if the projector is not running,
  // DEADLINE_EXCEEDED if the log could not be reached in time (the rebuild is then still
  // requested and happens once it can).
  absl::Status RequestRebuild(absl::Time deadline);
  // True from the emptying of the store until the rebuild has caught up.
  bool rebuilding() const;

  const std::string& name() const { return options_.name; }
  const store::ProjectionStore& store() const { return *store_; }

 private:
  using TopicPartition = std::pair<std::string, int32_t>;

  // Positions and counters as `view` holds them, with the log's end offsets.
  absl::StatusOr<crm::admin::v1::GetProjectionStatusResponse> ProgressIn(
      const store::ReadView& view);
  struct Waiter {
    int64_t offset;
    std::string event_id;
    absl::Time deadline;
    OutcomeCallback done;
  };

  void Run();
  // Opens a reader at the start of every partition, then empties the store. On failure nothing
  // changed (a storage failure after the reader opened is fatal, as in ApplyBatch).
  absl::Status BeginRebuild();
  // Ends a rebuild once every partition has reached the end offsets the log had when it began.
  absl::Status MaybeEndRebuild();
  // Applies `records` in one batch and commits. Returns a storage failure.
  absl::Status ApplyBatch(const std::vector<eventlog::LogRecord>& records);
  // Waits for the commit under way, if any, then ends it as ApplyBatch ends a commit: `advanced`
  // becomes the positions waiters are answered from. The committed batch is moved to `*done`
  // when given (ApplyBatch hands it to the committer to destroy), destroyed here otherwise.
  struct Committing;
  absl::Status FinishCommitting(std::unique_ptr<Committing>* done = nullptr);
  void Committed(const std::map<TopicPartition, int64_t>& advanced);
  // Applies `record`, whose envelope is `event` if `parsed` (a dead letter otherwise).
  absl::Status ApplyOne(const eventlog::LogRecord& record, bool parsed,
                        crm::common::v1::EventEnvelope& event, store::ProjectionStore::Batch& batch,
                        std::map<std::string, int64_t>& counters);
  void NotifyWaiters(bool stopping);
  // Whether `topic`'s events get an outcome record under their event id.
  bool Recorded(std::string_view topic) const;
  // Keeps `outcome` for a caller that expects `event_id` (Expect), unless one is kept already.
  void Deliver(std::string_view event_id, const crm::common::v1::CommandOutcome& outcome);
  // The outcome kept for an expected event, ending the Expect; else the recorded one.
  absl::StatusOr<crm::common::v1::CommandOutcome> TakeOutcome(std::string_view event_id);
  // Starts the compaction of a store built from empty (see compact_after_records), once.
  void MaybeCompact();
  absl::StatusOr<crm::common::v1::CommandOutcome> ReadOutcome(std::string_view event_id) const;

  const ProjectorOptions options_;
  eventlog::EventLog* const log_;
  store::ProjectionStore* const store_;
  EventApplier* const applier_;
  std::unique_ptr<eventlog::LogReader> reader_;
  std::thread thread_;
  // The records of the last poll, polled into again and again (LogReader::PollInto reuses their
  // strings' buffers). Projector thread only.
  std::vector<eventlog::LogRecord> polled_;
  // The envelopes of the run of records being applied (ApplyBatch), parsed into again and again
  // (their strings keep their buffers), and whether each record parsed. Projector thread only.
  static constexpr size_t kReadAhead = 32;
  static constexpr size_t kReadAheadFrom = 4;
  std::vector<crm::common::v1::EventEnvelope> parsed_;
  std::array<bool, kReadAhead> parsed_ok_{};

  // The topics whose events' outcomes are recorded under their event id (Recorded).
  const std::vector<std::string> recorded_topics_;
  // The events callers expect (Expect), with their outcomes once applied. `expecting_` is its
  // size, read on the projector thread without the lock: most events have no one waiting.
  absl::Mutex expected_mu_;
  absl::flat_hash_map<std::string, std::optional<crm::common::v1::CommandOutcome>> expected_
      ABSL_GUARDED_BY(expected_mu_);
  std::atomic<size_t> expecting_{0};

  mutable absl::Mutex mu_;
  std::map<TopicPartition, int64_t> next_ ABSL_GUARDED_BY(mu_);
  std::map<TopicPartition, std::vector<Waiter>> waiters_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool rebuild_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool rebuilding_ ABSL_GUARDED_BY(mu_) = false;
  // The end offsets a rebuild must reach; empty until taken. Projector thread only.
  std::map<TopicPartition, int64_t> rebuild_target_;
  absl::Time rebuild_began_;  // projector thread only
  // Records applied since the store was empty, while it has not been compacted since; -1 once
  // it has been, or when the store was not empty at start. Projector thread only.
  int64_t applied_since_empty_ = -1;
  std::thread compactor_;  // the compaction after a build from empty, if one was started
  // A full batch being committed on a thread of its own (see pipelined_commits), with the
  // positions it takes each partition to. Projector thread only.
  struct Committing {
    store::ProjectionStore::Batch batch;
    std::map<TopicPartition, int64_t> advanced;
    absl::Status status;  // set by the committer with `committed`
    bool committed = false;
  };
  std::unique_ptr<Committing> committing_;
  // The committer thread, started with the first pipelined commit: commits `to_commit_`, then
  // destroys `to_retire_`, the batch committed before it. Freeing a full batch's thousands of
  // keys and values took 3 % of the analytics projector's applying thread, the busier one.
  void CommitLoop();
  std::thread committer_;
  absl::Mutex commit_mu_;
  Committing* to_commit_ ABSL_GUARDED_BY(commit_mu_) = nullptr;
  std::unique_ptr<Committing> to_retire_ ABSL_GUARDED_BY(commit_mu_);
  bool committer_stopping_ ABSL_GUARDED_BY(commit_mu_) = false;
};

// Serialises `message` with deterministic map order, so equal messages give equal bytes: what
// the projection checksum and rebuild-equality rely on.
std::string SerializeDeterministic(const google::protobuf::Message& message);

// The refusal of a request id used before for another command.
absl::Status RequestIdUsedFor(std::string_view request_id, std::string_view command);

// Key helpers shared by the projector and its tests.
namespace keys {
std::string EventOutcome(std::string_view event_id);
std::string RequestOutcome(std::string_view tenant, std::string_view request_id);
std::string Position(std::string_view topic, int32_t partition);
std::string Counter(std::string_view name);
std::string DeadLetter(std::string_view topic, int32_t partition, int64_t offset);
// Present (in kLog) while a rebuild has not caught up.
std::string Rebuilding();
}  // namespace keys

}  // namespace crm::projection
