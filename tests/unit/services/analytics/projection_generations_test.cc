// The analytics projection's generations, which tell the service's cached rankings, product
// statistics and segment lists whether they are still current; its per-contact indexes; the
// purchases it reads from its index of orders.
#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/store/big_endian.h"
#include "common/store/projection_store.h"
#include "crm/analytics/v1/events.pb.h"
#include "services/analytics/projection/analytics_projection.h"
#include "services/sales/domain/order.h"
#include "tests/testing/events.h"
#include "tests/testing/testing.h"

namespace crm::analytics {
namespace {

using store::Cf;

// A batch applied while the one before it is committed (a projector behind the log): its
// segment change moves the generation at its own commit's Committed, not at the one before,
// after which a reader may still derive from the store without it.
TEST(AnalyticsProjectionGenerations, MoveAtTheCommitOfTheBatchThatChangedThem) {
  testing::TempDir dir;
  auto store = *store::ProjectionStore::Open(dir.Sub("analytics"));
  AnalyticsProjection projection(store.get());
  crm::analytics::v1::SegmentCreated created;
  created.mutable_segment()->set_name("best");
  auto first = store->NewBatch();
  first.Put(Cf::kLog, "position", "1");
  projection.Built();
  auto second = store->NewBatch();
  second.ReadThrough(&first);
  const auto applied =
      projection.Apply(crm::testing::MakeTestEvent(created, "S1", 0, 1000), second);
  ASSERT_TRUE(applied.ok() && applied->ok());
  const uint64_t segments = projection.segments_generation();
  ASSERT_TRUE(store->Commit(first).ok());
  projection.Committed();
  EXPECT_EQ(projection.segments_generation(), segments);  // the segment is not in the store yet
  second.ReadThrough(nullptr);
  projection.Built();
  ASSERT_TRUE(store->Commit(second).ok());
  projection.Committed();
  EXPECT_EQ(projection.segments_generation(), segments + 1);
}

// What was derived from the store before it was emptied for a rebuild is stale after it: both
// generations grow once at the emptying's Committed, as at a committed change; a commit that
// changes neither purchases nor segments leaves them.
TEST(AnalyticsProjectionGenerations, GrowWhenTheStoreIsEmptied) {
  testing::TempDir dir;
  auto store = *store::ProjectionStore::Open(dir.Sub("analytics"));
  AnalyticsProjection projection(store.get());
  const uint64_t purchases = projection.generation();
  const uint64_t segments = projection.segments_generation();
  auto batch = store->NewBatch();
  batch.Put(Cf::kLog, "position", "1");
  ASSERT_TRUE(store->Commit(batch).ok());
  projection.Committed();
  EXPECT_EQ(projection.generation(), purchases);
  EXPECT_EQ(projection.segments_generation(), segments);

  ASSERT_TRUE(store->Clear("rebuilding", "1").ok());
  projection.Committed();
  EXPECT_EQ(projection.generation(), purchases + 1);
  EXPECT_EQ(projection.segments_generation(), segments + 1);
  projection.Committed();  // nothing since
  EXPECT_EQ(projection.generation(), purchases + 1);
  EXPECT_EQ(projection.segments_generation(), segments + 1);
}

// A customer's latest records (the 360's interactions, orders, deals, cases, tasks): newest
// first, at most `limit`, from one contact's index or merged from several.
TEST(AnalyticsProjectionIndexes, GiveTheNewestFirstUpToTheLimitFromOneContactOrSeveral) {
  testing::TempDir dir;
  auto store = *store::ProjectionStore::Open(dir.Sub("analytics"));
  AnalyticsProjection projection(store.get());
  auto batch = store->NewBatch();
  auto index = [&](const std::string& contact, int64_t seconds) {
    crm::interaction::v1::Interaction i;
    i.set_id(absl::StrCat("I", seconds));
    i.set_subject(absl::StrCat("at ", seconds));
    std::string key = store::KindPrefix('i', "t", contact);  // newest first: the inverted time
    store::PutBigEndian(key, UINT64_MAX - static_cast<uint64_t>(seconds * 1000000000));
    key.append(i.id());
    batch.Put(Cf::kIndex, key, i.SerializeAsString());
  };
  for (int64_t s = 1; s <= 15; ++s) index("A", s);
  for (int64_t s = 100; s <= 104; ++s) index("B", s);
  ASSERT_TRUE(store->Commit(batch).ok());
  auto subjects = [&](const std::vector<std::string>& contacts, size_t limit) {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<crm::interaction::v1::Interaction>> found =
        projection.LatestInteractions("t", contacts, limit);
    EXPECT_TRUE(found.ok()) << found.status();
    if (found.ok()) {
      for (const auto& i : *found) out.push_back(i.subject());
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(subjects({"A"}, 3), (V{"at 15", "at 14", "at 13"}));
  EXPECT_EQ(subjects({"A"}, 10).size(), 10u);
  EXPECT_EQ(subjects({"A"}, 100).size(), 15u);
  EXPECT_EQ(subjects({"B"}, 10), (V{"at 104", "at 103", "at 102", "at 101", "at 100"}));
  EXPECT_EQ(subjects({"A", "B"}, 7),
            (V{"at 104", "at 103", "at 102", "at 101", "at 100", "at 15", "at 14"}));
  EXPECT_EQ(subjects({"A"}, 0), V{});
  EXPECT_EQ(subjects({"nobody"}, 10), V{});
  // A damaged entry is DATA_LOSS, not a record.
  auto damaged = store->NewBatch();
  std::string key = store::KindPrefix('i', "t", "C");
  key.append("x");
  damaged.Put(Cf::kIndex, key, "\xff\xff\xff");
  ASSERT_TRUE(store->Commit(damaged).ok());
  EXPECT_EQ(projection.LatestInteractions("t", {"C"}, 10).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(projection.LatestInteractions("t", {"A", "C"}, 10).status().code(),
            absl::StatusCode::kDataLoss);
}

// Orders applied to an analytics projection as its projector would: events in batches, each
// finished (EventApplier::Finish) and committed.
class OrdersOnAProjection : public ::testing::Test {
 protected:
  // Applies an order event to the batch being built.
  void Apply(const std::string& tenant, const std::string& id,
             const google::protobuf::Message& payload, int64_t seconds) {
    const int64_t version = orders_.contains(id) ? orders_[id].version() : 0;
    const auto event = crm::testing::MakeTestEvent(payload, id, version, seconds, "", tenant);
    const auto applied = projection_.Apply(event, batch_);
    ASSERT_TRUE(applied.ok() && applied->ok()) << id;
    std::optional<sales::Order> current;
    if (orders_.contains(id)) current = orders_[id];
    orders_[id] = *sales::ApplyOrder(current, event);
  }
  // Places an order of two lines (P1, P2, two of each at `price`, less `discount_bp`).
  void Place(const std::string& tenant, const std::string& id, const std::string& contact,
             int64_t seconds, int64_t price, int32_t discount_bp = 0) {
    sales::Order o;
    o.set_contact_id(contact);
    o.mutable_order_time()->set_seconds(seconds);
    for (const char* product : {"P1", "P2"}) {
      auto* line = o.add_line_items();
      line->set_product_id(product);
      line->set_quantity(2);
      line->mutable_unit_price()->set_currency_code("EUR");
      line->mutable_unit_price()->set_minor_units(price);
      line->set_discount_bp(discount_bp);
    }
    const auto placed = sales::DecidePlaceOrder(
        o, id,
        [](const std::string&, const std::string&, sales::Link) { return absl::OkStatus(); });
    ASSERT_TRUE(placed.ok()) << placed.status();
    Apply(tenant, id, *placed, seconds);
  }
  void Act(const std::string& tenant, const std::string& id, sales::OrderAction action) {
    const auto event = sales::DecideOrderAction(orders_[id], id, action, orders_[id].version());
    ASSERT_TRUE(event.ok()) << event.status();
    Apply(tenant, id, **event, 1000);
  }
  void RefundAll(const std::string& tenant, const std::string& id) {
    const auto refunded =
        sales::DecideRefund(orders_[id], id, orders_[id].total(), orders_[id].version());
    ASSERT_TRUE(refunded.ok()) << refunded.status();
    Apply(tenant, id, *refunded, 30);
  }
  // Finishes and commits the batch being built; the next events go to a new one.
  void Commit() {
    ASSERT_TRUE(projection_.Finish(batch_).ok());
    ASSERT_TRUE(store_->Commit(batch_).ok());
    batch_ = store_->NewBatch();
  }

  testing::TempDir dir_;
  std::unique_ptr<store::ProjectionStore> store_ =
      *store::ProjectionStore::Open(dir_.Sub("analytics"));
  AnalyticsProjection projection_{store_.get()};
  store::ProjectionStore::Batch batch_ = store_->NewBatch();
  std::map<std::string, sales::Order> orders_;
};

// A contact's purchases are its orders that count (not cancelled, not wholly refunded), read
// from the index of its orders: each contact's by order id whatever their times, the contacts
// in id order, the line amounts less their discounts; a tenant whose orders all stopped counting
// has no purchases. Read together with them, a customer's newest orders.
TEST_F(OrdersOnAProjection, PurchasesAreTheOrdersThatCountByOrderIdFromTheOrderIndex) {
  AnalyticsProjection& projection = projection_;
  // A: three orders placed out of id order, one cancelled; B: one wholly refunded; C: one with
  // a discount. Tenant "u" has only a cancelled order, "v" one that counts.
  Place("t", "O3", "A", 20, 100);
  Place("t", "O1", "A", 10, 100);
  Place("t", "O2", "A", 5, 100);
  Act("t", "O2", sales::OrderAction::kCancel);
  Place("t", "O4", "B", 10, 300);
  Act("t", "O4", sales::OrderAction::kPay);
  RefundAll("t", "O4");
  Place("t", "O5", "C", 40, 1000, 2500);
  Place("u", "O6", "D", 10, 100);
  Act("u", "O6", sales::OrderAction::kCancel);
  Place("v", "O7", "E", 10, 100);
  Commit();

  auto ids = [](const std::vector<crm::analytics::v1::LedgerPurchase>& purchases) {
    std::vector<std::string> out;
    for (const auto& p : purchases) out.push_back(p.order_id());
    return out;
  };
  using V = std::vector<std::string>;
  const auto a = projection.Purchases("t", {"A"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(ids(*a), (V{"O1", "O3"}));
  EXPECT_EQ((*a)[0].order_time().seconds(), 10);
  EXPECT_EQ((*a)[0].net().minor_units(), 400);
  EXPECT_EQ(ids(*projection.Purchases("t", {"B"})), V{});
  const auto c = projection.Purchases("t", {"C", "A"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(ids(*c), (V{"O5", "O1", "O3"}));
  ASSERT_EQ((*c)[0].lines_size(), 2);
  EXPECT_EQ((*c)[0].lines(1).product_id(), "P2");
  EXPECT_EQ((*c)[0].lines(1).quantity(), 2);
  EXPECT_EQ((*c)[0].lines(1).amount().minor_units(), 1500);  // 2 × 1000 less a quarter
  EXPECT_EQ((*c)[0].lines(1).amount().currency_code(), "EUR");

  // The same reads give the newest orders, counting or not, merged by time across contacts.
  auto latest = [&](const std::vector<std::string>& contacts, size_t limit) {
    std::vector<sales::Order> orders;
    const auto purchases = projection.Purchases("t", contacts, &orders, limit);
    EXPECT_TRUE(purchases.ok()) << purchases.status();
    V out;
    for (const auto& o : orders) out.push_back(o.id());
    return out;
  };
  EXPECT_EQ(latest({"A"}, 2), (V{"O3", "O1"}));
  EXPECT_EQ(latest({"A"}, 10), (V{"O3", "O1", "O2"}));
  EXPECT_EQ(latest({"C", "A", "B"}, 4), (V{"O5", "O3", "O1", "O4"}));  // O1, O4: same time
  EXPECT_EQ(latest({"A"}, 0), V{});

  std::vector<std::pair<std::string, V>> ledgers;
  ASSERT_TRUE(
      projection
          .ForEachLedger(
              "t",
              [&](std::string_view contact, const crm::analytics::v1::PurchaseLedger& ledger) {
                ledgers.emplace_back(std::string(contact),
                                     ids({ledger.purchases().begin(), ledger.purchases().end()}));
              })
          .ok());
  EXPECT_EQ(ledgers, (std::vector<std::pair<std::string, V>>{{"A", {"O1", "O3"}}, {"C", {"O5"}}}));
  const auto tenants = projection.TenantsWithPurchases();
  ASSERT_TRUE(tenants.ok()) << tenants.status();
  EXPECT_EQ(*tenants, (std::set<std::string>{"t", "v"}));
}

// The purchase counts (all purchases, each product's, each pair's) that a batch's orders move are
// written once per batch, at Finish: several orders of a batch add up, an order placed and
// cancelled in one batch leaves them as they were, and a count that falls to zero is removed.
TEST_F(OrdersOnAProjection, PurchaseCountsAddUpOverABatchAndGoAtZero) {
  using Pairs = std::vector<std::tuple<std::string, std::string, int64_t>>;
  auto pairs = [&] {
    Pairs out;
    const auto found = projection_.PairCounts("t", "", 100);
    EXPECT_TRUE(found.ok()) << found.status();
    for (const auto& p : *found) out.emplace_back(p.a, p.b, p.n);
    return out;
  };
  Place("t", "O1", "A", 10, 100);
  Place("t", "O2", "B", 20, 100);
  Place("t", "O3", "C", 30, 100);
  Act("t", "O3", sales::OrderAction::kCancel);
  Commit();
  EXPECT_EQ(*projection_.PurchaseCount("t"), 2);
  EXPECT_EQ(*projection_.ProductCounts("t"), (std::map<std::string, int64_t>{{"P1", 2}, {"P2", 2}}));
  EXPECT_EQ(pairs(), (Pairs{{"P1", "P2", 2}, {"P2", "P1", 2}}));

  Act("t", "O1", sales::OrderAction::kCancel);
  Commit();
  EXPECT_EQ(*projection_.PurchaseCount("t"), 1);
  EXPECT_EQ(*projection_.ProductCounts("t"), (std::map<std::string, int64_t>{{"P1", 1}, {"P2", 1}}));
  EXPECT_EQ(pairs(), (Pairs{{"P1", "P2", 1}, {"P2", "P1", 1}}));

  Act("t", "O2", sales::OrderAction::kCancel);
  Place("t", "O4", "D", 40, 100);
  Act("t", "O4", sales::OrderAction::kCancel);
  Commit();
  EXPECT_EQ(*projection_.PurchaseCount("t"), 0);
  EXPECT_EQ(*projection_.ProductCounts("t"), (std::map<std::string, int64_t>{}));
  EXPECT_EQ(pairs(), Pairs{});
  EXPECT_EQ(*projection_.PurchaseCount("u"), 0);  // another tenant's never moved
}

}  // namespace
}  // namespace crm::analytics
