// Segment conditions one by one, and the fast RFM scorer against the plain one.
#include "services/analytics/domain/segments.h"

#include <gtest/gtest.h>

#include <random>

namespace crm::analytics {
namespace {

namespace cv1 = crm::contact::v1;
constexpr int64_t kDay = int64_t{86400} * 1000000000;

LedgerPurchase Buy(int64_t day, const std::string& product, int64_t cents) {
  LedgerPurchase p;
  p.mutable_order_time()->set_seconds(day * 86400);
  p.mutable_net()->set_currency_code("EUR");
  p.mutable_net()->set_minor_units(cents);
  p.add_lines()->set_product_id(product);
  return p;
}

TEST(RfmScorer, AgreesWithTheDefinition) {
  std::mt19937_64 rng(3);
  std::vector<RfmKey> population;
  for (int i = 0; i < 500; ++i) {
    population.push_back({static_cast<int64_t>(rng() % 50) * kDay,
                          static_cast<int64_t>(rng() % 6 + 1), static_cast<int64_t>(rng() % 40)});
  }
  const RfmScorer scorer(population);
  for (const RfmKey& k : population) {
    const RfmScores fast = scorer.Score(k);
    const RfmScores plain = ScoreRfm(k, population);
    EXPECT_EQ(fast.recency(), plain.recency());
    EXPECT_EQ(fast.frequency(), plain.frequency());
    EXPECT_EQ(fast.monetary(), plain.monetary());
  }
}

TEST(Segments, EveryConditionMustHold) {
  cv1::Contact c;
  c.set_lifecycle_stage(cv1::LIFECYCLE_STAGE_CUSTOMER);
  c.add_tags("VIP");
  c.set_owner("sam");
  auto* consent = c.add_consents();
  consent->set_channel(cv1::CONSENT_CHANNEL_EMAIL);
  consent->set_status(cv1::CONSENT_STATUS_GRANTED);
  consent->mutable_recorded_at()->set_seconds(100);
  const std::vector<LedgerPurchase> purchases = {Buy(10, "apples", 1500),  // January 1970
                                                 Buy(320, "cider", 900)};  // November
  CustomerView v;
  v.contact = &c;
  v.industries = {"retail"};
  v.purchases = &purchases;
  v.category_of = [](const std::string& p) { return p == "apples" ? "fruit" : "drinks"; };
  v.last_interaction_nanos = 300 * kDay;
  v.revenue_minor = 2400;
  RfmScores rfm;
  rfm.set_recency(5);
  rfm.set_frequency(2);
  rfm.set_monetary(4);
  v.rfm = rfm;
  const int64_t as_of = 330 * kDay;

  SegmentFilter f;
  EXPECT_TRUE(Matches(f, v, as_of));  // no condition: everyone
  f.add_lifecycle_stages(cv1::LIFECYCLE_STAGE_LEAD);
  EXPECT_FALSE(Matches(f, v, as_of));
  f.add_lifecycle_stages(cv1::LIFECYCLE_STAGE_CUSTOMER);
  f.add_tags("vip");
  f.set_owner("sam");
  f.set_company_industry("Retail");
  f.set_consent_channel(cv1::CONSENT_CHANNEL_EMAIL);
  f.mutable_recency()->set_min(4);
  f.mutable_recency()->set_max(5);
  f.mutable_revenue_min()->set_minor_units(2000);
  f.set_bought_category("Fruit");
  f.set_bought_in_month(1);
  f.set_interacted_within_days(60);
  f.mutable_last_purchase_after()->set_seconds(300 * 86400);
  EXPECT_TRUE(Matches(f, v, as_of));

  auto without = [&](auto change) {
    SegmentFilter g = f;
    change(g);
    return Matches(g, v, as_of);
  };
  EXPECT_FALSE(without([](SegmentFilter& g) { g.add_tags("gold"); }));
  EXPECT_FALSE(without([](SegmentFilter& g) { g.set_owner("kim"); }));
  EXPECT_FALSE(without([](SegmentFilter& g) { g.set_company_industry("banking"); }));
  EXPECT_FALSE(without([](SegmentFilter& g) { g.set_consent_channel(cv1::CONSENT_CHANNEL_SMS); }));
  EXPECT_FALSE(without([](SegmentFilter& g) {
    g.mutable_frequency()->set_min(3);
    g.mutable_frequency()->set_max(5);
  }));
  EXPECT_FALSE(without([](SegmentFilter& g) { g.mutable_revenue_max()->set_minor_units(2000); }));
  EXPECT_FALSE(without([](SegmentFilter& g) { g.set_bought_in_month(11); }));  // fruit in Jan only
  EXPECT_FALSE(without([](SegmentFilter& g) { g.set_interacted_within_days(20); }));
  EXPECT_FALSE(without(
      [](SegmentFilter& g) { g.mutable_last_purchase_before()->set_seconds(300 * 86400); }));
  EXPECT_TRUE(without([](SegmentFilter& g) {
    g.set_bought_category("drinks");
    g.set_bought_in_month(11);
  }));
  // Purchases after the evaluation time do not count.
  EXPECT_FALSE(Matches(f, v, 200 * kDay));

  // A later withdrawal of consent wins.
  auto* withdrawn = c.add_consents();
  withdrawn->set_channel(cv1::CONSENT_CHANNEL_EMAIL);
  withdrawn->set_status(cv1::CONSENT_STATUS_DENIED);
  withdrawn->mutable_recorded_at()->set_seconds(200);
  EXPECT_FALSE(ConsentGranted(c, cv1::CONSENT_CHANNEL_EMAIL));
  EXPECT_FALSE(Matches(f, v, as_of));
}

}  // namespace
}  // namespace crm::analytics
