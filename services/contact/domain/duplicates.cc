#include "services/contact/domain/duplicates.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/validation/text_fold.h"

namespace crm::contact {

using crm::contact::v1::DuplicateReason;

namespace {

// Common English nicknames and short forms. Small on purpose: the list is data, not code, and
// a tenant-configurable list is future work.
const std::map<std::string, std::string>& Nicknames() {
  static const auto* m = new std::map<std::string, std::string>{
      {"abby", "abigail"},      {"al", "albert"},      {"alex", "alexander"},
      {"andy", "andrew"},       {"ben", "benjamin"},   {"beth", "elizabeth"},
      {"betty", "elizabeth"},   {"bill", "william"},   {"billy", "william"},
      {"bob", "robert"},        {"bobby", "robert"},   {"cathy", "catherine"},
      {"chris", "christopher"}, {"chuck", "charles"},  {"dan", "daniel"},
      {"danny", "daniel"},      {"dave", "david"},     {"dick", "richard"},
      {"ed", "edward"},         {"eddie", "edward"},   {"greg", "gregory"},
      {"jack", "john"},         {"jen", "jennifer"},   {"jenny", "jennifer"},
      {"jim", "james"},         {"jimmy", "james"},    {"joe", "joseph"},
      {"johnny", "john"},       {"kate", "katherine"}, {"katie", "katherine"},
      {"ken", "kenneth"},       {"larry", "lawrence"}, {"liz", "elizabeth"},
      {"maggie", "margaret"},   {"matt", "matthew"},   {"meg", "margaret"},
      {"mike", "michael"},      {"nick", "nicholas"},  {"pat", "patricia"},
      {"peggy", "margaret"},    {"pete", "peter"},     {"rich", "richard"},
      {"rick", "richard"},      {"rob", "robert"},     {"ron", "ronald"},
      {"sam", "samuel"},        {"steve", "steven"},   {"sue", "susan"},
      {"ted", "edward"},        {"tom", "thomas"},     {"tommy", "thomas"},
      {"tony", "anthony"},      {"vicky", "victoria"}, {"will", "william"},
  };
  return *m;
}

std::string Folded(std::string_view s) {
  std::string out;
  for (const std::string& w : validation::SplitWords(absl::string_view(s.data(), s.size()))) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

// Optimal string alignment distance. Row i of the table needs only rows i - 1 and i - 2: three
// rows of one buffer, reused in turn, instead of a table of n + 1 allocations (this runs four
// times for every candidate a new contact is scored against).
size_t DamerauLevenshtein(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  const size_t m = b.size();
  std::vector<size_t> rows(3 * (m + 1));
  auto row = [&](size_t i) { return rows.data() + (i % 3) * (m + 1); };
  for (size_t j = 0; j <= m; ++j) row(0)[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    size_t* d = row(i);
    const size_t* up = row(i - 1);
    const size_t* up2 = row(i - 2 + 3);  // row i - 2 (unused while i == 1)
    d[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[j] = std::min({up[j] + 1, d[j - 1] + 1, up[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[j] = std::min(d[j], up2[j - 2] + 1);
      }
    }
  }
  return row(n)[m];
}

double Similar(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return 0;
  const size_t longer = std::max(a.size(), b.size());
  return 1.0 - static_cast<double>(DamerauLevenshtein(a, b)) / static_cast<double>(longer);
}

double Combine(double a, double b) { return 1 - (1 - a) * (1 - b); }

std::string Prefix3(const std::string& s) { return s.substr(0, std::min<size_t>(3, s.size())); }

}  // namespace

std::string CanonicalGivenName(std::string_view given) {
  std::string folded = Folded(given);
  const auto it = Nicknames().find(folded);
  return it == Nicknames().end() ? folded : it->second;
}

double NameSimilarity(std::string_view a, std::string_view b) {
  return Similar(CanonicalGivenName(a), CanonicalGivenName(b));
}

DuplicateScore ScoreDuplicate(const Contact& a, const Contact& b) {
  DuplicateScore out;
  auto add = [&out](DuplicateReason reason, double weight) {
    out.reasons.push_back(reason);
    out.score = Combine(out.score, weight);
  };
  std::set<std::string> emails;
  for (const auto& e : a.personal().emails()) emails.insert(e.address());
  for (const auto& e : b.personal().emails()) {
    if (emails.contains(e.address())) {
      add(crm::contact::v1::DUPLICATE_REASON_SAME_EMAIL, 0.95);
      break;
    }
  }
  std::set<std::string> phones;
  for (const auto& p : a.personal().phones()) phones.insert(p.number());
  for (const auto& p : b.personal().phones()) {
    if (phones.contains(p.number())) {
      add(crm::contact::v1::DUPLICATE_REASON_SAME_PHONE, 0.90);
      break;
    }
  }
  const std::string ga = CanonicalGivenName(a.personal().given_name());
  const std::string fa = Folded(a.personal().family_name());
  const std::string gb = CanonicalGivenName(b.personal().given_name());
  const std::string fb = Folded(b.personal().family_name());
  if (!fa.empty() && !fb.empty() && !ga.empty() && !gb.empty()) {
    std::set<std::string> companies;
    for (const auto& x : a.affiliations()) companies.insert(x.company_id());
    bool shared_company = false;
    for (const auto& x : b.affiliations()) shared_company |= companies.contains(x.company_id());
    if (ga == gb && fa == fb && shared_company) {
      add(crm::contact::v1::DUPLICATE_REASON_SAME_NAME_SAME_COMPANY, 0.85);
    } else {
      const double straight = (Similar(ga, gb) + Similar(fa, fb)) / 2;
      const double swapped = (Similar(ga, fb) + Similar(fa, gb)) / 2;
      const double similarity = std::max(straight, swapped);
      if (similarity >= 0.85) {
        add(crm::contact::v1::DUPLICATE_REASON_SIMILAR_NAME, 0.6 * similarity);
      }
    }
  }
  return out;
}

Contact DuplicateSignature(const Contact& c) {
  Contact sig;
  sig.set_id(c.id());
  auto* personal = sig.mutable_personal();
  personal->set_given_name(c.personal().given_name());
  personal->set_family_name(c.personal().family_name());
  for (const auto& e : c.personal().emails()) personal->add_emails()->set_address(e.address());
  for (const auto& p : c.personal().phones()) personal->add_phones()->set_number(p.number());
  for (const auto& a : c.affiliations()) sig.add_affiliations()->set_company_id(a.company_id());
  return sig;
}

std::vector<std::string> BlockingKeys(const Contact& c) {
  std::set<std::string> keys;
  for (const auto& e : c.personal().emails()) keys.insert("e:" + e.address());
  for (const auto& p : c.personal().phones()) keys.insert("p:" + p.number());
  const std::string given = CanonicalGivenName(c.personal().given_name());
  const std::string family = Folded(c.personal().family_name());
  if (!given.empty() && !family.empty()) {
    keys.insert("n:" + Prefix3(family) + "|" + given.substr(0, 1));
    keys.insert("n:" + Prefix3(given) + "|" + family.substr(0, 1));
    keys.insert("f:" + given + "|" + family);
  }
  return {keys.begin(), keys.end()};
}

}  // namespace crm::contact
