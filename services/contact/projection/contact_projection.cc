#include "services/contact/projection/contact_projection.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "common/status/status_macros.h"
#include "common/validation/text_fold.h"
#include "services/contact/domain/apply.h"
#include "services/contact/projection/keys.h"

namespace crm::contact {

using store::Cf;

namespace {

// Lower is better when a term comes from several fields.
int KindRank(char kind) { return kind == 'n' ? 0 : kind == 'e' ? 1 : 2; }

void AddTerm(std::map<std::string, char>& terms, std::string term, char kind) {
  if (term.empty()) return;
  auto [it, inserted] = terms.emplace(std::move(term), kind);
  if (!inserted && KindRank(kind) < KindRank(it->second)) it->second = kind;
}

bool LooksLikePhone(std::string_view q) {
  bool digit = false;
  for (char c : q) {
    if (absl::ascii_isdigit(c)) {
      digit = true;
    } else if (c != '+' && c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' && c != '/') {
      return false;
    }
  }
  return digit;
}

bool Before(const google::protobuf::Timestamp& a, const google::protobuf::Timestamp& b) {
  return a.seconds() < b.seconds() || (a.seconds() == b.seconds() && a.nanos() < b.nanos());
}

absl::StatusOr<std::optional<Contact>> Decode(const std::optional<std::string>& raw) {
  if (!raw) return std::nullopt;
  Contact c;
  if (!c.ParseFromString(*raw)) return absl::DataLossError("corrupt contact record");
  return c;
}

}  // namespace

std::map<std::string, char> SearchTerms(const Contact& c) {
  std::map<std::string, char> terms;
  for (std::string& w : validation::SplitWords(c.personal().given_name())) {
    AddTerm(terms, std::move(w), 'n');
  }
  for (std::string& w : validation::SplitWords(c.personal().family_name())) {
    AddTerm(terms, std::move(w), 'n');
  }
  for (const auto& e : c.personal().emails()) {
    for (std::string& w : validation::SplitWords(e.address())) AddTerm(terms, std::move(w), 'e');
  }
  for (const auto& p : c.personal().phones()) {
    std::string digits;
    for (char ch : p.number()) {
      if (absl::ascii_isdigit(ch)) digits.push_back(ch);
    }
    AddTerm(terms, std::move(digits), 'p');
  }
  return terms;
}

std::vector<std::string> QueryWords(std::string_view query) {
  if (LooksLikePhone(query)) {
    std::string digits;
    for (char c : query) {
      if (absl::ascii_isdigit(c)) digits.push_back(c);
    }
    if (digits.size() > 2 && digits[0] == '0' && digits[1] == '0') digits.erase(0, 2);
    return {digits};
  }
  std::vector<std::string> words =
      validation::SplitWords(absl::string_view(query.data(), query.size()));
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

bool ContactProjection::Handles(std::string_view event_type) const {
  return event_type == kContactCreatedType || event_type == kContactUpdatedType ||
         event_type == kContactArchivedType;
}

absl::StatusOr<absl::Status> ContactProjection::Apply(const crm::common::v1::EventEnvelope& event,
                                                      store::ProjectionStore::Batch& batch) {
  const std::string key = keys::Contact(event.tenant(), event.aggregate_id());
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<Contact> current, Decode(raw));
  absl::StatusOr<Contact> next = contact::Apply(current, event);
  if (!next.ok()) return next.status();  // Refused: nothing written.

  const std::map<std::string, char> old_terms =
      current ? SearchTerms(*current) : std::map<std::string, char>{};
  const std::map<std::string, char> new_terms = SearchTerms(*next);
  for (const auto& [term, kind] : old_terms) {
    if (!new_terms.contains(term)) {
      batch.Delete(Cf::kIndex, keys::SearchEntry(event.tenant(), term, event.aggregate_id()));
    }
  }
  for (const auto& [term, kind] : new_terms) {
    auto old = old_terms.find(term);
    if (old == old_terms.end() || old->second != kind) {
      batch.Put(Cf::kIndex, keys::SearchEntry(event.tenant(), term, event.aggregate_id()),
                std::string(1, kind));
    }
  }
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(*next));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Contact>> ContactProjection::Get(std::string_view tenant,
                                                              std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, keys::Contact(tenant, id)));
  return Decode(raw);
}

