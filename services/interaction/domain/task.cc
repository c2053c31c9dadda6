#include "services/interaction/domain/task.h"

#include "absl/strings/str_cat.h"
#include "common/projection/aggregate.h"

namespace crm::interaction {

using crm::common::v1::EventEnvelope;
using google::protobuf::Timestamp;

namespace {

absl::Status CheckOpen(const std::optional<Task>& current, const std::string& id,
                       int64_t expected_version) {
  if (absl::Status s = projection::CheckExpectedVersion(current, "task", id, expected_version);
      !s.ok()) {
    return s;
  }
  if (current->status() != v1::TASK_STATUS_OPEN) {
    return absl::FailedPreconditionError(absl::StrCat(
        "task ", id, " is ", v1::TaskStatus_Name(current->status()), ", no longer open"));
  }
  return absl::OkStatus();
}

bool IsAppointment(const Task& t) { return t.kind() == v1::TASK_KIND_APPOINTMENT; }

}  // namespace

const Timestamp& When(const Task& task) {
  return IsAppointment(task) ? task.start_time() : task.due_time();
}

absl::StatusOr<TaskCreated> DecideCreateTask(
    const Task& requested, const std::string& id,
    const std::function<absl::Status(const std::string&, const std::string&)>& check_contact) {
  if (!requested.contact_id().empty()) {
    if (absl::Status s = check_contact("task.contact_id", requested.contact_id()); !s.ok()) {
      return s;
    }
  }
  TaskCreated event;
  *event.mutable_task() = requested;
  event.mutable_task()->set_id(id);
  if (requested.kind() == v1::TASK_KIND_UNSPECIFIED) {
    event.mutable_task()->set_kind(v1::TASK_KIND_TASK);
  }
  return event;
}

absl::StatusOr<TaskCompleted> DecideComplete(const std::optional<Task>& current,
                                             const std::string& id, int64_t expected_version) {
  if (absl::Status s = CheckOpen(current, id, expected_version); !s.ok()) return s;
  return TaskCompleted();
}

absl::StatusOr<TaskCancelled> DecideCancel(const std::optional<Task>& current,
                                           const std::string& id, int64_t expected_version) {
  if (absl::Status s = CheckOpen(current, id, expected_version); !s.ok()) return s;
  return TaskCancelled();
}

absl::StatusOr<TaskRescheduled> DecideReschedule(const std::optional<Task>& current,
                                                 const std::string& id,
                                                 const TaskRescheduled& reschedule,
                                                 int64_t expected_version) {
  if (absl::Status s = CheckOpen(current, id, expected_version); !s.ok()) return s;
  if (IsAppointment(*current)) {
    if (!reschedule.has_start_time() || !reschedule.has_end_time()) {
      return absl::InvalidArgumentError("start_time: an appointment needs start_time and end_time");
    }
    if (projection::TimestampNanos(reschedule.end_time()) <=
        projection::TimestampNanos(reschedule.start_time())) {
      return absl::InvalidArgumentError("end_time: must be after start_time");
    }
  } else if (!reschedule.has_due_time()) {
    return absl::InvalidArgumentError("due_time: a task needs a due_time");
  }
  return reschedule;
}

bool IsTaskEvent(std::string_view t) {
  return t == "crm.interaction.v1.TaskCreated" || t == "crm.interaction.v1.TaskCompleted" ||
         t == "crm.interaction.v1.TaskCancelled" || t == "crm.interaction.v1.TaskRescheduled";
}

absl::StatusOr<Task> ApplyTask(const std::optional<Task>& current, const EventEnvelope& event) {
  if (absl::Status s = projection::CheckEventVersion(current, event, "task"); !s.ok()) return s;
  const Timestamp t = projection::EffectiveTime(current, event);
  const std::string& type = event.event_type();
  Task next;
  if (type == "crm.interaction.v1.TaskCreated") {
    TaskCreated created;
    if (!event.payload().UnpackTo(&created)) return absl::InvalidArgumentError("bad TaskCreated");
    next = std::move(*created.mutable_task());
    next.set_status(v1::TASK_STATUS_OPEN);
    *next.mutable_create_time() = t;
  } else {
    if (!current) {
      return absl::NotFoundError(absl::StrCat("task ", event.aggregate_id(), " does not exist"));
    }
    if (current->status() != v1::TASK_STATUS_OPEN) {
      return absl::FailedPreconditionError(
          absl::StrCat("task ", event.aggregate_id(), " is no longer open"));
    }
    next = *current;
    if (type == "crm.interaction.v1.TaskCompleted") {
      next.set_status(v1::TASK_STATUS_COMPLETED);
      *next.mutable_completed_time() = t;
    } else if (type == "crm.interaction.v1.TaskCancelled") {
      next.set_status(v1::TASK_STATUS_CANCELLED);
    } else if (type == "crm.interaction.v1.TaskRescheduled") {
      TaskRescheduled moved;
      if (!event.payload().UnpackTo(&moved)) return absl::InvalidArgumentError("bad payload");
      if (IsAppointment(next)) {
        *next.mutable_start_time() = moved.start_time();
        *next.mutable_end_time() = moved.end_time();
      } else {
        *next.mutable_due_time() = moved.due_time();
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("not a task event: ", type));
    }
  }
  next.set_id(event.aggregate_id());
  next.set_version(event.aggregate_version());
  *next.mutable_update_time() = t;
  return next;
}

}  // namespace crm::interaction
