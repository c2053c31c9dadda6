// crm-contact on the Kafka protocol: the real service binary against crm-devbroker (librdkafka's
// mock cluster), over loopback.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "crm/contact/v1/events.pb.h"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

using crm::contact::v1::Contact;

class KafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = StartDevBroker(dir_.path());
    brokers_ = broker_.brokers;
    ASSERT_FALSE(brokers_.empty());
  }

  Server StartContact(const std::string& data, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--data-dir",      dir_.Sub(data),
                                     "--log",    "kafka",       "--kafka-brokers", brokers_};
    args.insert(args.end(), extra.begin(), extra.end());
    return StartServer("crm-contact", args, dir_.path());
  }

  TempDir dir_;
  DevBroker broker_;
  std::string brokers_;
};

TEST_F(KafkaTest, DevbrokerPrintsItsAddressFirst) {
  EXPECT_EQ(brokers_.rfind("127.0.0.1:", 0), 0u) << brokers_;
}

TEST_F(KafkaTest, ContactServiceWorksEndToEndAndSurvivesRestartAndRebuild) {
  Server a = StartContact("a");
  ASSERT_FALSE(a.addr.empty());
  Contact c;
  ASSERT_TRUE(CreateContact(a, "Kafka", "Franz", "franz@example.cz", &c).ok());
  Contact read;
  ASSERT_TRUE(GetContact(a, c.id(), &read).ok());  // Read-your-writes through Kafka.
  EXPECT_EQ(read.personal().family_name(), "Franz");
  Contact updated;
  ASSERT_TRUE(UpdateJobTitle(a, c.id(), "Clerk", 1, &updated).ok());
  crm::contact::v1::SearchContactsRequest search;
  search.set_query("franz");
  crm::contact::v1::SearchContactsResponse found;
  ASSERT_TRUE(a.contacts->SearchContacts(Ctx().get(), search, &found).ok());
  ASSERT_EQ(found.matches_size(), 1);

  crm::admin::v1::GetProjectionStatusResponse before, after;
  ASSERT_TRUE(ProjectionStatus(a, &before).ok());
  ASSERT_EQ(a.process->Stop(SIGTERM), 0) << a.process->Log();

  a = StartContact("a");
  ASSERT_TRUE(GetContact(a, c.id(), &read).ok());
  EXPECT_EQ(read.job_title(), "Clerk");
  ASSERT_EQ(a.process->Stop(SIGTERM), 0);

  a = StartContact("a", {"--rebuild"});
  ASSERT_TRUE(WaitCaughtUp(a));
  ASSERT_TRUE(ProjectionStatus(a, &after).ok());
  EXPECT_EQ(after.checksum(), before.checksum());
}

TEST_F(KafkaTest, TwoReplicasConvergeAfterConcurrentConflictingUpdates) {
  Server a = StartContact("a");
  Server b = StartContact("b");
  ASSERT_FALSE(a.addr.empty());
  ASSERT_FALSE(b.addr.empty());
  std::vector<Contact> contacts(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(CreateContact(a, "Shared" + std::to_string(i), "Z", "", &contacts[i]).ok());
  }
  // Replica b learns the contacts from the log.
  for (const Contact& c : contacts) {
    ASSERT_TRUE(WaitFor([&] {
      Contact read;
      return GetContact(b, c.id(), &read).ok();
    }));
  }
  // Both replicas race to update every contact from version 1; exactly one write per contact
  // may win, and whoever lost is told ABORTED.
  for (const Contact& c : contacts) {
    std::promise<grpc::Status> from_a, from_b;
    std::thread ta([&] {
      Contact out;
      from_a.set_value(UpdateJobTitle(a, c.id(), "from-a", 1, &out));
    });
    std::thread tb([&] {
      Contact out;
      from_b.set_value(UpdateJobTitle(b, c.id(), "from-b", 1, &out));
    });
    const grpc::Status sa = from_a.get_future().get();
    const grpc::Status sb = from_b.get_future().get();
    ta.join();
    tb.join();
    const int wins = (sa.ok() ? 1 : 0) + (sb.ok() ? 1 : 0);
    EXPECT_EQ(wins, 1) << sa.error_message() << " / " << sb.error_message();
    for (const grpc::Status& s : {sa, sb}) {
      if (!s.ok()) {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED) << s.error_message();
      }
    }
    Contact ra, rb;
    ASSERT_TRUE(WaitCaughtUp(a));
    ASSERT_TRUE(WaitCaughtUp(b));
    ASSERT_TRUE(GetContact(a, c.id(), &ra).ok());
    ASSERT_TRUE(GetContact(b, c.id(), &rb).ok());
    EXPECT_EQ(ra.job_title(), sa.ok() ? "from-a" : "from-b");
    EXPECT_EQ(ra.SerializeAsString(), rb.SerializeAsString());
  }
  crm::admin::v1::GetProjectionStatusResponse status_a, status_b;
  ASSERT_TRUE(ProjectionStatus(a, &status_a).ok());
  ASSERT_TRUE(ProjectionStatus(b, &status_b).ok());
  EXPECT_EQ(status_a.checksum(), status_b.checksum());
}

