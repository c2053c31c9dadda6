#include "common/money/money.h"

#include <gtest/gtest.h>

namespace crm::money {
namespace {

Money M(const std::string& c, int64_t units) {
  Money m;
  m.set_currency_code(c);
  m.set_minor_units(units);
  return m;
}

TEST(Money, AddsOnlyOneCurrency) {
  EXPECT_EQ(Add(M("EUR", 150), M("EUR", 250))->minor_units(), 400);
  const auto mixed = Add(M("EUR", 1), M("USD", 1));
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mixed.status().message().find("EUR and USD"), std::string::npos);
  EXPECT_EQ(Subtract(M("JPY", 100), M("JPY", 300))->minor_units(), -200);
}

TEST(Money, OverflowIsAnErrorNotAWrap) {
  EXPECT_EQ(Add(M("EUR", INT64_MAX), M("EUR", 1)).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Multiply(M("EUR", INT64_MAX / 2), 3).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Subtract(M("EUR", INT64_MIN), M("EUR", 1)).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Multiply(M("EUR", 1999), 3)->minor_units(), 5997);
}

TEST(Money, DiscountsAndWeightsRoundHalfToEven) {
  // 12.5 % of 1.00 is 0.125: half way, to even -> 0.12; 0.88 remains.
  EXPECT_EQ(ApplyDiscount(M("EUR", 100), 1250)->minor_units(), 88);
  // 12.5 % of 3.00 is 0.375 -> 0.38 (the even neighbour); 2.62 remains.
  EXPECT_EQ(ApplyDiscount(M("EUR", 300), 1250)->minor_units(), 262);
  EXPECT_EQ(Weight(M("EUR", 1001), 5000)->minor_units(), 500);  // 500.5 -> 500
  EXPECT_EQ(Weight(M("EUR", 1003), 5000)->minor_units(), 502);  // 501.5 -> 502
  EXPECT_EQ(Weight(M("EUR", -1003), 5000)->minor_units(), -502);
  EXPECT_EQ(Weight(M("EUR", INT64_MAX), 10000)->minor_units(), INT64_MAX);
  EXPECT_EQ(Weight(M("EUR", 1), 10001).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Money, CurrenciesAndFormatting) {
  EXPECT_EQ(*MinorDigits("f", "JPY"), 0);
  EXPECT_EQ(*MinorDigits("f", "KWD"), 3);
  const absl::Status bad = Validate("deal.amount", M("EURO", 1));
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message().substr(0, 25), "deal.amount.currency_code");
  EXPECT_EQ(Format(M("EUR", 1250)), "EUR 12.50");
  EXPECT_EQ(Format(M("EUR", 5)), "EUR 0.05");
  EXPECT_EQ(Format(M("JPY", 1200)), "JPY 1200");
  EXPECT_EQ(Format(M("USD", -305)), "-USD 3.05");
  EXPECT_EQ(Format(M("KWD", 1)), "KWD 0.001");
  EXPECT_EQ(Format(M("EUR", INT64_MIN)), "-EUR 92233720368547758.08");
}

}  // namespace
}  // namespace crm::money
