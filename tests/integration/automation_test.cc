// Automation rules over real processes: a crm-node on loopback, rules created and enabled over
// gRPC, orders placed through the sales service, tasks created through the interaction
// service's gRPC API — exactly once per rule and event, also across a kill -9 between deciding
// and acting, and dead-lettered with the reason when an action cannot be done; messages sent
// only with consent, within the frequency cap and outside quiet hours, streamed to a delivery
// adapter and reported back.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/analytics/v1/automation_service.grpc.pb.h"
#include "crm/analytics/v1/events.pb.h"
#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace av1 = crm::analytics::v1;
namespace iv1 = crm::interaction::v1;
namespace sv1 = crm::sales::v1;

int64_t projection_time(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000000 + t.nanos();
}

class AutomationTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--automation-retry-base-ms", "50",
                                     "--automation-max-attempts", "100"};
    args.insert(args.end(), extra.begin(), extra.end());
    node_ = StartNode(dir_, args);
    ASSERT_FALSE(node_.addr.empty());
    rules_ = av1::AutomationService::NewStub(node_.channel);
    sales_ = sv1::SalesService::NewStub(node_.channel);
  }

  sv1::Product Product(const std::string& sku, const std::string& category) {
    sv1::CreateProductRequest request;
    request.mutable_product()->set_sku(sku);
    request.mutable_product()->set_name(sku);
    request.mutable_product()->set_category(category);
    request.mutable_product()->mutable_unit_price()->set_currency_code("EUR");
    request.mutable_product()->mutable_unit_price()->set_minor_units(5000);
    sv1::Product out;
    const grpc::Status s = sales_->CreateProduct(Ctx().get(), request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // An order of `product` for `contact` placed at `at` (default: now, to the nanosecond, so an
  // order in a campaign's window does not fall before its launch).
  sv1::Order Order(const std::string& contact, const sv1::Product& product,
                   absl::Time at = absl::InfinitePast()) {
    sv1::PlaceOrderRequest request;
    request.mutable_order()->set_contact_id(contact);
    const int64_t now = absl::ToUnixNanos(at == absl::InfinitePast() ? absl::Now() : at);
    request.mutable_order()->mutable_order_time()->set_seconds(now / 1000000000);
    request.mutable_order()->mutable_order_time()->set_nanos(
        static_cast<int32_t>(now % 1000000000));
    auto* line = request.mutable_order()->add_line_items();
    line->set_product_id(product.id());
    line->set_quantity(1);
    *line->mutable_unit_price() = product.unit_price();
    sv1::Order out;
    const grpc::Status s = sales_->PlaceOrder(Ctx().get(), request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // "Footwear" orders give ops-team (or `assignee`) a task, enabled.
  av1::Rule FootwearRule(const std::string& assignee = "ops-team") {
    av1::CreateRuleRequest create;
    av1::Rule& r = *create.mutable_rule();
    r.set_name("Boots follow-up");
    r.mutable_trigger()->mutable_order_placed()->add_categories("footwear");
    av1::CreateTaskAction& task = *r.add_actions()->mutable_create_task();
    task.set_title("Follow up order {order_id}");
    task.set_assignee(assignee);
    task.set_due_in_days(3);
    create.set_request_id("create-boots-rule");
    av1::Rule rule;
    grpc::Status s = rules_->CreateRule(Ctx().get(), create, &rule);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_FALSE(rule.enabled());
    av1::EnableRuleRequest enable;
    enable.set_id(rule.id());
    s = rules_->EnableRule(Ctx().get(), enable, &rule);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(rule.enabled());
    return rule;
  }

  // Sets the contact's tags to `tags`.
  void SetTags(const Contact& c, const std::vector<std::string>& tags) {
    crm::contact::v1::UpdateContactRequest update;
    update.mutable_contact()->set_id(c.id());
    for (const std::string& t : tags) update.mutable_contact()->add_tags(t);
    update.mutable_update_mask()->add_paths("tags");
    Contact out;
    const grpc::Status s = node_.contacts->UpdateContact(Ctx().get(), update, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  // A rule on `trigger` that tags the customer with `tag`, enabled.
  av1::Rule TaggingRule(const std::string& name, const av1::RuleTrigger& trigger,
                        const std::string& tag) {
    av1::CreateRuleRequest create;
    create.mutable_rule()->set_name(name);
    *create.mutable_rule()->mutable_trigger() = trigger;
    create.mutable_rule()->add_actions()->mutable_tag_contact()->set_tag(tag);
    av1::Rule rule;
    grpc::Status s = rules_->CreateRule(Ctx().get(), create, &rule);
    EXPECT_TRUE(s.ok()) << s.error_message();
    av1::EnableRuleRequest enable;
    enable.set_id(rule.id());
    s = rules_->EnableRule(Ctx().get(), enable, &rule);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return rule;
  }

  // TestRule of `request` (a rule id or a rule) over [start, end), listing up to 1000 customers;
  // expects it to answer and to have read everything.
  av1::TestRuleResponse Tried(av1::TestRuleRequest request, absl::Time start, absl::Time end) {
    request.mutable_start_time()->set_seconds(absl::ToUnixSeconds(start));
    request.mutable_end_time()->set_seconds(absl::ToUnixSeconds(end));
    request.set_max_customers(1000);
    av1::TestRuleResponse out;
    const grpc::Status s = rules_->TestRule(Ctx().get(), request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(out.complete());
    return out;
  }

  std::vector<av1::RuleRun> Runs(const std::string& rule,
                                 av1::RuleRunState state = av1::RULE_RUN_STATE_UNSPECIFIED) {
    av1::ListRuleRunsRequest request;
    request.set_rule_id(rule);
    request.set_state(state);
    request.set_page_size(1000);
    av1::ListRuleRunsResponse out;
    const grpc::Status s = rules_->ListRuleRuns(Ctx().get(), request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {out.runs().begin(), out.runs().end()};
  }

  // The run of `order`, once it is in `state`.
  std::optional<av1::RuleRun> RunOnce(const std::string& rule, const sv1::Order& order,
                                      av1::RuleRunState state) {
    std::optional<av1::RuleRun> found;
    WaitFor(
        [&] {
          for (const av1::RuleRun& run : Runs(rule)) {
            if (run.aggregate_id() == order.id() && run.state() == state) found = run;
          }
          return found.has_value();
        },
        absl::Seconds(30));
    return found;
  }

  // The rule's run for `contact`, once it has succeeded.
  std::optional<av1::RuleRun> SucceededFor(const std::string& rule, const std::string& contact) {
    std::optional<av1::RuleRun> found;
    WaitFor(
        [&] {
          for (const av1::RuleRun& run : Runs(rule)) {
            if (run.contact_id() == contact && run.state() == av1::RULE_RUN_STATE_SUCCEEDED) {
              found = run;
            }
          }
          return found.has_value();
        },
        absl::Seconds(30));
    return found;
  }

  std::vector<iv1::Task> TasksOf(const std::string& assignee) {
    iv1::ListTasksRequest request;
    request.set_assignee(assignee);
    request.set_page_size(1000);
    iv1::ListTasksResponse out;
    const grpc::Status s = node_.interactions->ListTasks(Ctx().get(), request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {out.tasks().begin(), out.tasks().end()};
  }

  TempDir dir_;
  Server node_;
  std::unique_ptr<av1::AutomationService::Stub> rules_;
  std::unique_ptr<sv1::SalesService::Stub> sales_;
};

TEST_F(AutomationTest, AMatchingOrderGivesItsOwnerOneTaskAlsoAcrossARestart) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Contact ann;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  const sv1::Product boots = Product("BOOTS", "Footwear");
  const sv1::Product socks = Product("SOCKS", "Hosiery");
  const sv1::Order before = Order(ann.id(), boots);  // before the rule: not its business
  const av1::Rule rule = FootwearRule();
  const sv1::Order o1 = Order(ann.id(), boots);
  const sv1::Order o2 = Order(ann.id(), socks);  // no footwear in it
  const std::optional<av1::RuleRun> run = RunOnce(rule.id(), o1, av1::RULE_RUN_STATE_SUCCEEDED);
  ASSERT_TRUE(run.has_value()) << node_.process->Log();
  EXPECT_EQ(run->event_type(), "crm.sales.v1.OrderPlaced");
  EXPECT_EQ(run->contact_id(), ann.id());
  EXPECT_EQ(run->attempts(), 1);
  ASSERT_EQ(run->results_size(), 1);
  ASSERT_TRUE(run->results(0).resource().starts_with("tasks/")) << run->results(0).error();
  iv1::GetTaskRequest get;
  get.set_id(run->results(0).resource().substr(6));
  iv1::Task task;
  ASSERT_TRUE(node_.interactions->GetTask(Ctx().get(), get, &task).ok());
  EXPECT_EQ(task.title(), "Follow up order " + o1.id());
  EXPECT_EQ(task.assignee(), "ops-team");
  EXPECT_EQ(task.contact_id(), ann.id());
  EXPECT_EQ(task.due_time().seconds() - run->event_time().seconds(), 3 * 86400);
  EXPECT_EQ(TasksOf("ops-team").size(), 1u);

  // Killed and started again: what was done is not done again; the rule goes on.
  node_.process->Kill();
  ASSERT_NO_FATAL_FAILURE(Start());
  const sv1::Order o3 = Order(ann.id(), boots);
  ASSERT_TRUE(RunOnce(rule.id(), o3, av1::RULE_RUN_STATE_SUCCEEDED).has_value())
      << node_.process->Log();
  EXPECT_EQ(TasksOf("ops-team").size(), 2u);

  // Disabled, it decides nothing; enabled again, it acts on what comes after.
  av1::DisableRuleRequest disable;
  disable.set_id(rule.id());
  av1::Rule now;
  ASSERT_TRUE(rules_->DisableRule(Ctx().get(), disable, &now).ok());
  EXPECT_FALSE(now.enabled());
  const sv1::Order o4 = Order(ann.id(), boots);
  av1::EnableRuleRequest enable;
  enable.set_id(rule.id());
  ASSERT_TRUE(rules_->EnableRule(Ctx().get(), enable, &now).ok());
  // Enabling an enabled rule changes nothing.
  av1::Rule again;
  ASSERT_TRUE(rules_->EnableRule(Ctx().get(), enable, &again).ok());
  EXPECT_EQ(again.version(), now.version());
  const sv1::Order o5 = Order(ann.id(), boots);
  ASSERT_TRUE(RunOnce(rule.id(), o5, av1::RULE_RUN_STATE_SUCCEEDED).has_value());
  std::set<std::string> orders;
  for (const av1::RuleRun& r : Runs(rule.id())) orders.insert(r.aggregate_id());
  EXPECT_EQ(orders, (std::set<std::string>{o1.id(), o3.id(), o5.id()}));
  EXPECT_EQ(TasksOf("ops-team").size(), 3u);
  (void)before;
  (void)o2;
  (void)o4;

  // Tried on the history: every boots order of the period, also those before the rule or while
  // it was disabled, and who they were for.
  av1::TestRuleRequest trial;
  trial.set_rule_id(rule.id());
  trial.mutable_start_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 3600);
  trial.mutable_end_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 3600);
  av1::TestRuleResponse tried;
  grpc::Status tested = rules_->TestRule(Ctx().get(), trial, &tried);
  ASSERT_TRUE(tested.ok()) << tested.error_message();
  EXPECT_EQ(tried.runs(), 5);  // before, o1, o3, o4, o5 (not the socks)
  EXPECT_EQ(tried.customers(), 1);
  ASSERT_EQ(tried.top_customers_size(), 1);
  EXPECT_EQ(tried.top_customers(0).contact_id(), ann.id());
  EXPECT_EQ(tried.top_customers(0).runs(), 5);
  EXPECT_EQ(tried.events_read(), 6);
  EXPECT_TRUE(tried.complete());
  // A definition not yet created: socks, and a period before any order.
  trial.clear_rule_id();
  trial.mutable_rule()->mutable_trigger()->mutable_order_placed()->add_categories("hosiery");
  trial.mutable_rule()->add_actions()->mutable_create_task()->set_title("t");
  tested = rules_->TestRule(Ctx().get(), trial, &tried);
  ASSERT_TRUE(tested.ok()) << tested.error_message();
  EXPECT_EQ(tried.runs(), 1);
  trial.mutable_end_time()->set_seconds(trial.start_time().seconds() + 1);
  ASSERT_TRUE(rules_->TestRule(Ctx().get(), trial, &tried).ok());
  EXPECT_EQ(tried.runs(), 0);
  EXPECT_EQ(tried.customers(), 0);
  // Nothing was done by trying.
  EXPECT_EQ(TasksOf("ops-team").size(), 3u);

  av1::GetRuleRequest get_rule;
  get_rule.set_id(rule.id());
  ASSERT_TRUE(rules_->GetRule(Ctx().get(), get_rule, &now).ok());
  EXPECT_EQ(now.run_count(), 3);
  EXPECT_EQ(now.dead_letter_count(), 0);
  av1::ListRulesRequest list;
  av1::ListRulesResponse listed;
  ASSERT_TRUE(rules_->ListRules(Ctx().get(), list, &listed).ok());
  ASSERT_EQ(listed.rules_size(), 1);
  EXPECT_EQ(listed.rules(0).id(), rule.id());
}

// The engine records each run as a new version of its rule. A change that meets one of those
// records still takes effect (it is rebasable): the rule is renamed over and over while the
// engine runs a stream of matching orders, then disabled while it runs more. A caller's pinned
// version holds across the engine's records, not across another change.
TEST_F(AutomationTest, AChangeToARunningRuleIsNotRefusedForTheEnginesOwnRecords) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Contact ann;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  const sv1::Product boots = Product("BOOTS", "Footwear");
  const av1::Rule rule = FootwearRule();
  constexpr int kOrders = 20;
  std::thread orders([&] {
    for (int i = 0; i < kOrders; ++i) Order(ann.id(), boots);
  });
  auto succeeded = [&] { return Runs(rule.id(), av1::RULE_RUN_STATE_SUCCEEDED).size(); };
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  int renames = 0;
  std::vector<std::string> refused;
  while (succeeded() < static_cast<size_t>(kOrders) && absl::Now() < deadline) {
    av1::UpdateRuleRequest update;
    update.mutable_rule()->set_id(rule.id());
    update.mutable_rule()->set_name(absl::StrCat("Boots follow-up ", ++renames));
    update.mutable_update_mask()->add_paths("name");
    av1::Rule updated;
    const grpc::Status s = rules_->UpdateRule(Ctx().get(), update, &updated);
    if (!s.ok()) refused.push_back(s.error_message());
  }
  orders.join();
  EXPECT_EQ(succeeded(), static_cast<size_t>(kOrders)) << node_.process->Log();
  EXPECT_GT(renames, 1);
  EXPECT_TRUE(refused.empty()) << refused.size() << " of " << renames << ": "
                               << (refused.empty() ? "" : refused.front());

  std::thread more([&] {
    for (int i = 0; i < kOrders; ++i) Order(ann.id(), boots);
  });
  ASSERT_TRUE(
      WaitFor([&] { return succeeded() > static_cast<size_t>(kOrders); }, absl::Seconds(30)));
  av1::DisableRuleRequest disable;
  disable.set_id(rule.id());
  av1::Rule now;
  const grpc::Status s = rules_->DisableRule(Ctx().get(), disable, &now);
  more.join();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(now.enabled());

  // Pinned to the version read before runs moved it on: taken. The same pin again, now that the
  // rule changed after it: refused, naming the field.
  av1::EnableRuleRequest enable;
  enable.set_id(rule.id());
  enable.set_expected_version(now.version());
  ASSERT_TRUE(rules_->EnableRule(Ctx().get(), enable, &now).ok());
  const int64_t enabled_at = now.version();
  const size_t ran = succeeded();
  const sv1::Order last = Order(ann.id(), boots);
  ASSERT_TRUE(RunOnce(rule.id(), last, av1::RULE_RUN_STATE_SUCCEEDED).has_value());
  av1::GetRuleRequest get;
  get.set_id(rule.id());
  ASSERT_TRUE(rules_->GetRule(Ctx().get(), get, &now).ok());
  EXPECT_GT(succeeded(), ran);
  ASSERT_GT(now.version(), enabled_at);  // the run's records came after
  av1::UpdateRuleRequest pinned;
  pinned.mutable_rule()->set_id(rule.id());
  pinned.mutable_rule()->set_name("Pinned");
  pinned.mutable_update_mask()->add_paths("name");
  pinned.set_expected_version(enabled_at);
  av1::Rule renamed;
  grpc::Status p = rules_->UpdateRule(Ctx().get(), pinned, &renamed);
  ASSERT_TRUE(p.ok()) << p.error_message();
  EXPECT_EQ(renamed.name(), "Pinned");
  pinned.mutable_rule()->set_name("Pinned again");
  p = rules_->UpdateRule(Ctx().get(), pinned, &renamed);
  EXPECT_EQ(p.error_code(), grpc::StatusCode::ABORTED) << p.error_message();
  EXPECT_TRUE(p.error_message().starts_with("expected_version: ")) << p.error_message();
}

TEST_F(AutomationTest, ARunDecidedBeforeACrashIsDoneOnceAfterIt) {
  // The actions' target is away: runs are decided and recorded, and wait.
  ASSERT_NO_FATAL_FAILURE(Start({"--interaction-address", "127.0.0.1:1"}));
  Contact ann;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  const sv1::Product boots = Product("BOOTS", "Footwear");
  const av1::Rule rule = FootwearRule();
  const sv1::Order order = Order(ann.id(), boots);
  std::optional<av1::RuleRun> pending;
  ASSERT_TRUE(WaitFor([&] {
    for (const av1::RuleRun& run : Runs(rule.id())) {
      if (run.aggregate_id() == order.id() && run.attempts() >= 1) pending = run;
    }
    return pending.has_value();
  })) << node_.process->Log();
  EXPECT_EQ(pending->state(), av1::RULE_RUN_STATE_PENDING);
  EXPECT_TRUE(pending->results(0).resource().empty());
  EXPECT_FALSE(pending->results(0).error().empty());
  EXPECT_TRUE(pending->has_next_attempt_time());
  EXPECT_TRUE(TasksOf("ops-team").empty());

  node_.process->Kill();
  ASSERT_NO_FATAL_FAILURE(Start());  // the interaction service in process again
  const std::optional<av1::RuleRun> done = RunOnce(rule.id(), order, av1::RULE_RUN_STATE_SUCCEEDED);
  ASSERT_TRUE(done.has_value()) << node_.process->Log();
  EXPECT_GE(done->attempts(), 2);
  EXPECT_TRUE(done->results(0).error().empty());
  const std::vector<iv1::Task> tasks = TasksOf("ops-team");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ("tasks/" + tasks[0].id(), done->results(0).resource());
  EXPECT_EQ(Runs(rule.id()).size(), 1u);
}

TEST_F(AutomationTest, AnActionThatCannotBeDoneIsDeadLetteredWithTheReason) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Contact ann;  // no owner, and the rule names no assignee
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  const sv1::Product boots = Product("BOOTS", "Footwear");
  const av1::Rule rule = FootwearRule("");
  const sv1::Order order = Order(ann.id(), boots);
  const std::optional<av1::RuleRun> dead =
      RunOnce(rule.id(), order, av1::RULE_RUN_STATE_DEAD_LETTERED);
  ASSERT_TRUE(dead.has_value()) << node_.process->Log();
  EXPECT_EQ(dead->attempts(), 1);
  EXPECT_NE(dead->results(0).error().find("no assignee"), std::string::npos);
  EXPECT_EQ(Runs(rule.id(), av1::RULE_RUN_STATE_DEAD_LETTERED).size(), 1u);
  EXPECT_TRUE(Runs(rule.id(), av1::RULE_RUN_STATE_SUCCEEDED).empty());
  av1::GetRuleRequest get;
  get.set_id(rule.id());
  av1::Rule now;
  ASSERT_TRUE(rules_->GetRule(Ctx().get(), get, &now).ok());
  EXPECT_EQ(now.dead_letter_count(), 1);

  // A rule changed with UpdateRule acts with its new definition from then on.
  av1::UpdateRuleRequest update;
  *update.mutable_rule() = now;
  update.mutable_rule()->clear_enabled();
  update.mutable_rule()->clear_version();
  update.mutable_rule()->clear_create_time();
  update.mutable_rule()->clear_update_time();
  update.mutable_rule()->clear_run_count();
  update.mutable_rule()->clear_dead_letter_count();
  update.mutable_rule()->mutable_actions(0)->mutable_create_task()->set_assignee("ops-team");
  update.mutable_update_mask()->add_paths("actions");
  av1::Rule updated;
  const grpc::Status s = rules_->UpdateRule(Ctx().get(), update, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(updated.actions(0).create_task().assignee(), "ops-team");
  const sv1::Order next = Order(ann.id(), boots);
  ASSERT_TRUE(RunOnce(rule.id(), next, av1::RULE_RUN_STATE_SUCCEEDED).has_value());
  EXPECT_EQ(TasksOf("ops-team").size(), 1u);
}

TEST_F(AutomationTest, ContactActionsTagTheCustomerAndSetTheirStageOnce) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Contact ann;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  const sv1::Product boots = Product("BOOTS", "Footwear");
  av1::CreateRuleRequest create;
  av1::Rule& r = *create.mutable_rule();
  r.set_name("Boot buyers");
  r.mutable_trigger()->mutable_order_placed()->add_product_ids(boots.id());
  r.add_actions()->mutable_tag_contact()->set_tag("Boot-Buyer");
  r.add_actions()->mutable_set_lifecycle_stage()->set_stage(
      crm::contact::v1::LIFECYCLE_STAGE_CUSTOMER);
  av1::Rule rule;
  ASSERT_TRUE(rules_->CreateRule(Ctx().get(), create, &rule).ok());
  av1::EnableRuleRequest enable;
  enable.set_id(rule.id());
  ASSERT_TRUE(rules_->EnableRule(Ctx().get(), enable, &rule).ok());

  const sv1::Order first = Order(ann.id(), boots);
  std::optional<av1::RuleRun> run = RunOnce(rule.id(), first, av1::RULE_RUN_STATE_SUCCEEDED);
  ASSERT_TRUE(run.has_value()) << node_.process->Log();
  ASSERT_EQ(run->results_size(), 2);
  EXPECT_EQ(run->results(0).resource(), "contacts/" + ann.id());
  EXPECT_EQ(run->results(1).resource(), "contacts/" + ann.id());
  Contact now;
  ASSERT_TRUE(GetContact(node_, ann.id(), &now).ok());
  EXPECT_EQ(std::vector<std::string>(now.tags().begin(), now.tags().end()),
            std::vector<std::string>{"boot-buyer"});
  EXPECT_EQ(now.lifecycle_stage(), crm::contact::v1::LIFECYCLE_STAGE_CUSTOMER);
  const int64_t version = now.version();

  // A second order: the customer is so already, nothing is written.
  const sv1::Order second = Order(ann.id(), boots);
  ASSERT_TRUE(RunOnce(rule.id(), second, av1::RULE_RUN_STATE_SUCCEEDED).has_value());
  ASSERT_TRUE(GetContact(node_, ann.id(), &now).ok());
  EXPECT_EQ(now.version(), version);
  EXPECT_EQ(now.tags_size(), 1);
}

TEST_F(AutomationTest, ADelayedRunWaitsOutARestartAndIsDoneOnceOrCancelledWithItsRule) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Contact ann;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  const sv1::Product boots = Product("BOOTS", "Footwear");
  auto delayed = [&](const std::string& name, const std::string& assignee) {
    av1::CreateRuleRequest create;
    av1::Rule& r = *create.mutable_rule();
    r.set_name(name);
    r.mutable_trigger()->mutable_order_placed()->add_product_ids(boots.id());
    r.mutable_trigger()->mutable_delay()->set_seconds(5);  // time enough to disable one
    av1::CreateTaskAction& task = *r.add_actions()->mutable_create_task();
    task.set_title("Service due");
    task.set_assignee(assignee);
    av1::Rule rule;
    EXPECT_TRUE(rules_->CreateRule(Ctx().get(), create, &rule).ok());
    av1::EnableRuleRequest enable;
    enable.set_id(rule.id());
    EXPECT_TRUE(rules_->EnableRule(Ctx().get(), enable, &rule).ok());
    return rule;
  };
  const av1::Rule reminder = delayed("Service reminder", "service-desk");
  const av1::Rule dropped = delayed("Dropped campaign", "marketing");
  const sv1::Order order = Order(ann.id(), boots);
  // Decided and waiting: due five seconds after the order, nothing done yet.
  std::optional<av1::RuleRun> waiting;
  for (const av1::Rule* rule : {&reminder, &dropped}) {
    ASSERT_TRUE(WaitFor([&] {
      const auto runs = Runs(rule->id());
      if (runs.size() == 1) waiting = runs[0];
      return runs.size() == 1;
    })) << node_.process->Log();
    EXPECT_EQ(waiting->state(), av1::RULE_RUN_STATE_PENDING);
    EXPECT_EQ(waiting->attempts(), 0);
    EXPECT_EQ(waiting->due_time().seconds() - waiting->event_time().seconds(), 5);
  }
  EXPECT_TRUE(TasksOf("service-desk").empty());
  // One rule is disabled before its run falls due; the node dies and comes back.
  av1::DisableRuleRequest disable;
  disable.set_id(dropped.id());
  av1::Rule now;
  ASSERT_TRUE(rules_->DisableRule(Ctx().get(), disable, &now).ok());
  node_.process->Kill();
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::optional<av1::RuleRun> done =
      RunOnce(reminder.id(), order, av1::RULE_RUN_STATE_SUCCEEDED);
  ASSERT_TRUE(done.has_value()) << node_.process->Log();
  EXPECT_GE(projection_time(done->update_time()), projection_time(done->due_time()));
  EXPECT_EQ(TasksOf("service-desk").size(), 1u);
  ASSERT_TRUE(RunOnce(dropped.id(), order, av1::RULE_RUN_STATE_CANCELLED).has_value());
  EXPECT_TRUE(TasksOf("marketing").empty());
}

TEST_F(AutomationTest, PartnersAreNotifiedOnTheAnalyticsFeedOncePerRun) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Contact ann;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  const sv1::Product boots = Product("BOOTS", "Footwear");
  av1::CreateRuleRequest create;
  create.mutable_rule()->set_name("Tell the ERP");
  create.mutable_rule()->mutable_trigger()->mutable_order_placed()->add_product_ids(boots.id());
  create.mutable_rule()->add_actions()->mutable_notify_partners()->set_label("boots-sold");
  av1::Rule rule;
  ASSERT_TRUE(rules_->CreateRule(Ctx().get(), create, &rule).ok());
  av1::EnableRuleRequest enable;
  enable.set_id(rule.id());
  ASSERT_TRUE(rules_->EnableRule(Ctx().get(), enable, &rule).ok());

  auto analytics = av1::AnalyticsService::NewStub(node_.channel);
  av1::SubscribeRequest subscribe;
  subscribe.add_event_types("crm.analytics.v1.RuleNotification");
  auto ctx = Ctx(absl::Seconds(30));
  auto feed = analytics->Subscribe(ctx.get(), subscribe);
  std::vector<std::pair<sv1::Order, av1::RuleRun>> runs;
  for (int i = 0; i < 2; ++i) {
    const sv1::Order order = Order(ann.id(), boots);
    const std::optional<av1::RuleRun> run =
        RunOnce(rule.id(), order, av1::RULE_RUN_STATE_SUCCEEDED);
    ASSERT_TRUE(run.has_value()) << node_.process->Log();
    EXPECT_EQ(run->results(0).resource(), "notifications/" + rule.id() + ":" + run->id() + ":0");
    runs.emplace_back(order, *run);
  }
  // The feed carries one notification per run, in order.
  for (const auto& [order, run] : runs) {
    av1::SubscribeResponse message;
    do {
      ASSERT_TRUE(feed->Read(&message));
    } while (!message.has_event());
    av1::RuleNotification n;
    ASSERT_TRUE(message.event().payload().UnpackTo(&n));
    EXPECT_EQ(message.event().aggregate_type(), "notification");
    EXPECT_EQ(n.run_id(), run.id());
    EXPECT_EQ(n.label(), "boots-sold");
    EXPECT_EQ(n.aggregate_id(), order.id());
    EXPECT_EQ(n.contact_id(), ann.id());
  }
  ctx->TryCancel();
}

// A customer with an email address and, if given, a consent for email.
Contact Customer(Server& node, const std::string& given, const std::string& email,
                 crm::contact::v1::ConsentStatus consent) {
  crm::contact::v1::CreateContactRequest request;
  Contact& c = *request.mutable_contact();
  c.mutable_personal()->set_given_name(given);
  c.mutable_personal()->set_family_name("Lee");
  c.mutable_personal()->add_emails()->set_address(email);
  if (consent != crm::contact::v1::CONSENT_STATUS_UNSPECIFIED) {
    crm::contact::v1::Consent& k = *c.add_consents();
    k.set_channel(crm::contact::v1::CONSENT_CHANNEL_EMAIL);
    k.set_status(consent);
    k.set_source("web-form");
  }
  crm::contact::v1::CreateContactResponse out;
  const grpc::Status s = node.contacts->CreateContact(Ctx().get(), request, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out.contact();
}

std::string Clock(absl::Time t) { return absl::FormatTime("%H:%M", t, absl::UTCTimeZone()); }

TEST_F(AutomationTest, MessagesGoWithConsentWithinTheCapOutsideQuietHoursAndAreReportedBack) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const Contact ada =
      Customer(node_, "Ada", "ada@example.com", crm::contact::v1::CONSENT_STATUS_GRANTED);
  const Contact bob =
      Customer(node_, "Bob", "bob@example.com", crm::contact::v1::CONSENT_STATUS_DENIED);
  const Contact cy =
      Customer(node_, "Cy", "cy@example.com", crm::contact::v1::CONSENT_STATUS_UNSPECIFIED);
  const sv1::Product boots = Product("BOOTS", "Footwear");
  // At most one message per customer a week.
  av1::UpdateMessagingPolicyRequest policy;
  policy.mutable_policy()->set_max_messages_per_customer(1);
  policy.mutable_policy()->mutable_cap_period()->set_seconds(7 * 86400);
  av1::MessagingPolicy set;
  ASSERT_TRUE(rules_->UpdateMessagingPolicy(Ctx().get(), policy, &set).ok());
  EXPECT_EQ(set.version(), 1);

  av1::CreateRuleRequest create;
  create.mutable_rule()->set_name("Boots care tips");
  create.mutable_rule()->mutable_trigger()->mutable_order_placed()->add_product_ids(boots.id());
  av1::SendMessageAction& send = *create.mutable_rule()->add_actions()->mutable_send_message();
  send.set_channel(crm::contact::v1::CONSENT_CHANNEL_EMAIL);
  send.set_subject("Your boots, {given_name}");
  send.set_body("Hi {given_name} {family_name}, care tips for order {order_id}.");
  av1::Rule rule;
  ASSERT_TRUE(rules_->CreateRule(Ctx().get(), create, &rule).ok());
  av1::EnableRuleRequest enable;
  enable.set_id(rule.id());
  ASSERT_TRUE(rules_->EnableRule(Ctx().get(), enable, &rule).ok());

  // What a delivery adapter reads: the outbound messages, from the start.
  auto stream_ctx = Ctx(absl::Seconds(60));
  auto outbound = rules_->StreamOutboundMessages(stream_ctx.get(), {});

  const sv1::Order first = Order(ada.id(), boots);
  std::optional<av1::RuleRun> run = RunOnce(rule.id(), first, av1::RULE_RUN_STATE_SUCCEEDED);
  ASSERT_TRUE(run.has_value()) << node_.process->Log();
  // Queued at the first attempt: the engine's write to the outbound topic had its outcome.
  EXPECT_EQ(run->attempts(), 1);
  const std::string id = rule.id() + ":" + run->id() + ":0";
  EXPECT_EQ(run->results(0).resource(), "messages/" + id);
  av1::GetMessageRequest get;
  get.set_id(id);
  av1::Message message;
  ASSERT_TRUE(rules_->GetMessage(Ctx().get(), get, &message).ok());
  EXPECT_EQ(message.to(), "ada@example.com");
  EXPECT_EQ(message.subject(), "Your boots, Ada");
  EXPECT_EQ(message.body(), "Hi Ada Lee, care tips for order " + first.id() + ".");
  EXPECT_EQ(message.state(), av1::MESSAGE_STATE_QUEUED);
  EXPECT_EQ(message.contact_id(), ada.id());
  av1::StreamOutboundMessagesResponse item;
  do {
    ASSERT_TRUE(outbound->Read(&item)) << outbound->Finish().error_message();
  } while (!item.has_event());
  EXPECT_EQ(item.event().event_type(), "crm.analytics.v1.OutboundMessage");
  EXPECT_EQ(item.event().aggregate_id(), id);
  av1::OutboundMessage payload;
  ASSERT_TRUE(item.event().payload().UnpackTo(&payload));
  EXPECT_EQ(payload.message().to(), "ada@example.com");
  EXPECT_EQ(payload.message().body(), message.body());
  stream_ctx->TryCancel();

  // Over the cap, denied consent, no consent: recorded as skipped, nothing queued.
  const std::vector<std::pair<std::string, std::string>> skipped = {
      {ada.id(), "frequency cap"},
      {bob.id(), "no consent for email"},
      {cy.id(), "no consent for email"}};
  for (const auto& [contact, why] : skipped) {
    const sv1::Order order = Order(contact, boots);
    run = RunOnce(rule.id(), order, av1::RULE_RUN_STATE_SUCCEEDED);
    ASSERT_TRUE(run.has_value()) << node_.process->Log();
    EXPECT_TRUE(run->results(0).resource().empty());
    EXPECT_NE(run->results(0).skipped().find(why), std::string::npos) << run->results(0).skipped();
  }
  av1::ListMessagesRequest list;
  av1::ListMessagesResponse listed;
  ASSERT_TRUE(rules_->ListMessages(Ctx().get(), list, &listed).ok());
  ASSERT_EQ(listed.messages_size(), 1);
  list.set_contact_id(bob.id());
  ASSERT_TRUE(rules_->ListMessages(Ctx().get(), list, &listed).ok());
  EXPECT_EQ(listed.messages_size(), 0);

  // The adapter reports back; a repeated report is answered as the first left it.
  av1::ReportMessageStatusRequest report;
  report.set_message_id(id);
  report.set_state(av1::MESSAGE_STATE_DELIVERED);
  report.set_detail("250 2.0.0 OK");
  report.set_request_id("provider-event-1");
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(rules_->ReportMessageStatus(Ctx().get(), report, &message).ok());
    EXPECT_EQ(message.state(), av1::MESSAGE_STATE_DELIVERED);
    EXPECT_EQ(message.version(), 2);
  }
  report.set_state(av1::MESSAGE_STATE_OPENED);
  report.set_request_id("provider-event-2");
  ASSERT_TRUE(rules_->ReportMessageStatus(Ctx().get(), report, &message).ok());
  EXPECT_EQ(message.state(), av1::MESSAGE_STATE_OPENED);
  report.set_message_id(rule.id() + ":nope:0");
  report.set_request_id("provider-event-3");
  EXPECT_EQ(rules_->ReportMessageStatus(Ctx().get(), report, &message).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Quiet hours around now (UTC), no cap: the run waits until they end and sends nothing yet.
  const absl::Time now = absl::Now();
  policy.mutable_policy()->Clear();
  policy.mutable_policy()->set_quiet_hours_start(Clock(now - absl::Hours(1)));
  policy.mutable_policy()->set_quiet_hours_end(Clock(now + absl::Hours(1)));
  policy.set_expected_version(1);
  ASSERT_TRUE(rules_->UpdateMessagingPolicy(Ctx().get(), policy, &set).ok());
  const sv1::Order quiet = Order(ada.id(), boots);
  std::optional<av1::RuleRun> deferred;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const av1::RuleRun& r : Runs(rule.id())) {
          if (r.aggregate_id() == quiet.id() && r.has_next_attempt_time()) deferred = r;
        }
        return deferred.has_value();
      },
      absl::Seconds(30)))
      << node_.process->Log();
  EXPECT_EQ(deferred->state(), av1::RULE_RUN_STATE_PENDING);
  EXPECT_EQ(deferred->attempts(), 0);
  const absl::Time until = absl::FromUnixSeconds(deferred->next_attempt_time().seconds());
  EXPECT_EQ(Clock(until), Clock(now + absl::Hours(1)));
  EXPECT_GT(until, now + absl::Minutes(58));
  get.set_id(rule.id() + ":" + deferred->id() + ":0");
  EXPECT_EQ(rules_->GetMessage(Ctx().get(), get, &message).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AutomationTest, ACampaignMessagesConsentingTargetsAndAttributesOrdersAgainstTheHoldout) {
  ASSERT_NO_FATAL_FAILURE(Start());
  std::vector<std::string> audience;
  for (int i = 0; i < 10; ++i) {
    audience.push_back(Customer(node_, "C" + std::to_string(i),
                                "c" + std::to_string(i) + "@example.com",
                                crm::contact::v1::CONSENT_STATUS_GRANTED)
                           .id());
  }
  audience.push_back(
      Customer(node_, "Nope", "nope@example.com", crm::contact::v1::CONSENT_STATUS_DENIED).id());
  const std::string outsider =
      Customer(node_, "Out", "out@example.com", crm::contact::v1::CONSENT_STATUS_GRANTED).id();
  const sv1::Product boots = Product("BOOTS", "Footwear");
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(30), "analytics"));

  av1::LaunchCampaignRequest launch;
  av1::Campaign& c = *launch.mutable_campaign();
  c.set_name("Spring boots");
  for (const std::string& id : audience) c.add_contact_ids(id);
  c.set_channel(crm::contact::v1::CONSENT_CHANNEL_EMAIL);
  c.set_subject("Spring is here, {given_name}");
  c.set_body("New boots for you.");
  c.set_holdout_percent(50);
  c.mutable_attribution_window()->set_seconds(30 * 86400);
  launch.set_request_id("launch-spring");
  av1::Campaign campaign;
  grpc::Status s = rules_->LaunchCampaign(Ctx().get(), launch, &campaign);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(campaign.treatment().customers(), 5);
  EXPECT_EQ(campaign.holdout().customers(), 5);
  EXPECT_EQ(campaign.without_consent(), 1);
  // The same request again: the same campaign, not a second one.
  av1::Campaign again;
  ASSERT_TRUE(rules_->LaunchCampaign(Ctx().get(), launch, &again).ok());
  EXPECT_EQ(again.id(), campaign.id());

  // One message to each treatment target, none to the hold-out.
  av1::GetCampaignRequest get;
  get.set_id(campaign.id());
  ASSERT_TRUE(WaitFor(
      [&] {
        return rules_->GetCampaign(Ctx().get(), get, &campaign).ok() &&
               campaign.messages_sent() == 5;
      },
      absl::Seconds(30)))
      << node_.process->Log();
  EXPECT_EQ(campaign.messages_pending(), 0);
  av1::ListMessagesRequest list;
  list.set_campaign_id(campaign.id());
  av1::ListMessagesResponse messages;
  ASSERT_TRUE(rules_->ListMessages(Ctx().get(), list, &messages).ok());
  ASSERT_EQ(messages.messages_size(), 5);
  std::set<std::string> treatment;
  for (const av1::Message& m : messages.messages()) {
    treatment.insert(m.contact_id());
    EXPECT_EQ(m.id(), campaign.id() + ":" + m.contact_id());
    EXPECT_TRUE(absl::StartsWith(m.subject(), "Spring is here, C")) << m.subject();
  }
  std::vector<std::string> holdout;
  for (int i = 0; i < 10; ++i) {
    if (!treatment.contains(audience[i])) holdout.push_back(audience[i]);
  }
  ASSERT_EQ(holdout.size(), 5u);

  // Two treatment customers buy (one twice), one of the hold-out, and someone outside.
  auto it = treatment.begin();
  const std::string t1 = *it++;
  const std::string t2 = *it;
  for (const std::string& buyer : {t1, t1, t2, holdout[0], outsider}) Order(buyer, boots);
  ASSERT_TRUE(WaitFor(
      [&] {
        return rules_->GetCampaign(Ctx().get(), get, &campaign).ok() &&
               campaign.treatment().orders() == 3 && campaign.holdout().orders() == 1;
      },
      absl::Seconds(30)))
      << campaign.DebugString();
  EXPECT_EQ(campaign.treatment().converted(), 2);
  EXPECT_EQ(campaign.holdout().converted(), 1);
  ASSERT_EQ(campaign.treatment().revenue_size(), 1);
  EXPECT_EQ(campaign.treatment().revenue(0).currency_code(), "EUR");
  ASSERT_EQ(campaign.holdout().revenue_size(), 1);
  EXPECT_EQ(campaign.treatment().revenue(0).minor_units(),
            3 * campaign.holdout().revenue(0).minor_units());

  // A rebuild of the analytics projection from the log gives back the same results.
  av1::ListCampaignsRequest all;
  av1::ListCampaignsResponse listed;
  ASSERT_TRUE(rules_->ListCampaigns(Ctx().get(), all, &listed).ok());
  ASSERT_EQ(listed.campaigns_size(), 1);
  node_.process->Kill();
  ASSERT_NO_FATAL_FAILURE(Start({"--rebuild"}));
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(30), "analytics"));
  av1::Campaign rebuilt;
  ASSERT_TRUE(rules_->GetCampaign(Ctx().get(), get, &rebuilt).ok());
  EXPECT_EQ(rebuilt.treatment().DebugString(), campaign.treatment().DebugString());
  EXPECT_EQ(rebuilt.holdout().DebugString(), campaign.holdout().DebugString());
  EXPECT_EQ(rebuilt.messages_sent(), 5);
}

