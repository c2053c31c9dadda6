// crmctl customer ... and crmctl model ...: the customer's file, figures and purchase models.
#include <iostream>
#include <memory>

#include "absl/strings/str_format.h"
#include "common/money/money.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::analytics::v1;
using google::protobuf::util::TimeUtil;

void PrintMetrics(const v1::CustomerMetrics& m) {
  PrintRow("customer", m.contact_id());
  PrintRow("orders", std::to_string(m.order_count()));
  if (m.has_lifetime_revenue()) {
    PrintRow("revenue", money::Format(m.lifetime_revenue()));
    PrintRow("average order", money::Format(m.average_order_value()));
  }
  if (m.order_count() > 0) {
    PrintRow("first purchase", TimeUtil::ToString(m.first_purchase_time()));
    PrintRow("last purchase", TimeUtil::ToString(m.last_purchase_time()));
    PrintRow("usual interval", std::to_string(m.typical_interval_seconds() / 86400) + " days");
    PrintRow("rfm", absl::StrFormat("R%d F%d M%d of %d customers", m.rfm().recency(),
                                    m.rfm().frequency(), m.rfm().monetary(), m.rfm().customers()));
  }
  if (m.has_model()) {
    PrintRow("p(alive)", absl::StrFormat("%.1f %%", 100 * m.probability_alive()));
    PrintRow("expected orders",
             absl::StrFormat("%.2f in %d days", m.expected_purchases(), m.horizon_days()));
    if (m.has_predicted_clv()) PrintRow("predicted value", money::Format(m.predicted_clv()));
  }
  PrintRow("churn risk", absl::StrFormat("%.0f %%", m.churn_risk_bp() / 100.0));
  for (const auto& r : m.churn_reasons()) PrintRow("  because", r.description());
  std::cout << std::flush;
}

void PrintModel(const v1::PurchaseModel& m) {
  PrintRow("currency", m.currency_code());
  PrintRow("fitted as of", TimeUtil::ToString(m.fit_as_of()));
  PrintRow("customers", std::to_string(m.customers()));
  PrintRow("purchase days", std::to_string(m.purchase_days()));
  PrintRow("bg/nbd",
           absl::StrFormat("r=%.4g alpha=%.4g a=%.4g b=%.4g (ll %.1f)", m.bgnbd_r(),
                           m.bgnbd_alpha(), m.bgnbd_a(), m.bgnbd_b(), m.bgnbd_log_likelihood()));
  if (m.gamma_gamma_q() > 0) {
    PrintRow("gamma-gamma", absl::StrFormat("p=%.4g q=%.4g gamma=%.4g (ll %.1f)", m.gamma_gamma_p(),
                                            m.gamma_gamma_q(), m.gamma_gamma_gamma(),
                                            m.gamma_gamma_log_likelihood()));
  }
  PrintRow("version", std::to_string(m.version()));
  std::cout << std::flush;
}

}  // namespace

void RegisterAnalyticsCommands(CLI::App& app, Client& client, int& exit_code) {
  auto stub = [&client]() { return v1::AnalyticsService::NewStub(client.channel()); };
  CLI::App* customer = app.add_subcommand("customer", "a customer's file and figures (analytics)");
  customer->require_subcommand(1);
  struct Flags {
    std::string id, as_of, currency, request_id;
    int horizon = 0;
  };
  auto f = std::make_shared<Flags>();

  CLI::App* file = customer->add_subcommand("360", "the whole customer file in one call");
  file->add_option("id", f->id, "contact id")->required();
  file->add_option("--as-of", f->as_of, "figures as of this time (RFC 3339; default now)");
  file->callback([&client, &exit_code, f, stub] {
    v1::GetCustomer360Request req;
    req.set_contact_id(f->id);
    if (!f->as_of.empty()) *req.mutable_as_of() = ParseTime("--as-of", f->as_of);
    Run<v1::Customer360>(
        client, exit_code,
        [&](v1::Customer360& out) {
          return stub()->GetCustomer360(client.Context().get(), req, &out);
        },
        [](const v1::Customer360& c) {
          PrintRow("name", c.contact().personal().given_name() + " " +
                               c.contact().personal().family_name());
          PrintRow("company", c.company().name());
          for (const auto& id : c.merged_contact_ids()) PrintRow("merged", id);
          PrintMetrics(c.metrics());
          for (const auto& o : c.latest_orders()) {
            PrintRow("order", TimeUtil::ToString(o.order_time()) + "  " + money::Format(o.net()) +
                                  "  " + o.id());
          }
          for (const auto& d : c.open_deals()) PrintRow("open deal", d.title() + "  " + d.id());
          for (const auto& i : c.latest_interactions()) {
            PrintRow("interaction", TimeUtil::ToString(i.occurred_at()) + "  " + i.subject());
          }
          for (const auto& k : c.open_cases()) PrintRow("open case", k.subject() + "  " + k.id());
          for (const auto& t : c.open_tasks()) PrintRow("open task", t.title() + "  " + t.id());
          std::cout << std::flush;
        });
  });

  CLI::App* metrics = customer->add_subcommand("metrics", "figures, RFM, predictions, churn risk");
  metrics->add_option("id", f->id, "contact id")->required();
  metrics->add_option("--as-of", f->as_of, "as of this time (RFC 3339; default now)");
  metrics->add_option("--currency", f->currency, "ISO 4217 (default: the customer's main one)");
  metrics->add_option("--horizon", f->horizon, "days ahead for predictions (default 365)");
  metrics->callback([&client, &exit_code, f, stub] {
    v1::GetCustomerMetricsRequest req;
    req.set_contact_id(f->id);
    req.set_currency_code(f->currency);
    req.set_horizon_days(f->horizon);
    if (!f->as_of.empty()) *req.mutable_as_of() = ParseTime("--as-of", f->as_of);
    Run<v1::CustomerMetrics>(
        client, exit_code,
        [&](v1::CustomerMetrics& out) {
          return stub()->GetCustomerMetrics(client.Context().get(), req, &out);
        },
        PrintMetrics);
  });

  CLI::App* model = app.add_subcommand("model", "the tenant's purchase models (analytics)");
  model->require_subcommand(1);
  CLI::App* get = model->add_subcommand("get", "the fitted model of a currency");
  get->add_option("currency", f->currency, "ISO 4217")->required();
  get->callback([&client, &exit_code, f, stub] {
    v1::GetModelRequest req;
    req.set_currency_code(f->currency);
    Run<v1::PurchaseModel>(
        client, exit_code,
        [&](v1::PurchaseModel& out) { return stub()->GetModel(client.Context().get(), req, &out); },
        PrintModel);
  });
  CLI::App* fit = model->add_subcommand("fit", "fit a currency's model now and record it");
  fit->add_option("currency", f->currency, "ISO 4217")->required();
  fit->add_option("--as-of", f->as_of, "fit on purchases up to this time (default now)");
  fit->add_option("--request-id", f->request_id, "idempotency key");
  fit->callback([&client, &exit_code, f, stub] {
    v1::FitModelRequest req;
    req.set_currency_code(f->currency);
    req.set_request_id(f->request_id);
    if (!f->as_of.empty()) *req.mutable_as_of() = ParseTime("--as-of", f->as_of);
    Run<v1::PurchaseModel>(
        client, exit_code,
        [&](v1::PurchaseModel& out) { return stub()->FitModel(client.Context().get(), req, &out); },
        PrintModel);
  });
}

}  // namespace crm::ctl
