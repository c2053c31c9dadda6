#include "services/interaction/domain/task.h"

#include <gtest/gtest.h>

#include "tests/testing/events.h"

namespace crm::interaction {
namespace {

namespace v1 = crm::interaction::v1;
using crm::common::v1::EventEnvelope;

EventEnvelope Event(const google::protobuf::Message& payload, int64_t expected, int64_t seconds) {
  return crm::testing::MakeTestEvent(payload, "T", expected, seconds);
}

const auto kAnyContact = [](const std::string&, const std::string&) { return absl::OkStatus(); };

Task Created(v1::TaskKind kind) {
  Task t;
  t.set_kind(kind);
  t.set_title("Call back");
  t.set_assignee("sam");
  t.mutable_due_time()->set_seconds(500);
  t.mutable_start_time()->set_seconds(600);
  t.mutable_end_time()->set_seconds(700);
  return *ApplyTask(std::nullopt, Event(*DecideCreateTask(t, "T", kAnyContact), 0, 1));
}

TEST(Task, CompleteCancelAndRescheduleOnlyWhileOpen) {
  Task t = Created(v1::TASK_KIND_TASK);
  EXPECT_EQ(t.status(), v1::TASK_STATUS_OPEN);
  EXPECT_EQ(When(t).seconds(), 500);
  TaskRescheduled later;
  later.mutable_due_time()->set_seconds(900);
  auto moved = DecideReschedule(t, "T", later, 1);
  ASSERT_TRUE(moved.ok());
  t = *ApplyTask(t, Event(*moved, 1, 2));
  EXPECT_EQ(When(t).seconds(), 900);
  t = *ApplyTask(t, Event(*DecideComplete(t, "T", 0), 2, 3));
  EXPECT_EQ(t.status(), v1::TASK_STATUS_COMPLETED);
  EXPECT_EQ(t.completed_time().seconds(), 3);
  EXPECT_EQ(DecideCancel(t, "T", 0).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecideComplete(t, "T", 0).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApplyTask(t, Event(TaskCancelled(), 3, 4)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Task, AppointmentsMoveByStartAndEnd) {
  Task a = Created(v1::TASK_KIND_APPOINTMENT);
  EXPECT_EQ(When(a).seconds(), 600);
  TaskRescheduled only_due;
  only_due.mutable_due_time()->set_seconds(1);
  EXPECT_EQ(DecideReschedule(a, "T", only_due, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  TaskRescheduled backwards;
  backwards.mutable_start_time()->set_seconds(800);
  backwards.mutable_end_time()->set_seconds(700);
  EXPECT_EQ(DecideReschedule(a, "T", backwards, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  TaskRescheduled ok;
  ok.mutable_start_time()->set_seconds(800);
  ok.mutable_end_time()->set_seconds(900);
  a = *ApplyTask(a, Event(*DecideReschedule(a, "T", ok, 0), 1, 2));
  EXPECT_EQ(When(a).seconds(), 800);
  a = *ApplyTask(a, Event(*DecideCancel(a, "T", 0), 2, 3));
  EXPECT_EQ(a.status(), v1::TASK_STATUS_CANCELLED);
}

TEST(Task, UnspecifiedKindIsATaskAndVersionsRace) {
  Task t = Created(v1::TASK_KIND_UNSPECIFIED);
  EXPECT_EQ(t.kind(), v1::TASK_KIND_TASK);
  EXPECT_EQ(ApplyTask(t, Event(TaskCompleted(), 0, 2)).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(DecideComplete(std::nullopt, "T", 0).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace crm::interaction
