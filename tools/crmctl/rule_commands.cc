// crmctl rule ...: automation rules (crm.analytics.v1.AutomationService) and their runs.
//
//   crmctl rule create --name "Boots follow-up" --on order-placed --category footwear
//       --task-title "Call about order {order_id}" --task-assignee ops --task-due-days 3
//   crmctl rule enable 01J...
//   crmctl rule runs 01J... --state dead-lettered
//   crmctl rule test 01J... --from 2026-01-01T00:00:00Z --to 2026-07-01T00:00:00Z
#include <iostream>
#include <memory>

#include "crm/analytics/v1/automation_service.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::analytics::v1;
using google::protobuf::util::TimeUtil;

void PrintRule(const v1::Rule& r) {
  PrintRow("id", r.id());
  PrintRow("name", r.name());
  PrintRow("enabled", r.enabled() ? "yes" : "no");
  const v1::RuleTrigger& t = r.trigger();
  if (t.has_order_placed()) {
    PrintRow("on", "order placed");
    for (const std::string& p : t.order_placed().product_ids()) PrintRow("product", p);
    for (const std::string& c : t.order_placed().categories()) PrintRow("category", c);
    if (t.order_placed().has_min_total()) {
      PrintRow("min total", std::to_string(t.order_placed().min_total().minor_units()) + " " +
                                t.order_placed().min_total().currency_code() + " (minor units)");
    }
  } else if (t.has_deal_stage_entered()) {
    PrintRow("on", "deal entered stage " + t.deal_stage_entered().stage_id());
  } else if (t.has_no_purchase()) {
    PrintRow("on", std::to_string(t.no_purchase().days()) + " days without a purchase");
  } else if (t.has_case_sla_breach()) {
    PrintRow("on", "a case breaching its SLA");
  } else if (t.has_churn_risk()) {
    PrintRow("on", "churn risk reaching " + std::to_string(t.churn_risk().threshold_bp()) + " bp");
  } else if (t.has_segment_change()) {
    PrintRow("on", (t.segment_change().change() == v1::SEGMENT_CHANGE_LEFT ? "leaving segment "
                                                                           : "joining segment ") +
                       t.segment_change().segment_id());
  } else if (t.has_anniversary()) {
    PrintRow("on", "anniversary of " +
                       EnumWord(v1::AnniversaryKind_descriptor(), t.anniversary().kind()));
  }
  if (!t.customer_segment_id().empty()) PrintRow("customers in", t.customer_segment_id());
  if (t.has_delay()) PrintRow("delay", std::to_string(t.delay().seconds()) + " s");
  if (r.has_segment_watch_time()) {
    PrintRow("watching since", google::protobuf::util::TimeUtil::ToString(r.segment_watch_time()));
  }
  for (const v1::RuleAction& a : r.actions()) {
    if (a.has_tag_contact()) PrintRow("tag", a.tag_contact().tag());
    if (a.has_notify_partners()) PrintRow("notify", a.notify_partners().label());
    if (a.has_send_message()) {
      PrintRow("send",
               EnumWord(crm::contact::v1::ConsentChannel_descriptor(), a.send_message().channel()) +
                   ": " + a.send_message().body().substr(0, 60));
    }
    if (a.has_set_lifecycle_stage()) {
      PrintRow("set stage", EnumWord(crm::contact::v1::LifecycleStage_descriptor(),
                                     a.set_lifecycle_stage().stage()));
    }
    if (!a.has_create_task()) continue;
    const v1::CreateTaskAction& task = a.create_task();
    PrintRow("task", task.title() + " (for " +
                         (task.assignee().empty() ? "the owner" : task.assignee()) + ", due in " +
                         std::to_string(task.due_in_days()) + " days)");
  }
  PrintRow("runs", std::to_string(r.run_count()));
  PrintRow("dead letters", std::to_string(r.dead_letter_count()));
  PrintRow("version", std::to_string(r.version()));
  std::cout << std::flush;
}

}  // namespace

