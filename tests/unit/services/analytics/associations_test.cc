// Associations and recommendations: the measures, the ranking, what is never offered.
#include "services/analytics/domain/associations.h"

#include <gtest/gtest.h>

namespace crm::analytics {
namespace {

TEST(Associations, SupportConfidenceAndLift) {
  // 100 orders; A in 20, B in 10, both in 8.
  const ProductAssociation ab = MakeAssociation("A", "B", 8, 20, 10, 100);
  EXPECT_DOUBLE_EQ(ab.support(), 0.08);
  EXPECT_DOUBLE_EQ(ab.confidence(), 0.4);
  EXPECT_DOUBLE_EQ(ab.lift(), 4.0);  // 40 % of A's orders hold B, against 10 % of all orders
  const ProductAssociation ba = MakeAssociation("B", "A", 8, 10, 20, 100);
  EXPECT_DOUBLE_EQ(ba.confidence(), 0.8);
  EXPECT_DOUBLE_EQ(ba.lift(), 4.0);  // lift is symmetric
  EXPECT_EQ(MakeAssociation("A", "B", 0, 0, 0, 0).lift(), 0);
}

TEST(Recommend, OffersTheStrongestUnboughtProductOnSaleWithItsReason) {
  std::map<std::string, ProductInfo> products = {{"A", {"Apples", "Fruit", true}},
                                                 {"B", {"Basket", "Gifts", true}},
                                                 {"C", {"Cider", "Drinks", true}},
                                                 {"D", {"Dates", "Fruit", false}},
                                                 {"E", {"Eggs", "Food", true}}};
  const std::vector<ProductAssociation> associations = {
      MakeAssociation("A", "B", 8, 20, 10, 100),   // lift 4
      MakeAssociation("A", "C", 10, 20, 40, 100),  // lift 1.25
      MakeAssociation("E", "C", 9, 10, 40, 100),   // lift 2.25: C's strongest reason
      MakeAssociation("A", "D", 10, 20, 10, 100),  // lift 5 but not on sale
      MakeAssociation("A", "E", 10, 20, 10, 100),  // lift 5 but already bought
  };
  const std::vector<Recommendation> r = Recommend({"A", "E"}, associations, {}, products, 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].product_id(), "B");
  EXPECT_EQ(r[0].product_name(), "Basket");
  EXPECT_NE(r[0].reason().find("Apples"), std::string::npos) << r[0].reason();
  EXPECT_EQ(r[1].product_id(), "C");
  EXPECT_EQ(r[1].association().product_id(), "E");
  EXPECT_EQ(Recommend({"A", "E"}, associations, {}, products, 1).size(), 1u);
}

TEST(Recommend, ANewCustomerGetsTheMostBoughtProductsOnSale) {
  std::map<std::string, ProductInfo> products = {
      {"A", {"Apples", "", true}}, {"B", {"Basket", "", true}}, {"D", {"Dates", "", false}}};
  const std::vector<Recommendation> r =
      Recommend({}, {}, {{"A", 5}, {"B", 9}, {"D", 50}, {"X", 99}}, products, 5);
  ASSERT_EQ(r.size(), 2u);  // D is off sale, X is not in the catalog
  EXPECT_EQ(r[0].product_id(), "B");
  EXPECT_EQ(r[1].product_id(), "A");
  EXPECT_FALSE(r[0].has_association());
}

}  // namespace
}  // namespace crm::analytics
