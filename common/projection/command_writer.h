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

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "common/eventlog/event_log.h"
#include "common/projection/projector.h"
#include "google/protobuf/message.h"

namespace crm::projection {

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
  };

  CommandWriter(eventlog::EventLog* log, Projector* projector, std::string topic,
                std::string aggregate_type)
      : log_(log),
        projector_(projector),
        topic_(std::move(topic)),
        aggregate_type_(std::move(aggregate_type)) {}

  // Appends `payload` as the event of `command` and runs `done` with the outcome recorded at
  // apply (check it with OutcomeStatus), or UNAVAILABLE / DEADLINE_EXCEEDED from the log or the
  // wait. `done` runs on a log or projector thread and must not block.
  void Write(const Command& command, const google::protobuf::Message& payload,
             Projector::OutcomeCallback done);

  // Returns the first outcome of `request_id` if the request was seen before. INVALID_ARGUMENT
  // if it was used for a different command.
  absl::StatusOr<std::optional<crm::common::v1::CommandOutcome>> FindEarlier(
      std::string_view tenant, std::string_view request_id, std::string_view command) const;

 private:
  eventlog::EventLog* const log_;
  Projector* const projector_;
  const std::string topic_;
  const std::string aggregate_type_;
};

// OK if the outcome says the command took effect, else its recorded status.
absl::Status OutcomeStatus(const crm::common::v1::CommandOutcome& outcome);

}  // namespace crm::projection
