// crmctl case ... and crmctl task ...
#include <google/protobuf/util/time_util.h>

#include <iomanip>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::interaction::v1;
using google::protobuf::util::TimeUtil;

template <typename Enum, typename Parse>
Enum ParseEnum(const std::string& prefix, const std::string& value, Parse parse,
               const std::string& flag, const std::string& choices) {
  Enum e;
  if (!parse(prefix + absl::AsciiStrToUpper(value), &e) || static_cast<int>(e) == 0) {
    UsageError(flag + " must be " + choices);
  }
  return e;
}

v1::Priority ParsePriority(const std::string& s) {
  return ParseEnum<v1::Priority>("PRIORITY_", s, v1::Priority_Parse, "--priority",
                                 "low, normal, high or urgent");
}

std::string Tail(const std::string& name, size_t prefix) {
  return absl::AsciiStrToLower(name.substr(prefix));
}

void PrintCase(const v1::Case& c) {
  PrintRow("id", c.id());
  PrintRow("subject", c.subject());
  PrintRow("contact", c.contact_id());
  PrintRow("owner", c.owner());
  PrintRow("priority", Tail(v1::Priority_Name(c.priority()), 9));
  PrintRow("status", Tail(v1::CaseStatus_Name(c.status()), 12));
  PrintRow("respond by", TimeUtil::ToString(c.first_response_due()) +
                             (c.first_response_breached() ? "  BREACHED" : ""));
  PrintRow("resolve by",
           TimeUtil::ToString(c.resolution_due()) + (c.resolution_breached() ? "  BREACHED" : ""));
  PrintRow("comments", std::to_string(c.comments_size()));
  PrintRow("version", std::to_string(c.version()));
  std::cout << std::flush;
}

void PrintTask(const v1::Task& t) {
  PrintRow("id", t.id());
  PrintRow("title", t.title());
  PrintRow("kind", Tail(v1::TaskKind_Name(t.kind()), 10));
  PrintRow("status", Tail(v1::TaskStatus_Name(t.status()), 12));
  PrintRow("assignee", t.assignee());
  if (t.has_due_time()) PrintRow("due", TimeUtil::ToString(t.due_time()));
  if (t.has_start_time()) {
    PrintRow("from",
             TimeUtil::ToString(t.start_time()) + " to " + TimeUtil::ToString(t.end_time()));
  }
  PrintRow("contact", t.contact_id());
  PrintRow("version", std::to_string(t.version()));
  std::cout << std::flush;
}

// A command whose callback calls one RPC returning a Case or a Task.
template <typename Response, typename Request, typename Call, typename Print>
void Unary(Client& client, int& exit_code, std::shared_ptr<Request> req, Call call, Print print) {
  Run<Response>(
      client, exit_code, [&](Response& out) { return call(*req, out); },
      [&](const Response& out) { print(out); });
}

}  // namespace

