#include <gtest/gtest.h>

#include "services/contact/domain/apply.h"
#include "services/contact/domain/decide.h"
#include "tests/testing/events.h"

namespace crm::contact {
namespace {

using crm::common::v1::EventEnvelope;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);

Contact Ada() {
  Contact c;
  c.mutable_personal()->set_given_name("Ada");
  c.mutable_personal()->add_emails()->set_address("ada@example.com");
  return c;
}

Contact Created() {
  auto event = DecideCreate(Ada(), "ID1", kNow, Facts{});
  return *Apply(std::nullopt, crm::testing::MakeTestEvent(*event, "ID1", 0, 100));
}

TEST(DecideCreate, NeedsSomethingToIdentifyTheContact) {
  auto event = DecideCreate(Contact(), "ID1", kNow, Facts{});
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(event.status().message().find("contact.personal"), std::string::npos);
}

TEST(DecideCreate, StampsConsentTimesAndIgnoresOutputOnlyFields) {
  Contact c = Ada();
  c.set_version(42);
  c.set_archived(true);
  c.add_consents()->set_channel(crm::contact::v1::CONSENT_CHANNEL_EMAIL);
  auto event = DecideCreate(c, "ID1", kNow, Facts{});
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->contact().id(), "ID1");
  EXPECT_EQ(event->contact().version(), 0);
  EXPECT_FALSE(event->contact().archived());
  EXPECT_EQ(event->contact().consents(0).recorded_at().seconds(), absl::ToUnixSeconds(kNow));
}

TEST(Apply, CreateSetsVersionAndTimesFromTheEnvelope) {
  const Contact c = Created();
  EXPECT_EQ(c.id(), "ID1");
  EXPECT_EQ(c.version(), 1);
  EXPECT_EQ(c.create_time().seconds(), 100);
  EXPECT_EQ(c.update_time().seconds(), 100);
}

TEST(Apply, IsDeterministic) {
  auto event = DecideCreate(Ada(), "ID1", kNow, Facts{});
  const auto e = crm::testing::MakeTestEvent(*event, "ID1", 0, 100);
  EXPECT_EQ(Apply(std::nullopt, e)->SerializeAsString(),
            Apply(std::nullopt, e)->SerializeAsString());
}

TEST(Apply, CreateOverAnExistingContactIsAborted) {
  auto event = DecideCreate(Ada(), "ID1", kNow, Facts{});
  EXPECT_EQ(Apply(Created(), crm::testing::MakeTestEvent(*event, "ID1", 0, 100)).status().code(),
            absl::StatusCode::kAborted);
}

TEST(DecideUpdate, ChangesOnlyMaskedFields) {
  const Contact current = Created();
  Contact values;
  values.set_id("ID1");
  values.mutable_personal()->set_family_name("Lovelace");
  values.mutable_personal()->set_given_name("IGNORED");
  google::protobuf::FieldMask mask;
  mask.add_paths("personal.family_name");
  auto event = DecideUpdate(current, values, mask, 1, kNow, Facts{});
  ASSERT_TRUE(event.ok()) << event.status();
  auto next = Apply(current, crm::testing::MakeTestEvent(*event, "ID1", 1, 200));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->personal().family_name(), "Lovelace");
  EXPECT_EQ(next->personal().given_name(), "Ada");
  EXPECT_EQ(next->version(), 2);
  EXPECT_EQ(next->update_time().seconds(), 200);
  EXPECT_EQ(next->create_time().seconds(), 100);
}

TEST(DecideUpdate, ReplacesListsWhole) {
  const Contact current = Created();
  Contact values;
  values.set_id("ID1");
  values.mutable_personal()->add_emails()->set_address("new@example.com");
  google::protobuf::FieldMask mask;
  mask.add_paths("personal.emails");
  auto event = DecideUpdate(current, values, mask, 0, kNow, Facts{});
  auto next = Apply(current, crm::testing::MakeTestEvent(*event, "ID1", 1, 200));
  ASSERT_EQ(next->personal().emails_size(), 1);
  EXPECT_EQ(next->personal().emails(0).address(), "new@example.com");
}

TEST(DecideUpdate, Refusals) {
  const Contact current = Created();
  Contact values;
  values.set_id("ID1");
  google::protobuf::FieldMask mask;
  mask.add_paths("job_title");
  EXPECT_EQ(DecideUpdate(std::nullopt, values, mask, 0, kNow, Facts{}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(DecideUpdate(current, values, mask, 7, kNow, Facts{}).status().code(),
            absl::StatusCode::kAborted);
  Contact archived = current;
  archived.set_archived(true);
  EXPECT_EQ(DecideUpdate(archived, values, mask, 0, kNow, Facts{}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  google::protobuf::FieldMask wipe;
  wipe.add_paths("personal.given_name");
  wipe.add_paths("personal.emails");
  EXPECT_EQ(DecideUpdate(current, values, wipe, 0, kNow, Facts{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Apply, UpdateRacedByAnotherWriterIsAborted) {
  const Contact current = Created();
  Contact values;
  values.set_id("ID1");
  values.set_job_title("Engineer");
  google::protobuf::FieldMask mask;
  mask.add_paths("job_title");
  auto first = DecideUpdate(current, values, mask, 1, kNow, Facts{});
  auto second = DecideUpdate(current, values, mask, 1, kNow, Facts{});
  auto after_first = Apply(current, crm::testing::MakeTestEvent(*first, "ID1", 1, 200));
  ASSERT_TRUE(after_first.ok());
  EXPECT_EQ(
      Apply(*after_first, crm::testing::MakeTestEvent(*second, "ID1", 1, 201)).status().code(),
      absl::StatusCode::kAborted);
}

TEST(DecideArchive, ArchivesOnceAndKeepsTheData) {
  const Contact current = Created();
  auto event = DecideArchive(current, "ID1", 1);
  ASSERT_TRUE(event.ok());
  auto next = Apply(current, crm::testing::MakeTestEvent(*event, "ID1", 1, 300));
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->archived());
  EXPECT_EQ(next->archive_time().seconds(), 300);
  EXPECT_EQ(next->personal().given_name(), "Ada");
  EXPECT_EQ(DecideArchive(*next, "ID1", 0).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecideArchive(std::nullopt, "ID1", 0).status().code(), absl::StatusCode::kNotFound);
}

TEST(Apply, UpdateOfAMissingContactIsNotFound) {
  ContactArchived archived;
  archived.set_contact_id("X");
  EXPECT_EQ(Apply(std::nullopt, crm::testing::MakeTestEvent(archived, "X", 0, 1)).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace crm::contact
