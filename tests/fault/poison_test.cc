// Poison and future events on the log: every service on the dev broker reads records written
// straight to its topics — bytes that are not an event, an event type it has never heard of, a
// known event from a newer schema (unknown fields), a known event whose payload does not
// decode — and keeps serving, sets the undecodable record aside where operators see it, applies
// what it can, and rebuilds to the same checksum.
#include <gtest/gtest.h>

#include <future>

#include "common/eventlog/kafka_event_log.h"
#include "common/ids/ids.h"
#include "crm/contact/v1/events.pb.h"
#include "tests/integration/contact_client.h"
#include "tests/testing/events.h"

namespace crm::testing {
namespace {

namespace cv1 = crm::contact::v1;

class PoisonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = StartDevBroker(dir_.path());
    brokers_ = broker_.brokers;
    ASSERT_FALSE(brokers_.empty());
  }

  Server Start(const std::string& name, std::vector<std::string> extra = {}) {
    return StartServer("crm-" + name, KafkaServiceArgs(dir_.Sub(name), brokers_, extra),
                       dir_.path());
  }

  void Append(const std::string& key, const std::string& value) {
    if (!log_) {
      eventlog::KafkaEventLogOptions options;
      options.brokers = brokers_;
      options.client_id = "poison";
      auto log = eventlog::KafkaEventLog::Open(options);
      ASSERT_TRUE(log.ok()) << log.status();
      log_ = std::move(*log);
    }
    std::promise<absl::StatusOr<eventlog::LogPosition>> done;
    log_->AppendRaw("crm.contact.v1", key, value,
                    [&](absl::StatusOr<eventlog::LogPosition> p) { done.set_value(std::move(p)); });
    const auto position = done.get_future().get();
    ASSERT_TRUE(position.ok()) << position.status();
  }

  TempDir dir_;
  DevBroker broker_;
  std::string brokers_;
  std::unique_ptr<eventlog::KafkaEventLog> log_;
};

TEST_F(PoisonTest, EveryServiceSetsPoisonAsideAppliesWhatItCanAndKeepsServing) {
  const std::vector<std::string> names = {"contact", "interaction", "sales", "analytics"};
  std::map<std::string, Server> servers;
  for (const std::string& name : names) {
    servers[name] = Start(name);
    ASSERT_FALSE(servers[name].addr.empty()) << name;
  }
  Server& contacts = servers["contact"];
  Contact before;
  ASSERT_TRUE(CreateContact(contacts, "Before", "Poison", "", &before).ok());

  // 1. Not an event at all.
  Append("junk", std::string("\xff\xfe\x00 not a protobuf envelope", 29));
  // 2. An event type no service knows (a newer producer's).
  cv1::ContactCreated unused;
  crm::common::v1::EventEnvelope teleported =
      MakeTestEvent(unused, ids::NewId(), 0, 1700000000, ids::NewId(), "default");
  teleported.set_event_type("crm.contact.v1.ContactTeleported");
  teleported.mutable_payload()->set_type_url(
      "type.googleapis.com/crm.contact.v1.ContactTeleported");
  Append(teleported.aggregate_id(), teleported.SerializeAsString());
  // 3. A known event from a newer schema: the payload carries a field this build does not know.
  cv1::ContactCreated created;
  const std::string future_id = ids::NewId();
  created.mutable_contact()->set_id(future_id);
  created.mutable_contact()->mutable_personal()->set_given_name("Future");
  created.mutable_contact()->mutable_personal()->set_family_name("Schema");
  crm::common::v1::EventEnvelope future =
      MakeTestEvent(created, future_id, 0, 1700000001, ids::NewId(), "default");
  std::string payload = created.SerializeAsString();
  payload.append("\xb8\x9c\x01\x2a", 4);  // field 2503, varint 42
  future.mutable_payload()->set_value(payload);
  Append(future_id, future.SerializeAsString());
  // 4. A known event type whose payload does not decode.
  crm::common::v1::EventEnvelope broken =
      MakeTestEvent(created, ids::NewId(), 0, 1700000002, ids::NewId(), "default");
  broken.mutable_payload()->set_value(std::string("\xff\xff\xff", 3));
  Append(broken.aggregate_id(), broken.SerializeAsString());

  // Writes still work and are read back (the projection got past all four).
  Contact after;
  ASSERT_TRUE(CreateContact(contacts, "After", "Poison", "", &after).ok());
  Contact read;
  ASSERT_TRUE(GetContact(contacts, after.id(), &read).ok());
  // The newer-schema event was applied: its unknown field skipped, the rest kept. (It may sit on
  // another partition than the write above: wait until the projection has applied everything.)
  ASSERT_TRUE(WaitCaughtUp(contacts));
  grpc::Status future_read = GetContact(contacts, future_id, &read);
  ASSERT_TRUE(future_read.ok()) << future_read.error_message();
  EXPECT_EQ(read.personal().family_name(), "Schema");
  // The undecodable payload created nothing.
  EXPECT_EQ(GetContact(contacts, broken.aggregate_id(), &read).error_code(),
            grpc::StatusCode::NOT_FOUND);

  std::map<std::string, std::string> checksums;
  for (const std::string& name : names) {
    Server& s = servers[name];
    ASSERT_TRUE(WaitCaughtUp(s, absl::Seconds(30), name)) << name;
    EXPECT_EQ(HealthStatus(*s.channel), 1) << name;
    crm::admin::v1::GetProjectionStatusResponse status;
    ASSERT_TRUE(ProjectionStatus(s, &status, name).ok()) << name;
    EXPECT_EQ(status.dead_letters(), 1) << name << ": the undecodable record is set aside";
    EXPECT_GE(status.unknown_events(), 1) << name << ": the unknown type is skipped and counted";
    checksums[name] = status.checksum();
  }

  // A rebuild meets the same records and makes the same decisions.
  for (const std::string& name : names) {
    ASSERT_EQ(servers[name].process->Stop(SIGTERM), 0) << servers[name].process->Log();
    servers[name] = Start(name, {"--rebuild"});
    ASSERT_FALSE(servers[name].addr.empty()) << name;
    ASSERT_TRUE(WaitCaughtUp(servers[name], absl::Seconds(30), name)) << name;
    crm::admin::v1::GetProjectionStatusResponse status;
    ASSERT_TRUE(ProjectionStatus(servers[name], &status, name).ok()) << name;
    EXPECT_EQ(status.checksum(), checksums[name]) << name;
    EXPECT_EQ(status.dead_letters(), 1) << name;
  }
}

