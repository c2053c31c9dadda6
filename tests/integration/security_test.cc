// Security over the wire: TLS and mutual TLS on the gRPC port, the plaintext health port,
// bearer JWTs on every method of every service, scopes, and tenants confined by their
// credential — against the real crm-node.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <future>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/auth/auth.h"
#include "common/store/projection_store.h"
#include "crm/admin/v1/admin_service.grpc.pb.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/analytics/v1/analytics_service.pb.h"
#include "crm/contact/v1/contact_service.grpc.pb.h"
#include "crm/contact/v1/contact_service.pb.h"
#include "crm/contact/v1/events.pb.h"
#include "crm/interaction/v1/interaction_service.grpc.pb.h"
#include "crm/interaction/v1/interaction_service.pb.h"
#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "crm/sales/v1/sales_service.pb.h"
#include "nlohmann/json.hpp"
#include "tests/integration/contact_client.h"
#include "tests/testing/pki.h"

namespace crm::testing {
namespace {

namespace pb = google::protobuf;

// Links every service's descriptors into the generated pool.
const bool kLinked = FindMethod("ContactService/GetContact") != nullptr;

const std::string kSecret = "security-test-secret-0123456789abcdef0123456789";
constexpr char kIssuer[] = "https://id.example";
// A Subscribe request with a cursor that is not one (field 3 = "x"), serialized.
const std::string kBadCursor = std::string("\x1a\x01x", 3);
constexpr char kAudience[] = "crm";

std::string Token(const std::string& tenant, const std::string& subject,
                  std::set<std::string> scopes = auth::AllScopes()) {
  auth::TokenClaims c;
  c.tenant = tenant;
  c.subject = subject;
  c.scopes = std::move(scopes);
  c.issuer = kIssuer;
  c.audience = kAudience;
  absl::StatusOr<std::string> t = auth::MintToken(c, kSecret);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : "";
}

struct Reply {
  grpc::Status status;
  std::unique_ptr<pb::Message> message;  // the response, when OK
  std::string bytes;
};

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kLinked);
    ca_ = NewCa("crm test CA");
    const Certificate server = Issue(ca_, "crm-node");
    client_ = Issue(ca_, "crm-client");
    WriteFile(dir_.Sub("ca.pem"), ca_.cert_pem);
    WriteFile(dir_.Sub("server.pem"), server.cert_pem);
    WriteFile(dir_.Sub("server.key"), server.key_pem);
    WriteFile(dir_.Sub("secret"), kSecret + "\n");
    node_ = std::make_unique<Process>(BinaryPath("crm-node"),
                                      std::vector<std::string>{"--listen",
                                                               "127.0.0.1:0",
                                                               "--data-dir",
                                                               dir_.Sub("data"),
                                                               "--health-listen",
                                                               "127.0.0.1:0",
                                                               "--http-listen",
                                                               "127.0.0.1:0",
                                                               "--tls-cert",
                                                               dir_.Sub("server.pem"),
                                                               "--tls-key",
                                                               dir_.Sub("server.key"),
                                                               "--tls-client-ca",
                                                               dir_.Sub("ca.pem"),
                                                               "--tls-reload-interval",
                                                               "1",
                                                               "--auth",
                                                               "jwt",
                                                               "--jwt-hs256-secret-file",
                                                               dir_.Sub("secret"),
                                                               "--jwt-issuer",
                                                               kIssuer,
                                                               "--jwt-audience",
                                                               kAudience},
                                      std::vector<std::string>{}, dir_.path());
    addr_ = ReadListenAddress(*node_);
    ASSERT_FALSE(addr_.empty()) << node_->Log();
    const std::string health_line = node_->ReadLine();
    ASSERT_TRUE(health_line.starts_with("health on ")) << health_line << node_->Log();
    health_addr_ = health_line.substr(std::string("health on ").size());
    const std::string http_line = node_->ReadLine();
    ASSERT_TRUE(http_line.starts_with("http on ")) << http_line << node_->Log();
    http_addr_ = http_line.substr(std::string("http on ").size());
    auto health = grpc::CreateChannel(health_addr_, grpc::InsecureChannelCredentials());
    ASSERT_TRUE(WaitFor([&] { return HealthStatus(*health) == 1; })) << node_->Log();
    channel_ = Channel(ca_.cert_pem, &client_);
    generic_ = std::make_unique<grpc::GenericStub>(channel_);
  }

  // The messages of every service's change feed (Subscribe) from the start of the log, as the
  // holder of `token`, serialized: what the four streams, open together, sent within two seconds.
  std::vector<std::string> FeedMessages(const std::string& token) {
    const auto deadline = absl::ToChronoTime(absl::Now() + absl::Seconds(2));
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    auto open = [&](auto& stub, const auto& request) {
      contexts.push_back(std::make_unique<grpc::ClientContext>());
      contexts.back()->set_deadline(deadline);
      contexts.back()->AddMetadata("authorization", "Bearer " + token);
      return stub->Subscribe(contexts.back().get(), request);
    };
    std::vector<std::string> out;
    auto drain = [&](auto& reader, auto response) {
      while (reader->Read(&response)) out.push_back(response.SerializeAsString());
      const grpc::Status end = reader->Finish();
      EXPECT_EQ(end.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << end.error_message();
    };
    auto contacts = crm::contact::v1::ContactService::NewStub(channel_);
    auto interactions = crm::interaction::v1::InteractionService::NewStub(channel_);
    auto sales = crm::sales::v1::SalesService::NewStub(channel_);
    auto analytics = crm::analytics::v1::AnalyticsService::NewStub(channel_);
    auto c = open(contacts, crm::contact::v1::SubscribeRequest());
    auto i = open(interactions, crm::interaction::v1::SubscribeRequest());
    auto s = open(sales, crm::sales::v1::SubscribeRequest());
    auto a = open(analytics, crm::analytics::v1::SubscribeRequest());
    drain(c, crm::contact::v1::SubscribeResponse());
    drain(i, crm::interaction::v1::SubscribeResponse());
    drain(s, crm::sales::v1::SubscribeResponse());
    drain(a, crm::analytics::v1::SubscribeResponse());
    return out;
  }

  // Every service's ExportRecords as the holder of `token`, serialized, each stream read to its
  // end (which must be OK).
  std::vector<std::string> ExportMessages(const std::string& token) {
    std::vector<std::string> out;
    auto drain = [&](auto& stub, const auto& request, auto response) {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
      ctx.AddMetadata("authorization", "Bearer " + token);
      auto reader = stub->ExportRecords(&ctx, request);
      while (reader->Read(&response)) out.push_back(response.SerializeAsString());
      const grpc::Status end = reader->Finish();
      EXPECT_TRUE(end.ok()) << end.error_message();
    };
    auto contacts = crm::contact::v1::ContactService::NewStub(channel_);
    auto interactions = crm::interaction::v1::InteractionService::NewStub(channel_);
    auto sales = crm::sales::v1::SalesService::NewStub(channel_);
    auto analytics = crm::analytics::v1::AnalyticsService::NewStub(channel_);
    drain(contacts, crm::contact::v1::ExportRecordsRequest(),
          crm::contact::v1::ExportRecordsResponse());
    drain(interactions, crm::interaction::v1::ExportRecordsRequest(),
          crm::interaction::v1::ExportRecordsResponse());
    drain(sales, crm::sales::v1::ExportRecordsRequest(), crm::sales::v1::ExportRecordsResponse());
    drain(analytics, crm::analytics::v1::ExportRecordsRequest(),
          crm::analytics::v1::ExportRecordsResponse());
    return out;
  }

  // A TLS channel to the node trusting `ca`, presenting `client` (none if null).
  std::shared_ptr<grpc::Channel> Channel(const std::string& ca, const Certificate* client) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = ca;
    if (client != nullptr) {
      o.pem_cert_chain = client->cert_pem;
      o.pem_private_key = client->key_pem;
    }
    // A fresh connection each time (no subchannel sharing), so each handshake is tried anew.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(addr_, grpc::SslCredentials(o), args);
  }

  // Calls `method` ("Service/Method") with `request` in text format, as the holder of `token`
  // (none when empty), with `extra` metadata.
  Reply Call(const pb::MethodDescriptor& method, const std::string& request,
             const std::string& token,
             const std::vector<std::pair<std::string, std::string>>& extra = {},
             grpc::GenericStub* stub = nullptr) {
    std::unique_ptr<pb::Message> in(
        pb::MessageFactory::generated_factory()->GetPrototype(method.input_type())->New());
    Reply r;
    if (!pb::TextFormat::ParseFromString(request, in.get())) {
      r.status = grpc::Status(grpc::StatusCode::INTERNAL, "the test's request does not parse");
      return r;
    }
    return CallRaw(method, in->SerializeAsString(), token, extra, stub);
  }

  Reply CallRaw(const pb::MethodDescriptor& method, const std::string& bytes,
                const std::string& token,
                const std::vector<std::pair<std::string, std::string>>& extra = {},
                grpc::GenericStub* stub = nullptr) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer in(&slice, 1);
    grpc::ByteBuffer out;
    std::promise<grpc::Status> done;
    auto ctx = Ctx(absl::Seconds(10));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    for (const auto& [k, v] : extra) ctx->AddMetadata(k, v);
    (stub == nullptr ? generic_.get() : stub)
        ->UnaryCall(ctx.get(), absl::StrCat("/", method.service()->full_name(), "/", method.name()),
                    grpc::StubOptions(), &in, &out,
                    [&done](grpc::Status s) { done.set_value(std::move(s)); });
    Reply r;
    r.status = done.get_future().get();
    if (r.status.ok()) {
      grpc::Slice s;
      if (out.DumpToSingleSlice(&s).ok()) {
        r.bytes.assign(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      r.message.reset(
          pb::MessageFactory::generated_factory()->GetPrototype(method.output_type())->New());
      r.message->ParseFromString(r.bytes);
    }
    return r;
  }

  Reply Call(const std::string& method, const std::string& request, const std::string& token) {
    const pb::MethodDescriptor* m = FindMethod(method);
    EXPECT_NE(m, nullptr) << method;
    if (m == nullptr) return Reply{grpc::Status(grpc::StatusCode::INTERNAL, "no method"), {}, ""};
    return Call(*m, request, token);
  }

  // The id of a record a create answered with (the response, or its first message field).
  static std::string IdOf(const Reply& r) {
    if (!r.status.ok() || !r.message) return "";
    const pb::Message* m = r.message.get();
    for (int depth = 0; depth < 2 && m != nullptr; ++depth) {
      const pb::FieldDescriptor* id = m->GetDescriptor()->FindFieldByName("id");
      if (id != nullptr) return m->GetReflection()->GetString(*m, id);
      const pb::FieldDescriptor* first = m->GetDescriptor()->field(0);
      if (first->type() != pb::FieldDescriptor::TYPE_MESSAGE) return "";
      m = &m->GetReflection()->GetMessage(*m, first);
    }
    return "";
  }

  // Every event of every topic: (tenant, actor, aggregate id) per event.
  std::vector<crm::common::v1::EventEnvelope> Events() {
    std::vector<crm::common::v1::EventEnvelope> out;
    auto admin = crm::admin::v1::AdminService::NewStub(channel_);
    for (const char* topic : {"crm.contact.v1", "crm.interaction.v1", "crm.sales.v1",
                              "crm.analytics.v1", "crm.access.v1"}) {
      std::string token;
      for (int page = 0; page < 100; ++page) {
        crm::admin::v1::ReadLogRequest req;
        req.set_topic(topic);
        req.set_max_records(1000);
        req.set_page_token(token);
        crm::admin::v1::ReadLogResponse resp;
        auto ctx = Ctx();
        ctx->AddMetadata("authorization", "Bearer " + Token("ops", "operator"));
        const grpc::Status s = admin->ReadLog(ctx.get(), req, &resp);
        EXPECT_TRUE(s.ok()) << topic << ": " << s.error_message();
        if (!s.ok()) break;
        for (const auto& e : resp.entries()) out.push_back(e.event());
        if (resp.at_end() || resp.next_page_token().empty()) break;
        token = resp.next_page_token();
      }
    }
    return out;
  }

  TempDir dir_;
  Certificate ca_;
  Certificate client_;
  std::unique_ptr<Process> node_;
  std::string addr_;
  std::string health_addr_;
  std::string http_addr_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> generic_;
};