TEST_F(AutomationTest, TimeTriggersFireOnceForLapsesAndAnniversariesAlsoAcrossARestart) {
  ASSERT_NO_FATAL_FAILURE(Start({"--automation-scan-interval-ms", "200"}));
  Contact ann, bob, carol, dan;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  ASSERT_TRUE(CreateContact(node_, "Bob", "Lee", "", &bob).ok());
  ASSERT_TRUE(CreateContact(node_, "Carol", "Lee", "", &carol).ok());
  ASSERT_TRUE(CreateContact(node_, "Dan", "Lee", "", &dan).ok());
  const sv1::Product boots = Product("BOOTS", "Footwear");
  av1::RuleTrigger lapse;
  lapse.mutable_no_purchase()->set_days(1);
  const av1::Rule win_back = TaggingRule("Win back", lapse, "lapsed");
  av1::RuleTrigger anniversary;
  anniversary.mutable_anniversary()->set_kind(av1::ANNIVERSARY_KIND_FIRST_PURCHASE);
  const av1::Rule thanks = TaggingRule("A year with us", anniversary, "anniversary");

  const absl::Time now = absl::Now();
  // Bob lapsed an hour before the rule was enabled: not acted on. Ann lapses two seconds from
  // now. Dan's first purchase turns a year old two seconds from now.
  Order(bob.id(), boots, now - absl::Hours(25));
  const sv1::Order ann_order = Order(ann.id(), boots, now - absl::Hours(24) + absl::Seconds(2));
  const absl::CivilSecond in_two = absl::ToCivilSecond(now + absl::Seconds(2), absl::UTCTimeZone());
  Order(dan.id(), boots,
        absl::FromCivil(absl::CivilSecond(in_two.year() - 1, in_two.month(), in_two.day(),
                                          in_two.hour(), in_two.minute(), in_two.second()),
                        absl::UTCTimeZone()));

  std::optional<av1::RuleRun> run = SucceededFor(win_back.id(), ann.id());
  ASSERT_TRUE(run.has_value()) << node_.process->Log();
  EXPECT_EQ(run->id(), ann.id() + ":lapse:" + ann_order.id());
  EXPECT_EQ(run->event_type(), "time.no_purchase");
  EXPECT_EQ(run->results(0).resource(), "contacts/" + ann.id());
  Contact now_ann;
  ASSERT_TRUE(GetContact(node_, ann.id(), &now_ann).ok());
  EXPECT_EQ(std::vector<std::string>(now_ann.tags().begin(), now_ann.tags().end()),
            std::vector<std::string>{"lapsed"});
  // The scan that found Ann's lapse read Bob's too: it fell due before the rule was enabled.
  EXPECT_EQ(Runs(win_back.id()).size(), 1u);
  run = SucceededFor(thanks.id(), dan.id());
  ASSERT_TRUE(run.has_value()) << node_.process->Log();
  EXPECT_EQ(run->id(), dan.id() + ":anniversary:1");
  EXPECT_EQ(run->event_type(), "time.anniversary");

  // kill -9 and back: the scans start again, nothing fires twice; Carol's lapse is new.
  node_.process->Kill();
  ASSERT_NO_FATAL_FAILURE(Start({"--automation-scan-interval-ms", "200"}));
  Order(carol.id(), boots, absl::Now() - absl::Hours(24) + absl::Seconds(1));
  ASSERT_TRUE(SucceededFor(win_back.id(), carol.id()).has_value()) << node_.process->Log();
  EXPECT_EQ(Runs(win_back.id()).size(), 2u);
  EXPECT_EQ(Runs(thanks.id()).size(), 1u);

  // TestRule finds every lapse in a period, Bob's too.
  av1::TestRuleRequest test;
  test.set_rule_id(win_back.id());
  const av1::TestRuleResponse tried = Tried(test, now - absl::Hours(48), now + absl::Hours(48));
  EXPECT_EQ(tried.runs(), 3);
  EXPECT_EQ(tried.customers(), 3);
}

