// The change feed (each service's Subscribe) against a real crm-node: order per aggregate,
// filters, the personal data it shows, and resuming from a cursor across a restart.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "crm/contact/v1/events.pb.h"
#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

using crm::common::v1::EventEnvelope;
using crm::contact::v1::Contact;
using crm::contact::v1::SubscribeRequest;
using crm::contact::v1::SubscribeResponse;

// A Subscribe stream read message by message, ended (cancelled) when it goes out of scope.
class Subscription {
 public:
  Subscription(Server& server, const SubscribeRequest& request)
      : ctx_(Ctx(absl::Seconds(30))), reader_(server.contacts->Subscribe(ctx_.get(), request)) {}
  ~Subscription() {
    if (finished_) return;
    ctx_->TryCancel();
    Finish().IgnoreError();
  }

  // The next `n` events (progress messages skipped), each with its cursor; fewer if the stream
  // ended first.
  std::vector<SubscribeResponse> Events(size_t n) {
    std::vector<SubscribeResponse> events;
    SubscribeResponse message;
    while (events.size() < n && reader_->Read(&message)) {
      EXPECT_FALSE(message.cursor().empty());
      if (message.has_event()) events.push_back(message);
    }
    return events;
  }

  grpc::Status Finish() {
    SubscribeResponse ignored;
    while (reader_->Read(&ignored)) {
    }
    finished_ = true;
    return reader_->Finish();
  }

 private:
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientReader<SubscribeResponse>> reader_;
  bool finished_ = false;
};

std::set<std::string> EventIds(const std::vector<SubscribeResponse>& messages) {
  std::set<std::string> ids;
  for (const SubscribeResponse& m : messages) ids.insert(m.event().event_id());
  return ids;
}

std::string FamilyName(const EventEnvelope& e) {
  crm::contact::v1::ContactCreated created;
  if (!e.payload().UnpackTo(&created)) return "";
  return created.contact().personal().family_name();
}

