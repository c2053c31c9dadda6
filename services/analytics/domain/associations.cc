#include "services/analytics/domain/associations.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_format.h"

namespace crm::analytics {

ProductAssociation MakeAssociation(const std::string& a, const std::string& b, int64_t both,
                                   int64_t with_a, int64_t with_b, int64_t orders) {
  ProductAssociation p;
  p.set_product_id(a);
  p.set_associated_product_id(b);
  p.set_orders_with_both(both);
  p.set_orders_with_product(with_a);
  p.set_orders_with_associated(with_b);
  p.set_orders(orders);
  if (orders > 0 && with_a > 0 && with_b > 0) {
    p.set_support(static_cast<double>(both) / static_cast<double>(orders));
    p.set_confidence(static_cast<double>(both) / static_cast<double>(with_a));
    p.set_lift(p.confidence() / (static_cast<double>(with_b) / static_cast<double>(orders)));
  }
  return p;
}

bool Stronger(const ProductAssociation& x, const ProductAssociation& y) {
  return std::make_tuple(-x.lift(), -x.confidence(), -x.support(), x.product_id(),
                         x.associated_product_id()) < std::make_tuple(-y.lift(), -y.confidence(),
                                                                      -y.support(), y.product_id(),
                                                                      y.associated_product_id());
}

std::vector<Recommendation> Recommend(const std::set<std::string>& bought,
                                      const std::vector<ProductAssociation>& associations,
                                      const std::map<std::string, int64_t>& popularity,
                                      const std::map<std::string, ProductInfo>& products,
                                      size_t limit) {
  auto on_sale = [&](const std::string& id) {
    const auto it = products.find(id);
    return it != products.end() && it->second.active;
  };
  auto describe = [&](const std::string& id, Recommendation& r) {
    r.set_product_id(id);
    const auto it = products.find(id);
    if (it != products.end()) {
      r.set_product_name(it->second.name);
      r.set_category(it->second.category);
    }
  };
  std::vector<Recommendation> out;
  if (bought.empty()) {
    std::vector<std::pair<int64_t, std::string>> ranked;
    for (const auto& [id, n] : popularity) {
      if (on_sale(id)) ranked.emplace_back(-n, id);
    }
    std::sort(ranked.begin(), ranked.end());
    for (const auto& [negative, id] : ranked) {
      if (out.size() >= limit) break;
      Recommendation& r = out.emplace_back();
      describe(id, r);
      r.set_reason(absl::StrFormat("among the most bought: in %d orders", -negative));
    }
    return out;
  }
  std::map<std::string, const ProductAssociation*> best;  // candidate -> strongest association
  for (const ProductAssociation& a : associations) {
    const std::string& candidate = a.associated_product_id();
    if (bought.contains(candidate) || !on_sale(candidate)) continue;
    auto [it, inserted] = best.emplace(candidate, &a);
    if (!inserted && Stronger(a, *it->second)) it->second = &a;
  }
  std::vector<const ProductAssociation*> ranked;
  for (const auto& [id, a] : best) ranked.push_back(a);
  std::sort(
      ranked.begin(), ranked.end(),
      [](const ProductAssociation* x, const ProductAssociation* y) { return Stronger(*x, *y); });
  for (const ProductAssociation* a : ranked) {
    if (out.size() >= limit) break;
    Recommendation& r = out.emplace_back();
    describe(a->associated_product_id(), r);
    *r.mutable_association() = *a;
    const auto from = products.find(a->product_id());
    const std::string from_name =
        from != products.end() && !from->second.name.empty() ? from->second.name : a->product_id();
    r.set_reason(absl::StrFormat(
        "bought with %s (which they bought) in %d orders: %.0f%% of %s orders include it, "
        "%.1f times its usual rate",
        from_name, a->orders_with_both(), 100 * a->confidence(), from_name, a->lift()));
  }
  return out;
}

}  // namespace crm::analytics
