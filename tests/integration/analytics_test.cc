// The analytics service over gRPC: an order placed through the sales service shows in the
// customer's 360 and metrics, in the node and as separate processes on the dev broker; merges,
// model fits, restart and rebuild; bad input for every RPC.
#include <gtest/gtest.h>

#include <csignal>

#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace av1 = crm::analytics::v1;
namespace iv1 = crm::interaction::v1;
namespace sv1 = crm::sales::v1;

constexpr int64_t kJan2026 = 1767225600;

class AnalyticsTest : public ::testing::Test {
 protected:
  void StartNode(std::vector<std::string> extra = {}) {
    node_ = testing::StartNode(dir_, std::move(extra));
    ASSERT_FALSE(node_.addr.empty());
    sales_ = sv1::SalesService::NewStub(node_.channel);
    analytics_ = av1::AnalyticsService::NewStub(node_.channel);
  }

  static grpc::Status Place(sv1::SalesService::Stub& sales, const std::string& contact,
                            int64_t seconds, int64_t cents, sv1::Order* out) {
    sv1::PlaceOrderRequest req;
    req.mutable_order()->set_contact_id(contact);
    req.mutable_order()->mutable_order_time()->set_seconds(seconds);
    auto* line = req.mutable_order()->add_line_items();
    line->set_product_id("P");
    line->set_quantity(1);
    line->mutable_unit_price()->set_currency_code("EUR");
    line->mutable_unit_price()->set_minor_units(cents);
    return sales.PlaceOrder(Ctx().get(), req, out);
  }

  // The customer's EUR metrics at 2026-07-01, once they show `orders` orders.
  static av1::CustomerMetrics MetricsOnce(av1::AnalyticsService::Stub& analytics,
                                          const std::string& contact, int orders) {
    av1::GetCustomerMetricsRequest req;
    req.set_contact_id(contact);
    req.mutable_as_of()->set_seconds(kJan2026 + 181 * 86400);
    req.set_currency_code("EUR");
    av1::CustomerMetrics m;
    EXPECT_TRUE(WaitFor([&] {
      return analytics.GetCustomerMetrics(Ctx().get(), req, &m).ok() && m.order_count() == orders;
    })) << m.DebugString();
    return m;
  }

  TempDir dir_;
  Server node_;
  std::unique_ptr<sv1::SalesService::Stub> sales_;
  std::unique_ptr<av1::AnalyticsService::Stub> analytics_;
};