TEST_F(PoisonTest, DeadLettersAreListedInLogOrderPageByPageWithTheirBytes) {
  Server contacts = Start("contact");
  ASSERT_FALSE(contacts.addr.empty());
  std::vector<std::string> junk;
  for (int i = 0; i < 3; ++i) {
    junk.push_back(std::string("\xff\x01 junk ") + std::to_string(i));
    Append("junk", junk.back());
  }
  ASSERT_TRUE(WaitCaughtUp(contacts, absl::Seconds(30), "contact"));

  using crm::admin::v1::ListDeadLettersRequest;
  using crm::admin::v1::ListDeadLettersResponse;
  auto list = [&](const ListDeadLettersRequest& req, ListDeadLettersResponse* out) {
    return contacts.admin->ListDeadLetters(Ctx().get(), req, out);
  };
  ListDeadLettersRequest req;
  req.set_projection("contact");
  req.set_page_size(2);
  ListDeadLettersResponse first;
  ASSERT_TRUE(list(req, &first).ok());
  ASSERT_EQ(first.dead_letters_size(), 2);
  ASSERT_FALSE(first.next_page_token().empty());
  req.set_page_token(first.next_page_token());
  ListDeadLettersResponse second;
  ASSERT_TRUE(list(req, &second).ok());
  ASSERT_EQ(second.dead_letters_size(), 1);
  EXPECT_TRUE(second.next_page_token().empty());
  std::vector<crm::common::v1::DeadLetter> all(first.dead_letters().begin(),
                                               first.dead_letters().end());
  all.push_back(second.dead_letters(0));
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].topic(), "crm.contact.v1");
    EXPECT_EQ(all[i].key(), "junk");
    EXPECT_EQ(all[i].value(), junk[i]) << i;
    EXPECT_FALSE(all[i].error().empty());
    if (i > 0) {
      EXPECT_GT(all[i].offset(), all[i - 1].offset());
    }
  }

  // Bad requests: named, nothing listed.
  struct Bad {
    std::string projection;
    int32_t page_size;
    std::string page_token;
    grpc::StatusCode code;
    std::string names;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"nope", 0, "", grpc::StatusCode::NOT_FOUND, "projection"},
           {"contact", -1, "", grpc::StatusCode::INVALID_ARGUMENT, "page_size"},
           {"contact", 1001, "", grpc::StatusCode::INVALID_ARGUMENT, "page_size"},
           {"contact", 0, "not a token", grpc::StatusCode::INVALID_ARGUMENT, "page_token"}}) {
    ListDeadLettersRequest r;
    r.set_projection(bad.projection);
    r.set_page_size(bad.page_size);
    r.set_page_token(bad.page_token);
    ListDeadLettersResponse out;
    const grpc::Status status = list(r, &out);
    EXPECT_EQ(status.error_code(), bad.code) << bad.names;
    EXPECT_NE(status.error_message().find(bad.names), std::string::npos) << status.error_message();
    EXPECT_EQ(out.dead_letters_size(), 0);
  }

  // The same through crmctl.
  const CommandResult ctl =
      RunCommand(BinaryPath("crmctl"),
                 {"--addr", contacts.addr, "admin", "dead-letters", "--projection", "contact"});
  ASSERT_EQ(ctl.exit_code, 0) << ctl.err;
  for (const auto& d : all) {
    EXPECT_NE(ctl.out.find("crm.contact.v1/" + std::to_string(d.partition()) + "@" +
                           std::to_string(d.offset())),
              std::string::npos)
        << ctl.out;
  }
}

}  // namespace
}  // namespace crm::testing
