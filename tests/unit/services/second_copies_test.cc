// The contact, interaction and sales projections say that a second copy of any event they read
// changes nothing, the analytics projection of every other service's event
// (EventApplier::SecondCopyChangesNothing), so their projectors keep no outcome record of those
// events. Here each is built, through its real projector and RocksDB, from a log of contact,
// interaction and sales events — merges, an unmerge, archives, erasures, companies and the
// data-quality rules, every interaction, case, task, product, pipeline, deal and order event
// type included — and from the same log holding a third of them twice (what a producer's retry
// leaves): the two stores must be the same, byte for byte, and every copy of the contact,
// interaction and sales projections' own events must have reached the projection and been
// refused there.
#include <gtest/gtest.h>

#include <functional>

#include "common/eventlog/embedded_event_log.h"
#include "common/projection/projector.h"
#include "crm/contact/v1/events.pb.h"
#include "crm/interaction/v1/events.pb.h"
#include "crm/sales/v1/events.pb.h"
#include "services/analytics/projection/analytics_projection.h"
#include "services/contact/projection/contact_projection.h"
#include "services/interaction/projection/interaction_projection.h"
#include "services/sales/domain/order.h"
#include "services/sales/projection/sales_projection.h"
#include "tests/testing/events.h"
#include "tests/testing/testing.h"
#include "tests/unit/services/contact/test_keys.h"

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
  for (int i = 0; i < 12; ++i) {  // the interaction service's other events
    const std::string interaction = "I" + std::to_string(100 + i);
    if (i % 3 == 0) {
      iv1::InteractionUpdated updated;
      updated.set_interaction_id(interaction);
      updated.mutable_interaction()->set_subject("re: order " + std::to_string(i));
      updated.mutable_update_mask()->add_paths("subject");
      add(kInteractionTopic, updated, interaction);
    }
    if (i % 4 == 1) {
      iv1::InteractionDeleted deleted;
      deleted.set_interaction_id(interaction);
      add(kInteractionTopic, deleted, interaction);
    }
    const std::string case_id = "K" + std::to_string(100 + i);
    iv1::CaseOpened opened;
    opened.mutable_case_()->set_id(case_id);
    opened.mutable_case_()->set_subject("broken " + std::to_string(i));
    opened.mutable_case_()->set_contact_id(contact(i));
    opened.mutable_case_()->set_priority(iv1::PRIORITY_NORMAL);
    add(kInteractionTopic, opened, case_id);
    iv1::CaseAssigned assigned;
    assigned.set_owner("agent" + std::to_string(i % 3));
    add(kInteractionTopic, assigned, case_id);
    iv1::CaseCommented commented;
    commented.mutable_comment()->set_author("agent");
    commented.mutable_comment()->set_body("looking into it");
    add(kInteractionTopic, commented, case_id);
    iv1::CasePriorityChanged priority;
    priority.set_priority(iv1::PRIORITY_HIGH);
    add(kInteractionTopic, priority, case_id);
    iv1::CaseStatusChanged status;
    status.set_status(iv1::CASE_STATUS_OPEN);
    add(kInteractionTopic, status, case_id);
    const std::string task_id = "T" + std::to_string(100 + i);
    iv1::TaskCreated task;
    task.mutable_task()->set_id(task_id);
    task.mutable_task()->set_kind(i % 2 == 0 ? iv1::TASK_KIND_TASK : iv1::TASK_KIND_APPOINTMENT);
    task.mutable_task()->set_title("call back " + std::to_string(i));
    task.mutable_task()->set_assignee("agent");
    task.mutable_task()->set_contact_id(contact(i));
    task.mutable_task()->mutable_due_time()->set_seconds(seconds + 86400);
    add(kInteractionTopic, task, task_id);
    iv1::TaskRescheduled rescheduled;
    rescheduled.mutable_due_time()->set_seconds(seconds + 2 * 86400);
    add(kInteractionTopic, rescheduled, task_id);
    if (i % 2 == 0) {
      add(kInteractionTopic, iv1::TaskCompleted(), task_id);
    } else {
      add(kInteractionTopic, iv1::TaskCancelled(), task_id);
    }
  }
  for (int i = 0; i < 12; ++i) {  // the sales service's other events
    const std::string product = "P" + std::to_string(200 + i);
    sv1::ProductCreated created;
    created.mutable_product()->set_id(product);
    created.mutable_product()->set_sku("SKU-" + std::to_string(i));
    created.mutable_product()->set_name("Widget " + std::to_string(i));
    created.mutable_product()->set_category(i % 2 == 0 ? "tools" : "parts");
    add(kSalesTopic, created, product);
    sv1::ProductUpdated renamed;
    renamed.mutable_product()->set_category("spares");
    renamed.mutable_update_mask()->add_paths("category");
    add(kSalesTopic, renamed, product);
    if (i % 3 == 0) add(kSalesTopic, sv1::ProductDeactivated(), product);
    const std::string pipeline = "L" + std::to_string(100 + i);
    sv1::PipelineCreated pipe;
    pipe.mutable_pipeline()->set_id(pipeline);
    pipe.mutable_pipeline()->set_name("Pipeline " + std::to_string(i));
    for (const char* stage : {"lead", "offer"}) {
      auto* s = pipe.mutable_pipeline()->add_stages();
      s->set_id(stage);
      s->set_name(stage);
      s->set_probability_bp(2000);
    }
    add(kSalesTopic, pipe, pipeline);
    sv1::PipelineUpdated repiped;
    *repiped.mutable_pipeline() = pipe.pipeline();
    repiped.mutable_pipeline()->set_name("Renamed pipeline " + std::to_string(i));
    add(kSalesTopic, repiped, pipeline);
    const std::string deal = "D" + std::to_string(100 + i);
    sv1::DealCreated opened;
    opened.mutable_deal()->set_id(deal);
    opened.mutable_deal()->set_title("Deal " + std::to_string(i));
    opened.mutable_deal()->set_contact_id(contact(i));
    opened.mutable_deal()->set_pipeline_id(pipeline);
    opened.mutable_deal()->set_stage_id("lead");
    opened.mutable_deal()->mutable_amount()->set_currency_code("EUR");
    opened.mutable_deal()->mutable_amount()->set_minor_units(50000 + i);
    add(kSalesTopic, opened, deal);
    sv1::DealUpdated retitled;
    retitled.mutable_deal()->set_title("Big deal " + std::to_string(i));
    retitled.mutable_update_mask()->add_paths("title");
    add(kSalesTopic, retitled, deal);
    sv1::DealStageMoved moved;
    moved.set_stage_id("offer");
    moved.set_probability_bp(6000);
    add(kSalesTopic, moved, deal);
    if (i % 2 == 0) {
      add(kSalesTopic, sv1::DealWon(), deal);
    } else {
      sv1::DealLost lost;
      lost.set_reason("price");
      add(kSalesTopic, lost, deal);
      sv1::DealReopened reopened;
      reopened.set_stage_id("lead");
      reopened.set_probability_bp(1000);
      add(kSalesTopic, reopened, deal);
    }
    const std::string order = "O" + std::to_string(100 + i);
    if (i % 3 == 2) {
      add(kSalesTopic, sv1::OrderCancelled(), order);
      continue;
    }
    add(kSalesTopic, sv1::OrderPaid(), order);
    if (i % 3 == 0) {
      sv1::OrderRefunded refunded;
      refunded.mutable_amount()->set_currency_code("EUR");
      refunded.mutable_amount()->set_minor_units(100);
      add(kSalesTopic, refunded, order);
    } else {
      add(kSalesTopic, sv1::OrderFulfilled(), order);
    }
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
  {  // the first merge reversed
    cv1::ContactsUnmerged given_back;
    given_back.set_merged_id(contact(1));
    add(kContactTopic, given_back, contact(0));
    cv1::ContactUnmerged restored;
    restored.set_survivor_id(contact(0));
    add(kContactTopic, restored, contact(1));
  }
  for (int i = 0; i < 4; ++i) {  // companies
    const std::string company = "M" + std::to_string(100 + i);
    cv1::CompanyCreated created;
    created.mutable_company()->set_id(company);
    created.mutable_company()->set_name("Company " + std::to_string(i));
    add(kContactTopic, created, company);
    cv1::CompanyUpdated updated;
    updated.set_company_id(company);
    updated.mutable_company()->set_industry("retail");
    updated.mutable_update_mask()->add_paths("industry");
    add(kContactTopic, updated, company);
    if (i % 2 == 0) {
      cv1::CompanyArchived archived;
      archived.set_company_id(company);
      add(kContactTopic, archived, company);
    }
  }
  for (int stale : {90, 180}) {  // the tenant's data-quality rules, set twice
    cv1::DataQualityRulesSet rules;
    rules.mutable_rules()->set_stale_after_days(stale);
    add(kContactTopic, rules, "quality-rules");
  }
  for (int i = 20; i < 25; ++i) add(kContactTopic, cv1::ContactArchived(), contact(i));
  for (int i = 30; i < 35; ++i) add(kContactTopic, cv1::ContactErased(), contact(i));
  return log;
}

