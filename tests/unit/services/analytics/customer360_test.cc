// GetCustomer360 with its personal data from elsewhere (PersonalDataSource): the 360 is passed on
// once both the file and the personal data are there, whichever comes last; a 360 as of now kept
// until what it was read from changes. The service runs for real: events on the embedded log, its
// projector, RocksDB.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/eventlog/embedded_event_log.h"
#include "common/ids/ids.h"
#include "crm/contact/v1/events.pb.h"
#include "crm/interaction/v1/events.pb.h"
#include "crm/sales/v1/events.pb.h"
#include "services/analytics/analytics_service.h"
#include "services/sales/domain/order.h"
#include "services/sales/domain/product.h"
#include "tests/testing/events.h"
#include "tests/testing/testing.h"

namespace crm::analytics {
namespace {

namespace cv1 = crm::contact::v1;
namespace iv1 = crm::interaction::v1;
namespace sv1 = crm::sales::v1;

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

  // The 360 GetCustomer360 passed on in its wire form.
  static absl::StatusOr<Customer360> Parse(const absl::StatusOr<std::string>& wire) {
    if (!wire.ok()) return wire.status();
    Customer360 file;
    if (!file.ParseFromString(*wire)) return absl::DataLossError("not a Customer360");
    return file;
  }

  // The 360 of `id` (as of now unless `as_of_nanos`), with personal data answered at once; its
  // wire form in `wire` if given.
  absl::StatusOr<Customer360> Get360(const std::string& id,
                                     std::optional<int64_t> as_of_nanos = std::nullopt,
                                     std::string* wire = nullptr) {
    std::optional<absl::StatusOr<std::string>> got;
    service_->GetCustomer360(ctx_, id, as_of_nanos,
                             [&](absl::StatusOr<std::string> r) { got = std::move(r); });
    if (!got) return absl::InternalError("not passed on at once");
    if (wire != nullptr && got->ok()) *wire = **got;
    return Parse(*got);
  }

  // Appends `payload` for aggregate `id` to `topic` and waits until the service has applied it.
  void Apply(const std::string& topic, const google::protobuf::Message& payload,
             const std::string& id, int64_t expected, int64_t seconds) {
    absl::Status appended = absl::UnknownError("not appended");
    log_->Append(topic, crm::testing::MakeTestEvent(payload, id, expected, seconds, "", kTenant),
                 [&](absl::StatusOr<eventlog::LogPosition> p) { appended = p.status(); });
    ASSERT_TRUE(log_->Flush(absl::Seconds(10)).ok());
    ASSERT_TRUE(appended.ok()) << appended;
    ASSERT_TRUE(service_->projector()->WaitUntilCaughtUp(absl::Now() + absl::Seconds(10)).ok());
  }