TEST_F(AnalyticsTest, OrdersShowInThe360AndMetricsAcrossMergesFitsAndRebuild) {
  StartNode();
  Contact ann, bob;
  ASSERT_TRUE(CreateContact(node_, "Ann", "Lee", "ann@example.com", &ann).ok());
  ASSERT_TRUE(CreateContact(node_, "Bob", "Ray", "", &bob).ok());
  sv1::Order o1, o2, o3;
  ASSERT_TRUE(Place(*sales_, ann.id(), kJan2026, 1000, &o1).ok());
  ASSERT_TRUE(Place(*sales_, ann.id(), kJan2026 + 30 * 86400, 3000, &o2).ok());
  ASSERT_TRUE(Place(*sales_, bob.id(), kJan2026 + 10 * 86400, 500, &o3).ok());
  iv1::LogInteractionRequest call;
  call.mutable_interaction()->add_contact_ids(ann.id());
  call.mutable_interaction()->mutable_occurred_at()->set_seconds(kJan2026 + 40 * 86400);
  call.mutable_interaction()->set_channel(iv1::CHANNEL_CALL);
  call.mutable_interaction()->set_direction(iv1::DIRECTION_INBOUND);
  call.mutable_interaction()->set_subject("Where is my parcel");
  iv1::Interaction logged;
  ASSERT_TRUE(node_.interactions->LogInteraction(Ctx().get(), call, &logged).ok());
  iv1::OpenCaseRequest open;
  open.mutable_case_()->set_contact_id(ann.id());
  open.mutable_case_()->set_subject("Parcel lost");
  iv1::Case opened;
  ASSERT_TRUE(node_.interactions->OpenCase(Ctx().get(), open, &opened).ok());

  av1::CustomerMetrics m = MetricsOnce(*analytics_, ann.id(), 2);
  EXPECT_EQ(m.lifetime_revenue().minor_units(), 4000);
  EXPECT_EQ(m.average_order_value().minor_units(), 2000);
  EXPECT_EQ(m.typical_interval_seconds(), 30 * 86400);
  EXPECT_EQ(m.rfm().customers(), 2);
  EXPECT_FALSE(m.has_model());

  av1::GetCustomer360Request file_req;
  file_req.set_contact_id(ann.id());
  av1::Customer360 file;
  ASSERT_TRUE(WaitFor([&] {
    return analytics_->GetCustomer360(Ctx().get(), file_req, &file).ok() &&
           file.open_cases_size() == 1 && file.latest_interactions_size() == 1;
  })) << file.DebugString();
  EXPECT_EQ(file.contact().personal().emails(0).address(), "ann@example.com");
  ASSERT_EQ(file.latest_orders_size(), 2);
  EXPECT_EQ(file.latest_orders(0).id(), o2.id());  // newest first
  EXPECT_EQ(file.metrics().order_count(), 2);

  // Bob merged into Ann: his order is hers; asking for Bob answers with Ann.
  crm::contact::v1::MergeContactsRequest merge;
  merge.set_survivor_id(ann.id());
  merge.set_merged_id(bob.id());
  Contact survivor;
  ASSERT_TRUE(node_.contacts->MergeContacts(Ctx().get(), merge, &survivor).ok());
  m = MetricsOnce(*analytics_, bob.id(), 3);
  EXPECT_EQ(m.contact_id(), ann.id());
  EXPECT_EQ(m.lifetime_revenue().minor_units(), 4500);
  file_req.set_contact_id(bob.id());
  ASSERT_TRUE(analytics_->GetCustomer360(Ctx().get(), file_req, &file).ok());
  EXPECT_EQ(file.contact().id(), ann.id());
  ASSERT_EQ(file.merged_contact_ids_size(), 1);
  EXPECT_EQ(file.merged_contact_ids(0), bob.id());
  EXPECT_EQ(file.latest_orders_size(), 3);

  // Later changes to the call and the case show in the file (its per-contact indexes hold the
  // records themselves, so each change must rewrite them).
  iv1::UpdateInteractionRequest edit;
  edit.mutable_interaction()->set_id(logged.id());
  edit.mutable_interaction()->set_subject("Parcel found");
  edit.mutable_update_mask()->add_paths("subject");
  ASSERT_TRUE(node_.interactions->UpdateInteraction(Ctx().get(), edit, &logged).ok());
  iv1::ChangeCaseStatusRequest resolve;
  resolve.set_id(opened.id());
  resolve.set_status(iv1::CASE_STATUS_RESOLVED);
  ASSERT_TRUE(node_.interactions->ChangeCaseStatus(Ctx().get(), resolve, &opened).ok());
  ASSERT_TRUE(WaitFor([&] {
    return analytics_->GetCustomer360(Ctx().get(), file_req, &file).ok() &&
           file.open_cases_size() == 0;
  })) << file.DebugString();
  ASSERT_EQ(file.latest_interactions_size(), 1);
  EXPECT_EQ(file.latest_interactions(0).subject(), "Parcel found");
  EXPECT_EQ(file.latest_interactions(0).version(), logged.version());

  // Reports: the orders in the sales report, the case and the call in the service report, the
  // call in Ann's engagement.
  av1::GetSalesReportRequest sales_req;
  sales_req.mutable_period_start()->set_seconds(kJan2026);
  sales_req.mutable_period_end()->set_seconds(kJan2026 + 365 * 86400);
  sales_req.set_currency_code("EUR");
  av1::SalesReport sales_report;
  ASSERT_TRUE(analytics_->GetSalesReport(Ctx().get(), sales_req, &sales_report).ok());
  EXPECT_EQ(sales_report.revenue().minor_units(), 4500);
  EXPECT_EQ(sales_report.revenue_by_month_size(), 1);  // all in January
  av1::GetServiceReportRequest service_req;
  service_req.mutable_period_start()->set_seconds(kJan2026);
  service_req.mutable_period_end()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 86400);
  av1::ServiceReport service_report;
  ASSERT_TRUE(analytics_->GetServiceReport(Ctx().get(), service_req, &service_report).ok());
  EXPECT_EQ(service_report.cases_opened(), 1);
  ASSERT_EQ(service_report.interactions_size(), 1);
  EXPECT_EQ(service_report.interactions(0).channel(), "call");
  av1::GetEngagementTrendRequest trend_req;
  trend_req.set_contact_id(bob.id());  // answers for Ann
  trend_req.set_months(3);
  trend_req.mutable_as_of()->set_seconds(kJan2026 + 45 * 86400);  // in February
  av1::EngagementTrend trend;
  ASSERT_TRUE(analytics_->GetEngagementTrend(Ctx().get(), trend_req, &trend).ok());
  EXPECT_EQ(trend.contact_id(), ann.id());
  EXPECT_EQ(std::vector<int32_t>(trend.interactions_per_month().begin(),
                                 trend.interactions_per_month().end()),
            (std::vector<int32_t>{0, 0, 1}));
  av1::GetRetentionRequest retention_req;
  retention_req.mutable_cohorts_from()->set_seconds(kJan2026);
  retention_req.mutable_as_of()->set_seconds(kJan2026 + 40 * 86400);
  av1::GetRetentionResponse retention;
  ASSERT_TRUE(analytics_->GetRetention(Ctx().get(), retention_req, &retention).ok());
  ASSERT_EQ(retention.cohorts_size(), 2);
  EXPECT_EQ(retention.cohorts(0).customers(), 1);  // Ann (with Bob) first bought in January
  EXPECT_EQ(retention.cohorts(0).active(1), 0);    // and not again in February

  // Too few customers for a model; with a dozen repeat buyers, a fit is recorded and used.
  av1::FitModelRequest fit;
  fit.set_currency_code("EUR");
  fit.mutable_as_of()->set_seconds(kJan2026 + 181 * 86400);
  av1::PurchaseModel model;
  grpc::Status few = analytics_->FitModel(Ctx().get(), fit, &model);
  EXPECT_EQ(few.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(few.error_message().rfind("currency_code", 0), 0u) << few.error_message();
  std::string last;
  for (int i = 0; i < 12; ++i) {
    Contact c;
    ASSERT_TRUE(CreateContact(node_, "Buyer", std::to_string(i), "", &c).ok());
    for (int k = 0; k <= i % 4; ++k) {
      sv1::Order o;
      ASSERT_TRUE(Place(*sales_, c.id(), kJan2026 + (i + 20 * k) * 86400, 700 + 100 * k, &o).ok());
    }
    last = c.id();
  }
  MetricsOnce(*analytics_, last, 4);
  fit.set_request_id("fit-1");
  grpc::Status fitted = analytics_->FitModel(Ctx().get(), fit, &model);
  ASSERT_TRUE(fitted.ok()) << fitted.error_message();
  EXPECT_EQ(model.customers(), 13);
  EXPECT_GT(model.bgnbd_r(), 0);
  av1::PurchaseModel again;
  ASSERT_TRUE(analytics_->FitModel(Ctx().get(), fit, &again).ok());  // repeated request
  EXPECT_EQ(again.version(), model.version());
  av1::GetModelRequest get_model;
  get_model.set_currency_code("EUR");
  ASSERT_TRUE(analytics_->GetModel(Ctx().get(), get_model, &again).ok());
  EXPECT_EQ(again.bgnbd_alpha(), model.bgnbd_alpha());
  m = MetricsOnce(*analytics_, ann.id(), 3);
  EXPECT_TRUE(m.has_model());
  EXPECT_GT(m.probability_alive(), 0);
  EXPECT_EQ(m.rfm().customers(), 13);

  // A segment of big spenders: only Ann (with Bob's order) is in it, and her 360 says so.
  av1::CreateSegmentRequest create_segment;
  create_segment.set_request_id("seg-1");
  create_segment.mutable_segment()->set_name("Big spenders");
  auto* filter = create_segment.mutable_segment()->mutable_filter();
  filter->set_currency_code("EUR");
  filter->mutable_revenue_min()->set_currency_code("EUR");
  filter->mutable_revenue_min()->set_minor_units(4000);
  av1::Segment segment;
  ASSERT_TRUE(analytics_->CreateSegment(Ctx().get(), create_segment, &segment).ok());
  av1::GetSegmentRequest get_segment;
  get_segment.set_id(segment.id());
  ASSERT_TRUE(analytics_->GetSegment(Ctx().get(), get_segment, &segment).ok());
  EXPECT_EQ(segment.size(), 1);
  EXPECT_EQ(segment.revenue().minor_units(), 4500);
  av1::ListSegmentMembersRequest members_req;
  members_req.set_id(segment.id());
  av1::ListSegmentMembersResponse members;
  ASSERT_TRUE(analytics_->ListSegmentMembers(Ctx().get(), members_req, &members).ok());
  ASSERT_EQ(members.members_size(), 1);
  EXPECT_EQ(members.members(0).contact_id(), ann.id());
  file_req.set_contact_id(ann.id());
  ASSERT_TRUE(analytics_->GetCustomer360(Ctx().get(), file_req, &file).ok());
  ASSERT_EQ(file.segments_size(), 1);
  EXPECT_EQ(file.segments(0).name(), "Big spenders");
  av1::ListSegmentsResponse segments;
  ASSERT_TRUE(analytics_->ListSegments(Ctx().get(), av1::ListSegmentsRequest(), &segments).ok());
  EXPECT_EQ(segments.segments_size(), 1);
  av1::DeleteSegmentRequest delete_segment;
  delete_segment.set_id(segment.id());
  delete_segment.set_expected_version(1);
  google::protobuf::Empty deleted;
  ASSERT_TRUE(analytics_->DeleteSegment(Ctx().get(), delete_segment, &deleted).ok());
  EXPECT_EQ(analytics_->GetSegment(Ctx().get(), get_segment, &segment).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // The 360s read before each change (the service keeps the segment list between changes) do
  // not hide it: the segment appeared in the 360 at once above, and is gone at once now.
  ASSERT_TRUE(analytics_->GetCustomer360(Ctx().get(), file_req, &file).ok());
  EXPECT_EQ(file.segments_size(), 0);

  // Killed and restarted, then rebuilt: the same projection and the same answers.
  crm::admin::v1::GetProjectionStatusResponse before, after;
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "analytics"));
  ASSERT_TRUE(ProjectionStatus(node_, &before, "analytics").ok());
  node_.process->Stop(SIGKILL);  // no warning: what was applied is on disk
  StartNode();
  EXPECT_EQ(MetricsOnce(*analytics_, ann.id(), 3).probability_alive(), m.probability_alive());
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "analytics"));
  ASSERT_TRUE(ProjectionStatus(node_, &after, "analytics").ok());
  EXPECT_EQ(after.checksum(), before.checksum());
  ASSERT_EQ(node_.process->Stop(SIGTERM), 0);
  StartNode({"--rebuild"});
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "analytics"));
  ASSERT_TRUE(ProjectionStatus(node_, &after, "analytics").ok());
  EXPECT_EQ(after.checksum(), before.checksum());
  av1::CustomerMetrics rebuilt = MetricsOnce(*analytics_, ann.id(), 3);
  EXPECT_EQ(rebuilt.probability_alive(), m.probability_alive());
}

