// JSON over HTTP (--http-listen) against a real crm-node: every service reachable, protobuf's
// JSON mapping both ways, gRPC's validation and errors as JSON with the gRPC code. Its TLS,
// client certificates, tokens and tenants are tried in security_test.cc.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One change-feed stream at a time, to see the limit.
    node_ = StartNode(dir_, {"--http-listen", "127.0.0.1:0", "--max-feed-streams", "1"});
    ASSERT_FALSE(node_.addr.empty());
    const std::string line = node_.process->ReadLine();
    ASSERT_TRUE(line.starts_with("http on 127.0.0.1:")) << line << node_.process->Log();
    http_addr_ = line.substr(std::string("http on ").size());
    http_ = std::make_unique<httplib::Client>(http_addr_);
  }

  // POSTs `body` to /v1/<method>; the HTTP status and the parsed JSON answer.
  std::pair<int, nlohmann::json> Post(const std::string& method, const std::string& body) {
    auto res = http_->Post(("/v1/" + method).c_str(), body, "application/json");
    EXPECT_TRUE(res) << method << ": " << httplib::to_string(res.error());
    if (!res) return {0, nullptr};
    const nlohmann::json json = nlohmann::json::parse(res->body, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << method << " answered no JSON: " << res->body;
    return {res->status, json};
  }

  TempDir dir_;
  Server node_;
  std::string http_addr_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(GatewayTest, EveryServiceAnswersJsonInProtobufsMapping) {
  auto [status, created] =
      Post("crm.contact.v1.ContactService/CreateContact",
           R"({"contact": {"personal": {"givenName": "Ada", "family_name": "Lovelace",
               "emails": [{"address": "ADA@Example.com"}]}}, "requestId": "gw-1"})");
  ASSERT_EQ(status, 200) << created.dump();
  const std::string id = created["contact"]["id"];
  EXPECT_EQ(created["contact"]["personal"]["emails"][0]["address"], "ada@example.com");
  EXPECT_EQ(created["contact"]["version"], "1");  // int64 as a string, as the mapping says

  // The same request id again: the first outcome, nothing new written.
  const int64_t seen = EventsSeen(node_);
  auto [again_status, again] =
      Post("crm.contact.v1.ContactService/CreateContact",
           R"({"contact": {"personal": {"givenName": "Ada"}}, "requestId": "gw-1"})");
  EXPECT_EQ(again_status, 200);
  EXPECT_EQ(again["contact"]["id"], id);
  EXPECT_EQ(EventsSeen(node_), seen);

  const std::string by_contact = R"({"contactId": ")" + id + R"("})";
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"crm.contact.v1.ContactService/GetContact", R"({"id": ")" + id + R"("})"},
      {"crm.interaction.v1.InteractionService/LogInteraction",
       R"({"interaction": {"contactIds": [")" + id +
           R"("], "channel": "CHANNEL_CALL", "direction": "DIRECTION_INBOUND",
               "occurredAt": "2026-12-01T10:00:00Z", "subject": "Called"}})"},
      {"crm.sales.v1.SalesService/ListProducts", "{}"},
      {"crm.analytics.v1.AnalyticsService/GetCustomer360", by_contact},
      {"crm.analytics.v1.WebhookService/ListWebhooks", "{}"},
      {"crm.admin.v1.AdminService/GetProjectionStatus", R"({"projection": "contact"})"},
  };
  for (const auto& [method, body] : calls) {
    auto [s, json] = Post(method, body);
    EXPECT_EQ(s, 200) << method << ": " << json.dump();
  }
}

