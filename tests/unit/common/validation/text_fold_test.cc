#include "common/validation/text_fold.h"

#include <gtest/gtest.h>

namespace crm::validation {
namespace {

TEST(FoldText, RemovesCaseAndLatinAccents) {
  EXPECT_EQ(FoldText("José Ñúñez"), "jose nunez");
  EXPECT_EQ(FoldText("Straße"), "strasse");
  EXPECT_EQ(FoldText("Łódź ÆØÅ"), "lodz aeoa");
  EXPECT_EQ(FoldText("Dvořák"), "dvorak");
}

TEST(FoldText, KeepsOtherScripts) { EXPECT_EQ(FoldText("Москва"), "Москва"); }

TEST(SplitWords, SplitsAtPunctuation) {
  EXPECT_EQ(SplitWords("Anne-Marie O'Neil"),
            (std::vector<std::string>{"anne", "marie", "o", "neil"}));
  EXPECT_EQ(SplitWords("ada.lovelace@example.com"),
            (std::vector<std::string>{"ada", "lovelace", "example", "com"}));
  EXPECT_TRUE(SplitWords(" -- ").empty());
}

}  // namespace
}  // namespace crm::validation