// A 360 as of now is kept between the writes that change it: after each kind of write, once the
// analytics projection has applied it, the very next 360 shows it — though the 360 read twice just
// before (and so kept) did not.
TEST_F(AnalyticsTest, EveryKindOfWriteShowsInTheNext360OnceApplied) {
  StartNode();
  namespace cv1 = crm::contact::v1;
  cv1::CreateCompanyRequest create_company;
  create_company.mutable_company()->set_name("Acme");
  cv1::Company acme;
  ASSERT_TRUE(node_.contacts->CreateCompany(Ctx().get(), create_company, &acme).ok());
  cv1::CreateContactRequest create_ann;
  create_ann.mutable_contact()->mutable_personal()->set_given_name("Ann");
  create_ann.mutable_contact()->add_affiliations()->set_company_id(acme.id());
  cv1::CreateContactResponse created;
  ASSERT_TRUE(node_.contacts->CreateContact(Ctx().get(), create_ann, &created).ok());
  const std::string ann = created.contact().id();

  av1::GetCustomer360Request req;
  req.set_contact_id(ann);
  av1::Customer360 file;
  auto step = [&](const std::string& what, const std::function<grpc::Status()>& write,
                  const std::function<bool(const av1::Customer360&)>& shows) {
    ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "analytics")) << what;
    for (int i = 0; i < 2; ++i) {
      const grpc::Status s = analytics_->GetCustomer360(Ctx().get(), req, &file);
      ASSERT_TRUE(s.ok()) << what << ": " << s.error_message();
    }
    ASSERT_FALSE(shows(file)) << what << ": shown before the write";
    const grpc::Status written = write();
    ASSERT_TRUE(written.ok()) << what << ": " << written.error_message();
    ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(20), "analytics")) << what;
    const grpc::Status s = analytics_->GetCustomer360(Ctx().get(), req, &file);
    ASSERT_TRUE(s.ok()) << what << ": " << s.error_message();
    EXPECT_TRUE(shows(file)) << what << ": not in the next 360\n" << file.DebugString();
  };

  step(
      "an interaction",
      [&] {
        iv1::LogInteractionRequest call;
        call.mutable_interaction()->add_contact_ids(ann);
        call.mutable_interaction()->mutable_occurred_at()->set_seconds(kJan2026);
        call.mutable_interaction()->set_channel(iv1::CHANNEL_CALL);
        call.mutable_interaction()->set_direction(iv1::DIRECTION_INBOUND);
        call.mutable_interaction()->set_subject("Hello");
        iv1::Interaction out;
        return node_.interactions->LogInteraction(Ctx().get(), call, &out);
      },
      [](const av1::Customer360& f) { return f.latest_interactions_size() == 1; });
  step(
      "a case",
      [&] {
        iv1::OpenCaseRequest open;
        open.mutable_case_()->set_contact_id(ann);
        open.mutable_case_()->set_subject("Broken");
        iv1::Case out;
        return node_.interactions->OpenCase(Ctx().get(), open, &out);
      },
      [](const av1::Customer360& f) { return f.open_cases_size() == 1; });
  step(
      "a task",
      [&] {
        iv1::CreateTaskRequest task;
        task.mutable_task()->set_title("Call back");
        task.mutable_task()->set_assignee("sam");
        task.mutable_task()->set_contact_id(ann);
        task.mutable_task()->mutable_due_time()->set_seconds(kJan2026 + 86400);
        iv1::Task out;
        return node_.interactions->CreateTask(Ctx().get(), task, &out);
      },
      [](const av1::Customer360& f) { return f.open_tasks_size() == 1; });
  sv1::Order order;
  step(
      "an order", [&] { return Place(*sales_, ann, kJan2026, 1000, &order); },
      [](const av1::Customer360& f) {
        return f.latest_orders_size() == 1 && f.metrics().order_count() == 1;
      });
  sv1::CreateProductRequest create_product;
  create_product.mutable_product()->set_sku("w-1");
  create_product.mutable_product()->set_name("Widget");
  create_product.mutable_product()->mutable_unit_price()->set_currency_code("EUR");
  create_product.mutable_product()->mutable_unit_price()->set_minor_units(2500);
  sv1::Product widget;
  ASSERT_TRUE(sales_->CreateProduct(Ctx().get(), create_product, &widget).ok());
  step(
      "a deal",
      [&] {
        sv1::CreateDealRequest deal;
        deal.mutable_deal()->set_title("Widgets");
        deal.mutable_deal()->set_contact_id(ann);
        deal.mutable_deal()->set_owner("sam");
        auto* line = deal.mutable_deal()->add_line_items();
        line->set_product_id(widget.id());
        line->set_quantity(2);
        *line->mutable_unit_price() = widget.unit_price();
        sv1::Deal out;
        return sales_->CreateDeal(Ctx().get(), deal, &out);
      },
      [](const av1::Customer360& f) { return f.open_deals_size() == 1; });
  step(
      "the contact",
      [&] {
        Contact out;
        return UpdateJobTitle(node_, ann, "Buyer", 0, &out, "");
      },
      [](const av1::Customer360& f) { return f.contact().job_title() == "Buyer"; });
  step(
      "the company",
      [&] {
        cv1::UpdateCompanyRequest update;
        update.mutable_company()->set_id(acme.id());
        update.mutable_company()->set_industry("Aerospace");
        update.mutable_update_mask()->add_paths("industry");
        cv1::Company out;
        return node_.contacts->UpdateCompany(Ctx().get(), update, &out);
      },
      [](const av1::Customer360& f) { return f.company().industry() == "Aerospace"; });
  step(
      "a segment",
      [&] {
        av1::CreateSegmentRequest create;
        create.set_request_id("seg-1");
        create.mutable_segment()->set_name("Buyers");
        auto* filter = create.mutable_segment()->mutable_filter();
        filter->set_currency_code("EUR");
        filter->mutable_revenue_min()->set_currency_code("EUR");
        filter->mutable_revenue_min()->set_minor_units(500);
        av1::Segment out;
        return analytics_->CreateSegment(Ctx().get(), create, &out);
      },
      [](const av1::Customer360& f) { return f.segments_size() == 1; });
  Contact bob;
  ASSERT_TRUE(CreateContact(node_, "Bob", "Ray", "", &bob).ok());
  step(
      "a merge",
      [&] {
        cv1::MergeContactsRequest merge;
        merge.set_survivor_id(ann);
        merge.set_merged_id(bob.id());
        Contact out;
        return node_.contacts->MergeContacts(Ctx().get(), merge, &out);
      },
      [](const av1::Customer360& f) { return f.merged_contact_ids_size() == 1; });
  step(
      "an erasure",
      [&] {
        cv1::EraseContactRequest erase;
        erase.set_id(ann);
        Contact out;
        return node_.contacts->EraseContact(Ctx().get(), erase, &out);
      },
      [](const av1::Customer360& f) { return f.contact().erased(); });
}

