#include "services/contact/api/validation.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/ids/ids.h"
#include "common/status/status_macros.h"
#include "common/validation/normalize.h"
#include "common/validation/request_fields.h"
#include "services/contact/domain/contact.h"

namespace crm::contact {

using crm::contact::v1::ConsentChannel_IsValid;
using crm::contact::v1::ConsentStatus_IsValid;
using crm::contact::v1::LifecycleStage_IsValid;

namespace {

using validation::CheckRequestId;
using validation::CheckText;
using validation::CheckTimestamp;
using validation::CheckWriteCommon;
using validation::Invalid;
using validation::PageSize;

absl::Status CheckId(const std::string& field, const std::string& id) {
  return validation::CheckId(field, id, "contact");
}

// Per-field checks; each normalises its field of `c` in place. `f` is the field path prefix
// ("contact.").
using FieldCheck = absl::Status (*)(Contact& c, const std::string& f);

absl::Status CheckGivenName(Contact& c, const std::string& f) {
  auto* v = c.mutable_personal()->mutable_given_name();
  *v = std::string(absl::StripAsciiWhitespace(*v));
  return CheckText(f + "personal.given_name", *v, kMaxNameChars);
}

absl::Status CheckFamilyName(Contact& c, const std::string& f) {
  auto* v = c.mutable_personal()->mutable_family_name();
  *v = std::string(absl::StripAsciiWhitespace(*v));
  return CheckText(f + "personal.family_name", *v, kMaxNameChars);
}

// Normalises a list of contact points (emails or phones) that have address/number, primary
// and label.
template <typename Points, typename Getter, typename Normalizer>
absl::Status CheckPoints(Points* points, const std::string& field, const char* value_name,
                         size_t max, Getter get, Normalizer normalize) {
  if (static_cast<size_t>(points->size()) > max) {
    return Invalid(field, absl::StrCat("at most ", max, " are allowed"));
  }
  std::map<std::string, int> seen;
  int primary = -1;
  for (int i = 0; i < points->size(); ++i) {
    auto* p = points->Mutable(i);
    const std::string item = absl::StrCat(field, "[", i, "]");
    absl::StatusOr<std::string> normal = normalize(*get(p));
    if (!normal.ok())
      return Invalid(absl::StrCat(item, ".", value_name), std::string(normal.status().message()));
    *get(p) = *normal;
    if (auto [it, inserted] = seen.emplace(*normal, i); !inserted) {
      return Invalid(absl::StrCat(item, ".", value_name),
                     absl::StrCat("duplicates ", field, "[", it->second, "]"));
    }
    if (absl::Status s = CheckText(item + ".label", p->label(), kMaxLabelChars); !s.ok()) return s;
    if (p->primary()) {
      if (primary >= 0) {
        return Invalid(absl::StrCat(item, ".primary"),
                       absl::StrCat("only one may be primary; ", field, "[", primary, "] is"));
      }
      primary = i;
    }
  }
  if (primary < 0 && !points->empty()) points->Mutable(0)->set_primary(true);
  return absl::OkStatus();
}

absl::Status CheckEmails(Contact& c, const std::string& f) {
  return CheckPoints(
      c.mutable_personal()->mutable_emails(), f + "personal.emails", "address", kMaxEmails,
      [](crm::contact::v1::EmailAddress* e) { return e->mutable_address(); },
      [](const std::string& v) { return validation::NormalizeEmail(v); });
}

absl::Status CheckPhones(Contact& c, const std::string& f) {
  return CheckPoints(
      c.mutable_personal()->mutable_phones(), f + "personal.phones", "number", kMaxPhones,
      [](crm::contact::v1::PhoneNumber* p) { return p->mutable_number(); },
      [](const std::string& v) { return validation::NormalizePhone(v); });
}

absl::Status CheckAddress(crm::contact::v1::PostalAddress* a, const std::string& item) {
  if (static_cast<size_t>(a->lines_size()) > kMaxAddressLines) {
    return Invalid(item + ".lines", absl::StrCat("at most ", kMaxAddressLines, " are allowed"));
  }
  for (int l = 0; l < a->lines_size(); ++l) {
    if (absl::Status s = CheckText(absl::StrCat(item, ".lines[", l, "]"), a->lines(l), 200);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = CheckText(item + ".label", a->label(), kMaxLabelChars); !s.ok()) return s;
  if (absl::Status s = CheckText(item + ".locality", a->locality(), 200); !s.ok()) return s;
  if (absl::Status s = CheckText(item + ".region", a->region(), 200); !s.ok()) return s;
  if (absl::Status s = CheckText(item + ".postal_code", a->postal_code(), 32); !s.ok()) return s;
  a->set_country_code(absl::AsciiStrToUpper(a->country_code()));
  const std::string& cc = a->country_code();
  if (cc.size() != 2 || !absl::ascii_isalpha(cc[0]) || !absl::ascii_isalpha(cc[1])) {
    return Invalid(item + ".country_code", "must be an ISO 3166-1 alpha-2 code such as \"DE\"");
  }
  return absl::OkStatus();
}

absl::Status CheckAddresses(Contact& c, const std::string& f) {
  auto* addresses = c.mutable_personal()->mutable_addresses();
  const std::string field = f + "personal.addresses";
  if (static_cast<size_t>(addresses->size()) > kMaxAddresses) {
    return Invalid(field, absl::StrCat("at most ", kMaxAddresses, " are allowed"));
  }
  for (int i = 0; i < addresses->size(); ++i) {
    if (absl::Status s = CheckAddress(addresses->Mutable(i), absl::StrCat(field, "[", i, "]"));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckAffiliations(Contact& c, const std::string& f) {
  const std::string field = f + "affiliations";
  if (static_cast<size_t>(c.affiliations_size()) > kMaxAffiliations) {
    return Invalid(field, absl::StrCat("at most ", kMaxAffiliations, " are allowed"));
  }
  std::map<std::string, int> seen;
  int primary = -1;
  for (int i = 0; i < c.affiliations_size(); ++i) {
    auto* a = c.mutable_affiliations(i);
    const std::string item = absl::StrCat(field, "[", i, "]");
    if (!ids::IsWellFormed(a->company_id())) {
      return Invalid(item + ".company_id", "must be a company id (26 characters)");
    }
    if (auto [it, inserted] = seen.emplace(a->company_id(), i); !inserted) {
      return Invalid(item + ".company_id",
                     absl::StrCat("duplicates ", field, "[", it->second, "]"));
    }
    a->set_role(std::string(absl::StripAsciiWhitespace(a->role())));
    if (absl::Status s = CheckText(item + ".role", a->role(), kMaxRoleChars); !s.ok()) return s;
    if (a->primary()) {
      if (primary >= 0) {
        return Invalid(item + ".primary",
                       absl::StrCat("only one may be primary; ", field, "[", primary, "] is"));
      }
      primary = i;
    }
  }
  if (primary < 0 && c.affiliations_size() > 0) c.mutable_affiliations(0)->set_primary(true);
  return absl::OkStatus();
}

absl::Status CheckJobTitle(Contact& c, const std::string& f) {
  return CheckText(f + "job_title", c.job_title(), kMaxNameChars);
}

template <typename T>
absl::Status CheckOwner(T& c, const std::string& f) {
  return validation::CheckPrincipal(f + "owner", c.owner(), kMaxOwnerChars);
}

absl::Status CheckLifecycle(Contact& c, const std::string& f) {
  if (!LifecycleStage_IsValid(c.lifecycle_stage())) {
    return Invalid(f + "lifecycle_stage", absl::StrCat("unknown value ", c.lifecycle_stage()));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status CheckTags(T& c, const std::string& f) {
  const std::string field = f + "tags";
  if (static_cast<size_t>(c.tags_size()) > kMaxTags) {
    return Invalid(field, absl::StrCat("at most ", kMaxTags, " are allowed"));
  }
  std::set<std::string> seen;
  for (int i = 0; i < c.tags_size(); ++i) {
    std::string tag = absl::AsciiStrToLower(absl::StripAsciiWhitespace(c.tags(i)));
    const std::string item = absl::StrCat(field, "[", i, "]");
    if (absl::Status s = CheckText(item, tag, kMaxTagChars, /*required=*/true); !s.ok()) return s;
    if (!seen.insert(tag).second) return Invalid(item, absl::StrCat("duplicate tag \"", tag, "\""));
    c.set_tags(i, tag);
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status CheckAttributes(T& c, const std::string& f) {
  const std::string field = f + "attributes";
  if (static_cast<size_t>(c.attributes_size()) > kMaxAttributes) {
    return Invalid(field, absl::StrCat("at most ", kMaxAttributes, " entries are allowed"));
  }
  for (const auto& [key, value] : c.attributes()) {
    if (key.empty() || key.size() > kMaxAttributeKeyChars) {
      return Invalid(field, absl::StrCat("key \"", key, "\" must be 1 to ", kMaxAttributeKeyChars,
                                         " characters"));
    }
    for (char ch : key) {
      if (!absl::ascii_isalnum(ch) && ch != '_' && ch != '-' && ch != '.') {
        return Invalid(field, absl::StrCat("key \"", key, "\" may hold only A-Z a-z 0-9 _ - ."));
      }
    }
    if (absl::Status s =
            CheckText(absl::StrCat(field, "[\"", key, "\"]"), value, kMaxAttributeValueChars);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckConsents(Contact& c, const std::string& f) {
  const std::string field = f + "consents";
  std::set<int> channels;
  for (int i = 0; i < c.consents_size(); ++i) {
    const auto& consent = c.consents(i);
    const std::string item = absl::StrCat(field, "[", i, "]");
    if (consent.channel() == crm::contact::v1::CONSENT_CHANNEL_UNSPECIFIED ||
        !ConsentChannel_IsValid(consent.channel())) {
      return Invalid(item + ".channel", "must be EMAIL, SMS, PHONE or POST");
    }
    if (consent.status() == crm::contact::v1::CONSENT_STATUS_UNSPECIFIED ||
        !ConsentStatus_IsValid(consent.status())) {
      return Invalid(item + ".status", "must be GRANTED or DENIED");
    }
    if (!channels.insert(consent.channel()).second) {
      return Invalid(item + ".channel", "appears twice; give one consent per channel");
    }
    if (consent.has_recorded_at()) {
      if (absl::Status s = CheckTimestamp(item + ".recorded_at", consent.recorded_at()); !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = CheckText(item + ".source", consent.source(), 200); !s.ok()) return s;
  }
  return absl::OkStatus();
}

const std::map<std::string, FieldCheck>& FieldChecks() {
  static const auto* checks = new std::map<std::string, FieldCheck>{
      {"personal.given_name", &CheckGivenName},
      {"personal.family_name", &CheckFamilyName},
      {"personal.emails", &CheckEmails},
      {"personal.phones", &CheckPhones},
      {"personal.addresses", &CheckAddresses},
      {"job_title", &CheckJobTitle},
      {"owner", &CheckOwner<Contact>},
      {"lifecycle_stage", &CheckLifecycle},
      {"tags", &CheckTags<Contact>},
      {"attributes", &CheckAttributes<Contact>},
      {"consents", &CheckConsents},
      {"affiliations", &CheckAffiliations},
  };
  return *checks;
}

// Company fields.
using CompanyCheck = absl::Status (*)(Company& c, const std::string& f);

absl::Status CheckCompanyName(Company& c, const std::string& f) {
  c.set_name(std::string(absl::StripAsciiWhitespace(c.name())));
  return CheckText(f + "name", c.name(), kMaxNameChars, /*required=*/true);
}

absl::Status CheckDomain(Company& c, const std::string& f) {
  if (c.domain().empty()) return absl::OkStatus();
  absl::StatusOr<std::string> d = validation::NormalizeDomain(c.domain());
  if (!d.ok()) return Invalid(f + "domain", std::string(d.status().message()));
  c.set_domain(*d);
  return absl::OkStatus();
}

absl::Status CheckIndustry(Company& c, const std::string& f) {
  c.set_industry(std::string(absl::StripAsciiWhitespace(c.industry())));
  return CheckText(f + "industry", c.industry(), kMaxIndustryChars);
}

absl::Status CheckEmployees(Company& c, const std::string& f) {
  if (c.employee_count() < 0 || c.employee_count() > 10000000) {
    return Invalid(f + "employee_count", "must be 0 to 10000000");
  }
  return absl::OkStatus();
}

absl::Status CheckCompanyAddress(Company& c, const std::string& f) {
  if (!c.has_address()) return absl::OkStatus();
  return CheckAddress(c.mutable_address(), f + "address");
}

const std::map<std::string, CompanyCheck>& CompanyChecks() {
  static const auto* checks = new std::map<std::string, CompanyCheck>{
      {"name", &CheckCompanyName},       {"domain", &CheckDomain},
      {"industry", &CheckIndustry},      {"employee_count", &CheckEmployees},
      {"address", &CheckCompanyAddress}, {"owner", &CheckOwner<Company>},
      {"tags", &CheckTags<Company>},     {"attributes", &CheckAttributes<Company>},
  };
  return *checks;
}

// Page tokens, bound to the request without its paging fields.
template <typename Request>
std::string MakeToken(char kind, const Request& request, const std::string& position) {
  return validation::MakePageToken(kind, validation::PagingIdentity(request), position);
}

template <typename Request>
absl::StatusOr<std::string> ReadToken(const Request& request, char kind) {
  return validation::ReadPageToken(request.page_token(), kind, validation::PagingIdentity(request));
}

absl::Status CheckAsOf(const google::protobuf::Timestamp& as_of) {
  return CheckTimestamp("as_of", as_of);
}

template <typename Request>
absl::StatusOr<ValidSearch> SearchRequest(const Request& request, char kind) {
  ValidSearch out;
  const std::string query(absl::StripAsciiWhitespace(request.query()));
  if (absl::Status s = CheckText("query", query, 200, /*required=*/true); !s.ok()) return s;
  out.words = QueryWords(query);
  if (out.words.empty()) return Invalid("query", "must contain a letter or digit");
  ASSIGN_OR_RETURN(out.page_size, PageSize(request.page_size(), 100, 20));
  out.show_archived = request.show_archived();
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(std::string offset, ReadToken(request, kind));
    if (!absl::SimpleAtoi(offset, &out.offset)) {
      return Invalid("page_token", "is not a token this service issued");
    }
  }
  return out;
}

template <typename Request>
absl::StatusOr<ValidList> ListRequest(const Request& request, char kind) {
  ValidList out;
  ASSIGN_OR_RETURN(out.page_size, PageSize(request.page_size(), 1000, 50));
  if (request.owner().size() > kMaxOwnerChars) {
    return Invalid("owner", absl::StrCat("must be at most ", kMaxOwnerChars, " characters"));
  }
  out.filter.owner = request.owner();
  const std::string tag = absl::AsciiStrToLower(absl::StripAsciiWhitespace(request.tag()));
  if (absl::Status s = CheckText("tag", tag, kMaxTagChars); !s.ok()) return s;
  out.filter.tag = tag;
  out.filter.show_archived = request.show_archived();
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(std::string after, ReadToken(request, kind));
    if (!ids::IsWellFormed(after))
      return Invalid("page_token", "is not a token this service issued");
    out.resume_after = after;
  }
  return out;
}

template <typename Request>
absl::StatusOr<ValidHistory> HistoryRequest(const Request& request, char kind) {
  ValidHistory out;
  RETURN_IF_ERROR(CheckId("id", request.id()));
  ASSIGN_OR_RETURN(out.page_size, PageSize(request.page_size(), 1000, 100));
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(std::string after, ReadToken(request, kind));
    if (!absl::SimpleAtoi(after, &out.offset) || out.offset < 0) {
      return Invalid("page_token", "is not a token this service issued");
    }
  }
  return out;
}

// Validates and normalises the fields named in `mask` (with "personal" expanded for contacts).
template <typename T, typename Checks>
absl::StatusOr<ValidUpdate<T>> UpdateFields(const T& values,
                                            const google::protobuf::FieldMask& mask,
                                            const Checks& checks, const std::string& prefix,
                                            bool contact) {
  if (mask.paths().empty()) return Invalid("update_mask", "must name at least one field to change");
  ValidUpdate<T> out;
  out.values = values;
  std::set<std::string> paths;
  for (const std::string& path : mask.paths()) {
    if (contact && path == "personal") {
      for (const char* p : {"personal.given_name", "personal.family_name", "personal.emails",
                            "personal.phones", "personal.addresses"}) {
        paths.insert(p);
      }
    } else if (checks.contains(path)) {
      paths.insert(path);
    } else {
      std::string allowed = contact ? "personal, " : "";
      for (const auto& [name, check] : checks) absl::StrAppend(&allowed, name, " ");
      return Invalid(
          "update_mask",
          absl::StrCat("\"", path, "\" is not a field that can be updated; use one of: ", allowed));
    }
  }
  for (const std::string& path : paths) {
    RETURN_IF_ERROR(checks.at(path)(out.values, prefix));
    out.mask.add_paths(path);
  }
  return out;
}

absl::Status CheckRelationship(const Relationship& r) {
  RETURN_IF_ERROR(CheckId("relationship.company_id", r.company_id()));
  RETURN_IF_ERROR(CheckId("relationship.related_company_id", r.related_company_id()));
  if (r.company_id() == r.related_company_id()) {
    return Invalid("relationship.related_company_id", "must differ from company_id");
  }
  if (r.type() == crm::contact::v1::RELATIONSHIP_TYPE_UNSPECIFIED ||
      !crm::contact::v1::RelationshipType_IsValid(r.type())) {
    return Invalid("relationship.type",
                   "must be CUSTOMER, VENDOR, SUPPLIER, PARTNER, DISTRIBUTOR or RESELLER");
  }
  return absl::OkStatus();
}

}  // namespace

// --- Contacts ---------------------------------------------------------------------------------

absl::StatusOr<Contact> ValidateCreate(const crm::contact::v1::CreateContactRequest& request) {
  RETURN_IF_ERROR(CheckRequestId(request.request_id()));
  if (!request.has_contact()) return Invalid("contact", "is required");
  Contact c = request.contact();
  if (!c.id().empty()) return Invalid("contact.id", "must be empty; the service assigns ids");
  for (const auto& [path, check] : FieldChecks()) RETURN_IF_ERROR(check(c, "contact."));
  return c;
}

absl::StatusOr<ValidUpdate<Contact>> ValidateUpdate(
    const crm::contact::v1::UpdateContactRequest& request) {
  RETURN_IF_ERROR(CheckWriteCommon(request.request_id(), request.expected_version()));
  if (!request.has_contact()) return Invalid("contact", "is required");
  RETURN_IF_ERROR(CheckId("contact.id", request.contact().id()));
  return UpdateFields(request.contact(), request.update_mask(), FieldChecks(), "contact.", true);
}

absl::Status ValidateGet(const crm::contact::v1::GetContactRequest& request) {
  RETURN_IF_ERROR(CheckId("id", request.id()));
  return request.has_as_of() ? CheckAsOf(request.as_of()) : absl::OkStatus();
}

absl::Status ValidateDelete(const crm::contact::v1::DeleteContactRequest& request) {
  RETURN_IF_ERROR(CheckWriteCommon(request.request_id(), request.expected_version()));
  return CheckId("id", request.id());
}

absl::Status ValidateErase(const crm::contact::v1::EraseContactRequest& request) {
  RETURN_IF_ERROR(CheckWriteCommon(request.request_id(), 0));
  return CheckId("id", request.id());
}

absl::Status ValidateExport(const crm::contact::v1::ExportContactDataRequest& request) {
  return CheckId("id", request.id());
}

absl::StatusOr<ValidList> ValidateList(const crm::contact::v1::ListContactsRequest& request) {
  ASSIGN_OR_RETURN(ValidList out, ListRequest(request, 'L'));
  if (!LifecycleStage_IsValid(request.lifecycle_stage())) {
    return Invalid("lifecycle_stage", absl::StrCat("unknown value ", request.lifecycle_stage()));
  }
  out.filter.lifecycle_stage = request.lifecycle_stage();
  if (request.has_updated_since()) {
    RETURN_IF_ERROR(CheckTimestamp("updated_since", request.updated_since()));
    out.filter.updated_since = request.updated_since();
  }
  if (!request.company_id().empty()) {
    if (!ids::IsWellFormed(request.company_id())) {
      return Invalid("company_id", "must be a company id (26 characters)");
    }
    out.filter.company_id = request.company_id();
  }
  return out;
}

std::string ListPageToken(const crm::contact::v1::ListContactsRequest& request,
                          const std::string& resume_after) {
  return MakeToken('L', request, resume_after);
}

absl::StatusOr<ValidSearch> ValidateSearch(const crm::contact::v1::SearchContactsRequest& request) {
  return SearchRequest(request, 'S');
}

std::string SearchPageToken(const crm::contact::v1::SearchContactsRequest& request, size_t offset) {
  return MakeToken('S', request, std::to_string(offset));
}

absl::StatusOr<ValidHistory> ValidateHistory(
    const crm::contact::v1::GetContactHistoryRequest& request) {
  return HistoryRequest(request, 'H');
}

std::string HistoryPageToken(const crm::contact::v1::GetContactHistoryRequest& request,
                             int64_t offset) {
  return MakeToken('H', request, std::to_string(offset));
}

absl::StatusOr<ValidMerge> ValidateMerge(const crm::contact::v1::MergeContactsRequest& request) {
  RETURN_IF_ERROR(CheckRequestId(request.request_id()));
  RETURN_IF_ERROR(CheckId("survivor_id", request.survivor_id()));
  RETURN_IF_ERROR(CheckId("merged_id", request.merged_id()));
  if (request.survivor_id() == request.merged_id()) {
    return Invalid("merged_id", "must differ from survivor_id");
  }
  if (request.survivor_expected_version() < 0) {
    return Invalid("survivor_expected_version", "must not be negative");
  }
  if (request.merged_expected_version() < 0) {
    return Invalid("merged_expected_version", "must not be negative");
  }
  static const std::set<std::string> kTakeable = {
      "personal.given_name", "personal.family_name", "job_title", "owner",
      "lifecycle_stage",     "attributes",           "consents"};
  ValidMerge out;
  std::set<std::string> paths;
  for (const std::string& path : request.update_mask().paths()) {
    if (path == "personal") {
      paths.insert("personal.given_name");
      paths.insert("personal.family_name");
    } else if (kTakeable.contains(path)) {
      paths.insert(path);
    } else {
      return Invalid("update_mask",
                     absl::StrCat("\"", path,
                                  "\" cannot be taken from the merged contact; use "
                                  "personal.given_name, personal.family_name, job_title, owner, "
                                  "lifecycle_stage, attributes or consents (lists are unioned)"));
    }
  }
  for (const std::string& p : paths) out.mask.add_paths(p);
  return out;
}

absl::Status ValidateUnmerge(const crm::contact::v1::UnmergeContactsRequest& request) {
  RETURN_IF_ERROR(CheckRequestId(request.request_id()));
  return CheckId("merged_id", request.merged_id());
}

absl::Status ValidateContactQuality(const crm::contact::v1::GetContactQualityRequest& request) {
  return CheckId("contact_id", request.contact_id());
}

absl::Status ValidateCompanyQuality(const crm::contact::v1::GetCompanyQualityRequest& request) {
  return CheckId("company_id", request.company_id());
}

absl::StatusOr<ValidIncomplete> ValidateListIncomplete(
    const crm::contact::v1::ListIncompleteContactsRequest& request) {
  ValidIncomplete out;
  ASSIGN_OR_RETURN(out.page_size, PageSize(request.page_size(), 1000, 50));
  if (request.below() < 0 || request.below() > 100) return Invalid("below", "must be 0 to 100");
  if (request.below() != 0) out.below = request.below();
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(std::string raw, ReadToken(request, 'Q'));
    if (!absl::WebSafeBase64Unescape(raw, &out.resume_after) || out.resume_after.size() < 6) {
      return Invalid("page_token", "is not a token this service issued");
    }
  }
  return out;
}

std::string IncompletePageToken(const crm::contact::v1::ListIncompleteContactsRequest& request,
                                const std::string& resume_after) {
  return MakeToken('Q', request, absl::WebSafeBase64Escape(resume_after));
}

absl::Status ValidateQualityRules(const crm::contact::v1::UpdateDataQualityRulesRequest& request) {
  RETURN_IF_ERROR(CheckRequestId(request.request_id()));
  if (!request.has_rules()) return Invalid("rules", "is required");
  const auto& rules = request.rules();
  std::set<int> seen;
  for (int i = 0; i < rules.weights_size(); ++i) {
    const auto& w = rules.weights(i);
    const std::string item = absl::StrCat("rules.weights[", i, "]");
    if (w.check() == crm::contact::v1::QUALITY_CHECK_UNSPECIFIED ||
        !crm::contact::v1::QualityCheck_IsValid(w.check())) {
      return Invalid(item + ".check", "must name a check such as NAME or REACHABLE");
    }
    if (!seen.insert(w.check()).second) return Invalid(item + ".check", "appears twice");
    if (w.weight() < 0 || w.weight() > 10) return Invalid(item + ".weight", "must be 0 to 10");
  }
  if (rules.stale_after_days() < 0 || rules.stale_after_days() > 3650) {
    return Invalid("rules.stale_after_days", "must be 0 (off) to 3650");
  }
  return absl::OkStatus();
}

absl::Status ValidateFindDuplicates(const crm::contact::v1::FindDuplicatesRequest& request) {
  return CheckId("contact_id", request.contact_id());
}

absl::StatusOr<ValidDuplicateList> ValidateListDuplicates(
    const crm::contact::v1::ListDuplicateCandidatesRequest& request) {
  ValidDuplicateList out;
  ASSIGN_OR_RETURN(out.page_size, PageSize(request.page_size(), 1000, 100));
  if (request.min_score() != 0 && !(request.min_score() >= 0.5 && request.min_score() <= 1)) {
    return Invalid("min_score", "must be 0 (meaning 0.5) or between 0.5 and 1");
  }
  if (request.min_score() != 0) out.min_score = request.min_score();
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(std::string raw, ReadToken(request, 'D'));
    if (!absl::WebSafeBase64Unescape(raw, &out.resume_after)) {
      return Invalid("page_token", "is not a token this service issued");
    }
  }
  return out;
}

std::string DuplicatesPageToken(const crm::contact::v1::ListDuplicateCandidatesRequest& request,
                                const std::string& resume_after) {
  // The position is binary: encode it before it goes into the token.
  return MakeToken('D', request, absl::WebSafeBase64Escape(resume_after));
}

// --- Companies --------------------------------------------------------------------------------

absl::StatusOr<Company> ValidateCreateCompany(
    const crm::contact::v1::CreateCompanyRequest& request) {
  RETURN_IF_ERROR(CheckRequestId(request.request_id()));
  if (!request.has_company()) return Invalid("company", "is required");
  Company c = request.company();
  if (!c.id().empty()) return Invalid("company.id", "must be empty; the service assigns ids");
  if (c.relationships_size() > 0) {
    return Invalid("company.relationships", "must be empty; use AddRelationship");
  }
  for (const auto& [path, check] : CompanyChecks()) RETURN_IF_ERROR(check(c, "company."));
  return c;
}

// --- Import -----------------------------------------------------------------------------------

namespace {

absl::Status ValidateImportContact(Contact& c) {
  // Output-only fields are the service's to set.
  for (int f : {Contact::kArchivedFieldNumber, Contact::kVersionFieldNumber,
                Contact::kCreateTimeFieldNumber, Contact::kUpdateTimeFieldNumber,
                Contact::kArchiveTimeFieldNumber, Contact::kMergedIntoFieldNumber,
                Contact::kMergedIdsFieldNumber, Contact::kErasedFieldNumber,
                Contact::kEraseTimeFieldNumber}) {
    c.GetReflection()->ClearField(&c, Contact::descriptor()->FindFieldByNumber(f));
  }
  if (!c.id().empty()) RETURN_IF_ERROR(CheckId("contact.id", c.id()));
  for (const auto& [path, check] : FieldChecks()) RETURN_IF_ERROR(check(c, "contact."));
  return absl::OkStatus();
}

absl::Status ValidateImportCompany(Company& c) {
  for (int f : {Company::kRelationshipsFieldNumber, Company::kArchivedFieldNumber,
                Company::kVersionFieldNumber, Company::kCreateTimeFieldNumber,
                Company::kUpdateTimeFieldNumber, Company::kArchiveTimeFieldNumber}) {
    c.GetReflection()->ClearField(&c, Company::descriptor()->FindFieldByNumber(f));
  }
  if (!c.id().empty()) RETURN_IF_ERROR(validation::CheckId("company.id", c.id(), "company"));
  for (const auto& [path, check] : CompanyChecks()) RETURN_IF_ERROR(check(c, "company."));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ImportItem>> ValidateImport(
    const crm::contact::v1::ImportRecordsRequest& request) {
  RETURN_IF_ERROR(validation::CheckImportBatch(request));
  std::vector<ImportItem> items;
  items.reserve(request.rows_size());
  for (const auto& row : request.rows()) {
    ImportItem item;
    item.row = row.row();
    if (row.has_contact()) {
      Contact c = row.contact();
      item.archived = c.archived();
      if (!c.merged_into().empty()) {
        item.skip = absl::StrCat("contact.merged_into: merged into ", c.merged_into(),
                                 ", which holds its data");
      } else if (c.erased()) {
        item.skip = "contact.erased: an erased contact has no data to import";
      }
      item.invalid = ValidateImportContact(c);
      if (!c.id().empty()) item.keys.push_back("id:" + c.id());
      for (const auto& e : c.personal().emails()) item.keys.push_back("e:" + e.address());
      for (const auto& p : c.personal().phones()) item.keys.push_back("p:" + p.number());
      item.contact = std::move(c);
    } else if (row.has_company()) {
      Company c = row.company();
      item.archived = c.archived();
      item.invalid = ValidateImportCompany(c);
      if (!c.id().empty()) item.keys.push_back("id:" + c.id());
      if (!c.domain().empty()) item.keys.push_back("d:" + c.domain());
      item.company = std::move(c);
    } else {
      item.invalid = Invalid("record", "a contact or a company is required");
    }
    items.push_back(std::move(item));
  }
  return items;
}

absl::Status ValidateUndoImport(const crm::contact::v1::UndoImportRequest& request) {
  return validation::CheckImportId("import_id", request.import_id());
}

absl::StatusOr<ValidUpdate<Company>> ValidateUpdateCompany(
    const crm::contact::v1::UpdateCompanyRequest& request) {
  RETURN_IF_ERROR(CheckWriteCommon(request.request_id(), request.expected_version()));
  if (!request.has_company()) return Invalid("company", "is required");
  RETURN_IF_ERROR(CheckId("company.id", request.company().id()));
  return UpdateFields(request.company(), request.update_mask(), CompanyChecks(), "company.", false);
}

absl::Status ValidateGetCompany(const crm::contact::v1::GetCompanyRequest& request) {
  RETURN_IF_ERROR(CheckId("id", request.id()));
  return request.has_as_of() ? CheckAsOf(request.as_of()) : absl::OkStatus();
}

absl::Status ValidateDeleteCompany(const crm::contact::v1::DeleteCompanyRequest& request) {
  RETURN_IF_ERROR(CheckWriteCommon(request.request_id(), request.expected_version()));
  return CheckId("id", request.id());
}

absl::StatusOr<ValidList> ValidateListCompanies(
    const crm::contact::v1::ListCompaniesRequest& request) {
  ASSIGN_OR_RETURN(ValidList out, ListRequest(request, 'l'));
  const std::string industry(absl::StripAsciiWhitespace(request.industry()));
  RETURN_IF_ERROR(CheckText("industry", industry, kMaxIndustryChars));
  out.filter.industry = industry;
  return out;
}

std::string ListCompaniesPageToken(const crm::contact::v1::ListCompaniesRequest& request,
                                   const std::string& resume_after) {
  return MakeToken('l', request, resume_after);
}

absl::StatusOr<ValidSearch> ValidateSearchCompanies(
    const crm::contact::v1::SearchCompaniesRequest& request) {
  return SearchRequest(request, 's');
}

std::string SearchCompaniesPageToken(const crm::contact::v1::SearchCompaniesRequest& request,
                                     size_t offset) {
  return MakeToken('s', request, std::to_string(offset));
}

absl::StatusOr<ValidHistory> ValidateCompanyHistory(
    const crm::contact::v1::GetCompanyHistoryRequest& request) {
  return HistoryRequest(request, 'h');
}

std::string CompanyHistoryPageToken(const crm::contact::v1::GetCompanyHistoryRequest& request,
                                    int64_t offset) {
  return MakeToken('h', request, std::to_string(offset));
}

absl::Status ValidateAddRelationship(const crm::contact::v1::AddRelationshipRequest& request) {
  RETURN_IF_ERROR(CheckWriteCommon(request.request_id(), request.expected_version()));
  if (!request.has_relationship()) return Invalid("relationship", "is required");
  return CheckRelationship(request.relationship());
}

absl::Status ValidateRemoveRelationship(
    const crm::contact::v1::RemoveRelationshipRequest& request) {
  RETURN_IF_ERROR(CheckWriteCommon(request.request_id(), request.expected_version()));
  if (!request.has_relationship()) return Invalid("relationship", "is required");
  return CheckRelationship(request.relationship());
}

absl::Status ValidateListRelationships(const crm::contact::v1::ListRelationshipsRequest& request) {
  if (!ids::IsWellFormed(request.company_id())) {
    return Invalid("company_id", request.company_id().empty()
                                     ? "is required"
                                     : "must be a company id (26 characters)");
  }
  return absl::OkStatus();
}

}  // namespace crm::contact