TEST_F(AutomationTest, ChurnRiskAndSegmentTriggersActOnceOnWhatChangesAfterEnabling) {
  ASSERT_NO_FATAL_FAILURE(Start({"--automation-scan-interval-ms", "200"}));
  auto analytics = av1::AnalyticsService::NewStub(node_.channel);
  Contact ann, bob, carol, dan;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  ASSERT_TRUE(CreateContact(node_, "Bob", "Lee", "", &bob).ok());
  ASSERT_TRUE(CreateContact(node_, "Carol", "Lee", "", &carol).ok());
  ASSERT_TRUE(CreateContact(node_, "Dan", "Lee", "", &dan).ok());
  const sv1::Product boots = Product("BOOTS", "Footwear");

  // Churn risk at 50 %: with no purchase model fitted (too few customers) the risk is the time
  // since the last purchase over three typical intervals (here one hour): 50 % after 90 minutes.
  av1::RuleTrigger churn;
  churn.mutable_churn_risk()->set_threshold_bp(5000);
  const av1::Rule at_risk = TaggingRule("At risk", churn, "at-risk");
  const absl::Time now = absl::Now();
  // Bob crossed half an hour before the rule was enabled; Ann crosses three seconds from now.
  Order(bob.id(), boots, now - absl::Hours(3));
  Order(bob.id(), boots, now - absl::Hours(2));
  const absl::Time ann_last = now - absl::Minutes(90) + absl::Seconds(3);
  Order(ann.id(), boots, ann_last - absl::Hours(1));
  const sv1::Order ann_order = Order(ann.id(), boots, ann_last);

  // A segment of VIPs; Carol is one before the rules are enabled.
  av1::CreateSegmentRequest create_segment;
  create_segment.mutable_segment()->set_name("VIPs");
  create_segment.mutable_segment()->mutable_filter()->add_tags("vip");
  av1::Segment vips;
  ASSERT_TRUE(analytics->CreateSegment(Ctx().get(), create_segment, &vips).ok());
  SetTags(carol, {"vip"});
  av1::RuleTrigger joined;
  joined.mutable_segment_change()->set_segment_id(vips.id());
  joined.mutable_segment_change()->set_change(av1::SEGMENT_CHANGE_JOINED);
  const av1::Rule welcome = TaggingRule("Welcome VIPs", joined, "welcome");
  av1::RuleTrigger left = joined;
  left.mutable_segment_change()->set_change(av1::SEGMENT_CHANGE_LEFT);
  const av1::Rule farewell = TaggingRule("VIPs who left", left, "farewell");
  // Each rule first notes who is a member (Carol), acting on no one.
  auto watching = [&](const av1::Rule& rule) {
    return WaitFor(
        [&] {
          av1::GetRuleRequest get;
          get.set_id(rule.id());
          av1::Rule now_rule;
          return rules_->GetRule(Ctx().get(), get, &now_rule).ok() &&
                 now_rule.has_segment_watch_time();
        },
        absl::Seconds(30));
  };
  // A condition on the customer's state: orders of VIPs only.
  av1::RuleTrigger vip_orders;
  vip_orders.mutable_order_placed();
  vip_orders.set_customer_segment_id(vips.id());
  const av1::Rule vip_order_rule = TaggingRule("VIP orders", vip_orders, "vip-buyer");
  ASSERT_TRUE(watching(welcome)) << node_.process->Log();
  ASSERT_TRUE(watching(farewell)) << node_.process->Log();
  SetTags(dan, {"vip"});
  SetTags(carol, {});
  Order(carol.id(), boots);  // no longer a VIP: not acted on
  const sv1::Order dan_order = Order(dan.id(), boots);
  ASSERT_TRUE(RunOnce(vip_order_rule.id(), dan_order, av1::RULE_RUN_STATE_SUCCEEDED).has_value())
      << node_.process->Log();
  EXPECT_EQ(Runs(vip_order_rule.id()).size(), 1u);  // Carol's order came first and was passed

  std::optional<av1::RuleRun> run = SucceededFor(at_risk.id(), ann.id());
  ASSERT_TRUE(run.has_value()) << node_.process->Log();
  EXPECT_EQ(run->id(), ann.id() + ":churn:" + ann_order.id());
  EXPECT_EQ(run->event_type(), "time.churn_risk");
  run = SucceededFor(welcome.id(), dan.id());
  ASSERT_TRUE(run.has_value()) << node_.process->Log();
  EXPECT_EQ(run->id(), dan.id() + ":joined:1");
  EXPECT_EQ(run->event_type(), "segment.joined");
  Contact now_dan;
  ASSERT_TRUE(GetContact(node_, dan.id(), &now_dan).ok());
  EXPECT_TRUE(
      std::set<std::string>(now_dan.tags().begin(), now_dan.tags().end()).contains("welcome"));
  // Carol's second change as the rule saw it: noted as a member, then left.
  run = SucceededFor(farewell.id(), carol.id());
  ASSERT_TRUE(run.has_value()) << node_.process->Log();
  EXPECT_EQ(run->id(), carol.id() + ":left:2");

  // kill -9 and back: what each rule saw survives; Dan leaving is acted on once, and nothing
  // fires twice.
  node_.process->Kill();
  ASSERT_NO_FATAL_FAILURE(Start({"--automation-scan-interval-ms", "200"}));
  SetTags(dan, {"welcome"});
  ASSERT_TRUE(SucceededFor(farewell.id(), dan.id()).has_value()) << node_.process->Log();
  EXPECT_EQ(Runs(farewell.id()).size(), 2u);
  EXPECT_EQ(Runs(welcome.id()).size(), 1u);  // not Carol, a member before it was enabled
  EXPECT_EQ(Runs(at_risk.id()).size(), 1u);  // not Bob, above the threshold before

  // TestRule finds both crossings in a period around them.
  av1::TestRuleRequest test;
  test.set_rule_id(at_risk.id());
  const av1::TestRuleResponse tried = Tried(test, now - absl::Hours(4), now + absl::Hours(4));
  EXPECT_EQ(tried.runs(), 2);
  EXPECT_EQ(tried.customers(), 2);

  // A segment that does not exist is named.
  av1::CreateRuleRequest missing;
  missing.mutable_rule()->set_name("Nowhere");
  *missing.mutable_rule()->mutable_trigger() = joined;
  missing.mutable_rule()->mutable_trigger()->mutable_segment_change()->set_segment_id("no-such");
  missing.mutable_rule()->add_actions()->mutable_tag_contact()->set_tag("x");
  av1::Rule none;
  const grpc::Status s = rules_->CreateRule(Ctx().get(), missing, &none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "rule.trigger.segment_change.segment_id"))
      << s.error_message();
}