struct Built {
  std::string checksum;
  int64_t events_seen = 0;
  int64_t refused = 0;        // events the projection refused
  uint64_t single_reads = 0;  // records (kState) read one at a time
};

// The projection under test, its every call passed on (WillRead only if `read_ahead`), counting
// the events it refuses.
class Counting final : public projection::EventApplier {
 public:
  Counting(std::unique_ptr<projection::EventApplier> inner, bool read_ahead)
      : inner_(std::move(inner)), read_ahead_(read_ahead) {}
  bool Handles(std::string_view type) const override { return inner_->Handles(type); }
  bool SecondCopyChangesNothing(std::string_view topic) const override {
    return inner_->SecondCopyChangesNothing(topic);
  }
  void WillRead(const EventEnvelope& event, std::vector<std::string>& keys) const override {
    if (read_ahead_) inner_->WillRead(event, keys);
  }
  absl::StatusOr<absl::Status> Apply(const EventEnvelope& event,
                                     store::ProjectionStore::Batch& batch) override {
    absl::StatusOr<absl::Status> decision = inner_->Apply(event, batch);
    if (decision.ok() && !decision->ok()) ++refused;
    return decision;
  }
  absl::Status Finish(store::ProjectionStore::Batch& batch) override {
    return inner_->Finish(batch);
  }
  void Built() override { inner_->Built(); }
  void Committed() override { inner_->Committed(); }
  int64_t refused = 0;

