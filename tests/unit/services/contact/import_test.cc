// Import on its own: what a row changes on the record it matched (domain/import.h), the ledger
// the projection keeps per import (common/projection/import_ledger.h) on a real RocksDB store,
// and the order in which rows of one batch run.
#include "services/contact/domain/import.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/projection/import_ledger.h"
#include "common/store/projection_store.h"
#include "tests/testing/testing.h"

namespace crm::contact {
namespace {

using crm::common::v1::EventEnvelope;
using crm::common::v1::ImportLedgerEntry;

Contact Existing() {
  Contact c;
  c.set_id("01J00000000000000000000001");
  c.set_version(4);
  c.mutable_personal()->set_given_name("Ada");
  c.mutable_personal()->set_family_name("Lovelace");
  auto* email = c.mutable_personal()->add_emails();
  email->set_address("ada@example.com");
  email->set_primary(true);
  c.add_tags("old");
  (*c.mutable_attributes())["field"] = "math";
  auto* consent = c.add_consents();
  consent->set_channel(crm::contact::v1::CONSENT_CHANNEL_EMAIL);
  consent->set_status(crm::contact::v1::CONSENT_STATUS_GRANTED);
  return c;
}

std::vector<std::string> Paths(const google::protobuf::FieldMask& mask) {
  return {mask.paths().begin(), mask.paths().end()};
}

TEST(ImportChanges, ARowWithNothingNewChangesNothing) {
  Contact row;
  row.mutable_personal()->set_given_name("Ada");
  row.mutable_personal()->add_emails()->set_address("ada@example.com");
  row.add_tags("old");
  auto [values, mask] = ImportChanges(Existing(), row);
  EXPECT_TRUE(mask.paths().empty()) << mask.DebugString();
}

TEST(ImportChanges, ScalarsReplaceListsAddAndConsentsReplaceByChannel) {
  Contact row;
  row.mutable_personal()->set_family_name("Byron");
  auto* email = row.mutable_personal()->add_emails();
  email->set_address("countess@example.com");
  email->set_primary(true);
  row.mutable_personal()->add_emails()->set_address("ada@example.com");  // already there
  row.add_tags("vip");
  row.add_tags("old");
  (*row.mutable_attributes())["field"] = "poetry";
  auto* consent = row.add_consents();
  consent->set_channel(crm::contact::v1::CONSENT_CHANNEL_EMAIL);
  consent->set_status(crm::contact::v1::CONSENT_STATUS_DENIED);
  row.set_lifecycle_stage(crm::contact::v1::LIFECYCLE_STAGE_CUSTOMER);
  auto [values, mask] = ImportChanges(Existing(), row);
  EXPECT_EQ(Paths(mask),
            (std::vector<std::string>{"personal.family_name", "personal.emails", "lifecycle_stage",
                                      "tags", "attributes", "consents"}));
  EXPECT_EQ(values.id(), Existing().id());
  EXPECT_EQ(values.personal().family_name(), "Byron");
  ASSERT_EQ(values.personal().emails_size(), 2);
  EXPECT_EQ(values.personal().emails(0).address(), "ada@example.com");
  EXPECT_TRUE(values.personal().emails(0).primary());
  EXPECT_EQ(values.personal().emails(1).address(), "countess@example.com");
  EXPECT_FALSE(values.personal().emails(1).primary());  // Ada keeps her primary address
  EXPECT_EQ(std::vector<std::string>(values.tags().begin(), values.tags().end()),
            (std::vector<std::string>{"old", "vip"}));
  EXPECT_EQ(values.attributes().at("field"), "poetry");
  ASSERT_EQ(values.consents_size(), 1);
  EXPECT_EQ(values.consents(0).status(), crm::contact::v1::CONSENT_STATUS_DENIED);
}

TEST(ImportChanges, CompaniesTakeTheRowsFieldsAndAddTags) {
  Company current;
  current.set_id("01J00000000000000000000002");
  current.set_name("Acme");
  current.set_domain("acme.example");
  current.add_tags("a");
  Company row;
  row.set_domain("acme.example");
  row.set_industry("Rockets");
  row.set_employee_count(12);
  row.add_tags("a");
  auto [values, mask] = ImportCompanyChanges(current, row);
  EXPECT_EQ(Paths(mask), (std::vector<std::string>{"industry", "employee_count"}));
  EXPECT_EQ(values.industry(), "Rockets");
  row.clear_industry();
  row.set_employee_count(0);
  current.set_industry("Rockets");
  EXPECT_TRUE(ImportCompanyChanges(current, row).second.paths().empty());
}

EventEnvelope ImportEvent(const std::string& import_id, const std::string& id, int64_t expected) {
  EventEnvelope e;
  e.set_tenant("acme");
  e.set_aggregate_type("contact");
  e.set_aggregate_id(id);
  e.set_expected_version(expected);
  e.set_source(std::string(projection::kImportSource));
  e.set_correlation_id(import_id);
  return e;
}

TEST(ImportLedger, RecordsTheFirstVersionAndEveryPathOfAnImportOnly) {
  testing::TempDir dir;
  auto store = std::move(*store::ProjectionStore::Open(dir.Sub("p")));
  auto batch = store->NewBatch();
  ASSERT_TRUE(projection::RecordImport(batch, 'i', ImportEvent("imp1", "c1", 0), {}).ok());
  ASSERT_TRUE(projection::RecordImport(batch, 'i', ImportEvent("imp1", "c2", 3), {"tags"}).ok());
  ASSERT_TRUE(
      projection::RecordImport(batch, 'i', ImportEvent("imp1", "c2", 4), {"tags", "owner"}).ok());
  ASSERT_TRUE(projection::RecordImport(batch, 'i', ImportEvent("imp2", "c3", 0), {}).ok());
  EventEnvelope api = ImportEvent("imp1", "c4", 0);
  api.set_source("api");  // not an import: not in the ledger
  ASSERT_TRUE(projection::RecordImport(batch, 'i', api, {}).ok());
  ASSERT_TRUE(store->Commit(batch).ok());

  std::vector<std::pair<std::string, ImportLedgerEntry>> seen;
  ASSERT_TRUE(projection::ScanImport(store->Latest(), 'i', "acme", "imp1",
                                     [&](std::string_view id, const ImportLedgerEntry& e) {
                                       seen.emplace_back(std::string(id), e);
                                       return true;
                                     })
                  .ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, "c1");
  EXPECT_TRUE(seen[0].second.created());
  EXPECT_EQ(seen[1].first, "c2");
  EXPECT_FALSE(seen[1].second.created());
  EXPECT_EQ(seen[1].second.version_before(), 3);
  EXPECT_EQ(std::vector<std::string>(seen[1].second.paths().begin(), seen[1].second.paths().end()),
            (std::vector<std::string>{"tags", "owner"}));
  size_t other_tenant = 0;
  ASSERT_TRUE(projection::ScanImport(store->Latest(), 'i', "globex", "imp1",
                                     [&](std::string_view, const ImportLedgerEntry&) {
                                       ++other_tenant;
                                       return true;
                                     })
                  .ok());
  EXPECT_EQ(other_tenant, 0u);
}

TEST(ImportRows, RowsSharingAKeyRunInOrderOthersTogether) {
  // Rows 0 and 2 share an email, 2 and 3 a phone; 1 shares nothing.
  const std::vector<std::vector<std::string>> keys = {
      {"e:a@x"}, {"e:b@x"}, {"e:a@x", "p:1"}, {"p:1"}};
  std::mutex mu;
  std::vector<size_t> started;
  std::vector<std::function<void()>> pending;
  std::atomic<bool> finished = false;
  projection::RunRows(
      keys,
      [&](size_t i, std::function<void()> next) {
        std::lock_guard<std::mutex> lock(mu);
        started.push_back(i);
        pending.push_back(std::move(next));
      },
      [&] { finished = true; });
  // The first wave: rows 0 and 1, held open.
  auto release = [&] {
    std::vector<std::function<void()>> now;
    {
      std::lock_guard<std::mutex> lock(mu);
      now.swap(pending);
    }
    for (auto& next : now) next();
  };
  EXPECT_EQ(started, (std::vector<size_t>{0, 1}));
  release();
  EXPECT_EQ(started, (std::vector<size_t>{0, 1, 2}));
  release();
  EXPECT_EQ(started, (std::vector<size_t>{0, 1, 2, 3}));
  EXPECT_FALSE(finished);
  release();
  EXPECT_TRUE(finished);
}

TEST(ImportRows, ManyStepsThatFinishAtOnceDoNotDeepenTheStack) {
  size_t ran = 0;
  bool finished = false;
  projection::RunWindowed(
      200000, 4,
      [&](size_t, std::function<void()> next) {
        ++ran;
        next();
      },
      [&] { finished = true; });
  EXPECT_EQ(ran, 200000u);
  EXPECT_TRUE(finished);
}

}  // namespace
}  // namespace crm::contact
