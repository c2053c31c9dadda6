// crmctl message ... / crmctl campaign ...: what automation sends customers, the tenant's
// messaging policy, the delivery adapter's reports, and campaigns with their hold-out results
// (crm.analytics.v1.AutomationService).
//
//   crmctl campaigns launch --name "Spring boots" --segment 01J... --send email
//       --subject "Hi {given_name}" --body "..." --holdout-percent 10 --window-days 30
//   crmctl campaigns get 01J...
//   crmctl message list --contact 01J...
//   crmctl message report 01J...:01J...:0 --state delivered --request-id provider-evt-42
//   crmctl message set-policy --time-zone Europe/Berlin --quiet-hours 21:00-08:00
//       --max-per-customer 3 --cap-days 7
#include <iostream>
#include <memory>

#include "crm/analytics/v1/automation_service.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::analytics::v1;
using google::protobuf::util::TimeUtil;

void PrintMessage(const v1::Message& m) {
  PrintRow("id", m.id());
  PrintRow("contact", m.contact_id());
  PrintRow("channel", EnumWord(crm::contact::v1::ConsentChannel_descriptor(), m.channel()));
  PrintRow("to", m.to());
  if (!m.subject().empty()) PrintRow("subject", m.subject());
  PrintRow("body", m.body());
  PrintRow("rule", m.rule_id());
  PrintRow("state", EnumWord(v1::MessageState_descriptor(), m.state()));
  if (!m.status_detail().empty()) PrintRow("detail", m.status_detail());
  if (m.has_status_time()) PrintRow("reported", TimeUtil::ToString(m.status_time()));
  PrintRow("queued", TimeUtil::ToString(m.queue_time()));
  PrintRow("version", std::to_string(m.version()));
  std::cout << std::flush;
}

void PrintPolicy(const v1::MessagingPolicy& p) {
  PrintRow("time zone", p.time_zone().empty() ? "UTC" : p.time_zone());
  PrintRow("quiet hours", p.quiet_hours_start().empty()
                              ? "none"
                              : p.quiet_hours_start() + " to " + p.quiet_hours_end());
  PrintRow("cap", p.max_messages_per_customer() == 0
                      ? "none"
                      : std::to_string(p.max_messages_per_customer()) + " per customer in " +
                            std::to_string(p.cap_period().seconds() / 3600) + " h");
  PrintRow("version", std::to_string(p.version()));
  std::cout << std::flush;
}

void PrintGroup(const std::string& name, const v1::CampaignGroup& g) {
  std::string revenue;
  for (const auto& m : g.revenue()) {
    revenue +=
        (revenue.empty() ? "" : ", ") + std::to_string(m.minor_units()) + " " + m.currency_code();
  }
  PrintRow(name, std::to_string(g.customers()) + " customers, " + std::to_string(g.converted()) +
                     " bought (" + std::to_string(g.orders()) + " orders" +
                     (revenue.empty() ? "" : ", " + revenue + " minor units") + ")");
}

void PrintCampaign(const v1::Campaign& c) {
  PrintRow("id", c.id());
  PrintRow("name", c.name());
  if (!c.segment_id().empty()) PrintRow("segment", c.segment_id());
  PrintRow("channel", EnumWord(crm::contact::v1::ConsentChannel_descriptor(), c.channel()));
  PrintRow("launched", TimeUtil::ToString(c.launch_time()));
  PrintRow("window", std::to_string(c.attribution_window().seconds() / 86400) + " days");
  PrintGroup("treatment", c.treatment());
  PrintGroup("holdout", c.holdout());
  PrintRow("messages", std::to_string(c.messages_sent()) + " sent, " +
                           std::to_string(c.messages_skipped()) + " skipped, " +
                           std::to_string(c.messages_pending()) + " to send");
  PrintRow("without consent", std::to_string(c.without_consent()));
  std::cout << std::flush;
}

}  // namespace

