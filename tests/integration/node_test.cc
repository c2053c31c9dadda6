// crm-node, the real binary, on loopback: the contact API end to end on the embedded log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <set>

#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

using crm::contact::v1::Contact;

class NodeTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra = {}) {
    node_ = testing::StartNode(dir_, std::move(extra));
    ASSERT_FALSE(node_.addr.empty());
  }
  void Restart(std::vector<std::string> extra = {}) {
    ASSERT_EQ(node_.process->Stop(SIGTERM), 0) << node_.process->Log();
    Start(std::move(extra));
  }
  int64_t EventsSeen() { return testing::EventsSeen(node_); }

  TempDir dir_;
  Server node_;
};

TEST_F(NodeTest, CreateReadUpdateSearchDelete) {
  Start();
  Contact jose;
  ASSERT_TRUE(CreateContact(node_, "José", "Núñez", "Jose.Nunez@Example.com", &jose).ok());
  EXPECT_EQ(jose.version(), 1);
  EXPECT_EQ(jose.personal().emails(0).address(), "jose.nunez@example.com");
  Contact ada;
  ASSERT_TRUE(CreateContact(node_, "Ada", "Lovelace", "ada@example.org", &ada).ok());

  // Read-your-writes: the answer came after the projection applied the event.
  Contact read;
  ASSERT_TRUE(GetContact(node_, jose.id(), &read).ok());
  EXPECT_EQ(read.SerializeAsString(), jose.SerializeAsString());

  Contact updated;
  ASSERT_TRUE(UpdateJobTitle(node_, jose.id(), "Buyer", 1, &updated).ok());
  EXPECT_EQ(updated.version(), 2);
  EXPECT_EQ(updated.job_title(), "Buyer");
  grpc::Status stale = UpdateJobTitle(node_, jose.id(), "Other", 1, &updated);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED) << stale.error_message();

  // Case- and accent-insensitive prefix search, best match first.
  crm::contact::v1::SearchContactsRequest search;
  search.set_query("jose nun");
  crm::contact::v1::SearchContactsResponse found;
  ASSERT_TRUE(node_.contacts->SearchContacts(Ctx().get(), search, &found).ok());
  ASSERT_EQ(found.matches_size(), 1);
  EXPECT_EQ(found.matches(0).contact().id(), jose.id());
  search.set_query("EXAMPLE");
  ASSERT_TRUE(node_.contacts->SearchContacts(Ctx().get(), search, &found).ok());
  EXPECT_EQ(found.matches_size(), 2);

  crm::contact::v1::DeleteContactRequest del;
  del.set_id(jose.id());
  Contact archived;
  ASSERT_TRUE(node_.contacts->DeleteContact(Ctx().get(), del, &archived).ok());
  EXPECT_TRUE(archived.archived());
  ASSERT_TRUE(GetContact(node_, jose.id(), &read).ok());
  EXPECT_TRUE(read.archived());

  crm::contact::v1::ListContactsRequest list;
  crm::contact::v1::ListContactsResponse page;
  ASSERT_TRUE(node_.contacts->ListContacts(Ctx().get(), list, &page).ok());
  ASSERT_EQ(page.contacts_size(), 1);
  EXPECT_EQ(page.contacts(0).id(), ada.id());
  list.set_show_archived(true);
  ASSERT_TRUE(node_.contacts->ListContacts(Ctx().get(), list, &page).ok());
  EXPECT_EQ(page.contacts_size(), 2);
  search.set_query("jose");
  ASSERT_TRUE(node_.contacts->SearchContacts(Ctx().get(), search, &found).ok());
  EXPECT_EQ(found.matches_size(), 0);
  search.set_show_archived(true);
  ASSERT_TRUE(node_.contacts->SearchContacts(Ctx().get(), search, &found).ok());
  EXPECT_EQ(found.matches_size(), 1);
}

