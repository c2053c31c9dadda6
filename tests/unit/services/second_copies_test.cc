// The interaction, sales and analytics projections say that a second copy of another service's
// event changes nothing (EventApplier::IdempotentForOtherTopics), so their projectors keep no
// outcome record of those events. Here each is built, through its real projector and RocksDB,
// from a log of contact, interaction and order events — merges, archives and erasures included —
// and from the same log holding a third of them twice (what a producer's retry leaves): the two
// stores must be the same, byte for byte.
#include <gtest/gtest.h>

#include <functional>

#include "common/eventlog/embedded_event_log.h"
#include "common/projection/projector.h"
#include "crm/contact/v1/events.pb.h"
#include "crm/interaction/v1/events.pb.h"
#include "services/analytics/projection/analytics_projection.h"
#include "services/interaction/projection/interaction_projection.h"
#include "services/sales/domain/order.h"
#include "services/sales/projection/sales_projection.h"
#include "tests/testing/events.h"
#include "tests/testing/testing.h"

namespace crm {
namespace {

namespace cv1 = crm::contact::v1;
namespace iv1 = crm::interaction::v1;
namespace sv1 = crm::sales::v1;
using crm::common::v1::EventEnvelope;

constexpr char kContactTopic[] = "crm.contact.v1";
constexpr char kInteractionTopic[] = "crm.interaction.v1";
constexpr char kSalesTopic[] = "crm.sales.v1";
constexpr int kContacts = 60;

using Log = std::vector<std::pair<std::string, EventEnvelope>>;  // (topic, event)

// Contacts with names, renames, an interaction and an order each; five merges, archives and
// erasures.
Log History() {
  Log log;
  std::map<std::string, int64_t> version;
  int64_t seconds = 1735689600;
  auto add = [&](const char* topic, const google::protobuf::Message& payload,
                 const std::string& id) {
    log.emplace_back(topic, testing::MakeTestEvent(payload, id, version[id]++, ++seconds));
  };
  auto contact = [](int i) { return "C" + std::to_string(100 + i); };
  for (int i = 0; i < kContacts; ++i) {
    cv1::ContactCreated created;
    created.mutable_contact()->set_id(contact(i));
    created.mutable_contact()->mutable_personal()->set_given_name("Given" + std::to_string(i));
    created.mutable_contact()->mutable_personal()->set_family_name("Family" + std::to_string(i));
    add(kContactTopic, created, contact(i));
    if (i % 4 == 0) {
      cv1::ContactUpdated renamed;
      renamed.mutable_contact()->mutable_personal()->set_family_name("Renamed" + std::to_string(i));
      renamed.mutable_update_mask()->add_paths("personal.family_name");
      add(kContactTopic, renamed, contact(i));
    }
    iv1::InteractionLogged logged;
    const std::string interaction = "I" + std::to_string(100 + i);
    logged.mutable_interaction()->set_id(interaction);
    logged.mutable_interaction()->set_channel(iv1::CHANNEL_EMAIL);
    logged.mutable_interaction()->set_direction(iv1::DIRECTION_INBOUND);
    logged.mutable_interaction()->set_subject("about order " + std::to_string(i));
    logged.mutable_interaction()->set_body("private words " + std::to_string(i));
    logged.mutable_interaction()->add_contact_ids(contact(i));
    logged.mutable_interaction()->mutable_occurred_at()->set_seconds(seconds);
    add(kInteractionTopic, logged, interaction);
    sv1::Order order;
    order.set_contact_id(contact(i));
    order.mutable_order_time()->set_seconds(seconds);
    auto* line = order.add_line_items();
    line->set_product_id("P" + std::to_string(i % 7));
    line->set_quantity(1 + i % 3);
    line->mutable_unit_price()->set_currency_code("EUR");
    line->mutable_unit_price()->set_minor_units(1000 + i);
    const std::string order_id = "O" + std::to_string(100 + i);
    absl::StatusOr<sv1::OrderPlaced> placed = sales::DecidePlaceOrder(
        order, order_id,
        [](const std::string&, const std::string&, sales::Link) { return absl::OkStatus(); });
    EXPECT_TRUE(placed.ok()) << placed.status();
    if (placed.ok()) add(kSalesTopic, *placed, order_id);
  }
  for (int k = 0; k < 5; ++k) {  // contact 2k+1 merged into 2k
    const std::string survivor = contact(2 * k);
    const std::string merged = contact(2 * k + 1);
    cv1::ContactMergedInto into;
    into.set_survivor_id(survivor);
    add(kContactTopic, into, merged);
    cv1::ContactsMerged absorbed;
    absorbed.set_merged_id(merged);
    absorbed.mutable_merged()->set_id(merged);
    absorbed.mutable_merged()->mutable_personal()->set_given_name("Given" +
                                                                  std::to_string(2 * k + 1));
    add(kContactTopic, absorbed, survivor);
  }
  for (int i = 20; i < 25; ++i) add(kContactTopic, cv1::ContactArchived(), contact(i));
  for (int i = 30; i < 35; ++i) add(kContactTopic, cv1::ContactErased(), contact(i));
  return log;
}

struct Built {
  std::string checksum;
  int64_t events_seen = 0;
};

// Builds a projection of `applier` (made over the store) from `log`, through its projector.
Built Build(
    const std::string& dir, const Log& log, const std::vector<std::string>& topics,
    const std::string& own_topic,
    const std::function<std::unique_ptr<projection::EventApplier>(store::ProjectionStore*)>& make) {
  auto events = std::move(*eventlog::EmbeddedEventLog::Open({dir + "log", 2}));
  for (const auto& [topic, event] : log) {
    events->Append(topic, event, [](absl::StatusOr<eventlog::LogPosition> p) {
      EXPECT_TRUE(p.ok()) << p.status();
    });
  }
  EXPECT_TRUE(events->Flush(absl::Seconds(30)).ok());
  auto store = std::move(*store::ProjectionStore::Open(dir + "projection"));
  std::unique_ptr<projection::EventApplier> applier = make(store.get());
  projection::Projector projector({.name = "p", .topics = topics, .own_topic = own_topic},
                                  events.get(), store.get(), applier.get());
  EXPECT_TRUE(projector.Start().ok());
  EXPECT_TRUE(projector.WaitUntilCaughtUp(absl::Now() + absl::Seconds(60)).ok());
  Built built;
  built.events_seen = projector.Status()->events_seen();
  projector.Stop();
  built.checksum = *store->Latest().Checksum();
  return built;
}

void ExpectSecondCopiesChangeNothing(
    const std::vector<std::string>& topics, const std::string& own_topic,
    const std::function<std::unique_ptr<projection::EventApplier>(store::ProjectionStore*)>& make) {
  const Log once = History();
  Log twice = once;
  for (size_t i = 0; i < once.size(); i += 3) twice.push_back(once[i]);  // later in the log
  testing::TempDir dir;
  const Built a = Build(dir.Sub("once-"), once, topics, own_topic, make);
  const Built b = Build(dir.Sub("twice-"), twice, topics, own_topic, make);
  EXPECT_EQ(a.checksum, b.checksum);
  // The copies of other services' events reached the applier (no outcome record stopped them).
  EXPECT_GT(b.events_seen, a.events_seen);
}

TEST(SecondCopies, ChangeNothingInTheInteractionProjection) {
  ExpectSecondCopiesChangeNothing(
      {kInteractionTopic, kContactTopic}, kInteractionTopic,
      [](store::ProjectionStore* s) -> std::unique_ptr<projection::EventApplier> {
        return std::make_unique<interaction::InteractionProjection>(s);
      });
}

TEST(SecondCopies, ChangeNothingInTheSalesProjection) {
  ExpectSecondCopiesChangeNothing(
      {kSalesTopic, kContactTopic}, kSalesTopic,
      [](store::ProjectionStore* s) -> std::unique_ptr<projection::EventApplier> {
        return std::make_unique<sales::SalesProjection>(s);
      });
}

TEST(SecondCopies, ChangeNothingInTheAnalyticsProjection) {
  ExpectSecondCopiesChangeNothing(
      {analytics::kTopic, kContactTopic, kInteractionTopic, kSalesTopic}, analytics::kTopic,
      [](store::ProjectionStore* s) -> std::unique_ptr<projection::EventApplier> {
        return std::make_unique<analytics::AnalyticsProjection>(s);
      });
}

}  // namespace
}  // namespace crm
