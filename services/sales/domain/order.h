// Orders (purchases): placement with an exact total, payment, fulfilment, cancellation, partial
// and full refunds. Pure.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/sales/v1/events.pb.h"
#include "crm/sales/v1/resources.pb.h"
#include "services/sales/domain/deal.h"

namespace crm::sales {

using crm::sales::v1::Order;

inline constexpr char kOrderAggregateType[] = "order";

enum class OrderAction { kPay, kFulfil, kCancel };

// The buyer (and company, if given) must be linkable.
absl::StatusOr<crm::sales::v1::OrderPlaced> DecidePlaceOrder(const Order& requested,
                                                             const std::string& id,
                                                             const LinkCheck& check_link);
// Pay, fulfil or cancel; FAILED_PRECONDITION for a move the order's status does not allow.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> DecideOrderAction(
    const std::optional<Order>& current, const std::string& id, OrderAction action,
    int64_t expected_version);
absl::StatusOr<crm::sales::v1::OrderRefunded> DecideRefund(const std::optional<Order>& current,
                                                           const std::string& id,
                                                           const crm::common::v1::Money& amount,
                                                           int64_t expected_version);

absl::StatusOr<Order> ApplyOrder(const std::optional<Order>& current,
                                 const crm::common::v1::EventEnvelope& event);

bool IsOrderEvent(std::string_view event_type);

// Whether the order counts as a purchase: neither cancelled nor wholly refunded (its net is
// above zero).
bool IsPurchase(const Order& order);

}  // namespace crm::sales