// Every method of every service, with its descriptor.
std::vector<const pb::MethodDescriptor*> AllMethods(bool with_admin = true) {
  std::vector<const pb::MethodDescriptor*> out;
  for (const char* service : kServices) {
    if (!with_admin && std::string_view(service) == "crm.admin.v1.AdminService") continue;
    const pb::ServiceDescriptor* s =
        pb::DescriptorPool::generated_pool()->FindServiceByName(service);
    EXPECT_NE(s, nullptr) << service;
    if (s == nullptr) continue;
    for (int i = 0; i < s->method_count(); ++i) out.push_back(s->method(i));
  }
  return out;
}

TEST_F(SecurityTest, TheGrpcPortSpeaksOnlyMutualTlsAndHealthHasItsOwnPlaintextPort) {
  const pb::MethodDescriptor* get = FindMethod("ContactService/GetContact");
  ASSERT_NE(get, nullptr);
  const std::string request = R"pb(id: "01ARZ3NDEKTSV4RRFFQ69G5FAV")pb";
  const std::string token = Token("acme", "ada");
  // The real thing: TLS with a client certificate of the trusted CA.
  EXPECT_EQ(Call(*get, request, token).status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(HealthStatus(*channel_), 1);

  auto refused = [&](std::shared_ptr<grpc::Channel> channel, const char* what) {
    grpc::GenericStub stub(channel);
    const Reply r = Call(*get, request, token, {}, &stub);
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << what << ": " << r.status.error_message();
  };
  refused(grpc::CreateChannel(addr_, grpc::InsecureChannelCredentials()), "plaintext");
  refused(Channel(ca_.cert_pem, nullptr), "TLS without a client certificate");
  const Certificate stranger_ca = NewCa("someone else's CA");
  const Certificate stranger = Issue(stranger_ca, "crm-client");
  refused(Channel(ca_.cert_pem, &stranger), "a client certificate of another CA");
  // A client that does not trust the server's CA gives up too.
  refused(Channel(stranger_ca.cert_pem, &client_), "a server certificate of an untrusted CA");

  // The health port: plaintext, health only.
  auto health = grpc::CreateChannel(health_addr_, grpc::InsecureChannelCredentials());
  EXPECT_EQ(HealthStatus(*health), 1);
  EXPECT_EQ(HealthStatus(*health, "liveness"), 1);
  grpc::GenericStub health_stub(health);
  EXPECT_EQ(Call(*get, request, token, {}, &health_stub).status.error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(SecurityTest, ChangedCertificatesAreTakenUpWithoutARestart) {
  // A new CA issues the server a new certificate; the files are replaced in place.
  const Certificate new_ca = NewCa("rotated CA");
  const Certificate server = Issue(new_ca, "crm-node");
  const Certificate client = Issue(new_ca, "crm-client");
  WriteFile(dir_.Sub("ca.pem"), new_ca.cert_pem);
  WriteFile(dir_.Sub("server.key"), server.key_pem);
  WriteFile(dir_.Sub("server.pem"), server.cert_pem);
  // Clients of the new CA get in once the watcher has read the files (every second here).
  EXPECT_TRUE(WaitFor([&] { return HealthStatus(*Channel(new_ca.cert_pem, &client)) == 1; },
                      absl::Seconds(20)))
      << node_->Log();
  EXPECT_NE(HealthStatus(*Channel(ca_.cert_pem, &client_)), 1);
}

TEST_F(SecurityTest, EveryMethodRefusesAMissingOrBadTokenAndWritesNothing) {
  const size_t events = Events().size();
  auth::TokenClaims expired;
  expired.tenant = "acme";
  expired.subject = "ada";
  expired.scopes = auth::AllScopes();
  expired.issuer = kIssuer;
  expired.audience = kAudience;
  expired.expires = absl::Now() - absl::Minutes(5);
  auth::TokenClaims wrong_issuer = expired;
  wrong_issuer.expires = absl::Now() + absl::Minutes(5);
  wrong_issuer.issuer = "https://evil.example";
  auth::TokenClaims wrong_audience = wrong_issuer;
  wrong_audience.issuer = kIssuer;
  wrong_audience.audience = "billing";
  auth::TokenClaims valid = wrong_audience;
  valid.audience = kAudience;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no credential"},
      {"not.a.token", "not a JWT"},
      {*auth::MintToken(expired, kSecret), "expired"},
      {*auth::MintToken(wrong_issuer, kSecret), "issuer"},
      {*auth::MintToken(wrong_audience, kSecret), "aud"},
      {*auth::MintToken(valid, std::string(48, 'z')), "signature does not verify"},
  };
  int tried = 0;
  for (const pb::MethodDescriptor* m : AllMethods()) {
    for (const auto& [token, why] : cases) {
      const Reply r = CallRaw(*m, "", token);
      EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << m->full_name() << " (" << why << "): " << r.status.error_message();
      EXPECT_NE(r.status.error_message().find(why), std::string::npos)
          << m->full_name() << ": " << r.status.error_message();
      ++tried;
    }
  }
  RecordProperty("calls_tried", tried);
  EXPECT_GT(tried, 90 * 6);
  EXPECT_EQ(Events().size(), events);
}

TEST_F(SecurityTest, EachMethodNeedsItsScope) {
  const size_t events = Events().size();
  const std::string reader = Token("acme", "rita", {"contacts.read"});
  int denied = 0;
  for (const pb::MethodDescriptor* m : AllMethods()) {
    const std::string path = absl::StrCat("/", m->service()->full_name(), "/", m->name());
    const std::string scope = auth::RequiredScope(path);
    // A stream (Subscribe) gets a bad cursor, which its handler refuses at once; an empty
    // request would stream until the deadline.
    const Reply r = CallRaw(*m, m->server_streaming() ? kBadCursor : "", reader);
    if (scope == "contacts.read") {
      EXPECT_NE(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << path;
      EXPECT_NE(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << path;
    } else {
      EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << path;
      EXPECT_NE(r.status.error_message().find("needs the scope \"" + scope + "\""),
                std::string::npos)
          << path << ": " << r.status.error_message();
      ++denied;
    }
  }
  EXPECT_GT(denied, 70);
  EXPECT_EQ(Events().size(), events);
}

TEST_F(SecurityTest, ATenantSeesAndTouchesOnlyItsOwnRecords) {
  const std::string ada = Token("acme", "ada");
  // Acme's records, one of each kind.
  std::map<std::string, std::string> ids;
  auto create = [&](const std::string& kind, const std::string& method, std::string request) {
    for (const auto& [k, v] : ids) request = absl::StrReplaceAll(request, {{"$" + k, v}});
    const Reply r = Call(method, request, ada);
    ASSERT_TRUE(r.status.ok()) << method << ": " << r.status.error_message();
    ids[kind] = IdOf(r);
    ASSERT_FALSE(ids[kind].empty()) << method;
  };
  create("COMPANY", "ContactService/CreateCompany", R"pb(company { name: "Quillfeather Ltd" })pb");
  create("CONTACT", "ContactService/CreateContact", R"pb(contact {
                                                           personal {
                                                             given_name: "Zephyrine"
                                                             family_name: "Quillfeather"
                                                             emails { address: "zq@acme.example" }
                                                           }
                                                         })pb");
  create("INTERACTION", "InteractionService/LogInteraction",
         R"pb(interaction {
                contact_ids: "$CONTACT"
                occurred_at { seconds: 1767225600 }
                channel: CHANNEL_CALL
                direction: DIRECTION_INBOUND
                subject: "Quillfeather call"
              })pb");
  create("CASE", "InteractionService/OpenCase",
         R"pb(case { contact_id: "$CONTACT" subject: "Quillfeather case" })pb");
  create("TASK", "InteractionService/CreateTask", R"pb(task {
                                                         title: "Quillfeather task"
                                                         assignee: "sam"
                                                         contact_id: "$CONTACT"
                                                         due_time { seconds: 1767225600 }
                                                       })pb");
  create("PRODUCT", "SalesService/CreateProduct",
         R"pb(product {
                sku: "QUILL"
                name: "Quillfeather quill"
                category: "Pens"
                unit_price { currency_code: "EUR" minor_units: 1500 }
              })pb");
  create("DEAL", "SalesService/CreateDeal",
         R"pb(deal {
                title: "Quillfeather deal"
                contact_id: "$CONTACT"
                owner: "sam"
                line_items {
                  product_id: "$PRODUCT"
                  quantity: 2
                  unit_price { currency_code: "EUR" minor_units: 1500 }
                }
              })pb");
  create("ORDER", "SalesService/PlaceOrder",
         R"pb(order {
                contact_id: "$CONTACT"
                order_time { seconds: 1767225600 }
                line_items {
                  product_id: "$PRODUCT"
                  quantity: 1
                  unit_price { currency_code: "EUR" minor_units: 1500 }
                }
              })pb");
  create("SEGMENT", "AnalyticsService/CreateSegment", R"pb(segment {
                                                             name: "Quillfeather buyers"
                                                             filter { currency_code: "EUR" }
                                                           })pb");
  // Analytics has Acme's customer (so the sweep below has something to leak).
  ASSERT_TRUE(WaitFor([&] {
    const Reply r = Call("AnalyticsService/GetCustomer360",
                         absl::StrCat("contact_id: \"", ids["CONTACT"], "\""), ada);
    return r.status.ok() && r.bytes.find(ids["ORDER"]) != std::string::npos;
  }));

  // Every event of Acme's records says who made it.
  const std::vector<crm::common::v1::EventEnvelope> before = Events();
  int acme_events = 0;
  for (const auto& e : before) {
    if (e.tenant() != "acme") continue;
    ++acme_events;
    EXPECT_EQ(e.actor(), "ada") << e.event_type();
  }
  EXPECT_GE(acme_events, 9);

  // Globex, with every scope (admin too: EraseContact), and Acme's ids in every field that
  // takes an id.
  const std::string bob = Token("globex", "bob", auth::AllScopes());
  const std::vector<std::string> secrets = {"Zephyrine", "Quillfeather", "zq@acme.example"};
  auto noun_id = [&](std::string_view method) {
    for (const auto& [noun, kind] :
         std::vector<std::pair<std::string, std::string>>{{"Interaction", "INTERACTION"},
                                                          {"Company", "COMPANY"},
                                                          {"Contact", "CONTACT"},
                                                          {"Case", "CASE"},
                                                          {"Task", "TASK"},
                                                          {"Product", "PRODUCT"},
                                                          {"Deal", "DEAL"},
                                                          {"Order", "ORDER"},
                                                          {"Segment", "SEGMENT"}}) {
      if (method.find(noun) != std::string_view::npos) return ids[kind];
    }
    return ids["CONTACT"];
  };
  auto field_id = [&](const std::string& name, std::string_view method) -> std::string {
    if (name == "id") return noun_id(method);
    if (name == "company_id" || name == "related_company_id") return ids["COMPANY"];
    if (name == "product_id") return ids["PRODUCT"];
    if (name == "deal_id") return ids["DEAL"];
    if (name == "stage_id") return "proposal";
    if (name == "request_id") return "";
    return ids["CONTACT"];  // contact_id, survivor_id, merged_id, aggregate_id, ...
  };
  // Fills the id fields of `m` (and of its message fields, one level down).
  std::function<void(pb::Message&, std::string_view, int)> fill = [&](pb::Message& m,
                                                                      std::string_view method,
                                                                      int depth) {
    const pb::Reflection* r = m.GetReflection();
    for (int i = 0; i < m.GetDescriptor()->field_count(); ++i) {
      const pb::FieldDescriptor* f = m.GetDescriptor()->field(i);
      const bool idish =
          f->name() == "id" || f->name().ends_with("_id") || f->name().ends_with("_ids");
      if (f->type() == pb::FieldDescriptor::TYPE_STRING && idish) {
        std::string name = f->name();
        if (name.ends_with("_ids")) name.pop_back();
        const std::string v = field_id(name, method);
        if (v.empty()) continue;
        if (f->is_repeated()) {
          r->AddString(&m, f, v);
        } else {
          r->SetString(&m, f, v);
        }
      } else if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE && !f->is_repeated() && depth < 1) {
        fill(*r->MutableMessage(&m, f), method, depth + 1);
      }
    }
  };
  int ok_calls = 0;
  for (const pb::MethodDescriptor* m : AllMethods(/*with_admin=*/false)) {
    if (m->server_streaming()) continue;  // the change feeds: below
    std::unique_ptr<pb::Message> request(
        pb::MessageFactory::generated_factory()->GetPrototype(m->input_type())->New());
    fill(*request, m->name(), 0);
    const Reply r = CallRaw(*m, request->SerializeAsString(), bob);
    EXPECT_NE(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << m->full_name();
    if (!r.status.ok()) continue;
    ++ok_calls;
    for (const auto& [kind, id] : ids) {
      EXPECT_EQ(r.bytes.find(id), std::string::npos)
          << m->full_name() << " showed Globex Acme's " << kind << ": "
          << r.message->ShortDebugString();
    }
    for (const std::string& secret : secrets) {
      EXPECT_EQ(r.bytes.find(secret), std::string::npos)
          << m->full_name() << " showed Globex \"" << secret << "\"";
    }
  }
  RecordProperty("globex_calls_answered", ok_calls);
  EXPECT_GT(ok_calls, 10);  // lists, searches and reports answered — with none of Acme's data

  // Every service's change feed, read from the start of the log as Globex, gives only Globex's
  // events (its own writes above), none of Acme's.
  const std::vector<std::string> globex_feed = FeedMessages(bob);
  int globex_events = 0;
  for (const std::string& bytes : globex_feed) {
    for (const auto& [kind, id] : ids) {
      EXPECT_EQ(bytes.find(id), std::string::npos) << "a feed showed Globex Acme's " << kind;
    }
    for (const std::string& secret : secrets) {
      EXPECT_EQ(bytes.find(secret), std::string::npos) << "a feed showed Globex " << secret;
    }
    globex_events += bytes.find("globex") != std::string::npos;
  }
  EXPECT_GT(globex_events, 0) << "the feeds showed Globex none of its own events";

  // Every service's export, as Globex: only Globex's records.
  const std::vector<std::string> globex_export = ExportMessages(bob);
  int globex_records = 0;
  for (const std::string& bytes : globex_export) {
    for (const auto& [kind, id] : ids) {
      EXPECT_EQ(bytes.find(id), std::string::npos) << "an export showed Globex Acme's " << kind;
    }
    for (const std::string& secret : secrets) {
      EXPECT_EQ(bytes.find(secret), std::string::npos) << "an export showed Globex " << secret;
    }
    ++globex_records;
  }
  EXPECT_GT(globex_records, 0) << "the export showed Globex none of its own records";

  // A client cannot claim a tenant by sending the server's own metadata.
  const Reply spoofed =
      Call(*FindMethod("ContactService/GetContact"), absl::StrCat("id: \"", ids["CONTACT"], "\""),
           bob, {{"crm-auth-tenant", "acme"}, {"crm-auth-scopes", "admin"}});
  EXPECT_EQ(spoofed.status.error_code(), grpc::StatusCode::NOT_FOUND)
      << spoofed.status.error_message();

  // Nothing Globex did touched Acme: no new Acme event, and Acme's contact is as it was.
  int after = 0;
  for (const auto& e : Events()) after += e.tenant() == "acme";
  EXPECT_EQ(after, acme_events);
  const Reply mine =
      Call("ContactService/GetContact", absl::StrCat("id: \"", ids["CONTACT"], "\""), ada);
  ASSERT_TRUE(mine.status.ok()) << mine.status.error_message();
  EXPECT_NE(mine.bytes.find("Zephyrine"), std::string::npos);
}

