// Tasks and appointments: creation, completion, rescheduling, cancellation. Pure.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/interaction/v1/events.pb.h"
#include "crm/interaction/v1/resources.pb.h"

namespace crm::interaction {

using crm::interaction::v1::Task;
using crm::interaction::v1::TaskCancelled;
using crm::interaction::v1::TaskCompleted;
using crm::interaction::v1::TaskCreated;
using crm::interaction::v1::TaskRescheduled;

inline constexpr char kTaskAggregateType[] = "task";

// The time a task is listed and shown at: its due time, or an appointment's start.
const google::protobuf::Timestamp& When(const Task& task);

absl::StatusOr<TaskCreated> DecideCreateTask(
    const Task& requested, const std::string& id,
    const std::function<absl::Status(const std::string& field, const std::string& id)>&
        check_contact);
absl::StatusOr<TaskCompleted> DecideComplete(const std::optional<Task>& current,
                                             const std::string& id, int64_t expected_version);
absl::StatusOr<TaskCancelled> DecideCancel(const std::optional<Task>& current,
                                           const std::string& id, int64_t expected_version);
// `reschedule` holds the new times; they must fit the task's kind.
absl::StatusOr<TaskRescheduled> DecideReschedule(const std::optional<Task>& current,
                                                 const std::string& id,
                                                 const TaskRescheduled& reschedule,
                                                 int64_t expected_version);

absl::StatusOr<Task> ApplyTask(const std::optional<Task>& current,
                               const crm::common::v1::EventEnvelope& event);

bool IsTaskEvent(std::string_view event_type);

}  // namespace crm::interaction
