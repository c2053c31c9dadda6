#include <gtest/gtest.h>

#include "services/contact/projection/contact_projection.h"

namespace crm::contact {
namespace {

TEST(SearchTerms, CoverNamesEmailsAndPhoneDigits) {
  Contact c;
  c.mutable_personal()->set_given_name("José");
  c.mutable_personal()->set_family_name("Núñez-García");
  c.mutable_personal()->add_emails()->set_address("jose.nunez@example.com");
  c.mutable_personal()->add_phones()->set_number("+34911234567");
  const auto terms = SearchTerms(c);
  EXPECT_EQ(terms.at("jose"), 'n');  // From the name, though the email has it too.
  EXPECT_EQ(terms.at("nunez"), 'n');
  EXPECT_EQ(terms.at("garcia"), 'n');
  EXPECT_EQ(terms.at("example"), 'e');
  EXPECT_EQ(terms.at("34911234567"), 'p');
}

TEST(QueryWords, PhoneQueriesBecomeOneDigitString) {
  EXPECT_EQ(QueryWords("+34 91 123"), (std::vector<std::string>{"3491123"}));
  EXPECT_EQ(QueryWords("0034 91"), (std::vector<std::string>{"3491"}));
  EXPECT_EQ(QueryWords("Núñez JOSÉ núñez"), (std::vector<std::string>{"jose", "nunez"}));
}

}  // namespace
}  // namespace crm::contact