TEST_F(SecurityTest, PersonalDataIsMaskedWithoutItsScopeAndReadsOfItAreLogged) {
  const std::string ada = Token("acme", "ada");  // every scope, personal_data included
  const Reply created =
      Call("ContactService/CreateContact", R"pb(contact {
                                                  personal {
                                                    given_name: "Zephyrine"
                                                    family_name: "Quillfeather"
                                                    emails { address: "zq@acme.example" }
                                                    phones { number: "+34911234567" }
                                                  }
                                                  job_title: "Buyer"
                                                })pb",
           ada);
  ASSERT_TRUE(created.status.ok()) << created.status.error_message();
  const std::string id = IdOf(created);
  const std::string by_id = absl::StrCat("id: \"", id, "\"");
  ASSERT_TRUE(
      Call("ContactService/UpdateContact",
           absl::StrCat("contact { id: \"", id,
                        "\" personal { given_name: \"Zephyra\" family_name: "
                        "\"Quillfeather\" } } update_mask { paths: \"personal.given_name\" }"),
           ada)
          .status.ok());
  ASSERT_TRUE(WaitFor([&] {
    return Call("AnalyticsService/GetCustomer360", absl::StrCat("contact_id: \"", id, "\""), ada)
        .status.ok();
  }));

  // Rita may read contacts and analytics, but not personal data.
  const std::string rita = Token("acme", "rita", {"contacts.read", "analytics.read"});
  const std::vector<std::pair<std::string, std::string>> reads = {
      {"ContactService/GetContact", by_id},
      {"ContactService/SearchContacts", R"pb(query: "quillfeather")pb"},
      {"ContactService/ListContacts", ""},
      {"ContactService/GetContactHistory", by_id},
      {"AnalyticsService/GetCustomer360", absl::StrCat("contact_id: \"", id, "\"")},
  };
  for (const auto& [method, request] : reads) {
    const Reply r = Call(method, request, rita);
    ASSERT_TRUE(r.status.ok()) << method << ": " << r.status.error_message();
    EXPECT_NE(r.bytes.find(id), std::string::npos) << method << " does not show the contact";
    for (const char* secret : {"Zephyr", "Quillfeather", "zq@", "911234567"}) {
      EXPECT_EQ(r.bytes.find(secret), std::string::npos)
          << method << " showed rita \"" << secret << "\": " << r.message->ShortDebugString();
    }
    if (method == "ContactService/GetContact") {
      const auto& c = dynamic_cast<const crm::contact::v1::Contact&>(*r.message);
      EXPECT_EQ(c.personal().given_name(), "Z***");
      EXPECT_EQ(c.personal().emails(0).address(), "z***@acme.example");
      EXPECT_EQ(c.personal().phones(0).number(), "***67");
      EXPECT_EQ(c.job_title(), "Buyer");  // not personal data
    }
  }

  // Ada sees it all, and her read is in the access log; Rita's masked reads are not.
  const Reply mine = Call("ContactService/GetContact", by_id, ada);
  ASSERT_TRUE(mine.status.ok());
  EXPECT_NE(mine.bytes.find("Zephyra"), std::string::npos);
  const std::string line = absl::StrCat(
      "access: ada of tenant acme read personal data with "
      "crm.contact.v1.ContactService/GetContact: ",
      id);
  EXPECT_TRUE(WaitFor([&] { return node_->Log().find(line) != std::string::npos; }))
      << node_->Log();
  EXPECT_EQ(node_->Log().find("access: rita"), std::string::npos);

  // The contact change feed: Rita gets the event with its personal data masked, Ada opened (the
  // log holds it sealed), and Ada's read goes to the access log.
  auto created_event = [&](const std::string& token) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    ctx.AddMetadata("authorization", "Bearer " + token);
    crm::contact::v1::SubscribeRequest request;
    request.add_event_types("crm.contact.v1.ContactCreated");
    auto stub = crm::contact::v1::ContactService::NewStub(channel_);
    auto reader = stub->Subscribe(&ctx, request);
    crm::contact::v1::SubscribeResponse message;
    crm::contact::v1::ContactCreated event;
    while (reader->Read(&message)) {
      if (message.event().aggregate_id() == id) {
        EXPECT_TRUE(message.event().payload().UnpackTo(&event));
        break;
      }
    }
    ctx.TryCancel();
    while (reader->Read(&message)) {
    }
    reader->Finish().IgnoreError();
    return event;
  };
  const crm::contact::v1::ContactCreated seen_by_rita = created_event(rita);
  EXPECT_EQ(seen_by_rita.contact().personal().given_name(), "Z***");
  EXPECT_EQ(seen_by_rita.contact().personal().emails(0).address(), "z***@acme.example");
  EXPECT_EQ(seen_by_rita.contact().job_title(), "Buyer");
  const crm::contact::v1::ContactCreated seen_by_ada = created_event(ada);
  EXPECT_EQ(seen_by_ada.contact().personal().given_name(), "Zephyrine");
  EXPECT_EQ(seen_by_ada.contact().personal().phones(0).number(), "+34911234567");
  EXPECT_EQ(node_->Log().find("access: rita"), std::string::npos);
  const std::string feed_line = absl::StrCat(
      "access: ada of tenant acme read personal data with "
      "crm.contact.v1.ContactService/Subscribe: ",
      id);
  EXPECT_TRUE(WaitFor([&] { return node_->Log().find(feed_line) != std::string::npos; }))
      << node_->Log();

  // The export: masked for Rita, whole for Ada, and Ada's read in the access log.
  auto exported = [&](const std::string& token) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    ctx.AddMetadata("authorization", "Bearer " + token);
    auto stub = crm::contact::v1::ContactService::NewStub(channel_);
    auto reader = stub->ExportRecords(&ctx, crm::contact::v1::ExportRecordsRequest());
    std::string all;
    crm::contact::v1::ExportRecordsResponse record;
    while (reader->Read(&record)) all += record.SerializeAsString();
    EXPECT_TRUE(reader->Finish().ok());
    return all;
  };
  const std::string rita_export = exported(rita);
  EXPECT_EQ(rita_export.find("Zephyra"), std::string::npos);
  EXPECT_NE(rita_export.find("Z***"), std::string::npos);
  EXPECT_NE(exported(ada).find("Zephyra"), std::string::npos);
  EXPECT_EQ(node_->Log().find("access: rita"), std::string::npos);
  const std::string export_line =
      "access: ada of tenant acme read personal data with crm.contact.v1.ContactService/"
      "ExportRecords: ";
  EXPECT_TRUE(WaitFor([&] { return node_->Log().find(export_line) != std::string::npos; }))
      << node_->Log();
}

