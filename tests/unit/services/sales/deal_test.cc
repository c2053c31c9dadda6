// The deal state machine, stage history and exact amounts.
#include "services/sales/domain/deal.h"

#include <gtest/gtest.h>

#include "services/sales/api/validation.h"
#include "tests/testing/events.h"

namespace crm::sales {
namespace {

namespace v1 = crm::sales::v1;
using crm::common::v1::EventEnvelope;

EventEnvelope Event(const google::protobuf::Message& payload, int64_t expected, int64_t seconds) {
  return crm::testing::MakeTestEvent(payload, "D", expected, seconds);
}

const LinkCheck kAny = [](const std::string&, const std::string&, Link) {
  return absl::OkStatus();
};

// "default" and a two-stage "lean" pipeline.
const PipelineLookup kPipelines = [](const std::string& field,
                                     const std::string& id) -> absl::StatusOr<Pipeline> {
  if (id == kDefaultPipelineId) return DefaultPipeline();
  if (id == "lean") {
    Pipeline lean;
    lean.set_id("lean");
    for (const char* stage : {"pitch", "close"}) {
      auto* s = lean.add_stages();
      s->set_id(stage);
      s->set_probability_bp(stage[0] == 'p' ? 3000 : 9000);
    }
    return lean;
  }
  return absl::NotFoundError(field + ": no pipeline " + id);
};

v1::LineItem Line(const std::string& currency, int64_t cents, int64_t qty, int32_t discount) {
  v1::LineItem l;
  l.set_product_id("P");
  l.set_quantity(qty);
  l.mutable_unit_price()->set_currency_code(currency);
  l.mutable_unit_price()->set_minor_units(cents);
  l.set_discount_bp(discount);
  return l;
}

Deal Requested() {
  Deal d;
  d.set_title("Big one");
  d.set_contact_id("C");
  *d.add_line_items() = Line("EUR", 1000, 3, 0);    // 30.00
  *d.add_line_items() = Line("EUR", 999, 2, 1000);  // 19.98 less 10 % (2.00 rounded) = 17.98
  return d;
}

TEST(Deal, CreationPutsItInTheFirstStageWithTheLineTotal) {
  auto created = DecideCreateDeal(Requested(), "D", kPipelines, kAny);
  ASSERT_TRUE(created.ok()) << created.status();
  const Deal d = *ApplyDeal(std::nullopt, Event(*created, 0, 100));
  EXPECT_EQ(d.stage_id(), "qualification");
  EXPECT_EQ(d.probability_bp(), 1000);
  EXPECT_EQ(d.amount().currency_code(), "EUR");
  EXPECT_EQ(d.amount().minor_units(), 3000 + 1798);
  ASSERT_EQ(d.stage_history_size(), 1);
  EXPECT_EQ(d.stage_history(0).enter_time().seconds(), 100);
}

TEST(Deal, ACustomPipelineGivesItsStagesAndCompaniesAreChecked) {
  Deal requested = Requested();
  requested.set_pipeline_id("lean");
  requested.set_company_id("ACME");
  std::vector<std::pair<std::string, Link>> checked;
  const LinkCheck record = [&](const std::string& field, const std::string&, Link kind) {
    checked.emplace_back(field, kind);
    return absl::OkStatus();
  };
  Deal d = *ApplyDeal(std::nullopt,
                      Event(*DecideCreateDeal(requested, "D", kPipelines, record), 0, 100));
  EXPECT_EQ(d.stage_id(), "pitch");
  EXPECT_EQ(d.probability_bp(), 3000);
  ASSERT_EQ(checked.size(), 2u);
  EXPECT_EQ(checked[1], std::make_pair(std::string("deal.company_id"), Link::kCompany));
  // Stages of another pipeline are not this deal's.
  const absl::Status s = DecideMoveStage(d, "D", kPipelines, "proposal", 0, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(s.message()).rfind("stage_id: pipeline lean", 0), 0u) << s;
  d = *ApplyDeal(d, Event(*DecideMoveStage(d, "D", kPipelines, "close", 0, 0), 1, 200));
  EXPECT_EQ(d.probability_bp(), 9000);
  requested.set_pipeline_id("nope");
  EXPECT_EQ(DecideCreateDeal(requested, "D", kPipelines, kAny).status().code(),
            absl::StatusCode::kNotFound);
  const LinkCheck archived_company = [](const std::string& field, const std::string&, Link kind) {
    return kind == Link::kCompany ? absl::FailedPreconditionError(field + ": archived")
                                  : absl::OkStatus();
  };
  requested.set_pipeline_id("");
  EXPECT_EQ(DecideCreateDeal(requested, "D", kPipelines, archived_company).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Deal, MixedCurrenciesAreRefused) {
  Deal mixed = Requested();
  *mixed.add_line_items() = Line("USD", 1, 1, 0);
  EXPECT_EQ(DecideCreateDeal(mixed, "D", kPipelines, kAny).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::CreateDealRequest r;
  *r.mutable_deal() = mixed;
  r.mutable_deal()->set_contact_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  const absl::Status s = ValidateCreateDeal(r).status();
  EXPECT_EQ(std::string(s.message()).rfind("deal.line_items[2].unit_price.currency_code", 0), 0u)
      << s;
}

TEST(Deal, StagesWinLoseReopenWithHistory) {
  Deal d = *ApplyDeal(std::nullopt,
                      Event(*DecideCreateDeal(Requested(), "D", kPipelines, kAny), 0, 100));
  d = *ApplyDeal(d, Event(*DecideMoveStage(d, "D", kPipelines, "proposal", 0, 0), 1, 200));
  EXPECT_EQ(d.probability_bp(), 5000);
  ASSERT_EQ(d.stage_history_size(), 2);
  EXPECT_EQ(d.stage_history(0).leave_time().seconds(), 200);
  EXPECT_EQ(DecideMoveStage(d, "D", kPipelines, "proposal", 0, 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecideMoveStage(d, "D", kPipelines, "nowhere", 0, 0).status().code(),
            absl::StatusCode::kNotFound);
  d = *ApplyDeal(d, Event(*DecideWin(d, "D", 0), 2, 300));
  EXPECT_EQ(d.status(), v1::DEAL_STATUS_WON);
  EXPECT_EQ(d.probability_bp(), 10000);
  EXPECT_EQ(d.close_time().seconds(), 300);
  EXPECT_EQ(d.stage_history(1).leave_time().seconds(), 300);
  EXPECT_EQ(DecideLose(d, "D", "late", 0).status().code(), absl::StatusCode::kFailedPrecondition);
  d = *ApplyDeal(d, Event(*DecideReopen(d, "D", kPipelines, "negotiation", 0), 3, 400));
  EXPECT_EQ(d.status(), v1::DEAL_STATUS_OPEN);
  EXPECT_EQ(d.stage_id(), "negotiation");
  EXPECT_FALSE(d.has_close_time());
  d = *ApplyDeal(d, Event(*DecideLose(d, "D", "budget", 0), 4, 500));
  EXPECT_EQ(d.status(), v1::DEAL_STATUS_LOST);
  EXPECT_EQ(d.lost_reason(), "budget");
  EXPECT_EQ(d.stage_history_size(), 3);
  EXPECT_EQ(DecideReopen(std::nullopt, "D", kPipelines, "", 0).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(Deal, UpdatingLinesRecomputesTheAmountAndRacesAbort) {
  Deal d = *ApplyDeal(std::nullopt,
                      Event(*DecideCreateDeal(Requested(), "D", kPipelines, kAny), 0, 100));
  Deal values;
  values.set_id("D");
  *values.add_line_items() = Line("EUR", 500, 1, 0);
  google::protobuf::FieldMask mask;
  mask.add_paths("line_items");
  auto update = DecideUpdateDeal(d, values, mask, 1);
  ASSERT_TRUE(update.ok()) << update.status();
  const Deal next = *ApplyDeal(d, Event(*update, 1, 200));
  EXPECT_EQ(next.amount().minor_units(), 500);
  google::protobuf::FieldMask amount;
  amount.add_paths("amount");
  EXPECT_EQ(DecideUpdateDeal(next, values, amount, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ApplyDeal(next, Event(*update, 1, 300)).status().code(), absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace crm::sales
