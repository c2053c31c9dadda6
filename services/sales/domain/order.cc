#include "services/sales/domain/order.h"

#include "absl/strings/str_cat.h"
#include "common/money/money.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"
#include "services/sales/domain/deal.h"

namespace crm::sales {

using crm::common::v1::EventEnvelope;
using crm::common::v1::Money;
using google::protobuf::Timestamp;

namespace {

absl::Status CheckOrder(const std::optional<Order>& current, const std::string& id,
                        int64_t expected_version) {
  return projection::CheckExpectedVersion(current, "order", id, expected_version);
}

bool Allowed(v1::OrderStatus from, const std::string& event_type) {
  if (event_type == "crm.sales.v1.OrderPaid") return from == v1::ORDER_STATUS_PLACED;
  if (event_type == "crm.sales.v1.OrderFulfilled") return from == v1::ORDER_STATUS_PAID;
  if (event_type == "crm.sales.v1.OrderCancelled") {
    return from == v1::ORDER_STATUS_PLACED || from == v1::ORDER_STATUS_PAID;
  }
  if (event_type == "crm.sales.v1.OrderRefunded") {
    return from == v1::ORDER_STATUS_PAID || from == v1::ORDER_STATUS_FULFILLED ||
           from == v1::ORDER_STATUS_PARTIALLY_REFUNDED;
  }
  return false;
}

absl::Status Refusal(const Order& o, const std::string& what) {
  return absl::FailedPreconditionError(absl::StrCat(
      "order ", o.id(), " is ", v1::OrderStatus_Name(o.status()), "; it cannot be ", what));
}

}  // namespace

absl::StatusOr<v1::OrderPlaced> DecidePlaceOrder(const Order& requested, const std::string& id,
                                                 const LinkCheck& check_link) {
  RETURN_IF_ERROR(check_link("order.contact_id", requested.contact_id(), Link::kContact));
  if (!requested.company_id().empty()) {
    RETURN_IF_ERROR(check_link("order.company_id", requested.company_id(), Link::kCompany));
  }
  v1::OrderPlaced event;
  Order& o = *event.mutable_order();
  o = requested;
  o.set_id(id);
  Deal lines;  // LineTotal works on a deal's lines.
  *lines.mutable_line_items() = requested.line_items();
  ASSIGN_OR_RETURN(*o.mutable_total(), LineTotal(lines, "order.line_items"));
  return event;
}

absl::StatusOr<std::unique_ptr<google::protobuf::Message>> DecideOrderAction(
    const std::optional<Order>& current, const std::string& id, OrderAction action,
    int64_t expected_version) {
  RETURN_IF_ERROR(CheckOrder(current, id, expected_version));
  std::unique_ptr<google::protobuf::Message> event;
  const char* what = "";
  switch (action) {
    case OrderAction::kPay:
      event = std::make_unique<v1::OrderPaid>();
      what = "paid";
      break;
    case OrderAction::kFulfil:
      event = std::make_unique<v1::OrderFulfilled>();
      what = "fulfilled";
      break;
    case OrderAction::kCancel:
      event = std::make_unique<v1::OrderCancelled>();
      what = "cancelled";
      break;
  }
  if (!Allowed(current->status(), event->GetDescriptor()->full_name())) {
    return Refusal(*current, what);
  }
  return event;
}

absl::StatusOr<v1::OrderRefunded> DecideRefund(const std::optional<Order>& current,
                                               const std::string& id, const Money& amount,
                                               int64_t expected_version) {
  RETURN_IF_ERROR(CheckOrder(current, id, expected_version));
  if (!Allowed(current->status(), "crm.sales.v1.OrderRefunded")) {
    return Refusal(*current, "refunded");
  }
  if (amount.currency_code() != current->total().currency_code()) {
    return absl::InvalidArgumentError(
        absl::StrCat("amount.currency_code: the order is in ", current->total().currency_code()));
  }
  ASSIGN_OR_RETURN(Money left, money::Subtract(current->total(), current->refunded()));
  if (amount.minor_units() > left.minor_units()) {
    return absl::FailedPreconditionError(
        absl::StrCat("amount: only ", money::Format(left), " is left to refund"));
  }
  v1::OrderRefunded event;
  *event.mutable_amount() = amount;
  return event;
}

bool IsOrderEvent(std::string_view t) {
  return t == "crm.sales.v1.OrderPlaced" || t == "crm.sales.v1.OrderPaid" ||
         t == "crm.sales.v1.OrderFulfilled" || t == "crm.sales.v1.OrderCancelled" ||
         t == "crm.sales.v1.OrderRefunded";
}

bool IsPurchase(const Order& order) {
  return order.status() != v1::ORDER_STATUS_CANCELLED && order.net().minor_units() > 0;
}

absl::StatusOr<Order> ApplyOrder(const std::optional<Order>& current, const EventEnvelope& event) {
  RETURN_IF_ERROR(projection::CheckEventVersion(current, event, "order"));
  const Timestamp t = projection::EffectiveTime(current, event);
  const std::string& type = event.event_type();
  Order next;
  if (type == "crm.sales.v1.OrderPlaced") {
    v1::OrderPlaced placed;
    if (!event.payload().UnpackTo(&placed)) return absl::InvalidArgumentError("bad payload");
    next = std::move(*placed.mutable_order());
    next.set_status(v1::ORDER_STATUS_PLACED);
    *next.mutable_refunded() = money::Zero(next.total().currency_code());
    *next.mutable_create_time() = t;
  } else {
    if (!current) {
      return absl::NotFoundError(absl::StrCat("order ", event.aggregate_id(), " does not exist"));
    }
    if (!Allowed(current->status(), type)) return Refusal(*current, "changed this way");
    next = *current;
    if (type == "crm.sales.v1.OrderPaid") {
      next.set_status(v1::ORDER_STATUS_PAID);
    } else if (type == "crm.sales.v1.OrderFulfilled") {
      next.set_status(v1::ORDER_STATUS_FULFILLED);
    } else if (type == "crm.sales.v1.OrderCancelled") {
      next.set_status(v1::ORDER_STATUS_CANCELLED);
    } else if (type == "crm.sales.v1.OrderRefunded") {
      v1::OrderRefunded refunded;
      if (!event.payload().UnpackTo(&refunded)) return absl::InvalidArgumentError("bad payload");
      ASSIGN_OR_RETURN(Money total_refunded, money::Add(next.refunded(), refunded.amount()));
      if (total_refunded.minor_units() > next.total().minor_units()) {
        return absl::FailedPreconditionError("refunds would exceed the order's total");
      }
      *next.mutable_refunded() = total_refunded;
      next.set_status(total_refunded.minor_units() == next.total().minor_units()
                          ? v1::ORDER_STATUS_REFUNDED
                          : v1::ORDER_STATUS_PARTIALLY_REFUNDED);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("not an order event: ", type));
    }
  }
  ASSIGN_OR_RETURN(*next.mutable_net(), money::Subtract(next.total(), next.refunded()));
  next.set_id(event.aggregate_id());
  next.set_version(event.aggregate_version());
  *next.mutable_update_time() = t;
  return next;
}

}  // namespace crm::sales
