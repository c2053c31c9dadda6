// crmctl customer ... and crmctl model ...: the customer's file, figures and purchase models.
#include <cmath>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
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

void RegisterMarketingCommands(CLI::App& app, Client& client, int& exit_code) {
  auto stub = [&client]() { return v1::AnalyticsService::NewStub(client.channel()); };
  struct Flags {
    std::string id, name, as_of, currency, product, category, channel, request_id, from, to,
        page_token;
    std::vector<std::string> tags;
    int month = 0, min_years = 0, within_days = 0;
    double revenue_min = -1;
  };
  auto f = std::make_shared<Flags>();

  CLI::App* segment = app.add_subcommand("segment", "customer segments (analytics)");
  segment->require_subcommand(1);
  CLI::App* create = segment->add_subcommand("create", "create a segment from a filter");
  create->add_option("--name", f->name, "name")->required();
  create->add_option("--tag", f->tags, "has this tag (repeatable)");
  create->add_option("--currency", f->currency, "currency of --revenue-min");
  create->add_option("--revenue-min", f->revenue_min, "lifetime revenue at least (major units)");
  create->add_option("--product", f->product, "bought this product");
  create->add_option("--category", f->category, "bought from this category");
  create->add_option("--month", f->month, "with --product/--category: in this month (1-12)");
  create->add_option("--interacted-within", f->within_days, "an interaction in the last N days");
  create->add_option("--consent", f->channel, "granted consent: email, sms, phone or post");
  create->add_option("--request-id", f->request_id, "idempotency key");
  create->callback([&client, &exit_code, f, stub] {
    v1::CreateSegmentRequest req;
    req.set_request_id(f->request_id);
    req.mutable_segment()->set_name(f->name);
    v1::SegmentFilter* filter = req.mutable_segment()->mutable_filter();
    for (const auto& t : f->tags) filter->add_tags(t);
    filter->set_currency_code(f->currency);
    if (f->revenue_min >= 0) {
      filter->mutable_revenue_min()->set_currency_code(f->currency);
      absl::StatusOr<int> digits = money::MinorDigits("--currency", f->currency);
      if (!digits.ok()) UsageError(std::string(digits.status().message()));
      filter->mutable_revenue_min()->set_minor_units(
          static_cast<int64_t>(std::llround(f->revenue_min * std::pow(10.0, *digits))));
    }
    filter->set_bought_product_id(f->product);
    filter->set_bought_category(f->category);
    filter->set_bought_in_month(f->month);
    filter->set_interacted_within_days(f->within_days);
    if (!f->channel.empty()) {
      crm::contact::v1::ConsentChannel channel;
      if (!crm::contact::v1::ConsentChannel_Parse(
              "CONSENT_CHANNEL_" + absl::AsciiStrToUpper(f->channel), &channel)) {
        UsageError("--consent must be email, sms, phone or post");
      }
      filter->set_consent_channel(channel);
    }
    Run<v1::Segment>(
        client, exit_code,
        [&](v1::Segment& out) { return stub()->CreateSegment(client.Context().get(), req, &out); },
        [](const v1::Segment& s) {
          PrintRow("id", s.id());
          PrintRow("name", s.name());
          std::cout << std::flush;
        });
  });
  CLI::App* get = segment->add_subcommand("get", "a segment with its size and revenue");
  get->add_option("id", f->id, "segment id")->required();
  get->callback([&client, &exit_code, f, stub] {
    v1::GetSegmentRequest req;
    req.set_id(f->id);
    Run<v1::Segment>(
        client, exit_code,
        [&](v1::Segment& out) { return stub()->GetSegment(client.Context().get(), req, &out); },
        [](const v1::Segment& s) {
          PrintRow("id", s.id());
          PrintRow("name", s.name());
          PrintRow("size", std::to_string(s.size()));
          if (s.has_revenue()) PrintRow("revenue", money::Format(s.revenue()));
          std::cout << std::flush;
        });
  });
  CLI::App* members = segment->add_subcommand("members", "the customers in a segment");
  members->add_option("id", f->id, "segment id")->required();
  members->add_option("--page-token", f->page_token, "continue");
  members->callback([&client, &exit_code, f, stub] {
    v1::ListSegmentMembersRequest req;
    req.set_id(f->id);
    req.set_page_token(f->page_token);
    Run<v1::ListSegmentMembersResponse>(
        client, exit_code,
        [&](v1::ListSegmentMembersResponse& out) {
          return stub()->ListSegmentMembers(client.Context().get(), req, &out);
        },
        [](const v1::ListSegmentMembersResponse& out) {
          for (const auto& m : out.members()) {
            std::cout << m.contact_id() << "  " << m.display_name() << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });

  CLI::App* campaign = app.add_subcommand(
      "campaign", "who to reach before a month they usually buy in, with what (analytics)");
  campaign->add_option("--product", f->product, "the product");
  campaign->add_option("--category", f->category, "or the category");
  campaign->add_option("--month", f->month, "month of the year, 1-12")->required();
  campaign->add_option("--currency", f->currency, "ISO 4217")->required();
  campaign->add_option("--channel", f->channel, "email, sms, phone or post")->required();
  campaign->add_option("--min-years", f->min_years, "bought in at least this many years");
  campaign->callback([&client, &exit_code, f, stub] {
    v1::SuggestCampaignRequest req;
    req.set_product_id(f->product);
    req.set_category(f->category);
    req.set_month(f->month);
    req.set_currency_code(f->currency);
    req.set_min_years(f->min_years);
    crm::contact::v1::ConsentChannel channel;
    if (!crm::contact::v1::ConsentChannel_Parse(
            "CONSENT_CHANNEL_" + absl::AsciiStrToUpper(f->channel), &channel)) {
      UsageError("--channel must be email, sms, phone or post");
    }
    req.set_channel(channel);
    Run<v1::CampaignSuggestion>(
        client, exit_code,
        [&](v1::CampaignSuggestion& out) {
          return stub()->SuggestCampaign(client.Context().get(), req, &out);
        },
        [](const v1::CampaignSuggestion& c) {
          PrintRow("send by", TimeUtil::ToString(c.send_by()));
          PrintRow("targets", std::to_string(c.targets_size()));
          PrintRow("no consent", std::to_string(c.without_consent()));
          if (c.has_total_offer_value()) PrintRow("offers", money::Format(c.total_offer_value()));
          PrintRow("rule", c.rule());
          for (const auto& t : c.targets()) {
            std::cout << t.buyer().contact_id() << "  " << t.buyer().display_name() << "  "
                      << t.buyer().years() << " years, usually "
                      << money::Format(t.buyer().typical_spend()) << " -> offer "
                      << money::Format(t.offer_value()) << "\n";
          }
        });
  });

  CLI::App* recommend = app.add_subcommand("recommend", "what to offer a customer next");
  recommend->add_option("id", f->id, "contact id")->required();
  recommend->callback([&client, &exit_code, f, stub] {
    v1::GetRecommendationsRequest req;
    req.set_contact_id(f->id);
    Run<v1::GetRecommendationsResponse>(
        client, exit_code,
        [&](v1::GetRecommendationsResponse& out) {
          return stub()->GetRecommendations(client.Context().get(), req, &out);
        },
        [](const v1::GetRecommendationsResponse& out) {
          for (const auto& r : out.recommendations()) {
            std::cout << r.product_id() << "  " << r.product_name() << "  (" << r.reason() << ")\n";
          }
        });
  });

  CLI::App* report = app.add_subcommand("report", "sales, service and retention reports");
  report->require_subcommand(1);
  CLI::App* sales = report->add_subcommand("sales", "revenue, pipeline, win rate");
  sales->add_option("--from", f->from, "period start (RFC 3339)")->required();
  sales->add_option("--to", f->to, "period end (RFC 3339)")->required();
  sales->add_option("--currency", f->currency, "ISO 4217")->required();
  sales->callback([&client, &exit_code, f, stub] {
    v1::GetSalesReportRequest req;
    *req.mutable_period_start() = ParseTime("--from", f->from);
    *req.mutable_period_end() = ParseTime("--to", f->to);
    req.set_currency_code(f->currency);
    Run<v1::SalesReport>(
        client, exit_code,
        [&](v1::SalesReport& out) {
          return stub()->GetSalesReport(client.Context().get(), req, &out);
        },
        [](const v1::SalesReport& r) {
          PrintRow("revenue", money::Format(r.revenue()));
          for (const auto& m : r.revenue_by_month())
            PrintRow("  " + m.key(), money::Format(m.revenue()));
          for (const auto& p : r.revenue_by_product()) {
            PrintRow("  product", p.name() + "  " + money::Format(p.revenue()));
          }
          PrintRow("win rate", std::to_string(r.win_rate_bp() / 100) + " %");
          PrintRow("sales cycle",
                   std::to_string(r.average_sales_cycle_seconds() / 86400) + " days");
          std::cout << std::flush;
        });
  });
  CLI::App* retention = report->add_subcommand("retention", "monthly cohorts and churn");
  retention->add_option("--from", f->from, "first cohort month (RFC 3339)")->required();
  retention->callback([&client, &exit_code, f, stub] {
    v1::GetRetentionRequest req;
    *req.mutable_cohorts_from() = ParseTime("--from", f->from);
    Run<v1::GetRetentionResponse>(
        client, exit_code,
        [&](v1::GetRetentionResponse& out) {
          return stub()->GetRetention(client.Context().get(), req, &out);
        },
        [](const v1::GetRetentionResponse& r) {
          for (const auto& c : r.cohorts()) {
            std::cout << absl::StrFormat("%04d-%02d  %6d", c.year(), c.month(), c.customers());
            for (int32_t bp : c.retention_bp()) std::cout << absl::StrFormat(" %3d%%", bp / 100);
            std::cout << "\n";
          }
        });
  });
}

}  // namespace crm::ctl
