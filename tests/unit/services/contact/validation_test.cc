// Every bad field of every ContactService request is refused with INVALID_ARGUMENT naming it.
#include "services/contact/api/validation.h"

#include <gtest/gtest.h>

namespace crm::contact {
namespace {

using crm::contact::v1::CreateContactRequest;

void ExpectInvalid(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message().substr(0, field.size()), field) << s;
}

CreateContactRequest Valid() {
  CreateContactRequest r;
  r.mutable_contact()->mutable_personal()->set_given_name("Ada");
  return r;
}

TEST(ValidateCreate, NormalisesContactPoints) {
  CreateContactRequest r = Valid();
  auto* p = r.mutable_contact()->mutable_personal();
  p->add_emails()->set_address(" ADA@Example.com ");
  p->add_emails()->set_address("ada2@example.com");
  p->add_phones()->set_number("+44 20 7946 0958");
  r.mutable_contact()->add_tags(" VIP ");
  auto c = ValidateCreate(r);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->personal().emails(0).address(), "ada@example.com");
  EXPECT_TRUE(c->personal().emails(0).primary());
  EXPECT_FALSE(c->personal().emails(1).primary());
  EXPECT_EQ(c->personal().phones(0).number(), "+442079460958");
  EXPECT_EQ(c->tags(0), "vip");
}

struct BadCase {
  std::string name;
  std::function<void(CreateContactRequest&)> mutate;
  std::string field;
};

class BadCreate : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadCreate, NamesTheField) {
  CreateContactRequest r = Valid();
  GetParam().mutate(r);
  ExpectInvalid(ValidateCreate(r).status(), GetParam().field);
}

INSTANTIATE_TEST_SUITE_P(
    Fields, BadCreate,
    ::testing::Values(
        BadCase{"missing", [](auto& r) { r.clear_contact(); }, "contact"},
        BadCase{"id", [](auto& r) { r.mutable_contact()->set_id("X"); }, "contact.id"},
        BadCase{"long_name",
                [](auto& r) {
                  r.mutable_contact()->mutable_personal()->set_given_name(std::string(201, 'a'));
                },
                "contact.personal.given_name"},
        BadCase{"control_char",
                [](auto& r) { r.mutable_contact()->mutable_personal()->set_family_name("a\x01"); },
                "contact.personal.family_name"},
        BadCase{"bad_email",
                [](auto& r) {
                  r.mutable_contact()->mutable_personal()->add_emails()->set_address("nope");
                },
                "contact.personal.emails[0].address"},
        BadCase{"duplicate_email",
                [](auto& r) {
                  auto* p = r.mutable_contact()->mutable_personal();
                  p->add_emails()->set_address("a@example.com");
                  p->add_emails()->set_address("A@EXAMPLE.com");
                },
                "contact.personal.emails[1].address"},
        BadCase{"two_primaries",
                [](auto& r) {
                  auto* p = r.mutable_contact()->mutable_personal();
                  auto* a = p->add_emails();
                  a->set_address("a@example.com");
                  a->set_primary(true);
                  auto* b = p->add_emails();
                  b->set_address("b@example.com");
                  b->set_primary(true);
                },
                "contact.personal.emails[1].primary"},
        BadCase{"too_many_emails",
                [](auto& r) {
                  for (int i = 0; i < 21; ++i) {
                    r.mutable_contact()->mutable_personal()->add_emails()->set_address(
                        "a" + std::to_string(i) + "@example.com");
                  }
                },
                "contact.personal.emails"},
        BadCase{"bad_phone",
                [](auto& r) {
                  r.mutable_contact()->mutable_personal()->add_phones()->set_number("12345");
                },
                "contact.personal.phones[0].number"},
        BadCase{"bad_country",
                [](auto& r) {
                  r.mutable_contact()->mutable_personal()->add_addresses()->set_country_code("XYZ");
                },
                "contact.personal.addresses[0].country_code"},
        BadCase{"too_many_lines",
                [](auto& r) {
                  auto* a = r.mutable_contact()->mutable_personal()->add_addresses();
                  a->set_country_code("DE");
                  for (int i = 0; i < 5; ++i) a->add_lines("x");
                },
                "contact.personal.addresses[0].lines"},
        BadCase{"owner_chars", [](auto& r) { r.mutable_contact()->set_owner("a b"); },
                "contact.owner"},
        BadCase{"stage",
                [](auto& r) {
                  r.mutable_contact()->set_lifecycle_stage(
                      static_cast<crm::contact::v1::LifecycleStage>(99));
                },
                "contact.lifecycle_stage"},
        BadCase{"empty_tag", [](auto& r) { r.mutable_contact()->add_tags(" "); },
                "contact.tags[0]"},
        BadCase{"duplicate_tag",
                [](auto& r) {
                  r.mutable_contact()->add_tags("a");
                  r.mutable_contact()->add_tags("A");
                },
                "contact.tags[1]"},
        BadCase{"attribute_key",
                [](auto& r) { (*r.mutable_contact()->mutable_attributes())["bad key"] = "v"; },
                "contact.attributes"},
        BadCase{"attribute_value",
                [](auto& r) {
                  (*r.mutable_contact()->mutable_attributes())["k"] = std::string(1025, 'v');
                },
                "contact.attributes[\"k\"]"},
        BadCase{"consent_channel",
                [](auto& r) {
                  r.mutable_contact()->add_consents()->set_status(
                      crm::contact::v1::CONSENT_STATUS_GRANTED);
                },
                "contact.consents[0].channel"},
        BadCase{"consent_twice",
                [](auto& r) {
                  for (int i = 0; i < 2; ++i) {
                    auto* c = r.mutable_contact()->add_consents();
                    c->set_channel(crm::contact::v1::CONSENT_CHANNEL_SMS);
                    c->set_status(crm::contact::v1::CONSENT_STATUS_DENIED);
                  }
                },
                "contact.consents[1].channel"},
        BadCase{"request_id", [](auto& r) { r.set_request_id("has space"); }, "request_id"}),
    [](const auto& info) { return info.param.name; });