  // An interaction with the contact, logged at `seconds`.
  void LogCall(const std::string& id, const std::string& subject, int64_t seconds) {
    iv1::InteractionLogged logged;
    iv1::Interaction& i = *logged.mutable_interaction();
    i.set_id(id);
    i.set_channel(iv1::CHANNEL_CALL);
    i.set_direction(iv1::DIRECTION_INBOUND);
    i.set_subject(subject);
    i.mutable_occurred_at()->set_seconds(seconds);
    i.add_contact_ids(contact_);
    Apply("crm.interaction.v1", logged, id, 0, seconds);
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
  service_->GetCustomer360(ctx_, contact_, std::nullopt,
                           [&](absl::StatusOr<std::string> r) { got = Parse(r); });
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
  service_->GetCustomer360(ctx_, contact_, std::nullopt,
                           [&](absl::StatusOr<std::string> r) { got = Parse(r); });
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
  service_->GetCustomer360(ctx_, contact_, std::nullopt,
                           [&](absl::StatusOr<std::string> r) { got = Parse(r); });
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
  service_->GetCustomer360(ctx_, unknown, std::nullopt,
                           [&](absl::StatusOr<std::string> r) { got = Parse(r); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(got->status().message().find("contact_id"), std::string::npos) << got->status();
  EXPECT_EQ(asked, 0);
}

// A 360 as of now is kept and served again — its personal data still asked for each time —
// until an event changes what it was read from; one as of a given time is never kept.
// Whether `metrics` gives "no interaction in the last 90 days" as a churn reason.
bool Quiet(const CustomerMetrics& metrics) {
  for (const auto& r : metrics.churn_reasons()) {
    if (r.code() == "NO_RECENT_CONTACT") return true;
  }
  return false;
}

// A 360 carries its customer's interactions as the projection stores them, in its wire form:
// they must read back as the ten newest, newest first, as logged, and as CustomerFile (which
// parses them) gives them; their times still drive the metrics, the latest before an early as_of
// found beyond the ten.
TEST_F(Customer360Test, The360CarriesTheTenNewestInteractionsAsLoggedNewestFirst) {
  constexpr int64_t kDay = 86400;
  constexpr int64_t kStart = 1700000000;
  // Two early calls, then twelve a day apart, logged out of time order.
  LogCall(ids::IdFor("call/early-0"), "early 0", kStart);
  LogCall(ids::IdFor("call/early-1"), "early 1", kStart + kDay);
  for (int n : {3, 0, 11, 7, 1, 10, 4, 9, 2, 8, 6, 5}) {
    LogCall(ids::IdFor(absl::StrCat("call/", n)), absl::StrCat("call ", n),
            kStart + (200 + n) * kDay);
  }
  const int64_t now = absl::ToUnixNanos(absl::Now());
  const absl::StatusOr<Customer360> file = Get360(contact_, now);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->latest_interactions_size(), 10);
  for (int k = 0; k < 10; ++k) {
    const iv1::Interaction& i = file->latest_interactions(k);
    EXPECT_EQ(i.subject(), absl::StrCat("call ", 11 - k));
    EXPECT_EQ(i.id(), ids::IdFor(absl::StrCat("call/", 11 - k)));
    EXPECT_EQ(i.occurred_at().seconds(), kStart + (211 - k) * kDay);
    EXPECT_EQ(i.channel(), iv1::CHANNEL_CALL);
    ASSERT_EQ(i.contact_ids_size(), 1);
    EXPECT_EQ(i.contact_ids(0), contact_);
  }
  // The same 360 as CustomerFile builds it, interactions parsed (the personal data aside).
  const absl::StatusOr<Customer360> parsed = service_->CustomerFile(ctx_, contact_, now);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  Customer360 served = *file;
  served.mutable_contact()->clear_personal();
  EXPECT_EQ(served.SerializeAsString(), parsed->SerializeAsString());
  // As of now, then kept: the same wire form, the same ten.
  std::string wire;
  const absl::StatusOr<Customer360> current = Get360(contact_, std::nullopt, &wire);
  ASSERT_TRUE(current.ok()) << current.status();
  ASSERT_EQ(current->latest_interactions_size(), 10);
  EXPECT_EQ(current->latest_interactions(0).subject(), "call 11");
  const uint64_t kept = service_->kept_360s_served();
  std::string again;
  ASSERT_TRUE(Get360(contact_, std::nullopt, &again).ok());
  EXPECT_EQ(service_->kept_360s_served(), kept + 1);
  EXPECT_EQ(again, wire);

  // Their times: the newest call was a day before now (as_of), so the customer is not quiet.
  const int64_t newest = kStart + 211 * kDay;
  const absl::StatusOr<Customer360> recent = Get360(contact_, (newest + kDay) * 1000000000);
  ASSERT_TRUE(recent.ok()) << recent.status();
  EXPECT_FALSE(Quiet(recent->metrics()));
  // As of day 50 none of the ten newest had happened: the latest before it is "early 1" (49 days
  // earlier), read beyond the ten — not quiet; as of day 100 it is 99 days old — quiet.
  const absl::StatusOr<Customer360> early = Get360(contact_, (kStart + 50 * kDay) * 1000000000);
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_FALSE(Quiet(early->metrics()));
  const absl::StatusOr<Customer360> later = Get360(contact_, (kStart + 100 * kDay) * 1000000000);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_TRUE(Quiet(later->metrics()));
}

TEST_F(Customer360Test, AKept360IsServedUntilAnEventChangesWhatItWasReadFrom) {
  int asked = 0;
  service_->TakePersonalDataFrom(
      [&](const CallContext&, const std::string&, std::function<void(cv1::PersonalData)> done) {
        done(Personal(absl::StrCat("Ada, asked ", ++asked, " times")));
      });
  std::string first, second;
  ASSERT_TRUE(Get360(contact_, std::nullopt, &first).ok());
  const uint64_t served = service_->kept_360s_served();
  absl::StatusOr<Customer360> kept = Get360(contact_, std::nullopt, &second);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(service_->kept_360s_served(), served + 1);
  EXPECT_EQ(kept->contact().personal().given_name(), "Ada, asked 2 times");
  EXPECT_EQ(kept->contact().id(), contact_);
  EXPECT_EQ(kept->latest_interactions_size(), 0);

  LogCall("I1", "First call", 1700000100);
  absl::StatusOr<Customer360> after = Get360(contact_);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(service_->kept_360s_served(), served + 1) << "served a 360 the event made stale";
  ASSERT_EQ(after->latest_interactions_size(), 1);
  EXPECT_EQ(after->latest_interactions(0).subject(), "First call");
  EXPECT_EQ(after->contact().personal().given_name(), "Ada, asked 3 times");
  ASSERT_TRUE(Get360(contact_).ok());
  EXPECT_EQ(service_->kept_360s_served(), served + 2);

  // As of a given time: read each time, and not kept for as of now.
  absl::StatusOr<Customer360> then = Get360(contact_, int64_t{1700000050} * 1000000000);
  ASSERT_TRUE(then.ok()) << then.status();
  EXPECT_EQ(service_->kept_360s_served(), served + 2);
  ASSERT_TRUE(Get360(contact_).ok());
  EXPECT_EQ(service_->kept_360s_served(), served + 3);
  // Kept per contact asked for: an unknown one is NOT_FOUND each time, never kept.
  const std::string unknown = ids::IdFor("contact/nobody");
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(Get360(unknown).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(service_->kept_360s_served(), served + 3);
}

// A customer with purchases and offers is kept too (the ledger, the product records, the pair
// counts and the product figures all watched); renaming an offered product shows in the next 360.
TEST_F(Customer360Test, AKept360WithOffersShowsAProductChange) {
  std::vector<std::string> products;
  for (const char* name : {"Apples", "Pears"}) {
    sv1::ProductCreated created;
    created.mutable_product()->set_sku(name);
    created.mutable_product()->set_name(name);
    created.mutable_product()->mutable_unit_price()->set_currency_code("EUR");
    created.mutable_product()->mutable_unit_price()->set_minor_units(100);
    products.push_back(sales::ProductId(kTenant, name));
    Apply("crm.sales.v1", created, products.back(), 0, 1700000000);
  }
  // Someone else buys both twice; Ada buys apples: pears are what to offer her.
  const std::string other = ids::IdFor("contact/other");
  int n = 0;
  auto order = [&](const std::string& buyer, const std::vector<std::string>& lines) {
    sv1::Order requested;
    requested.set_contact_id(buyer);
    requested.mutable_order_time()->set_seconds(1700000100 + n);
    for (const std::string& p : lines) {
      auto* line = requested.add_line_items();
      line->set_product_id(p);
      line->set_quantity(1);
      line->mutable_unit_price()->set_currency_code("EUR");
      line->mutable_unit_price()->set_minor_units(100);
    }
    const std::string id = ids::IdFor(absl::StrCat("order/", n++));
    auto placed = sales::DecidePlaceOrder(
        requested, id,
        [](const std::string&, const std::string&, sales::Link) { return absl::OkStatus(); });
    ASSERT_TRUE(placed.ok()) << placed.status();
    Apply("crm.sales.v1", *placed, id, 0, 1700000100 + n);
  };
  cv1::ContactCreated created;
  created.mutable_contact()->set_id(other);
  Apply("crm.contact.v1", created, other, 0, 1700000000);
  for (int i = 0; i < 2; ++i) order(other, products);
  order(contact_, {products[0]});
  if (HasFatalFailure()) return;

  ASSERT_TRUE(Get360(contact_).ok());
  const uint64_t served = service_->kept_360s_served();
  absl::StatusOr<Customer360> kept = Get360(contact_);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(service_->kept_360s_served(), served + 1) << "a 360 with purchases not kept";
  EXPECT_EQ(kept->latest_orders_size(), 1);
  ASSERT_GT(kept->recommended_offers_size(), 0) << kept->DebugString();
  EXPECT_EQ(kept->recommended_offers(0).product_name(), "Pears");

  sv1::ProductUpdated renamed;
  renamed.mutable_product()->set_name("Conference pears");
  renamed.mutable_update_mask()->add_paths("name");
  Apply("crm.sales.v1", renamed, products[1], 1, 1700000200);
  absl::StatusOr<Customer360> after = Get360(contact_);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(service_->kept_360s_served(), served + 1) << "served a 360 the renaming made stale";
  ASSERT_GT(after->recommended_offers_size(), 0);
  EXPECT_EQ(after->recommended_offers(0).product_name(), "Conference pears");
}

// Reads racing the events that change them: however the two interleave, once the events are
// applied the 360 shows the last of them (a kept answer built across an event's commit must not
// be served after it).
TEST_F(Customer360Test, KeptAnswersDoNotOutliveTheEventsRacingThem) {
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::atomic<int> failures{0};
  std::thread reader([&] {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (!stop.load() && absl::Now() < deadline) {
      if (!Get360(contact_).ok()) failures.fetch_add(1);
      reads.fetch_add(1);
    }
  });
  constexpr int kCalls = 60;
  for (int n = 1; n <= kCalls; ++n) {
    LogCall(absl::StrCat("I", n), absl::StrCat("call ", n), 1700000000 + n);
    if (HasFatalFailure()) break;
  }
  stop = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  absl::StatusOr<Customer360> last = Get360(contact_);
  ASSERT_TRUE(last.ok()) << last.status();
  ASSERT_GT(last->latest_interactions_size(), 0);
  EXPECT_EQ(last->latest_interactions(0).subject(), absl::StrCat("call ", kCalls));
}

}  // namespace
}  // namespace crm::analytics