 private:
  const std::unique_ptr<projection::EventApplier> inner_;
  const bool read_ahead_;
};

// Builds a projection of `applier` (made over the store) from `log`, through its projector.
Built Build(
    const std::string& dir, const Log& log, const std::vector<std::string>& topics,
    const std::string& own_topic,
    const std::function<std::unique_ptr<projection::EventApplier>(store::ProjectionStore*)>& make,
    bool read_ahead = true) {
  auto events = std::move(*eventlog::EmbeddedEventLog::Open({dir + "log", 2}));
  for (const auto& [topic, event] : log) {
    events->Append(topic, event, [](absl::StatusOr<eventlog::LogPosition> p) {
      EXPECT_TRUE(p.ok()) << p.status();
    });
  }
  EXPECT_TRUE(events->Flush(absl::Seconds(30)).ok());
  auto store = std::move(*store::ProjectionStore::Open(dir + "projection"));
  Counting applier(make(store.get()), read_ahead);
  projection::Projector projector({.name = "p", .topics = topics, .own_topic = own_topic},
                                  events.get(), store.get(), &applier);
  EXPECT_TRUE(projector.Start().ok());
  EXPECT_TRUE(projector.WaitUntilCaughtUp(absl::Now() + absl::Seconds(60)).ok());
  Built built;
  built.events_seen = projector.Status()->events_seen();
  projector.Stop();
  built.refused = applier.refused;
  built.checksum = *store->Latest().Checksum();
  built.single_reads = store->single_reads(store::Cf::kState);
  return built;
}

