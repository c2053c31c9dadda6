// Companies and relationships: decide and apply.
#include <gtest/gtest.h>

#include "services/contact/domain/apply.h"
#include "services/contact/domain/decide.h"
#include "tests/testing/events.h"

namespace crm::contact {
namespace {

using crm::common::v1::EventEnvelope;

Company Acme() {
  Company c;
  c.set_name("Acme");
  c.set_domain("acme.example");
  auto created = DecideCreateCompany(c, "ACME");
  return *ApplyCompany(std::nullopt, crm::testing::MakeTestEvent(*created, "ACME", 0, 100));
}

Facts Exists(std::set<std::string> ids) {
  Facts f;
  f.company_exists = [ids](const std::string& id) { return ids.contains(id); };
  return f;
}

Relationship Rel(const std::string& from, const std::string& to,
                 crm::contact::v1::RelationshipType type) {
  Relationship r;
  r.set_company_id(from);
  r.set_related_company_id(to);
  r.set_type(type);
  return r;
}

TEST(Company, CreateUpdateArchive) {
  Company acme = Acme();
  EXPECT_EQ(acme.version(), 1);
  EXPECT_EQ(acme.create_time().seconds(), 100);
  Company values;
  values.set_id("ACME");
  values.set_industry("Rockets");
  google::protobuf::FieldMask mask;
  mask.add_paths("industry");
  auto updated = DecideUpdateCompany(acme, values, mask, 1);
  ASSERT_TRUE(updated.ok());
  acme = *ApplyCompany(acme, crm::testing::MakeTestEvent(*updated, "ACME", 1, 200));
  EXPECT_EQ(acme.industry(), "Rockets");
  EXPECT_EQ(acme.name(), "Acme");
  auto archived = DecideArchiveCompany(acme, "ACME", 2);
  acme = *ApplyCompany(acme, crm::testing::MakeTestEvent(*archived, "ACME", 2, 300));
  EXPECT_TRUE(acme.archived());
  EXPECT_EQ(DecideUpdateCompany(acme, values, mask, 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Company, RelationshipsAddAndRemove) {
  Company acme = Acme();
  const auto rel = Rel("ACME", "BETA", crm::contact::v1::RELATIONSHIP_TYPE_SUPPLIER);
  EXPECT_EQ(DecideAddRelationship(acme, rel, 0, Exists({})).status().code(),
            absl::StatusCode::kNotFound);
  auto added = DecideAddRelationship(acme, rel, 0, Exists({"BETA"}));
  ASSERT_TRUE(added.ok()) << added.status();
  acme = *ApplyCompany(acme, crm::testing::MakeTestEvent(*added, "ACME", 1, 200));
  ASSERT_EQ(acme.relationships_size(), 1);
  EXPECT_EQ(acme.relationships(0).company_id(), "ACME");
  EXPECT_EQ(acme.relationships(0).create_time().seconds(), 200);
  EXPECT_EQ(DecideAddRelationship(acme, rel, 0, Exists({"BETA"})).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Another type to the same company is a different relationship.
  EXPECT_TRUE(
      DecideAddRelationship(acme, Rel("ACME", "BETA", crm::contact::v1::RELATIONSHIP_TYPE_PARTNER),
                            0, Exists({"BETA"}))
          .ok());
  auto removed = DecideRemoveRelationship(acme, rel, 2);
  ASSERT_TRUE(removed.ok());
  acme = *ApplyCompany(acme, crm::testing::MakeTestEvent(*removed, "ACME", 2, 300));
  EXPECT_EQ(acme.relationships_size(), 0);
  EXPECT_EQ(DecideRemoveRelationship(acme, rel, 0).status().code(), absl::StatusCode::kNotFound);
}

TEST(Contact, AffiliationsNeedExistingCompanies) {
  Contact c;
  c.mutable_personal()->set_given_name("Ann");
  c.add_affiliations()->set_company_id("NOPE");
  auto refused = DecideCreate(c, "C1", absl::Now(), Exists({}));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(refused.status().message().find("contact.affiliations[0].company_id"),
            std::string::npos);
  EXPECT_TRUE(DecideCreate(c, "C1", absl::Now(), Exists({"NOPE"})).ok());
}

TEST(Apply, TimeNeverGoesBackwards) {
  Company acme = Acme();  // update_time 100
  Company values;
  values.set_id("ACME");
  values.set_industry("x");
  google::protobuf::FieldMask mask;
  mask.add_paths("industry");
  // A writer whose clock is behind.
  auto updated = DecideUpdateCompany(acme, values, mask, 1);
  const Company next = *ApplyCompany(acme, crm::testing::MakeTestEvent(*updated, "ACME", 1, 50));
  EXPECT_EQ(next.update_time().seconds(), 100);
}

}  // namespace
}  // namespace crm::contact