TEST_F(GatewayTest, ErrorsAreJsonWithTheGrpcCodeAndWriteNothing) {
  const int64_t seen = EventsSeen(node_);
  struct Case {
    std::string method, body;
    int http;
    int code;
    std::string names;
  };
  const std::vector<Case> cases = {
      // gRPC's own validation: the field and what is wrong.
      {"crm.contact.v1.ContactService/CreateContact",
       R"({"contact": {"personal": {"emails": [{"address": "nope"}]}}})", 400, 3,
       "contact.personal.emails[0].address"},
      {"crm.contact.v1.ContactService/GetContact", R"({"id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"})", 404,
       5, "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
      {"crm.contact.v1.ContactService/UpdateContact",
       R"({"contact": {"id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "updateMask": "nope"})", 400, 3,
       "update_mask"},
      // What only the gateway sees: the body and the path.
      {"crm.contact.v1.ContactService/GetContact", R"({"id": )", 400, 3, "body"},
      {"crm.contact.v1.ContactService/GetContact", R"({"colour": "red"})", 400, 3, "colour"},
      {"crm.contact.v1.ContactService/GetContact", R"({"id": 7})", 400, 3, "body"},
      {"crm.contact.v1.ContactService/NoSuchMethod", "{}", 404, 12, "no method"},
      {"grpc.health.v1.Health/Check", "{}", 404, 12, "no method"},
      // A stream refused before it began is answered like any call.
      {"crm.contact.v1.ContactService/Subscribe", R"({"cursor": "x"})", 400, 3, "cursor"},
      {"crm.sales.v1.SalesService/Subscribe",
       R"({"eventTypes": ["crm.contact.v1.ContactCreated"]})", 400, 3, "event_types[0]"},
  };
  for (const Case& c : cases) {
    auto [status, json] = Post(c.method, c.body);
    EXPECT_EQ(status, c.http) << c.method << " " << c.body << ": " << json.dump();
    EXPECT_EQ(json["code"], c.code) << json.dump();
    EXPECT_TRUE(json["status"].is_string()) << json.dump();
    EXPECT_NE(json["message"].get<std::string>().find(c.names), std::string::npos) << json.dump();
  }
  EXPECT_EQ(EventsSeen(node_), seen) << "a refused call wrote something";
}

TEST_F(GatewayTest, AnExportStreamsAsJsonLinesAndEnds) {
  std::set<std::string> ids;
  for (const char* name : {"Hopper", "Lamarr"}) {
    auto [status, created] =
        Post("crm.contact.v1.ContactService/CreateContact",
             absl::StrCat(R"({"contact": {"personal": {"familyName": ")", name, R"("}}})"));
    ASSERT_EQ(status, 200) << created.dump();
    ids.insert(created["contact"]["id"].get<std::string>());
  }
  auto res =
      http_->Post("/v1/crm.contact.v1.ContactService/ExportRecords", "{}", "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-ndjson");
  std::set<std::string> exported;
  std::istringstream lines(res->body);
  for (std::string line; std::getline(lines, line);) {
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(record.is_discarded()) << line;
    ASSERT_TRUE(record.contains("contact")) << line;
    exported.insert(record["contact"]["id"].get<std::string>());
  }
  EXPECT_EQ(exported, ids);
}

TEST_F(GatewayTest, AnImportTakesOneRequestPerLineAndAnswersOneLinePerBatch) {
  const std::string body =
      R"({"importId": "http-1", "rows": [{"row": 1, "contact": {"personal": {"familyName": "Noether"}}},)"
      R"( {"row": 2, "contact": {"personal": {"emails": [{"address": "nope"}]}}}]})"
      "\n"
      R"({"importId": "http-1", "rows": [{"row": 3, "company": {"name": "Göttingen"}}]})"
      "\n";
  auto res =
      http_->Post("/v1/crm.contact.v1.ContactService/ImportRecords", body, "application/x-ndjson");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200) << res->body;
  std::vector<nlohmann::json> answers;
  std::istringstream lines(res->body);
  for (std::string line; std::getline(lines, line);) answers.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(answers.size(), 2u) << res->body;
  EXPECT_EQ(answers[0]["results"][0]["outcome"], "IMPORT_OUTCOME_CREATED");
  EXPECT_EQ(answers[0]["results"][1]["outcome"], "IMPORT_OUTCOME_INVALID");
  EXPECT_EQ(answers[1]["results"][0]["outcome"], "IMPORT_OUTCOME_CREATED");
  // A line that is not a request names its line; a batch wrong as a whole is the gRPC error.
  auto [status, error] =
      Post("crm.contact.v1.ContactService/ImportRecords", R"({"importId": "x", "rows": []})"
                                                          "\n{oops}\n");
  EXPECT_EQ(status, 400);
  EXPECT_TRUE(error["message"].get<std::string>().starts_with("body: line 2: not a ")) << error;
  std::tie(status, error) =
      Post("crm.contact.v1.ContactService/ImportRecords", R"({"importId": "x"})");
  EXPECT_EQ(status, 400);
  EXPECT_TRUE(error["message"].get<std::string>().starts_with("rows: ")) << error;
}