// `own_copies_refused`: the projection keeps no outcome record of its own topic's events either,
// so each copy of one reaches it, and it refuses the copy. `single_reads`: at most how many
// records the projection reads one at a time in building the history once (those its WillRead
// cannot name from an event's envelope); the rest are read ahead.
void ExpectSecondCopiesChangeNothing(
    const std::vector<std::string>& topics, const std::string& own_topic, bool own_copies_refused,
    uint64_t single_reads,
    const std::function<std::unique_ptr<projection::EventApplier>(store::ProjectionStore*)>& make) {
  const Log once = History();
  Log twice = once;
  int64_t own_copies = 0;
  for (size_t i = 0; i < once.size(); i += 3) {
    twice.push_back(once[i]);  // later in the log
    if (once[i].first == own_topic) ++own_copies;
  }
  testing::TempDir dir;
  const Built a = Build(dir.Sub("once-"), once, topics, own_topic, make);
  const Built b = Build(dir.Sub("twice-"), twice, topics, own_topic, make);
  EXPECT_EQ(a.checksum, b.checksum);
  // Reading ahead changes what is read when, not what is built.
  const Built one_by_one =
      Build(dir.Sub("one-by-one-"), twice, topics, own_topic, make, /*read_ahead=*/false);
  EXPECT_EQ(one_by_one.checksum, b.checksum);
  EXPECT_LE(a.single_reads, single_reads);
  EXPECT_GT(one_by_one.single_reads, b.single_reads + 60);
  // The copies reached the applier (no outcome record stopped them).
  EXPECT_GT(b.events_seen, a.events_seen);
  if (own_copies_refused) {
    EXPECT_EQ(a.refused, 0);  // every event of the history takes effect once
    EXPECT_GT(own_copies, 30);
    EXPECT_EQ(b.refused, own_copies);
  }
}

TEST(SecondCopies, ChangeNothingInTheContactProjection) {
  testing::TempDir keys_dir;
  std::vector<std::unique_ptr<contact::TestKeys>> keys;  // a key vault for each build
  ExpectSecondCopiesChangeNothing(
      {kContactTopic}, kContactTopic, /*own_copies_refused=*/true,
      /*single_reads=*/0,
      [&](store::ProjectionStore* s) -> std::unique_ptr<projection::EventApplier> {
        keys.push_back(std::make_unique<contact::TestKeys>(
            keys_dir.Sub("keys-" + std::to_string(keys.size()))));
        return std::make_unique<contact::ContactProjection>(s, &keys.back()->sealer);
      });
}

TEST(SecondCopies, ChangeNothingInTheInteractionProjection) {
  ExpectSecondCopiesChangeNothing(
      {kInteractionTopic, kContactTopic}, kInteractionTopic, /*own_copies_refused=*/true,
      /*single_reads=*/0,
      [](store::ProjectionStore* s) -> std::unique_ptr<projection::EventApplier> {
        return std::make_unique<interaction::InteractionProjection>(s);
      });
}

TEST(SecondCopies, ChangeNothingInTheSalesProjection) {
  ExpectSecondCopiesChangeNothing(
      {kSalesTopic, kContactTopic}, kSalesTopic, /*own_copies_refused=*/true,
      /*single_reads=*/0,
      [](store::ProjectionStore* s) -> std::unique_ptr<projection::EventApplier> {
        return std::make_unique<sales::SalesProjection>(s);
      });
}

TEST(SecondCopies, ChangeNothingInTheAnalyticsProjection) {
  ExpectSecondCopiesChangeNothing(
      {analytics::kTopic, kContactTopic, kInteractionTopic, kSalesTopic}, analytics::kTopic,
      /*own_copies_refused=*/false,
      // a buyer's ledger and the co-purchase counts, known once the order's payload is read
      /*single_reads=*/70,
      [](store::ProjectionStore* s) -> std::unique_ptr<projection::EventApplier> {
        return std::make_unique<analytics::AnalyticsProjection>(s);
      });
}

}  // namespace
}  // namespace crm
