#include "tests/integration/contact_client.h"

#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <future>

#include "crm/analytics/v1/analytics_service.pb.h"
#include "crm/analytics/v1/automation_service.pb.h"
#include "crm/analytics/v1/webhook_service.pb.h"
#include "crm/sales/v1/sales_service.pb.h"

namespace crm::testing {

const char* const kServices[7] = {
    "crm.contact.v1.ContactService",   "crm.interaction.v1.InteractionService",
    "crm.sales.v1.SalesService",       "crm.analytics.v1.AnalyticsService",
    "crm.analytics.v1.WebhookService", "crm.analytics.v1.AutomationService",
    "crm.admin.v1.AdminService"};

const google::protobuf::MethodDescriptor* FindMethod(const std::string& method) {
  // A static library's unreferenced objects are left out: these references link each service's
  // descriptors into the generated pool.
  static const bool linked = crm::contact::v1::CreateContactRequest::descriptor() != nullptr &&
                             crm::interaction::v1::LogInteractionRequest::descriptor() != nullptr &&
                             crm::sales::v1::PlaceOrderRequest::descriptor() != nullptr &&
                             crm::analytics::v1::GetCustomer360Request::descriptor() != nullptr &&
                             crm::analytics::v1::CreateWebhookRequest::descriptor() != nullptr &&
                             crm::analytics::v1::CreateRuleRequest::descriptor() != nullptr &&
                             crm::admin::v1::ListDeadLettersRequest::descriptor() != nullptr;
  if (!linked) return nullptr;
  const size_t slash = method.find('/');
  for (const char* service : kServices) {
    const google::protobuf::ServiceDescriptor* s =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
    if (s != nullptr && s->name() == method.substr(0, slash)) {
      return s->FindMethodByName(method.substr(slash + 1));
    }
  }
  return nullptr;
}

Server StartServer(const std::string& binary, std::vector<std::string> args,
                   const std::string& log_dir) {
  Server s;
  s.process = std::make_unique<Process>(binary.starts_with('/') ? binary : BinaryPath(binary),
                                        std::move(args), std::vector<std::string>{}, log_dir);
  s.addr = ReadListenAddress(*s.process);
  EXPECT_FALSE(s.addr.empty()) << binary << " did not start:\n" << s.process->Log();
  if (s.addr.empty()) return s;
  s.channel = grpc::CreateChannel(s.addr, grpc::InsecureChannelCredentials());
  s.contacts = crm::contact::v1::ContactService::NewStub(s.channel);
  s.admin = crm::admin::v1::AdminService::NewStub(s.channel);
  s.interactions = crm::interaction::v1::InteractionService::NewStub(s.channel);
  EXPECT_TRUE(WaitFor([&] { return HealthStatus(*s.channel) == 1; }))
      << binary << " never became SERVING:\n"
      << s.process->Log();
  return s;
}

int HealthStatus(grpc::Channel& channel, const std::string& service) {
  // HealthCheckRequest{service} is field 1, a string (no bytes at all for ""); the response's
  // field 1 is the status.
  grpc::GenericStub stub(channel.shared_from_this());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  std::string encoded;
  if (!service.empty()) {
    encoded = std::string(1, '\x0a') + static_cast<char>(service.size()) + service;
  }
  grpc::Slice encoded_slice(encoded);
  grpc::ByteBuffer request(&encoded_slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status st) { done.set_value(std::move(st)); });
  if (!done.get_future().get().ok()) return -1;
  grpc::Slice slice;
  if (!response.TrySingleSlice(&slice).ok()) {
    if (!response.DumpToSingleSlice(&slice).ok()) return -1;
  }
  if (slice.size() == 2 && slice.begin()[0] == 0x08) return slice.begin()[1];
  return slice.size() == 0 ? 0 : -1;
}

std::unique_ptr<grpc::ClientContext> Ctx(absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  return ctx;
}

grpc::Status ProjectionStatus(Server& server, crm::admin::v1::GetProjectionStatusResponse* out,
                              const std::string& projection) {
  crm::admin::v1::GetProjectionStatusRequest req;
  req.set_projection(projection);
  return server.admin->GetProjectionStatus(Ctx().get(), req, out);
}

bool WaitCaughtUp(Server& server, absl::Duration timeout, const std::string& projection) {
  return WaitFor(
      [&] {
        crm::admin::v1::GetProjectionStatusResponse status;
        if (!ProjectionStatus(server, &status, projection).ok()) return false;
        for (const auto& p : status.partitions()) {
          if (p.end_offset() < 0 || p.next_offset() < p.end_offset()) return false;
        }
        return true;
      },
      timeout);
}

grpc::Status CreateContact(Server& s, const std::string& given, const std::string& family,
                           const std::string& email, Contact* out, const std::string& request_id) {
  crm::contact::v1::CreateContactRequest req;
  req.mutable_contact()->mutable_personal()->set_given_name(given);
  req.mutable_contact()->mutable_personal()->set_family_name(family);
  if (!email.empty()) req.mutable_contact()->mutable_personal()->add_emails()->set_address(email);
  req.set_request_id(request_id);
  crm::contact::v1::CreateContactResponse response;
  grpc::Status status = s.contacts->CreateContact(Ctx().get(), req, &response);
  *out = response.contact();
  return status;
}

grpc::Status UpdateJobTitle(Server& s, const std::string& id, const std::string& title,
                            int64_t expected_version, Contact* out, const std::string& request_id) {
  crm::contact::v1::UpdateContactRequest req;
  req.mutable_contact()->set_id(id);
  req.mutable_contact()->set_job_title(title);
  req.mutable_update_mask()->add_paths("job_title");
  req.set_expected_version(expected_version);
  req.set_request_id(request_id);
  return s.contacts->UpdateContact(Ctx().get(), req, out);
}

grpc::Status GetContact(Server& s, const std::string& id, Contact* out) {
  crm::contact::v1::GetContactRequest req;
  req.set_id(id);
  return s.contacts->GetContact(Ctx().get(), req, out);
}

void ExpectInvalid(const grpc::Status& status, const std::string& field) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(status.error_message().rfind(field, 0), 0u) << status.error_message();
}

Server StartNode(const TempDir& dir, std::vector<std::string> extra) {
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--data-dir", dir.Sub("data")};
  args.insert(args.end(), extra.begin(), extra.end());
  return StartServer("crm-node", std::move(args), dir.path());
}

DevBroker StartDevBroker(const std::string& log_dir, std::vector<std::string> args) {
  DevBroker b;
  b.process = std::make_unique<Process>(BinaryPath("crm-devbroker"), std::move(args),
                                        std::vector<std::string>{}, log_dir);
  b.brokers = b.process->ReadLine();
  EXPECT_FALSE(b.brokers.empty()) << "crm-devbroker did not start:\n" << b.process->Log();
  return b;
}

int64_t EventsSeen(Server& server, const std::string& projection) {
  crm::admin::v1::GetProjectionStatusResponse status;
  const grpc::Status s = ProjectionStatus(server, &status, projection);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return s.ok() ? status.events_seen() : -1;
}

std::vector<std::string> KafkaServiceArgs(const std::string& data_dir, const std::string& brokers,
                                          std::vector<std::string> extra) {
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--data-dir",      data_dir,
                                   "--log",    "kafka",       "--kafka-brokers", brokers};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace crm::testing
