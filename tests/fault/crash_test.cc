// Crash faults: kill -9 at random moments under a steady write load, in the single-process node
// and in the multi-process deployment on the dev broker, and check after every restart what
// ARCHITECTURE.md promises:
//   - every acknowledged write is there, exactly as acknowledged;
//   - a write refused for a definite reason (a stale version: ABORTED) never takes effect;
//   - a write whose outcome the crash hid, sent again with the same request id, takes effect
//     once (so no event is applied twice and no command twice);
//   - at the end every projection's checksum equals a rebuild from the log, and two replicas of
//     the contact service agree.
// Rounds: CRM_FAULT_ROUNDS (default 20 per deployment; ctest runs the default, a longer run is
// `CRM_FAULT_ROUNDS=200 build/tests/crash_fault_test`).
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace cv1 = crm::contact::v1;
namespace iv1 = crm::interaction::v1;

int Rounds() {
  const char* env = std::getenv("CRM_FAULT_ROUNDS");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 20;
}

// Codes that say for certain the command did not take effect.
bool Definite(grpc::StatusCode code) {
  return code == grpc::StatusCode::ABORTED || code == grpc::StatusCode::INVALID_ARGUMENT ||
         code == grpc::StatusCode::NOT_FOUND || code == grpc::StatusCode::FAILED_PRECONDITION ||
         code == grpc::StatusCode::ALREADY_EXISTS;
}

// The stubs a round's writers use (the processes change at every restart).
struct Targets {
  cv1::ContactService::Stub* contacts = nullptr;
  iv1::InteractionService::Stub* interactions = nullptr;
};

// What one writer knows it was acknowledged for one contact.
struct Owned {
  std::string id;
  int64_t version = 0;
  std::string title;
  int interactions = 0;
};

// A command whose outcome a crash hid; sent again, with the same request id, after the restart.
struct Pending {
  enum Kind { kCreate, kUpdate, kStaleUpdate, kLog } kind = kCreate;
  std::string request_id;
  size_t owned = 0;  // index into the writer's contacts (updates and interactions)
  std::string title;
  int64_t expected_version = 0;
};

// One client thread's load: creates contacts, updates their job titles with the right expected
// version, sends updates with a stale one on purpose, and logs interactions on them. Each writer
// owns its contacts, so it knows exactly what state each must be in.
class Writer {
 public:
  explicit Writer(int n) : n_(n), rng_(static_cast<uint64_t>(n) * 7919 + 1) {}

  // Sends the command the last crash interrupted again; it must now complete. Returns whether
  // there was one.
  bool Resolve(const Targets& t) {
    if (!pending_) return false;
    const Pending p = *pending_;
    const grpc::Status s = Send(t, p);
    EXPECT_TRUE(s.ok() ||
                (p.kind == Pending::kStaleUpdate && s.error_code() == grpc::StatusCode::ABORTED))
        << "writer " << n_ << " retry of " << p.request_id << ": " << s.error_code() << " "
        << s.error_message();
    pending_.reset();
    return true;
  }