absl::StatusOr<ListPage> ContactProjection::List(std::string_view tenant, const ListFilter& filter,
                                                 std::string_view resume_after, size_t page_size,
                                                 size_t max_scan) const {
  ListPage page;
  const std::string prefix = keys::TenantPrefix('c', tenant);
  std::string start;
  if (!resume_after.empty()) {
    start = keys::Contact(tenant, resume_after);
    start.push_back('\0');  // Strictly after.
  }
  size_t scanned = 0;
  absl::Status decode_error;
  std::string last_id;
  bool more = false;
  RETURN_IF_ERROR(
      store_->Scan(Cf::kState, prefix, start, [&](std::string_view key, std::string_view value) {
        if (page.contacts.size() >= page_size || scanned >= max_scan) {
          more = true;
          return false;
        }
        ++scanned;
        Contact c;
        if (!c.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          decode_error = absl::DataLossError("corrupt contact record");
          return false;
        }
        last_id = c.id();
        if (c.archived() && !filter.show_archived) return true;
        if (!filter.owner.empty() && c.owner() != filter.owner) return true;
        if (filter.lifecycle_stage != crm::contact::v1::LIFECYCLE_STAGE_UNSPECIFIED &&
            c.lifecycle_stage() != filter.lifecycle_stage) {
          return true;
        }
        if (!filter.tag.empty() &&
            std::find(c.tags().begin(), c.tags().end(), filter.tag) == c.tags().end()) {
          return true;
        }
        if (filter.updated_since && Before(c.update_time(), *filter.updated_since)) return true;
        page.contacts.push_back(std::move(c));
        return true;
      }));
  RETURN_IF_ERROR(decode_error);
  if (more) page.resume_after = last_id;
  return page;
}

absl::StatusOr<std::vector<SearchHit>> ContactProjection::Search(
    std::string_view tenant, const std::vector<std::string>& words, bool show_archived,
    size_t max_candidates) const {
  std::vector<SearchHit> hits;
  if (words.empty()) return hits;
  // The longest word is the most selective: it drives the candidate scan.
  const std::string& driver = *std::max_element(
      words.begin(), words.end(),
      [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
  std::set<std::string> candidates;
  const std::string prefix = keys::SearchTermPrefix(tenant, driver);
  RETURN_IF_ERROR(store_->Scan(Cf::kIndex, prefix, "", [&](std::string_view key, std::string_view) {
    const size_t nul = key.rfind('\0');
    candidates.emplace(key.substr(nul + 1));
    return candidates.size() < max_candidates;
  }));
  const store::ReadView view = store_->Snapshot();
  for (const std::string& id : candidates) {
    ASSIGN_OR_RETURN(std::optional<std::string> raw,
                     view.Get(Cf::kState, keys::Contact(tenant, id)));
    ASSIGN_OR_RETURN(std::optional<Contact> c, Decode(raw));
    if (!c || (c->archived() && !show_archived)) continue;
    const std::map<std::string, char> terms = SearchTerms(*c);
    double score = 0;
    bool all = true;
    for (const std::string& w : words) {
      double best = 0;
      for (auto it = terms.lower_bound(w); it != terms.end() && it->first.starts_with(w); ++it) {
        const bool exact = it->first.size() == w.size();
        const double s = it->second == 'n' ? (exact ? 4 : 3) : (exact ? 2 : 1);
        best = std::max(best, s);
      }
      if (best == 0) {
        all = false;
        break;
      }
      score += best;
    }
    if (all) hits.push_back(SearchHit{std::move(*c), score});
  }
  std::sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
    return a.score != b.score ? a.score > b.score : a.contact.id() < b.contact.id();
  });
  return hits;
}

}  // namespace crm::contact
