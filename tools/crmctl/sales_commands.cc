// crmctl product | deal | order ...: the sales catalog, deals and orders.
#include <iomanip>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/money/money.h"
#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::sales::v1;

// "EUR 19.99" (as many decimals as the currency has) or "EUR 1999" (minor units) -> Money.
crm::common::v1::Money ParsePrice(const std::string& s) {
  std::vector<std::string> parts = absl::StrSplit(s, ' ', absl::SkipEmpty());
  crm::common::v1::Money m;
  if (parts.size() != 2) UsageError("a price must be CURRENCY AMOUNT, e.g. \"EUR 19.99\"");
  m.set_currency_code(parts[0]);
  absl::StatusOr<int> digits = money::MinorDigits("currency", parts[0]);
  if (!digits.ok()) UsageError(std::string(digits.status().message()));
  std::vector<std::string> num = absl::StrSplit(parts[1], '.');
  int64_t whole = 0;
  int64_t frac = 0;
  if (num.empty() || num.size() > 2 || !absl::SimpleAtoi(num[0], &whole) ||
      (num.size() == 2 &&
       (static_cast<int>(num[1].size()) != *digits || !absl::SimpleAtoi(num[1], &frac)))) {
    UsageError(absl::StrCat("the amount of a ", parts[0], " price must have ", *digits,
                            " decimals (e.g. 19.99) or be whole minor units (e.g. 1999)"));
  }
  int64_t scale = 1;
  for (int i = 0; i < *digits; ++i) scale *= 10;
  m.set_minor_units(num.size() == 2 ? whole * scale + frac : whole);
  return m;
}

std::string Price(const crm::common::v1::Money& m) { return money::Format(m); }

void PrintProduct(const v1::Product& p) {
  PrintRow("id", p.id());
  PrintRow("sku", p.sku());
  PrintRow("name", p.name());
  PrintRow("category", p.category());
  PrintRow("price", Price(p.unit_price()));
  PrintRow("active", p.active() ? "yes" : "no");
  PrintRow("version", std::to_string(p.version()));
  std::cout << std::flush;
}

void PrintDeal(const v1::Deal& d) {
  PrintRow("id", d.id());
  PrintRow("title", d.title());
  PrintRow("contact", d.contact_id());
  PrintRow("company", d.company_id());
  PrintRow("owner", d.owner());
  PrintRow("amount", Price(d.amount()));
  PrintRow("pipeline", d.pipeline_id());
  PrintRow("stage", d.stage_id());
  PrintRow("probability", std::to_string(d.probability_bp() / 100) + " %");
  if (d.has_expected_close_time()) {
    PrintRow("closes", google::protobuf::util::TimeUtil::ToString(d.expected_close_time()));
  }
  PrintRow("status", absl::AsciiStrToLower(v1::DealStatus_Name(d.status()).substr(12)));
  PrintRow("lost reason", d.lost_reason());
  for (const auto& visit : d.stage_history()) {
    // Whole hours in the stage (durations are exact in --json).
    PrintRow("in " + visit.stage_id(),
             std::to_string(visit.duration().seconds() / 3600) + " h since " +
                 google::protobuf::util::TimeUtil::ToString(visit.enter_time()));
  }
  PrintRow("version", std::to_string(d.version()));
  std::cout << std::flush;
}

void PrintOrder(const v1::Order& o) {
  PrintRow("id", o.id());
  PrintRow("contact", o.contact_id());
  PrintRow("status", absl::AsciiStrToLower(v1::OrderStatus_Name(o.status()).substr(13)));
  PrintRow("total", Price(o.total()));
  PrintRow("refunded", Price(o.refunded()));
  PrintRow("net", Price(o.net()));
  PrintRow("lines", std::to_string(o.line_items_size()));
  PrintRow("version", std::to_string(o.version()));
  std::cout << std::flush;
}

// PRODUCT_ID:QUANTITY:"CURRENCY AMOUNT" -> a line item.
v1::LineItem ParseLine(const std::string& spec) {
  std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(':', 2));
  int64_t qty = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &qty)) {
    UsageError("--line must be PRODUCT_ID:QUANTITY:\"CURRENCY AMOUNT\"");
  }
  v1::LineItem line;
  line.set_product_id(parts[0]);
  line.set_quantity(qty);
  *line.mutable_unit_price() = ParsePrice(parts[2]);
  return line;
}

}  // namespace

