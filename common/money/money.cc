#include "common/money/money.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace crm::money {
namespace {

// ISO 4217 currencies in common use and their minor-unit digits. Codes not listed are refused;
// adding one is adding a line.
const std::map<std::string, int>& Currencies() {
  static const auto* m = new std::map<std::string, int>{
      {"AED", 2}, {"ARS", 2}, {"AUD", 2}, {"BGN", 2}, {"BHD", 3}, {"BRL", 2}, {"CAD", 2},
      {"CHF", 2}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"CZK", 2}, {"DKK", 2}, {"EGP", 2},
      {"EUR", 2}, {"GBP", 2}, {"HKD", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2},
      {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KRW", 0}, {"KWD", 3}, {"MAD", 2},
      {"MXN", 2}, {"MYR", 2}, {"NGN", 2}, {"NOK", 2}, {"NZD", 2}, {"OMR", 3}, {"PEN", 2},
      {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"SAR", 2},
      {"SEK", 2}, {"SGD", 2}, {"THB", 2}, {"TND", 3}, {"TRY", 2}, {"TWD", 2}, {"UAH", 2},
      {"USD", 2}, {"VND", 0}, {"ZAR", 2},
  };
  return *m;
}

absl::Status SameCurrency(const Money& a, const Money& b) {
  if (a.currency_code() != b.currency_code()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot combine ", a.currency_code(), " and ",
                                                   b.currency_code(), "; one currency only"));
  }
  return absl::OkStatus();
}

Money Of(const std::string& currency, int64_t units) {
  Money m;
  m.set_currency_code(currency);
  m.set_minor_units(units);
  return m;
}

// x × num / 10000 rounded half to even, without overflow in the intermediate.
absl::StatusOr<int64_t> ScaleBasisPoints(int64_t x, int32_t num) {
  __extension__ __int128 product = static_cast<__int128>(x) * num;
  __extension__ __int128 q = product / 10000;
  __extension__ __int128 r = product % 10000;
  if (r < 0) {  // Make the remainder non-negative (floor division).
    r += 10000;
    q -= 1;
  }
  if (r > 5000 || (r == 5000 && (q % 2 != 0))) q += 1;
  if (q > INT64_MAX || q < INT64_MIN) return absl::OutOfRangeError("amount out of range");
  return static_cast<int64_t>(q);
}

}  // namespace

absl::StatusOr<int> MinorDigits(const std::string& field, const std::string& code) {
  const auto it = Currencies().find(code);
  if (it == Currencies().end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", code, "\" is not a supported ISO 4217 currency code"));
  }
  return it->second;
}

absl::Status Validate(const std::string& field, const Money& m) {
  return MinorDigits(field + ".currency_code", m.currency_code()).status();
}

Money Zero(const std::string& currency_code) { return Of(currency_code, 0); }

absl::StatusOr<Money> Add(const Money& a, const Money& b) {
  RETURN_IF_ERROR(SameCurrency(a, b));
  int64_t sum = 0;
  if (__builtin_add_overflow(a.minor_units(), b.minor_units(), &sum)) {
    return absl::OutOfRangeError("amount out of range");
  }
  return Of(a.currency_code(), sum);
}

absl::StatusOr<Money> Subtract(const Money& a, const Money& b) {
  RETURN_IF_ERROR(SameCurrency(a, b));
  int64_t diff = 0;
  if (__builtin_sub_overflow(a.minor_units(), b.minor_units(), &diff)) {
    return absl::OutOfRangeError("amount out of range");
  }
  return Of(a.currency_code(), diff);
}

absl::StatusOr<Money> Multiply(const Money& m, int64_t quantity) {
  int64_t product = 0;
  if (__builtin_mul_overflow(m.minor_units(), quantity, &product)) {
    return absl::OutOfRangeError("amount out of range");
  }
  return Of(m.currency_code(), product);
}

absl::StatusOr<Money> Weight(const Money& m, int32_t basis_points) {
  if (basis_points < 0 || basis_points > 10000) {
    return absl::InvalidArgumentError("basis points must be 0 to 10000");
  }
  ASSIGN_OR_RETURN(int64_t units, ScaleBasisPoints(m.minor_units(), basis_points));
  return Of(m.currency_code(), units);
}

absl::StatusOr<Money> ApplyDiscount(const Money& m, int32_t basis_points) {
  ASSIGN_OR_RETURN(Money discount, Weight(m, basis_points));
  return Subtract(m, discount);
}

std::string Format(const Money& m) {
  const absl::StatusOr<int> digits = MinorDigits("", m.currency_code());
  const int d = digits.ok() ? *digits : 2;
  const bool negative = m.minor_units() < 0;
  // Work in unsigned so INT64_MIN formats too.
  const uint64_t abs = negative ? 0 - static_cast<uint64_t>(m.minor_units())
                                : static_cast<uint64_t>(m.minor_units());
  uint64_t scale = 1;
  for (int i = 0; i < d; ++i) scale *= 10;
  std::string out = absl::StrCat(negative ? "-" : "", m.currency_code(), " ", abs / scale);
  if (d > 0) {
    std::string frac = std::to_string(abs % scale);
    out += "." + std::string(static_cast<size_t>(d) - frac.size(), '0') + frac;
  }
  return out;
}

}  // namespace crm::money
