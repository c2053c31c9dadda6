// The interaction service over gRPC: in the node, and as its own process beside crm-contact on
// the dev broker.
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace iv1 = crm::interaction::v1;
namespace cv1 = crm::contact::v1;

google::protobuf::Timestamp Seconds(int64_t s) {
  google::protobuf::Timestamp t;
  t.set_seconds(s);
  return t;
}

class InteractionTest : public ::testing::Test {
 protected:
  void StartNode(std::vector<std::string> extra = {}) {
    node_ = testing::StartNode(dir_, std::move(extra));
    ASSERT_FALSE(node_.addr.empty());
  }

  static grpc::Status Log(Server& server, const std::vector<std::string>& contacts, int64_t seconds,
                          iv1::Channel channel, const std::string& subject, iv1::Interaction* out,
                          const std::string& company = "") {
    iv1::LogInteractionRequest req;
    auto* i = req.mutable_interaction();
    for (const auto& c : contacts) i->add_contact_ids(c);
    *i->mutable_occurred_at() = Seconds(seconds);
    i->set_channel(channel);
    i->set_direction(iv1::DIRECTION_INBOUND);
    i->set_subject(subject);
    i->set_company_id(company);
    return server.interactions->LogInteraction(Ctx().get(), req, out);
  }

  static std::vector<std::string> Subjects(Server& server, iv1::ListTimelineRequest req) {
    std::vector<std::string> out;
    for (int pages = 0; pages < 20; ++pages) {
      iv1::ListTimelineResponse page;
      grpc::Status s = server.interactions->ListTimeline(Ctx().get(), req, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      for (const auto& item : page.items()) out.push_back(item.subject());
      if (page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
    return out;
  }

  TempDir dir_;
  Server node_;
};

TEST_F(InteractionTest, TimelineNewestFirstPagedFilteredAndFollowingMerges) {
  StartNode();
  Contact ann, bob;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "ann@x.io", &ann).ok());
  ASSERT_TRUE(CreateContact(node_, "Bob", "Ray", "bob@x.io", &bob).ok());
  iv1::Interaction out;
  for (int k = 0; k < 5; ++k) {
    ASSERT_TRUE(Log(node_, {ann.id()}, 1000 + k, k % 2 ? iv1::CHANNEL_EMAIL : iv1::CHANNEL_CALL,
                    "ann-" + std::to_string(k), &out)
                    .ok());
  }
  ASSERT_TRUE(Log(node_, {bob.id()}, 1002, iv1::CHANNEL_CALL, "bob-0", &out).ok());
  ASSERT_TRUE(Log(node_, {ann.id(), bob.id()}, 2000, iv1::CHANNEL_MEETING, "both", &out).ok());
  EXPECT_EQ(out.version(), 1);
  iv1::Interaction read;
  iv1::GetInteractionRequest get;
  get.set_id(out.id());
  ASSERT_TRUE(node_.interactions->GetInteraction(Ctx().get(), get, &read).ok());
  EXPECT_EQ(read.contact_ids_size(), 2);

  iv1::ListTimelineRequest timeline;
  timeline.set_contact_id(ann.id());
  timeline.set_page_size(2);
  EXPECT_EQ(Subjects(node_, timeline),
            (std::vector<std::string>{"both", "ann-4", "ann-3", "ann-2", "ann-1", "ann-0"}));
  timeline.add_channels(iv1::CHANNEL_EMAIL);
  EXPECT_EQ(Subjects(node_, timeline), (std::vector<std::string>{"ann-3", "ann-1"}));
  timeline.clear_channels();
  *timeline.mutable_start_time() = Seconds(1001);
  *timeline.mutable_end_time() = Seconds(1004);
  EXPECT_EQ(Subjects(node_, timeline), (std::vector<std::string>{"ann-3", "ann-2", "ann-1"}));

  // Delete leaves the timeline; update moves an item in it.
  iv1::DeleteInteractionRequest del;
  del.set_id(out.id());
  ASSERT_TRUE(node_.interactions->DeleteInteraction(Ctx().get(), del, &read).ok());
  EXPECT_TRUE(read.deleted());
  iv1::ListTimelineRequest bobs;
  bobs.set_contact_id(bob.id());
  EXPECT_EQ(Subjects(node_, bobs), (std::vector<std::string>{"bob-0"}));

  // Merge Bob into Ann in the contact service: Bob's timeline shows under Ann.
  cv1::MergeContactsRequest merge;
  merge.set_survivor_id(ann.id());
  merge.set_merged_id(bob.id());
  Contact survivor;
  ASSERT_TRUE(node_.contacts->MergeContacts(Ctx().get(), merge, &survivor).ok());
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "interaction"));
  iv1::ListTimelineRequest merged;
  merged.set_contact_id(ann.id());
  const auto subjects = Subjects(node_, merged);
  // bob-0 and ann-2 happened at the same second: ties go by id (the earlier logged first).
  EXPECT_EQ(subjects,
            (std::vector<std::string>{"ann-4", "ann-3", "ann-2", "bob-0", "ann-1", "ann-0"}));
  // And a merged contact takes no new interactions.
  grpc::Status refused = Log(node_, {bob.id()}, 3000, iv1::CHANNEL_CALL, "late", &out);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find(ann.id()), std::string::npos);
}

