#include "services/contact/domain/import.h"

#include <algorithm>
#include <string>

#include "google/protobuf/util/message_differencer.h"

namespace crm::contact {
namespace {

using google::protobuf::FieldMask;
using google::protobuf::RepeatedPtrField;
using google::protobuf::util::MessageDifferencer;

// Sets `path` in `mask` and the field through `set` when `row_value` is given and differs.
template <typename V, typename Set>
void Replace(FieldMask& mask, const char* path, const V& current, const V& row_value, bool given,
             Set set) {
  if (!given || current == row_value) return;
  set(row_value);
  mask.add_paths(path);
}

// Adds to `into` (a copy of the record's list) every item of `row` that `same` finds in none of
// it; true if any was added.
template <typename T, typename Same>
bool AddNew(RepeatedPtrField<T>& into, const RepeatedPtrField<T>& row, Same same) {
  bool added = false;
  for (const T& item : row) {
    if (std::none_of(into.begin(), into.end(), [&](const T& have) { return same(have, item); })) {
      *into.Add() = item;
      added = true;
    }
  }
  return added;
}

// Adds the row's contact points, not primary where the record already has a primary one.
template <typename T, typename Key>
bool AddPoints(RepeatedPtrField<T>& into, const RepeatedPtrField<T>& row, Key key) {
  const bool had_primary =
      std::any_of(into.begin(), into.end(), [](const T& p) { return p.primary(); });
  const int before = into.size();
  const bool added = AddNew(into, row, [&](const T& a, const T& b) { return key(a) == key(b); });
  if (had_primary) {
    for (int i = before; i < into.size(); ++i) into.Mutable(i)->set_primary(false);
  }
  return added;
}

bool AddTags(RepeatedPtrField<std::string>& into, const RepeatedPtrField<std::string>& row) {
  return AddNew(into, row, [](const std::string& a, const std::string& b) { return a == b; });
}

template <typename Map>
bool MergeAttributes(Map& into, const Map& row) {
  bool changed = false;
  for (const auto& [key, value] : row) {
    auto it = into.find(key);
    if (it != into.end() && it->second == value) continue;
    into[key] = value;
    changed = true;
  }
  return changed;
}

}  // namespace

std::pair<Contact, FieldMask> ImportChanges(const Contact& current, const Contact& row) {
  Contact values;
  values.set_id(current.id());
  FieldMask mask;
  const auto& have = current.personal();
  const auto& put = row.personal();
  auto* personal = values.mutable_personal();
  Replace(mask, "personal.given_name", have.given_name(), put.given_name(),
          !put.given_name().empty(), [&](const std::string& v) { personal->set_given_name(v); });
  Replace(mask, "personal.family_name", have.family_name(), put.family_name(),
          !put.family_name().empty(), [&](const std::string& v) { personal->set_family_name(v); });
  *personal->mutable_emails() = have.emails();
  if (AddPoints(*personal->mutable_emails(), put.emails(),
                [](const auto& e) { return e.address(); })) {
    mask.add_paths("personal.emails");
  }
  *personal->mutable_phones() = have.phones();
  if (AddPoints(*personal->mutable_phones(), put.phones(),
                [](const auto& p) { return p.number(); })) {
    mask.add_paths("personal.phones");
  }
  *personal->mutable_addresses() = have.addresses();
  if (AddNew(*personal->mutable_addresses(), put.addresses(),
             [](const auto& a, const auto& b) { return MessageDifferencer::Equals(a, b); })) {
    mask.add_paths("personal.addresses");
  }
  Replace(mask, "job_title", current.job_title(), row.job_title(), !row.job_title().empty(),
          [&](const std::string& v) { values.set_job_title(v); });
  Replace(mask, "owner", current.owner(), row.owner(), !row.owner().empty(),
          [&](const std::string& v) { values.set_owner(v); });
  Replace(mask, "lifecycle_stage", current.lifecycle_stage(), row.lifecycle_stage(),
          row.lifecycle_stage() != crm::contact::v1::LIFECYCLE_STAGE_UNSPECIFIED,
          [&](crm::contact::v1::LifecycleStage v) { values.set_lifecycle_stage(v); });
  *values.mutable_tags() = current.tags();
  if (AddTags(*values.mutable_tags(), row.tags())) mask.add_paths("tags");
  *values.mutable_attributes() = current.attributes();
  if (MergeAttributes(*values.mutable_attributes(), row.attributes())) {
    mask.add_paths("attributes");
  }
  *values.mutable_affiliations() = current.affiliations();
  if (AddNew(*values.mutable_affiliations(), row.affiliations(),
             [](const auto& a, const auto& b) { return a.company_id() == b.company_id(); })) {
    mask.add_paths("affiliations");
  }
  // Consents: the row's word on a channel replaces the record's when it says something else.
  *values.mutable_consents() = current.consents();
  bool consents_changed = false;
  for (const auto& consent : row.consents()) {
    auto* consents = values.mutable_consents();
    auto it = std::find_if(consents->begin(), consents->end(),
                           [&](const auto& c) { return c.channel() == consent.channel(); });
    if (it == consents->end()) {
      *consents->Add() = consent;
      consents_changed = true;
    } else if (it->status() != consent.status()) {
      *it = consent;
      consents_changed = true;
    }
  }
  if (consents_changed) mask.add_paths("consents");
  return {std::move(values), std::move(mask)};
}

std::pair<Company, FieldMask> ImportCompanyChanges(const Company& current, const Company& row) {
  Company values;
  values.set_id(current.id());
  FieldMask mask;
  auto text = [&](const char* path, const std::string& have, const std::string& put,
                  void (Company::*set)(const std::string&)) {
    Replace(mask, path, have, put, !put.empty(), [&](const std::string& v) { (values.*set)(v); });
  };
  text("name", current.name(), row.name(), &Company::set_name);
  text("domain", current.domain(), row.domain(), &Company::set_domain);
  text("industry", current.industry(), row.industry(), &Company::set_industry);
  text("owner", current.owner(), row.owner(), &Company::set_owner);
  Replace(mask, "employee_count", current.employee_count(), row.employee_count(),
          row.employee_count() != 0, [&](int32_t v) { values.set_employee_count(v); });
  if (row.has_address() && !MessageDifferencer::Equals(current.address(), row.address())) {
    *values.mutable_address() = row.address();
    mask.add_paths("address");
  }
  *values.mutable_tags() = current.tags();
  if (AddTags(*values.mutable_tags(), row.tags())) mask.add_paths("tags");
  *values.mutable_attributes() = current.attributes();
  if (MergeAttributes(*values.mutable_attributes(), row.attributes())) {
    mask.add_paths("attributes");
  }
  return {std::move(values), std::move(mask)};
}

}  // namespace crm::contact
