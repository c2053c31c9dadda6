// The sales service's catalog over gRPC: in the node and as crm-sales on the dev broker.
#include <gtest/gtest.h>

#include <set>

#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace sv1 = crm::sales::v1;

class SalesTest : public ::testing::Test {
 protected:
  void StartNode(std::vector<std::string> extra = {}) {
    node_ = testing::StartNode(dir_, std::move(extra));
    ASSERT_FALSE(node_.addr.empty());
    sales_ = sv1::SalesService::NewStub(node_.channel);
  }

  grpc::Status Create(const std::string& sku, const std::string& category, int64_t cents,
                      sv1::Product* out, const std::string& request_id = "") {
    sv1::CreateProductRequest req;
    req.mutable_product()->set_sku(sku);
    req.mutable_product()->set_name("Product " + sku);
    req.mutable_product()->set_category(category);
    req.mutable_product()->mutable_unit_price()->set_currency_code("EUR");
    req.mutable_product()->mutable_unit_price()->set_minor_units(cents);
    req.set_request_id(request_id);
    return sales_->CreateProduct(Ctx().get(), req, out);
  }

  TempDir dir_;
  Server node_;
  std::unique_ptr<sv1::SalesService::Stub> sales_;
};

TEST_F(SalesTest, CatalogCreateUpdateDeactivateListAndRebuild) {
  StartNode();
  sv1::Product a, b, c;
  ASSERT_TRUE(Create("a-1", "Tools", 1999, &a, "req-a").ok());
  EXPECT_EQ(a.sku(), "A-1");
  EXPECT_TRUE(a.active());
  sv1::Product again;
  ASSERT_TRUE(Create("a-1", "Tools", 1999, &again, "req-a").ok());  // Repeated request.
  EXPECT_EQ(again.id(), a.id());
  grpc::Status taken = Create("A-1", "Other", 5, &again);
  EXPECT_EQ(taken.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(taken.error_message().rfind("product.sku", 0), 0u);
  ASSERT_TRUE(Create("b-1", "tools", 500, &b).ok());
  ASSERT_TRUE(Create("c-1", "Garden", 700, &c).ok());

  sv1::UpdateProductRequest update;
  update.mutable_product()->set_id(b.id());
  update.mutable_product()->mutable_unit_price()->set_currency_code("EUR");
  update.mutable_product()->mutable_unit_price()->set_minor_units(650);
  update.mutable_update_mask()->add_paths("unit_price");
  ASSERT_TRUE(sales_->UpdateProduct(Ctx().get(), update, &b).ok());
  EXPECT_EQ(b.unit_price().minor_units(), 650);
  sv1::DeactivateProductRequest deactivate;
  deactivate.set_id(a.id());
  ASSERT_TRUE(sales_->DeactivateProduct(Ctx().get(), deactivate, &a).ok());
  EXPECT_FALSE(a.active());

  sv1::ListProductsRequest list;
  list.set_category("TOOLS");
  sv1::ListProductsResponse tools;
  ASSERT_TRUE(sales_->ListProducts(Ctx().get(), list, &tools).ok());
  ASSERT_EQ(tools.products_size(), 1);  // A-1 is deactivated.
  EXPECT_EQ(tools.products(0).sku(), "B-1");
  list.set_show_inactive(true);
  ASSERT_TRUE(sales_->ListProducts(Ctx().get(), list, &tools).ok());
  EXPECT_EQ(tools.products_size(), 2);

  crm::admin::v1::GetProjectionStatusResponse before, after;
  ASSERT_TRUE(ProjectionStatus(node_, &before, "sales").ok());
  ASSERT_EQ(node_.process->Stop(SIGTERM), 0);
  StartNode({"--rebuild"});
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "sales"));
  ASSERT_TRUE(ProjectionStatus(node_, &after, "sales").ok());
  EXPECT_EQ(after.checksum(), before.checksum());
}