TEST_F(SecurityTest, TheJsonGatewayIsHttpsWithClientCertificatesTokensAndTenants) {
  WriteFile(dir_.Sub("client.pem"), client_.cert_pem);
  WriteFile(dir_.Sub("client.key"), client_.key_pem);
  const std::string host = http_addr_.substr(0, http_addr_.rfind(':'));
  const int port = std::stoi(http_addr_.substr(http_addr_.rfind(':') + 1));
  httplib::SSLClient https(host, port, dir_.Sub("client.pem"), dir_.Sub("client.key"));
  https.set_ca_cert_path(dir_.Sub("ca.pem").c_str());
  https.enable_server_certificate_verification(true);
  auto post = [&](const std::string& method, const std::string& body, const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return https.Post(("/v1/crm.contact.v1." + method).c_str(), headers, body, "application/json");
  };
  const std::string ada = Token("acme", "ada");
  auto created = post("ContactService/CreateContact",
                      R"({"contact": {"personal": {"givenName": "Zephyrine",
                                                   "familyName": "Quillfeather"}}})",
                      ada);
  ASSERT_TRUE(created) << httplib::to_string(created.error());
  ASSERT_EQ(created->status, 200) << created->body;
  const std::string id = nlohmann::json::parse(created->body)["contact"]["id"];
  const std::string by_id = absl::StrCat(R"({"id": ")", id, R"("})");

  auto no_token = post("ContactService/GetContact", by_id, "");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
  EXPECT_EQ(nlohmann::json::parse(no_token->body)["code"], 16) << no_token->body;
  auto other_tenant = post("ContactService/GetContact", by_id, Token("globex", "bob"));
  ASSERT_TRUE(other_tenant);
  EXPECT_EQ(other_tenant->status, 404) << other_tenant->body;
  auto rita = post("ContactService/GetContact", by_id, Token("acme", "rita", {"contacts.read"}));
  ASSERT_TRUE(rita);
  ASSERT_EQ(rita->status, 200) << rita->body;
  EXPECT_EQ(nlohmann::json::parse(rita->body)["personal"]["givenName"], "Z***") << rita->body;
  auto unscoped =
      post("ContactService/CreateContact", "{}", Token("acme", "rita", {"contacts.read"}));
  ASSERT_TRUE(unscoped);
  EXPECT_EQ(unscoped->status, 403) << unscoped->body;

  // Without a client certificate, or in plain HTTP, there is no answer at all.
  httplib::SSLClient anonymous(host, port);
  anonymous.set_ca_cert_path(dir_.Sub("ca.pem").c_str());
  anonymous.enable_server_certificate_verification(true);
  EXPECT_FALSE(
      anonymous.Post("/v1/crm.contact.v1.ContactService/GetContact", by_id, "application/json"));
  httplib::Client plain(host, port);
  auto cleartext =
      plain.Post("/v1/crm.contact.v1.ContactService/GetContact", by_id, "application/json");
  EXPECT_TRUE(!cleartext || cleartext->status != 200);
}

