// Sustained load on crm-node, bounded in time (CRM_LOAD_SECONDS, default 8 per phase): sockets
// do not leak under connection churn, resident memory does not grow under a read
// load, stuck connections do not stall other clients, and deadlines and the message-size limit
// protect the server (writing nothing).
#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "absl/strings/match.h"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace cv1 = crm::contact::v1;

absl::Duration Phase() {
  const char* env = std::getenv("CRM_LOAD_SECONDS");
  return absl::Seconds(env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 8);
}

int64_t ResidentKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  int64_t value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return -1;
}

// Open sockets (RocksDB's table files come and go with the data; connections must not stay).
int OpenSockets(pid_t pid) {
  int n = 0;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(e.path(), ec);
    if (!ec && target.string().rfind("socket:", 0) == 0) ++n;
  }
  return n;
}

// Runs `threads` clients calling `call(thread, i)` until `duration` passes; returns the number of
// calls and counts the failed ones in `failed`.
int64_t RunFor(int threads, absl::Duration duration,
               const std::function<grpc::Status(int, int64_t)>& call,
               std::atomic<int64_t>& failed) {
  std::atomic<int64_t> calls{0};
  const absl::Time end = absl::Now() + duration;
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&, t] {
      for (int64_t i = 0; absl::Now() < end; ++i) {
        const grpc::Status s = call(t, i);
        if (!s.ok()) {
          failed.fetch_add(1);
          ADD_FAILURE() << s.error_code() << " " << s.error_message();
        }
        calls.fetch_add(1);
      }
    });
  }
  for (auto& c : clients) c.join();
  return calls.load();
}

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = StartServer(
        "crm-node",
        {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("node"), "--rocksdb-memory-mib", "32"},
        dir_.path());
    ASSERT_FALSE(node_.addr.empty());
    for (int i = 0; i < 200; ++i) {
      Contact c;
      ASSERT_TRUE(CreateContact(node_, "Load" + std::to_string(i), "Tester",
                                "load" + std::to_string(i) + "@example.com", &c)
                      .ok());
      ids_.push_back(c.id());
    }
  }

  TempDir dir_;
  Server node_;
  std::vector<std::string> ids_;
};

TEST_F(LoadTest, ConnectionChurnUnderWritesLeaksNoSockets) {
  const pid_t pid = node_.process->pid();
  const int before = OpenSockets(pid);
  std::atomic<int64_t> failed{0};
  // Every call on a channel of its own: connections open and close all the time.
  const int64_t calls = RunFor(
      4, Phase(),
      [&](int t, int64_t i) {
        auto channel = grpc::CreateCustomChannel(node_.addr, grpc::InsecureChannelCredentials(),
                                                 grpc::ChannelArguments());
        auto stub = cv1::ContactService::NewStub(channel);
        cv1::CreateContactRequest req;
        req.mutable_contact()->mutable_personal()->set_given_name("Churn");
        req.mutable_contact()->mutable_personal()->set_family_name(std::to_string(t) + "-" +
                                                                   std::to_string(i));
        cv1::CreateContactResponse out;
        return stub->CreateContact(Ctx(absl::Seconds(10)).get(), req, &out);
      },
      failed);
  EXPECT_GT(calls, 100);
  EXPECT_EQ(failed.load(), 0);
  // Closed connections are reaped shortly after; the count returns to where it was.
  EXPECT_TRUE(WaitFor([&] { return OpenSockets(pid) <= before + 8; }, absl::Seconds(20)))
      << before << " sockets before, " << OpenSockets(pid) << " after " << calls << " connections";
}

TEST_F(LoadTest, ReadLoadDoesNotGrowMemory) {
  const pid_t pid = node_.process->pid();
  std::atomic<int64_t> failed{0};
  auto read = [&](int t, int64_t i) {
    const std::string& id = ids_[static_cast<size_t>(t * 7919 + i) % ids_.size()];
    if (i % 3 == 0) {
      cv1::SearchContactsRequest req;
      req.set_query("load" + std::to_string(i % 50));
      cv1::SearchContactsResponse out;
      return node_.contacts->SearchContacts(Ctx().get(), req, &out);
    }
    Contact out;
    return GetContact(node_, id, &out);
  };
  RunFor(4, Phase() / 2, read, failed);  // warm: caches, arenas, thread pools
  const int64_t warm = ResidentKiB(pid);
  const int64_t calls = RunFor(4, Phase(), read, failed);
  const int64_t after = ResidentKiB(pid);
  EXPECT_EQ(failed.load(), 0);
  std::cout << calls << " reads; resident " << warm / 1024 << " MiB warm, " << after / 1024
            << " MiB after\n";
  // Reads add no data: what the process holds may move with the allocator, not with the calls.
  EXPECT_LE(after - warm, 16 * 1024)
      << "resident memory grew by " << (after - warm) / 1024 << " MiB over " << calls << " reads";
}