TEST(ValidateUpdate, RefusesBadMasksAndIds) {
  crm::contact::v1::UpdateContactRequest r;
  ExpectInvalid(ValidateUpdate(r).status(), "contact");
  r.mutable_contact()->set_id("short");
  ExpectInvalid(ValidateUpdate(r).status(), "contact.id");
  r.mutable_contact()->set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  ExpectInvalid(ValidateUpdate(r).status(), "update_mask");
  r.mutable_update_mask()->add_paths("version");
  ExpectInvalid(ValidateUpdate(r).status(), "update_mask");
  r.mutable_update_mask()->clear_paths();
  r.mutable_update_mask()->add_paths("personal");
  r.mutable_contact()->mutable_personal()->add_emails()->set_address("bad");
  ExpectInvalid(ValidateUpdate(r).status(), "contact.personal.emails[0].address");
  r.mutable_contact()->mutable_personal()->clear_emails();
  r.set_expected_version(-1);
  ExpectInvalid(ValidateUpdate(r).status(), "expected_version");
  r.set_expected_version(0);
  auto ok = ValidateUpdate(r);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->mask.paths_size(), 5);  // "personal" expands to its fields.
}

TEST(ValidateGetAndDelete, NeedWellFormedIds) {
  crm::contact::v1::GetContactRequest get;
  ExpectInvalid(ValidateGet(get), "id");
  get.set_id("../../etc");
  ExpectInvalid(ValidateGet(get), "id");
  crm::contact::v1::DeleteContactRequest del;
  del.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  del.set_expected_version(-3);
  ExpectInvalid(ValidateDelete(del), "expected_version");
}