void RegisterCampaignCommands(CLI::App& app, Client& client, int& exit_code) {
  auto stub = [&client]() { return v1::AutomationService::NewStub(client.channel()); };
  struct Flags {
    std::string id, name, segment, send, subject, body, request_id, page_token;
    std::vector<std::string> contacts;
    int holdout_percent = 0;
    int64_t window_days = 30;
  };
  auto f = std::make_shared<Flags>();
  // ("campaign", singular, is SuggestCampaign: who to reach.)
  CLI::App* campaign = app.add_subcommand(
      "campaigns",
      "launched campaigns: a message to each consenting customer, measured against a "
      "hold-out");
  campaign->require_subcommand(1);

  CLI::App* launch = campaign->add_subcommand("launch", "launch a campaign (it sends at once)");
  launch->add_option("--name", f->name, "for people")->required();
  launch->add_option("--segment", f->segment, "the audience: a segment's members");
  launch->add_option("--contact", f->contacts, "the audience: these contacts (repeatable)");
  launch->add_option("--send", f->send, "email or sms")->required();
  launch->add_option("--subject", f->subject, "email: the subject ({given_name}, {family_name})");
  launch->add_option("--body", f->body, "the text ({given_name}, {family_name})")->required();
  launch->add_option("--holdout-percent", f->holdout_percent,
                     "percent kept as a hold-out, sent nothing (0 to 50)");
  launch->add_option("--window-days", f->window_days,
                     "orders this many days after the launch are attributed (1 to 90)");
  launch->add_option("--request-id", f->request_id, "idempotency key");
  launch->callback([&client, &exit_code, f, stub] {
    v1::LaunchCampaignRequest req;
    v1::Campaign& c = *req.mutable_campaign();
    c.set_name(f->name);
    c.set_segment_id(f->segment);
    for (const std::string& id : f->contacts) c.add_contact_ids(id);
    if (f->send == "email") {
      c.set_channel(crm::contact::v1::CONSENT_CHANNEL_EMAIL);
    } else if (f->send == "sms") {
      c.set_channel(crm::contact::v1::CONSENT_CHANNEL_SMS);
    } else {
      UsageError("--send must be email or sms");
    }
    c.set_subject(f->subject);
    c.set_body(f->body);
    c.set_holdout_percent(f->holdout_percent);
    c.mutable_attribution_window()->set_seconds(f->window_days * 86400);
    req.set_request_id(f->request_id);
    Run<v1::Campaign>(
        client, exit_code,
        [&](v1::Campaign& out) {
          return stub()->LaunchCampaign(client.Context().get(), req, &out);
        },
        PrintCampaign);
  });

  CLI::App* get = campaign->add_subcommand("get", "a campaign and its results so far");
  get->add_option("id", f->id, "campaign id")->required();
  get->callback([&client, &exit_code, f, stub] {
    v1::GetCampaignRequest req;
    req.set_id(f->id);
    Run<v1::Campaign>(
        client, exit_code,
        [&](v1::Campaign& out) { return stub()->GetCampaign(client.Context().get(), req, &out); },
        PrintCampaign);
  });

  CLI::App* list = campaign->add_subcommand("list", "the tenant's campaigns");
  list->add_option("--page-token", f->page_token, "continue");
  list->callback([&client, &exit_code, f, stub] {
    v1::ListCampaignsRequest req;
    req.set_page_token(f->page_token);
    Run<v1::ListCampaignsResponse>(
        client, exit_code,
        [&](v1::ListCampaignsResponse& out) {
          return stub()->ListCampaigns(client.Context().get(), req, &out);
        },
        [](const v1::ListCampaignsResponse& out) {
          for (const auto& c : out.campaigns()) {
            std::cout << c.id() << "  " << c.name() << "  " << c.treatment().customers() << " + "
                      << c.holdout().customers() << " hold-out, " << c.messages_sent() << " sent\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });
}

void RegisterMessageCommands(CLI::App& app, Client& client, int& exit_code) {
  auto stub = [&client]() { return v1::AutomationService::NewStub(client.channel()); };
  struct Flags {
    std::string id, contact, rule, page_token, state, detail, request_id, time_zone, quiet_hours;
    int max_per_customer = 0;
    int64_t cap_days = 0;
    int64_t expected_version = 0;
  };
  auto f = std::make_shared<Flags>();

  CLI::App* message =
      app.add_subcommand("message", "messages automation sent customers, and how they are paced");
  message->require_subcommand(1);

  CLI::App* list = message->add_subcommand("list", "the tenant's messages, in id order");
  list->add_option("--contact", f->contact, "only to this customer");
  list->add_option("--rule", f->rule, "only from this rule");
  list->add_option("--page-token", f->page_token, "continue");
  list->callback([&client, &exit_code, f, stub] {
    v1::ListMessagesRequest req;
    req.set_contact_id(f->contact);
    req.set_rule_id(f->rule);
    req.set_page_token(f->page_token);
    Run<v1::ListMessagesResponse>(
        client, exit_code,
        [&](v1::ListMessagesResponse& out) {
          return stub()->ListMessages(client.Context().get(), req, &out);
        },
        [](const v1::ListMessagesResponse& out) {
          for (const auto& m : out.messages()) {
            std::cout << m.id() << "  "
                      << EnumWord(crm::contact::v1::ConsentChannel_descriptor(), m.channel())
                      << "  " << EnumWord(v1::MessageState_descriptor(), m.state()) << "  "
                      << m.contact_id() << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });

  CLI::App* get = message->add_subcommand("get", "a message and what became of it");
  get->add_option("id", f->id, "message id")->required();
  get->callback([&client, &exit_code, f, stub] {
    v1::GetMessageRequest req;
    req.set_id(f->id);
    Run<v1::Message>(
        client, exit_code,
        [&](v1::Message& out) { return stub()->GetMessage(client.Context().get(), req, &out); },
        PrintMessage);
  });

  CLI::App* report = message->add_subcommand(
      "report", "for a delivery adapter: a message was delivered, failed or opened");
  report->add_option("id", f->id, "message id")->required();
  report->add_option("--state", f->state, "delivered, failed or opened")->required();
  report->add_option("--detail", f->detail, "what the provider said (required with failed)");
  report->add_option("--request-id", f->request_id, "idempotency key");
  report->callback([&client, &exit_code, f, stub] {
    v1::ReportMessageStatusRequest req;
    req.set_message_id(f->id);
    const std::optional<int> state = ParseEnumWord(v1::MessageState_descriptor(), f->state);
    if (!state) UsageError("--state must be delivered, failed or opened");
    req.set_state(static_cast<v1::MessageState>(*state));
    req.set_detail(f->detail);
    req.set_request_id(f->request_id);
    Run<v1::Message>(
        client, exit_code,
        [&](v1::Message& out) {
          return stub()->ReportMessageStatus(client.Context().get(), req, &out);
        },
        PrintMessage);
  });

  CLI::App* policy = message->add_subcommand("policy", "the tenant's quiet hours and cap");
  policy->callback([&client, &exit_code, stub] {
    v1::GetMessagingPolicyRequest req;
    Run<v1::MessagingPolicy>(
        client, exit_code,
        [&](v1::MessagingPolicy& out) {
          return stub()->GetMessagingPolicy(client.Context().get(), req, &out);
        },
        PrintPolicy);
  });

  CLI::App* set = message->add_subcommand(
      "set-policy", "set the tenant's quiet hours and per-customer cap (all of it)");
  set->add_option("--time-zone", f->time_zone, "IANA zone of the quiet hours (default UTC)");
  set->add_option("--quiet-hours", f->quiet_hours, "HH:MM-HH:MM, e.g. 21:00-08:00");
  set->add_option("--max-per-customer", f->max_per_customer,
                  "at most this many messages to one customer per --cap-days (0: no cap)");
  set->add_option("--cap-days", f->cap_days, "the cap's window in days");
  set->add_option("--expected-version", f->expected_version, "refuse unless at this version");
  set->add_option("--request-id", f->request_id, "idempotency key");
  set->callback([&client, &exit_code, f, stub] {
    v1::UpdateMessagingPolicyRequest req;
    v1::MessagingPolicy& p = *req.mutable_policy();
    p.set_time_zone(f->time_zone);
    if (!f->quiet_hours.empty()) {
      const size_t dash = f->quiet_hours.find('-');
      if (dash == std::string::npos) UsageError("--quiet-hours must be HH:MM-HH:MM");
      p.set_quiet_hours_start(f->quiet_hours.substr(0, dash));
      p.set_quiet_hours_end(f->quiet_hours.substr(dash + 1));
    }
    p.set_max_messages_per_customer(f->max_per_customer);
    if (f->cap_days > 0) p.mutable_cap_period()->set_seconds(f->cap_days * 86400);
    req.set_expected_version(f->expected_version);
    req.set_request_id(f->request_id);
    Run<v1::MessagingPolicy>(
        client, exit_code,
        [&](v1::MessagingPolicy& out) {
          return stub()->UpdateMessagingPolicy(client.Context().get(), req, &out);
        },
        PrintPolicy);
  });
}

}  // namespace crm::ctl