TEST_F(NodeTest, ASecondNodeOnAnAddressInUseRefusesToStart) {
  Start();
  TempDir other;
  const CommandResult second =
      RunCommand(BinaryPath("crm-node"), {"--listen", node_.addr, "--data-dir", other.Sub("data")});
  EXPECT_NE(second.exit_code, 0);
  EXPECT_THAT(second.err, ::testing::HasSubstr("cannot listen on \"" + node_.addr + "\""));
  // The first node still answers alone.
  Contact c;
  EXPECT_TRUE(CreateContact(node_, "Ada", "Lovelace", "ada@example.org", &c).ok());
}

TEST_F(NodeTest, ListFiltersAndPagesThroughEveryContactOnce) {
  Start();
  for (int i = 0; i < 7; ++i) {
    crm::contact::v1::CreateContactRequest req;
    req.mutable_contact()->mutable_personal()->set_given_name("P" + std::to_string(i));
    req.mutable_contact()->set_owner(i % 2 == 0 ? "sam" : "kim");
    req.mutable_contact()->add_tags(i < 3 ? "vip" : "regular");
    crm::contact::v1::CreateContactResponse created;
    ASSERT_TRUE(node_.contacts->CreateContact(Ctx().get(), req, &created).ok());
  }
  crm::contact::v1::ListContactsRequest list;
  list.set_page_size(2);
  std::set<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    crm::contact::v1::ListContactsResponse page;
    ASSERT_TRUE(node_.contacts->ListContacts(Ctx().get(), list, &page).ok());
    for (const auto& c : page.contacts()) EXPECT_TRUE(seen.insert(c.id()).second);
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(seen.size(), 7u);

  crm::contact::v1::ListContactsRequest filtered;
  filtered.set_owner("sam");
  filtered.set_tag("VIP");
  crm::contact::v1::ListContactsResponse page;
  ASSERT_TRUE(node_.contacts->ListContacts(Ctx().get(), filtered, &page).ok());
  EXPECT_EQ(page.contacts_size(), 2);  // P0 and P2.
}

TEST_F(NodeTest, RepeatedRequestIdCreatesOnce) {
  Start();
  Contact first, second;
  ASSERT_TRUE(CreateContact(node_, "Grace", "Hopper", "", &first, "req-grace").ok());
  ASSERT_TRUE(CreateContact(node_, "Grace", "Hopper", "", &second, "req-grace").ok());
  EXPECT_EQ(first.id(), second.id());
  EXPECT_EQ(EventsSeen(), 1);
  // The same key for another command is a caller bug, said plainly.
  Contact out;
  grpc::Status reused = UpdateJobTitle(node_, first.id(), "Admiral", 0, &out, "req-grace");
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(reused.error_message().find("request_id"), std::string::npos);
}

TEST_F(NodeTest, EverythingSurvivesRestartAndCrash) {
  Start();
  std::vector<Contact> created(5);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(CreateContact(node_, "C" + std::to_string(i), "X", "", &created[i]).ok());
  }
  Restart();
  for (const Contact& c : created) {
    Contact read;
    ASSERT_TRUE(GetContact(node_, c.id(), &read).ok());
    EXPECT_EQ(read.SerializeAsString(), c.SerializeAsString());
  }
  // An acknowledged write survives kill -9.
  Contact last;
  ASSERT_TRUE(CreateContact(node_, "Last", "Write", "", &last).ok());
  node_.process->Kill();
  Start();
  Contact read;
  ASSERT_TRUE(GetContact(node_, last.id(), &read).ok());
  EXPECT_EQ(read.personal().given_name(), "Last");
  EXPECT_EQ(EventsSeen(), 6);
}

TEST_F(NodeTest, RebuildFromTheLogReproducesTheChecksum) {
  Start();
  Contact c;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        CreateContact(node_, "R" + std::to_string(i), "Y", "r" + std::to_string(i) + "@x.io", &c)
            .ok());
    Contact out;
    ASSERT_TRUE(UpdateJobTitle(node_, c.id(), "T", 0, &out).ok());
  }
  crm::admin::v1::GetProjectionStatusResponse before, after;
  ASSERT_TRUE(ProjectionStatus(node_, &before).ok());
  Restart({"--rebuild"});
  ASSERT_TRUE(WaitCaughtUp(node_));
  ASSERT_TRUE(ProjectionStatus(node_, &after).ok());
  EXPECT_EQ(after.checksum(), before.checksum());
  EXPECT_EQ(after.events_seen(), 20);
}

