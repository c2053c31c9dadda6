// crmctl, the real binary, against a real crm-node: what operators and scripts rely on.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "nlohmann/json.hpp"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

class CrmctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = StartServer("crm-node", {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("data")},
                        dir_.path());
    ASSERT_FALSE(node_.addr.empty());
  }
  CommandResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--addr", node_.addr});
    return RunCommand(BinaryPath("crmctl"), std::move(args));
  }
  // The value of a "key   value" line in crmctl's table output.
  static std::string Field(const std::string& out, const std::string& key) {
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      if (absl::StartsWith(line, key + " ")) {
        const size_t v = line.find_first_not_of(' ', key.size());
        return v == std::string::npos ? "" : line.substr(v);
      }
    }
    return "";
  }

  TempDir dir_;
  Server node_;
};

TEST_F(CrmctlTest, CreateGetUpdateSearchDeleteAsTablesAndJson) {
  CommandResult created =
      Ctl({"contact", "create", "--given-name", "Marie", "--family-name", "Curie", "--email",
           "Marie@Example.fr", "--phone", "+33 1 23 45 67 89", "--stage", "customer", "--tag",
           "Nobel", "--attr", "field=physics", "--consent", "email=granted"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string id = Field(created.out, "id");
  ASSERT_EQ(id.size(), 26u) << created.out;
  EXPECT_EQ(Field(created.out, "emails"), "marie@example.fr*");
  EXPECT_EQ(Field(created.out, "phones"), "+33123456789*");
  EXPECT_EQ(Field(created.out, "stage"), "customer");

  CommandResult json = Ctl({"--json", "contact", "get", id});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(absl::StrContains(json.out, "\"given_name\":\"Marie\"")) << json.out;
  EXPECT_TRUE(absl::StrContains(json.out, "\"LIFECYCLE_STAGE_CUSTOMER\"")) << json.out;

  CommandResult updated =
      Ctl({"contact", "update", id, "--job-title", "Professor", "--expected-version", "1"});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_EQ(Field(updated.out, "job title"), "Professor");
  EXPECT_EQ(Field(updated.out, "version"), "2");

  CommandResult found = Ctl({"contact", "search", "curie"});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  EXPECT_TRUE(absl::StrContains(found.out, id)) << found.out;

  CommandResult deleted = Ctl({"contact", "delete", id});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(Field(deleted.out, "archived"), "yes");
  CommandResult listed = Ctl({"contact", "list"});
  EXPECT_FALSE(absl::StrContains(listed.out, id));
  listed = Ctl({"contact", "list", "--show-archived"});
  EXPECT_TRUE(absl::StrContains(listed.out, id));

  CommandResult status = Ctl({"--json", "admin", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(absl::StrContains(status.out, "\"events_seen\":\"3\"")) << status.out;
}

TEST_F(CrmctlTest, RefusalsExitOneWithTheServersReasonAndUsageErrorsExitTwo) {
  CommandResult bad = Ctl({"contact", "create", "--email", "not-an-email"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad.err, "INVALID_ARGUMENT: contact.personal.emails[0].address"))
      << bad.err;
  CommandResult stale = Ctl({"contact", "get", "01ARZ3NDEKTSV4RRFFQ69G5FAV"});
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(stale.err, "NOT_FOUND")) << stale.err;
  CommandResult usage = Ctl({"contact", "create", "--stage", "royalty"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(usage.err, "--stage")) << usage.err;
}

TEST_F(CrmctlTest, CompaniesRelationshipsHistoryAndAsOf) {
  CommandResult acme = Ctl({"company", "create", "--name", "Acme", "--domain", "www.acme.example",
                            "--industry", "Rockets"});
  ASSERT_EQ(acme.exit_code, 0) << acme.err;
  const std::string acme_id = Field(acme.out, "id");
  EXPECT_EQ(Field(acme.out, "domain"), "acme.example");
  CommandResult beta = Ctl({"company", "create", "--name", "Beta"});
  const std::string beta_id = Field(beta.out, "id");
  CommandResult rel = Ctl({"relationship", "add", acme_id, beta_id, "--type", "supplier"});
  ASSERT_EQ(rel.exit_code, 0) << rel.err;
  EXPECT_EQ(Field(rel.out, "relationships"), "supplier of " + beta_id);
  CommandResult rels = Ctl({"relationship", "list", beta_id});
  EXPECT_TRUE(absl::StrContains(rels.out, acme_id + " is supplier of it")) << rels.out;

  CommandResult wile = Ctl({"contact", "create", "--given-name", "Wile", "--family-name", "Coyote",
                            "--company", acme_id + ":Engineer"});
  ASSERT_EQ(wile.exit_code, 0) << wile.err;
  const std::string wile_id = Field(wile.out, "id");
  EXPECT_EQ(Field(wile.out, "companies"), acme_id + " (Engineer)*");
  CommandResult by_company = Ctl({"contact", "list", "--company", acme_id});
  EXPECT_TRUE(absl::StrContains(by_company.out, wile_id));
  const std::string created_at = Field(wile.out, "updated");
  ASSERT_EQ(Ctl({"contact", "update", wile_id, "--job-title", "Genius"}).exit_code, 0);
  CommandResult then = Ctl({"contact", "get", wile_id, "--as-of", created_at});
  ASSERT_EQ(then.exit_code, 0) << then.err;
  EXPECT_EQ(Field(then.out, "version"), "1");
  EXPECT_EQ(Field(then.out, "job title"), "");
  CommandResult history = Ctl({"contact", "history", wile_id});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_TRUE(absl::StrContains(history.out, "job_title")) << history.out;
  EXPECT_TRUE(absl::StrContains(history.out, "\"Genius\"")) << history.out;
  CommandResult company_history = Ctl({"--json", "company", "history", acme_id});
  EXPECT_TRUE(absl::StrContains(company_history.out, "CompanyRelationshipAdded"));
  CommandResult search = Ctl({"company", "search", "acme"});
  EXPECT_TRUE(absl::StrContains(search.out, acme_id));
  EXPECT_EQ(Ctl({"company", "get"}).exit_code, 2);  // Missing id: usage error.

  CommandResult twin = Ctl({"contact", "create", "--given-name", "Wile", "--family-name", "Coyotte",
                            "--company", acme_id});
  ASSERT_EQ(twin.exit_code, 0) << twin.err;
  EXPECT_TRUE(absl::StrContains(twin.out, "likely duplicates")) << twin.out;
  const std::string twin_id = Field(twin.out, "id");
  CommandResult merged = Ctl({"contact", "merge", wile_id, twin_id, "--request-id", "m1"});
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(Field(merged.out, "absorbed"), twin_id);
  EXPECT_EQ(Field(Ctl({"contact", "get", twin_id}).out, "merged into"), wile_id);
  CommandResult unmerged = Ctl({"contact", "unmerge", twin_id});
  ASSERT_EQ(unmerged.exit_code, 0) << unmerged.err;
  EXPECT_TRUE(absl::StrContains(unmerged.out, "restored:")) << unmerged.out;
  EXPECT_EQ(Field(Ctl({"contact", "get", twin_id}).out, "merged into"), "");
  CommandResult quality = Ctl({"contact", "quality", twin_id});
  ASSERT_EQ(quality.exit_code, 0) << quality.err;
  EXPECT_TRUE(absl::StrContains(quality.out, "no way to reach them")) << quality.out;
  CommandResult work = Ctl({"contact", "incomplete", "--below", "90"});
  ASSERT_EQ(work.exit_code, 0) << work.err;
  EXPECT_TRUE(absl::StrContains(work.out, twin_id)) << work.out;
  EXPECT_EQ(Ctl({"company", "quality", acme_id}).exit_code, 0);

  CommandResult logged =
      Ctl({"interaction", "log", "--contact", wile_id, "--channel", "call", "--direction",
           "inbound", "--subject", "Asked about rockets", "--at", "2026-01-02T03:04:05Z"});
  ASSERT_EQ(logged.exit_code, 0) << logged.err;
  EXPECT_EQ(Field(logged.out, "channel"), "call");
  CommandResult timeline = Ctl({"timeline", "--contact", wile_id});
  ASSERT_EQ(timeline.exit_code, 0) << timeline.err;
  EXPECT_TRUE(absl::StrContains(timeline.out, "Asked about rockets")) << timeline.out;
  EXPECT_EQ(Ctl({"interaction", "log", "--contact", wile_id, "--channel", "pigeon"}).exit_code, 2);

  CommandResult opened =
      Ctl({"case", "open", "--contact", wile_id, "--subject", "Anvil broke", "--priority", "high"});
  ASSERT_EQ(opened.exit_code, 0) << opened.err;
  const std::string case_id = Field(opened.out, "id");
  EXPECT_EQ(Field(opened.out, "status"), "new");
  ASSERT_EQ(
      Ctl({"case", "comment", case_id, "--author", "sam", "--body", "On it", "--public"}).exit_code,
      0);
  CommandResult resolved = Ctl({"case", "status", case_id, "resolved"});
  ASSERT_EQ(resolved.exit_code, 0) << resolved.err;
  EXPECT_EQ(Field(resolved.out, "status"), "resolved");
  EXPECT_EQ(Ctl({"case", "status", case_id, "new"}).exit_code, 1);  // Refused by the server.
  EXPECT_TRUE(absl::StrContains(Ctl({"case", "list", "--contact", wile_id}).out, case_id));

  CommandResult task = Ctl({"task", "create", "--title", "Send new anvil", "--assignee", "sam",
                            "--contact", wile_id, "--due", "2026-01-05T09:00:00Z"});
  ASSERT_EQ(task.exit_code, 0) << task.err;
  const std::string task_id = Field(task.out, "id");
  CommandResult overdue =
      Ctl({"task", "list", "sam", "--view", "overdue", "--at", "2026-02-01T00:00:00Z"});
  EXPECT_TRUE(absl::StrContains(overdue.out, task_id)) << overdue.out;
  EXPECT_EQ(Field(Ctl({"task", "complete", task_id}).out, "status"), "completed");

  CommandResult product = Ctl({"product", "create", "--sku", "anvil-1", "--name", "Anvil",
                               "--category", "Heavy", "--price", "EUR 19.99"});
  ASSERT_EQ(product.exit_code, 0) << product.err;
  EXPECT_EQ(Field(product.out, "sku"), "ANVIL-1");
  EXPECT_EQ(Field(product.out, "price"), "EUR 19.99");
  EXPECT_TRUE(absl::StrContains(Ctl({"product", "list", "--category", "heavy"}).out, "ANVIL-1"));
  EXPECT_EQ(Ctl({"product", "create", "--sku", "x", "--name", "x", "--price", "EUR 1.5"}).exit_code,
            2);

  const std::string product_id = Field(product.out, "id");
  CommandResult deal = Ctl({"deal", "create", "--title", "Anvils for Wile", "--contact", wile_id,
                            "--line", product_id + ":2:EUR 19.99"});
  ASSERT_EQ(deal.exit_code, 0) << deal.err;
  EXPECT_EQ(Field(deal.out, "amount"), "EUR 39.98");
  const std::string deal_id = Field(deal.out, "id");
  EXPECT_EQ(Field(Ctl({"deal", "move", deal_id, "negotiation"}).out, "stage"), "negotiation");
  EXPECT_EQ(Field(Ctl({"deal", "win", deal_id}).out, "status"), "won");
  EXPECT_TRUE(absl::StrContains(Ctl({"deal", "list", "--status", "won"}).out, deal_id));

  CommandResult order = Ctl({"order", "place", "--contact", wile_id, "--line",
                             product_id + ":1:EUR 19.99", "--at", "2026-03-01T10:00:00Z"});
  ASSERT_EQ(order.exit_code, 0) << order.err;
  const std::string order_id = Field(order.out, "id");
  EXPECT_EQ(Field(Ctl({"order", "pay", order_id}).out, "status"), "paid");
  CommandResult refunded = Ctl({"order", "refund", order_id, "--amount", "EUR 5.00"});
  EXPECT_EQ(Field(refunded.out, "status"), "partially_refunded") << refunded.err;
  EXPECT_EQ(Field(refunded.out, "net"), "EUR 14.99");
  EXPECT_TRUE(absl::StrContains(Ctl({"order", "list", wile_id}).out, order_id));

  CommandResult lean = Ctl({"pipeline", "create", "lean", "--name", "Lean", "--stage",
                            "pitch:Pitch:30", "--stage", "close:Close:90"});
  ASSERT_EQ(lean.exit_code, 0) << lean.err;
  EXPECT_EQ(Field(lean.out, "version"), "1");
  EXPECT_EQ(Ctl({"pipeline", "create", "x", "--name", "X", "--stage", "bad"}).exit_code, 2);
  EXPECT_TRUE(absl::StrContains(Ctl({"pipeline", "list"}).out, "lean"));
  CommandResult big = Ctl({"deal", "create", "--title", "Rockets", "--contact", wile_id, "--amount",
                           "EUR 1000.00", "--pipeline", "lean", "--close", "2026-03-15T00:00:00Z"});
  ASSERT_EQ(big.exit_code, 0) << big.err;
  EXPECT_EQ(Field(big.out, "stage"), "pitch");
  CommandResult forecast = Ctl({"forecast", "--from", "2026-03-01T00:00:00Z", "--to",
                                "2026-04-01T00:00:00Z", "--currency", "EUR", "--pipeline", "lean"});
  ASSERT_EQ(forecast.exit_code, 0) << forecast.err;
  EXPECT_EQ(Field(forecast.out, "open"), "EUR 1000.00") << forecast.out;
  EXPECT_EQ(Field(forecast.out, "weighted"), "EUR 300.00");
  CommandResult refused = Ctl({"forecast", "--from", "2026-03-01T00:00:00Z", "--to",
                               "2026-02-01T00:00:00Z", "--currency", "EUR"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(refused.err, "period_end")) << refused.err;

  // The customer's file and figures from the analytics service.
  ASSERT_TRUE(WaitFor([&] {
    return Field(Ctl({"customer", "metrics", wile_id, "--as-of", "2026-04-01T00:00:00Z"}).out,
                 "orders") == "1";
  }));
  CommandResult metrics = Ctl({"customer", "metrics", wile_id, "--as-of", "2026-04-01T00:00:00Z"});
  EXPECT_EQ(Field(metrics.out, "revenue"), "EUR 14.99") << metrics.out;
  CommandResult file = Ctl({"customer", "360", wile_id});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_TRUE(absl::StrContains(file.out, order_id)) << file.out;
  CommandResult segment =
      Ctl({"segment", "create", "--name", "Spenders", "--currency", "EUR", "--revenue-min", "10"});
  ASSERT_EQ(segment.exit_code, 0) << segment.err;
  const std::string segment_id = Field(segment.out, "id");
  EXPECT_EQ(Field(Ctl({"segment", "get", segment_id}).out, "size"), "1");
  EXPECT_TRUE(absl::StrContains(Ctl({"segment", "members", segment_id}).out, wile_id));
  CommandResult sales_report = Ctl({"report", "sales", "--from", "2026-01-01T00:00:00Z", "--to",
                                    "2026-12-31T00:00:00Z", "--currency", "EUR"});
  EXPECT_EQ(Field(sales_report.out, "revenue"), "EUR 14.99") << sales_report.out;
  EXPECT_EQ(Ctl({"recommend", wile_id}).exit_code, 0);
  CommandResult campaign = Ctl({"campaign", "--category", "heavy", "--month", "3", "--currency",
                                "EUR", "--channel", "email"});
  EXPECT_EQ(campaign.exit_code, 0) << campaign.err;
  EXPECT_EQ(Ctl({"campaign", "--month", "3", "--currency", "EUR", "--channel", "pigeon"}).exit_code,
            2);
  CommandResult no_model = Ctl({"model", "get", "EUR"});
  EXPECT_EQ(no_model.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(no_model.err, "NOT_FOUND")) << no_model.err;
}

TEST_F(CrmctlTest, FeedPrintsEventsAsJsonLinesAndResumesFromACursor) {
  for (const char* name : {"Hopper", "Lamarr"}) {
    ASSERT_EQ(Ctl({"contact", "create", "--given-name", "Feed", "--family-name", name}).exit_code,
              0);
  }
  const CommandResult first =
      Ctl({"feed", "contact", "--event-type", "crm.contact.v1.ContactCreated", "--limit", "1"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const nlohmann::json line = nlohmann::json::parse(first.out);
  ASSERT_TRUE(line.contains("cursor")) << first.out;
  EXPECT_EQ(line["event"]["event_type"], "crm.contact.v1.ContactCreated");
  const std::string family = line["event"]["payload"]["contact"]["personal"]["family_name"];
  const CommandResult rest =
      Ctl({"feed", "contact", "--event-type", "crm.contact.v1.ContactCreated", "--cursor",
           line["cursor"].get<std::string>(), "--limit", "1"});
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  const nlohmann::json next = nlohmann::json::parse(rest.out);
  const std::string other = next["event"]["payload"]["contact"]["personal"]["family_name"];
  EXPECT_EQ(std::set<std::string>({family, other}), std::set<std::string>({"Hopper", "Lamarr"}));

  const CommandResult bad = Ctl({"feed", "contact", "--event-type", "crm.sales.v1.OrderPlaced"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("event_types[0]"), std::string::npos) << bad.err;
  EXPECT_EQ(Ctl({"feed", "nowhere"}).exit_code, 2);
  EXPECT_EQ(Ctl({"feed", "contact", "--cursor", "x", "--since", "2026-01-01T00:00:00Z"}).exit_code,
            2);
}

TEST_F(CrmctlTest, WebhooksAreCreatedListedAndDeleted) {
  // Port 9 of loopback: nothing answers, so deliveries would only be retried.
  const CommandResult created = Ctl({"webhook", "create", "--url", "https://127.0.0.1:9/hooks",
                                     "--event-type", "crm.sales.v1.OrderPlaced", "--event-type",
                                     "crm.contact.v1.ContactCreated", "--description", "ERP sync"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string id = Field(created.out, "id");
  ASSERT_FALSE(id.empty()) << created.out;
  EXPECT_GE(Field(created.out, "secret").size(), 24u) << created.out;  // generated, shown once

  const CommandResult got = Ctl({"--json", "webhook", "get", id});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  const nlohmann::json json = nlohmann::json::parse(got.out);
  EXPECT_EQ(json["url"], "https://127.0.0.1:9/hooks");
  EXPECT_FALSE(json.contains("secret")) << got.out;
  const CommandResult listed = Ctl({"webhook", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(absl::StrContains(listed.out, id)) << listed.out;
  const CommandResult dead = Ctl({"webhook", "deliveries", id, "--state", "dead-lettered"});
  EXPECT_EQ(dead.exit_code, 0) << dead.err;
  EXPECT_EQ(Ctl({"webhook", "deliveries", id, "--state", "lost"}).exit_code, 2);

  // Plain http is refused unless the server allows it; the reason names the field.
  const CommandResult http = Ctl({"webhook", "create", "--url", "http://127.0.0.1:9/hooks",
                                  "--event-type", "crm.sales.v1.OrderPlaced"});
  EXPECT_EQ(http.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(http.err, "webhook.url")) << http.err;
  EXPECT_EQ(Ctl({"webhook", "create", "--url", "https://127.0.0.1:9/hooks"}).exit_code, 2);

  ASSERT_EQ(Ctl({"webhook", "delete", id}).exit_code, 0);
  const CommandResult gone = Ctl({"webhook", "get", id});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(gone.err, "NOT_FOUND")) << gone.err;
}

TEST_F(CrmctlTest, RulesAreCreatedEnabledListedAndTheirRunsShown) {
  const CommandResult created =
      Ctl({"rule", "create", "--name", "Boots follow-up", "--on", "order-placed", "--category",
           "footwear", "--min-total", "1000", "--task-title", "Call about {order_id}",
           "--task-assignee", "ops", "--task-due-days", "3"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string id = Field(created.out, "id");
  ASSERT_FALSE(id.empty()) << created.out;
  EXPECT_EQ(Field(created.out, "enabled"), "no");
  const CommandResult enabled = Ctl({"rule", "enable", id});
  ASSERT_EQ(enabled.exit_code, 0) << enabled.err;
  EXPECT_EQ(Field(enabled.out, "enabled"), "yes");
  const CommandResult got = Ctl({"--json", "rule", "get", id});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  const nlohmann::json json = nlohmann::json::parse(got.out);
  EXPECT_EQ(json["trigger"]["order_placed"]["categories"][0], "footwear");
  EXPECT_EQ(json["actions"][0]["create_task"]["assignee"], "ops");
  const CommandResult listed = Ctl({"rule", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(absl::StrContains(listed.out, id + "  enabled")) << listed.out;
  EXPECT_EQ(Ctl({"rule", "runs", id, "--state", "dead-lettered"}).exit_code, 0);
  EXPECT_EQ(Ctl({"rule", "runs", id, "--state", "lost"}).exit_code, 2);
  const CommandResult tried =
      Ctl({"rule", "test", id, "--from", "2026-01-01T00:00:00Z", "--to", "2026-02-01T00:00:00Z"});
  ASSERT_EQ(tried.exit_code, 0) << tried.err;
  EXPECT_EQ(Field(tried.out, "runs"), "0") << tried.out;
  const CommandResult backwards =
      Ctl({"rule", "test", id, "--from", "2026-02-01T00:00:00Z", "--to", "2026-01-01T00:00:00Z"});
  EXPECT_EQ(backwards.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(backwards.err, "end_time")) << backwards.err;
  EXPECT_EQ(Ctl({"rule", "disable", id}).exit_code, 0);
  // Usage and server errors, named.
  EXPECT_EQ(Ctl({"rule", "create", "--name", "x", "--on", "never", "--task-title", "t"}).exit_code,
            2);
  EXPECT_EQ(Ctl({"rule", "create", "--name", "x", "--on", "order-placed"}).exit_code, 2);
  EXPECT_EQ(Ctl({"rule", "create", "--name", "x", "--on", "order-placed", "--set-stage", "king"})
                .exit_code,
            2);
  const CommandResult tagging = Ctl({"rule", "create", "--name", "VIP", "--on", "order-placed",
                                     "--min-total", "100000", "--add-tag", "vip", "--set-stage",
                                     "customer", "--delay-days", "180", "--notify", "vip-order"});
  ASSERT_EQ(tagging.exit_code, 0) << tagging.err;
  EXPECT_EQ(Field(tagging.out, "tag"), "vip") << tagging.out;
  EXPECT_EQ(Field(tagging.out, "set stage"), "customer") << tagging.out;
  EXPECT_EQ(Field(tagging.out, "delay"), "15552000 s") << tagging.out;
  EXPECT_EQ(Field(tagging.out, "notify"), "vip-order") << tagging.out;
  const CommandResult lapse = Ctl({"rule", "create", "--name", "Win back", "--on", "no-purchase",
                                   "--days", "90", "--add-tag", "lapsed"});
  ASSERT_EQ(lapse.exit_code, 0) << lapse.err;
  EXPECT_EQ(Field(lapse.out, "on"), "90 days without a purchase") << lapse.out;
  const CommandResult yearly = Ctl({"rule", "create", "--name", "Thanks", "--on", "anniversary",
                                    "--of", "first-purchase", "--notify", "anniversary"});
  ASSERT_EQ(yearly.exit_code, 0) << yearly.err;
  EXPECT_EQ(Field(yearly.out, "on"), "anniversary of first-purchase") << yearly.out;
  const CommandResult sla = Ctl({"rule", "create", "--name", "Late", "--on", "case-sla-breach",
                                 "--task-title", "Answer case {case_id}"});
  ASSERT_EQ(sla.exit_code, 0) << sla.err;
  EXPECT_EQ(Field(sla.out, "on"), "a case breaching its SLA") << sla.out;
  const CommandResult churn = Ctl({"rule", "create", "--name", "At risk", "--on", "churn-risk",
                                   "--threshold-bp", "7000", "--add-tag", "at-risk"});
  ASSERT_EQ(churn.exit_code, 0) << churn.err;
  EXPECT_EQ(Field(churn.out, "on"), "churn risk reaching 7000 bp") << churn.out;
  const CommandResult everyone = Ctl({"segment", "create", "--name", "Everyone"});
  ASSERT_EQ(everyone.exit_code, 0) << everyone.err;
  const std::string segment_id = Field(everyone.out, "id");
  const CommandResult joins = Ctl({"rule", "create", "--name", "Welcome", "--on", "segment-joined",
                                   "--segment", segment_id, "--add-tag", "welcome"});
  ASSERT_EQ(joins.exit_code, 0) << joins.err;
  EXPECT_EQ(Field(joins.out, "on"), "joining segment " + segment_id) << joins.out;
  const CommandResult in_segment =
      Ctl({"rule", "create", "--name", "Their orders", "--on", "order-placed", "--customers-in",
           segment_id, "--add-tag", "buyer"});
  ASSERT_EQ(in_segment.exit_code, 0) << in_segment.err;
  EXPECT_EQ(Field(in_segment.out, "customers in"), segment_id) << in_segment.out;
  EXPECT_EQ(Ctl({"rule", "create", "--name", "x", "--on", "segment-left", "--segment", "nope",
                 "--add-tag", "t"})
                .exit_code,
            1);  // the server: no such segment
  EXPECT_EQ(
      Ctl({"rule", "create", "--name", "x", "--on", "churn-risk", "--add-tag", "t"}).exit_code, 2);
  EXPECT_EQ(
      Ctl({"rule", "create", "--name", "x", "--on", "segment-left", "--add-tag", "t"}).exit_code,
      2);
  EXPECT_EQ(
      Ctl({"rule", "create", "--name", "x", "--on", "no-purchase", "--add-tag", "t"}).exit_code, 2);
  EXPECT_EQ(Ctl({"rule", "create", "--name", "x", "--on", "anniversary", "--of", "birthday",
                 "--add-tag", "t"})
                .exit_code,
            2);
  EXPECT_EQ(
      Ctl({"rule", "create", "--name", "x", "--on", "deal-stage", "--task-title", "t"}).exit_code,
      2);
  const CommandResult bad = Ctl({"rule", "create", "--name", "x", "--on", "order-placed",
                                 "--task-title", "t", "--task-due-days", "9999"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad.err, "rule.actions[0].create_task.due_in_days")) << bad.err;
}

TEST_F(CrmctlTest, MessageRulesPolicyMessagesAndCampaignsAreManaged) {
  const CommandResult created =
      Ctl({"rule", "create", "--name", "Care tips", "--on", "order-placed", "--send", "email",
           "--subject", "Hello {given_name}", "--body", "Tips for order {order_id}"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(Field(created.out, "send"), "email: Tips for order {order_id}") << created.out;
  EXPECT_EQ(
      Ctl({"rule", "create", "--name", "x", "--on", "order-placed", "--send", "fax", "--body", "b"})
          .exit_code,
      2);
  const CommandResult sms_subject = Ctl({"rule", "create", "--name", "x", "--on", "order-placed",
                                         "--send", "sms", "--subject", "s", "--body", "b"});
  EXPECT_EQ(sms_subject.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(sms_subject.err, "send_message.subject")) << sms_subject.err;

  const CommandResult none = Ctl({"message", "policy"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(Field(none.out, "quiet hours"), "none") << none.out;
  const CommandResult set =
      Ctl({"message", "set-policy", "--time-zone", "Europe/Berlin", "--quiet-hours", "21:00-08:00",
           "--max-per-customer", "3", "--cap-days", "7"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(Field(set.out, "quiet hours"), "21:00 to 08:00") << set.out;
  EXPECT_EQ(Field(set.out, "cap"), "3 per customer in 168 h") << set.out;
  EXPECT_EQ(Field(Ctl({"message", "policy"}).out, "time zone"), "Europe/Berlin");
  const CommandResult stale =
      Ctl({"message", "set-policy", "--quiet-hours", "22:00-07:00", "--expected-version", "9"});
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(stale.err, "expected_version")) << stale.err;
  EXPECT_EQ(Ctl({"message", "set-policy", "--quiet-hours", "22:00"}).exit_code, 2);

  const CommandResult listed = Ctl({"message", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(listed.out.empty()) << listed.out;
  const CommandResult missing = Ctl({"message", "get", "nope:nope:0"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(missing.err, "NOT_FOUND")) << missing.err;
  EXPECT_EQ(Ctl({"message", "report", "m", "--state", "lost"}).exit_code, 2);

  EXPECT_EQ(Ctl({"campaigns", "list"}).exit_code, 0);
  const CommandResult no_audience = Ctl({"campaigns", "launch", "--name", "Spring", "--send",
                                         "email", "--body", "Hi", "--holdout-percent", "10"});
  EXPECT_EQ(no_audience.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(no_audience.err, "campaign.segment_id")) << no_audience.err;
  const CommandResult unknown =
      Ctl({"campaigns", "launch", "--name", "Spring", "--segment", "01ARZ3NDEKTSV4RRFFQ69G5FAV",
           "--send", "email", "--body", "Hi", "--window-days", "14"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(unknown.err, "NOT_FOUND")) << unknown.err;
  EXPECT_EQ(Ctl({"campaigns", "launch", "--name", "x", "--send", "fax", "--body", "b"}).exit_code,
            2);
  EXPECT_EQ(Ctl({"campaigns", "get", "01ARZ3NDEKTSV4RRFFQ69G5FAV"}).exit_code, 1);
  const CommandResult failed = Ctl({"message", "report", "m", "--state", "failed"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(failed.err, "detail")) << failed.err;
}

// Lines of a file (without the line ends); empty if it cannot be read.
std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

TEST_F(CrmctlTest, ExportWritesEveryKindOfRecordAsJsonLinesAndCsv) {
  const CommandResult contact = Ctl({"contact", "create", "--given-name", "Grace", "--family-name",
                                     "Hopper", "--email", "grace@example.com"});
  ASSERT_EQ(contact.exit_code, 0) << contact.err;
  const std::string contact_id = Field(contact.out, "id");
  const CommandResult company = Ctl({"company", "create", "--name", "Navy, Inc."});
  ASSERT_EQ(company.exit_code, 0) << company.err;
  const CommandResult product =
      Ctl({"product", "create", "--sku", "COBOL-1", "--name", "Compiler", "--price", "EUR 19.99"});
  ASSERT_EQ(product.exit_code, 0) << product.err;
  const std::string product_id = Field(product.out, "id");
  const CommandResult order =
      Ctl({"order", "place", "--contact", contact_id, "--line", product_id + ":2:EUR 19.99"});
  ASSERT_EQ(order.exit_code, 0) << order.err;
  ASSERT_EQ(Ctl({"interaction", "log", "--contact", contact_id, "--channel", "call", "--subject",
                 "Bug report"})
                .exit_code,
            0);
  ASSERT_EQ(Ctl({"case", "open", "--contact", contact_id, "--subject", "Moth in relay"}).exit_code,
            0);
  ASSERT_EQ(Ctl({"task", "create", "--title", "Call back", "--assignee", "ada", "--contact",
                 contact_id, "--due", "2030-01-01T09:00:00Z"})
                .exit_code,
            0);
  ASSERT_EQ(Ctl({"segment", "create", "--name", "Everyone"}).exit_code, 0);
  ASSERT_EQ(Ctl({"webhook", "create", "--url", "https://127.0.0.1:9/hooks", "--event-type",
                 "crm.sales.v1.OrderPlaced", "--secret", "export-test-secret-0123456789"})
                .exit_code,
            0);
  // Analytics follows the other services' topics: wait until it has everything.
  Server& node = node_;
  ASSERT_TRUE(WaitCaughtUp(node, absl::Seconds(30), "analytics"));

  const std::string out = dir_.Sub("export");
  const CommandResult exported = Ctl({"export", "--out", out});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const std::map<std::string, size_t> expected = {
      {"contacts", 1}, {"companies", 1}, {"products", 1}, {"orders", 1},   {"interactions", 1},
      {"cases", 1},    {"tasks", 1},     {"segments", 1}, {"webhooks", 1}, {"pipelines", 1}};
  for (const auto& [stem, count] : expected) {
    EXPECT_EQ(Field(exported.out, stem), std::to_string(count)) << exported.out;
    const std::vector<std::string> lines = Lines(out + "/" + stem + ".jsonl");
    ASSERT_EQ(lines.size(), count) << stem;
    for (const std::string& line : lines) {
      const nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
      ASSERT_FALSE(record.is_discarded()) << line;
      EXPECT_TRUE(record.contains("id")) << stem << ": " << line;
    }
  }
  const nlohmann::json grace = nlohmann::json::parse(Lines(out + "/contacts.jsonl")[0]);
  EXPECT_EQ(grace["id"], contact_id);
  EXPECT_EQ(grace["personal"]["emails"][0]["address"], "grace@example.com");
  const nlohmann::json bought = nlohmann::json::parse(Lines(out + "/orders.jsonl")[0]);
  EXPECT_EQ(bought["contact_id"], contact_id);
  EXPECT_EQ(bought["line_items"][0]["product_id"], product_id);
  // A webhook's secret stays in the CRM.
  EXPECT_EQ(Lines(out + "/webhooks.jsonl")[0].find("export-test-secret"), std::string::npos);

  const std::string csv_dir = dir_.Sub("export-csv");
  const CommandResult csv = Ctl({"export", "--out", csv_dir, "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  const std::vector<std::string> companies = Lines(csv_dir + "/companies.csv");
  ASSERT_EQ(companies.size(), 2u);  // the header and one row
  EXPECT_EQ(companies[0].rfind("id,name,", 0), 0u) << companies[0];
  EXPECT_NE(companies[1].find("\"Navy, Inc.\""), std::string::npos) << companies[1];  // quoted
  const std::vector<std::string> contacts = Lines(csv_dir + "/contacts.csv");
  ASSERT_EQ(contacts.size(), 2u);
  EXPECT_EQ(contacts[1].rfind(contact_id + ",", 0), 0u) << contacts[1];
  EXPECT_NE(contacts[1].find("grace@example.com"), std::string::npos) << contacts[1];

  EXPECT_EQ(Ctl({"export", "--out", out, "--format", "xml"}).exit_code, 2);
}

// A file's text.
void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// The report's lines as JSON, by row.
std::map<int64_t, nlohmann::json> Report(const std::string& path) {
  std::map<int64_t, nlohmann::json> rows;
  for (const std::string& line : Lines(path)) {
    nlohmann::json r = nlohmann::json::parse(line);
    rows[std::stoll(r["row"].get<std::string>())] = r;
  }
  return rows;
}

// A record of an export as it would be anywhere: without what the service sets (version,
// times) and the trace of merges.
nlohmann::json Portable(const std::string& line) {
  nlohmann::json record = nlohmann::json::parse(line);
  for (const char* key : {"version", "create_time", "update_time", "archive_time", "merged_ids"}) {
    record.erase(key);
  }
  return record;
}

TEST_F(CrmctlTest, ImportReportsEveryRowMatchesByEmailResumesAndIsUndoneAsAWhole) {
  const CommandResult ada = Ctl({"contact", "create", "--given-name", "Ada", "--family-name",
                                 "Lovelace", "--email", "ada@example.com", "--tag", "old"});
  ASSERT_EQ(ada.exit_code, 0) << ada.err;
  const std::string ada_id = Field(ada.out, "id");
  const CommandResult acme =
      Ctl({"company", "create", "--name", "Acme", "--domain", "acme.example"});
  ASSERT_EQ(acme.exit_code, 0) << acme.err;
  const std::string acme_id = Field(acme.out, "id");

  const std::string file = dir_.Sub("leads.csv");
  WriteFile(file,
            "First,Last,E-Mail,Phone,Tags,Company,Attributes,Notes\r\n"
            // 1: matches Ada by email: her family name changes, a phone and a tag are added.
            "Ada,Byron,ADA@example.com,+44 20 7946 0000,vip;old,,,x\r\n"
            // 2: new, with a company and attributes.
            "Grace,Hopper,grace@example.com,,navy," +
                acme_id +
                ",\"{\"\"rank\"\":\"\"admiral\"\"}\",\r\n"
                // 3: invalid email: the server names the field.
                "Bad,Email,not-an-email,,,,,\r\n"
                // 4: attributes that are not JSON: crmctl names the column.
                "Alan,Turing,alan@example.com,,,,{oops,\r\n"
                // 5: the same person as row 2 again: unchanged.
                "Grace,Hopper,grace@example.com,,,,,\r\n"
                // 6: a company that does not exist.
                "Edsger,Dijkstra,edsger@example.com,,,01ARZ3NDEKTSV4RRFFQ69G5FAV,,\r\n"
                // 7: quoted name with a line break inside is still one row.
                "\"Kath\nerine\",Johnson,katherine@example.com,,,,,\"multi\nline note\"\r\n");
  const std::vector<std::string> import = {"import",
                                           "--kind",
                                           "contacts",
                                           "--file",
                                           file,
                                           "--map",
                                           "First=given_name",
                                           "--map",
                                           "Last=family_name",
                                           "--map",
                                           "E-Mail=email",
                                           "--map",
                                           "Company=company_id",
                                           "--map",
                                           "Notes=-",
                                           "--batch",
                                           "3"};
  const CommandResult first = Ctl(import);
  EXPECT_EQ(first.exit_code, 1) << first.err;  // some rows were refused
  const std::string import_id = Field(first.out, "import id");
  ASSERT_FALSE(import_id.empty()) << first.out;
  EXPECT_EQ(Field(first.out, "rows"), "7");
  EXPECT_EQ(Field(first.out, "created"), "2");
  EXPECT_EQ(Field(first.out, "updated"), "1");
  EXPECT_EQ(Field(first.out, "unchanged"), "1");
  EXPECT_EQ(Field(first.out, "invalid"), "2");
  EXPECT_EQ(Field(first.out, "failed"), "1");

  std::map<int64_t, nlohmann::json> report = Report(file + ".report.jsonl");
  ASSERT_EQ(report.size(), 7u);
  EXPECT_EQ(report[1]["outcome"], "IMPORT_OUTCOME_UPDATED");
  EXPECT_EQ(report[1]["id"], ada_id);
  EXPECT_EQ(report[1]["matched_by"], "email");
  EXPECT_EQ(report[2]["outcome"], "IMPORT_OUTCOME_CREATED");
  const std::string grace_id = report[2]["id"];
  EXPECT_EQ(report[3]["outcome"], "IMPORT_OUTCOME_INVALID");
  EXPECT_EQ(report[3]["code"], "INVALID_ARGUMENT");
  EXPECT_TRUE(absl::StartsWith(report[3]["error"].get<std::string>(),
                               "contact.personal.emails[0].address: "))
      << report[3];
  EXPECT_EQ(report[4]["outcome"], "IMPORT_OUTCOME_INVALID");
  EXPECT_EQ(report[4]["error"], "column attributes: is not JSON") << report[4];
  EXPECT_EQ(report[5]["outcome"], "IMPORT_OUTCOME_UNCHANGED");
  EXPECT_EQ(report[5]["id"], grace_id);
  EXPECT_EQ(report[6]["outcome"], "IMPORT_OUTCOME_FAILED");
  EXPECT_TRUE(absl::StrContains(report[6]["error"].get<std::string>(), "affiliations"))
      << report[6];
  EXPECT_EQ(report[7]["outcome"], "IMPORT_OUTCOME_CREATED");

  CommandResult got = Ctl({"--json", "contact", "get", ada_id});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  nlohmann::json ada_now = nlohmann::json::parse(got.out);
  EXPECT_EQ(ada_now["personal"]["family_name"], "Byron");
  EXPECT_EQ(ada_now["personal"]["phones"][0]["number"], "+442079460000");
  EXPECT_EQ(ada_now["tags"], nlohmann::json({"old", "vip"}));
  got = Ctl({"--json", "contact", "get", grace_id});
  nlohmann::json grace = nlohmann::json::parse(got.out);
  EXPECT_EQ(grace["affiliations"][0]["company_id"], acme_id);
  EXPECT_EQ(grace["attributes"]["rank"], "admiral");

  // Running it again: the progress file says it is complete.
  const CommandResult again = Ctl(import);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(absl::StrContains(Field(again.out, "status"), "already complete")) << again.out;

  // An interruption after row 3: the rest is sent again and answered with its first outcomes;
  // nothing is written twice.
  WriteFile(file + ".progress.json",
            "{\"import_id\":\"" + import_id + "\",\"kind\":\"contacts\",\"rows_done\":3}\n");
  auto events_seen = [&] {
    return nlohmann::json::parse(Ctl({"--json", "admin", "status"}).out).value("events_seen", "");
  };
  const std::string events = events_seen();
  ASSERT_FALSE(events.empty());
  const CommandResult resumed = Ctl(import);
  EXPECT_EQ(resumed.exit_code, 1) << resumed.err;
  EXPECT_TRUE(absl::StrContains(resumed.err, "resuming import " + import_id + " after row 3"))
      << resumed.err;
  EXPECT_EQ(Field(resumed.out, "created"), "1");  // row 7, answered again
  EXPECT_EQ(Field(resumed.out, "unchanged"), "1");
  const std::map<int64_t, nlohmann::json> after = Report(file + ".report.jsonl");
  ASSERT_EQ(after.size(), 7u);  // rows 4-7 replaced by the same outcomes
  for (int64_t row = 4; row <= 7; ++row) {
    EXPECT_EQ(after.at(row)["outcome"], report[row]["outcome"]) << row;
    EXPECT_EQ(after.at(row).value("id", ""), report[row].value("id", "")) << row;
  }
  EXPECT_EQ(events_seen(), events);
  const CommandResult listed = Ctl({"--json", "contact", "list"});
  EXPECT_EQ(nlohmann::json::parse(listed.out)["contacts"].size(), 3u);  // Ada, Grace, Katherine

  // Undo: what the import created is archived, Ada is back as she was.
  const CommandResult undone = Ctl({"undo-import", "--import-id", import_id});
  ASSERT_EQ(undone.exit_code, 0) << undone.err;
  EXPECT_EQ(Field(undone.out, "records"), "3");
  EXPECT_EQ(Field(undone.out, "archived"), "2");
  EXPECT_EQ(Field(undone.out, "restored"), "1");
  EXPECT_EQ(Field(undone.out, "failed"), "0");
  ada_now = nlohmann::json::parse(Ctl({"--json", "contact", "get", ada_id}).out);
  EXPECT_EQ(ada_now["personal"]["family_name"], "Lovelace");
  EXPECT_FALSE(ada_now["personal"].contains("phones")) << ada_now;
  EXPECT_EQ(ada_now["tags"], nlohmann::json({"old"}));
  EXPECT_EQ(nlohmann::json::parse(Ctl({"--json", "contact", "get", grace_id}).out)["archived"],
            true);
  EXPECT_EQ(nlohmann::json::parse(Ctl({"--json", "contact", "list"}).out)["contacts"].size(), 1u);
  // Undoing again changes nothing more; an unknown import is NOT_FOUND.
  const std::string version = ada_now["version"];
  const CommandResult twice = Ctl({"undo-import", "--import-id", import_id});
  EXPECT_EQ(twice.exit_code, 0) << twice.err;
  EXPECT_EQ(nlohmann::json::parse(Ctl({"--json", "contact", "get", ada_id}).out)["version"],
            version);
  const CommandResult unknown = Ctl({"undo-import", "--import-id", "never-imported"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(unknown.err, "NOT_FOUND: import_id")) << unknown.err;

  // Usage: a column that is no field, a bad kind.
  WriteFile(dir_.Sub("odd.csv"), "Shoe size\r\n42\r\n");
  const CommandResult odd = Ctl({"import", "--kind", "contacts", "--file", dir_.Sub("odd.csv")});
  EXPECT_EQ(odd.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(odd.err, "column \"Shoe size\" is not a field of Contact"))
      << odd.err;
  EXPECT_EQ(Ctl({"import", "--kind", "pets", "--file", file}).exit_code, 2);
}

TEST_F(CrmctlTest, ImportedProductsAndOrdersAreReportedAndUndone) {
  const CommandResult ada = Ctl({"contact", "create", "--given-name", "Ada"});
  ASSERT_EQ(ada.exit_code, 0) << ada.err;
  const std::string ada_id = Field(ada.out, "id");
  const CommandResult loom =
      Ctl({"product", "create", "--sku", "LOOM-1", "--name", "Loom", "--price", "GBP 100.00"});
  ASSERT_EQ(loom.exit_code, 0) << loom.err;
  const std::string loom_id = Field(loom.out, "id");

  const std::string products = dir_.Sub("products.csv");
  WriteFile(products,
            "sku,name,unit_price,category\r\n"
            "loom-1,Loom,\"{\"\"currency_code\"\":\"\"GBP\"\",\"\"minor_units\"\":\"\"12000\"\"}\","
            "machines\r\n"  // matched by SKU (any case): price and category change
            "ENGINE-2,Analytical Engine,\"{\"\"currency_code\"\":\"\"GBP\"\",\"\"minor_units\"\":"
            "\"\"500000\"\"}\",\r\n"  // new
            "BAD SKU,Broken,,\r\n");  // invalid SKU
  const CommandResult imported = Ctl({"import", "--kind", "products", "--file", products});
  EXPECT_EQ(imported.exit_code, 1) << imported.err;
  std::map<int64_t, nlohmann::json> report = Report(products + ".report.jsonl");
  ASSERT_EQ(report.size(), 3u);
  EXPECT_EQ(report[1]["outcome"], "IMPORT_OUTCOME_UPDATED");
  EXPECT_EQ(report[1]["id"], loom_id);
  EXPECT_EQ(report[1]["matched_by"], "sku");
  EXPECT_EQ(report[2]["outcome"], "IMPORT_OUTCOME_CREATED");
  const std::string engine_id = report[2]["id"];
  EXPECT_EQ(report[3]["outcome"], "IMPORT_OUTCOME_INVALID");
  EXPECT_TRUE(absl::StartsWith(report[3]["error"].get<std::string>(), "product.sku")) << report[3];
  const std::string product_import = Field(imported.out, "import id");

  const std::string orders = dir_.Sub("orders.jsonl");
  const std::string line = "\"line_items\":[{\"product_id\":\"" + engine_id +
                           "\",\"quantity\":\"1\",\"unit_price\":{\"currency_code\":\"GBP\","
                           "\"minor_units\":\"500000\"}}],\"order_time\":\"2020-10-01T00:00:00Z\"";
  WriteFile(orders, "{\"contact_id\":\"" + ada_id + "\"," + line + "}\n" + "{\"contact_id\":\"" +
                        ada_id + "\"," + line + ",\"status\":\"ORDER_STATUS_FULFILLED\"}\n" +
                        "{\"contact_id\":\"" + ada_id + "\"," + line +
                        ",\"status\":\"ORDER_STATUS_REFUNDED\"}\n" +
                        "{\"contact_id\":\"01ARZ3NDEKTSV4RRFFQ69G5FAV\"," + line + "}\n");
  const CommandResult placed = Ctl({"import", "--kind", "orders", "--file", orders});
  EXPECT_EQ(placed.exit_code, 1) << placed.err;
  report = Report(orders + ".report.jsonl");
  ASSERT_EQ(report.size(), 4u);
  EXPECT_EQ(report[1]["outcome"], "IMPORT_OUTCOME_CREATED");
  EXPECT_EQ(report[1]["version"], "1");
  EXPECT_EQ(report[2]["outcome"], "IMPORT_OUTCOME_CREATED");
  EXPECT_EQ(report[2]["version"], "3");  // placed, paid, fulfilled
  EXPECT_EQ(report[3]["outcome"], "IMPORT_OUTCOME_INVALID");
  EXPECT_EQ(report[3]["error"],
            "order.refunded: is required (more than zero) for a refunded order");
  EXPECT_EQ(report[4]["outcome"], "IMPORT_OUTCOME_FAILED");
  EXPECT_TRUE(absl::StrContains(report[4]["error"].get<std::string>(), "contact_id")) << report[4];
  const std::string fulfilled_id = report[2]["id"];
  const std::string placed_id = report[1]["id"];

  // Undo the orders: the placed one is cancelled, the fulfilled one refunded in full.
  const CommandResult undo_orders =
      Ctl({"undo-import", "--import-id", Field(placed.out, "import id")});
  ASSERT_EQ(undo_orders.exit_code, 0) << undo_orders.err;
  EXPECT_EQ(Field(undo_orders.out, "archived"), "2");
  nlohmann::json order = nlohmann::json::parse(Ctl({"--json", "order", "get", placed_id}).out);
  EXPECT_EQ(order["status"], "ORDER_STATUS_CANCELLED");
  order = nlohmann::json::parse(Ctl({"--json", "order", "get", fulfilled_id}).out);
  EXPECT_EQ(order["status"], "ORDER_STATUS_REFUNDED");
  // Undo the products: the new one deactivated, the loom's price and category back.
  const CommandResult undo_products = Ctl({"undo-import", "--import-id", product_import});
  ASSERT_EQ(undo_products.exit_code, 0) << undo_products.err;
  EXPECT_EQ(Field(undo_products.out, "archived"), "1");
  EXPECT_EQ(Field(undo_products.out, "restored"), "1");
  nlohmann::json product = nlohmann::json::parse(Ctl({"--json", "product", "get", loom_id}).out);
  EXPECT_EQ(product["unit_price"]["minor_units"], "10000");
  EXPECT_FALSE(product.contains("category")) << product;
  product = nlohmann::json::parse(Ctl({"--json", "product", "get", engine_id}).out);
  EXPECT_FALSE(product.value("active", false));
}

TEST_F(CrmctlTest, ExportThenImportIntoAnEmptyNodeGivesTheSameData) {
  const CommandResult acme = Ctl({"company", "create", "--name", "Acme, Inc.", "--domain",
                                  "acme.example", "--industry", "Rockets"});
  ASSERT_EQ(acme.exit_code, 0) << acme.err;
  const std::string acme_id = Field(acme.out, "id");
  ASSERT_EQ(Ctl({"company", "create", "--name", "Gone Ltd"}).exit_code, 0);
  const CommandResult gone = Ctl({"--json", "company", "list"});
  for (const auto& c : nlohmann::json::parse(gone.out)["companies"]) {
    if (c["name"] == "Gone Ltd") {
      ASSERT_EQ(Ctl({"company", "delete", c["id"].get<std::string>()}).exit_code, 0);
    }
  }
  const CommandResult marie = Ctl({"contact",       "create",
                                   "--given-name",  "Marie",
                                   "--family-name", "Curie",
                                   "--email",       "marie@example.fr",
                                   "--phone",       "+33 1 23 45 67 89",
                                   "--stage",       "customer",
                                   "--tag",         "nobel",
                                   "--attr",        "field=physics",
                                   "--consent",     "email=granted",
                                   "--company",     acme_id});
  ASSERT_EQ(marie.exit_code, 0) << marie.err;
  const CommandResult pierre = Ctl({"contact", "create", "--given-name", "Pierre", "--family-name",
                                    "Curie", "--email", "pierre@example.fr"});
  ASSERT_EQ(pierre.exit_code, 0) << pierre.err;
  ASSERT_EQ(Ctl({"contact", "delete", Field(pierre.out, "id")}).exit_code, 0);
  const CommandResult m1 = Ctl({"contact", "create", "--given-name", "Maria", "--family-name",
                                "Sklodowska", "--email", "maria@example.pl"});
  const CommandResult m2 = Ctl({"contact", "create", "--given-name", "Maria", "--family-name",
                                "Sklodowska", "--phone", "+48 22 123 45 67"});
  ASSERT_EQ(Ctl({"contact", "merge", Field(m1.out, "id"), Field(m2.out, "id")}).exit_code, 0);
  // Products and orders in every status an import can reach.
  const CommandResult radium = Ctl({"product", "create", "--sku", "RA-226", "--name", "Radium",
                                    "--price", "EUR 99.00", "--category", "elements"});
  ASSERT_EQ(radium.exit_code, 0) << radium.err;
  const std::string radium_id = Field(radium.out, "id");
  const std::string marie_id = Field(marie.out, "id");
  std::vector<std::string> orders;
  for (int i = 0; i < 5; ++i) {
    const CommandResult placed = Ctl({"order", "place", "--contact", marie_id, "--line",
                                      radium_id + ":" + std::to_string(i + 1) + ":EUR 99.00"});
    ASSERT_EQ(placed.exit_code, 0) << placed.err;
    orders.push_back(Field(placed.out, "id"));
  }
  ASSERT_EQ(Ctl({"order", "pay", orders[1]}).exit_code, 0);
  ASSERT_EQ(Ctl({"order", "pay", orders[2]}).exit_code, 0);
  ASSERT_EQ(Ctl({"order", "fulfill", orders[2]}).exit_code, 0);
  ASSERT_EQ(Ctl({"order", "cancel", orders[3]}).exit_code, 0);
  ASSERT_EQ(Ctl({"order", "pay", orders[4]}).exit_code, 0);
  ASSERT_EQ(Ctl({"order", "refund", orders[4], "--amount", "EUR 10.00"}).exit_code, 0);

  const std::string out = dir_.Sub("from");
  ASSERT_EQ(Ctl({"export", "--out", out}).exit_code, 0);

  // A second, empty node — another tenant — takes the files: companies first (contacts refer to
  // them), then contacts, products, and orders (which refer to all of those).
  Server empty = StartServer(
      "crm-node",
      {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("empty-data"), "--tenant", "globex"},
      dir_.path());
  ASSERT_FALSE(empty.addr.empty());
  auto ctl2 = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--addr", empty.addr});
    return RunCommand(BinaryPath("crmctl"), std::move(args));
  };
  const CommandResult companies =
      ctl2({"import", "--kind", "companies", "--file", out + "/companies.jsonl"});
  ASSERT_EQ(companies.exit_code, 0) << companies.err << companies.out;
  EXPECT_EQ(Field(companies.out, "created"), "2");
  const CommandResult contacts =
      ctl2({"import", "--kind", "contacts", "--file", out + "/contacts.jsonl"});
  ASSERT_EQ(contacts.exit_code, 0) << contacts.err << contacts.out;
  EXPECT_EQ(Field(contacts.out, "created"), "3");
  EXPECT_EQ(Field(contacts.out, "skipped"), "1");  // merged into Maria: her data is there
  // A product's id follows from its tenant and SKU: here it gets another, and the orders'
  // references follow it through the id map the product import wrote.
  const CommandResult products =
      ctl2({"import", "--kind", "products", "--file", out + "/products.jsonl"});
  ASSERT_EQ(products.exit_code, 0) << products.err << products.out;
  std::map<std::string, std::string> new_ids;
  for (const std::string& line : Lines(out + "/products.jsonl.ids.jsonl")) {
    const nlohmann::json entry = nlohmann::json::parse(line);
    new_ids[entry["from"]] = entry["to"];
  }
  ASSERT_EQ(new_ids.size(), 1u);
  ASSERT_TRUE(new_ids.contains(radium_id));
  const CommandResult orders_in =
      ctl2({"import", "--kind", "orders", "--file", out + "/orders.jsonl", "--ids",
            out + "/products.jsonl.ids.jsonl"});
  ASSERT_EQ(orders_in.exit_code, 0) << orders_in.err << orders_in.out;
  EXPECT_EQ(Field(orders_in.out, "created"), "5");

  const std::string back = dir_.Sub("back");
  ASSERT_EQ(ctl2({"export", "--out", back}).exit_code, 0);
  for (const std::string stem : {"companies", "contacts", "products", "orders"}) {
    std::vector<nlohmann::json> before, after;
    for (const std::string& line : Lines(out + "/" + stem + ".jsonl")) {
      nlohmann::json record = Portable(line);
      if (record.contains("merged_into")) continue;
      if (record.contains("id") && new_ids.contains(record["id"])) {
        record["id"] = new_ids[record["id"]];
      }
      for (auto& item : record["line_items"]) item["product_id"] = new_ids[item["product_id"]];
      if (record["line_items"].is_null()) record.erase("line_items");
      before.push_back(std::move(record));
    }
    for (const std::string& line : Lines(back + "/" + stem + ".jsonl")) {
      after.push_back(Portable(line));
    }
    auto by_id = [](const nlohmann::json& a, const nlohmann::json& b) { return a["id"] < b["id"]; };
    std::sort(before.begin(), before.end(), by_id);
    std::sort(after.begin(), after.end(), by_id);
    ASSERT_EQ(after.size(), before.size()) << stem;
    for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i], before[i]) << stem << " " << i;
  }
  // The same file in CSV form gives the same contacts too.
  const std::string csv = dir_.Sub("from-csv");
  ASSERT_EQ(Ctl({"export", "--out", csv, "--format", "csv"}).exit_code, 0);
  Server third = StartServer(
      "crm-node", {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("third-data")}, dir_.path());
  auto ctl3 = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--addr", third.addr});
    return RunCommand(BinaryPath("crmctl"), std::move(args));
  };
  ASSERT_EQ(ctl3({"import", "--kind", "companies", "--file", csv + "/companies.csv"}).exit_code, 0);
  const CommandResult from_csv =
      ctl3({"import", "--kind", "contacts", "--file", csv + "/contacts.csv"});
  ASSERT_EQ(from_csv.exit_code, 0) << from_csv.err << from_csv.out;
  const std::string back_csv = dir_.Sub("back-csv");
  ASSERT_EQ(ctl3({"export", "--out", back_csv}).exit_code, 0);
  std::vector<std::string> csv_lines = Lines(back_csv + "/contacts.jsonl");
  std::vector<std::string> jsonl_lines = Lines(back + "/contacts.jsonl");
  ASSERT_EQ(csv_lines.size(), jsonl_lines.size());
  for (size_t i = 0; i < csv_lines.size(); ++i) {
    EXPECT_EQ(Portable(csv_lines[i]), Portable(jsonl_lines[i])) << i;
  }
}

TEST_F(CrmctlTest, AddressComesFromTheEnvironment) {
  CommandResult r =
      RunCommand(BinaryPath("crmctl"), {"contact", "list"}, {"CRM_ADDR=" + node_.addr});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "ID")) << r.out;
}

}  // namespace
}  // namespace crm::testing