TEST_F(LoadTest, StuckConnectionsDoNotStallOtherClients) {
  // Connections that send half a preface, or nothing, and never read.
  std::vector<int> stuck;
  const size_t colon = node_.addr.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(node_.addr.substr(colon + 1))));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  for (int i = 0; i < 64; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    if (i % 2 == 0) {
      const char half[] = "PRI * HTTP/2.0\r\n";
      ASSERT_GT(write(fd, half, sizeof(half) - 1), 0);
    }
    stuck.push_back(fd);
  }
  // Everyone else is served, within a deadline far below the stuck connections' patience.
  std::atomic<int64_t> failed{0};
  const int64_t calls = RunFor(
      4, Phase() / 2,
      [&](int t, int64_t i) {
        Contact out;
        return GetContact(node_, ids_[static_cast<size_t>(t + i) % ids_.size()], &out);
      },
      failed);
  EXPECT_GT(calls, 100);
  EXPECT_EQ(failed.load(), 0);
  for (int fd : stuck) close(fd);
}

TEST_F(LoadTest, DeadlinesAndTheMessageSizeLimitProtectTheServerAndWriteNothing) {
  const int64_t events = EventsSeen(node_);
  // Beyond the server's 4 MiB receive limit.
  cv1::CreateContactRequest huge;
  huge.mutable_contact()->mutable_personal()->set_given_name("Huge");
  (*huge.mutable_contact()->mutable_attributes())["blob"] = std::string(5 << 20, 'x');
  cv1::CreateContactResponse out;
  const grpc::Status too_big = node_.contacts->CreateContact(Ctx().get(), huge, &out);
  EXPECT_EQ(too_big.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << too_big.error_message();
  // A deadline already past: refused without being written.
  cv1::CreateContactRequest late;
  late.mutable_contact()->mutable_personal()->set_given_name("Late");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));
  const grpc::Status expired = node_.contacts->CreateContact(&ctx, late, &out);
  EXPECT_EQ(expired.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << expired.error_message();
  // Bytes that are not a request: a string field (contact.id) holding invalid UTF-8, which
  // protobuf refuses to parse, sent raw; then bytes that are not protobuf at all. Both are
  // refused before any handler runs, naming what is wrong, and nothing is written.
  {
    grpc::GenericStub raw(node_.channel);
    const std::string bytes = "\x0a\x04\x0a\x02\xff\xfe";  // contact { id: <2 bad bytes> }
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext raw_ctx;
    raw_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    std::promise<grpc::Status> done;
    raw.UnaryCall(&raw_ctx, "/crm.contact.v1.ContactService/CreateContact", grpc::StubOptions(),
                  &request, &response, [&](grpc::Status st) { done.set_value(std::move(st)); });
    const grpc::Status invalid_utf8 = done.get_future().get();
    EXPECT_EQ(invalid_utf8.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(invalid_utf8.error_message(),
              "crm.contact.v1.Contact.id: not valid UTF-8 (string fields must be UTF-8)");

    grpc::Slice junk_slice(std::string("\xff\xff\xff\xff", 4));
    grpc::ByteBuffer junk(&junk_slice, 1);
    grpc::ClientContext junk_ctx;
    junk_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    std::promise<grpc::Status> junk_done;
    raw.UnaryCall(&junk_ctx, "/crm.contact.v1.ContactService/UpdateContact", grpc::StubOptions(),
                  &junk, &response, [&](grpc::Status st) { junk_done.set_value(std::move(st)); });
    const grpc::Status damaged = junk_done.get_future().get();
    EXPECT_EQ(damaged.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(absl::StartsWith(damaged.error_message(), "request: cannot be parsed"))
        << damaged.error_message();
  }
  // The server still answers, and none of these requests reached the log.
  Contact read;
  ASSERT_TRUE(GetContact(node_, ids_[0], &read).ok());
  EXPECT_EQ(EventsSeen(node_), events);
}

}  // namespace
}  // namespace crm::testing
