// Broker faults: crm-contact on crm-devbroker --control, under a steady stream of creates, while
// the broker goes down and comes back, produce requests fail, produce responses come back after
// the client's request timeout (so the client sends them again and the log keeps the records
// twice), responses slow down and a partition loses its leader. Every command is recorded as a
// history (sent, then acknowledged, refused or unknown); the projection's positions are sampled
// throughout. Afterwards the history is checked for what Jepsen looks for in a Kafka-like log:
//   - an acknowledged write that was never applied;
//   - a write refused for a definite reason that became visible;
//   - a write applied twice (one request making two contacts, an event the log holds twice —
//     some records are appended again, byte for byte — applied twice);
//   - positions that go backwards.
// Commands whose outcome the faults hid (UNAVAILABLE, DEADLINE_EXCEEDED) are sent again with the
// same request id once the broker is back, and must then take effect exactly once. Health is
// NOT_SERVING while the broker is down and SERVING again after, with no restart.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "common/eventlog/kafka_event_log.h"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace cv1 = crm::contact::v1;

struct Op {
  std::string request_id;
  std::string family;  // unique per op: finds the contact it made
  enum Result { kAcked, kRefused, kUnknown } result = kUnknown;
  std::string id;  // the contact, when acknowledged
  grpc::StatusCode code = grpc::StatusCode::OK;
};

class BrokerFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = StartDevBroker(dir_.path(), {"--control"});
    brokers_ = broker_.brokers;
    ASSERT_FALSE(brokers_.empty());
  }

  // Sends a fault-injection command to the broker and waits for its "ok".
  void Control(const std::string& command) {
    ASSERT_TRUE(broker_.process->WriteLine(command));
    ASSERT_EQ(broker_.process->ReadLine(absl::Seconds(10)), "ok") << command;
  }

  Server StartContact(std::vector<std::string> extra = {}) {
    // Timeouts short enough for a test: a produce request is resent after 1 s without an
    // answer, and a record not delivered within 4 s fails.
    std::vector<std::string> args = {"--kafka-property", "request.timeout.ms=1000",
                                     "--kafka-property", "message.timeout.ms=4000",
                                     "--ready-max-lag",  "100"};
    args.insert(args.end(), extra.begin(), extra.end());
    return StartServer("crm-contact", KafkaServiceArgs(dir_.Sub("contact"), brokers_, args),
                       dir_.path());
  }

  // Creates contacts one after another until `stop`, recording each in `history_`.
  void Client(Server& s, const std::atomic<bool>& stop) {
    for (int n = 0; !stop.load(); ++n) {
      Op op;
      op.request_id = "op-" + std::to_string(n);
      op.family = "Family" + std::to_string(n);
      Send(s, op, absl::Seconds(2));
      std::lock_guard<std::mutex> lock(mu_);
      history_.push_back(op);
    }
  }

  static void Send(Server& s, Op& op, absl::Duration deadline) {
    cv1::CreateContactRequest req;
    req.mutable_contact()->mutable_personal()->set_given_name("Broker");
    req.mutable_contact()->mutable_personal()->set_family_name(op.family);
    req.set_request_id(op.request_id);
    cv1::CreateContactResponse out;
    const grpc::Status st = s.contacts->CreateContact(Ctx(deadline).get(), req, &out);
    op.code = st.error_code();
    if (st.ok()) {
      op.result = Op::kAcked;
      op.id = out.contact().id();
    } else if (st.error_code() == grpc::StatusCode::UNAVAILABLE ||
               st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      op.result = Op::kUnknown;
    } else {
      op.result = Op::kRefused;
    }
  }

  int64_t Count(Op::Result r) {
    std::lock_guard<std::mutex> lock(mu_);
    return std::count_if(history_.begin(), history_.end(),
                         [r](const Op& op) { return op.result == r; });
  }

  // Waits until `more` further creates have been acknowledged.
  void WaitAcked(int64_t more, const std::string& phase) {
    const int64_t target = Count(Op::kAcked) + more;
    ASSERT_TRUE(WaitFor([&] { return Count(Op::kAcked) >= target; }, absl::Seconds(60)))
        << phase << ": writes did not recover (" << Count(Op::kAcked) << " acknowledged)";
  }

  TempDir dir_;
  DevBroker broker_;
  std::string brokers_;
  std::mutex mu_;
  std::vector<Op> history_;
};

