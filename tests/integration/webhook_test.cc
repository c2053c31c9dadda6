// Webhooks (crm.analytics.v1.WebhookService) against a real crm-node and a receiver written
// here: signed deliveries the receiver verifies itself, retries against a receiver that fails
// on purpose, the dead-letter list and replays, a crash of the sender mid-delivery, and a
// rebuild of the projection that keeps what was delivered.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/auth/auth.h"
#include "crm/analytics/v1/webhook_service.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace av1 = crm::analytics::v1;

constexpr char kSecret[] = "whsec-test-0123456789abcdefghij";

// What the receiver got: one POST.
struct Delivery {
  std::map<std::string, std::string> headers;
  std::string body;
  nlohmann::json json;
  bool verified = false;  // the signature and timestamp check out
  int answered = 0;       // the status the receiver answered

  std::string id() const { return headers.at("X-CRM-Delivery-Id"); }
  int attempt() const {
    int n = 0;
    return absl::SimpleAtoi(headers.at("X-CRM-Attempt"), &n) ? n : -1;
  }
  std::string aggregate() const { return json["event"].value("aggregateId", ""); }
};

// A partner's endpoint: verifies each request as the documentation tells receivers to, and
// answers as the test says (fail the next N, fail all, or hold one request open).
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook",
                 [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    Release();
    server_.stop();
    thread_.join();
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/hook"); }
  void FailNext(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_next_ = n;
  }
  void FailAll(bool fail) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_all_ = fail;
  }
  // Holds the request that comes after `n` answered ones open until Release().
  void HoldAfter(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    hold_after_ = n;
  }
  bool Holding() {
    std::lock_guard<std::mutex> lock(mu_);
    return holding_;
  }
  // The delivery id of the request held open.
  std::string HeldId() {
    std::lock_guard<std::mutex> lock(mu_);
    return held_id_;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_after_ = -1;
    cv_.notify_all();
  }
  std::vector<Delivery> All() {
    std::lock_guard<std::mutex> lock(mu_);
    return got_;
  }
  // The requests answered 2xx.
  std::vector<Delivery> Succeeded() {
    std::vector<Delivery> ok;
    for (Delivery& d : All()) {
      if (d.answered == 200) ok.push_back(std::move(d));
    }
    return ok;
  }

 private:
  static bool Verify(const Delivery& d) {
    auto header = [&](const char* name) {
      auto it = d.headers.find(name);
      return it == d.headers.end() ? std::string() : it->second;
    };
    int64_t timestamp = 0;
    if (!absl::SimpleAtoi(header("X-CRM-Timestamp"), &timestamp)) return false;
    if (std::abs(absl::ToUnixSeconds(absl::Now()) - timestamp) > 300) return false;  // a replay
    const std::string text = absl::StrCat(timestamp, ".", d.body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), kSecret, static_cast<int>(sizeof(kSecret) - 1),
         reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &length);
    const std::string expected =
        "v1=" + absl::BytesToHexString(std::string(reinterpret_cast<char*>(mac), length));
    const std::string given = header("X-CRM-Signature");
    return given.size() == expected.size() &&
           CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    Delivery d;
    for (const auto& [name, value] : req.headers) d.headers[name] = value;
    d.body = req.body;
    d.json = nlohmann::json::parse(req.body, nullptr, false);
    d.verified = Verify(d);
    std::unique_lock<std::mutex> lock(mu_);
    if (hold_after_ >= 0 && answered_ >= hold_after_) {
      holding_ = true;
      held_id_ = d.headers.count("X-CRM-Delivery-Id") ? d.headers["X-CRM-Delivery-Id"] : "?";
      cv_.wait_for(lock, std::chrono::seconds(30), [this] { return hold_after_ < 0; });
      holding_ = false;
    }
    d.answered = 200;
    if (fail_all_ || fail_next_ > 0) {
      d.answered = 500;
      if (fail_next_ > 0) --fail_next_;
    }
    ++answered_;
    res.status = d.answered;
    got_.push_back(std::move(d));
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Delivery> got_;
  int fail_next_ = 0;
  bool fail_all_ = false;
  int hold_after_ = -1;
  int answered_ = 0;
  bool holding_ = false;
  std::string held_id_;
};

const std::vector<std::string> kNodeArgs = {"--webhook-allow-http", "--webhook-retry-base-ms", "50",
                                            "--webhook-max-attempts", "3"};

class WebhookTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = kNodeArgs;
    args.insert(args.end(), extra.begin(), extra.end());
    node_ = StartNode(dir_, args);
    ASSERT_FALSE(node_.addr.empty());
    hooks_ = av1::WebhookService::NewStub(node_.channel);
  }

  av1::Webhook Create(const std::vector<std::string>& types, const std::string& request_id) {
    av1::CreateWebhookRequest request;
    request.mutable_webhook()->set_url(rx_.url());
    for (const std::string& t : types) request.mutable_webhook()->add_event_types(t);
    request.mutable_webhook()->set_secret(kSecret);
    request.mutable_webhook()->set_description("Partner CRM sync");
    request.set_request_id(request_id);
    av1::Webhook created;
    const grpc::Status s = hooks_->CreateWebhook(Ctx().get(), request, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return created;
  }

  av1::Webhook Get(const std::string& id) {
    av1::GetWebhookRequest request;
    request.set_id(id);
    av1::Webhook out;
    const grpc::Status s = hooks_->GetWebhook(Ctx().get(), request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  std::vector<av1::WebhookDelivery> Deliveries(
      const std::string& id,
      av1::WebhookDeliveryState state = av1::WEBHOOK_DELIVERY_STATE_UNSPECIFIED) {
    av1::ListWebhookDeliveriesRequest request;
    request.set_webhook_id(id);
    request.set_state(state);
    request.set_page_size(1000);
    av1::ListWebhookDeliveriesResponse out;
    const grpc::Status s = hooks_->ListWebhookDeliveries(Ctx().get(), request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {out.deliveries().begin(), out.deliveries().end()};
  }

  TempDir dir_;
  Receiver rx_;
  Server node_;
  std::unique_ptr<av1::WebhookService::Stub> hooks_;
};

TEST_F(WebhookTest, DeliversSignedEventsInOrderRetriesAndKeepsThemAcrossARebuild) {
  ASSERT_NO_FATAL_FAILURE(Start());
  // Something before the webhook exists is not delivered.
  Contact before;
  ASSERT_TRUE(CreateContact(node_, "Before", "Hook", "", &before).ok());

  const av1::Webhook hook =
      Create({"crm.contact.v1.ContactCreated", "crm.contact.v1.ContactUpdated"}, "wh-1");
  ASSERT_FALSE(hook.id().empty());
  EXPECT_EQ(hook.secret(), kSecret);  // shown once, to its creator
  EXPECT_EQ(hook.version(), 1);
  const av1::Webhook got = Get(hook.id());
  EXPECT_TRUE(got.secret().empty());
  EXPECT_EQ(got.url(), rx_.url());
  EXPECT_EQ(got.event_types_size(), 2);
  // The same request id again: the same webhook, nothing new.
  EXPECT_EQ(Create({"crm.contact.v1.ContactCreated", "crm.contact.v1.ContactUpdated"}, "wh-1").id(),
            hook.id());

  rx_.FailNext(2);
  Contact a, b, updated;
  ASSERT_TRUE(CreateContact(node_, "Hook", "One", "one@example.com", &a).ok());
  ASSERT_TRUE(UpdateJobTitle(node_, a.id(), "Buyer", 1, &updated).ok());
  ASSERT_TRUE(CreateContact(node_, "Hook", "Two", "", &b).ok());

  ASSERT_TRUE(WaitFor([&] { return rx_.Succeeded().size() >= 3; }, absl::Seconds(30)))
      << node_.process->Log();
  const std::vector<Delivery> all = rx_.All();
  ASSERT_EQ(all.size(), 5u);  // two failures, then three successes
  std::map<std::string, std::vector<std::string>> per_contact;
  std::set<std::string> ids;
  for (const Delivery& d : all) {
    EXPECT_TRUE(d.verified) << d.body;
    ASSERT_FALSE(d.json.is_discarded()) << d.body;
    EXPECT_EQ(d.headers.at("X-CRM-Webhook-Id"), hook.id());
    EXPECT_EQ(d.headers.at("Idempotency-Key"), d.id());
    EXPECT_EQ(d.json["deliveryId"], d.id());
    EXPECT_EQ(d.json["webhookId"], hook.id());
    EXPECT_EQ(d.json["event"]["eventId"], d.id());
    EXPECT_EQ(d.json["event"]["tenant"], "default");
    EXPECT_EQ(d.headers.at("Content-Type"), "application/json");
    // No personal data, not even sealed.
    EXPECT_EQ(d.body.find("one@example.com"), std::string::npos) << d.body;
    EXPECT_EQ(d.body.find("sealedPersonal"), std::string::npos) << d.body;
    EXPECT_NE(d.aggregate(), before.id());
    if (d.answered == 200) {
      EXPECT_TRUE(ids.insert(d.id()).second) << "delivered twice: " << d.id();
      per_contact[d.aggregate()].push_back(d.json["event"]["eventType"]);
    }
  }
  // The first event was tried three times, with the same delivery id.
  EXPECT_EQ(all[0].id(), all[1].id());
  EXPECT_EQ(all[1].id(), all[2].id());
  EXPECT_EQ(all[0].attempt(), 1);
  EXPECT_EQ(all[1].attempt(), 2);
  EXPECT_EQ(all[2].attempt(), 3);
  EXPECT_EQ(all[2].answered, 200);
  EXPECT_EQ(per_contact[a.id()], (std::vector<std::string>{"crm.contact.v1.ContactCreated",
                                                           "crm.contact.v1.ContactUpdated"}));
  EXPECT_EQ(per_contact[b.id()], (std::vector<std::string>{"crm.contact.v1.ContactCreated"}));

  // Listed with their attempts, once the last attempt is recorded: the receiver sees a delivery
  // before the sender's record of it reaches the projection (the same apply counts it).
  ASSERT_TRUE(WaitFor([&] { return Get(hook.id()).delivered_count() == 3; }, absl::Seconds(30)))
      << node_.process->Log();
  std::vector<av1::WebhookDelivery> listed = Deliveries(hook.id());
  ASSERT_EQ(listed.size(), 3u);
  const auto first = std::find_if(listed.begin(), listed.end(),
                                  [&](const auto& d) { return d.id() == all[0].id(); });
  ASSERT_NE(first, listed.end());
  ASSERT_EQ(first->attempts_size(), 3);
  EXPECT_EQ(first->attempts(0).http_status(), 500);
  EXPECT_NE(first->attempts(0).error().find("500"), std::string::npos);
  EXPECT_EQ(first->attempts(2).http_status(), 200);
  EXPECT_EQ(first->state(), av1::WEBHOOK_DELIVERY_STATE_SUCCEEDED);
  for (const auto& d : listed) EXPECT_EQ(d.state(), av1::WEBHOOK_DELIVERY_STATE_SUCCEEDED);
  EXPECT_EQ(Get(hook.id()).dead_letter_count(), 0);

  // A rebuild from the log gives back the same deliveries and sends none of them again.
  ASSERT_EQ(node_.process->Stop(SIGTERM), 0) << node_.process->Log();
  ASSERT_NO_FATAL_FAILURE(Start({"--rebuild"}));
  ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(30), "analytics"));
  std::vector<av1::WebhookDelivery> rebuilt = Deliveries(hook.id());
  ASSERT_EQ(rebuilt.size(), listed.size());
  for (size_t i = 0; i < listed.size(); ++i) {
    EXPECT_EQ(rebuilt[i].SerializeAsString(), listed[i].SerializeAsString()) << i;
  }
  Contact c;
  ASSERT_TRUE(CreateContact(node_, "Hook", "Three", "", &c).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const Delivery& d : rx_.Succeeded()) {
          if (d.aggregate() == c.id()) return true;
        }
        return false;
      },
      absl::Seconds(30)))
      << node_.process->Log();
  EXPECT_EQ(rx_.Succeeded().size(), 4u);

  // Deleted: gone from the API, and a webhook made after it gets what follows, it does not.
  av1::DeleteWebhookRequest remove;
  remove.set_id(hook.id());
  google::protobuf::Empty empty;
  const grpc::Status deleted = hooks_->DeleteWebhook(Ctx().get(), remove, &empty);
  ASSERT_TRUE(deleted.ok()) << deleted.error_message();
  av1::GetWebhookRequest get;
  get.set_id(hook.id());
  av1::Webhook gone;
  EXPECT_EQ(hooks_->GetWebhook(Ctx().get(), get, &gone).error_code(), grpc::StatusCode::NOT_FOUND);
  const av1::Webhook second = Create({"crm.contact.v1.ContactCreated"}, "wh-2");
  Contact d;
  ASSERT_TRUE(CreateContact(node_, "Hook", "Four", "", &d).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const Delivery& r : rx_.Succeeded()) {
          if (r.aggregate() == d.id()) return true;
        }
        return false;
      },
      absl::Seconds(30)));
  for (const Delivery& r : rx_.All()) {
    if (r.aggregate() == d.id()) {
      EXPECT_EQ(r.headers.at("X-CRM-Webhook-Id"), second.id());
    }
  }
  av1::ListWebhooksRequest list;
  av1::ListWebhooksResponse hooks;
  ASSERT_TRUE(hooks_->ListWebhooks(Ctx().get(), list, &hooks).ok());
  ASSERT_EQ(hooks.webhooks_size(), 1);
  EXPECT_EQ(hooks.webhooks(0).id(), second.id());
  EXPECT_TRUE(hooks.webhooks(0).secret().empty());
}