void RegisterCaseAndTaskCommands(CLI::App& app, Client& client, int& exit_code) {
  CLI::App* kase = app.add_subcommand("case", "support cases");
  kase->require_subcommand(1);
  auto stub = [&client]() -> v1::InteractionService::Stub& { return client.interactions(); };

  auto open = std::make_shared<v1::OpenCaseRequest>();
  auto open_priority = std::make_shared<std::string>();
  CLI::App* c_open = kase->add_subcommand("open", "open a case");
  c_open->add_option("--contact", *open->mutable_case_()->mutable_contact_id(), "contact id")
      ->required();
  c_open->add_option("--subject", *open->mutable_case_()->mutable_subject(), "subject")->required();
  c_open->add_option("--description", *open->mutable_case_()->mutable_description(), "details");
  c_open->add_option("--owner", *open->mutable_case_()->mutable_owner(), "assignee");
  c_open->add_option("--priority", *open_priority, "low, normal, high or urgent");
  c_open->add_option("--request-id", *open->mutable_request_id(), "idempotency key");
  c_open->callback([&client, &exit_code, open, open_priority, stub] {
    if (!open_priority->empty()) open->mutable_case_()->set_priority(ParsePriority(*open_priority));
    Unary<v1::Case>(
        client, exit_code, open,
        [&](const v1::OpenCaseRequest& r, v1::Case& out) {
          return stub().OpenCase(client.Context().get(), r, &out);
        },
        PrintCase);
  });

  auto get = std::make_shared<v1::GetCaseRequest>();
  CLI::App* c_get = kase->add_subcommand("get", "show a case");
  c_get->add_option("id", *get->mutable_id(), "case id")->required();
  c_get->callback([&client, &exit_code, get, stub] {
    Unary<v1::Case>(
        client, exit_code, get,
        [&](const v1::GetCaseRequest& r, v1::Case& out) {
          return stub().GetCase(client.Context().get(), r, &out);
        },
        PrintCase);
  });

  auto assign = std::make_shared<v1::AssignCaseRequest>();
  CLI::App* c_assign = kase->add_subcommand("assign", "assign a case");
  c_assign->add_option("id", *assign->mutable_id(), "case id")->required();
  c_assign->add_option("owner", *assign->mutable_owner(), "new owner")->required();
  c_assign->callback([&client, &exit_code, assign, stub] {
    Unary<v1::Case>(
        client, exit_code, assign,
        [&](const v1::AssignCaseRequest& r, v1::Case& out) {
          return stub().AssignCase(client.Context().get(), r, &out);
        },
        PrintCase);
  });

  auto comment = std::make_shared<v1::CommentOnCaseRequest>();
  auto is_public = std::make_shared<bool>(false);
  CLI::App* c_comment = kase->add_subcommand("comment", "comment on a case");
  c_comment->add_option("id", *comment->mutable_id(), "case id")->required();
  c_comment->add_option("--author", *comment->mutable_comment()->mutable_author(), "who")
      ->required();
  c_comment->add_option("--body", *comment->mutable_comment()->mutable_body(), "text")->required();
  c_comment->add_flag("--public", *is_public, "the customer sees it (a response)");
  c_comment->callback([&client, &exit_code, comment, is_public, stub] {
    comment->mutable_comment()->set_public_(*is_public);
    Unary<v1::Case>(
        client, exit_code, comment,
        [&](const v1::CommentOnCaseRequest& r, v1::Case& out) {
          return stub().CommentOnCase(client.Context().get(), r, &out);
        },
        PrintCase);
  });

  auto priority = std::make_shared<v1::ChangeCasePriorityRequest>();
  auto priority_name = std::make_shared<std::string>();
  CLI::App* c_priority = kase->add_subcommand("priority", "change a case's priority");
  c_priority->add_option("id", *priority->mutable_id(), "case id")->required();
  c_priority->add_option("priority", *priority_name, "low, normal, high or urgent")->required();
  c_priority->callback([&client, &exit_code, priority, priority_name, stub] {
    priority->set_priority(ParsePriority(*priority_name));
    Unary<v1::Case>(
        client, exit_code, priority,
        [&](const v1::ChangeCasePriorityRequest& r, v1::Case& out) {
          return stub().ChangeCasePriority(client.Context().get(), r, &out);
        },
        PrintCase);
  });

  auto status = std::make_shared<v1::ChangeCaseStatusRequest>();
  auto status_name = std::make_shared<std::string>();
  CLI::App* c_status = kase->add_subcommand("status", "move a case to another status");
  c_status->add_option("id", *status->mutable_id(), "case id")->required();
  c_status
      ->add_option("status", *status_name,
                   "open, waiting_on_customer, resolved, closed or reopened")
      ->required();
  c_status->callback([&client, &exit_code, status, status_name, stub] {
    status->set_status(
        ParseEnum<v1::CaseStatus>("CASE_STATUS_", *status_name, v1::CaseStatus_Parse, "status",
                                  "open, waiting_on_customer, resolved, closed or reopened"));
    Unary<v1::Case>(
        client, exit_code, status,
        [&](const v1::ChangeCaseStatusRequest& r, v1::Case& out) {
          return stub().ChangeCaseStatus(client.Context().get(), r, &out);
        },
        PrintCase);
  });

  auto list = std::make_shared<v1::ListCasesRequest>();
  auto breached = std::make_shared<bool>(false);
  CLI::App* c_list = kase->add_subcommand("list", "list cases");
  c_list->add_option("--owner", *list->mutable_owner(), "only this owner's");
  c_list->add_option("--contact", *list->mutable_contact_id(), "only this contact's");
  c_list->add_flag("--breached", *breached, "only cases past an SLA target");
  c_list->add_option("--page-token", *list->mutable_page_token(), "continue");
  c_list->callback([&client, &exit_code, list, breached, stub] {
    if (*breached) list->set_breached(true);
    Run<v1::ListCasesResponse>(
        client, exit_code,
        [&](v1::ListCasesResponse& out) {
          return stub().ListCases(client.Context().get(), *list, &out);
        },
        [](const v1::ListCasesResponse& out) {
          for (const auto& c : out.cases()) {
            std::cout << std::left << std::setw(28) << c.id() << std::setw(22)
                      << Tail(v1::CaseStatus_Name(c.status()), 12) << std::setw(9)
                      << Tail(v1::Priority_Name(c.priority()), 9)
                      << (c.first_response_breached() || c.resolution_breached() ? "BREACHED  "
                                                                                 : "          ")
                      << c.subject() << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });

  CLI::App* task = app.add_subcommand("task", "tasks and appointments");
  task->require_subcommand(1);
  struct TaskFlags {
    std::string title, assignee, contact, due, start, end, request_id;
  };
  auto tf = std::make_shared<TaskFlags>();
  CLI::App* t_create =
      task->add_subcommand("create", "a task (--due) or an appointment (--start and --end)");
  t_create->add_option("--title", tf->title, "title")->required();
  t_create->add_option("--assignee", tf->assignee, "who does it")->required();
  t_create->add_option("--contact", tf->contact, "contact id");
  t_create->add_option("--due", tf->due, "due time (RFC 3339)");
  t_create->add_option("--start", tf->start, "appointment start (RFC 3339)");
  t_create->add_option("--end", tf->end, "appointment end (RFC 3339)");
  t_create->add_option("--request-id", tf->request_id, "idempotency key");
  t_create->callback([&client, &exit_code, tf, stub] {
    auto req = std::make_shared<v1::CreateTaskRequest>();
    auto* t = req->mutable_task();
    t->set_title(tf->title);
    t->set_assignee(tf->assignee);
    t->set_contact_id(tf->contact);
    if (!tf->start.empty()) {
      t->set_kind(v1::TASK_KIND_APPOINTMENT);
      *t->mutable_start_time() = ParseTime("--start", tf->start);
      *t->mutable_end_time() = ParseTime("--end", tf->end);
    } else if (!tf->due.empty()) {
      *t->mutable_due_time() = ParseTime("--due", tf->due);
    }
    req->set_request_id(tf->request_id);
    Unary<v1::Task>(
        client, exit_code, req,
        [&](const v1::CreateTaskRequest& r, v1::Task& out) {
          return stub().CreateTask(client.Context().get(), r, &out);
        },
        PrintTask);
  });

  for (const std::string verb : {"complete", "cancel"}) {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = task->add_subcommand(verb, verb + " a task");
    cmd->add_option("id", *id, "task id")->required();
    cmd->callback([&client, &exit_code, id, verb, stub] {
      Run<v1::Task>(
          client, exit_code,
          [&](v1::Task& out) {
            if (verb == "complete") {
              v1::CompleteTaskRequest r;
              r.set_id(*id);
              return stub().CompleteTask(client.Context().get(), r, &out);
            }
            v1::CancelTaskRequest r;
            r.set_id(*id);
            return stub().CancelTask(client.Context().get(), r, &out);
          },
          PrintTask);
    });
  }

  auto rf = std::make_shared<TaskFlags>();
  auto move_id = std::make_shared<std::string>();
  CLI::App* t_move = task->add_subcommand("reschedule", "move a task or appointment");
  t_move->add_option("id", *move_id, "task id")->required();
  t_move->add_option("--due", rf->due, "new due time");
  t_move->add_option("--start", rf->start, "new start");
  t_move->add_option("--end", rf->end, "new end");
  t_move->callback([&client, &exit_code, rf, move_id, stub] {
    auto req = std::make_shared<v1::RescheduleTaskRequest>();
    req->set_id(*move_id);
    if (!rf->due.empty()) *req->mutable_due_time() = ParseTime("--due", rf->due);
    if (!rf->start.empty()) *req->mutable_start_time() = ParseTime("--start", rf->start);
    if (!rf->end.empty()) *req->mutable_end_time() = ParseTime("--end", rf->end);
    Unary<v1::Task>(
        client, exit_code, req,
        [&](const v1::RescheduleTaskRequest& r, v1::Task& out) {
          return stub().RescheduleTask(client.Context().get(), r, &out);
        },
        PrintTask);
  });

  auto tl = std::make_shared<v1::ListTasksRequest>();
  auto view = std::make_shared<std::string>();
  auto at = std::make_shared<std::string>();
  CLI::App* t_list = task->add_subcommand("list", "an assignee's open tasks");
  t_list->add_option("assignee", *tl->mutable_assignee(), "who")->required();
  t_list->add_option("--view", *view, "overdue, due (within a day) or upcoming");
  t_list->add_option("--at", *at, "reference time (RFC 3339; default now)");
  t_list->callback([&client, &exit_code, tl, view, at, stub] {
    if (!view->empty()) {
      tl->set_view(ParseEnum<v1::TaskView>("TASK_VIEW_", *view, v1::TaskView_Parse, "--view",
                                           "overdue, due or upcoming"));
      *tl->mutable_at() = at->empty() ? TimeUtil::GetCurrentTime() : ParseTime("--at", *at);
    }
    Run<v1::ListTasksResponse>(
        client, exit_code,
        [&](v1::ListTasksResponse& out) {
          return stub().ListTasks(client.Context().get(), *tl, &out);
        },
        [](const v1::ListTasksResponse& out) {
          for (const auto& t : out.tasks()) {
            const auto& when =
                t.kind() == v1::TASK_KIND_APPOINTMENT ? t.start_time() : t.due_time();
            std::cout << TimeUtil::ToString(when) << "  " << std::left << std::setw(28) << t.id()
                      << t.title() << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });
}

}  // namespace crm::ctl