TEST_F(GatewayTest, AStreamThatEndedLeavesItsPlaceBeforeTheClientReadsTheEnd) {
  // --max-feed-streams 1: each import may start only once the one before has given its place back,
  // which it must have done by the time its client has read the end of it.
  for (int i = 0; i < 400; ++i) {
    const std::string body = absl::StrCat(
        R"({"importId": "again-)", i,
        R"(", "rows": [{"row": 1, "contact": {"personal": {"familyName": "N"}}}]})", "\n");
    auto res = http_->Post("/v1/crm.contact.v1.ContactService/ImportRecords", body,
                           "application/x-ndjson");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    ASSERT_EQ(res->status, 200) << "import " << i << ": " << res->body;
  }
}

TEST_F(GatewayTest, AChangeFeedStreamsAsJsonLines) {
  std::vector<std::string> ids;
  for (const char* name : {"Hopper", "Lamarr"}) {
    auto [status, created] =
        Post("crm.contact.v1.ContactService/CreateContact",
             absl::StrCat(R"({"contact": {"personal": {"familyName": ")", name, R"("}}})"));
    ASSERT_EQ(status, 200) << created.dump();
    ids.push_back(created["contact"]["id"]);
  }
  // Reads lines of the stream until `n` have come (then hangs up).
  auto read_lines = [&](const std::string& body, size_t n) {
    std::vector<nlohmann::json> lines;
    std::string buffer;
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/crm.contact.v1.ContactService/Subscribe";
    req.body = body;
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
      buffer.append(data, size);
      for (size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
        lines.push_back(nlohmann::json::parse(buffer.substr(0, nl), nullptr, false));
        buffer.erase(0, nl + 1);
      }
      return lines.size() < n;
    };
    auto res = http_->send(req);
    (void)res;  // cancelled by the receiver once it has its lines
    return lines;
  };
  const std::vector<nlohmann::json> lines =
      read_lines(R"({"eventTypes": ["crm.contact.v1.ContactCreated"]})", 2);
  ASSERT_EQ(lines.size(), 2u);
  std::set<std::string> seen;
  for (const nlohmann::json& line : lines) {
    ASSERT_FALSE(line.is_discarded());
    EXPECT_TRUE(line["cursor"].is_string()) << line.dump();
    EXPECT_EQ(line["event"]["eventType"], "crm.contact.v1.ContactCreated") << line.dump();
    seen.insert(line["event"]["aggregateId"].get<std::string>());
  }
  EXPECT_EQ(seen, std::set<std::string>(ids.begin(), ids.end()));
  // Resumed after the first line's cursor: the other contact's event.
  // (Until the server noticed the first stream's hang-up, its one place is taken: 429.)
  std::vector<nlohmann::json> rest;
  ASSERT_TRUE(WaitFor([&] {
    rest =
        read_lines(absl::StrCat(R"({"eventTypes": ["crm.contact.v1.ContactCreated"], "cursor": ")",
                                lines[0]["cursor"].get<std::string>(), R"("})"),
                   1);
    return rest.size() == 1u;
  }));
  EXPECT_EQ(rest[0]["event"]["aggregateId"], lines[1]["event"]["aggregateId"]);

  // A stream left open: a second one is refused (--max-feed-streams 1), and the node still
  // stops at once, ending it.
  std::atomic<bool> open{false};
  std::thread follower([&] {
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (!open && absl::Now() < give_up) {  // 429 until the place above is free
      httplib::Client client(http_addr_);
      httplib::Request req;
      req.method = "POST";
      req.path = "/v1/crm.contact.v1.ContactService/Subscribe";
      req.body = "{}";
      req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
        if (std::string_view(data, size).find("\"cursor\"") != std::string_view::npos) {
          open = true;
        }
        return true;
      };
      (void)client.send(req);
    }
  });
  ASSERT_TRUE(WaitFor([&] { return open.load(); }));
  auto [status, refused] = Post("crm.contact.v1.ContactService/Subscribe", "{}");
  EXPECT_EQ(status, 429) << refused.dump();
  EXPECT_EQ(refused["code"], 8) << refused.dump();
  const absl::Time stopping = absl::Now();
  EXPECT_EQ(node_.process->Stop(SIGTERM), 0) << node_.process->Log();
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(10));
  follower.join();
}

}  // namespace
}  // namespace crm::testing