// The dispatcher records each attempt as a new version of the webhook. A delete that meets such
// a record still takes effect (it is rebasable): the receiver holds a delivery, and the delete
// goes in the moment it is answered, while the sender records it. Every other round pins the
// version the webhook was created at, which the sender's records have moved on from since.
TEST_F(WebhookTest, ADeleteThatMeetsTheSendersRecordOfADeliveryStillDeletes) {
  ASSERT_NO_FATAL_FAILURE(Start());
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    const av1::Webhook hook =
        Create({"crm.contact.v1.ContactCreated"}, absl::StrCat("race-", round));
    ASSERT_FALSE(hook.id().empty());
    const size_t answered = rx_.All().size();
    rx_.HoldAfter(static_cast<int>(answered));
    Contact c;
    ASSERT_TRUE(CreateContact(node_, "Race", absl::StrCat("Round", round), "", &c).ok());
    ASSERT_TRUE(WaitFor([&] { return rx_.Holding(); }, absl::Seconds(30))) << node_.process->Log();
    rx_.Release();
    av1::DeleteWebhookRequest remove;
    remove.set_id(hook.id());
    remove.set_request_id(absl::StrCat("race-delete-", round));
    if (round % 2 == 1) remove.set_expected_version(hook.version());
    google::protobuf::Empty empty;
    const grpc::Status deleted = hooks_->DeleteWebhook(Ctx().get(), remove, &empty);
    ASSERT_TRUE(deleted.ok()) << "round " << round << ": " << deleted.error_message();
    av1::GetWebhookRequest get;
    get.set_id(hook.id());
    av1::Webhook gone;
    EXPECT_EQ(hooks_->GetWebhook(Ctx().get(), get, &gone).error_code(),
              grpc::StatusCode::NOT_FOUND);
    // The held request is answered before the next round holds another.
    ASSERT_TRUE(WaitFor([&] { return rx_.All().size() > answered; }, absl::Seconds(30)));
  }
}

