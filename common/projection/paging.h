// Pages of a projection's records for List methods: read one record more than the page holds,
// so whether another page follows is known without a second read.
//
//   ASSIGN_OR_RETURN(auto records, projection.ListRules(tenant, after, page_size + 1));
//   std::string next;
//   std::vector<Rule> rules = FirstPage(records, page_size, &next,
//                                       [](RuleRecord& r) { return std::move(*r.mutable_rule());
//                                       });
#pragma once

#include <string>
#include <vector>

namespace crm::projection {

// The first `page_size` of `records`, each taken through `take` (which returns an item with
// id()); `*resume_after` is the id of the last item given when more follow, else empty.
template <typename Record, typename Take>
auto FirstPage(std::vector<Record>& records, size_t page_size, std::string* resume_after,
               Take take) {
  std::vector<decltype(take(records.front()))> items;
  resume_after->clear();
  for (Record& r : records) {
    if (items.size() == page_size) {
      *resume_after = items.back().id();
      break;
    }
    items.push_back(take(r));
  }
  return items;
}

}  // namespace crm::projection