TEST_F(BrokerFaultTest, NothingAcknowledgedIsLostNothingIsAppliedTwiceAndServiceRecoversAlone) {
  Server contact = StartContact();
  ASSERT_FALSE(contact.addr.empty());
  std::atomic<bool> stop{false};
  std::thread client([&] { Client(contact, stop); });
  // Positions, sampled throughout: per partition they never go backwards.
  std::atomic<bool> backwards{false};
  std::thread sampler([&] {
    std::map<int, int64_t> last;
    while (!stop.load()) {
      crm::admin::v1::GetProjectionStatusResponse status;
      if (ProjectionStatus(contact, &status).ok()) {
        for (const auto& p : status.partitions()) {
          if (p.next_offset() < last[p.partition()]) backwards = true;
          last[p.partition()] = p.next_offset();
        }
      }
      WaitFor([&] { return stop.load(); }, absl::Milliseconds(100));
    }
  });
  auto finish = [&] {
    stop = true;
    client.join();
    sampler.join();
  };

  WaitAcked(20, "start");

  // 1. The broker goes down: commands fail within their deadline, health turns NOT_SERVING.
  Control("down 1");
  const size_t down_from = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    return history_.size() + 1;  // the op in flight may have been acknowledged just before
  }();
  EXPECT_TRUE(WaitFor([&] { return HealthStatus(*contact.channel) == 2; }, absl::Seconds(30)))
      << "health stayed SERVING with the broker down";
  EXPECT_TRUE(WaitFor([&] { return Count(Op::kUnknown) >= 3; }, absl::Seconds(30)));
  size_t down_to = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    down_to = history_.size();
    for (size_t i = down_from; i < down_to; ++i) {
      EXPECT_NE(history_[i].result, Op::kAcked)
          << history_[i].request_id << " was acknowledged while the broker was down";
      EXPECT_NE(history_[i].result, Op::kRefused) << history_[i].code;
    }
  }
  EXPECT_GT(down_to, down_from) << "no command was tried while the broker was down";
  // 2. It comes back: the service recovers by itself.
  Control("up 1");
  EXPECT_TRUE(WaitFor([&] { return HealthStatus(*contact.channel) == 1; }, absl::Seconds(60)))
      << "health did not return to SERVING";
  WaitAcked(20, "broker back");

  // 3. Produce requests fail with a retriable error: the producer retries them.
  Control("fail-produce 5 6");  // NOT_LEADER_OR_FOLLOWER
  WaitAcked(20, "failed produces");
  // 4. Produce responses arrive after the client's request timeout: it sends them again, and
  //    the mock keeps those records twice.
  Control("slow-produce 1 3 3000");
  WaitAcked(20, "late produce responses");
  // 5. Every response slows down.
  Control("rtt 1 200");
  WaitAcked(5, "slow broker");
  Control("rtt 1 0");
  // 6. A partition loses its leader, then gets it back.
  Control("leader crm.contact.v1 0 -1");
  WaitAcked(10, "partition without leader");
  Control("leader crm.contact.v1 0 1");
  WaitAcked(20, "leader back");
  finish();
  EXPECT_FALSE(backwards) << "a projection position went backwards";

  // 7. The log holds events twice (as a producer's resend after a lost response leaves them):
  //    the first records of every partition are appended again, byte for byte.
  int64_t copied = 0;
  {
    eventlog::KafkaEventLogOptions options;
    options.brokers = brokers_;
    options.client_id = "duplicator";
    auto log = eventlog::KafkaEventLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    std::vector<eventlog::PartitionStart> starts;
    for (int32_t p = 0; p < 4; ++p) starts.push_back({"crm.contact.v1", p, 0});
    auto reader = (*log)->OpenReader(starts);
    ASSERT_TRUE(reader.ok()) << reader.status();
    auto records = (*reader)->Poll(20, absl::Seconds(10));
    ASSERT_TRUE(records.ok()) << records.status();
    ASSERT_FALSE(records->empty());
    for (const eventlog::LogRecord& r : *records) {
      std::promise<absl::StatusOr<eventlog::LogPosition>> done;
      (*log)->AppendRaw(r.topic, r.key, r.value, [&](absl::StatusOr<eventlog::LogPosition> at) {
        done.set_value(std::move(at));
      });
      ASSERT_TRUE(done.get_future().get().ok());
      ++copied;
    }
  }

  // The commands whose outcome was hidden, sent again with their request ids, take effect now.
  int resent = 0;
  for (Op& op : history_) {
    if (op.result != Op::kUnknown) continue;
    Send(contact, op, absl::Seconds(20));
    EXPECT_EQ(op.result, Op::kAcked) << op.request_id << ": " << op.code;
    ++resent;
  }
  std::cout << history_.size() << " commands, " << resent << " with a hidden outcome resent\n";

  // Every acknowledged create is there, exactly once; nothing else is.
  std::map<std::string, std::vector<std::string>> by_family;
  cv1::ListContactsRequest list;
  list.set_page_size(1000);
  for (int pages = 0; pages < 100; ++pages) {
    cv1::ListContactsResponse page;
    ASSERT_TRUE(contact.contacts->ListContacts(Ctx().get(), list, &page).ok());
    for (const auto& c : page.contacts()) {
      by_family[c.personal().family_name()].push_back(c.id());
    }
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  for (const Op& op : history_) {
    if (op.result != Op::kAcked) continue;
    const auto found = by_family.find(op.family);
    ASSERT_NE(found, by_family.end()) << op.request_id << " was acknowledged but is not there";
    EXPECT_EQ(found->second, std::vector<std::string>{op.id}) << op.request_id << " applied twice";
  }
  EXPECT_EQ(by_family.size(), static_cast<size_t>(Count(Op::kAcked)))
      << "a contact no acknowledged command made";

  // The log now holds some events twice; a rebuild applies each once, to the same state.
  ASSERT_TRUE(WaitCaughtUp(contact));
  crm::admin::v1::GetProjectionStatusResponse before, after;
  ASSERT_TRUE(ProjectionStatus(contact, &before).ok());
  EXPECT_EQ(before.dead_letters(), 0);
  int64_t records = 0;
  for (const auto& p : before.partitions()) records += p.end_offset();
  std::cout << records << " records on the log, " << before.events_seen() << " distinct events, "
            << copied << " appended twice\n";
  EXPECT_GE(records - before.events_seen(), copied);
  ASSERT_EQ(contact.process->Stop(SIGTERM), 0) << contact.process->Log();
  contact = StartContact({"--rebuild"});
  ASSERT_FALSE(contact.addr.empty());
  ASSERT_TRUE(WaitCaughtUp(contact));
  ASSERT_TRUE(ProjectionStatus(contact, &after).ok());
  EXPECT_EQ(after.checksum(), before.checksum());
}

}  // namespace
}  // namespace crm::testing
