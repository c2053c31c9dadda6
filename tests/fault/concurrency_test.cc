// Many clients updating the same contacts at once, each with the version it read: every update
// either succeeds exactly once or is refused with ABORTED, the successes take consecutive
// versions, the final state and the history are the sequence of successful updates, a request
// sent again gets its first answer, and two replicas taking writes at once agree.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace cv1 = crm::contact::v1;

struct Success {
  int64_t version;
  std::string title;
  std::string request_id;
};

// Runs `threads` clients, each making `updates` read-then-update attempts on the contacts in
// turn, through the servers in turn; returns the successes per contact.
std::map<std::string, std::vector<Success>> Race(std::vector<Server*> servers,
                                                 const std::vector<std::string>& ids, int threads,
                                                 int updates, int* refused) {
  std::mutex mu;
  std::map<std::string, std::vector<Success>> won;
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < updates; ++i) {
        Server& s = *servers[(t + i) % servers.size()];
        const std::string& id = ids[(t + i) % ids.size()];
        Contact read;
        const grpc::Status got = GetContact(s, id, &read);
        ASSERT_TRUE(got.ok()) << got.error_message();
        const std::string request_id = "c" + std::to_string(t) + "-" + std::to_string(i);
        const std::string title = "title " + request_id;
        Contact out;
        const grpc::Status st = UpdateJobTitle(s, id, title, read.version(), &out, request_id);
        std::lock_guard<std::mutex> lock(mu);
        if (st.ok()) {
          EXPECT_EQ(out.version(), read.version() + 1) << request_id;
          EXPECT_EQ(out.job_title(), title) << request_id;
          won[id].push_back({out.version(), title, request_id});
        } else {
          EXPECT_EQ(st.error_code(), grpc::StatusCode::ABORTED) << st.error_message();
          ++*refused;
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  return won;
}

// The successes of one contact are versions 2, 3, ... once each; the contact holds the last, and
// its history lists every one in order; each success sent again gets its first answer.
void ExpectSequence(Server& s, const std::string& id, std::vector<Success> won) {
  std::sort(won.begin(), won.end(),
            [](const Success& a, const Success& b) { return a.version < b.version; });
  for (size_t i = 0; i < won.size(); ++i) {
    ASSERT_EQ(won[i].version, static_cast<int64_t>(i) + 2) << id << ": two successes for a version";
  }
  Contact read;
  ASSERT_TRUE(GetContact(s, id, &read).ok());
  EXPECT_EQ(read.version(), static_cast<int64_t>(won.size()) + 1) << id;
  if (!won.empty()) {
    EXPECT_EQ(read.job_title(), won.back().title) << id;
  }

  cv1::GetContactHistoryRequest req;
  req.set_id(id);
  req.set_page_size(1000);
  cv1::GetContactHistoryResponse history;
  ASSERT_TRUE(s.contacts->GetContactHistory(Ctx().get(), req, &history).ok());
  ASSERT_EQ(history.entries_size(), static_cast<int>(won.size()) + 1) << id;
  for (size_t i = 0; i < won.size(); ++i) {
    const auto& entry = history.entries(static_cast<int>(i) + 1);
    EXPECT_EQ(entry.version(), won[i].version);
    EXPECT_EQ(entry.request_id(), won[i].request_id);
    ASSERT_EQ(entry.changes_size(), 1);
    EXPECT_EQ(entry.changes(0).path(), "job_title");
    EXPECT_EQ(entry.changes(0).after(), "\"" + won[i].title + "\"");
  }
  // A success sent again (same request id, now-stale version) answers as the first time.
  for (size_t i = 0; i < won.size(); i += 7) {
    Contact again;
    const grpc::Status st =
        UpdateJobTitle(s, id, won[i].title, won[i].version - 1, &again, won[i].request_id);
    ASSERT_TRUE(st.ok()) << won[i].request_id << ": " << st.error_message();
    EXPECT_EQ(again.version(), won[i].version) << won[i].request_id;
  }
  ASSERT_TRUE(GetContact(s, id, &read).ok());
  EXPECT_EQ(read.version(), static_cast<int64_t>(won.size()) + 1) << id << ": a repeat applied";
}

class ConcurrencyTest : public ::testing::Test {
 protected:
  std::vector<std::string> CreateContacts(Server& s, int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      Contact c;
      EXPECT_TRUE(CreateContact(s, "Hot" + std::to_string(i), "Spot", "", &c).ok());
      ids.push_back(c.id());
    }
    return ids;
  }

  TempDir dir_;
};

TEST_F(ConcurrencyTest, NodeUpdatesOfOneContactSucceedOnceOrAreAborted) {
  Server node = StartServer("crm-node", {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("n")},
                            dir_.path());
  ASSERT_FALSE(node.addr.empty());
  const std::vector<std::string> ids = CreateContacts(node, 2);
  int refused = 0;
  const auto won = Race({&node}, ids, 8, 30, &refused);
  int successes = 0;
  for (const std::string& id : ids) {
    ExpectSequence(node, id, won.count(id) ? won.at(id) : std::vector<Success>{});
    successes += won.count(id) ? static_cast<int>(won.at(id).size()) : 0;
  }
  EXPECT_EQ(successes + refused, 8 * 30);
  EXPECT_GT(refused, 0) << "the clients never raced";
}

TEST_F(ConcurrencyTest, TwoReplicasTakingWritesAtOnceAgree) {
  const DevBroker broker = StartDevBroker(dir_.path());
  const std::string& brokers = broker.brokers;
  ASSERT_FALSE(brokers.empty());
  Server a = StartServer("crm-contact", KafkaServiceArgs(dir_.Sub("a"), brokers), dir_.path());
  Server b = StartServer("crm-contact", KafkaServiceArgs(dir_.Sub("b"), brokers), dir_.path());
  ASSERT_FALSE(a.addr.empty());
  ASSERT_FALSE(b.addr.empty());
  const std::vector<std::string> ids = CreateContacts(a, 2);
  ASSERT_TRUE(WaitCaughtUp(b));
  int refused = 0;
  const auto won = Race({&a, &b}, ids, 8, 20, &refused);
  ASSERT_TRUE(WaitCaughtUp(a));
  ASSERT_TRUE(WaitCaughtUp(b));
  for (const std::string& id : ids) {
    const auto of = won.count(id) ? won.at(id) : std::vector<Success>{};
    ExpectSequence(a, id, of);
    ExpectSequence(b, id, of);
  }
  EXPECT_GT(refused, 0) << "the clients never raced";
  ASSERT_TRUE(WaitCaughtUp(a));
  ASSERT_TRUE(WaitCaughtUp(b));
  crm::admin::v1::GetProjectionStatusResponse sa, sb;
  ASSERT_TRUE(ProjectionStatus(a, &sa).ok());
  ASSERT_TRUE(ProjectionStatus(b, &sb).ok());
  EXPECT_EQ(sa.checksum(), sb.checksum());
}

}  // namespace
}  // namespace crm::testing