TEST_F(NodeTest, UnknownIdsAreNotFound) {
  Start();
  const std::string missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  Contact out;
  EXPECT_EQ(GetContact(node_, missing, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(UpdateJobTitle(node_, missing, "x", 0, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  crm::contact::v1::DeleteContactRequest del;
  del.set_id(missing);
  EXPECT_EQ(node_.contacts->DeleteContact(Ctx().get(), del, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(EventsSeen(), 0);
}

// One bad input per RPC over the wire: INVALID_ARGUMENT naming the field, nothing written.
TEST_F(NodeTest, BadInputIsRefusedForEveryRpcAndWritesNothing) {
  Start();
  Contact out;
  crm::contact::v1::CreateContactResponse created;
  crm::contact::v1::CreateContactRequest create;
  create.mutable_contact()->mutable_personal()->add_phones()->set_number("555-1234");
  ExpectInvalid(node_.contacts->CreateContact(Ctx().get(), create, &created),
                "contact.personal.phones[0].number");
  create.Clear();
  create.mutable_contact();
  ExpectInvalid(node_.contacts->CreateContact(Ctx().get(), create, &created), "contact.personal");

  crm::contact::v1::GetContactRequest get;
  get.set_id("nope");
  ExpectInvalid(node_.contacts->GetContact(Ctx().get(), get, &out), "id");

  crm::contact::v1::UpdateContactRequest update;
  update.mutable_contact()->set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  update.mutable_update_mask()->add_paths("archived");
  ExpectInvalid(node_.contacts->UpdateContact(Ctx().get(), update, &out), "update_mask");

  crm::contact::v1::DeleteContactRequest del;
  ExpectInvalid(node_.contacts->DeleteContact(Ctx().get(), del, &out), "id");

  crm::contact::v1::ListContactsRequest list;
  list.set_page_size(5000);
  crm::contact::v1::ListContactsResponse list_out;
  ExpectInvalid(node_.contacts->ListContacts(Ctx().get(), list, &list_out), "page_size");

  crm::contact::v1::SearchContactsRequest search;
  crm::contact::v1::SearchContactsResponse search_out;
  ExpectInvalid(node_.contacts->SearchContacts(Ctx().get(), search, &search_out), "query");

  // Bounded message size.
  create.Clear();
  create.mutable_contact()->mutable_personal()->set_given_name(std::string(5 << 20, 'a'));
  EXPECT_EQ(node_.contacts->CreateContact(Ctx().get(), create, &created).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(EventsSeen(), 0);
}

TEST_F(NodeTest, AdminStatusNamesUnknownProjections) {
  Start();
  crm::admin::v1::GetProjectionStatusRequest req;
  req.set_projection("nothing");
  crm::admin::v1::GetProjectionStatusResponse out;
  grpc::Status s = node_.admin->GetProjectionStatus(Ctx().get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("contact"), std::string::npos);
}

TEST_F(NodeTest, SigtermExitsCleanly) {
  Start();
  Contact c;
  ASSERT_TRUE(CreateContact(node_, "Bye", "Now", "", &c).ok());
  const int status = node_.process->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(NodeTest, ConnectionsAreRecycledAfterMaxConnectionAge) {
  Start({"--max-connection-age", "1"});
  // A fresh channel: connected by a call, then closed by the server (GOAWAY) once a second
  // old, with nothing in flight — the channel leaves READY by itself.
  auto channel = grpc::CreateChannel(node_.addr, grpc::InsecureChannelCredentials());
  ASSERT_EQ(HealthStatus(*channel), 1);
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  EXPECT_TRUE(channel->WaitForStateChange(
      GRPC_CHANNEL_READY, std::chrono::system_clock::now() + std::chrono::seconds(20)));
  EXPECT_EQ(HealthStatus(*channel), 1);  // and reconnects for the next call
  Process bad(
      BinaryPath("crm-node"),
      {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("d6"), "--max-connection-age", "-5"}, {},
      dir_.path());
  EXPECT_NE(bad.Stop(0, absl::Seconds(10)), 0);
  EXPECT_NE(bad.Log().find("--max-connection-age"), std::string::npos) << bad.Log();
}

TEST_F(NodeTest, JsonLogsAreOneObjectPerLine) {
  // A quote in the data directory's name, which the start-up log line quotes back.
  const std::string data = dir_.Sub("da\"ta");
  Server node = StartServer("crm-node",
                            {"--listen", "127.0.0.1:0", "--data-dir", data, "--log-format", "json"},
                            dir_.path());
  ASSERT_FALSE(node.addr.empty());
  ASSERT_EQ(node.process->Stop(SIGTERM), 0);
  int records = 0;
  bool quoted = false;
  for (absl::string_view line : absl::StrSplit(node.process->Log(), '\n', absl::SkipEmpty())) {
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(record.is_object()) << line;
    EXPECT_EQ(record["service"], "crm-node") << line;
    EXPECT_EQ(record["tenant"], "default") << line;
    EXPECT_TRUE(record["level"].is_string() && record["time"].is_string()) << line;
    quoted = quoted || record["message"].get<std::string>().find(data) != std::string::npos;
    ++records;
  }
  EXPECT_GE(records, 3);  // start, serving, stop at least
  EXPECT_TRUE(quoted) << "no record names " << data;
  Process bad(BinaryPath("crm-node"),
              {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("d7"), "--log-format", "xml"}, {},
              dir_.path());
  EXPECT_EQ(bad.Stop(0, absl::Seconds(10)), 2 << 8);
  EXPECT_NE(bad.Log().find("--log-format"), std::string::npos) << bad.Log();
}

TEST_F(NodeTest, BadConfigurationFailsFastNamingTheSetting) {
  Process bad(BinaryPath("crm-node"), {"--listen", "127.0.0.1:0", "--log", "bogus"}, {},
              dir_.path());
  const int status = bad.Stop(0, absl::Seconds(10));  // Signal 0: just wait for the exit.
  (void)status;
  EXPECT_NE(bad.Log().find("--log"), std::string::npos) << bad.Log();
  Process env_bad(BinaryPath("crm-node"), {"--data-dir", dir_.Sub("d2")},
                  {"CRM_LISTEN=127.0.0.1:0", "CRM_TENANT=Not Valid"}, dir_.path());
  env_bad.Stop(0, absl::Seconds(10));
  EXPECT_NE(env_bad.Log().find("CRM_TENANT"), std::string::npos) << env_bad.Log();
  Process memory_bad(BinaryPath("crm-node"), {"--data-dir", dir_.Sub("d3")},
                     {"CRM_LISTEN=127.0.0.1:0", "CRM_ROCKSDB_MEMORY_MIB=4"}, dir_.path());
  EXPECT_EQ(memory_bad.Stop(0, absl::Seconds(10)), 2 << 8);  // exit code 2
  EXPECT_NE(memory_bad.Log().find("CRM_ROCKSDB_MEMORY_MIB"), std::string::npos) << memory_bad.Log();
  Process property_bad(
      BinaryPath("crm-node"),
      {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("d4"), "--kafka-property", "acks"}, {},
      dir_.path());
  EXPECT_NE(property_bad.Stop(0, absl::Seconds(10)), 0);
  EXPECT_NE(property_bad.Log().find("--kafka-property"), std::string::npos) << property_bad.Log();
  Process lag_bad(BinaryPath("crm-node"), {"--data-dir", dir_.Sub("d5")},
                  {"CRM_LISTEN=127.0.0.1:0", "CRM_READY_MAX_LAG=-1"}, dir_.path());
  EXPECT_NE(lag_bad.Stop(0, absl::Seconds(10)), 0);
  EXPECT_NE(lag_bad.Log().find("ready-max-lag"), std::string::npos) << lag_bad.Log();
}

}  // namespace
}  // namespace crm::testing