// Every key and value of the projection store in `dir` (the process that wrote it stopped).
std::string DumpProjection(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<store::ProjectionStore>> s = store::ProjectionStore::Open(dir);
  EXPECT_TRUE(s.ok()) << dir << ": " << s.status();
  if (!s.ok()) return "";
  std::string all;
  for (store::Cf cf : {store::Cf::kState, store::Cf::kIndex, store::Cf::kLog}) {
    EXPECT_TRUE((*s)->Scan(cf, "", "",
                           [&](std::string_view k, std::string_view v) {
                             all.append(k).append(v);
                             return true;
                           })
                    .ok());
  }
  return all;
}

TEST_F(SecurityTest, AnErasedPersonIsUnreadableInTheLogAndGoneFromEveryProjection) {
  const std::string ada = Token("acme", "ada");  // every scope
  const std::vector<std::string> traces = {"Zephyrine", "zephyrine", "Quistwood",
                                           "quistwood", "zq.erase",  "911234500"};
  auto create = [&](const std::string& given, const std::string& email) {
    return IdOf(Call("ContactService/CreateContact",
                     absl::StrCat("contact { personal { given_name: \"", given,
                                  "\" family_name: \"Quistwood\" emails { address: \"", email,
                                  "\" } phones { number: \"+34911234500\" } } tags: \"vip\" }"),
                     ada));
  };
  const std::string id = create("Zephyrine", "zq.erase@acme.example");
  const std::string twin = create("Zeph", "zq.erase.twin@acme.example");
  ASSERT_FALSE(id.empty());
  ASSERT_FALSE(twin.empty());
  ASSERT_TRUE(Call("ContactService/MergeContacts",
                   absl::StrCat("survivor_id: \"", id, "\" merged_id: \"", twin, "\""), ada)
                  .status.ok());
  ASSERT_TRUE(Call("InteractionService/LogInteraction",
                   absl::StrCat("interaction { contact_ids: \"", id,
                                "\" occurred_at { seconds: 1767225600 } channel: CHANNEL_CALL "
                                "direction: DIRECTION_INBOUND subject: \"renewal\" body: "
                                "\"talked-about-her-divorce\" }"),
                   ada)
                  .status.ok());
  ASSERT_TRUE(Call("InteractionService/OpenCase",
                   absl::StrCat("case { contact_id: \"", id,
                                "\" subject: \"complaint-about-knee\" description: "
                                "\"described-her-knee\" }"),
                   ada)
                  .status.ok());
  ASSERT_TRUE(Call("InteractionService/CreateTask",
                   absl::StrCat("task { title: \"visit-her-at-home\" assignee: \"sam\" "
                                "contact_id: \"",
                                id, "\" due_time { seconds: 1767225600 } }"),
                   ada)
                  .status.ok());
  // Free text about the person: not sealed on the log, but dropped by every projection.
  const std::vector<std::string> notes = {"renewal", "divorce", "complaint-about-knee",
                                          "described-her-knee", "visit-her-at-home"};
  const std::string by_id = absl::StrCat("id: \"", id, "\"");
  const std::string contact_id = absl::StrCat("contact_id: \"", id, "\"");
  // Until erased, the 360 shows who it is (analytics holds no personal data: it asks).
  Reply file;
  ASSERT_TRUE(WaitFor([&] {
    file = Call("AnalyticsService/GetCustomer360", contact_id, ada);
    return file.status.ok() && file.bytes.find("Zephyrine") != std::string::npos;
  })) << file.status.error_message();
  // The log never held the personal data in the clear.
  for (const auto& e : Events()) {
    for (const std::string& t : traces) {
      ASSERT_EQ(e.SerializeAsString().find(t), std::string::npos)
          << t << " is on the log in " << e.event_type();
    }
  }

  // The person may have everything the CRM holds on them (personal_data scope): every service's
  // part, in one JSON document.
  EXPECT_EQ(Call("ContactService/ExportContactData", by_id,
                 Token("acme", "rita", {"contacts.read", "analytics.read"}))
                .status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const Reply exported = Call("ContactService/ExportContactData", by_id, ada);
  ASSERT_TRUE(exported.status.ok()) << exported.status.error_message();
  const nlohmann::json doc = nlohmann::json::parse(
      dynamic_cast<const crm::contact::v1::ExportContactDataResponse&>(*exported.message).json());
  EXPECT_EQ(doc["contact_id"], id);
  EXPECT_TRUE(doc["unavailable"].empty()) << doc.dump();
  const nlohmann::json& parts = doc["services"];
  EXPECT_EQ(parts["contact"]["contact"]["personal"]["given_name"], "Zephyrine") << doc.dump();
  ASSERT_EQ(parts["contact"]["merged_contacts"].size(), 1u) << doc.dump();
  EXPECT_EQ(parts["contact"]["merged_contacts"][0]["id"], twin);
  EXPECT_GE(parts["contact"]["history"].size(), 3u) << doc.dump();  // two creations, a merge
  ASSERT_EQ(parts["interaction"]["interactions"].size(), 1u) << doc.dump();
  EXPECT_EQ(parts["interaction"]["interactions"][0]["subject"], "renewal");
  EXPECT_EQ(parts["interaction"]["cases"].size(), 1u) << doc.dump();
  EXPECT_EQ(parts["interaction"]["tasks"].size(), 1u) << doc.dump();
  EXPECT_TRUE(parts["sales"]["orders"].is_array()) << doc.dump();
  EXPECT_TRUE(parts["analytics"].contains("customer_360")) << doc.dump();

  // Erasure is for administrators, refused for a merged contact, and irreversible.
  const Reply denied =
      Call("ContactService/EraseContact", by_id,
           Token("acme", "rita", {"contacts.read", "contacts.write", "personal_data"}));
  EXPECT_EQ(denied.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Call("ContactService/EraseContact", absl::StrCat("id: \"", twin, "\""), ada)
                .status.error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  const Reply erased = Call("ContactService/EraseContact", by_id, ada);
  ASSERT_TRUE(erased.status.ok()) << erased.status.error_message();
  const auto& gone = dynamic_cast<const crm::contact::v1::Contact&>(*erased.message);
  EXPECT_TRUE(gone.erased());
  EXPECT_TRUE(gone.archived());
  EXPECT_FALSE(gone.has_personal());
  EXPECT_TRUE(gone.tags().empty());
  EXPECT_EQ(Call("ContactService/EraseContact", by_id, ada).status.error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Nothing answers with it any more (once the other services applied the erasure: each reads
  // the log on its own), and nothing new can be linked to it.
  EXPECT_TRUE(WaitFor([&] {
    const Reply r = Call("ContactService/ExportContactData", by_id, ada);
    return r.status.ok() && r.bytes.find("renewal") == std::string::npos &&
           r.bytes.find("visit-her-at-home") == std::string::npos;
  }));
  for (const auto& [method, request] : std::vector<std::pair<std::string, std::string>>{
           {"ContactService/GetContact", by_id},
           {"ContactService/GetContact", absl::StrCat("id: \"", twin, "\"")},
           {"ContactService/SearchContacts", R"pb(query: "quistwood" show_archived: true)pb"},
           {"ContactService/ListContacts", "show_archived: true"},
           {"ContactService/GetContactHistory", by_id},
           {"ContactService/ExportContactData", by_id},
           {"InteractionService/ListTimeline", contact_id},
           {"AnalyticsService/GetCustomer360", contact_id}}) {
    const Reply r = Call(method, request, ada);
    ASSERT_TRUE(r.status.ok()) << method << ": " << r.status.error_message();
    for (const std::string& t : traces) {
      EXPECT_EQ(r.bytes.find(t), std::string::npos) << method << " still shows " << t;
    }
    for (const std::string& t : notes) {
      EXPECT_EQ(r.bytes.find(t), std::string::npos) << method << " still shows " << t;
    }
  }
  const Reply update = Call("ContactService/UpdateContact",
                            absl::StrCat("contact { id: \"", id,
                                         "\" job_title: \"Back\" } update_mask { paths: "
                                         "\"job_title\" }"),
                            ada);
  EXPECT_EQ(update.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  const Reply link = Call("InteractionService/LogInteraction",
                          absl::StrCat("interaction { contact_ids: \"", id,
                                       "\" occurred_at { seconds: 1767225700 } channel: "
                                       "CHANNEL_CALL direction: DIRECTION_INBOUND }"),
                          ada);
  EXPECT_EQ(link.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(link.status.error_message().find("was erased"), std::string::npos)
      << link.status.error_message();
  // The log still holds the sealed events (it is never rewritten) and the erasure.
  bool erasure_logged = false;
  for (const auto& e : Events()) {
    erasure_logged |= e.event_type() == "crm.contact.v1.ContactErased" && e.aggregate_id() == id;
    for (const std::string& t : traces) {
      EXPECT_EQ(e.SerializeAsString().find(t), std::string::npos) << t << " is on the log";
    }
  }
  EXPECT_TRUE(erasure_logged);

  // A rebuild from the log, with the keys gone, comes back to the same state byte for byte.
  const std::string ops = Token("acme", "ops", {"admin"});
  auto checksum = [&](const std::string& projection) {
    const Reply r = Call("AdminService/GetProjectionStatus",
                         absl::StrCat("projection: \"", projection, "\""), ops);
    const auto* status =
        dynamic_cast<const crm::admin::v1::GetProjectionStatusResponse*>(r.message.get());
    return status == nullptr || status->rebuilding() ? "" : status->checksum();
  };
  for (const char* projection : {"contact", "interaction", "analytics"}) {
    const std::string before = checksum(projection);
    ASSERT_FALSE(before.empty()) << projection;
    ASSERT_TRUE(Call("AdminService/RebuildProjection",
                     absl::StrCat("projection: \"", projection, "\""), ops)
                    .status.ok());
    std::string after;
    EXPECT_TRUE(WaitFor([&] {
      after = checksum(projection);
      return after == before;
    })) << projection
        << " rebuilt to " << after << ", not " << before;
  }
  // Every projection, read directly once the node has stopped, holds nothing of them.
  ASSERT_EQ(node_->Stop(15, absl::Seconds(30)), 0) << node_->Log();
  for (const char* service : {"contact", "interaction", "sales", "analytics"}) {
    const std::string dump = DumpProjection(dir_.Sub("data") + "/" + service);
    EXPECT_NE(dump.find(id), std::string::npos) << service << " does not know the contact";
    for (const std::string& t : traces) {
      EXPECT_EQ(dump.find(t), std::string::npos) << service << " still holds " << t;
    }
    for (const std::string& t : notes) {
      EXPECT_EQ(dump.find(t), std::string::npos) << service << " still holds " << t;
    }
  }
}

TEST_F(SecurityTest, ApiKeysCarryTheirScopesAndTenantAndStopWorkingWhenRevokedOrExpired) {
  const std::string ops = Token("acme", "ops");  // admin included
  auto expiring = [](absl::Duration in) {
    return absl::StrCat("expire_time { seconds: ", absl::ToUnixSeconds(absl::Now() + in), " }");
  };
  const Reply created = Call(
      "AdminService/CreateApiKey",
      absl::StrCat(R"pb(name: "Partner sync" scopes: "contacts.read")pb", expiring(absl::Hours(1))),
      ops);
  ASSERT_TRUE(created.status.ok()) << created.status.error_message();
  const auto& made = dynamic_cast<const crm::admin::v1::CreateApiKeyResponse&>(*created.message);
  const std::string key = made.key();
  const std::string id = made.api_key().id();
  ASSERT_TRUE(key.starts_with("crmk_" + id + "_")) << key;
  EXPECT_EQ(made.api_key().created_by(), "ops");

  // The key acts in Acme with its scopes only.
  const Reply contact =
      Call("ContactService/CreateContact",
           R"pb(contact { personal { given_name: "Kay" family_name: "Partner" } })pb", ops);
  ASSERT_TRUE(contact.status.ok());
  const std::string by_id = absl::StrCat("id: \"", IdOf(contact), "\"");
  EXPECT_TRUE(Call("ContactService/GetContact", by_id, key).status.ok());
  const Reply denied =
      Call("ContactService/CreateContact",
           R"pb(contact { personal { given_name: "No" family_name: "Way" } })pb", key);
  EXPECT_EQ(denied.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(denied.status.error_message().find("apikey:" + id), std::string::npos)
      << denied.status.error_message();
  EXPECT_EQ(Call("AdminService/ListApiKeys", "", key).status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A changed secret is no key.
  std::string forged = key;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  const Reply bad = Call("ContactService/GetContact", by_id, forged);
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(bad.status.error_message().find("not valid"), std::string::npos);

  // Listed for Acme without the key; invisible to Globex, which cannot revoke it either. The
  // secret is what follows "<prefix><id>_" (it may itself hold '_': base64url).
  const std::string secret = key.substr(key.find(id) + id.size() + 1);
  ASSERT_GE(secret.size(), 40u);
  const Reply listed = Call("AdminService/ListApiKeys", "", ops);
  ASSERT_TRUE(listed.status.ok());
  EXPECT_NE(listed.bytes.find(id), std::string::npos);
  EXPECT_EQ(listed.bytes.find(secret), std::string::npos);
  const std::string globex = Token("globex", "gil");
  const Reply theirs = Call("AdminService/ListApiKeys", "", globex);
  ASSERT_TRUE(theirs.status.ok());
  EXPECT_EQ(theirs.bytes.find(id), std::string::npos);
  EXPECT_EQ(Call("AdminService/RevokeApiKey", absl::StrCat("id: \"", id, "\""), globex)
                .status.error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Only the key's hash is on the log.
  auto admin = crm::admin::v1::AdminService::NewStub(channel_);
  crm::admin::v1::ReadLogRequest read;
  read.set_topic("crm.access.v1");
  crm::admin::v1::ReadLogResponse log;
  auto ctx = Ctx();
  ctx->AddMetadata("authorization", "Bearer " + ops);
  ASSERT_TRUE(admin->ReadLog(ctx.get(), read, &log).ok());
  ASSERT_GE(log.entries_size(), 1);
  for (const auto& e : log.entries()) {
    EXPECT_EQ(e.event().SerializeAsString().find(secret), std::string::npos);
  }

  // Revoked: refused at once, and a second revocation says so.
  const std::string revoke = absl::StrCat("id: \"", id, "\"");
  ASSERT_TRUE(Call("AdminService/RevokeApiKey", revoke, ops).status.ok());
  const Reply after = Call("ContactService/GetContact", by_id, key);
  EXPECT_EQ(after.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(after.status.error_message().find("revoked"), std::string::npos);
  EXPECT_EQ(Call("AdminService/RevokeApiKey", revoke, ops).status.error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Expired: a key of two seconds stops working by itself.
  const Reply brief =
      Call("AdminService/CreateApiKey",
           absl::StrCat(R"pb(name: "Brief" scopes: "contacts.read")pb", expiring(absl::Seconds(2))),
           ops);
  ASSERT_TRUE(brief.status.ok()) << brief.status.error_message();
  const std::string brief_key =
      dynamic_cast<const crm::admin::v1::CreateApiKeyResponse&>(*brief.message).key();
  EXPECT_TRUE(WaitFor(
      [&] {
        const Reply r = Call("ContactService/GetContact", by_id, brief_key);
        return r.status.error_code() == grpc::StatusCode::UNAUTHENTICATED &&
               r.status.error_message().find("expired") != std::string::npos;
      },
      absl::Seconds(20)));
}

TEST_F(SecurityTest, ApiKeyRpcsRefuseBadInputByNameAndWriteNothing) {
  const std::string ops = Token("acme", "ops");
  const std::string future = absl::StrCat(
      " expire_time { seconds: ", absl::ToUnixSeconds(absl::Now() + absl::Hours(1)), " }");
  const std::vector<std::tuple<std::string, std::string, grpc::StatusCode, std::string>> rows = {
      {"CreateApiKey", R"pb(scopes: "contacts.read")pb" + future,
       grpc::StatusCode::INVALID_ARGUMENT, "name"},
      {"CreateApiKey",
       absl::StrCat("name: \"", std::string(101, 'x'), "\" scopes: \"admin\"", future),
       grpc::StatusCode::INVALID_ARGUMENT, "name"},
      {"CreateApiKey", R"pb(name: "k")pb" + future, grpc::StatusCode::INVALID_ARGUMENT, "scopes"},
      {"CreateApiKey", R"pb(name: "k" scopes: "contacts.read" scopes: "everything")pb" + future,
       grpc::StatusCode::INVALID_ARGUMENT, "scopes[1]"},
      {"CreateApiKey", R"pb(name: "k" scopes: "contacts.read")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "expire_time"},
      {"CreateApiKey", R"pb(name: "k"
                            scopes: "contacts.read"
                            expire_time { seconds: 1000 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "expire_time"},
      {"CreateApiKey", R"pb(name: "k"
                            scopes: "contacts.read"
                            expire_time { seconds: 99999999999 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "expire_time"},
      {"RevokeApiKey", "", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"RevokeApiKey", R"pb(id: "01ARZ3NDEKTSV4RRFFQ69G5FAV")pb", grpc::StatusCode::NOT_FOUND,
       "id"},
  };
  const size_t events = Events().size();
  for (const auto& [method, request, code, field] : rows) {
    const Reply r = Call("AdminService/" + method, request, ops);
    EXPECT_EQ(r.status.error_code(), code)
        << method << " " << request << ": " << r.status.error_message();
    EXPECT_TRUE(r.status.error_message().starts_with(field + ":"))
        << method << " " << request << ": " << r.status.error_message();
  }
  EXPECT_EQ(Events().size(), events);
}

TEST_F(SecurityTest, CrmctlReachesTheNodeWithTlsAClientCertificateAndAToken) {
  WriteFile(dir_.Sub("client.pem"), client_.cert_pem);
  WriteFile(dir_.Sub("client.key"), client_.key_pem);
  const std::vector<std::string> tls = {"--addr",     addr_,
                                        "--tls-ca",   dir_.Sub("ca.pem"),
                                        "--tls-cert", dir_.Sub("client.pem"),
                                        "--tls-key",  dir_.Sub("client.key")};
  const CommandResult token = RunCommand(
      BinaryPath("crmctl"), {"token", "--hs256-secret-file", dir_.Sub("secret"), "--tenant", "acme",
                             "--subject", "ada", "--scope", "contacts.write", "--scope",
                             "contacts.read", "--issuer", kIssuer, "--audience", kAudience});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  std::vector<std::string> create = tls;
  for (const char* a : {"--token", ""}) create.push_back(a);
  create.back() = std::string(absl::StripTrailingAsciiWhitespace(token.out));
  for (const char* a : {"contact", "create", "--given-name", "Ida", "--family-name", "Tls"}) {
    create.push_back(a);
  }
  const CommandResult created = RunCommand(BinaryPath("crmctl"), create);
  EXPECT_EQ(created.exit_code, 0) << created.err;
  std::vector<std::string> anonymous = tls;
  for (const char* a : {"contact", "search", "ida"}) anonymous.push_back(a);
  const CommandResult refused = RunCommand(BinaryPath("crmctl"), anonymous);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("UNAUTHENTICATED"), std::string::npos) << refused.err;
}

TEST_F(SecurityTest, AnImportMatchesAndUndoesOnlyInItsOwnTenant) {
  auto contacts = crm::contact::v1::ContactService::NewStub(channel_);
  // One row per tenant, the same email: the second tenant's row must not find the first's contact.
  auto import = [&](const std::string& token, const std::string& import_id, const std::string& name,
                    crm::contact::v1::ImportRecordsResponse* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    ctx.AddMetadata("authorization", "Bearer " + token);
    auto stream = contacts->ImportRecords(&ctx);
    crm::contact::v1::ImportRecordsRequest request;
    request.set_import_id(import_id);
    auto* row = request.add_rows();
    row->set_row(1);
    row->mutable_contact()->mutable_personal()->set_given_name(name);
    row->mutable_contact()->mutable_personal()->add_emails()->set_address("same@example.com");
    if (stream->Write(request)) stream->Read(out);
    stream->WritesDone();
    return stream->Finish();
  };
  const std::string acme = Token("acme", "ada");
  const std::string globex = Token("globex", "bob");
  crm::contact::v1::ImportRecordsResponse a, g;
  ASSERT_TRUE(import(acme, "tenants-1", "Ada", &a).ok());
  ASSERT_TRUE(import(globex, "tenants-1", "Bob", &g).ok());
  ASSERT_EQ(a.results_size(), 1);
  ASSERT_EQ(g.results_size(), 1);
  EXPECT_EQ(a.results(0).outcome(), crm::common::v1::IMPORT_OUTCOME_CREATED);
  EXPECT_EQ(g.results(0).outcome(), crm::common::v1::IMPORT_OUTCOME_CREATED) << g.DebugString();
  EXPECT_NE(g.results(0).id(), a.results(0).id());

  // Undo as Globex: only Globex's contact is archived; Acme's stays.
  crm::contact::v1::UndoImportRequest undo;
  undo.set_import_id("tenants-1");
  crm::contact::v1::UndoImportResponse undone;
  auto ctx = Ctx();
  ctx->AddMetadata("authorization", "Bearer " + globex);
  ASSERT_TRUE(contacts->UndoImport(ctx.get(), undo, &undone).ok());
  EXPECT_EQ(undone.summary().records(), 1);
  EXPECT_EQ(undone.summary().archived(), 1);
  crm::contact::v1::GetContactRequest get;
  get.set_id(a.results(0).id());
  crm::contact::v1::Contact ada;
  ctx = Ctx();
  ctx->AddMetadata("authorization", "Bearer " + acme);
  ASSERT_TRUE(contacts->GetContact(ctx.get(), get, &ada).ok());
  EXPECT_FALSE(ada.archived());
  // An import of another tenant is unknown here; importing needs the write scope.
  undo.set_import_id("only-acme");
  crm::contact::v1::ImportRecordsResponse only;
  ASSERT_TRUE(import(acme, "only-acme", "Adelaide", &only).ok());  // Ada's name changes
  ASSERT_EQ(only.results_size(), 1);
  EXPECT_EQ(only.results(0).outcome(), crm::common::v1::IMPORT_OUTCOME_UPDATED);
  ctx = Ctx();
  ctx->AddMetadata("authorization", "Bearer " + globex);
  EXPECT_EQ(contacts->UndoImport(ctx.get(), undo, &undone).error_code(),
            grpc::StatusCode::NOT_FOUND);
  crm::contact::v1::ImportRecordsResponse denied;
  EXPECT_EQ(
      import(Token("acme", "rita", {"contacts.read"}), "read-only", "Rita", &denied).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

TEST(RateLimitTest, ACallerBeyondItsRateIsRefusedAndOthersAreNot) {
  TempDir dir;
  WriteFile(dir.Sub("secret"), kSecret);
  Server node = StartNode(dir, {"--auth", "jwt", "--jwt-hs256-secret-file", dir.Sub("secret"),
                                "--rate-limit", "1", "--rate-burst", "3"});
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto get = [&](const std::string& token) {
    crm::contact::v1::GetContactRequest req;
    req.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
    crm::contact::v1::Contact out;
    auto ctx = Ctx();
    ctx->AddMetadata("authorization", "Bearer " + token);
    return node.contacts->GetContact(ctx.get(), req, &out);
  };
  auth::TokenClaims ada;
  ada.tenant = "acme";
  ada.subject = "ada";
  ada.scopes = {"contacts.read"};
  const std::string ada_token = *auth::MintToken(ada, kSecret);
  // The burst, then refusals (at one call a second, ten quick calls cannot all pass).
  std::vector<grpc::StatusCode> codes;
  grpc::Status refused;
  for (int i = 0; i < 10; ++i) {
    const grpc::Status s = get(ada_token);
    codes.push_back(s.error_code());
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) refused = s;
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(codes[i], grpc::StatusCode::NOT_FOUND) << i;
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(refused.error_message().starts_with(
      "rate limit: ada of tenant acme may make 1 calls per second (bursts of 3); retry in "))
      << refused.error_message();
  // Another caller, and the health check, are not held back.
  auth::TokenClaims bob = ada;
  bob.subject = "bob";
  EXPECT_EQ(get(*auth::MintToken(bob, kSecret)).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(HealthStatus(*node.channel), 1);
  // The bucket refills.
  EXPECT_TRUE(WaitFor([&] { return get(ada_token).error_code() == grpc::StatusCode::NOT_FOUND; },
                      absl::Seconds(10)));
}

TEST(TenantModelsTest, EveryTenantsPurchaseModelIsRefittedByItself) {
  TempDir dir;
  WriteFile(dir.Sub("secret"), kSecret);
  Server node = StartNode(dir, {"--auth", "jwt", "--jwt-hs256-secret-file", dir.Sub("secret"),
                                "--model-refit-interval", "1"});
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auth::TokenClaims claims;
  claims.tenant = "globex";
  claims.subject = "gil";
  claims.scopes = auth::AllScopes();
  const std::string token = *auth::MintToken(claims, kSecret);
  auto ctx = [&] {
    auto c = Ctx();
    c->AddMetadata("authorization", "Bearer " + token);
    return c;
  };
  auto sales = crm::sales::v1::SalesService::NewStub(node.channel);
  auto analytics = crm::analytics::v1::AnalyticsService::NewStub(node.channel);
  for (int i = 0; i < 12; ++i) {
    crm::contact::v1::CreateContactRequest create;
    create.mutable_contact()->mutable_personal()->set_given_name("Buyer");
    create.mutable_contact()->mutable_personal()->set_family_name(std::to_string(i));
    crm::contact::v1::CreateContactResponse created;
    ASSERT_TRUE(node.contacts->CreateContact(ctx().get(), create, &created).ok());
    for (int k = 0; k <= i % 3; ++k) {
      crm::sales::v1::PlaceOrderRequest place;
      place.mutable_order()->set_contact_id(created.contact().id());
      place.mutable_order()->mutable_order_time()->set_seconds(1767225600 + (i + 15 * k) * 86400);
      auto* line = place.mutable_order()->add_line_items();
      line->set_product_id("P");
      line->set_quantity(1);
      line->mutable_unit_price()->set_currency_code("EUR");
      line->mutable_unit_price()->set_minor_units(900);
      crm::sales::v1::Order order;
      const grpc::Status placed = sales->PlaceOrder(ctx().get(), place, &order);
      ASSERT_TRUE(placed.ok()) << placed.error_message();
    }
  }
  // Globex is not the process's default tenant: its model comes from the loop over tenants.
  crm::analytics::v1::GetModelRequest get;
  get.set_currency_code("EUR");
  crm::analytics::v1::PurchaseModel model;
  EXPECT_TRUE(WaitFor(
      [&] { return analytics->GetModel(ctx().get(), get, &model).ok() && model.customers() == 12; },
      absl::Seconds(30)))
      << model.DebugString() << node.process->Log();
}

TEST(ApiKeyLogTest, AKeyMadeOnOneServiceWorksOnTheOthersAndSurvivesRestarts) {
  TempDir dir;
  WriteFile(dir.Sub("secret"), kSecret);
  DevBroker broker = StartDevBroker(dir.path());
  ASSERT_FALSE(broker.brokers.empty());
  const std::vector<std::string> auth = {"--auth", "jwt", "--jwt-hs256-secret-file",
                                         dir.Sub("secret")};
  Server contact =
      StartServer("crm-contact", KafkaServiceArgs(dir.Sub("c"), broker.brokers, auth), dir.path());
  Server sales =
      StartServer("crm-sales", KafkaServiceArgs(dir.Sub("s"), broker.brokers, auth), dir.path());
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auth::TokenClaims ops;
  ops.tenant = "acme";
  ops.subject = "ops";
  ops.scopes = {"admin"};
  auto as = [](const std::string& token) {
    auto ctx = Ctx();
    ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
  };
  crm::admin::v1::CreateApiKeyRequest create;
  create.set_name("Orders feed");
  create.add_scopes("sales.read");
  create.mutable_expire_time()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  crm::admin::v1::CreateApiKeyResponse made;
  const grpc::Status s =
      contact.admin->CreateApiKey(as(*auth::MintToken(ops, kSecret)).get(), create, &made);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // The sales service learns the key from the access log.
  // A read the key's scope allows: NOT_FOUND once the key is known, UNAUTHENTICATED before.
  auto get_order = [&](Server& server) {
    auto stub = crm::sales::v1::SalesService::NewStub(server.channel);
    crm::sales::v1::GetOrderRequest req;
    req.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
    crm::sales::v1::Order out;
    return stub->GetOrder(as(made.key()).get(), req, &out).error_code();
  };
  EXPECT_TRUE(WaitFor([&] { return get_order(sales) == grpc::StatusCode::NOT_FOUND; }))
      << sales.process->Log();
  // And keeps it across a restart (the store is rebuilt from the log).
  ASSERT_EQ(sales.process->Stop(SIGTERM), 0);
  sales =
      StartServer("crm-sales", KafkaServiceArgs(dir.Sub("s"), broker.brokers, auth), dir.path());
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_EQ(get_order(sales), grpc::StatusCode::NOT_FOUND);
}

// Bad security settings stop the start with exit code 2 and a sentence naming the setting.
TEST(SecurityConfigTest, BadSettingsFailFastNamingTheSetting) {
  TempDir dir;
  const Certificate ca = NewCa("config CA");
  const Certificate one = Issue(ca, "one");
  const Certificate two = Issue(ca, "two");
  WriteFile(dir.Sub("one.pem"), one.cert_pem);
  WriteFile(dir.Sub("two.key"), two.key_pem);
  WriteFile(dir.Sub("short"), "too short");
  const std::string data = dir.Sub("data");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--listen", "0.0.0.0:0"}, "--plaintext"},
      {{"--tls-cert", dir.Sub("one.pem")}, "--tls-key"},
      {{"--tls-client-ca", dir.Sub("one.pem")}, "--tls-client-ca"},
      {{"--tls-cert", dir.Sub("one.pem"), "--tls-key", dir.Sub("two.key")},
       "--tls-key: is not the key of the --tls-cert certificate"},
      {{"--tls-cert", dir.Sub("missing.pem"), "--tls-key", dir.Sub("two.key")}, "--tls-cert"},
      {{"--auth", "basic"}, "--auth/CRM_AUTH"},
      {{"--auth", "jwt"}, "needs a key"},
      {{"--auth", "jwt", "--jwt-hs256-secret-file", dir.Sub("short")}, "too short"},
      {{"--auth", "jwt", "--jwt-hs256-secret-file", dir.Sub("missing")}, "--jwt-hs256-secret-file"},
      {{"--auth", "jwt", "--jwt-rs256-public-key-file", dir.Sub("one.pem")}, "RSA public key"},
      {{"--rate-burst", "10"}, "--rate-burst/CRM_RATE_BURST needs --rate-limit"},
  };
  for (const auto& [flags, says] : cases) {
    std::vector<std::string> args = {"--data-dir", data};
    if (flags[0] != "--listen") args.insert(args.end(), {"--listen", "127.0.0.1:0"});
    args.insert(args.end(), flags.begin(), flags.end());
    const CommandResult r = RunCommand(BinaryPath("crm-node"), args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(flags, " ") << ": " << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos)
        << absl::StrJoin(flags, " ") << " does not say " << says << ": " << r.err;
  }
}

}  // namespace
}  // namespace crm::testing
