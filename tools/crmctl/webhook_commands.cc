// crmctl webhook ...: partners' endpoints (crm.analytics.v1.WebhookService), their deliveries,
// the dead-letter list and replays.
//
//   crmctl webhook create --url https://partner.example/hooks --event-type crm.sales.v1.OrderPlaced
//   crmctl webhook deliveries 01J... --state dead-lettered
//   crmctl webhook replay 01J... 01K...
#include <iostream>
#include <memory>

#include "crm/analytics/v1/webhook_service.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::analytics::v1;
using google::protobuf::util::TimeUtil;

void PrintWebhook(const v1::Webhook& w) {
  PrintRow("id", w.id());
  PrintRow("url", w.url());
  for (const std::string& t : w.event_types()) PrintRow("event type", t);
  PrintRow("description", w.description());
  PrintRow("secret", w.secret());
  PrintRow("delivered", std::to_string(w.delivered_count()));
  PrintRow("dead letters", std::to_string(w.dead_letter_count()));
  if (w.has_next_attempt_time()) PrintRow("next retry", TimeUtil::ToString(w.next_attempt_time()));
  PrintRow("version", std::to_string(w.version()));
  std::cout << std::flush;
}

std::string StateName(v1::WebhookDeliveryState state) {
  return EnumWord(v1::WebhookDeliveryState_descriptor(), state);
}

}  // namespace