TEST_F(WebhookTest, GivesUpAfterTheLastAttemptAndReplaysFromTheDeadLetterList) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const av1::Webhook hook = Create({"crm.contact.v1.ContactCreated"}, "");
  rx_.FailAll(true);
  Contact a;
  ASSERT_TRUE(CreateContact(node_, "Dead", "Letter", "", &a).ok());
  ASSERT_TRUE(WaitFor(
      [&] { return Deliveries(hook.id(), av1::WEBHOOK_DELIVERY_STATE_DEAD_LETTERED).size() == 1; },
      absl::Seconds(30)))
      << node_.process->Log();
  const av1::WebhookDelivery dead =
      Deliveries(hook.id(), av1::WEBHOOK_DELIVERY_STATE_DEAD_LETTERED)[0];
  EXPECT_EQ(dead.aggregate_id(), a.id());
  EXPECT_EQ(dead.event_type(), "crm.contact.v1.ContactCreated");
  ASSERT_EQ(dead.attempts_size(), 3);  // --webhook-max-attempts
  for (const auto& attempt : dead.attempts()) EXPECT_EQ(attempt.http_status(), 500);
  // Backoff: each retry waited at least half of 50 ms doubled per attempt.
  auto at = [](const google::protobuf::Timestamp& t) {
    return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  };
  EXPECT_GE(at(dead.attempts(1).time()) - at(dead.attempts(0).time()), absl::Milliseconds(25));
  EXPECT_GE(at(dead.attempts(2).time()) - at(dead.attempts(1).time()), absl::Milliseconds(50));
  EXPECT_EQ(rx_.All().size(), 3u);
  EXPECT_EQ(Get(hook.id()).dead_letter_count(), 1);

  // The dead letter holds back nothing that follows.
  rx_.FailAll(false);
  Contact b;
  ASSERT_TRUE(CreateContact(node_, "After", "Letter", "", &b).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        const auto ok = rx_.Succeeded();
        return ok.size() == 1 && ok[0].aggregate() == b.id();
      },
      absl::Seconds(30)));

  av1::ReplayWebhookDeliveryRequest replay;
  replay.set_webhook_id(hook.id());
  replay.set_delivery_id(dead.id());
  replay.set_request_id("replay-1");
  av1::WebhookDelivery asked;
  const grpc::Status replay_status = hooks_->ReplayWebhookDelivery(Ctx().get(), replay, &asked);
  ASSERT_TRUE(replay_status.ok()) << replay_status.error_message();
  EXPECT_EQ(asked.state(), av1::WEBHOOK_DELIVERY_STATE_REPLAY_REQUESTED);
  ASSERT_TRUE(WaitFor([&] { return rx_.Succeeded().size() == 2; }, absl::Seconds(30)));
  const Delivery replayed = rx_.Succeeded()[1];
  EXPECT_EQ(replayed.id(), dead.id());
  EXPECT_EQ(replayed.attempt(), 4);
  EXPECT_TRUE(replayed.verified);
  ASSERT_TRUE(WaitFor([&] {
    const auto all = Deliveries(hook.id());
    return all.size() == 2 && all[0].state() == av1::WEBHOOK_DELIVERY_STATE_SUCCEEDED &&
           all[1].state() == av1::WEBHOOK_DELIVERY_STATE_SUCCEEDED;
  }));
  const auto after = Deliveries(hook.id());
  const auto& first = after[0].id() == dead.id() ? after[0] : after[1];
  ASSERT_EQ(first.attempts_size(), 4);
  EXPECT_TRUE(first.attempts(3).replay());
  const av1::Webhook counted = Get(hook.id());
  EXPECT_EQ(counted.dead_letter_count(), 0);
  EXPECT_EQ(counted.delivered_count(), 2);
  // The same replay request again changes nothing.
  const grpc::Status again = hooks_->ReplayWebhookDelivery(Ctx().get(), replay, &asked);
  ASSERT_TRUE(again.ok()) << again.error_message();
  EXPECT_TRUE(Deliveries(hook.id(), av1::WEBHOOK_DELIVERY_STATE_REPLAY_REQUESTED).empty());
}