TEST_F(SalesTest, DealsThroughThePipelineFollowingMerges) {
  StartNode();
  Contact ann, bob;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  ASSERT_TRUE(CreateContact(node_, "Bob", "Ray", "", &bob).ok());
  sv1::Product widget;
  ASSERT_TRUE(Create("w-1", "Tools", 2500, &widget).ok());
  auto deal_for = [&](const std::string& contact, const std::string& title, sv1::Deal* out) {
    sv1::CreateDealRequest req;
    req.mutable_deal()->set_title(title);
    req.mutable_deal()->set_contact_id(contact);
    req.mutable_deal()->set_owner("sam");
    auto* line = req.mutable_deal()->add_line_items();
    line->set_product_id(widget.id());
    line->set_quantity(4);
    *line->mutable_unit_price() = widget.unit_price();
    return sales_->CreateDeal(Ctx().get(), req, out);
  };
  sv1::Deal a, b;
  ASSERT_TRUE(deal_for(ann.id(), "Ann's widgets", &a).ok());
  EXPECT_EQ(a.amount().minor_units(), 10000);
  EXPECT_EQ(a.stage_id(), "qualification");
  ASSERT_TRUE(deal_for(bob.id(), "Bob's widgets", &b).ok());

  sv1::MoveDealStageRequest move;
  move.set_id(a.id());
  move.set_stage_id("proposal");
  ASSERT_TRUE(sales_->MoveDealStage(Ctx().get(), move, &a).ok());
  EXPECT_EQ(a.probability_bp(), 5000);
  sv1::WinDealRequest win;
  win.set_id(a.id());
  ASSERT_TRUE(sales_->WinDeal(Ctx().get(), win, &a).ok());
  EXPECT_EQ(a.status(), sv1::DEAL_STATUS_WON);
  EXPECT_EQ(a.stage_history_size(), 2);
  sv1::LoseDealRequest lose;
  lose.set_id(b.id());
  lose.set_reason("budget");
  ASSERT_TRUE(sales_->LoseDeal(Ctx().get(), lose, &b).ok());
  sv1::ReopenDealRequest reopen;
  reopen.set_id(b.id());
  ASSERT_TRUE(sales_->ReopenDeal(Ctx().get(), reopen, &b).ok());
  EXPECT_EQ(b.status(), sv1::DEAL_STATUS_OPEN);

  sv1::ListDealsRequest won;
  won.set_status(sv1::DEAL_STATUS_WON);
  sv1::ListDealsResponse listed;
  ASSERT_TRUE(sales_->ListDeals(Ctx().get(), won, &listed).ok());
  ASSERT_EQ(listed.deals_size(), 1);
  EXPECT_EQ(listed.deals(0).id(), a.id());

  // Merge Bob into Ann: Bob's deal shows under Ann.
  crm::contact::v1::MergeContactsRequest merge;
  merge.set_survivor_id(ann.id());
  merge.set_merged_id(bob.id());
  Contact survivor;
  ASSERT_TRUE(node_.contacts->MergeContacts(Ctx().get(), merge, &survivor).ok());
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "sales"));
  sv1::ListDealsRequest by_ann;
  by_ann.set_contact_id(ann.id());
  by_ann.set_page_size(1);
  std::set<std::string> seen;
  for (int pages = 0; pages < 5; ++pages) {
    ASSERT_TRUE(sales_->ListDeals(Ctx().get(), by_ann, &listed).ok());
    for (const auto& d : listed.deals()) seen.insert(d.id());
    if (listed.next_page_token().empty()) break;
    by_ann.set_page_token(listed.next_page_token());
  }
  EXPECT_EQ(seen, (std::set<std::string>{a.id(), b.id()}));
  // A merged contact takes no new deals; an unknown one is NOT_FOUND.
  EXPECT_EQ(deal_for(bob.id(), "late", &b).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(deal_for("01ARZ3NDEKTSV4RRFFQ69G5FAV", "ghost", &b).error_code(),
            grpc::StatusCode::NOT_FOUND);

  crm::admin::v1::GetProjectionStatusResponse before, after;
  ASSERT_TRUE(ProjectionStatus(node_, &before, "sales").ok());
  ASSERT_EQ(node_.process->Stop(SIGTERM), 0);
  StartNode({"--rebuild"});
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "sales"));
  ASSERT_TRUE(ProjectionStatus(node_, &after, "sales").ok());
  EXPECT_EQ(after.checksum(), before.checksum());

  sv1::GetForecastRequest forecast;
  forecast.mutable_period_start()->set_seconds(0);
  forecast.mutable_period_end()->set_seconds(4102444800);  // 2100: too long a period.
  forecast.set_currency_code("EUR");
  sv1::Forecast f;
  grpc::Status too_long = sales_->GetForecast(Ctx().get(), forecast, &f);
  EXPECT_EQ(too_long.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(too_long.error_message().rfind("period_end", 0), 0u);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  forecast.mutable_period_start()->set_seconds(now - 86400);
  forecast.mutable_period_end()->set_seconds(now + 86400);
  ASSERT_TRUE(sales_->GetForecast(Ctx().get(), forecast, &f).ok());
  EXPECT_EQ(f.closed_won().minor_units(), 10000);  // Ann's widgets, won today.
  EXPECT_GT(f.stage_win_rates_size(), 0);
  forecast.set_currency_code("EURO");
  EXPECT_EQ(sales_->GetForecast(Ctx().get(), forecast, &f).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  sv1::ListPipelinesRequest pipelines;
  sv1::ListPipelinesResponse pipes;
  ASSERT_TRUE(sales_->ListPipelines(Ctx().get(), pipelines, &pipes).ok());
  ASSERT_EQ(pipes.pipelines_size(), 1);
  EXPECT_EQ(pipes.pipelines(0).stages_size(), 4);
}

TEST_F(SalesTest, OrdersAndPurchaseHistoryFollowingMerges) {
  StartNode();
  Contact ann, bob;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  ASSERT_TRUE(CreateContact(node_, "Bob", "Ray", "", &bob).ok());
  auto place = [&](const std::string& contact, int64_t when, int64_t cents, sv1::Order* out) {
    sv1::PlaceOrderRequest req;
    req.mutable_order()->set_contact_id(contact);
    req.mutable_order()->mutable_order_time()->set_seconds(when);
    auto* line = req.mutable_order()->add_line_items();
    line->set_product_id("P");
    line->set_quantity(1);
    line->mutable_unit_price()->set_currency_code("EUR");
    line->mutable_unit_price()->set_minor_units(cents);
    return sales_->PlaceOrder(Ctx().get(), req, out);
  };
  sv1::Order o1, o2, o3;
  ASSERT_TRUE(place(ann.id(), 1000, 500, &o1).ok());
  ASSERT_TRUE(place(ann.id(), 3000, 700, &o2).ok());
  ASSERT_TRUE(place(bob.id(), 2000, 900, &o3).ok());
  EXPECT_EQ(o2.total().minor_units(), 700);

  sv1::PayOrderRequest pay;
  pay.set_id(o2.id());
  ASSERT_TRUE(sales_->PayOrder(Ctx().get(), pay, &o2).ok());
  sv1::FulfillOrderRequest fulfil;
  fulfil.set_id(o2.id());
  ASSERT_TRUE(sales_->FulfillOrder(Ctx().get(), fulfil, &o2).ok());
  sv1::RefundOrderRequest refund;
  refund.set_id(o2.id());
  refund.mutable_amount()->set_currency_code("EUR");
  refund.mutable_amount()->set_minor_units(200);
  ASSERT_TRUE(sales_->RefundOrder(Ctx().get(), refund, &o2).ok());
  EXPECT_EQ(o2.status(), sv1::ORDER_STATUS_PARTIALLY_REFUNDED);
  EXPECT_EQ(o2.net().minor_units(), 500);
  sv1::CancelOrderRequest cancel;
  cancel.set_id(o2.id());
  EXPECT_EQ(sales_->CancelOrder(Ctx().get(), cancel, &o2).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  crm::contact::v1::MergeContactsRequest merge;
  merge.set_survivor_id(ann.id());
  merge.set_merged_id(bob.id());
  Contact survivor;
  ASSERT_TRUE(node_.contacts->MergeContacts(Ctx().get(), merge, &survivor).ok());
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "sales"));
  sv1::ListOrdersRequest history;
  history.set_contact_id(ann.id());
  history.set_page_size(2);
  std::vector<std::string> ids;
  for (int pages = 0; pages < 5; ++pages) {
    sv1::ListOrdersResponse page;
    ASSERT_TRUE(sales_->ListOrders(Ctx().get(), history, &page).ok());
    for (const auto& o : page.orders()) ids.push_back(o.id());
    if (page.next_page_token().empty()) break;
    history.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{o2.id(), o3.id(), o1.id()}));  // Newest first.

  // Bad input for every order RPC.
  sv1::Order out;
  sv1::PlaceOrderRequest empty;
  empty.mutable_order()->set_contact_id(ann.id());
  empty.mutable_order()->mutable_order_time()->set_seconds(1);
  ExpectInvalid(sales_->PlaceOrder(Ctx().get(), empty, &out), "order.line_items");
  sv1::GetOrderRequest get;
  ExpectInvalid(sales_->GetOrder(Ctx().get(), get, &out), "id");
  pay.set_id("x");
  ExpectInvalid(sales_->PayOrder(Ctx().get(), pay, &out), "id");
  fulfil.set_expected_version(-1);
  ExpectInvalid(sales_->FulfillOrder(Ctx().get(), fulfil, &out), "expected_version");
  cancel.set_request_id("has space");
  ExpectInvalid(sales_->CancelOrder(Ctx().get(), cancel, &out), "request_id");
  refund.mutable_amount()->set_minor_units(0);
  ExpectInvalid(sales_->RefundOrder(Ctx().get(), refund, &out), "amount.minor_units");
  sv1::ListOrdersRequest no_contact;
  sv1::ListOrdersResponse listed;
  ExpectInvalid(sales_->ListOrders(Ctx().get(), no_contact, &listed), "contact_id");
  EXPECT_EQ(place("01ARZ3NDEKTSV4RRFFQ69G5FAV", 1, 1, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(SalesTest, BadInputForEveryDealRpc) {
  StartNode();
  sv1::Deal out;
  sv1::CreateDealRequest create;
  create.mutable_deal()->set_title("t");
  ExpectInvalid(sales_->CreateDeal(Ctx().get(), create, &out), "deal.contact_id");
  create.mutable_deal()->set_contact_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  ExpectInvalid(sales_->CreateDeal(Ctx().get(), create, &out), "deal.amount");
  sv1::GetDealRequest get;
  ExpectInvalid(sales_->GetDeal(Ctx().get(), get, &out), "id");
  sv1::UpdateDealRequest update;
  update.mutable_deal()->set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  update.mutable_update_mask()->add_paths("status");
  ExpectInvalid(sales_->UpdateDeal(Ctx().get(), update, &out), "update_mask");
  sv1::MoveDealStageRequest move;
  move.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  ExpectInvalid(sales_->MoveDealStage(Ctx().get(), move, &out), "stage_id");
  sv1::WinDealRequest win;
  win.set_id("x");
  ExpectInvalid(sales_->WinDeal(Ctx().get(), win, &out), "id");
  sv1::LoseDealRequest lose;
  lose.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  ExpectInvalid(sales_->LoseDeal(Ctx().get(), lose, &out), "reason");
  sv1::ReopenDealRequest reopen;
  reopen.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  reopen.set_expected_version(-1);
  ExpectInvalid(sales_->ReopenDeal(Ctx().get(), reopen, &out), "expected_version");
  sv1::ListDealsRequest list;
  list.set_status(static_cast<sv1::DealStatus>(9));
  sv1::ListDealsResponse listed;
  ExpectInvalid(sales_->ListDeals(Ctx().get(), list, &listed), "status");
  get.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(sales_->GetDeal(Ctx().get(), get, &out).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SalesTest, BadInputForEveryRpc) {
  StartNode();
  sv1::Product out;
  ExpectInvalid(Create("bad sku", "x", 1, &out), "product.sku");
  sv1::GetProductRequest get;
  get.set_id("x");
  ExpectInvalid(sales_->GetProduct(Ctx().get(), get, &out), "id");
  sv1::UpdateProductRequest update;
  update.mutable_product()->set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  ExpectInvalid(sales_->UpdateProduct(Ctx().get(), update, &out), "update_mask");
  sv1::DeactivateProductRequest deactivate;
  ExpectInvalid(sales_->DeactivateProduct(Ctx().get(), deactivate, &out), "id");
  sv1::ListProductsRequest list;
  list.set_page_size(-1);
  sv1::ListProductsResponse listed;
  ExpectInvalid(sales_->ListProducts(Ctx().get(), list, &listed), "page_size");
  get.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(sales_->GetProduct(Ctx().get(), get, &out).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SalesTest, PipelinesAsOfAndTimeInStage) {
  StartNode();
  sv1::CreatePipelineRequest create;
  create.set_request_id("lean-1");
  create.mutable_pipeline()->set_id("lean");
  create.mutable_pipeline()->set_name("Lean");
  for (const auto& [id, bp] : {std::pair{"pitch", 3000}, {"close", 9000}}) {
    auto* stage = create.mutable_pipeline()->add_stages();
    stage->set_id(id);
    stage->set_name(id);
    stage->set_probability_bp(bp);
  }
  sv1::Pipeline lean, again;
  ASSERT_TRUE(sales_->CreatePipeline(Ctx().get(), create, &lean).ok());
  EXPECT_EQ(lean.version(), 1);
  ASSERT_TRUE(sales_->CreatePipeline(Ctx().get(), create, &again).ok());  // Repeated request.
  EXPECT_EQ(again.version(), 1);
  create.set_request_id("lean-2");
  EXPECT_EQ(sales_->CreatePipeline(Ctx().get(), create, &again).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  create.mutable_pipeline()->set_id("default");
  EXPECT_EQ(sales_->CreatePipeline(Ctx().get(), create, &again).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  // A company's deal in the lean pipeline; unknown companies and contacts-as-companies refused.
  crm::contact::v1::CreateCompanyRequest company;
  company.mutable_company()->set_name("Acme");
  crm::contact::v1::Company acme;
  ASSERT_TRUE(node_.contacts->CreateCompany(Ctx().get(), company, &acme).ok());
  Contact ann;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "", &ann).ok());
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  auto deal_for = [&](const std::string& company_id, sv1::Deal* out) {
    sv1::CreateDealRequest req;
    req.mutable_deal()->set_title("Acme rollout");
    req.mutable_deal()->set_company_id(company_id);
    req.mutable_deal()->set_pipeline_id("lean");
    req.mutable_deal()->mutable_amount()->set_currency_code("EUR");
    req.mutable_deal()->mutable_amount()->set_minor_units(100000);
    req.mutable_deal()->mutable_expected_close_time()->set_seconds(now + 86400);
    return sales_->CreateDeal(Ctx().get(), req, out);
  };
  sv1::Deal deal, created;
  ASSERT_TRUE(deal_for(acme.id(), &created).ok());
  EXPECT_EQ(created.stage_id(), "pitch");
  EXPECT_EQ(created.probability_bp(), 3000);
  grpc::Status not_company = deal_for(ann.id(), &deal);
  EXPECT_EQ(not_company.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(not_company.error_message().rfind("deal.company_id", 0), 0u);
  EXPECT_EQ(deal_for("01ARZ3NDEKTSV4RRFFQ69G5FAV", &deal).error_code(),
            grpc::StatusCode::NOT_FOUND);

  sv1::MoveDealStageRequest move;
  move.set_id(created.id());
  move.set_stage_id("proposal");  // The default pipeline's, not this one's.
  EXPECT_EQ(sales_->MoveDealStage(Ctx().get(), move, &deal).error_code(),
            grpc::StatusCode::NOT_FOUND);
  move.set_stage_id("close");
  ASSERT_TRUE(sales_->MoveDealStage(Ctx().get(), move, &deal).ok());
  EXPECT_EQ(deal.probability_bp(), 9000);
  // Time in each stage: the first visit closed, the current one running to the read.
  ASSERT_EQ(deal.stage_history_size(), 2);
  const auto nanos = [](const auto& t) { return t.seconds() * 1000000000 + t.nanos(); };
  EXPECT_EQ(nanos(deal.stage_history(0).duration()),
            nanos(deal.stage_history(0).leave_time()) - nanos(deal.stage_history(0).enter_time()));
  EXPECT_TRUE(deal.stage_history(1).has_duration());

  // A stage holding an open deal cannot be removed; one without can.
  sv1::UpdatePipelineRequest update;
  update.mutable_pipeline()->set_id("lean");
  *update.mutable_pipeline()->add_stages() = lean.stages(0);
  update.mutable_update_mask()->add_paths("stages");
  sv1::Pipeline changed;
  grpc::Status in_use = sales_->UpdatePipeline(Ctx().get(), update, &changed);
  EXPECT_EQ(in_use.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(in_use.error_message().rfind("pipeline.stages", 0), 0u) << in_use.error_message();
  update.mutable_pipeline()->clear_stages();
  *update.mutable_pipeline()->add_stages() = lean.stages(1);
  ASSERT_TRUE(sales_->UpdatePipeline(Ctx().get(), update, &changed).ok());
  EXPECT_EQ(changed.version(), 2);
  ASSERT_EQ(changed.stages_size(), 1);
  // The built-in default changes like any pipeline; its first change is version 1.
  sv1::UpdatePipelineRequest rename;
  rename.mutable_pipeline()->set_id("default");
  rename.mutable_pipeline()->set_name("Direct sales");
  rename.mutable_update_mask()->add_paths("name");
  ASSERT_TRUE(sales_->UpdatePipeline(Ctx().get(), rename, &changed).ok());
  EXPECT_EQ(changed.version(), 1);
  EXPECT_EQ(changed.stages_size(), 4);
  sv1::ListPipelinesResponse pipes;
  ASSERT_TRUE(sales_->ListPipelines(Ctx().get(), sv1::ListPipelinesRequest(), &pipes).ok());
  ASSERT_EQ(pipes.pipelines_size(), 2);
  EXPECT_EQ(pipes.pipelines(0).name(), "Direct sales");
  EXPECT_EQ(pipes.pipelines(1).id(), "lean");

  // Win it; as of before the win, the deal and the forecast are as they stood then.
  sv1::WinDealRequest win;
  win.set_id(created.id());
  sv1::Deal won;
  ASSERT_TRUE(sales_->WinDeal(Ctx().get(), win, &won).ok());
  sv1::GetDealRequest get;
  get.set_id(created.id());
  *get.mutable_as_of() = created.update_time();
  ASSERT_TRUE(sales_->GetDeal(Ctx().get(), get, &deal).ok());
  EXPECT_EQ(deal.version(), 1);
  EXPECT_EQ(deal.stage_id(), "pitch");
  EXPECT_EQ(deal.status(), sv1::DEAL_STATUS_OPEN);
  get.mutable_as_of()->set_seconds(created.create_time().seconds() - 1);
  EXPECT_EQ(sales_->GetDeal(Ctx().get(), get, &deal).error_code(), grpc::StatusCode::NOT_FOUND);

  sv1::ListDealsRequest list_won;
  list_won.set_status(sv1::DEAL_STATUS_WON);
  sv1::ListDealsResponse listed;
  ASSERT_TRUE(sales_->ListDeals(Ctx().get(), list_won, &listed).ok());
  EXPECT_EQ(listed.deals_size(), 1);
  *list_won.mutable_as_of() = created.update_time();
  ASSERT_TRUE(sales_->ListDeals(Ctx().get(), list_won, &listed).ok());
  EXPECT_EQ(listed.deals_size(), 0);

  sv1::GetForecastRequest forecast;
  forecast.mutable_period_start()->set_seconds(now - 86400);
  forecast.mutable_period_end()->set_seconds(now + 10 * 86400);
  forecast.set_currency_code("EUR");
  forecast.set_pipeline_id("lean");
  sv1::Forecast today, then;
  ASSERT_TRUE(sales_->GetForecast(Ctx().get(), forecast, &today).ok());
  EXPECT_EQ(today.closed_won().minor_units(), 100000);
  EXPECT_EQ(today.open().minor_units(), 0);
  ASSERT_EQ(today.stage_win_rates_size(), 2);  // "close", then "pitch" (since removed).
  EXPECT_EQ(today.stage_win_rates(0).pipeline_id(), "lean");
  EXPECT_EQ(today.stage_win_rates(0).stage_id(), "close");
  EXPECT_EQ(today.stage_win_rates(0).win_rate_bp(), 10000);
  EXPECT_EQ(today.stage_win_rates(1).stage_id(), "pitch");
  *forecast.mutable_as_of() = created.update_time();
  ASSERT_TRUE(sales_->GetForecast(Ctx().get(), forecast, &then).ok());
  EXPECT_EQ(then.closed_won().minor_units(), 0);
  EXPECT_EQ(then.open().minor_units(), 100000);
  EXPECT_EQ(then.weighted().minor_units(), 30000);  // 30 % in "pitch" then.

  crm::admin::v1::GetProjectionStatusResponse before, after;
  ASSERT_TRUE(ProjectionStatus(node_, &before, "sales").ok());
  ASSERT_EQ(node_.process->Stop(SIGTERM), 0);
  StartNode({"--rebuild"});
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "sales"));
  ASSERT_TRUE(ProjectionStatus(node_, &after, "sales").ok());
  EXPECT_EQ(after.checksum(), before.checksum());
  ASSERT_TRUE(sales_->GetForecast(Ctx().get(), forecast, &today).ok());
  EXPECT_EQ(today.open().minor_units(), 100000);  // as_of survives the rebuild.
}

TEST_F(SalesTest, BadInputForEveryPipelineAndAsOfRpc) {
  StartNode();
  sv1::Pipeline out;
  sv1::CreatePipelineRequest create;
  create.mutable_pipeline()->set_id("Big Deals");
  ExpectInvalid(sales_->CreatePipeline(Ctx().get(), create, &out), "pipeline.id");
  create.mutable_pipeline()->set_id("big");
  create.mutable_pipeline()->set_name("Big");
  ExpectInvalid(sales_->CreatePipeline(Ctx().get(), create, &out), "pipeline.stages");
  for (int i = 0; i < 2; ++i) {
    auto* stage = create.mutable_pipeline()->add_stages();
    stage->set_id("same");
    stage->set_name("Same");
  }
  ExpectInvalid(sales_->CreatePipeline(Ctx().get(), create, &out), "pipeline.stages[1].id");
  create.mutable_pipeline()->mutable_stages(1)->set_id("other");
  create.mutable_pipeline()->mutable_stages(1)->set_probability_bp(10001);
  ExpectInvalid(sales_->CreatePipeline(Ctx().get(), create, &out),
                "pipeline.stages[1].probability_bp");
  create.mutable_pipeline()->mutable_stages(1)->set_probability_bp(0);
  create.mutable_pipeline()->mutable_stages(1)->set_name("");
  ExpectInvalid(sales_->CreatePipeline(Ctx().get(), create, &out), "pipeline.stages[1].name");
  sv1::GetPipelineRequest get;
  ExpectInvalid(sales_->GetPipeline(Ctx().get(), get, &out), "id");
  get.set_id("big");  // Nothing was written by the refusals above.
  EXPECT_EQ(sales_->GetPipeline(Ctx().get(), get, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  sv1::UpdatePipelineRequest update;
  update.mutable_pipeline()->set_id("default");
  update.mutable_update_mask()->add_paths("stage");
  ExpectInvalid(sales_->UpdatePipeline(Ctx().get(), update, &out), "update_mask");
  update.mutable_update_mask()->set_paths(0, "stages");
  ExpectInvalid(sales_->UpdatePipeline(Ctx().get(), update, &out), "pipeline.stages");
  update.mutable_pipeline()->set_id("nowhere");
  update.mutable_update_mask()->set_paths(0, "name");
  update.mutable_pipeline()->set_name("N");
  EXPECT_EQ(sales_->UpdatePipeline(Ctx().get(), update, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);

  const int64_t tomorrow = absl::ToUnixSeconds(absl::Now()) + 86400;
  sv1::Deal deal;
  sv1::GetDealRequest get_deal;
  get_deal.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  get_deal.mutable_as_of()->set_seconds(tomorrow);
  ExpectInvalid(sales_->GetDeal(Ctx().get(), get_deal, &deal), "as_of");
  sv1::ListDealsRequest list;
  list.mutable_as_of()->set_nanos(-1);
  sv1::ListDealsResponse listed;
  ExpectInvalid(sales_->ListDeals(Ctx().get(), list, &listed), "as_of");
  sv1::GetForecastRequest forecast;
  forecast.mutable_period_start()->set_seconds(0);
  forecast.mutable_period_end()->set_seconds(86400);
  forecast.set_currency_code("EUR");
  forecast.mutable_as_of()->set_seconds(tomorrow);
  sv1::Forecast f;
  ExpectInvalid(sales_->GetForecast(Ctx().get(), forecast, &f), "as_of");
  forecast.clear_as_of();
  forecast.set_pipeline_id("nowhere");
  EXPECT_EQ(sales_->GetForecast(Ctx().get(), forecast, &f).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(SalesTest, SeparateProcessesOnTheDevBrokerFollowMergesAndRestarts) {
  const DevBroker broker = StartDevBroker(dir_.path());
  const std::string& brokers = broker.brokers;
  ASSERT_FALSE(brokers.empty());
  auto args = [&](const std::string& data, std::vector<std::string> extra = {}) {
    return KafkaServiceArgs(dir_.Sub(data), brokers, std::move(extra));
  };
  Server contacts = StartServer("crm-contact", args("c"), dir_.path());
  ASSERT_FALSE(contacts.addr.empty());
  auto start_sales = [&](std::vector<std::string> extra = {}) {
    node_ = StartServer("crm-sales", args("s", extra), dir_.path());
    sales_ = sv1::SalesService::NewStub(node_.channel);
  };
  start_sales();
  ASSERT_FALSE(node_.addr.empty());

  Contact ann, bob;
  ASSERT_TRUE(CreateContact(contacts, "Ann", "Lee", "", &ann).ok());
  ASSERT_TRUE(CreateContact(contacts, "Bob", "Ray", "", &bob).ok());
  sv1::Product p;
  ASSERT_TRUE(Create("k-1", "Kafka", 100, &p).ok());
  // Placed right away on the other process: crm-sales waits for its directory to learn of Bob.
  auto place = [&](const std::string& contact, int64_t when, sv1::Order* out) {
    sv1::PlaceOrderRequest req;
    req.mutable_order()->set_contact_id(contact);
    req.mutable_order()->mutable_order_time()->set_seconds(when);
    auto* line = req.mutable_order()->add_line_items();
    line->set_product_id(p.id());
    line->set_quantity(2);
    *line->mutable_unit_price() = p.unit_price();
    return sales_->PlaceOrder(Ctx().get(), req, out);
  };
  sv1::Order from_ann, from_bob;
  grpc::Status placed = place(bob.id(), 2000, &from_bob);
  ASSERT_TRUE(placed.ok()) << placed.error_message();
  ASSERT_TRUE(place(ann.id(), 1000, &from_ann).ok());
  EXPECT_EQ(from_bob.total().minor_units(), 200);
  // Bob's deal through the pipeline.
  sv1::CreateDealRequest create_deal;
  create_deal.mutable_deal()->set_title("Bob's renewal");
  create_deal.mutable_deal()->set_contact_id(bob.id());
  create_deal.mutable_deal()->mutable_amount()->set_currency_code("EUR");
  create_deal.mutable_deal()->mutable_amount()->set_minor_units(5000);
  sv1::Deal deal;
  ASSERT_TRUE(sales_->CreateDeal(Ctx().get(), create_deal, &deal).ok());
  sv1::MoveDealStageRequest move;
  move.set_id(deal.id());
  move.set_stage_id("negotiation");
  ASSERT_TRUE(sales_->MoveDealStage(Ctx().get(), move, &deal).ok());
  sv1::WinDealRequest win;
  win.set_id(deal.id());
  ASSERT_TRUE(sales_->WinDeal(Ctx().get(), win, &deal).ok());
  EXPECT_EQ(deal.status(), sv1::DEAL_STATUS_WON);

  // Merged in crm-contact; crm-sales follows from the log.
  crm::contact::v1::MergeContactsRequest merge;
  merge.set_survivor_id(ann.id());
  merge.set_merged_id(bob.id());
  Contact survivor;
  ASSERT_TRUE(contacts.contacts->MergeContacts(Ctx().get(), merge, &survivor).ok());
  auto history = [&] {
    sv1::ListOrdersRequest req;
    req.set_contact_id(ann.id());
    sv1::ListOrdersResponse page;
    std::vector<std::string> ids;
    if (!sales_->ListOrders(Ctx().get(), req, &page).ok()) return ids;
    for (const auto& o : page.orders()) ids.push_back(o.id());
    return ids;
  };
  const std::vector<std::string> expected = {from_bob.id(), from_ann.id()};
  ASSERT_TRUE(WaitFor([&] { return history() == expected; }, absl::Seconds(20)));
  sv1::ListDealsRequest anns_deals;
  anns_deals.set_contact_id(ann.id());
  sv1::ListDealsResponse listed;
  ASSERT_TRUE(sales_->ListDeals(Ctx().get(), anns_deals, &listed).ok());
  ASSERT_EQ(listed.deals_size(), 1);
  EXPECT_EQ(listed.deals(0).id(), deal.id());
  EXPECT_EQ(place(bob.id(), 3000, &from_bob).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // Killed without warning, restarted: everything acknowledged is there; a rebuild from the
  // log gives the same state.
  crm::admin::v1::GetProjectionStatusResponse before, after;
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "sales"));
  ASSERT_TRUE(ProjectionStatus(node_, &before, "sales").ok());
  node_.process->Stop(SIGKILL);
  start_sales();
  ASSERT_FALSE(node_.addr.empty());
  EXPECT_EQ(history(), expected);
  ASSERT_EQ(node_.process->Stop(SIGTERM), 0);
  start_sales({"--rebuild"});
  ASSERT_FALSE(node_.addr.empty());
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "sales"));
  ASSERT_TRUE(ProjectionStatus(node_, &after, "sales").ok());
  EXPECT_EQ(after.checksum(), before.checksum());
  EXPECT_EQ(history(), expected);
  sv1::GetDealRequest get_deal;
  get_deal.set_id(deal.id());
  ASSERT_TRUE(sales_->GetDeal(Ctx().get(), get_deal, &deal).ok());
  EXPECT_EQ(deal.stage_history_size(), 2);
}

}  // namespace
}  // namespace crm::testing
