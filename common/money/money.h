// Exact money arithmetic on crm.common.v1.Money: integer minor units, one currency per sum.
// Every operation checks the currency and overflow and says what is wrong; nothing rounds
// silently.
//
//   ASSIGN_OR_RETURN(Money line, Multiply(unit_price, quantity));
//   ASSIGN_OR_RETURN(line, ApplyDiscount(line, 1250));   // 12.5 % off, rounded half to even
//   ASSIGN_OR_RETURN(total, Add(total, line));           // INVALID_ARGUMENT on EUR + USD
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "crm/common/v1/money.pb.h"

namespace crm::money {

using crm::common::v1::Money;

// Number of minor-unit digits of an ISO 4217 currency (2 for EUR, 0 for JPY, 3 for KWD), or
// INVALID_ARGUMENT naming `field` if the code is not a known currency.
absl::StatusOr<int> MinorDigits(const std::string& field, const std::string& currency_code);

// OK if `m` has a known currency; `field` names it in the error ("deal.amount").
absl::Status Validate(const std::string& field, const Money& m);

// Zero in `currency_code`.
Money Zero(const std::string& currency_code);

// a + b. INVALID_ARGUMENT if the currencies differ, OUT_OF_RANGE on overflow.
absl::StatusOr<Money> Add(const Money& a, const Money& b);

// a - b, as Add.
absl::StatusOr<Money> Subtract(const Money& a, const Money& b);

// m × quantity. OUT_OF_RANGE on overflow.
absl::StatusOr<Money> Multiply(const Money& m, int64_t quantity);

// m less `basis_points` / 10000 of it (0..10000), the discount rounded half to even.
absl::StatusOr<Money> ApplyDiscount(const Money& m, int32_t basis_points);

// m × basis_points / 10000, rounded half to even (e.g. a probability-weighted amount).
absl::StatusOr<Money> Weight(const Money& m, int32_t basis_points);

// "EUR 12.50", "JPY 1200", "-USD 3.05"; for people, never parsed back.
std::string Format(const Money& m);

}  // namespace crm::money
