// Helpers for the integration tests: start the real binaries and talk to them over gRPC.
#pragma once

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "crm/admin/v1/admin_service.grpc.pb.h"
#include "crm/contact/v1/contact_service.grpc.pb.h"
#include "crm/interaction/v1/interaction_service.grpc.pb.h"
#include "tests/testing/testing.h"

namespace crm::testing {

using crm::contact::v1::Contact;

// The full names of every public service (the four services, the webhooks and automation of the
// analytics service, and the admin service); their descriptors are linked into the generated pool.
extern const char* const kServices[7];

// The method "Service/Method" (the service without its package) of one of kServices, or null.
const google::protobuf::MethodDescriptor* FindMethod(const std::string& method);

// A running server binary and a client for it.
struct Server {
  std::unique_ptr<Process> process;
  std::string addr;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<crm::contact::v1::ContactService::Stub> contacts;
  std::unique_ptr<crm::admin::v1::AdminService::Stub> admin;
  std::unique_ptr<crm::interaction::v1::InteractionService::Stub> interactions;
};

// Starts `binary` (one of ours by name, or an absolute path such as a shell that execs one of
// ours) with `args` (which must include --listen 127.0.0.1:0) and waits until its
// health check is SERVING. ASSERTs inside; check HasFatalFailure() after.
Server StartServer(const std::string& binary, std::vector<std::string> args,
                   const std::string& log_dir);

// crm-node on a free loopback port with its data under <dir>/data and its log in `dir`, with
// `extra` arguments; SERVING when it returns (ASSERTs inside, as StartServer).
Server StartNode(const TempDir& dir, std::vector<std::string> extra = {});

// crm-devbroker on loopback (with `args`, e.g. {"--control"}) and its bootstrap address, which
// is empty (and a failure recorded) if it did not start.
struct DevBroker {
  std::unique_ptr<Process> process;
  std::string brokers;
};
DevBroker StartDevBroker(const std::string& log_dir, std::vector<std::string> args = {});

// Events the projection has seen (applied or refused); -1 (and a failure recorded) if the status
// cannot be read.
int64_t EventsSeen(Server& server, const std::string& projection = "contact");

// The arguments of a service binary on the dev broker at `brokers`, with its data under
// `data_dir`, on a free loopback port; `extra` appended.
std::vector<std::string> KafkaServiceArgs(const std::string& data_dir, const std::string& brokers,
                                          std::vector<std::string> extra = {});

// grpc.health.v1.Health/Check for the overall server: 1 SERVING, 2 NOT_SERVING, -1 error.
// `service` ("" for the whole server; "liveness" is SERVING while the process answers).
int HealthStatus(grpc::Channel& channel, const std::string& service = "");

// The admin status of a projection ("contact" unless named), or an error status.
grpc::Status ProjectionStatus(Server& server, crm::admin::v1::GetProjectionStatusResponse* out,
                              const std::string& projection = "contact");

// Waits until the projection has applied everything its log holds.
bool WaitCaughtUp(Server& server, absl::Duration timeout = absl::Seconds(30),
                  const std::string& projection = "contact");

// Expects INVALID_ARGUMENT with a message that starts with `field` (the field it names).
void ExpectInvalid(const grpc::Status& status, const std::string& field);

// A client context with a deadline.
std::unique_ptr<grpc::ClientContext> Ctx(absl::Duration timeout = absl::Seconds(20));

// Convenience calls; each returns the status and fills `out`.
grpc::Status CreateContact(Server& s, const std::string& given, const std::string& family,
                           const std::string& email, Contact* out,
                           const std::string& request_id = "");
grpc::Status UpdateJobTitle(Server& s, const std::string& id, const std::string& title,
                            int64_t expected_version, Contact* out,
                            const std::string& request_id = "");
grpc::Status GetContact(Server& s, const std::string& id, Contact* out);

}  // namespace crm::testing
