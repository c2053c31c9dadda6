#include "services/contact/domain/duplicates.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

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

// The contact projection reads a new contact's full-name block only when none of its name blocks
// is under the limit, relying on this: contacts with the same full-name key have the same name
// keys, whatever spelling, case, accents, spacing or nickname brought them there.
TEST(BlockingKeys, ContactsSharingAFullNameBlockShareTheirNameBlocks) {
  const std::vector<Contact> people = {Person("Bob", "Marley"),
                                       Person("Robert", "Marley"),
                                       Person("ROBERT", "marley"),
                                       Person("Bobby", " Marley "),
                                       Person("José", "Núñez"),
                                       Person("Jose", "Nunez"),
                                       Person("Al", "Li"),
                                       Person("Albert", "Li"),
                                       Person("Mary Ann", "de la Cruz"),
                                       Person("mary  ann", "De La Cruz"),
                                       Person("Zoë", "O'Neil"),
                                       Person("Zoe", "O Neil"),
                                       Person("Jo", "Ng"),
                                       Person("J", "X"),
                                       Person("Liz", "Taylor-Burton"),
                                       Person("Elizabeth", "Taylor Burton")};
  auto split = [](const Contact& c) {
    std::string full;
    std::set<std::string> names;
    for (const std::string& k : BlockingKeys(c)) {
      if (IsFullNameBlock(k)) full = k;
      if (IsNameBlock(k)) names.insert(k);
    }
    return std::make_pair(full, names);
  };
  int shared = 0;
  for (const Contact& a : people) {
    const auto [full_a, names_a] = split(a);
    ASSERT_FALSE(full_a.empty());
    EXPECT_FALSE(names_a.empty());
    for (const Contact& b : people) {
      const auto [full_b, names_b] = split(b);
      if (&a == &b || full_a != full_b) continue;
      ++shared;
      EXPECT_EQ(names_a, names_b) << full_a;
    }
  }
  EXPECT_GE(shared, 12);  // the list does bring different spellings to one full-name key
}

TEST(NameSimilarity, ResolvesNicknamesAndFolds) {
  EXPECT_DOUBLE_EQ(NameSimilarity("Bill", "William"), 1.0);
  EXPECT_DOUBLE_EQ(NameSimilarity("Zoë", "zoe"), 1.0);
  EXPECT_LT(NameSimilarity("Anna", "Bob"), 0.5);
  EXPECT_EQ(CanonicalGivenName("Liz"), "elizabeth");
}

// 1 - the optimal-string-alignment distance / the longer length: an edit, an insertion, a
// transposition of neighbours each count one; a letter is not edited again after a transposition.
TEST(NameSimilarity, IsOneMinusTheAlignmentDistanceOverTheLongerName) {
  EXPECT_DOUBLE_EQ(NameSimilarity("kitten", "sitting"), 1 - 3.0 / 7);
  EXPECT_DOUBLE_EQ(NameSimilarity("abcd", "acbd"), 1 - 1.0 / 4);
  EXPECT_DOUBLE_EQ(NameSimilarity("abcdef", "badcfe"), 1 - 3.0 / 6);
  EXPECT_DOUBLE_EQ(NameSimilarity("ca", "abc"), 0.0);  // 3: no edit after the transposition
  EXPECT_DOUBLE_EQ(NameSimilarity("aaaa", "aa"), 0.5);
  EXPECT_DOUBLE_EQ(NameSimilarity("x", "y"), 0.0);
  EXPECT_DOUBLE_EQ(NameSimilarity("x", ""), 0.0);
}

}  // namespace
}  // namespace crm::contact