void RegisterRuleCommands(CLI::App& app, Client& client, int& exit_code) {
  auto stub = [&client]() { return v1::AutomationService::NewStub(client.channel()); };
  struct Flags {
    std::string id, name, on, stage, currency = "EUR", task_title, task_description, task_assignee,
                                     request_id, state, page_token, from, to, add_tag, set_stage,
                                     notify, send, subject, body, of, segment, customers_in;
    std::vector<std::string> products, categories;
    int64_t min_total = -1;
    int64_t delay_days = 0;
    int task_due_days = 0;
    int days = 0;
    int threshold_bp = 0;
    int64_t expected_version = 0;
  };
  auto f = std::make_shared<Flags>();

  CLI::App* rule =
      app.add_subcommand("rule", "automation: rules that act on the tenant's events, once each");
  rule->require_subcommand(1);

  CLI::App* create = rule->add_subcommand("create", "create a rule (disabled until enabled)");
  create->add_option("--name", f->name, "for people")->required();
  create
      ->add_option("--on", f->on,
                   "the trigger: order-placed, deal-stage, no-purchase (time: --days without "
                   "a purchase), anniversary (time: --of), case-sla-breach (time), churn-risk "
                   "(time: --threshold-bp), segment-joined or segment-left (--segment)")
      ->required();
  create->add_option("--threshold-bp", f->threshold_bp,
                     "churn-risk: the risk in basis points, 1 to 10000 (5000 = 50%)");
  create->add_option("--segment", f->segment, "segment-joined, segment-left: the segment id");
  create->add_option("--customers-in", f->customers_in,
                     "only for customers in this segment when the run is decided (a condition on "
                     "their state)");
  create->add_option("--days", f->days, "no-purchase: days since the last purchase");
  create->add_option("--of", f->of, "anniversary: first-purchase or contact-created");
  create->add_option("--product", f->products, "order-placed: an order with this product id");
  create->add_option("--category", f->categories,
                     "order-placed: an order with a product of this category");
  create->add_option("--min-total", f->min_total,
                     "order-placed: a total of at least this many minor units (of --currency)");
  create->add_option("--currency", f->currency, "the currency of --min-total")
      ->capture_default_str();
  create->add_option("--stage", f->stage, "deal-stage: the stage id entered");
  create->add_option("--delay-days", f->delay_days,
                     "act this many days after the event instead of at once");
  create->add_option("--task-title", f->task_title,
                     "a task it creates; {contact_id}, {order_id}, {deal_id}, {rule_name} "
                     "are filled in");
  create->add_option("--task-description", f->task_description, "the task's details");
  create->add_option("--task-assignee", f->task_assignee,
                     "who does it (default: the customer's or the deal's owner)");
  create->add_option("--task-due-days", f->task_due_days, "days from the event to the due time");
  create->add_option("--add-tag", f->add_tag, "tag the customer");
  create->add_option("--notify", f->notify,
                     "notify partners: a crm.analytics.v1.RuleNotification with this label");
  create->add_option("--set-stage", f->set_stage,
                     "set the customer's lifecycle stage: subscriber, lead, prospect, customer, "
                     "churned");
  create->add_option("--send", f->send,
                     "send the customer a message: email or sms (with consent, outside quiet "
                     "hours, within the frequency cap)");
  create->add_option("--subject", f->subject, "--send email: the subject ({given_name}, ...)");
  create->add_option("--body", f->body,
                     "--send: the text; {given_name} {family_name} {contact_id} {order_id} "
                     "{deal_id} {rule_name} are filled");
  create->add_option("--request-id", f->request_id, "idempotency key");
  create->callback([&client, &exit_code, f, stub] {
    v1::CreateRuleRequest req;
    v1::Rule& r = *req.mutable_rule();
    r.set_name(f->name);
    if (f->delay_days > 0) r.mutable_trigger()->mutable_delay()->set_seconds(f->delay_days * 86400);
    r.mutable_trigger()->set_customer_segment_id(f->customers_in);
    if (f->on == "order-placed") {
      v1::OrderPlacedTrigger& t = *r.mutable_trigger()->mutable_order_placed();
      for (const std::string& p : f->products) t.add_product_ids(p);
      for (const std::string& c : f->categories) t.add_categories(c);
      if (f->min_total >= 0) {
        t.mutable_min_total()->set_currency_code(f->currency);
        t.mutable_min_total()->set_minor_units(f->min_total);
      }
    } else if (f->on == "deal-stage") {
      if (f->stage.empty()) UsageError("--on deal-stage needs --stage");
      r.mutable_trigger()->mutable_deal_stage_entered()->set_stage_id(f->stage);
    } else if (f->on == "no-purchase") {
      if (f->days <= 0) UsageError("--on no-purchase needs --days");
      r.mutable_trigger()->mutable_no_purchase()->set_days(f->days);
    } else if (f->on == "case-sla-breach") {
      r.mutable_trigger()->mutable_case_sla_breach();
    } else if (f->on == "anniversary") {
      const std::optional<int> kind = ParseEnumWord(v1::AnniversaryKind_descriptor(), f->of);
      if (!kind) UsageError("--on anniversary needs --of first-purchase or contact-created");
      r.mutable_trigger()->mutable_anniversary()->set_kind(static_cast<v1::AnniversaryKind>(*kind));
    } else if (f->on == "churn-risk") {
      if (f->threshold_bp <= 0) UsageError("--on churn-risk needs --threshold-bp");
      r.mutable_trigger()->mutable_churn_risk()->set_threshold_bp(f->threshold_bp);
    } else if (f->on == "segment-joined" || f->on == "segment-left") {
      if (f->segment.empty()) UsageError("--on " + f->on + " needs --segment");
      v1::SegmentChangeTrigger& t = *r.mutable_trigger()->mutable_segment_change();
      t.set_segment_id(f->segment);
      t.set_change(f->on == "segment-joined" ? v1::SEGMENT_CHANGE_JOINED : v1::SEGMENT_CHANGE_LEFT);
    } else {
      UsageError(
          "--on must be order-placed, deal-stage, no-purchase, anniversary, case-sla-breach, "
          "churn-risk, segment-joined or segment-left");
    }
    if (!f->task_title.empty()) {
      v1::CreateTaskAction& task = *r.add_actions()->mutable_create_task();
      task.set_title(f->task_title);
      task.set_description(f->task_description);
      task.set_assignee(f->task_assignee);
      task.set_due_in_days(f->task_due_days);
    }
    if (!f->add_tag.empty()) r.add_actions()->mutable_tag_contact()->set_tag(f->add_tag);
    if (!f->set_stage.empty()) {
      const std::optional<int> stage =
          ParseEnumWord(crm::contact::v1::LifecycleStage_descriptor(), f->set_stage);
      if (!stage) {
        UsageError("--set-stage must be subscriber, lead, prospect, customer or churned");
      }
      r.add_actions()->mutable_set_lifecycle_stage()->set_stage(
          static_cast<crm::contact::v1::LifecycleStage>(*stage));
    }
    if (!f->notify.empty()) r.add_actions()->mutable_notify_partners()->set_label(f->notify);
    if (!f->send.empty()) {
      v1::SendMessageAction& m = *r.add_actions()->mutable_send_message();
      if (f->send == "email") {
        m.set_channel(crm::contact::v1::CONSENT_CHANNEL_EMAIL);
      } else if (f->send == "sms") {
        m.set_channel(crm::contact::v1::CONSENT_CHANNEL_SMS);
      } else {
        UsageError("--send must be email or sms");
      }
      m.set_subject(f->subject);
      m.set_body(f->body);
    }
    if (r.actions().empty()) {
      UsageError("give an action: --task-title, --add-tag, --set-stage, --notify or --send");
    }
    req.set_request_id(f->request_id);
    Run<v1::Rule>(
        client, exit_code,
        [&](v1::Rule& out) { return stub()->CreateRule(client.Context().get(), req, &out); },
        PrintRule);
  });

  CLI::App* get = rule->add_subcommand("get", "a rule and how its runs stand");
  get->add_option("id", f->id, "rule id")->required();
  get->callback([&client, &exit_code, f, stub] {
    v1::GetRuleRequest req;
    req.set_id(f->id);
    Run<v1::Rule>(
        client, exit_code,
        [&](v1::Rule& out) { return stub()->GetRule(client.Context().get(), req, &out); },
        PrintRule);
  });

  CLI::App* list = rule->add_subcommand("list", "the tenant's rules");
  list->add_option("--page-token", f->page_token, "continue");
  list->callback([&client, &exit_code, f, stub] {
    v1::ListRulesRequest req;
    req.set_page_token(f->page_token);
    Run<v1::ListRulesResponse>(
        client, exit_code,
        [&](v1::ListRulesResponse& out) {
          return stub()->ListRules(client.Context().get(), req, &out);
        },
        [](const v1::ListRulesResponse& out) {
          for (const auto& r : out.rules()) {
            std::cout << r.id() << "  " << (r.enabled() ? "enabled " : "disabled") << "  "
                      << r.name() << "  runs " << r.run_count() << ", dead letters "
                      << r.dead_letter_count() << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });

  for (const bool enable : {true, false}) {
    CLI::App* sub = rule->add_subcommand(
        enable ? "enable" : "disable",
        enable ? "act on the events from now on" : "decide no more runs (decided ones still run)");
    sub->add_option("id", f->id, "rule id")->required();
    sub->add_option("--expected-version", f->expected_version, "refuse unless at this version");
    sub->add_option("--request-id", f->request_id, "idempotency key");
    sub->callback([&client, &exit_code, f, stub, enable] {
      Run<v1::Rule>(
          client, exit_code,
          [&](v1::Rule& out) {
            if (enable) {
              v1::EnableRuleRequest req;
              req.set_id(f->id);
              req.set_expected_version(f->expected_version);
              req.set_request_id(f->request_id);
              return stub()->EnableRule(client.Context().get(), req, &out);
            }
            v1::DisableRuleRequest req;
            req.set_id(f->id);
            req.set_expected_version(f->expected_version);
            req.set_request_id(f->request_id);
            return stub()->DisableRule(client.Context().get(), req, &out);
          },
          PrintRule);
    });
  }

  CLI::App* test = rule->add_subcommand(
      "test", "try a rule on the history without acting: how many runs, for whom");
  test->add_option("id", f->id, "rule id")->required();
  test->add_option("--from", f->from, "events at or after this time (RFC 3339)")->required();
  test->add_option("--to", f->to, "events before this time (RFC 3339)")->required();
  test->callback([&client, &exit_code, f, stub] {
    v1::TestRuleRequest req;
    req.set_rule_id(f->id);
    *req.mutable_start_time() = ParseTime("--from", f->from);
    *req.mutable_end_time() = ParseTime("--to", f->to);
    Run<v1::TestRuleResponse>(
        client, exit_code,
        [&](v1::TestRuleResponse& out) {
          return stub()->TestRule(client.Context().get(), req, &out);
        },
        [](const v1::TestRuleResponse& out) {
          PrintRow("runs", std::to_string(out.runs()));
          PrintRow("customers", std::to_string(out.customers()));
          for (const auto& c : out.top_customers()) {
            PrintRow("customer", c.contact_id() + " (" + std::to_string(c.runs()) + ")");
          }
          PrintRow("events read", std::to_string(out.events_read()) +
                                      (out.complete() ? "" : " (stopped at the bound)"));
          std::cout << std::flush;
        });
  });

  CLI::App* runs = rule->add_subcommand("runs", "a rule's runs: what triggered it, what it did");
  runs->add_option("id", f->id, "rule id")->required();
  runs->add_option("--state", f->state, "only pending, succeeded or dead-lettered");
  runs->add_option("--page-token", f->page_token, "continue");
  runs->callback([&client, &exit_code, f, stub] {
    v1::ListRuleRunsRequest req;
    req.set_rule_id(f->id);
    req.set_page_token(f->page_token);
    if (!f->state.empty()) {
      const std::optional<int> state = ParseEnumWord(v1::RuleRunState_descriptor(), f->state);
      if (!state) UsageError("--state must be pending, succeeded or dead-lettered");
      req.set_state(static_cast<v1::RuleRunState>(*state));
    }
    Run<v1::ListRuleRunsResponse>(
        client, exit_code,
        [&](v1::ListRuleRunsResponse& out) {
          return stub()->ListRuleRuns(client.Context().get(), req, &out);
        },
        [](const v1::ListRuleRunsResponse& out) {
          for (const auto& r : out.runs()) {
            std::cout << r.id() << "  " << EnumWord(v1::RuleRunState_descriptor(), r.state())
                      << "  " << r.event_type() << " " << r.aggregate_id() << "  " << r.attempts()
                      << " attempt(s)";
            for (const auto& result : r.results()) {
              std::cout << "  "
                        << (!result.resource().empty()  ? result.resource()
                            : !result.skipped().empty() ? "skipped: " + result.skipped()
                                                        : result.error());
            }
            std::cout << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });
}

}  // namespace crm::ctl
