// Support cases: the status machine, SLA targets and breaches.
#include "services/interaction/domain/case.h"

#include <gtest/gtest.h>

#include "tests/testing/events.h"

namespace crm::interaction {
namespace {

namespace v1 = crm::interaction::v1;
using crm::common::v1::EventEnvelope;

EventEnvelope Event(const google::protobuf::Message& payload, int64_t expected, int64_t seconds) {
  return crm::testing::MakeTestEvent(payload, "CASE", expected, seconds);
}

const auto kAnyContact = [](const std::string&, const std::string&) { return absl::OkStatus(); };

Case Opened(v1::Priority priority, int64_t at) {
  Case c;
  c.set_subject("Broken");
  c.set_contact_id("C");
  c.set_priority(priority);
  auto opened = DecideOpenCase(c, "CASE", SlaPolicy::Default(), kAnyContact);
  return *ApplyCase(std::nullopt, Event(*opened, 0, at));
}

Case Step(const Case& c, const google::protobuf::Message& payload, int64_t at) {
  auto next = ApplyCase(c, Event(payload, c.version(), at));
  EXPECT_TRUE(next.ok()) << next.status();
  return *next;
}

Case Move(const Case& c, v1::CaseStatus to, int64_t at) {
  auto event = DecideStatus(c, "CASE", to, 0);
  EXPECT_TRUE(event.ok()) << event.status();
  return Step(c, *event, at);
}

TEST(CaseStatusMachine, AllowsOnlyTheDocumentedMoves) {
  using S = v1::CaseStatus;
  const std::vector<S> all = {
      v1::CASE_STATUS_NEW,      v1::CASE_STATUS_OPEN,   v1::CASE_STATUS_WAITING_ON_CUSTOMER,
      v1::CASE_STATUS_RESOLVED, v1::CASE_STATUS_CLOSED, v1::CASE_STATUS_REOPENED};
  int allowed = 0;
  for (S from : all) {
    for (S to : all) allowed += AllowedMove(from, to) ? 1 : 0;
    EXPECT_FALSE(AllowedMove(from, from));
    EXPECT_FALSE(AllowedMove(from, v1::CASE_STATUS_NEW));
  }
  EXPECT_EQ(allowed, 4 + 3 + 3 + 2 + 1 + 4);
  EXPECT_FALSE(AllowedMove(v1::CASE_STATUS_CLOSED, v1::CASE_STATUS_OPEN));
  EXPECT_TRUE(AllowedMove(v1::CASE_STATUS_RESOLVED, v1::CASE_STATUS_REOPENED));
}

TEST(Sla, DueTimesFollowThePriority) {
  const Case c = Opened(v1::PRIORITY_URGENT, 1000);
  EXPECT_EQ(c.status(), v1::CASE_STATUS_NEW);
  EXPECT_EQ(c.first_response_due().seconds(), 1000 + 3600);
  EXPECT_EQ(c.resolution_due().seconds(), 1000 + 8 * 3600);
  // Unspecified means normal.
  EXPECT_EQ(Opened(v1::PRIORITY_UNSPECIFIED, 0).priority(), v1::PRIORITY_NORMAL);
}

TEST(Sla, LateAnswersAreBreachesOnTimeOnesAreNot) {
  Case c = Opened(v1::PRIORITY_URGENT, 0);
  CaseCommented internal;
  internal.mutable_comment()->set_body("looking");
  c = Step(c, internal, 10);  // Not public: not a response.
  EXPECT_FALSE(c.has_first_response_time());
  CaseCommented reply;
  reply.mutable_comment()->set_body("fixed it?");
  reply.mutable_comment()->set_public_(true);
  c = Step(c, reply, 3601);
  EXPECT_EQ(c.first_response_time().seconds(), 3601);
  EXPECT_TRUE(c.first_response_breached());
  c = Move(c, v1::CASE_STATUS_RESOLVED, 7200);
  EXPECT_FALSE(c.resolution_breached());
  c = Move(c, v1::CASE_STATUS_REOPENED, 9000);
  EXPECT_FALSE(c.has_resolution_time());
  c = Move(c, v1::CASE_STATUS_RESOLVED, 8 * 3600 + 1);
  EXPECT_TRUE(c.resolution_breached());
}

TEST(Sla, WaitingOnTheCustomerCountsAsTheFirstResponse) {
  Case c = Opened(v1::PRIORITY_LOW, 0);
  c = Move(c, v1::CASE_STATUS_WAITING_ON_CUSTOMER, 60);
  EXPECT_EQ(c.first_response_time().seconds(), 60);
  EXPECT_FALSE(c.first_response_breached());
}

TEST(Sla, PriorityChangeMovesTheDueTimes) {
  Case c = Opened(v1::PRIORITY_LOW, 0);
  auto change = DecidePriority(c, "CASE", v1::PRIORITY_URGENT, SlaPolicy::Default(), 0);
  ASSERT_TRUE(change.ok());
  c = Step(c, *change, 100);
  EXPECT_EQ(c.first_response_due().seconds(), 3600);  // From the opening, not the change.
  EXPECT_EQ(DecidePriority(c, "CASE", v1::PRIORITY_URGENT, SlaPolicy::Default(), 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Sla, OpenCasesBreachWhenTheReadIsLate) {
  Case c = Opened(v1::PRIORITY_URGENT, 0);
  Case early = c;
  MarkBreaches(early, absl::FromUnixSeconds(3000));
  EXPECT_FALSE(early.first_response_breached());
  MarkBreaches(c, absl::FromUnixSeconds(3601));
  EXPECT_TRUE(c.first_response_breached());
  EXPECT_FALSE(c.resolution_breached());
}

TEST(Sla, PolicyParsesAndNamesTheBadFlag) {
  auto p = SlaPolicy::Parse("urgent=30m, low=2d", "high=1h", "--first", "--resolution");
  ASSERT_FALSE(p.ok());  // "2d" is not a Go-style duration.
  EXPECT_NE(p.status().message().find("--first"), std::string::npos);
  p = SlaPolicy::Parse("urgent=30m,low=48h", "high=1h", "--first", "--resolution");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->For(v1::PRIORITY_URGENT).first_response_seconds(), 1800);
  EXPECT_EQ(p->For(v1::PRIORITY_LOW).first_response_seconds(), 48 * 3600);
  EXPECT_EQ(p->For(v1::PRIORITY_HIGH).resolution_seconds(), 3600);
  EXPECT_EQ(p->For(v1::PRIORITY_NORMAL).resolution_seconds(), 72 * 3600);
  EXPECT_FALSE(SlaPolicy::Parse("", "urgent=0s", "--first", "--resolution").ok());
  EXPECT_FALSE(SlaPolicy::Parse("sometimes=1h", "", "--first", "--resolution").ok());
}

TEST(CaseApply, RefusesMovesAndRacesAtApply) {
  const Case c = Opened(v1::PRIORITY_HIGH, 0);
  CaseStatusChanged bad;
  bad.set_status(v1::CASE_STATUS_REOPENED);
  EXPECT_EQ(ApplyCase(c, Event(bad, 1, 5)).status().code(), absl::StatusCode::kFailedPrecondition);
  CaseAssigned assigned;
  assigned.set_owner("sam");
  EXPECT_EQ(ApplyCase(c, Event(assigned, 0, 5)).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(DecideAssign(std::nullopt, "X", "sam", 0).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace crm::interaction