// TestRule over a generated history (seeded: the same every run) gives what counting the
// generated orders by hand gives, for an event trigger, a customer condition and time triggers.
TEST_F(AutomationTest, TestRuleOnAGeneratedHistoryCountsWhatABruteForceCountDoes) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto analytics = av1::AnalyticsService::NewStub(node_.channel);
  std::mt19937 random(20261205);
  const std::vector<sv1::Product> products = {
      Product("BOOTS", "Footwear"), Product("SANDALS", "Footwear"), Product("SOCKS", "Hosiery"),
      Product("HAT", "Headwear")};
  struct Bought {
    absl::Time at;
    int64_t total;
    bool footwear;
  };
  std::map<std::string, std::vector<Bought>> history;  // contact -> orders, oldest first
  std::set<std::string> vips;
  const absl::Time now = absl::Now();
  for (int c = 0; c < 30; ++c) {
    Contact contact;
    ASSERT_TRUE(CreateContact(node_, "Customer", absl::StrCat("No", c), "", &contact).ok());
    if (c % 3 == 0) {
      SetTags(contact, {"vip"});
      vips.insert(contact.id());
    }
    std::vector<Bought>& orders = history[contact.id()];
    const int count = static_cast<int>(random() % 8);
    for (int o = 0; o < count; ++o) {
      sv1::PlaceOrderRequest request;
      request.mutable_order()->set_contact_id(contact.id());
      const absl::Time at = now - absl::Hours(24 + static_cast<int64_t>(random() % (400 * 24)));
      request.mutable_order()->mutable_order_time()->set_seconds(absl::ToUnixSeconds(at));
      bool footwear = false;
      for (int l = 0, lines = 1 + static_cast<int>(random() % 2); l < lines; ++l) {
        const sv1::Product& p = products[random() % products.size()];
        footwear |= p.category() == "Footwear";
        auto* line = request.mutable_order()->add_line_items();
        line->set_product_id(p.id());
        line->set_quantity(1 + static_cast<int>(random() % 3));
        *line->mutable_unit_price() = p.unit_price();
      }
      sv1::Order placed;
      const grpc::Status s = sales_->PlaceOrder(Ctx().get(), request, &placed);
      ASSERT_TRUE(s.ok()) << s.error_message();
      orders.push_back(
          {absl::FromUnixSeconds(absl::ToUnixSeconds(at)), placed.total().minor_units(), footwear});
    }
    std::sort(orders.begin(), orders.end(),
              [](const Bought& a, const Bought& b) { return a.at < b.at; });
  }
  av1::CreateSegmentRequest create_segment;
  create_segment.mutable_segment()->set_name("VIPs");
  create_segment.mutable_segment()->mutable_filter()->add_tags("vip");
  av1::Segment vip_segment;
  ASSERT_TRUE(analytics->CreateSegment(Ctx().get(), create_segment, &vip_segment).ok());

  struct Count {
    int64_t runs = 0;
    std::map<std::string, int64_t> of;
    void Add(const std::string& contact) {
      ++runs;
      ++of[contact];
    }
  };
  auto tried = [&](const av1::RuleTrigger& trigger, absl::Time start, absl::Time end) {
    av1::TestRuleRequest request;
    *request.mutable_rule()->mutable_trigger() = trigger;
    request.mutable_rule()->add_actions()->mutable_tag_contact()->set_tag("t");
    return Tried(request, start, end);
  };
  auto expect_same = [](const av1::TestRuleResponse& got, const Count& want, const char* what) {
    EXPECT_EQ(got.runs(), want.runs) << what;
    EXPECT_EQ(got.customers(), static_cast<int64_t>(want.of.size())) << what;
    std::map<std::string, int64_t> listed;
    for (const av1::TestRuleCustomer& c : got.top_customers()) listed[c.contact_id()] = c.runs();
    EXPECT_EQ(listed, want.of) << what;
  };

  // Orders with footwear of at least 60.00, placed (as events) just now; and of VIPs only.
  av1::RuleTrigger big_footwear;
  big_footwear.mutable_order_placed()->add_categories("footwear");
  big_footwear.mutable_order_placed()->mutable_min_total()->set_currency_code("EUR");
  big_footwear.mutable_order_placed()->mutable_min_total()->set_minor_units(6000);
  Count want_big, want_vip_big;
  for (const auto& [contact, orders] : history) {
    for (const Bought& b : orders) {
      if (!b.footwear || b.total < 6000) continue;
      want_big.Add(contact);
      if (vips.contains(contact)) want_vip_big.Add(contact);
    }
  }
  ASSERT_GT(want_big.runs, 0);
  expect_same(tried(big_footwear, now - absl::Hours(1), absl::Now() + absl::Hours(1)), want_big,
              "footwear orders");
  big_footwear.set_customer_segment_id(vip_segment.id());
  expect_same(tried(big_footwear, now - absl::Hours(1), absl::Now() + absl::Hours(1)), want_vip_big,
              "footwear orders of VIPs");

  // 45 days without a purchase, in the last 200 days.
  av1::RuleTrigger lapse;
  lapse.mutable_no_purchase()->set_days(45);
  const absl::Time from = now - absl::Hours(24 * 200);
  Count want_lapses;
  for (const auto& [contact, orders] : history) {
    for (size_t i = 0; i < orders.size(); ++i) {
      const absl::Time due = orders[i].at + absl::Hours(24 * 45);
      if (i + 1 < orders.size() && orders[i + 1].at < due) continue;
      if (due >= from && due < now) want_lapses.Add(contact);
    }
  }
  ASSERT_GT(want_lapses.runs, 0);
  expect_same(tried(lapse, from, now), want_lapses, "lapses");

  // Anniversaries of the first purchase, in the coming 400 days.
  av1::RuleTrigger yearly;
  yearly.mutable_anniversary()->set_kind(av1::ANNIVERSARY_KIND_FIRST_PURCHASE);
  Count want_yearly;
  for (const auto& [contact, orders] : history) {
    if (orders.empty()) continue;
    const absl::CivilSecond first = absl::ToCivilSecond(orders[0].at, absl::UTCTimeZone());
    for (int years = 1; years <= 3; ++years) {
      const absl::Time due =
          absl::FromCivil(absl::CivilSecond(first.year() + years, first.month(), first.day(),
                                            first.hour(), first.minute(), first.second()),
                          absl::UTCTimeZone());
      if (due >= now && due < now + absl::Hours(24 * 400)) want_yearly.Add(contact);
    }
  }
  ASSERT_GT(want_yearly.runs, 0);
  expect_same(tried(yearly, now, now + absl::Hours(24 * 400)), want_yearly, "anniversaries");
}

