// Orders: placement totals, the status machine, partial and full refunds.
#include "services/sales/domain/order.h"

#include <gtest/gtest.h>

#include "tests/testing/events.h"

namespace crm::sales {
namespace {

namespace v1 = crm::sales::v1;
using crm::common::v1::EventEnvelope;

EventEnvelope Event(const google::protobuf::Message& payload, int64_t expected, int64_t seconds) {
  return crm::testing::MakeTestEvent(payload, "O", expected, seconds);
}

const LinkCheck kAny = [](const std::string&, const std::string&, Link) {
  return absl::OkStatus();
};

Order Placed() {
  Order o;
  o.set_contact_id("C");
  auto* line = o.add_line_items();
  line->set_product_id("P");
  line->set_quantity(2);
  line->mutable_unit_price()->set_currency_code("EUR");
  line->mutable_unit_price()->set_minor_units(1500);
  o.mutable_order_time()->set_seconds(100);
  return *ApplyOrder(std::nullopt, Event(*DecidePlaceOrder(o, "O", kAny), 0, 100));
}

crm::common::v1::Money Eur(int64_t cents) {
  crm::common::v1::Money m;
  m.set_currency_code("EUR");
  m.set_minor_units(cents);
  return m;
}

Order Act(const Order& o, OrderAction action, int64_t at) {
  auto event = DecideOrderAction(o, "O", action, 0);
  EXPECT_TRUE(event.ok()) << event.status();
  return *ApplyOrder(o, Event(**event, o.version(), at));
}

TEST(Order, PlacedWithAnExactTotal) {
  const Order o = Placed();
  EXPECT_EQ(o.status(), v1::ORDER_STATUS_PLACED);
  EXPECT_EQ(o.total().minor_units(), 3000);
  EXPECT_EQ(o.net().minor_units(), 3000);
  EXPECT_EQ(o.refunded().minor_units(), 0);
}

TEST(Order, StatusMachine) {
  Order o = Placed();
  EXPECT_EQ(DecideOrderAction(o, "O", OrderAction::kFulfil, 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecideRefund(o, "O", Eur(1), 0).status().code(), absl::StatusCode::kFailedPrecondition);
  o = Act(o, OrderAction::kPay, 200);
  o = Act(o, OrderAction::kFulfil, 300);
  EXPECT_EQ(o.status(), v1::ORDER_STATUS_FULFILLED);
  EXPECT_EQ(DecideOrderAction(o, "O", OrderAction::kCancel, 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Order cancelled = Act(Placed(), OrderAction::kCancel, 200);
  EXPECT_EQ(cancelled.status(), v1::ORDER_STATUS_CANCELLED);
}

TEST(Order, PartialThenFullRefunds) {
  Order o = Act(Placed(), OrderAction::kPay, 200);
  o = *ApplyOrder(o, Event(*DecideRefund(o, "O", Eur(1000), 0), o.version(), 300));
  EXPECT_EQ(o.status(), v1::ORDER_STATUS_PARTIALLY_REFUNDED);
  EXPECT_EQ(o.net().minor_units(), 2000);
  EXPECT_EQ(DecideRefund(o, "O", Eur(2001), 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  crm::common::v1::Money usd = Eur(1);
  usd.set_currency_code("USD");
  EXPECT_EQ(DecideRefund(o, "O", usd, 0).status().code(), absl::StatusCode::kInvalidArgument);
  o = *ApplyOrder(o, Event(*DecideRefund(o, "O", Eur(2000), 0), o.version(), 400));
  EXPECT_EQ(o.status(), v1::ORDER_STATUS_REFUNDED);
  EXPECT_EQ(o.net().minor_units(), 0);
  // A refund decided on stale state can never take more than the total at apply.
  v1::OrderRefunded more;
  *more.mutable_amount() = Eur(1);
  EXPECT_EQ(ApplyOrder(o, Event(more, o.version(), 500)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace crm::sales
