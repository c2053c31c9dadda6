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

const ContactCheck kAny = [](const std::string&, const std::string&) { return absl::OkStatus(); };

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
  auto created = DecideCreateDeal(Requested(), "D", kAny);
  ASSERT_TRUE(created.ok()) << created.status();
  const Deal d = *ApplyDeal(std::nullopt, Event(*created, 0, 100));
  EXPECT_EQ(d.stage_id(), "qualification");
  EXPECT_EQ(d.probability_bp(), 1000);
  EXPECT_EQ(d.amount().currency_code(), "EUR");
  EXPECT_EQ(d.amount().minor_units(), 3000 + 1798);
  ASSERT_EQ(d.stage_history_size(), 1);
  EXPECT_EQ(d.stage_history(0).enter_time().seconds(), 100);
}

TEST(Deal, MixedCurrenciesAreRefused) {
  Deal mixed = Requested();
  *mixed.add_line_items() = Line("USD", 1, 1, 0);
  EXPECT_EQ(DecideCreateDeal(mixed, "D", kAny).status().code(), absl::StatusCode::kInvalidArgument);
  v1::CreateDealRequest r;
  *r.mutable_deal() = mixed;
  r.mutable_deal()->set_contact_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  const absl::Status s = ValidateCreateDeal(r).status();
  EXPECT_EQ(std::string(s.message()).rfind("deal.line_items[2].unit_price.currency_code", 0), 0u)
      << s;
}

TEST(Deal, StagesWinLoseReopenWithHistory) {
  Deal d = *ApplyDeal(std::nullopt, Event(*DecideCreateDeal(Requested(), "D", kAny), 0, 100));
  d = *ApplyDeal(d, Event(*DecideMoveStage(d, "D", "proposal", 0, 0), 1, 200));
  EXPECT_EQ(d.probability_bp(), 5000);
  ASSERT_EQ(d.stage_history_size(), 2);
  EXPECT_EQ(d.stage_history(0).leave_time().seconds(), 200);
  EXPECT_EQ(DecideMoveStage(d, "D", "proposal", 0, 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecideMoveStage(d, "D", "nowhere", 0, 0).status().code(), absl::StatusCode::kNotFound);
  d = *ApplyDeal(d, Event(*DecideWin(d, "D", 0), 2, 300));
  EXPECT_EQ(d.status(), v1::DEAL_STATUS_WON);
  EXPECT_EQ(d.probability_bp(), 10000);
  EXPECT_EQ(d.close_time().seconds(), 300);
  EXPECT_EQ(d.stage_history(1).leave_time().seconds(), 300);
  EXPECT_EQ(DecideLose(d, "D", "late", 0).status().code(), absl::StatusCode::kFailedPrecondition);
  d = *ApplyDeal(d, Event(*DecideReopen(d, "D", "negotiation", 0), 3, 400));
  EXPECT_EQ(d.status(), v1::DEAL_STATUS_OPEN);
  EXPECT_EQ(d.stage_id(), "negotiation");
  EXPECT_FALSE(d.has_close_time());
  d = *ApplyDeal(d, Event(*DecideLose(d, "D", "budget", 0), 4, 500));
  EXPECT_EQ(d.status(), v1::DEAL_STATUS_LOST);
  EXPECT_EQ(d.lost_reason(), "budget");
  EXPECT_EQ(d.stage_history_size(), 3);
  EXPECT_EQ(DecideReopen(std::nullopt, "D", "", 0).status().code(), absl::StatusCode::kNotFound);
}

TEST(Deal, UpdatingLinesRecomputesTheAmountAndRacesAbort) {
  Deal d = *ApplyDeal(std::nullopt, Event(*DecideCreateDeal(Requested(), "D", kAny), 0, 100));
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
