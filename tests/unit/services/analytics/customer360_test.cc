// GetCustomer360 with its personal data from elsewhere (PersonalDataSource): the 360 is passed on
// once both the file and the personal data are there, whichever comes last. The service runs for
// real: events on the embedded log, its projector, RocksDB.
#include <gtest/gtest.h>

#include <optional>

#include "common/eventlog/embedded_event_log.h"
#include "common/ids/ids.h"
#include "crm/contact/v1/events.pb.h"
#include "services/analytics/analytics_service.h"
#include "tests/testing/events.h"
#include "tests/testing/testing.h"

namespace crm::analytics {
namespace {

namespace cv1 = crm::contact::v1;

constexpr char kTenant[] = "t";

class Customer360Test : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = std::move(*eventlog::EmbeddedEventLog::Open({dir_.Sub("log"), 1}));
    cv1::ContactCreated created;
    created.mutable_contact()->set_id(contact_);
    created.mutable_contact()->mutable_personal()->set_given_name("Ada");
    absl::Status appended = absl::UnknownError("not appended");
    log_->Append("crm.contact.v1",
                 crm::testing::MakeTestEvent(created, contact_, 0, 1700000000, "", kTenant),
                 [&](absl::StatusOr<eventlog::LogPosition> p) { appended = p.status(); });
    ASSERT_TRUE(log_->Flush(absl::Seconds(10)).ok());
    ASSERT_TRUE(appended.ok()) << appended;
    service_ = std::move(*AnalyticsService::Open(dir_.Sub("analytics"), log_.get(), false));
    ASSERT_TRUE(service_->projector()->Start().ok());
    ASSERT_TRUE(service_->projector()->WaitUntilCaughtUp(absl::Now() + absl::Seconds(10)).ok());
  }

  // Personal data with `given_name`.
  static cv1::PersonalData Personal(const std::string& given_name) {
    cv1::PersonalData p;
    p.set_given_name(given_name);
    return p;
  }

  crm::testing::TempDir dir_;
  const std::string contact_ = ids::IdFor("contact/ada");
  std::unique_ptr<eventlog::EmbeddedEventLog> log_;
  std::unique_ptr<AnalyticsService> service_;
  CallContext ctx_{.tenant = kTenant, .actor = "test"};
};

TEST_F(Customer360Test, PersonalDataArrivingLastCompletesThe360) {
  std::string asked_for;
  std::function<void(cv1::PersonalData)> answer;
  service_->TakePersonalDataFrom(
      [&](const CallContext&, const std::string& id, std::function<void(cv1::PersonalData)> done) {
        asked_for = id;
        answer = std::move(done);  // answered later, as a contact service elsewhere does
      });
  std::optional<absl::StatusOr<Customer360>> got;
  service_->GetCustomer360(ctx_, contact_, 0, [&](absl::StatusOr<Customer360> r) { got = r; });
  EXPECT_EQ(asked_for, contact_);
  ASSERT_TRUE(answer);
  EXPECT_FALSE(got.has_value()) << "passed on before its personal data came";

  answer(Personal("Ada from the contact service"));
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok()) << got->status();
  EXPECT_EQ((*got)->contact().id(), contact_);
  EXPECT_EQ((*got)->contact().personal().given_name(), "Ada from the contact service");
}

TEST_F(Customer360Test, PersonalDataAnsweredAtOnceIsInThe360) {
  service_->TakePersonalDataFrom(
      [](const CallContext&, const std::string&, std::function<void(cv1::PersonalData)> done) {
        done(Personal("Ada in the same process"));
      });
  std::optional<absl::StatusOr<Customer360>> got;
  service_->GetCustomer360(ctx_, contact_, 0, [&](absl::StatusOr<Customer360> r) { got = r; });
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok()) << got->status();
  EXPECT_EQ((*got)->contact().personal().given_name(), "Ada in the same process");
}

TEST_F(Customer360Test, PersonalDataThatCannotBeHadLeavesTheRest) {
  service_->TakePersonalDataFrom(
      [](const CallContext&, const std::string&, std::function<void(cv1::PersonalData)> done) {
        done(cv1::PersonalData());  // the contact service is unavailable
      });
  std::optional<absl::StatusOr<Customer360>> got;
  service_->GetCustomer360(ctx_, contact_, 0, [&](absl::StatusOr<Customer360> r) { got = r; });
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok()) << got->status();
  EXPECT_EQ((*got)->contact().id(), contact_);
  EXPECT_FALSE((*got)->contact().has_personal());
}

TEST_F(Customer360Test, AnUnknownContactIsNotFoundAndAsksForNothing) {
  int asked = 0;
  service_->TakePersonalDataFrom(
      [&](const CallContext&, const std::string&, std::function<void(cv1::PersonalData)> done) {
        ++asked;
        done(cv1::PersonalData());
      });
  const std::string unknown = ids::IdFor("contact/nobody");
  std::optional<absl::StatusOr<Customer360>> got;
  service_->GetCustomer360(ctx_, unknown, 0, [&](absl::StatusOr<Customer360> r) { got = r; });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(got->status().message().find("contact_id"), std::string::npos) << got->status();
  EXPECT_EQ(asked, 0);
}

}  // namespace
}  // namespace crm::analytics