TEST_F(WebhookTest, ACrashOfTheSenderLosesNoDeliveryAndInventsNone) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const av1::Webhook hook = Create({"crm.contact.v1.ContactCreated"}, "");
  rx_.HoldAfter(3);  // the fourth POST stays open: the sender dies in the middle of it
  std::set<std::string> created;
  for (int i = 0; i < 10; ++i) {
    Contact c;
    ASSERT_TRUE(CreateContact(node_, "Crash", absl::StrCat("Person", i), "", &c).ok());
    created.insert(c.id());
  }
  ASSERT_TRUE(WaitFor([&] { return rx_.Holding(); }, absl::Seconds(30))) << node_.process->Log();
  node_.process->Kill();
  rx_.Release();
  ASSERT_NO_FATAL_FAILURE(Start());

  auto delivered = [&] {
    std::set<std::string> got;
    for (const Delivery& d : rx_.Succeeded()) got.insert(d.aggregate());
    return got;
  };
  ASSERT_TRUE(WaitFor([&] { return delivered().size() == created.size(); }, absl::Seconds(30)))
      << node_.process->Log();
  EXPECT_EQ(delivered(), created);                       // none lost, none invented
  std::map<std::string, std::set<std::string>> keys_of;  // aggregate -> idempotency keys
  for (const Delivery& d : rx_.All()) {
    EXPECT_TRUE(d.verified);
    keys_of[d.aggregate()].insert(d.headers.at("Idempotency-Key"));
  }
  // A repeat (the POST in flight at the crash) carries the same idempotency key.
  for (const auto& [aggregate, keys] : keys_of) EXPECT_EQ(keys.size(), 1u) << aggregate;
  // The POST in flight at the crash was made again after the restart.
  const std::string held = rx_.HeldId();
  int sent = 0;
  for (const Delivery& d : rx_.All()) sent += d.id() == held ? 1 : 0;
  EXPECT_EQ(sent, 2) << held;
  EXPECT_TRUE(WaitFor([&] { return Get(hook.id()).delivered_count() == 10; }));
}

