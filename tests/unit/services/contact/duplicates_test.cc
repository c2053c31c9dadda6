#include "services/contact/domain/duplicates.h"

#include <gtest/gtest.h>

#include <set>

namespace crm::contact {
namespace {

using crm::contact::v1::DuplicateReason;

Contact Person(const std::string& given, const std::string& family, const std::string& email = "",
               const std::string& phone = "", const std::string& company = "") {
  Contact c;
  c.mutable_personal()->set_given_name(given);
  c.mutable_personal()->set_family_name(family);
  if (!email.empty()) c.mutable_personal()->add_emails()->set_address(email);
  if (!phone.empty()) c.mutable_personal()->add_phones()->set_number(phone);
  if (!company.empty()) c.add_affiliations()->set_company_id(company);
  return c;
}

bool ShareBlock(const Contact& a, const Contact& b) {
  const auto ka = BlockingKeys(a);
  const std::set<std::string> sa(ka.begin(), ka.end());
  for (const auto& k : BlockingKeys(b)) {
    if (sa.contains(k)) return true;
  }
  return false;
}

bool Has(const DuplicateScore& s, DuplicateReason r) {
  return std::find(s.reasons.begin(), s.reasons.end(), r) != s.reasons.end();
}

TEST(ScoreDuplicate, SameEmailOrPhone) {
  const auto a = Person("Ann", "Lee", "ann@example.com", "+441234567890");
  const auto email = ScoreDuplicate(a, Person("A.", "L.", "ann@example.com"));
  EXPECT_TRUE(Has(email, crm::contact::v1::DUPLICATE_REASON_SAME_EMAIL));
  EXPECT_NEAR(email.score, 0.95, 1e-9);
  const auto both = ScoreDuplicate(a, Person("Ann", "Lee", "ann@example.com", "+441234567890"));
  EXPECT_NEAR(both.score, 1 - 0.05 * 0.1 * (1 - 0.6), 1e-9);  // Email, phone and name.
  EXPECT_TRUE(ShareBlock(a, Person("X", "Y", "", "+441234567890")));
}

struct NamePair {
  const char* name;
  Contact a;
  Contact b;
};

class SimilarNames : public ::testing::TestWithParam<NamePair> {};

TEST_P(SimilarNames, AreFoundAndMeetInABlock) {
  const auto score = ScoreDuplicate(GetParam().a, GetParam().b);
  EXPECT_GE(score.score, kDuplicateThreshold) << GetParam().name;
  EXPECT_TRUE(Has(score, crm::contact::v1::DUPLICATE_REASON_SIMILAR_NAME)) << GetParam().name;
  EXPECT_TRUE(ShareBlock(GetParam().a, GetParam().b)) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, SimilarNames,
    ::testing::Values(NamePair{"typo", Person("Jonathan", "Smith"), Person("Jonathan", "Smiht")},
                      NamePair{"transposition", Person("Katherine", "Jones"),
                               Person("Katherine", "Jnoes")},
                      NamePair{"swapped", Person("Li", "Wei"), Person("Wei", "Li")},
                      NamePair{"nickname", Person("Bob", "Marley"), Person("Robert", "Marley")},
                      NamePair{"accents", Person("José", "Núñez"), Person("Jose", "Nunez")},
                      NamePair{"case", Person("ANNA", "karenina"), Person("Anna", "Karenina")}),
    [](const auto& info) { return info.param.name; });

TEST(ScoreDuplicate, DifferentPeopleAreNotCandidates) {
  EXPECT_LT(ScoreDuplicate(Person("John", "Smith"), Person("Jane", "Smythe")).score,
            kDuplicateThreshold);
  EXPECT_LT(ScoreDuplicate(Person("Maria", "Garcia"), Person("Mario", "Gomez")).score,
            kDuplicateThreshold);
  EXPECT_EQ(ScoreDuplicate(Person("", "", "a@x.io"), Person("", "", "b@x.io")).score, 0);
}

TEST(ScoreDuplicate, SameNameAtTheSameCompany) {
  const auto s = ScoreDuplicate(Person("Sam", "Hill", "", "", "ACME"),
                                Person("Samuel", "Hill", "", "", "ACME"));
  EXPECT_TRUE(Has(s, crm::contact::v1::DUPLICATE_REASON_SAME_NAME_SAME_COMPANY));
  EXPECT_NEAR(s.score, 0.85, 1e-9);
}

TEST(NameSimilarity, ResolvesNicknamesAndFolds) {
  EXPECT_DOUBLE_EQ(NameSimilarity("Bill", "William"), 1.0);
  EXPECT_DOUBLE_EQ(NameSimilarity("Zoë", "zoe"), 1.0);
  EXPECT_LT(NameSimilarity("Anna", "Bob"), 0.5);
  EXPECT_EQ(CanonicalGivenName("Liz"), "elizabeth");
}

}  // namespace
}  // namespace crm::contact
