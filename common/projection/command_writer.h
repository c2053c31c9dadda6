// CommandWriter: the write half of every service. It wraps a decided event in an envelope,
// appends it to the log, waits (without blocking a thread) for the service's own projection to
// apply it, and reports the outcome recorded at apply — so the caller's answer reflects what
// every replica decided, and a read that follows sees it.
//
//   CommandWriter::Command cmd{.tenant = "default", .command = "CreateContact", ...};
//   writer.Write(cmd, payload, [](absl::StatusOr<CommandOutcome> outcome) { ... });
//
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/eventlog/event_log.h"
#include "common/projection/call_context.h"
#include "common/projection/projector.h"
#include "google/protobuf/message.h"

namespace crm::projection {

// OK if the outcome says the command took effect, else its recorded status.
absl::Status OutcomeStatus(const crm::common::v1::CommandOutcome& outcome);

class CommandWriter {
 public:
  struct Command {
    std::string tenant;
    std::string actor;
    std::string request_id;
    std::string correlation_id;
    // Command name, e.g. "CreateContact".
    std::string command;
    // Aggregate type; empty means the writer's default.
    std::string aggregate_type;
    std::string aggregate_id;
    int64_t expected_version = 0;
    absl::Time now;
    // When the caller stops waiting.
    absl::Time deadline;
    // Where the command came from: "api", "import", "merge", "integration".
    std::string source = "api";
    // The envelope's rebasable: decided on the aggregate's own fields only, so it also takes
    // effect past background records (common/projection/aggregate.h, TakesEffect).
    bool rebasable = false;
  };

  CommandWriter(eventlog::EventLog* log, Projector* projector, std::string topic,
                std::string aggregate_type)
      : log_(log),
        projector_(projector),
        topic_(std::move(topic)),
        aggregate_type_(std::move(aggregate_type)) {}

  // Appends `payload` as the event of `command` and runs `done` with the outcome the projection
  // decided at apply (kept for it in memory: Projector::Expect; check it with OutcomeStatus), or
  // UNAVAILABLE / DEADLINE_EXCEEDED from the log or the wait. `done` runs on a log or projector
  // thread and must not block.
  void Write(const Command& command, const google::protobuf::Message& payload,
             Projector::OutcomeCallback done);

  // Write, then wait on the calling thread for the outcome: OK once applied, else the refusal
  // recorded at apply or UNAVAILABLE / DEADLINE_EXCEEDED. For background workers (dispatchers)
  // that record what they did before going on.
  absl::Status WriteAndWait(const Command& command, const google::protobuf::Message& payload);

  // (aggregate id, expected version) chosen by a decision, or why the command is refused.
  using Decision = absl::StatusOr<std::pair<std::string, int64_t>>;
  using Payload = std::unique_ptr<google::protobuf::Message>;

  // The write path every command shares. A repeated request id is answered with its first
  // outcome — also while the first is still running in this process: the repeat waits for it
  // rather than deciding again (a creation decided twice would name two aggregates). Otherwise
  // `decide` (run now, on the caller's thread) returns the aggregate and the version it expects and
  // fills `payload` with the event, or refuses; the event is written and, once applied, `done` gets
  // `read(aggregate id, version)` — the aggregate as the command left it, at the version the
  // outcome records (a repeated request is answered with the version its first run made, not
  // whatever came after) — or the refusal recorded at apply. `command` supplies tenant, actor,
  // request id, command name, aggregate type, deadline and source; its aggregate id, expected
  // version and time are filled here.
  template <typename T>
  void Run(Command command, const std::function<Decision(absl::Time now, Payload& payload)>& decide,
           std::function<absl::StatusOr<T>(const std::string& id, int64_t version)> read,
           std::function<void(absl::StatusOr<T>)> done) {
    Projector::OutcomeCallback finish =
        [read = std::move(read),
         done = std::move(done)](absl::StatusOr<crm::common::v1::CommandOutcome> outcome) mutable {
          if (!outcome.ok()) {
            done(outcome.status());
          } else if (absl::Status s = OutcomeStatus(*outcome); !s.ok()) {
            done(s);
          } else {
            done(read(outcome->aggregate_id(), outcome->version()));
          }
        };
    if (!command.request_id.empty()) {
      absl::StatusOr<bool> joined = JoinRunning(command, finish);
      if (!joined.ok()) {
        finish(joined.status());
        return;
      }
      if (*joined) return;  // `finish` runs with the first's outcome
      finish = Leading(command, std::move(finish));
    }
    absl::StatusOr<std::optional<crm::common::v1::CommandOutcome>> earlier =
        FindEarlier(command.tenant, command.request_id, command.command);
    if (!earlier.ok()) {
      finish(earlier.status());
      return;
    }
    if (*earlier) {
      finish(**earlier);  // A repeated request: its first outcome, nothing written again.
      return;
    }
    command.now = absl::Now();
    Payload payload;
    Decision decided = decide(command.now, payload);
    if (!decided.ok()) {
      finish(decided.status());
      return;
    }
    command.aggregate_id = decided->first;
    command.expected_version = decided->second;
    Write(command, *payload, std::move(finish));
  }

  // Returns the first outcome of `request_id` if the request was seen before. INVALID_ARGUMENT
  // if it was used for a different command.
  absl::StatusOr<std::optional<crm::common::v1::CommandOutcome>> FindEarlier(
      std::string_view tenant, std::string_view request_id, std::string_view command) const;

 private:
  // The requests this writer is running (from decide until their outcome), by tenant and
  // request id, with the repeats waiting for them. Shared with the callbacks, which may run
  // after the writer is gone (a projector's Stop answers its waiters).
  struct Running {
    absl::Mutex mu;
    struct Request {
      std::string command;
      std::vector<Projector::OutcomeCallback> repeats;
    };
    std::map<std::string, Request> requests ABSL_GUARDED_BY(mu);
  };

  // True (and `finish` kept, to run with its outcome) if `command`'s request is running;
  // INVALID_ARGUMENT if it runs for another command. Otherwise false, and it is marked running.
  absl::StatusOr<bool> JoinRunning(const Command& command,
                                   const Projector::OutcomeCallback& finish);
  // `finish`, preceded by marking the request no longer running and followed by its repeats.
  Projector::OutcomeCallback Leading(const Command& command, Projector::OutcomeCallback finish);

  eventlog::EventLog* const log_;
  Projector* const projector_;
  const std::string topic_;
  const std::string aggregate_type_;
  const std::shared_ptr<Running> running_ = std::make_shared<Running>();
};

// Moves a decided event into `payload` and returns (aggregate id, expected version).
// The command a call makes: tenant, actor, correlation id and deadline from `ctx`, the rest as
// given (aggregate id, expected version and time are filled by CommandWriter::Run).
CommandWriter::Command CommandFor(const CallContext& ctx, std::string command,
                                  std::string aggregate_type, std::string request_id);
// `command`, marked rebasable: it decides on the aggregate's own fields only.
inline CommandWriter::Command Rebasable(CommandWriter::Command command) {
  command.rebasable = true;
  return command;
}

template <typename Event>
CommandWriter::Decision Take(absl::StatusOr<Event> event, CommandWriter::Payload& payload,
                             std::string aggregate_id, int64_t expected_version) {
  if (!event.ok()) return event.status();
  payload = std::make_unique<Event>(std::move(*event));
  return std::make_pair(std::move(aggregate_id), expected_version);
}

}  // namespace crm::projection