void RegisterWebhookCommands(CLI::App& app, Client& client, int& exit_code) {
  auto stub = [&client]() { return v1::WebhookService::NewStub(client.channel()); };
  struct Flags {
    std::string id, delivery_id, url, description, secret, request_id, state, page_token;
    std::vector<std::string> event_types;
    int64_t expected_version = 0;
  };
  auto f = std::make_shared<Flags>();

  CLI::App* webhook = app.add_subcommand(
      "webhook", "partners' endpoints that receive the tenant's events as signed HTTP POSTs");
  webhook->require_subcommand(1);

  CLI::App* create = webhook->add_subcommand("create", "register an endpoint");
  create->add_option("--url", f->url, "https URL deliveries are POSTed to")->required();
  create
      ->add_option("--event-type", f->event_types,
                   "an event type to deliver, e.g. crm.sales.v1.OrderPlaced (repeatable)")
      ->required();
  create->add_option("--description", f->description, "for people");
  create->add_option("--secret", f->secret,
                     "signing key, 24-200 characters (default: one is generated and shown once)");
  create->add_option("--request-id", f->request_id, "idempotency key");
  create->callback([&client, &exit_code, f, stub] {
    v1::CreateWebhookRequest req;
    req.mutable_webhook()->set_url(f->url);
    for (const std::string& t : f->event_types) req.mutable_webhook()->add_event_types(t);
    req.mutable_webhook()->set_description(f->description);
    req.mutable_webhook()->set_secret(f->secret);
    req.set_request_id(f->request_id);
    Run<v1::Webhook>(
        client, exit_code,
        [&](v1::Webhook& out) { return stub()->CreateWebhook(client.Context().get(), req, &out); },
        PrintWebhook);
  });

  CLI::App* get = webhook->add_subcommand("get", "a webhook and how its deliveries stand");
  get->add_option("id", f->id, "webhook id")->required();
  get->callback([&client, &exit_code, f, stub] {
    v1::GetWebhookRequest req;
    req.set_id(f->id);
    Run<v1::Webhook>(
        client, exit_code,
        [&](v1::Webhook& out) { return stub()->GetWebhook(client.Context().get(), req, &out); },
        PrintWebhook);
  });

  CLI::App* list = webhook->add_subcommand("list", "the tenant's webhooks");
  list->add_option("--page-token", f->page_token, "continue");
  list->callback([&client, &exit_code, f, stub] {
    v1::ListWebhooksRequest req;
    req.set_page_token(f->page_token);
    Run<v1::ListWebhooksResponse>(
        client, exit_code,
        [&](v1::ListWebhooksResponse& out) {
          return stub()->ListWebhooks(client.Context().get(), req, &out);
        },
        [](const v1::ListWebhooksResponse& out) {
          for (const auto& w : out.webhooks()) {
            std::cout << w.id() << "  " << w.url() << "  delivered " << w.delivered_count()
                      << ", dead letters " << w.dead_letter_count() << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });

  CLI::App* remove = webhook->add_subcommand("delete", "stop delivering to a webhook, remove it");
  remove->add_option("id", f->id, "webhook id")->required();
  remove->add_option("--expected-version", f->expected_version, "refuse unless at this version");
  remove->add_option("--request-id", f->request_id, "idempotency key");
  remove->callback([&client, &exit_code, f, stub] {
    v1::DeleteWebhookRequest req;
    req.set_id(f->id);
    req.set_expected_version(f->expected_version);
    req.set_request_id(f->request_id);
    Run<google::protobuf::Empty>(
        client, exit_code,
        [&](google::protobuf::Empty& out) {
          return stub()->DeleteWebhook(client.Context().get(), req, &out);
        },
        [](const google::protobuf::Empty&) { std::cout << "deleted" << std::endl; });
  });

  CLI::App* deliveries =
      webhook->add_subcommand("deliveries", "a webhook's deliveries and their attempts");
  deliveries->add_option("id", f->id, "webhook id")->required();
  deliveries->add_option("--state", f->state,
                         "only retrying, succeeded, dead-lettered or replay-requested");
  deliveries->add_option("--page-token", f->page_token, "continue");
  deliveries->callback([&client, &exit_code, f, stub] {
    v1::ListWebhookDeliveriesRequest req;
    req.set_webhook_id(f->id);
    req.set_page_token(f->page_token);
    if (!f->state.empty()) {
      const std::optional<int> state =
          ParseEnumWord(v1::WebhookDeliveryState_descriptor(), f->state);
      if (!state) {
        UsageError("--state must be retrying, succeeded, dead-lettered or replay-requested");
      }
      req.set_state(static_cast<v1::WebhookDeliveryState>(*state));
    }
    Run<v1::ListWebhookDeliveriesResponse>(
        client, exit_code,
        [&](v1::ListWebhookDeliveriesResponse& out) {
          return stub()->ListWebhookDeliveries(client.Context().get(), req, &out);
        },
        [](const v1::ListWebhookDeliveriesResponse& out) {
          for (const auto& d : out.deliveries()) {
            std::cout << d.id() << "  " << StateName(d.state()) << "  " << d.event_type() << " "
                      << d.aggregate_id() << "  " << d.attempts_size() << " attempt(s)";
            if (d.attempts_size() > 0) {
              const auto& last = d.attempts(d.attempts_size() - 1);
              std::cout << ", last " << TimeUtil::ToString(last.time()) << " "
                        << (last.error().empty() ? std::to_string(last.http_status())
                                                 : last.error());
            }
            std::cout << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });

  CLI::App* replay =
      webhook->add_subcommand("replay", "deliver an event again (e.g. from the dead-letter list)");
  replay->add_option("id", f->id, "webhook id")->required();
  replay->add_option("delivery", f->delivery_id, "delivery id (the event id)")->required();
  replay->add_option("--request-id", f->request_id, "idempotency key");
  replay->callback([&client, &exit_code, f, stub] {
    v1::ReplayWebhookDeliveryRequest req;
    req.set_webhook_id(f->id);
    req.set_delivery_id(f->delivery_id);
    req.set_request_id(f->request_id);
    Run<v1::WebhookDelivery>(
        client, exit_code,
        [&](v1::WebhookDelivery& out) {
          return stub()->ReplayWebhookDelivery(client.Context().get(), req, &out);
        },
        [](const v1::WebhookDelivery& d) {
          PrintRow("delivery", d.id());
          PrintRow("state", StateName(d.state()));
          std::cout << std::flush;
        });
  });
}

}  // namespace crm::ctl