TEST(ValidateList, ChecksPagingAndFilters) {
  crm::contact::v1::ListContactsRequest r;
  r.set_page_size(-1);
  ExpectInvalid(ValidateList(r).status(), "page_size");
  r.set_page_size(1001);
  ExpectInvalid(ValidateList(r).status(), "page_size");
  r.set_page_size(10);
  r.set_page_token("garbage!");
  ExpectInvalid(ValidateList(r).status(), "page_token");
  r.clear_page_token();
  r.set_lifecycle_stage(static_cast<crm::contact::v1::LifecycleStage>(77));
  ExpectInvalid(ValidateList(r).status(), "lifecycle_stage");
  r.clear_lifecycle_stage();
  r.mutable_updated_since()->set_nanos(-5);
  ExpectInvalid(ValidateList(r).status(), "updated_since");
}

TEST(ValidateList, TokenRoundTripsAndIsBoundToTheFilters) {
  crm::contact::v1::ListContactsRequest r;
  r.set_owner("sam");
  const std::string token = ListPageToken(r, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  r.set_page_token(token);
  auto ok = ValidateList(r);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->resume_after, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  r.set_owner("someone-else");
  ExpectInvalid(ValidateList(r).status(), "page_token");
}

TEST(ValidateSearch, ChecksQueryAndPaging) {
  crm::contact::v1::SearchContactsRequest r;
  ExpectInvalid(ValidateSearch(r).status(), "query");
  r.set_query("  ,;  ");
  ExpectInvalid(ValidateSearch(r).status(), "query");
  r.set_query(std::string(201, 'a'));
  ExpectInvalid(ValidateSearch(r).status(), "query");
  r.set_query("ada");
  r.set_page_size(101);
  ExpectInvalid(ValidateSearch(r).status(), "page_size");
  r.set_page_size(0);
  r.set_page_token(SearchPageToken(r, 40));
  auto ok = ValidateSearch(r);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->offset, 40u);
  r.set_query("bob");
  ExpectInvalid(ValidateSearch(r).status(), "page_token");
}

}  // namespace
}  // namespace crm::contact

namespace crm::contact {
namespace {

constexpr char kId[] = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
constexpr char kOther[] = "01ARZ3NDEKTSV4RRFFQ69G5FAW";

void ExpectInvalidField(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message().substr(0, field.size()), field) << s;
}

TEST(ValidateCreateCompany, NormalisesAndNamesBadFields) {
  crm::contact::v1::CreateCompanyRequest r;
  ExpectInvalidField(ValidateCreateCompany(r).status(), "company");
  r.mutable_company()->set_name("  ");
  ExpectInvalidField(ValidateCreateCompany(r).status(), "company.name");
  r.mutable_company()->set_name("Acme");
  r.mutable_company()->set_domain("https://WWW.Acme.Example/about");
  auto ok = ValidateCreateCompany(r);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->domain(), "acme.example");
  r.mutable_company()->set_domain("not a domain");
  ExpectInvalidField(ValidateCreateCompany(r).status(), "company.domain");
  r.mutable_company()->set_domain("");
  r.mutable_company()->set_employee_count(-1);
  ExpectInvalidField(ValidateCreateCompany(r).status(), "company.employee_count");
  r.mutable_company()->set_employee_count(10);
  r.mutable_company()->mutable_address()->set_country_code("Germany");
  ExpectInvalidField(ValidateCreateCompany(r).status(), "company.address.country_code");
  r.mutable_company()->clear_address();
  r.mutable_company()->add_relationships();
  ExpectInvalidField(ValidateCreateCompany(r).status(), "company.relationships");
  r.mutable_company()->clear_relationships();
  r.mutable_company()->set_id(kId);
  ExpectInvalidField(ValidateCreateCompany(r).status(), "company.id");
}

TEST(ValidateUpdateCompany, ChecksMaskAndValues) {
  crm::contact::v1::UpdateCompanyRequest r;
  r.mutable_company()->set_id(kId);
  ExpectInvalidField(ValidateUpdateCompany(r).status(), "update_mask");
  r.mutable_update_mask()->add_paths("relationships");
  ExpectInvalidField(ValidateUpdateCompany(r).status(), "update_mask");
  r.mutable_update_mask()->set_paths(0, "name");
  ExpectInvalidField(ValidateUpdateCompany(r).status(), "company.name");
  r.mutable_company()->set_name("New");
  EXPECT_TRUE(ValidateUpdateCompany(r).ok());
}

