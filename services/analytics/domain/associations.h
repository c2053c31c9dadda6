// Product associations from co-purchases (support, confidence, lift) and the recommendations
// drawn from them. Pure; the counts come from the projection. Definitions in
// crm/analytics/v1/resources.proto (ProductAssociation).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "crm/analytics/v1/resources.pb.h"

namespace crm::analytics {

using crm::analytics::v1::ProductAssociation;
using crm::analytics::v1::Recommendation;

// The association A → B from the order counts n(A, B), n(A), n(B) and N.
ProductAssociation MakeAssociation(const std::string& a, const std::string& b, int64_t both,
                                   int64_t with_a, int64_t with_b, int64_t orders);

// Ranking: lift, then confidence, then support (higher first), then product ids.
bool Stronger(const ProductAssociation& x, const ProductAssociation& y);

// What Recommend needs to know of products: their names, categories and whether they are on sale.
struct ProductInfo {
  std::string name;
  std::string category;
  bool active = false;
};

// Up to `limit` recommendations for a customer who bought `bought`: for each product not
// bought, on sale and associated with a bought one (`associations`: every A → B with A bought,
// already filtered by the minimum count), the strongest association; ranked by Stronger.
// Without purchases: the most bought products (`popularity`: product -> n(product)).
std::vector<Recommendation> Recommend(const std::set<std::string>& bought,
                                      const std::vector<ProductAssociation>& associations,
                                      const std::map<std::string, int64_t>& popularity,
                                      const std::map<std::string, ProductInfo>& products,
                                      size_t limit);

}  // namespace crm::analytics
