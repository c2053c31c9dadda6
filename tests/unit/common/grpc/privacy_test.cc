#include "common/grpc/privacy.h"

#include <gtest/gtest.h>

#include "crm/analytics/v1/resources.pb.h"
#include "crm/contact/v1/resources.pb.h"
#include "crm/sales/v1/resources.pb.h"

namespace crm::grpcutil {
namespace {

crm::contact::v1::Contact Zephyrine() {
  crm::contact::v1::Contact c;
  c.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  c.mutable_personal()->set_given_name("Zephyrine");
  c.mutable_personal()->set_family_name("Ñúñez");
  c.mutable_personal()->add_emails()->set_address("zq@acme.example");
  c.mutable_personal()->mutable_emails(0)->set_primary(true);
  c.mutable_personal()->add_phones()->set_number("+34911234567");
  c.mutable_personal()->add_addresses()->set_locality("Madrid");
  c.set_job_title("Buyer");
  c.add_tags("vip");
  return c;
}

TEST(PrivacyTest, MaskValueKeepsOnlyAHint) {
  EXPECT_EQ(MaskValue("Zephyrine"), "Z***");
  EXPECT_EQ(MaskValue("Ñúñez"), "Ñ***");  // a whole UTF-8 character
  EXPECT_EQ(MaskValue("zq@acme.example"), "z***@acme.example");
  EXPECT_EQ(MaskValue("+34911234567"), "***67");
  EXPECT_EQ(MaskValue(""), "");
}

TEST(PrivacyTest, AContactsPersonalDataIsMaskedAndTheRestKept) {
  crm::contact::v1::Contact c = Zephyrine();
  ASSERT_TRUE(MaskPersonalData(c));
  EXPECT_EQ(c.personal().given_name(), "Z***");
  EXPECT_EQ(c.personal().family_name(), "Ñ***");
  EXPECT_EQ(c.personal().emails(0).address(), "z***@acme.example");
  EXPECT_TRUE(c.personal().emails(0).primary());
  EXPECT_EQ(c.personal().phones(0).number(), "***67");
  EXPECT_EQ(c.personal().addresses(0).locality(), "M***");
  EXPECT_EQ(c.id(), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(c.job_title(), "Buyer");
  EXPECT_EQ(c.tags(0), "vip");
}

TEST(PrivacyTest, NestedContactsHistoryAndDisplayNamesAreMaskedToo) {
  crm::analytics::v1::Customer360 c360;
  *c360.mutable_contact() = Zephyrine();
  ASSERT_TRUE(MaskPersonalData(c360));
  EXPECT_EQ(c360.contact().personal().given_name(), "Z***");

  crm::contact::v1::HistoryEntry entry;
  entry.set_record_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  auto* name = entry.add_changes();
  name->set_path("personal.given_name");
  name->set_before("\"Zeph\"");
  name->set_after("\"Zephyrine\"");
  auto* title = entry.add_changes();
  title->set_path("job_title");
  title->set_after("\"Buyer\"");
  ASSERT_TRUE(MaskPersonalData(entry));
  EXPECT_EQ(entry.changes(0).before(), "\"***\"");
  EXPECT_EQ(entry.changes(0).after(), "\"***\"");
  EXPECT_EQ(entry.changes(1).after(), "\"Buyer\"");

  crm::analytics::v1::SegmentMember member;
  member.set_contact_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  member.set_display_name("Zephyrine Q");
  ASSERT_TRUE(MaskPersonalData(member));
  EXPECT_EQ(member.display_name(), "Z***");
}

TEST(PrivacyTest, SubjectsAreTheRecordsWhosePersonalDataIsShown) {
  crm::analytics::v1::Customer360 c360;
  *c360.mutable_contact() = Zephyrine();
  std::set<std::string> subjects;
  PersonalDataSubjects(c360, subjects);
  EXPECT_EQ(subjects, std::set<std::string>{"01ARZ3NDEKTSV4RRFFQ69G5FAV"});
  crm::analytics::v1::SegmentMember member;
  member.set_contact_id("01BX5ZZKBKACTAV9WEVGEMMVRZ");
  member.set_display_name("Bo");
  PersonalDataSubjects(member, subjects);
  EXPECT_EQ(subjects.size(), 2u);
  // A contact without personal data set shows none.
  crm::contact::v1::Contact bare;
  bare.set_id("01BX5ZZKBKACTAV9WEVGEMMVS0");
  std::set<std::string> none;
  PersonalDataSubjects(bare, none);
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(MaskPersonalData(bare));
}

TEST(PrivacyTest, OnlyTypesThatCanHoldPersonalDataAreLookedAt) {
  EXPECT_TRUE(CanHoldPersonalData(*crm::contact::v1::Contact::descriptor()));
  EXPECT_TRUE(CanHoldPersonalData(*crm::analytics::v1::Customer360::descriptor()));
  EXPECT_TRUE(CanHoldPersonalData(*crm::contact::v1::HistoryEntry::descriptor()));
  EXPECT_FALSE(CanHoldPersonalData(*crm::sales::v1::Order::descriptor()));
}

}  // namespace
}  // namespace crm::grpcutil