  // Runs commands until `stop`, or until one's outcome is hidden by a crash.
  void Run(const Targets& t, const std::atomic<bool>& stop, std::atomic<int64_t>& acked) {
    while (!stop.load() && !pending_) {
      Pending p = Next();
      const grpc::Status s = Send(t, p);
      if (s.ok() || Definite(s.error_code())) {
        acked.fetch_add(1);
        if (p.kind == Pending::kStaleUpdate) {
          EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED) << s.error_message();
        } else {
          EXPECT_TRUE(s.ok()) << "writer " << n_ << " " << p.request_id << ": " << s.error_code()
                              << " " << s.error_message();
        }
        continue;
      }
      pending_ = std::move(p);  // UNAVAILABLE, DEADLINE_EXCEEDED, ...: we do not know
    }
  }

  // Every contact is exactly as acknowledged: its version, its title, its interactions.
  void Verify(const Targets& t) const {
    for (const Owned& o : contacts_) {
      cv1::GetContactRequest req;
      req.set_id(o.id);
      cv1::Contact read;
      const grpc::Status s = t.contacts->GetContact(Ctx().get(), req, &read);
      ASSERT_TRUE(s.ok()) << "writer " << n_ << " lost contact " << o.id << ": "
                          << s.error_message();
      EXPECT_EQ(read.version(), o.version) << o.id;
      EXPECT_EQ(read.job_title(), o.title) << o.id;
      EXPECT_EQ(TimelineSize(t, o.id), o.interactions) << o.id;
    }
  }

  const std::vector<Owned>& contacts() const { return contacts_; }

 private:
  Pending Next() {
    Pending p;
    p.request_id = "w" + std::to_string(n_) + "-" + std::to_string(seq_++);
    const int pick = static_cast<int>(rng_() % 10);
    if (contacts_.empty() || pick < 3) {
      p.kind = Pending::kCreate;
      return p;
    }
    p.owned = rng_() % contacts_.size();
    const Owned& o = contacts_[p.owned];
    if (pick < 7) {
      p.kind = Pending::kUpdate;
      p.expected_version = o.version;
    } else if (pick < 8) {
      p.kind = Pending::kStaleUpdate;
      // Behind or ahead of the contact (0 would mean "whatever the version").
      p.expected_version = o.version > 1 ? o.version - 1 : o.version + 7;
    } else {
      p.kind = Pending::kLog;
    }
    p.title = "title " + p.request_id;
    return p;
  }

  // Sends `p`; on success records what was acknowledged.
  grpc::Status Send(const Targets& t, const Pending& p) {
    switch (p.kind) {
      case Pending::kCreate: {
        cv1::CreateContactRequest req;
        req.mutable_contact()->mutable_personal()->set_given_name("Writer" + std::to_string(n_));
        req.mutable_contact()->mutable_personal()->set_family_name(p.request_id);
        req.set_request_id(p.request_id);
        cv1::CreateContactResponse out;
        grpc::Status s = t.contacts->CreateContact(Ctx(absl::Seconds(5)).get(), req, &out);
        if (s.ok()) contacts_.push_back(Owned{out.contact().id(), out.contact().version(), "", 0});
        return s;
      }
      case Pending::kUpdate:
      case Pending::kStaleUpdate: {
        cv1::UpdateContactRequest req;
        req.mutable_contact()->set_id(contacts_[p.owned].id);
        req.mutable_contact()->set_job_title(p.title);
        req.mutable_update_mask()->add_paths("job_title");
        req.set_expected_version(p.expected_version);
        req.set_request_id(p.request_id);
        cv1::Contact out;
        grpc::Status s = t.contacts->UpdateContact(Ctx(absl::Seconds(5)).get(), req, &out);
        if (s.ok()) {
          EXPECT_EQ(p.kind, Pending::kUpdate) << "a stale update was applied: " << p.request_id;
          EXPECT_EQ(out.version(), p.expected_version + 1) << p.request_id;
          contacts_[p.owned].version = out.version();
          contacts_[p.owned].title = p.title;
        }
        return s;
      }
      case Pending::kLog: {
        iv1::LogInteractionRequest req;
        req.mutable_interaction()->add_contact_ids(contacts_[p.owned].id);
        req.mutable_interaction()->set_channel(iv1::CHANNEL_CALL);
        req.mutable_interaction()->set_direction(iv1::DIRECTION_OUTBOUND);
        req.mutable_interaction()->set_subject(p.title);
        *req.mutable_interaction()->mutable_occurred_at() =
            google::protobuf::util::TimeUtil::SecondsToTimestamp(1700000000 + seq_);
        req.set_request_id(p.request_id);
        iv1::Interaction out;
        grpc::Status s = t.interactions->LogInteraction(Ctx(absl::Seconds(5)).get(), req, &out);
        if (s.ok()) ++contacts_[p.owned].interactions;
        return s;
      }
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, "unreachable");
  }

  static int TimelineSize(const Targets& t, const std::string& contact) {
    iv1::ListTimelineRequest req;
    req.set_contact_id(contact);
    req.set_page_size(100);
    int count = 0;
    for (int pages = 0; pages < 100; ++pages) {
      iv1::ListTimelineResponse page;
      const grpc::Status s = t.interactions->ListTimeline(Ctx().get(), req, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) return -1;
      count += page.items_size();
      if (page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
    return count;
  }

  int n_;
  std::mt19937_64 rng_;
  int64_t seq_ = 0;
  std::vector<Owned> contacts_;
  std::optional<Pending> pending_;
};

// The writers together, run round by round between crashes.
class Load {
 public:
  explicit Load(int writers) {
    for (int i = 0; i < writers; ++i) writers_.push_back(std::make_unique<Writer>(i));
  }

  // Resolves what the last crash interrupted, then writes until `kill` has been called (once at
  // least `min_acked` more commands have completed), and waits for the writers.
  void Round(const Targets& t, int64_t min_acked, const std::function<void()>& kill) {
    Resolve(t);
    std::atomic<bool> stop{false};
    std::atomic<int64_t> acked{0};
    std::vector<std::thread> threads;
    for (auto& w : writers_) threads.emplace_back([&, w = w.get()] { w->Run(t, stop, acked); });
    EXPECT_TRUE(WaitFor([&] { return acked.load() >= min_acked; }, absl::Seconds(60)))
        << "the load stalled at " << acked.load() << " commands";
    kill();
    stop = true;
    for (auto& th : threads) th.join();
    total_acked_ += acked.load();
  }

  void Resolve(const Targets& t) {
    for (auto& w : writers_) retried_ += w->Resolve(t) ? 1 : 0;
  }

  void Verify(const Targets& t) const {
    for (const auto& w : writers_) w->Verify(t);
  }

  // Every contact the service lists was acknowledged to exactly one create.
  void VerifyNoStrayContacts(const Targets& t) const {
    std::set<std::string> owned;
    for (const auto& w : writers_) {
      for (const Owned& o : w->contacts()) owned.insert(o.id);
    }
    cv1::ListContactsRequest req;
    req.set_page_size(1000);
    std::set<std::string> listed;
    for (int pages = 0; pages < 1000; ++pages) {
      cv1::ListContactsResponse page;
      const grpc::Status s = t.contacts->ListContacts(Ctx().get(), req, &page);
      ASSERT_TRUE(s.ok()) << s.error_message();
      for (const auto& c : page.contacts()) listed.insert(c.id());
      if (page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
    EXPECT_EQ(listed, owned);
  }

  // Reports the run; a run in which no crash interrupted a command proved little.
  void Summarize(int rounds) const {
    std::cout << rounds << " kills, " << total_acked_ << " commands completed, " << retried_
              << " interrupted by a crash and sent again\n";
    EXPECT_GT(retried_, 0);
  }

 private:
  std::vector<std::unique_ptr<Writer>> writers_;
  int64_t total_acked_ = 0;
  int64_t retried_ = 0;
};

std::map<std::string, std::string> Checksums(Server& server,
                                             const std::vector<std::string>& projections) {
  std::map<std::string, std::string> out;
  for (const std::string& p : projections) {
    EXPECT_TRUE(WaitCaughtUp(server, absl::Seconds(60), p)) << p;
    crm::admin::v1::GetProjectionStatusResponse status;
    EXPECT_TRUE(ProjectionStatus(server, &status, p).ok()) << p;
    EXPECT_EQ(status.dead_letters(), 0) << p;
    out[p] = status.checksum();
  }
  return out;
}

class CrashTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::mt19937_64 rng_{20261204};
};

TEST_F(CrashTest, NodeKeepsEveryAcknowledgedWriteThroughKillNine) {
  const std::vector<std::string> all = {"contact", "interaction", "sales", "analytics"};
  const std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("node")};
  Server node = StartServer("crm-node", args, dir_.path());
  ASSERT_FALSE(node.addr.empty());
  Load load(4);
  const int rounds = Rounds();
  for (int round = 0; round < rounds; ++round) {
    Targets t{node.contacts.get(), node.interactions.get()};
    load.Round(t, 20 + static_cast<int64_t>(rng_() % 150), [&] { node.process->Kill(); });
    node = StartServer("crm-node", args, dir_.path());
    ASSERT_FALSE(node.addr.empty()) << "round " << round;
    t = Targets{node.contacts.get(), node.interactions.get()};
    load.Resolve(t);
    load.Verify(t);
    ASSERT_FALSE(HasFailure()) << "round " << round;
  }
  const Targets t{node.contacts.get(), node.interactions.get()};
  load.VerifyNoStrayContacts(t);
  load.Summarize(rounds);

  const auto before = Checksums(node, all);
  ASSERT_EQ(node.process->Stop(SIGTERM), 0);
  std::vector<std::string> rebuild = args;
  rebuild.push_back("--rebuild");
  node = StartServer("crm-node", rebuild, dir_.path());
  ASSERT_FALSE(node.addr.empty());
  EXPECT_EQ(Checksums(node, all), before);

  // kill -9 while the node rebuilds its projections from the log: the next start continues
  // the rebuilds, to the same state.
  ASSERT_EQ(node.process->Stop(SIGTERM), 0);
  {
    Process building(BinaryPath("crm-node"), rebuild, {}, dir_.path());
    EXPECT_FALSE(ReadListenAddress(building).empty()) << building.Log();
    building.Kill();
  }
  node = StartServer("crm-node", args, dir_.path());
  ASSERT_FALSE(node.addr.empty());
  EXPECT_EQ(Checksums(node, all), before);
}

TEST_F(CrashTest, ServicesOnTheBrokerKeepEveryAcknowledgedWriteAndReplicasAgree) {
  const DevBroker broker = StartDevBroker(dir_.path());
  const std::string& brokers = broker.brokers;
  ASSERT_FALSE(brokers.empty());
  // Two replicas of the contact service (writes go to the first), one interaction service.
  struct Service {
    std::string binary;
    std::string data;
    Server server;
  };
  std::vector<Service> services(3);
  services[0] = {"crm-contact", dir_.Sub("contact-a"), {}};
  services[1] = {"crm-contact", dir_.Sub("contact-b"), {}};
  services[2] = {"crm-interaction", dir_.Sub("interaction"), {}};
  auto start = [&](Service& s, std::vector<std::string> extra = {}) {
    s.server = StartServer(s.binary, KafkaServiceArgs(s.data, brokers, extra), dir_.path());
    return !s.server.addr.empty();
  };
  for (Service& s : services) ASSERT_TRUE(start(s));
  auto targets = [&] {
    return Targets{services[0].server.contacts.get(), services[2].server.interactions.get()};
  };

  Load load(4);
  const int rounds = Rounds();
  for (int round = 0; round < rounds; ++round) {
    Service& victim = services[rng_() % services.size()];
    load.Round(targets(), 20 + static_cast<int64_t>(rng_() % 150),
               [&] { victim.server.process->Kill(); });
    ASSERT_TRUE(start(victim)) << "round " << round;
    load.Resolve(targets());
    ASSERT_TRUE(WaitCaughtUp(services[2].server, absl::Seconds(60), "interaction"));
    load.Verify(targets());
    ASSERT_FALSE(HasFailure()) << "round " << round;
  }
  load.VerifyNoStrayContacts(targets());
  load.Summarize(rounds);

  const auto a = Checksums(services[0].server, {"contact"});
  EXPECT_EQ(Checksums(services[1].server, {"contact"}), a) << "the replicas disagree";
  const auto interactions = Checksums(services[2].server, {"interaction"});
  for (Service& s : services) {
    ASSERT_EQ(s.server.process->Stop(SIGTERM), 0) << s.server.process->Log();
    ASSERT_TRUE(start(s, {"--rebuild"}));
  }
  EXPECT_EQ(Checksums(services[0].server, {"contact"}), a);
  EXPECT_EQ(Checksums(services[1].server, {"contact"}), a);
  EXPECT_EQ(Checksums(services[2].server, {"interaction"}), interactions);
}

}  // namespace
}  // namespace crm::testing
