#include "common/projection/command_writer.h"

#include <future>

#include "absl/strings/str_cat.h"
#include "common/ids/ids.h"
#include "common/status/status_macros.h"

namespace crm::projection {

absl::Status OutcomeStatus(const crm::common::v1::CommandOutcome& outcome) {
  if (outcome.code() == 0) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(outcome.code()), outcome.message());
}

CommandWriter::Command CommandFor(const CallContext& ctx, std::string command,
                                  std::string aggregate_type, std::string request_id) {
  CommandWriter::Command cmd;
  cmd.tenant = ctx.tenant;
  cmd.actor = ctx.actor;
  cmd.correlation_id = ctx.correlation_id;
  cmd.request_id = std::move(request_id);
  cmd.command = std::move(command);
  cmd.aggregate_type = std::move(aggregate_type);
  cmd.deadline = ctx.deadline;
  return cmd;
}

absl::Status CommandWriter::WriteAndWait(const Command& command,
                                         const google::protobuf::Message& payload) {
  auto outcome = std::make_shared<std::promise<absl::StatusOr<crm::common::v1::CommandOutcome>>>();
  std::future<absl::StatusOr<crm::common::v1::CommandOutcome>> done = outcome->get_future();
  Write(command, payload, [outcome](absl::StatusOr<crm::common::v1::CommandOutcome> o) {
    outcome->set_value(std::move(o));
  });
  absl::StatusOr<crm::common::v1::CommandOutcome> result = done.get();
  if (!result.ok()) return result.status();
  return OutcomeStatus(*result);
}

void CommandWriter::Write(const Command& command, const google::protobuf::Message& payload,
                          Projector::OutcomeCallback done) {
  crm::common::v1::EventEnvelope event;
  event.set_event_id(ids::NewId(command.now));
  event.set_tenant(command.tenant);
  event.set_aggregate_type(command.aggregate_type.empty() ? aggregate_type_
                                                          : command.aggregate_type);
  event.set_aggregate_id(command.aggregate_id);
  event.set_expected_version(command.expected_version);
  event.set_aggregate_version(command.expected_version + 1);
  event.set_event_type(payload.GetDescriptor()->full_name());
  const int64_t nanos = absl::ToUnixNanos(command.now);
  event.mutable_occurred_at()->set_seconds(nanos / 1000000000);
  event.mutable_occurred_at()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  event.set_actor(command.actor);
  event.set_request_id(command.request_id);
  event.set_correlation_id(command.correlation_id.empty() ? event.event_id()
                                                          : command.correlation_id);
  event.set_causation_id(command.request_id);
  event.set_command(command.command);
  event.set_rebasable(command.rebasable);
  event.set_source(command.source);
  event.mutable_payload()->PackFrom(payload);

  Projector* projector = projector_;
  std::string event_id = event.event_id();
  const absl::Time deadline = command.deadline;
  projector->Expect(event_id);  // its outcome is kept for WhenApplied
  log_->Append(topic_, event,
               [projector, event_id = std::move(event_id), deadline,
                done = std::move(done)](absl::StatusOr<eventlog::LogPosition> position) mutable {
                 if (!position.ok()) {
                   projector->Unexpect(event_id);
                   done(position.status());
                   return;
                 }
                 projector->WhenApplied(*position, std::move(event_id), deadline, std::move(done));
               });
}

namespace {

std::string RunningKey(const CommandWriter::Command& command) {
  std::string key = command.tenant;
  key.push_back('\0');
  return key.append(command.request_id);
}

}  // namespace

absl::StatusOr<bool> CommandWriter::JoinRunning(const Command& command,
                                                const Projector::OutcomeCallback& finish) {
  absl::MutexLock lock(&running_->mu);
  auto [it, added] = running_->requests.try_emplace(RunningKey(command));
  if (added) {
    it->second.command = command.command;
    return false;
  }
  if (it->second.command != command.command)
    return RequestIdUsedFor(command.request_id, it->second.command);
  it->second.repeats.push_back(finish);
  return true;
}

Projector::OutcomeCallback CommandWriter::Leading(const Command& command,
                                                  Projector::OutcomeCallback finish) {
  return [running = running_, key = RunningKey(command), finish = std::move(finish)](
             absl::StatusOr<crm::common::v1::CommandOutcome> outcome) mutable {
    std::vector<Projector::OutcomeCallback> repeats;
    {
      absl::MutexLock lock(&running->mu);
      auto it = running->requests.find(key);
      if (it != running->requests.end()) {
        repeats = std::move(it->second.repeats);
        running->requests.erase(it);
      }
    }
    for (Projector::OutcomeCallback& repeat : repeats) repeat(outcome);
    finish(std::move(outcome));
  };
}

absl::StatusOr<std::optional<crm::common::v1::CommandOutcome>> CommandWriter::FindEarlier(
    std::string_view tenant, std::string_view request_id, std::string_view command) const {
  if (request_id.empty()) return std::nullopt;
  ASSIGN_OR_RETURN(std::optional<crm::common::v1::CommandOutcome> earlier,
                   projector_->FindRequest(tenant, request_id));
  if (earlier && earlier->command() != command)
    return RequestIdUsedFor(request_id, earlier->command());
  return earlier;
}

}  // namespace crm::projection