TEST(FeedTest, FollowsTheLogInOrderFiltersAndResumesFromACursorAcrossARestart) {
  TempDir dir;
  Server node = StartNode(dir);
  ASSERT_FALSE(node.addr.empty());
  std::vector<Contact> contacts(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(CreateContact(node, "Feed", "Person" + std::to_string(i), "", &contacts[i]).ok());
  }
  Contact updated;
  ASSERT_TRUE(UpdateJobTitle(node, contacts[0].id(), "Buyer", 1, &updated).ok());

  SubscribeRequest request;
  request.add_event_types("crm.contact.v1.ContactCreated");
  request.add_event_types("crm.contact.v1.ContactUpdated");
  std::vector<SubscribeResponse> first;
  {
    Subscription feed(node, request);
    first = feed.Events(4);
  }
  ASSERT_EQ(first.size(), 4u);
  std::map<std::string, std::vector<std::string>> per_contact;
  for (const SubscribeResponse& m : first) {
    EXPECT_EQ(m.event().tenant(), "default");
    EXPECT_EQ(m.event().aggregate_type(), "contact");
    per_contact[m.event().aggregate_id()].push_back(m.event().event_type());
    // Opened: the log holds this sealed; with authentication off the caller may see it.
    if (m.event().event_type() == "crm.contact.v1.ContactCreated") {
      EXPECT_EQ(FamilyName(m.event()).rfind("Person", 0), 0u) << m.event().ShortDebugString();
    }
  }
  ASSERT_EQ(per_contact.size(), 3u);
  EXPECT_EQ(
      per_contact[contacts[0].id()],
      (std::vector<std::string>{"crm.contact.v1.ContactCreated", "crm.contact.v1.ContactUpdated"}));

  // After a restart, a cursor continues after the message it came with: the events not given
  // before it (partitions may interleave differently on another read), then the new one.
  ASSERT_EQ(node.process->Stop(SIGTERM), 0) << node.process->Log();
  node = StartNode(dir);
  ASSERT_FALSE(node.addr.empty());
  Contact later;
  ASSERT_TRUE(CreateContact(node, "Feed", "Later", "", &later).ok());
  request.set_cursor(first[1].cursor());
  {
    Subscription feed(node, request);
    std::vector<SubscribeResponse> resumed = feed.Events(3);
    ASSERT_EQ(resumed.size(), 3u);
    std::set<std::string> got = EventIds(resumed);
    EXPECT_EQ(got.count(first[2].event().event_id()), 1u);
    EXPECT_EQ(got.count(first[3].event().event_id()), 1u);
    EXPECT_EQ(got.count(first[0].event().event_id()) + got.count(first[1].event().event_id()), 0u)
        << "events before the cursor came again";
    bool later_seen = false;
    for (const SubscribeResponse& m : resumed) later_seen |= m.event().aggregate_id() == later.id();
    EXPECT_TRUE(later_seen);
  }

  // Filters: aggregate type, and a start time (no event before it comes).
  const absl::Time cut = absl::Now();
  crm::contact::v1::CreateCompanyRequest company_request;
  company_request.mutable_company()->set_name("Feedwell Ltd");
  crm::contact::v1::Company company;
  ASSERT_TRUE(node.contacts->CreateCompany(Ctx().get(), company_request, &company).ok());
  SubscribeRequest companies;
  companies.add_aggregate_types("company");
  {
    Subscription feed(node, companies);
    std::vector<SubscribeResponse> got = feed.Events(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].event().aggregate_id(), company.id());
  }
  SubscribeRequest since;
  const int64_t cut_nanos = absl::ToUnixNanos(cut);
  since.mutable_start_time()->set_seconds(cut_nanos / 1000000000);
  since.mutable_start_time()->set_nanos(static_cast<int32_t>(cut_nanos % 1000000000));
  {
    Subscription feed(node, since);
    std::vector<SubscribeResponse> got = feed.Events(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].event().aggregate_id(), company.id());
  }

  // A subscriber that is waiting hears of an event written after it subscribed.
  {
    SubscribeRequest created;
    created.add_event_types("crm.contact.v1.ContactCreated");
    created.set_cursor(first[3].cursor());
    Subscription feed(node, created);
    std::vector<SubscribeResponse> caught_up = feed.Events(1);  // "Later"
    ASSERT_EQ(caught_up.size(), 1u);
    Contact newest;
    ASSERT_TRUE(CreateContact(node, "Feed", "Newest", "", &newest).ok());
    std::vector<SubscribeResponse> live = feed.Events(1);
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live[0].event().aggregate_id(), newest.id());
  }

  // The other services' feeds carry their own topics.
  auto sales = crm::sales::v1::SalesService::NewStub(node.channel);
  crm::sales::v1::SubscribeRequest sales_request;
  sales_request.add_event_types("crm.contact.v1.ContactCreated");
  auto ctx = Ctx();
  auto reader = sales->Subscribe(ctx.get(), sales_request);
  crm::sales::v1::SubscribeResponse ignored;
  EXPECT_FALSE(reader->Read(&ignored));
  const grpc::Status refused = reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("event_types[0]"), std::string::npos)
      << refused.error_message();

  // A node that stops ends its streams at once (UNAVAILABLE), not after its grace period.
  Subscription open(node, SubscribeRequest());
  ASSERT_EQ(open.Events(1).size(), 1u);
  const absl::Time stopping = absl::Now();
  ASSERT_EQ(node.process->Stop(SIGTERM), 0) << node.process->Log();
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(5));
  EXPECT_EQ(open.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(FeedTest, ASubscriberThatDoesNotReadHoldsBackNoOne) {
  TempDir dir;
  Server node = StartNode(dir);
  ASSERT_FALSE(node.addr.empty());
  SubscribeRequest created;
  created.add_event_types("crm.contact.v1.ContactCreated");
  Subscription stalled(node, created);  // opened, never read until the end
  constexpr int kContacts = 300;
  for (int i = 0; i < kContacts; ++i) {
    Contact c;
    ASSERT_TRUE(CreateContact(node, "Stalled", "Reader" + std::to_string(i), "", &c).ok()) << i;
  }
  Subscription brisk(node, created);
  EXPECT_EQ(brisk.Events(kContacts).size(), static_cast<size_t>(kContacts));
  // The stalled stream lost nothing: it gives every event once it is read.
  EXPECT_EQ(stalled.Events(kContacts).size(), static_cast<size_t>(kContacts));
}

TEST(FeedTest, AProcessServesAtMostMaxFeedStreams) {
  TempDir dir;
  Server node = StartNode(dir, {"--max-feed-streams", "1"});
  ASSERT_FALSE(node.addr.empty());
  Contact contact;
  ASSERT_TRUE(CreateContact(node, "Feed", "Limit", "", &contact).ok());
  {
    Subscription first(node, SubscribeRequest());
    ASSERT_EQ(first.Events(1).size(), 1u);  // open, and served
    Subscription second(node, SubscribeRequest());
    const grpc::Status refused = second.Finish();
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_NE(refused.error_message().find("--max-feed-streams"), std::string::npos)
        << refused.error_message();
  }
  // Its place is free again once the first subscriber hung up.
  EXPECT_TRUE(WaitFor([&] {
    Subscription again(node, SubscribeRequest());
    return again.Events(1).size() == 1u;
  }));
}

}  // namespace
}  // namespace crm::testing