TEST_F(InteractionTest, UnknownContactsAreRefusedAndNothingIsWritten) {
  StartNode();
  iv1::Interaction out;
  grpc::Status s =
      Log(node_, {"01ARZ3NDEKTSV4RRFFQ69G5FAV"}, 1000, iv1::CHANNEL_CALL, "ghost", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message().rfind("interaction.contact_ids[0]", 0), 0u) << s.error_message();
  crm::admin::v1::GetProjectionStatusResponse status;
  ASSERT_TRUE(ProjectionStatus(node_, &status, "interaction").ok());
  EXPECT_EQ(status.events_seen(), 0);
}

TEST_F(InteractionTest, RestartAndRebuildKeepEverything) {
  StartNode();
  Contact ann;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  iv1::Interaction out;
  for (int k = 0; k < 4; ++k) {
    ASSERT_TRUE(
        Log(node_, {ann.id()}, 100 + k, iv1::CHANNEL_SMS, "m" + std::to_string(k), &out).ok());
  }
  iv1::UpdateInteractionRequest update;
  update.mutable_interaction()->set_id(out.id());
  update.mutable_interaction()->set_subject("edited");
  update.mutable_update_mask()->add_paths("subject");
  ASSERT_TRUE(node_.interactions->UpdateInteraction(Ctx().get(), update, &out).ok());
  iv1::OpenCaseRequest open;
  open.mutable_case_()->set_subject("help");
  open.mutable_case_()->set_contact_id(ann.id());
  iv1::Case c;
  ASSERT_TRUE(node_.interactions->OpenCase(Ctx().get(), open, &c).ok());
  iv1::ChangeCaseStatusRequest status;
  status.set_id(c.id());
  status.set_status(iv1::CASE_STATUS_OPEN);
  ASSERT_TRUE(node_.interactions->ChangeCaseStatus(Ctx().get(), status, &c).ok());
  iv1::CreateTaskRequest task;
  task.mutable_task()->set_title("follow up");
  task.mutable_task()->set_assignee("sam");
  task.mutable_task()->set_contact_id(ann.id());
  *task.mutable_task()->mutable_due_time() = Seconds(50);
  iv1::Task t;
  ASSERT_TRUE(node_.interactions->CreateTask(Ctx().get(), task, &t).ok());
  crm::admin::v1::GetProjectionStatusResponse before, after;
  ASSERT_TRUE(ProjectionStatus(node_, &before, "interaction").ok());
  ASSERT_EQ(node_.process->Stop(SIGTERM), 0);
  StartNode({"--rebuild"});
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "interaction"));
  ASSERT_TRUE(ProjectionStatus(node_, &after, "interaction").ok());
  EXPECT_EQ(after.checksum(), before.checksum());
  iv1::ListTimelineRequest timeline;
  timeline.set_contact_id(ann.id());
  timeline.add_kinds(iv1::TIMELINE_KIND_INTERACTION);
  EXPECT_EQ(Subjects(node_, timeline), (std::vector<std::string>{"edited", "m2", "m1", "m0"}));
  iv1::GetCaseRequest get_case;
  get_case.set_id(c.id());
  ASSERT_TRUE(node_.interactions->GetCase(Ctx().get(), get_case, &c).ok());
  EXPECT_EQ(c.status(), iv1::CASE_STATUS_OPEN);
}