TEST_F(AutomationTest, ACaseBreachingItsSlaGivesItsOwnerATaskOnceAndAnAnsweredCaseNone) {
  ASSERT_NO_FATAL_FAILURE(
      Start({"--automation-scan-interval-ms", "200", "--sla-first-response", "urgent=2s"}));
  Contact ann;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  av1::CreateRuleRequest create;
  create.mutable_rule()->set_name("Late first response");
  create.mutable_rule()->mutable_trigger()->mutable_case_sla_breach()->set_target(
      av1::SLA_TARGET_FIRST_RESPONSE);
  av1::CreateTaskAction& task = *create.mutable_rule()->add_actions()->mutable_create_task();
  task.set_title("Case {case_id} waits for an answer");
  av1::Rule rule;
  ASSERT_TRUE(rules_->CreateRule(Ctx().get(), create, &rule).ok());
  av1::EnableRuleRequest enable;
  enable.set_id(rule.id());
  ASSERT_TRUE(rules_->EnableRule(Ctx().get(), enable, &rule).ok());

  auto open = [&](const std::string& subject) {
    iv1::OpenCaseRequest request;
    request.mutable_case_()->set_subject(subject);
    request.mutable_case_()->set_contact_id(ann.id());
    request.mutable_case_()->set_owner("support-lead");
    request.mutable_case_()->set_priority(iv1::PRIORITY_URGENT);
    iv1::Case out;
    const grpc::Status s = node_.interactions->OpenCase(Ctx().get(), request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  };
  const iv1::Case late = open("Broken boots");
  const iv1::Case answered = open("Where is my order");
  iv1::CommentOnCaseRequest comment;
  comment.set_id(answered.id());
  comment.mutable_comment()->set_author("agent");
  comment.mutable_comment()->set_body("On its way.");
  comment.mutable_comment()->set_public_(true);
  iv1::Case commented;
  ASSERT_TRUE(node_.interactions->CommentOnCase(Ctx().get(), comment, &commented).ok());
  ASSERT_TRUE(commented.has_first_response_time());

  const std::optional<av1::RuleRun> run = SucceededFor(rule.id(), ann.id());
  ASSERT_TRUE(run.has_value()) << node_.process->Log();
  EXPECT_EQ(run->id(), late.id() + ":sla:first_response");
  EXPECT_EQ(run->event_type(), "time.case_sla_breach");
  EXPECT_EQ(run->aggregate_id(), late.id());
  const std::vector<iv1::Task> tasks = TasksOf("support-lead");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].case_id(), late.id());
  EXPECT_EQ(tasks[0].title(), "Case " + late.id() + " waits for an answer");
  // The scan that found the late case read the answered one too.
  EXPECT_EQ(Runs(rule.id()).size(), 1u);
}

