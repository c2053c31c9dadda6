// crmctl product ...: the sales catalog.
#include <iomanip>
#include <iostream>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::sales::v1;

// "EUR 19.99" or "EUR 1999" (minor units when there is no point) -> Money.
crm::common::v1::Money ParsePrice(const std::string& s) {
  std::vector<std::string> parts = absl::StrSplit(s, ' ', absl::SkipEmpty());
  crm::common::v1::Money m;
  if (parts.size() != 2) UsageError("--price must be CURRENCY AMOUNT, e.g. \"EUR 19.99\"");
  m.set_currency_code(parts[0]);
  std::vector<std::string> num = absl::StrSplit(parts[1], '.');
  int64_t whole = 0;
  int64_t frac = 0;
  if (num.empty() || num.size() > 2 || !absl::SimpleAtoi(num[0], &whole) ||
      (num.size() == 2 && (num[1].size() != 2 || !absl::SimpleAtoi(num[1], &frac)))) {
    UsageError("--price amount must look like 19.99 (two decimals) or 1999 (minor units)");
  }
  m.set_minor_units(num.size() == 2 ? whole * 100 + frac : whole);
  return m;
}

std::string Price(const crm::common::v1::Money& m) {
  return m.currency_code() + " " + std::to_string(m.minor_units()) + " (minor units)";
}

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