TEST_F(AnalyticsTest, TheModelIsRefittedByItselfAsHistoryGrows) {
  StartNode({"--model-refit-interval", "1"});
  av1::GetModelRequest get_model;
  get_model.set_currency_code("EUR");
  av1::PurchaseModel model;
  EXPECT_EQ(analytics_->GetModel(Ctx().get(), get_model, &model).error_code(),
            grpc::StatusCode::NOT_FOUND);
  for (int i = 0; i < 12; ++i) {
    Contact c;
    ASSERT_TRUE(CreateContact(node_, "Buyer", std::to_string(i), "", &c).ok());
    for (int k = 0; k <= i % 3; ++k) {
      sv1::Order o;
      ASSERT_TRUE(Place(*sales_, c.id(), kJan2026 + (i + 15 * k) * 86400, 900, &o).ok());
    }
  }
  // (A fit may come while the buyers are still arriving; the growth since triggers the next.)
  ASSERT_TRUE(WaitFor(
      [&] {
        return analytics_->GetModel(Ctx().get(), get_model, &model).ok() && model.customers() == 12;
      },
      absl::Seconds(30)))
      << model.DebugString();
  EXPECT_EQ(model.purchase_days(), 4 * 1 + 4 * 2 + 4 * 3);
}

TEST_F(AnalyticsTest, BadInputForEveryRpc) {
  StartNode();
  av1::Customer360 file;
  av1::GetCustomer360Request file_req;
  ExpectInvalid(analytics_->GetCustomer360(Ctx().get(), file_req, &file), "contact_id");
  file_req.set_contact_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  file_req.mutable_as_of()->set_nanos(-5);
  ExpectInvalid(analytics_->GetCustomer360(Ctx().get(), file_req, &file), "as_of");
  file_req.clear_as_of();
  EXPECT_EQ(analytics_->GetCustomer360(Ctx().get(), file_req, &file).error_code(),
            grpc::StatusCode::NOT_FOUND);
  av1::CustomerMetrics m;
  av1::GetCustomerMetricsRequest metrics;
  metrics.set_contact_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  metrics.set_currency_code("EURO");
  ExpectInvalid(analytics_->GetCustomerMetrics(Ctx().get(), metrics, &m), "currency_code");
  metrics.set_currency_code("EUR");
  metrics.set_horizon_days(4000);
  ExpectInvalid(analytics_->GetCustomerMetrics(Ctx().get(), metrics, &m), "horizon_days");
  metrics.set_horizon_days(30);
  EXPECT_EQ(analytics_->GetCustomerMetrics(Ctx().get(), metrics, &m).error_code(),
            grpc::StatusCode::NOT_FOUND);
  av1::PurchaseModel model;
  ExpectInvalid(analytics_->GetModel(Ctx().get(), av1::GetModelRequest(), &model), "currency_code");
  av1::GetModelRequest get_model;
  get_model.set_currency_code("EUR");
  EXPECT_EQ(analytics_->GetModel(Ctx().get(), get_model, &model).error_code(),
            grpc::StatusCode::NOT_FOUND);
  av1::FitModelRequest fit;
  fit.set_currency_code("EUR");
  fit.set_request_id("has space");
  ExpectInvalid(analytics_->FitModel(Ctx().get(), fit, &model), "request_id");
  fit.set_request_id("");
  fit.set_currency_code("");
  ExpectInvalid(analytics_->FitModel(Ctx().get(), fit, &model), "currency_code");

  av1::ListProductAssociationsRequest pairs;
  pairs.set_min_orders(-1);
  av1::ListProductAssociationsResponse listed;
  ExpectInvalid(analytics_->ListProductAssociations(Ctx().get(), pairs, &listed), "min_orders");
  pairs.set_min_orders(0);
  pairs.set_product_id("x");
  ExpectInvalid(analytics_->ListProductAssociations(Ctx().get(), pairs, &listed), "product_id");
  av1::GetRecommendationsRequest recommend;
  recommend.set_contact_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  recommend.set_page_size(101);
  av1::GetRecommendationsResponse offers;
  ExpectInvalid(analytics_->GetRecommendations(Ctx().get(), recommend, &offers), "page_size");
  recommend.set_page_size(0);
  EXPECT_EQ(analytics_->GetRecommendations(Ctx().get(), recommend, &offers).error_code(),
            grpc::StatusCode::NOT_FOUND);
  av1::GetRetentionRequest retention;
  av1::GetRetentionResponse cohorts;
  ExpectInvalid(analytics_->GetRetention(Ctx().get(), retention, &cohorts), "cohorts_from");
  retention.mutable_cohorts_from()->set_seconds(kJan2026);
  retention.mutable_as_of()->set_seconds(kJan2026 - 1);
  ExpectInvalid(analytics_->GetRetention(Ctx().get(), retention, &cohorts), "as_of");
  retention.clear_as_of();
  retention.set_inactivity_days(-1);
  ExpectInvalid(analytics_->GetRetention(Ctx().get(), retention, &cohorts), "inactivity_days");
  av1::GetSalesReportRequest sales;
  av1::SalesReport sales_report;
  ExpectInvalid(analytics_->GetSalesReport(Ctx().get(), sales, &sales_report), "period_start");
  sales.mutable_period_start()->set_seconds(kJan2026);
  sales.mutable_period_end()->set_seconds(kJan2026);
  ExpectInvalid(analytics_->GetSalesReport(Ctx().get(), sales, &sales_report), "period_end");
  sales.mutable_period_end()->set_seconds(kJan2026 + 86400);
  ExpectInvalid(analytics_->GetSalesReport(Ctx().get(), sales, &sales_report), "currency_code");
  av1::GetServiceReportRequest service;
  av1::ServiceReport service_report;
  service.mutable_period_start()->set_seconds(kJan2026);
  ExpectInvalid(analytics_->GetServiceReport(Ctx().get(), service, &service_report), "period_end");
  av1::CreateSegmentRequest create_segment;
  av1::Segment segment;
  create_segment.mutable_segment()->set_name("");
  ExpectInvalid(analytics_->CreateSegment(Ctx().get(), create_segment, &segment), "segment.name");
  create_segment.mutable_segment()->set_name("S");
  create_segment.mutable_segment()->mutable_filter()->mutable_recency()->set_min(0);
  ExpectInvalid(analytics_->CreateSegment(Ctx().get(), create_segment, &segment),
                "segment.filter.currency_code");
  create_segment.mutable_segment()->mutable_filter()->set_currency_code("EUR");
  ExpectInvalid(analytics_->CreateSegment(Ctx().get(), create_segment, &segment),
                "segment.filter.recency.min");
  create_segment.mutable_segment()->mutable_filter()->clear_recency();
  create_segment.mutable_segment()->mutable_filter()->set_bought_in_month(11);
  ExpectInvalid(analytics_->CreateSegment(Ctx().get(), create_segment, &segment),
                "segment.filter.bought_in_month");
  create_segment.mutable_segment()->mutable_filter()->set_bought_category("fruit");
  create_segment.mutable_segment()->mutable_filter()->set_interacted_within_days(-1);
  ExpectInvalid(analytics_->CreateSegment(Ctx().get(), create_segment, &segment),
                "segment.filter.interacted_within_days");
  av1::GetSegmentRequest get_segment;
  ExpectInvalid(analytics_->GetSegment(Ctx().get(), get_segment, &segment), "id");
  get_segment.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(analytics_->GetSegment(Ctx().get(), get_segment, &segment).error_code(),
            grpc::StatusCode::NOT_FOUND);  // nothing was written by the refusals
  av1::ListSegmentsRequest list_segments;
  list_segments.set_page_size(-1);
  av1::ListSegmentsResponse segments;
  ExpectInvalid(analytics_->ListSegments(Ctx().get(), list_segments, &segments), "page_size");
  EXPECT_TRUE(analytics_->ListSegments(Ctx().get(), av1::ListSegmentsRequest(), &segments).ok());
  EXPECT_EQ(segments.segments_size(), 0);
  av1::DeleteSegmentRequest delete_segment;
  delete_segment.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  delete_segment.set_expected_version(-1);
  google::protobuf::Empty empty;
  ExpectInvalid(analytics_->DeleteSegment(Ctx().get(), delete_segment, &empty), "expected_version");
  delete_segment.set_expected_version(0);
  EXPECT_EQ(analytics_->DeleteSegment(Ctx().get(), delete_segment, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);
  av1::ListSegmentMembersRequest members;
  members.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  members.set_page_token("forged");
  av1::ListSegmentMembersResponse listed_members;
  ExpectInvalid(analytics_->ListSegmentMembers(Ctx().get(), members, &listed_members),
                "page_token");

  av1::ListSeasonalBuyersRequest seasonal;
  av1::ListSeasonalBuyersResponse buyers;
  seasonal.set_month(11);
  seasonal.set_currency_code("EUR");
  ExpectInvalid(analytics_->ListSeasonalBuyers(Ctx().get(), seasonal, &buyers), "product_id");
  seasonal.set_category("fruit");
  seasonal.set_month(13);
  ExpectInvalid(analytics_->ListSeasonalBuyers(Ctx().get(), seasonal, &buyers), "month");
  av1::SuggestCampaignRequest campaign_req;
  av1::CampaignSuggestion campaign;
  campaign_req.set_category("fruit");
  campaign_req.set_month(11);
  campaign_req.set_currency_code("EUR");
  ExpectInvalid(analytics_->SuggestCampaign(Ctx().get(), campaign_req, &campaign), "channel");
  campaign_req.set_channel(crm::contact::v1::CONSENT_CHANNEL_SMS);
  campaign_req.set_limit(-3);
  ExpectInvalid(analytics_->SuggestCampaign(Ctx().get(), campaign_req, &campaign), "limit");

  av1::GetEngagementTrendRequest trend;
  av1::EngagementTrend engagement;
  trend.set_contact_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  trend.set_months(121);
  ExpectInvalid(analytics_->GetEngagementTrend(Ctx().get(), trend, &engagement), "months");
  trend.set_months(0);
  EXPECT_EQ(analytics_->GetEngagementTrend(Ctx().get(), trend, &engagement).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AnalyticsTest, SeparateProcessesOnTheDevBroker) {
  const DevBroker broker = StartDevBroker(dir_.path());
  const std::string& brokers = broker.brokers;
  ASSERT_FALSE(brokers.empty());
  auto args = [&](const std::string& data) { return KafkaServiceArgs(dir_.Sub(data), brokers); };
  Server contacts = StartServer("crm-contact", args("c"), dir_.path());
  Server sales = StartServer("crm-sales", args("s"), dir_.path());
  ASSERT_FALSE(contacts.addr.empty());
  // Analytics keeps no personal data: it asks the contact service for what it shows.
  std::vector<std::string> analytics_args = args("a");
  analytics_args.insert(analytics_args.end(), {"--contact-address", contacts.addr});
  Server analytics = StartServer("crm-analytics", analytics_args, dir_.path());
  ASSERT_FALSE(sales.addr.empty());
  ASSERT_FALSE(analytics.addr.empty());
  auto sales_stub = sv1::SalesService::NewStub(sales.channel);
  auto analytics_stub = av1::AnalyticsService::NewStub(analytics.channel);
  Contact ann;
  ASSERT_TRUE(CreateContact(contacts, "Ann", "Lee", "", &ann).ok());
  sv1::Order order;
  grpc::Status placed = Place(*sales_stub, ann.id(), kJan2026, 2500, &order);
  ASSERT_TRUE(placed.ok()) << placed.error_message();
  // Apples from the catalog, bought last November.
  sv1::CreateProductRequest apples;
  apples.mutable_product()->set_sku("APPLES");
  apples.mutable_product()->set_name("Red apples");
  apples.mutable_product()->set_category("Fruit");
  apples.mutable_product()->mutable_unit_price()->set_currency_code("EUR");
  apples.mutable_product()->mutable_unit_price()->set_minor_units(1500);
  sv1::Product product;
  ASSERT_TRUE(sales_stub->CreateProduct(Ctx().get(), apples, &product).ok());
  sv1::PlaceOrderRequest november;
  november.mutable_order()->set_contact_id(ann.id());
  november.mutable_order()->mutable_order_time()->set_seconds(kJan2026 - 46 * 86400);
  auto* line = november.mutable_order()->add_line_items();
  line->set_product_id(product.id());
  line->set_quantity(1);
  *line->mutable_unit_price() = product.unit_price();
  sv1::Order apples_order;
  ASSERT_TRUE(sales_stub->PlaceOrder(Ctx().get(), november, &apples_order).ok());
  const av1::CustomerMetrics m = MetricsOnce(*analytics_stub, ann.id(), 2);
  EXPECT_EQ(m.lifetime_revenue().minor_units(), 2500 + 1500);
  av1::ListSeasonalBuyersRequest seasonal;
  seasonal.set_category("fruit");
  seasonal.set_month(11);
  seasonal.set_currency_code("EUR");
  av1::ListSeasonalBuyersResponse buyers;
  // The product's event is on another partition of the sales topic than the orders: analytics
  // may have applied the orders (what MetricsOnce waited for) before it learns the product's
  // category.
  ASSERT_TRUE(WaitFor([&] {
    buyers.Clear();
    return analytics_stub->ListSeasonalBuyers(Ctx().get(), seasonal, &buyers).ok() &&
           buyers.buyers_size() > 0;
  })) << buyers.DebugString();
  ASSERT_EQ(buyers.buyers_size(), 1);
  EXPECT_EQ(buyers.buyers(0).contact_id(), ann.id());
  EXPECT_EQ(buyers.buyers(0).typical_spend().minor_units(), 1500);
  av1::SuggestCampaignRequest campaign_req;
  campaign_req.set_product_id(product.id());
  campaign_req.set_month(11);
  campaign_req.set_currency_code("EUR");
  campaign_req.set_channel(crm::contact::v1::CONSENT_CHANNEL_EMAIL);
  av1::CampaignSuggestion campaign;
  ASSERT_TRUE(analytics_stub->SuggestCampaign(Ctx().get(), campaign_req, &campaign).ok());
  EXPECT_EQ(campaign.targets_size(), 0);  // Ann never consented to email
  EXPECT_EQ(campaign.without_consent(), 1);
  EXPECT_FALSE(campaign.rule().empty());
  av1::GetCustomer360Request file_req;
  file_req.set_contact_id(ann.id());
  av1::Customer360 file;
  ASSERT_TRUE(analytics_stub->GetCustomer360(Ctx().get(), file_req, &file).ok());
  ASSERT_EQ(file.latest_orders_size(), 2);
  EXPECT_EQ(file.latest_orders(0).id(), order.id());  // January before November
  EXPECT_EQ(file.latest_orders(1).id(), apples_order.id());
  EXPECT_EQ(file.contact().personal().given_name(), "Ann");
  EXPECT_EQ(buyers.buyers(0).display_name(), "Ann Lee");
  // A separate crm-contact exports its own part and says which it could not gather...
  crm::contact::v1::ExportContactDataRequest export_req;
  export_req.set_id(ann.id());
  crm::contact::v1::ExportContactDataResponse exported;
  ASSERT_TRUE(contacts.contacts->ExportContactData(Ctx().get(), export_req, &exported).ok());
  EXPECT_NE(exported.json().find("\"given_name\":\"Ann\""), std::string::npos) << exported.json();
  EXPECT_NE(exported.json().find(R"("unavailable":["interaction","sales","analytics"])"),
            std::string::npos)
      << exported.json();
  // ...and, told where they are, asks them on the caller's behalf.
  ASSERT_EQ(contacts.process->Stop(SIGTERM), 0) << contacts.process->Log();
  // With the contact service away, the 360 and the lists still answer, without personal data.
  ASSERT_TRUE(analytics_stub->GetCustomer360(Ctx().get(), file_req, &file).ok());
  EXPECT_FALSE(file.contact().has_personal());
  EXPECT_EQ(file.latest_orders_size(), 2);
  ASSERT_TRUE(analytics_stub->ListSeasonalBuyers(Ctx().get(), seasonal, &buyers).ok());
  ASSERT_EQ(buyers.buyers_size(), 1);
  EXPECT_EQ(buyers.buyers(0).display_name(), "");
  std::vector<std::string> contact_args = args("c");
  contact_args.insert(contact_args.end(),
                      {"--sales-address", sales.addr, "--analytics-address", analytics.addr});
  Server gathering = StartServer("crm-contact", contact_args, dir_.path());
  ASSERT_FALSE(gathering.addr.empty());
  ASSERT_TRUE(gathering.contacts->ExportContactData(Ctx().get(), export_req, &exported).ok());
  EXPECT_NE(exported.json().find(R"("unavailable":["interaction"])"), std::string::npos)
      << exported.json();
  EXPECT_NE(exported.json().find(order.id()), std::string::npos) << exported.json();
  EXPECT_NE(exported.json().find(apples_order.id()), std::string::npos) << exported.json();
  EXPECT_NE(exported.json().find("\"customer_360\""), std::string::npos) << exported.json();
}

}  // namespace
}  // namespace crm::testing