// The services as separate processes on the dev broker (Kafka protocol): an order placed with
// crm-sales makes crm-analytics create a task in crm-interaction over gRPC — once, also when
// crm-analytics is killed after deciding and before acting.
TEST_F(AutomationTest, SeparateServicesOverKafkaActOnceAcrossAKillOfTheAnalyticsService) {
  DevBroker broker = StartDevBroker(dir_.path());
  ASSERT_FALSE(broker.brokers.empty());
  Server contact = StartServer("crm-contact", KafkaServiceArgs(dir_.Sub("contact"), broker.brokers),
                               dir_.path());
  ASSERT_FALSE(contact.addr.empty());
  Server sales =
      StartServer("crm-sales", KafkaServiceArgs(dir_.Sub("sales"), broker.brokers), dir_.path());
  ASSERT_FALSE(sales.addr.empty());
  Server interaction = StartServer(
      "crm-interaction", KafkaServiceArgs(dir_.Sub("interaction"), broker.brokers), dir_.path());
  ASSERT_FALSE(interaction.addr.empty());
  // First the actions' target is away: the run is decided and recorded, and waits.
  const std::vector<std::string> tuning = {"--automation-retry-base-ms", "50",
                                           "--automation-max-attempts", "100"};
  auto analytics_args = [&](const std::string& target) {
    std::vector<std::string> extra = tuning;
    extra.insert(extra.end(), {"--interaction-address", target});
    return KafkaServiceArgs(dir_.Sub("analytics"), broker.brokers, extra);
  };
  node_ = StartServer("crm-analytics", analytics_args("127.0.0.1:1"), dir_.path());
  ASSERT_FALSE(node_.addr.empty());
  rules_ = av1::AutomationService::NewStub(node_.channel);
  sales_ = sv1::SalesService::NewStub(sales.channel);

  Contact ann;
  ASSERT_TRUE(CreateContact(contact, "Ann", "Lee", "", &ann).ok());
  const sv1::Product boots = Product("BOOTS", "Footwear");
  // The product's category is known to crm-analytics before the rule starts.
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(30), "analytics"));
  const av1::Rule rule = FootwearRule();
  const sv1::Order order = Order(ann.id(), boots);
  std::optional<av1::RuleRun> pending;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const av1::RuleRun& run : Runs(rule.id())) {
          if (run.aggregate_id() == order.id() && run.attempts() >= 1) pending = run;
        }
        return pending.has_value();
      },
      absl::Seconds(30)))
      << node_.process->Log();
  EXPECT_EQ(pending->state(), av1::RULE_RUN_STATE_PENDING);

  node_.process->Kill();
  node_ = StartServer("crm-analytics", analytics_args(interaction.addr), dir_.path());
  ASSERT_FALSE(node_.addr.empty());
  rules_ = av1::AutomationService::NewStub(node_.channel);
  const std::optional<av1::RuleRun> done = RunOnce(rule.id(), order, av1::RULE_RUN_STATE_SUCCEEDED);
  ASSERT_TRUE(done.has_value()) << node_.process->Log();
  iv1::ListTasksRequest request;
  request.set_assignee("ops-team");
  iv1::ListTasksResponse tasks;
  ASSERT_TRUE(interaction.interactions->ListTasks(Ctx().get(), request, &tasks).ok());
  ASSERT_EQ(tasks.tasks_size(), 1);
  EXPECT_EQ("tasks/" + tasks.tasks(0).id(), done->results(0).resource());
  EXPECT_EQ(tasks.tasks(0).contact_id(), ann.id());
}

}  // namespace
}  // namespace crm::testing