// With authentication on: a webhook is its tenant's — it receives only that tenant's events, and
// no other tenant can see, list, replay or delete it — and it needs the webhooks scopes.
TEST_F(WebhookTest, AWebhookSeesOnlyItsTenantsEventsAndOnlyItsTenantSeesIt) {
  const std::string jwt_secret = "webhook-test-secret-0123456789abcdef0123456789";
  WriteFile(dir_.Sub("jwt-secret"), jwt_secret);
  ASSERT_NO_FATAL_FAILURE(Start({"--auth", "jwt", "--jwt-hs256-secret-file", dir_.Sub("jwt-secret"),
                                 "--jwt-issuer", "https://id.example", "--jwt-audience", "crm"}));
  auto token = [&](const std::string& tenant, std::set<std::string> scopes = auth::AllScopes()) {
    auth::TokenClaims c;
    c.tenant = tenant;
    c.subject = "partner-" + tenant;
    c.scopes = std::move(scopes);
    c.issuer = "https://id.example";
    c.audience = "crm";
    absl::StatusOr<std::string> t = auth::MintToken(c, jwt_secret);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : "";
  };
  auto as = [&](const std::string& bearer) {
    std::unique_ptr<grpc::ClientContext> ctx = Ctx();
    ctx->AddMetadata("authorization", "Bearer " + bearer);
    return ctx;
  };
  const std::string acme = token("acme");
  const std::string globex = token("globex");

  std::map<std::string, std::string> hook_of;  // tenant -> webhook id
  for (const auto& [tenant, bearer] : {std::pair{"acme", acme}, std::pair{"globex", globex}}) {
    av1::CreateWebhookRequest request;
    request.mutable_webhook()->set_url(rx_.url());
    request.mutable_webhook()->add_event_types("crm.contact.v1.ContactCreated");
    request.mutable_webhook()->set_secret(kSecret);
    av1::Webhook created;
    const grpc::Status s = hooks_->CreateWebhook(as(bearer).get(), request, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    hook_of[tenant] = created.id();
  }
  std::map<std::string, std::string> contact_of;  // tenant -> contact id
  for (const auto& [tenant, bearer] : {std::pair{"acme", acme}, std::pair{"globex", globex}}) {
    crm::contact::v1::CreateContactRequest request;
    request.mutable_contact()->mutable_personal()->set_given_name("Tenant");
    request.mutable_contact()->mutable_personal()->set_family_name(tenant);
    crm::contact::v1::CreateContactResponse created;
    const grpc::Status s = node_.contacts->CreateContact(as(bearer).get(), request, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    contact_of[tenant] = created.contact().id();
  }
  ASSERT_TRUE(WaitFor([&] { return rx_.Succeeded().size() >= 2; }, absl::Seconds(30)))
      << node_.process->Log();
  for (const Delivery& d : rx_.All()) {
    const std::string tenant = d.json["event"]["tenant"];
    EXPECT_EQ(d.headers.at("X-CRM-Webhook-Id"), hook_of[tenant]);
    EXPECT_EQ(d.aggregate(), contact_of[tenant]);
  }
  EXPECT_EQ(rx_.Succeeded().size(), 2u);

  // Globex cannot reach Acme's webhook by its id.
  const std::string acme_hook = hook_of["acme"];
  av1::GetWebhookRequest get;
  get.set_id(acme_hook);
  av1::Webhook webhook;
  EXPECT_EQ(hooks_->GetWebhook(as(globex).get(), get, &webhook).error_code(),
            grpc::StatusCode::NOT_FOUND);
  av1::ListWebhooksResponse listed;
  ASSERT_TRUE(hooks_->ListWebhooks(as(globex).get(), av1::ListWebhooksRequest(), &listed).ok());
  ASSERT_EQ(listed.webhooks_size(), 1);
  EXPECT_EQ(listed.webhooks(0).id(), hook_of["globex"]);
  av1::ListWebhookDeliveriesRequest deliveries;
  deliveries.set_webhook_id(acme_hook);
  av1::ListWebhookDeliveriesResponse none;
  EXPECT_EQ(hooks_->ListWebhookDeliveries(as(globex).get(), deliveries, &none).error_code(),
            grpc::StatusCode::NOT_FOUND);
  av1::ListWebhookDeliveriesResponse mine;
  // Listed once the sender's record of the delivery reaches the projection.
  ASSERT_TRUE(WaitFor(
      [&] {
        mine.Clear();
        return hooks_->ListWebhookDeliveries(as(acme).get(), deliveries, &mine).ok() &&
               mine.deliveries_size() == 1;
      },
      absl::Seconds(30)));
  av1::ReplayWebhookDeliveryRequest replay;
  replay.set_webhook_id(acme_hook);
  replay.set_delivery_id(mine.deliveries(0).id());
  av1::WebhookDelivery replayed;
  EXPECT_EQ(hooks_->ReplayWebhookDelivery(as(globex).get(), replay, &replayed).error_code(),
            grpc::StatusCode::NOT_FOUND);
  av1::DeleteWebhookRequest remove;
  remove.set_id(acme_hook);
  google::protobuf::Empty empty;
  EXPECT_EQ(hooks_->DeleteWebhook(as(globex).get(), remove, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(hooks_->GetWebhook(as(acme).get(), get, &webhook).ok());

  // Scopes: webhooks.read to look, webhooks.write to register.
  const std::string reader = token("acme", {"webhooks.read"});
  EXPECT_TRUE(hooks_->GetWebhook(as(reader).get(), get, &webhook).ok());
  av1::CreateWebhookRequest create;
  create.mutable_webhook()->set_url(rx_.url());
  create.mutable_webhook()->add_event_types("crm.contact.v1.ContactCreated");
  av1::Webhook refused;
  const grpc::Status denied = hooks_->CreateWebhook(as(reader).get(), create, &refused);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(denied.error_message().find("webhooks.write"), std::string::npos)
      << denied.error_message();
  EXPECT_EQ(
      hooks_->GetWebhook(as(token("acme", {"contacts.read"})).get(), get, &webhook).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

// Separate processes on the Kafka protocol (the dev broker): crm-analytics delivers the events
// crm-contact writes, and what is written while the sender is down is delivered once it is back.
TEST_F(WebhookTest, ASeparateAnalyticsServiceDeliversOverKafkaAlsoWhatCameWhileItWasDown) {
  DevBroker broker = StartDevBroker(dir_.path());
  ASSERT_FALSE(broker.brokers.empty());
  Server contact = StartServer("crm-contact", KafkaServiceArgs(dir_.Sub("contact"), broker.brokers),
                               dir_.path());
  ASSERT_FALSE(contact.addr.empty());
  std::vector<std::string> analytics_args =
      KafkaServiceArgs(dir_.Sub("analytics"), broker.brokers, kNodeArgs);
  node_ = StartServer("crm-analytics", analytics_args, dir_.path());
  ASSERT_FALSE(node_.addr.empty());
  hooks_ = av1::WebhookService::NewStub(node_.channel);
  const av1::Webhook hook = Create({"crm.contact.v1.ContactCreated"}, "kafka-1");
  ASSERT_FALSE(hook.id().empty());

  Contact first;
  ASSERT_TRUE(CreateContact(contact, "Kafka", "First", "", &first).ok());
  ASSERT_TRUE(WaitFor([&] { return rx_.Succeeded().size() == 1; }, absl::Seconds(30)))
      << node_.process->Log();
  EXPECT_EQ(rx_.Succeeded()[0].aggregate(), first.id());
  // Recorded as delivered (else a crash now would repeat it, which the crash test covers).
  ASSERT_TRUE(WaitFor([&] { return Get(hook.id()).delivered_count() == 1; }));

  node_.process->Kill();
  Contact second;
  ASSERT_TRUE(CreateContact(contact, "Kafka", "Second", "", &second).ok());
  node_ = StartServer("crm-analytics", analytics_args, dir_.path());
  ASSERT_FALSE(node_.addr.empty());
  ASSERT_TRUE(WaitFor([&] { return rx_.Succeeded().size() == 2; }, absl::Seconds(30)))
      << node_.process->Log();
  EXPECT_EQ(rx_.Succeeded()[1].aggregate(), second.id());
  EXPECT_TRUE(rx_.Succeeded()[1].verified);
}

}  // namespace
}  // namespace crm::testing