TEST(ValidateRelationship, RefusesSelfUnknownTypeAndBadIds) {
  crm::contact::v1::AddRelationshipRequest r;
  ExpectInvalidField(ValidateAddRelationship(r), "relationship");
  auto* rel = r.mutable_relationship();
  rel->set_company_id(kId);
  rel->set_related_company_id("x");
  ExpectInvalidField(ValidateAddRelationship(r), "relationship.related_company_id");
  rel->set_related_company_id(kId);
  ExpectInvalidField(ValidateAddRelationship(r), "relationship.related_company_id");
  rel->set_related_company_id(kOther);
  ExpectInvalidField(ValidateAddRelationship(r), "relationship.type");
  rel->set_type(crm::contact::v1::RELATIONSHIP_TYPE_VENDOR);
  EXPECT_TRUE(ValidateAddRelationship(r).ok());
  crm::contact::v1::RemoveRelationshipRequest remove;
  *remove.mutable_relationship() = *rel;
  remove.set_expected_version(-1);
  ExpectInvalidField(ValidateRemoveRelationship(remove), "expected_version");
  crm::contact::v1::ListRelationshipsRequest list;
  ExpectInvalidField(ValidateListRelationships(list), "company_id");
}

TEST(ValidateHistoryAndAsOf, ChecksIdsPagingAndTimes) {
  crm::contact::v1::GetContactHistoryRequest h;
  ExpectInvalidField(ValidateHistory(h).status(), "id");
  h.set_id(kId);
  h.set_page_size(5000);
  ExpectInvalidField(ValidateHistory(h).status(), "page_size");
  h.set_page_size(0);
  h.set_page_token(HistoryPageToken(h, 7));
  auto ok = ValidateHistory(h);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->offset, 7);
  h.set_id(kOther);
  ExpectInvalidField(ValidateHistory(h).status(), "page_token");

  crm::contact::v1::GetContactRequest get;
  get.set_id(kId);
  get.mutable_as_of()->set_seconds(-70000000000);
  ExpectInvalidField(ValidateGet(get), "as_of");
  crm::contact::v1::GetCompanyRequest get_company;
  get_company.set_id(kId);
  get_company.mutable_as_of()->set_nanos(2000000000);
  ExpectInvalidField(ValidateGetCompany(get_company), "as_of");
}

TEST(ValidateAffiliations, NamesTheBadEntry) {
  crm::contact::v1::CreateContactRequest r;
  r.mutable_contact()->mutable_personal()->set_given_name("A");
  r.mutable_contact()->add_affiliations()->set_company_id("bad");
  ExpectInvalidField(ValidateCreate(r).status(), "contact.affiliations[0].company_id");
  r.mutable_contact()->mutable_affiliations(0)->set_company_id(kId);
  r.mutable_contact()->add_affiliations()->set_company_id(kId);
  ExpectInvalidField(ValidateCreate(r).status(), "contact.affiliations[1].company_id");
  r.mutable_contact()->mutable_affiliations(1)->set_company_id(kOther);
  auto ok = ValidateCreate(r);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->affiliations(0).primary());
  crm::contact::v1::ListContactsRequest list;
  list.set_company_id("x");
  ExpectInvalidField(ValidateList(list).status(), "company_id");
}

TEST(ValidateListAndSearchCompanies, ChecksPaging) {
  crm::contact::v1::ListCompaniesRequest list;
  list.set_page_size(-2);
  ExpectInvalidField(ValidateListCompanies(list).status(), "page_size");
  list.set_page_size(1);
  list.set_page_token(ListCompaniesPageToken(list, kId));
  EXPECT_EQ(ValidateListCompanies(list)->resume_after, kId);
  crm::contact::v1::SearchCompaniesRequest search;
  ExpectInvalidField(ValidateSearchCompanies(search).status(), "query");
  search.set_query("acme");
  search.set_page_token("zzz");
  ExpectInvalidField(ValidateSearchCompanies(search).status(), "page_token");
}

}  // namespace
}  // namespace crm::contact