TEST_F(KafkaTest, ReplicasShareWrappedDataKeysAndAllForgetAnErasedPerson) {
  const std::string kek = dir_.Sub("kek");
  const std::string other_kek = dir_.Sub("other-kek");
  WriteFile(kek, std::string(48, 'k'));
  WriteFile(other_kek, std::string(48, 'o'));
  Server a = StartContact("a", {"--key-encryption-key-file", kek});
  Server b = StartContact("b", {"--key-encryption-key-file", kek});
  ASSERT_FALSE(a.addr.empty());
  ASSERT_FALSE(b.addr.empty());
  Contact c;
  ASSERT_TRUE(CreateContact(a, "Augusta", "Lovelace", "ada@example.com", &c).ok());
  // b opens what a sealed: it got the person's key from crm.keys.v1.
  ASSERT_TRUE(WaitFor([&] {
    Contact read;
    return GetContact(b, c.id(), &read).ok() && read.personal().family_name() == "Lovelace";
  }));

  // Its change feed on Kafka, read from the other replica: the event, opened with the shared key.
  {
    crm::contact::v1::SubscribeRequest request;
    request.add_event_types("crm.contact.v1.ContactCreated");
    auto ctx = Ctx();
    auto reader = b.contacts->Subscribe(ctx.get(), request);
    crm::contact::v1::SubscribeResponse message;
    while (reader->Read(&message) && !message.has_event()) {
    }
    crm::contact::v1::ContactCreated created;
    ASSERT_TRUE(message.event().payload().UnpackTo(&created)) << message.ShortDebugString();
    EXPECT_EQ(created.contact().id(), c.id());
    EXPECT_EQ(created.contact().personal().family_name(), "Lovelace");
    ctx->TryCancel();
    while (reader->Read(&message)) {
    }
    reader->Finish().IgnoreError();
  }

  // A replica given another key-encryption key cannot read the keys: it refuses to start rather
  // than show every person as erased.
  Process stranger(BinaryPath("crm-contact"),
                   {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("s"), "--log", "kafka",
                    "--kafka-brokers", brokers_, "--key-encryption-key-file", other_kek},
                   {}, dir_.path());
  EXPECT_NE(stranger.Stop(0, absl::Seconds(60)), 0);
  EXPECT_NE(stranger.Log().find("--key-encryption-key-file"), std::string::npos) << stranger.Log();
  EXPECT_NE(stranger.Log().find("do not unwrap"), std::string::npos) << stranger.Log();

  crm::contact::v1::EraseContactRequest erase;
  erase.set_id(c.id());
  Contact erased;
  grpc::Status s = a.contacts->EraseContact(Ctx().get(), erase, &erased);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(erased.erased());
  // b destroyed its copy of the key and scrubbed its projection.
  ASSERT_TRUE(WaitFor([&] {
    Contact read;
    return GetContact(b, c.id(), &read).ok() && read.erased();
  }));
  Contact read;
  ASSERT_TRUE(GetContact(b, c.id(), &read).ok());
  EXPECT_EQ(read.personal().ByteSizeLong(), 0u) << read.DebugString();
  ASSERT_TRUE(WaitCaughtUp(a));
  ASSERT_TRUE(WaitCaughtUp(b));
  crm::admin::v1::GetProjectionStatusResponse status_a, status_b, rebuilt;
  ASSERT_TRUE(ProjectionStatus(a, &status_a).ok());
  ASSERT_TRUE(ProjectionStatus(b, &status_b).ok());
  EXPECT_EQ(status_a.checksum(), status_b.checksum());

  // Rebuilt from the log, with the key gone, b reaches the same state.
  ASSERT_EQ(b.process->Stop(SIGTERM), 0) << b.process->Log();
  b = StartContact("b", {"--key-encryption-key-file", kek, "--rebuild"});
  ASSERT_TRUE(WaitCaughtUp(b));
  ASSERT_TRUE(ProjectionStatus(b, &rebuilt).ok());
  EXPECT_EQ(rebuilt.checksum(), status_a.checksum());
  ASSERT_TRUE(GetContact(b, c.id(), &read).ok());
  EXPECT_TRUE(read.erased());
  EXPECT_EQ(read.personal().ByteSizeLong(), 0u) << read.DebugString();
}

TEST_F(KafkaTest, MissingTopicFailsFastWithAClearMessage) {
  Process bare(BinaryPath("crm-devbroker"), {"--topics", "crm.other.v1"}, {}, dir_.path());
  const std::string other = bare.ReadLine();
  ASSERT_FALSE(other.empty());
  Process contact(BinaryPath("crm-contact"),
                  {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("m"), "--log", "kafka",
                   "--kafka-brokers", other},
                  {}, dir_.path());
  contact.Stop(0, absl::Seconds(40));
  // The first topic it needs names itself: the data keys', then its own.
  EXPECT_NE(contact.Log().find("topic crm.keys.v1: "), std::string::npos) << contact.Log();
}

}  // namespace
}  // namespace crm::testing