void RegisterSalesCommands(CLI::App& app, Client& client, int& exit_code) {
  CLI::App* product = app.add_subcommand("product", "the product catalog");
  product->require_subcommand(1);
  auto stub = [&client]() { return v1::SalesService::NewStub(client.channel()); };

  struct Flags {
    std::string sku, name, category, price, request_id, id;
  };
  auto cf = std::make_shared<Flags>();
  CLI::App* create = product->add_subcommand("create", "add a product");
  create->add_option("--sku", cf->sku, "stock-keeping unit")->required();
  create->add_option("--name", cf->name, "name")->required();
  create->add_option("--category", cf->category, "category");
  create->add_option("--price", cf->price, "unit price, e.g. \"EUR 19.99\"")->required();
  create->add_option("--request-id", cf->request_id, "idempotency key");
  create->callback([&client, &exit_code, cf, stub] {
    v1::CreateProductRequest req;
    req.mutable_product()->set_sku(cf->sku);
    req.mutable_product()->set_name(cf->name);
    req.mutable_product()->set_category(cf->category);
    *req.mutable_product()->mutable_unit_price() = ParsePrice(cf->price);
    req.set_request_id(cf->request_id);
    Run<v1::Product>(
        client, exit_code,
        [&](v1::Product& out) { return stub()->CreateProduct(client.Context().get(), req, &out); },
        PrintProduct);
  });

  auto uf = std::make_shared<Flags>();
  CLI::App* update = product->add_subcommand("update", "change name, category or price");
  update->add_option("id", uf->id, "product id")->required();
  update->add_option("--name", uf->name, "name");
  update->add_option("--category", uf->category, "category");
  update->add_option("--price", uf->price, "unit price");
  update->callback([&client, &exit_code, uf, update, stub] {
    v1::UpdateProductRequest req;
    req.mutable_product()->set_id(uf->id);
    if (update->count("--name") > 0) {
      req.mutable_product()->set_name(uf->name);
      req.mutable_update_mask()->add_paths("name");
    }
    if (update->count("--category") > 0) {
      req.mutable_product()->set_category(uf->category);
      req.mutable_update_mask()->add_paths("category");
    }
    if (update->count("--price") > 0) {
      *req.mutable_product()->mutable_unit_price() = ParsePrice(uf->price);
      req.mutable_update_mask()->add_paths("unit_price");
    }
    Run<v1::Product>(
        client, exit_code,
        [&](v1::Product& out) { return stub()->UpdateProduct(client.Context().get(), req, &out); },
        PrintProduct);
  });

  auto id = std::make_shared<std::string>();
  for (const std::string verb : {"get", "deactivate"}) {
    CLI::App* cmd = product->add_subcommand(verb, verb + " a product");
    cmd->add_option("id", *id, "product id")->required();
    cmd->callback([&client, &exit_code, id, verb, stub] {
      Run<v1::Product>(
          client, exit_code,
          [&](v1::Product& out) {
            if (verb == "get") {
              v1::GetProductRequest r;
              r.set_id(*id);
              return stub()->GetProduct(client.Context().get(), r, &out);
            }
            v1::DeactivateProductRequest r;
            r.set_id(*id);
            return stub()->DeactivateProduct(client.Context().get(), r, &out);
          },
          PrintProduct);
    });
  }

  CLI::App* deal = app.add_subcommand("deal", "deals in the pipeline");
  deal->require_subcommand(1);
  struct DealFlags {
    std::string title, contact, company, owner, amount, source, pipeline, stage, close, request_id;
    std::vector<std::string> lines;
  };
  auto df = std::make_shared<DealFlags>();
  CLI::App* d_create = deal->add_subcommand("create", "create a deal");
  d_create->add_option("--title", df->title, "title")->required();
  d_create->add_option("--contact", df->contact, "contact id");
  d_create->add_option("--company", df->company, "company id");
  d_create->add_option("--owner", df->owner, "salesperson");
  d_create->add_option("--amount", df->amount, "amount without line items, e.g. \"EUR 5000.00\"");
  d_create->add_option("--line", df->lines,
                       "PRODUCT_ID:QUANTITY:\"CURRENCY AMOUNT\" (repeatable), e.g. "
                       "01J...:3:\"EUR 19.99\"");
  d_create->add_option("--pipeline", df->pipeline, "pipeline id (default: \"default\")");
  d_create->add_option("--stage", df->stage, "first stage (default: the pipeline's first)");
  d_create->add_option("--close", df->close, "expected close time (RFC 3339)");
  d_create->add_option("--source", df->source, "where it came from");
  d_create->add_option("--request-id", df->request_id, "idempotency key");
  d_create->callback([&client, &exit_code, df, stub] {
    v1::CreateDealRequest req;
    auto* d = req.mutable_deal();
    d->set_title(df->title);
    d->set_contact_id(df->contact);
    d->set_company_id(df->company);
    d->set_owner(df->owner);
    if (!df->amount.empty()) *d->mutable_amount() = ParsePrice(df->amount);
    for (const auto& spec : df->lines) *d->add_line_items() = ParseLine(spec);
    d->set_pipeline_id(df->pipeline);
    d->set_stage_id(df->stage);
    d->set_source(df->source);
    if (!df->close.empty()) *d->mutable_expected_close_time() = ParseTime("--close", df->close);
    req.set_request_id(df->request_id);
    Run<v1::Deal>(
        client, exit_code,
        [&](v1::Deal& out) { return stub()->CreateDeal(client.Context().get(), req, &out); },
        PrintDeal);
  });

  struct DealChange {
    std::string id, stage, reason, as_of;
  };
  auto dc = std::make_shared<DealChange>();
  for (const std::string verb : {"get", "move", "win", "lose", "reopen"}) {
    CLI::App* cmd = deal->add_subcommand(verb, verb + " a deal");
    cmd->add_option("id", dc->id, "deal id")->required();
    if (verb == "move") cmd->add_option("stage", dc->stage, "stage id")->required();
    if (verb == "reopen") cmd->add_option("--stage", dc->stage, "stage id (default: first)");
    if (verb == "lose") cmd->add_option("--reason", dc->reason, "why")->required();
    if (verb == "get") cmd->add_option("--as-of", dc->as_of, "as it stood then (RFC 3339)");
    cmd->callback([&client, &exit_code, dc, verb, stub] {
      Run<v1::Deal>(
          client, exit_code,
          [&](v1::Deal& out) {
            auto ctx = client.Context();
            if (verb == "get") {
              v1::GetDealRequest r;
              r.set_id(dc->id);
              if (!dc->as_of.empty()) *r.mutable_as_of() = ParseTime("--as-of", dc->as_of);
              return stub()->GetDeal(ctx.get(), r, &out);
            }
            if (verb == "move") {
              v1::MoveDealStageRequest r;
              r.set_id(dc->id);
              r.set_stage_id(dc->stage);
              return stub()->MoveDealStage(ctx.get(), r, &out);
            }
            if (verb == "win") {
              v1::WinDealRequest r;
              r.set_id(dc->id);
              return stub()->WinDeal(ctx.get(), r, &out);
            }
            if (verb == "lose") {
              v1::LoseDealRequest r;
              r.set_id(dc->id);
              r.set_reason(dc->reason);
              return stub()->LoseDeal(ctx.get(), r, &out);
            }
            v1::ReopenDealRequest r;
            r.set_id(dc->id);
            r.set_stage_id(dc->stage);
            return stub()->ReopenDeal(ctx.get(), r, &out);
          },
          PrintDeal);
    });
  }

  auto dl = std::make_shared<v1::ListDealsRequest>();
  auto dl_status = std::make_shared<std::string>();
  auto dl_as_of = std::make_shared<std::string>();
  CLI::App* d_list = deal->add_subcommand("list", "list deals");
  d_list->add_option("--contact", *dl->mutable_contact_id(), "only this contact's (with merged)");
  d_list->add_option("--owner", *dl->mutable_owner(), "only this owner's");
  d_list->add_option("--stage", *dl->mutable_stage_id(), "only this stage");
  d_list->add_option("--status", *dl_status, "open, won or lost");
  d_list->add_option("--pipeline", *dl->mutable_pipeline_id(), "only this pipeline's");
  d_list->add_option("--as-of", *dl_as_of, "the deals as they stood then (RFC 3339)");
  d_list->add_option("--page-token", *dl->mutable_page_token(), "continue");
  d_list->callback([&client, &exit_code, dl, dl_status, dl_as_of, stub] {
    if (!dl_as_of->empty()) *dl->mutable_as_of() = ParseTime("--as-of", *dl_as_of);
    if (!dl_status->empty()) {
      v1::DealStatus status;
      if (!v1::DealStatus_Parse("DEAL_STATUS_" + absl::AsciiStrToUpper(*dl_status), &status) ||
          status == v1::DEAL_STATUS_UNSPECIFIED) {
        UsageError("--status must be open, won or lost");
      }
      dl->set_status(status);
    }
    Run<v1::ListDealsResponse>(
        client, exit_code,
        [&](v1::ListDealsResponse& out) {
          return stub()->ListDeals(client.Context().get(), *dl, &out);
        },
        [](const v1::ListDealsResponse& out) {
          for (const auto& d : out.deals()) {
            std::cout << std::left << std::setw(28) << d.id() << std::setw(15) << d.stage_id()
                      << std::setw(8)
                      << absl::AsciiStrToLower(v1::DealStatus_Name(d.status()).substr(12))
                      << std::setw(32) << Price(d.amount()) << d.title() << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });

  CLI::App* order = app.add_subcommand("order", "orders (purchases)");
  order->require_subcommand(1);
  struct OrderFlags {
    std::string contact, at, amount, id, request_id;
    std::vector<std::string> lines;
  };
  auto of = std::make_shared<OrderFlags>();
  CLI::App* o_place = order->add_subcommand("place", "record a purchase");
  o_place->add_option("--contact", of->contact, "buyer")->required();
  o_place->add_option("--line", of->lines, "PRODUCT_ID:QUANTITY:\"CURRENCY AMOUNT\" (repeatable)")
      ->required();
  o_place->add_option("--at", of->at, "order time (RFC 3339; default now)");
  o_place->add_option("--request-id", of->request_id, "idempotency key");
  o_place->callback([&client, &exit_code, of, stub] {
    v1::PlaceOrderRequest req;
    req.mutable_order()->set_contact_id(of->contact);
    for (const auto& spec : of->lines) *req.mutable_order()->add_line_items() = ParseLine(spec);
    if (of->at.empty()) {
      req.mutable_order()->mutable_order_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
    } else {
      *req.mutable_order()->mutable_order_time() = ParseTime("--at", of->at);
    }
    req.set_request_id(of->request_id);
    Run<v1::Order>(
        client, exit_code,
        [&](v1::Order& out) { return stub()->PlaceOrder(client.Context().get(), req, &out); },
        PrintOrder);
  });
  for (const std::string verb : {"get", "pay", "fulfill", "cancel", "refund"}) {
    CLI::App* cmd = order->add_subcommand(verb, verb + " an order");
    cmd->add_option("id", of->id, "order id")->required();
    if (verb == "refund") cmd->add_option("--amount", of->amount, "e.g. \"EUR 5.00\"")->required();
    cmd->callback([&client, &exit_code, of, verb, stub] {
      Run<v1::Order>(
          client, exit_code,
          [&](v1::Order& out) {
            auto ctx = client.Context();
            if (verb == "get") {
              v1::GetOrderRequest r;
              r.set_id(of->id);
              return stub()->GetOrder(ctx.get(), r, &out);
            }
            if (verb == "pay") {
              v1::PayOrderRequest r;
              r.set_id(of->id);
              return stub()->PayOrder(ctx.get(), r, &out);
            }
            if (verb == "fulfill") {
              v1::FulfillOrderRequest r;
              r.set_id(of->id);
              return stub()->FulfillOrder(ctx.get(), r, &out);
            }
            if (verb == "cancel") {
              v1::CancelOrderRequest r;
              r.set_id(of->id);
              return stub()->CancelOrder(ctx.get(), r, &out);
            }
            v1::RefundOrderRequest r;
            r.set_id(of->id);
            *r.mutable_amount() = ParsePrice(of->amount);
            return stub()->RefundOrder(ctx.get(), r, &out);
          },
          PrintOrder);
    });
  }
  auto ol = std::make_shared<v1::ListOrdersRequest>();
  CLI::App* o_list = order->add_subcommand("list", "a contact's purchase history, newest first");
  o_list->add_option("contact", *ol->mutable_contact_id(), "contact id")->required();
  o_list->add_option("--page-token", *ol->mutable_page_token(), "continue");
  o_list->callback([&client, &exit_code, ol, stub] {
    Run<v1::ListOrdersResponse>(
        client, exit_code,
        [&](v1::ListOrdersResponse& out) {
          return stub()->ListOrders(client.Context().get(), *ol, &out);
        },
        [](const v1::ListOrdersResponse& out) {
          for (const auto& o : out.orders()) {
            std::cout << std::left << std::setw(28) << o.id() << std::setw(20)
                      << absl::AsciiStrToLower(v1::OrderStatus_Name(o.status()).substr(13))
                      << Price(o.net()) << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });

  auto list = std::make_shared<v1::ListProductsRequest>();
  CLI::App* l = product->add_subcommand("list", "list products");
  l->add_option("--category", *list->mutable_category(), "only this category");
  l->add_option("--page-token", *list->mutable_page_token(), "continue");
  l->callback([&client, &exit_code, list, stub] {
    Run<v1::ListProductsResponse>(
        client, exit_code,
        [&](v1::ListProductsResponse& out) {
          return stub()->ListProducts(client.Context().get(), *list, &out);
        },
        [](const v1::ListProductsResponse& out) {
          for (const auto& p : out.products()) {
            std::cout << std::left << std::setw(28) << p.id() << std::setw(16) << p.sku()
                      << std::setw(30) << p.name() << Price(p.unit_price()) << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });
}

}  // namespace crm::ctl
