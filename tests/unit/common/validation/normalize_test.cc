#include "common/validation/normalize.h"

#include <gtest/gtest.h>

namespace crm::validation {
namespace {

TEST(NormalizeEmail, LowerCasesAndTrims) {
  auto e = NormalizeEmail("  Ada.Lovelace@Example.COM ");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e, "ada.lovelace@example.com");
}

TEST(NormalizeEmail, AcceptsPlusAndSubdomains) {
  EXPECT_TRUE(NormalizeEmail("a+tag@mail.example.co.uk").ok());
}

class BadEmail : public ::testing::TestWithParam<const char*> {};

TEST_P(BadEmail, IsRefusedWithAReason) {
  auto e = NormalizeEmail(GetParam());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(e.status().message().empty());
}

INSTANTIATE_TEST_SUITE_P(Cases, BadEmail,
                         ::testing::Values("", "   ", "plain", "a@b", "@example.com", "a@@b.com",
                                           "a@b@c.com", "a b@example.com", "a@exa mple.com",
                                           ".a@example.com", "a..b@example.com", "a@-example.com",
                                           "a@example-.com", "a@example..com", "a@example.com.",
                                           "a\"b@example.com"));

TEST(NormalizeEmail, RefusesOverlongAddresses) {
  EXPECT_FALSE(NormalizeEmail(std::string(65, 'a') + "@example.com").ok());
  EXPECT_FALSE(NormalizeEmail("a@" + std::string(250, 'b') + ".com").ok());
}

TEST(NormalizePhone, MakesE164) {
  EXPECT_EQ(*NormalizePhone("+49 (30) 123-4567"), "+49301234567");
  EXPECT_EQ(*NormalizePhone("0044 20 7946 0958"), "+442079460958");
  EXPECT_EQ(*NormalizePhone("+1.415.555.2671"), "+14155552671");
}

class BadPhone : public ::testing::TestWithParam<const char*> {};

TEST_P(BadPhone, IsRefusedWithAReason) {
  auto p = NormalizePhone(GetParam());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Cases, BadPhone,
                         ::testing::Values("", "030 1234567", "+0301234567", "+49 30 12a4567",
                                           "+1234567", "+1234567890123456", "++491234567",
                                           "+49-30-1234567 ext 5"));

TEST(CleanUtf8, RejectsControlAndBrokenBytes) {
  EXPECT_TRUE(IsCleanUtf8("José Núñez — ok"));
  EXPECT_FALSE(IsCleanUtf8(std::string("a\0b", 3)));
  EXPECT_FALSE(IsCleanUtf8("a\x01"));
  EXPECT_FALSE(IsCleanUtf8("\xc3"));
  EXPECT_FALSE(IsCleanUtf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(IsCleanUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_EQ(CodePointCount("José"), 4u);
}

}  // namespace
}  // namespace crm::validation