TEST_F(InteractionTest, SeparateProcessesOnTheDevBroker) {
  const DevBroker broker = StartDevBroker(dir_.path());
  const std::string& brokers = broker.brokers;
  ASSERT_FALSE(brokers.empty());
  auto args = [&](const std::string& data) { return KafkaServiceArgs(dir_.Sub(data), brokers); };
  Server contacts = StartServer("crm-contact", args("c"), dir_.path());
  Server interactions = StartServer("crm-interaction", args("i"), dir_.path());
  ASSERT_FALSE(contacts.addr.empty());
  ASSERT_FALSE(interactions.addr.empty());
  Contact ann;
  ASSERT_TRUE(CreateContact(contacts, "Ann", "Lee", "", &ann).ok());
  // Logged right away on the other service: it waits for its directory to learn of Ann.
  iv1::Interaction out;
  grpc::Status s = Log(interactions, {ann.id()}, 500, iv1::CHANNEL_VISIT, "store visit", &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  iv1::ListTimelineRequest timeline;
  timeline.set_contact_id(ann.id());
  EXPECT_EQ(Subjects(interactions, timeline), (std::vector<std::string>{"store visit"}));
}

TEST_F(InteractionTest, SupportCasesWithSlaStatusesListsAndTimeline) {
  // Urgent cases must be answered within a second: a breach the test can wait for.
  StartNode({"--sla-first-response", "urgent=1s"});
  Contact ann;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  iv1::OpenCaseRequest open;
  open.mutable_case_()->set_subject("Printer on fire");
  open.mutable_case_()->set_contact_id(ann.id());
  open.mutable_case_()->set_priority(iv1::PRIORITY_URGENT);
  open.set_request_id("case-1");
  iv1::Case c;
  ASSERT_TRUE(node_.interactions->OpenCase(Ctx().get(), open, &c).ok());
  EXPECT_EQ(c.status(), iv1::CASE_STATUS_NEW);
  EXPECT_EQ(c.sla().first_response_seconds(), 1);
  iv1::Case again;
  ASSERT_TRUE(node_.interactions->OpenCase(Ctx().get(), open, &again).ok());
  EXPECT_EQ(again.id(), c.id());  // Idempotent.

  // Nobody answered: once the target passes, the case reports the breach.
  iv1::GetCaseRequest get;
  get.set_id(c.id());
  ASSERT_TRUE(WaitFor([&] {
    iv1::Case read;
    return node_.interactions->GetCase(Ctx().get(), get, &read).ok() &&
           read.first_response_breached();
  }));
  iv1::ListCasesRequest breached;
  breached.set_breached(true);
  iv1::ListCasesResponse listed;
  ASSERT_TRUE(node_.interactions->ListCases(Ctx().get(), breached, &listed).ok());
  ASSERT_EQ(listed.cases_size(), 1);

  iv1::AssignCaseRequest assign;
  assign.set_id(c.id());
  assign.set_owner("sam");
  ASSERT_TRUE(node_.interactions->AssignCase(Ctx().get(), assign, &c).ok());
  iv1::CommentOnCaseRequest comment;
  comment.set_id(c.id());
  comment.mutable_comment()->set_author("sam");
  comment.mutable_comment()->set_body("On it");
  comment.mutable_comment()->set_public_(true);
  ASSERT_TRUE(node_.interactions->CommentOnCase(Ctx().get(), comment, &c).ok());
  EXPECT_TRUE(c.has_first_response_time());
  EXPECT_TRUE(c.first_response_breached());  // Answered late: it stays a breach.
  iv1::ChangeCaseStatusRequest status;
  status.set_id(c.id());
  status.set_status(iv1::CASE_STATUS_RESOLVED);
  ASSERT_TRUE(node_.interactions->ChangeCaseStatus(Ctx().get(), status, &c).ok());
  status.set_status(iv1::CASE_STATUS_OPEN);
  grpc::Status illegal = node_.interactions->ChangeCaseStatus(Ctx().get(), status, &c);
  EXPECT_EQ(illegal.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  iv1::ChangeCasePriorityRequest priority;
  priority.set_id(c.id());
  priority.set_priority(iv1::PRIORITY_LOW);
  ASSERT_TRUE(node_.interactions->ChangeCasePriority(Ctx().get(), priority, &c).ok());
  EXPECT_EQ(c.sla().first_response_seconds(), 24 * 3600);

  iv1::ListCasesRequest by;
  by.set_owner("sam");
  by.add_statuses(iv1::CASE_STATUS_RESOLVED);
  by.set_contact_id(ann.id());
  ASSERT_TRUE(node_.interactions->ListCases(Ctx().get(), by, &listed).ok());
  ASSERT_EQ(listed.cases_size(), 1);
  by.clear_statuses();
  by.add_statuses(iv1::CASE_STATUS_CLOSED);
  ASSERT_TRUE(node_.interactions->ListCases(Ctx().get(), by, &listed).ok());
  EXPECT_EQ(listed.cases_size(), 0);

  // The case's life is in Ann's timeline.
  iv1::ListTimelineRequest timeline;
  timeline.set_contact_id(ann.id());
  timeline.add_kinds(iv1::TIMELINE_KIND_CASE);
  const auto subjects = Subjects(node_, timeline);
  ASSERT_EQ(subjects.size(), 5u);
  EXPECT_EQ(subjects.back(), "Case opened: Printer on fire");
  EXPECT_EQ(subjects[1], "Case resolved: Printer on fire");

  // Bad input for every case RPC.
  open.mutable_case_()->clear_subject();
  open.set_request_id("");
  ExpectInvalid(node_.interactions->OpenCase(Ctx().get(), open, &c), "case.subject");
  get.set_id("x");
  ExpectInvalid(node_.interactions->GetCase(Ctx().get(), get, &c), "id");
  assign.set_owner("two words");
  ExpectInvalid(node_.interactions->AssignCase(Ctx().get(), assign, &c), "owner");
  comment.mutable_comment()->clear_body();
  ExpectInvalid(node_.interactions->CommentOnCase(Ctx().get(), comment, &c), "comment.body");
  priority.set_priority(iv1::PRIORITY_UNSPECIFIED);
  ExpectInvalid(node_.interactions->ChangeCasePriority(Ctx().get(), priority, &c), "priority");
  status.set_status(iv1::CASE_STATUS_NEW);
  ExpectInvalid(node_.interactions->ChangeCaseStatus(Ctx().get(), status, &c), "status");
  iv1::ListCasesRequest bad_list;
  bad_list.add_statuses(static_cast<iv1::CaseStatus>(42));
  ExpectInvalid(node_.interactions->ListCases(Ctx().get(), bad_list, &listed), "statuses[0]");
  // A case for an unknown contact.
  iv1::OpenCaseRequest ghost;
  ghost.mutable_case_()->set_subject("?");
  ghost.mutable_case_()->set_contact_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(node_.interactions->OpenCase(Ctx().get(), ghost, &c).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(InteractionTest, TasksAndAppointmentsByAssigneeAndInTheTimeline) {
  StartNode();
  Contact ann;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  auto create = [&](const std::string& title, int64_t due, iv1::Task* out) {
    iv1::CreateTaskRequest req;
    req.mutable_task()->set_title(title);
    req.mutable_task()->set_assignee("sam");
    req.mutable_task()->set_contact_id(ann.id());
    *req.mutable_task()->mutable_due_time() = Seconds(due);
    return node_.interactions->CreateTask(Ctx().get(), req, out);
  };
  iv1::Task late, today, later;
  ASSERT_TRUE(create("late", 1000, &late).ok());
  ASSERT_TRUE(create("today", 100000, &today).ok());
  ASSERT_TRUE(create("later", 1000000, &later).ok());
  iv1::CreateTaskRequest visit;
  visit.mutable_task()->set_kind(iv1::TASK_KIND_APPOINTMENT);
  visit.mutable_task()->set_title("service visit");
  visit.mutable_task()->set_assignee("sam");
  visit.mutable_task()->set_contact_id(ann.id());
  *visit.mutable_task()->mutable_start_time() = Seconds(120000);
  *visit.mutable_task()->mutable_end_time() = Seconds(123600);
  iv1::Task appointment;
  ASSERT_TRUE(node_.interactions->CreateTask(Ctx().get(), visit, &appointment).ok());

  auto titles = [&](iv1::TaskView view) {
    iv1::ListTasksRequest req;
    req.set_assignee("sam");
    req.set_view(view);
    *req.mutable_at() = Seconds(90000);
    iv1::ListTasksResponse out;
    EXPECT_TRUE(node_.interactions->ListTasks(Ctx().get(), req, &out).ok());
    std::vector<std::string> t;
    for (const auto& task : out.tasks()) t.push_back(task.title());
    return t;
  };
  EXPECT_EQ(titles(iv1::TASK_VIEW_OVERDUE), (std::vector<std::string>{"late"}));
  EXPECT_EQ(titles(iv1::TASK_VIEW_DUE), (std::vector<std::string>{"today", "service visit"}));
  EXPECT_EQ(titles(iv1::TASK_VIEW_UPCOMING),
            (std::vector<std::string>{"today", "service visit", "later"}));

  iv1::CompleteTaskRequest complete;
  complete.set_id(late.id());
  ASSERT_TRUE(node_.interactions->CompleteTask(Ctx().get(), complete, &late).ok());
  EXPECT_EQ(late.status(), iv1::TASK_STATUS_COMPLETED);
  EXPECT_TRUE(titles(iv1::TASK_VIEW_OVERDUE).empty());
  iv1::RescheduleTaskRequest move;
  move.set_id(later.id());
  *move.mutable_due_time() = Seconds(500);
  ASSERT_TRUE(node_.interactions->RescheduleTask(Ctx().get(), move, &later).ok());
  EXPECT_EQ(titles(iv1::TASK_VIEW_OVERDUE), (std::vector<std::string>{"later"}));
  iv1::CancelTaskRequest cancel;
  cancel.set_id(today.id());
  ASSERT_TRUE(node_.interactions->CancelTask(Ctx().get(), cancel, &today).ok());
  // Without a request id a second cancel is a new command, refused: the task is not open.
  EXPECT_EQ(node_.interactions->CancelTask(Ctx().get(), cancel, &today).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  iv1::ListTimelineRequest timeline;
  timeline.set_contact_id(ann.id());
  timeline.add_kinds(iv1::TIMELINE_KIND_TASK);
  EXPECT_EQ(
      Subjects(node_, timeline),
      (std::vector<std::string>{"Appointment: service visit", "Done: Task: late", "Task: later"}));

  // Bad input for every task RPC.
  iv1::Task out;
  iv1::CreateTaskRequest no_due;
  no_due.mutable_task()->set_title("x");
  no_due.mutable_task()->set_assignee("sam");
  ExpectInvalid(node_.interactions->CreateTask(Ctx().get(), no_due, &out), "task.due_time");
  visit.mutable_task()->mutable_end_time()->set_seconds(1);
  ExpectInvalid(node_.interactions->CreateTask(Ctx().get(), visit, &out), "task.end_time");
  iv1::GetTaskRequest get;
  get.set_id("?");
  ExpectInvalid(node_.interactions->GetTask(Ctx().get(), get, &out), "id");
  complete.set_id("");
  ExpectInvalid(node_.interactions->CompleteTask(Ctx().get(), complete, &out), "id");
  move.clear_due_time();
  ExpectInvalid(node_.interactions->RescheduleTask(Ctx().get(), move, &out), "due_time");
  cancel.set_expected_version(-2);
  ExpectInvalid(node_.interactions->CancelTask(Ctx().get(), cancel, &out), "expected_version");
  iv1::ListTasksRequest list;
  iv1::ListTasksResponse listed;
  ExpectInvalid(node_.interactions->ListTasks(Ctx().get(), list, &listed), "assignee");
  list.set_assignee("sam");
  list.set_view(iv1::TASK_VIEW_OVERDUE);
  ExpectInvalid(node_.interactions->ListTasks(Ctx().get(), list, &listed), "at");
}

TEST_F(InteractionTest, BadSlaConfigurationFailsFast) {
  Process bad(
      BinaryPath("crm-node"),
      {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("bad"), "--sla-resolution", "urgent=soon"},
      {}, dir_.path());
  bad.Stop(0, absl::Seconds(10));
  EXPECT_NE(bad.Log().find("--sla-resolution"), std::string::npos) << bad.Log();
}

// One bad input for every RPC: INVALID_ARGUMENT naming the field.
TEST_F(InteractionTest, BadInputForEveryRpc) {
  StartNode();
  iv1::Interaction out;
  ExpectInvalid(Log(node_, {}, 100, iv1::CHANNEL_CALL, "x", &out), "interaction.contact_ids");
  ExpectInvalid(
      Log(node_, {"01ARZ3NDEKTSV4RRFFQ69G5FAV"}, 100, iv1::CHANNEL_UNSPECIFIED, "x", &out),
      "interaction.channel");
  ExpectInvalid(
      Log(node_, {"01ARZ3NDEKTSV4RRFFQ69G5FAV"}, 4102444800, iv1::CHANNEL_CALL, "x", &out),
      "interaction.occurred_at");
  iv1::GetInteractionRequest get;
  get.set_id("nope");
  ExpectInvalid(node_.interactions->GetInteraction(Ctx().get(), get, &out), "id");
  iv1::UpdateInteractionRequest update;
  update.mutable_interaction()->set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  update.mutable_update_mask()->add_paths("version");
  ExpectInvalid(node_.interactions->UpdateInteraction(Ctx().get(), update, &out), "update_mask");
  iv1::DeleteInteractionRequest del;
  del.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  del.set_expected_version(-1);
  ExpectInvalid(node_.interactions->DeleteInteraction(Ctx().get(), del, &out), "expected_version");
  iv1::ListTimelineRequest timeline;
  iv1::ListTimelineResponse page;
  ExpectInvalid(node_.interactions->ListTimeline(Ctx().get(), timeline, &page), "contact_id");
  timeline.set_contact_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  timeline.set_page_size(501);
  ExpectInvalid(node_.interactions->ListTimeline(Ctx().get(), timeline, &page), "page_size");
  // Well-formed but unknown.
  get.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(node_.interactions->GetInteraction(Ctx().get(), get, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  timeline.set_page_size(0);
  EXPECT_EQ(node_.interactions->ListTimeline(Ctx().get(), timeline, &page).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace crm::testing
