// ActionPerformer: how the automation engine acts on other services. The real implementation
// calls their gRPC APIs (GrpcActionPerformer); every call carries the request id the engine
// derives from the rule, the triggering event and the action, so a call made again after a
// crash or a lost answer is answered with its first outcome and acts once.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/analytics/v1/events.pb.h"
#include "crm/contact/v1/contact_service.grpc.pb.h"
#include "crm/interaction/v1/interaction_service.grpc.pb.h"
#include "crm/interaction/v1/resources.pb.h"
#include "grpcpp/channel.h"

namespace crm::analytics::automation {

class ActionPerformer {
 public:
  virtual ~ActionPerformer() = default;
  // Creates `task` in `tenant`; answers "tasks/<id>". The service's status on failure.
  virtual absl::StatusOr<std::string> CreateTask(const std::string& tenant,
                                                 const crm::interaction::v1::Task& task,
                                                 const std::string& request_id) = 0;
  // Makes `change` to its contact in `tenant` where it is not so already; answers
  // "contacts/<id>". `request_id` is qualified with the version the change is made at.
  virtual absl::StatusOr<std::string> ChangeContact(
      const std::string& tenant, const crm::analytics::v1::PlannedContactChange& change,
      const std::string& request_id) = 0;
  // The contact as the contact service holds it now, personal data included (the credential
  // needs the personal_data scope). The service's status on failure.
  virtual absl::StatusOr<crm::contact::v1::Contact> GetContact(const std::string& tenant,
                                                               const std::string& contact_id) = 0;
};

// Calls crm.interaction.v1.InteractionService over `interaction` and crm.contact.v1.ContactService
// over `contact` (null: contact actions fail FAILED_PRECONDITION), as the tenant whose bearer token
// `tokens` holds (tenant -> JWT). Without any token the service's own default tenant is the
// only one it can act for: `default_tenant`. A run of a tenant it has no credential for fails
// with PERMISSION_DENIED before any call.
class GrpcActionPerformer final : public ActionPerformer {
 public:
  GrpcActionPerformer(std::shared_ptr<grpc::Channel> interaction,
                      std::shared_ptr<grpc::Channel> contact,
                      std::map<std::string, std::string> tokens, std::string default_tenant,
                      absl::Duration timeout);
  absl::StatusOr<std::string> CreateTask(const std::string& tenant,
                                         const crm::interaction::v1::Task& task,
                                         const std::string& request_id) override;
  absl::StatusOr<std::string> ChangeContact(const std::string& tenant,
                                            const crm::analytics::v1::PlannedContactChange& change,
                                            const std::string& request_id) override;
  absl::StatusOr<crm::contact::v1::Contact> GetContact(const std::string& tenant,
                                                       const std::string& contact_id) override;

 private:
  // A call context for `tenant`: its token and the deadline; PERMISSION_DENIED without one.
  absl::Status Prepare(const std::string& tenant, grpc::ClientContext& call) const;

  const std::unique_ptr<crm::interaction::v1::InteractionService::Stub> interaction_;
  const std::unique_ptr<crm::contact::v1::ContactService::Stub> contact_;
  const std::map<std::string, std::string> tokens_;
  const std::string default_tenant_;
  const absl::Duration timeout_;
};

// Reads an automation token file: one "TENANT TOKEN" per line (blank lines and lines starting
// with '#' ignored). INVALID_ARGUMENT naming the line when one is malformed.
absl::StatusOr<std::map<std::string, std::string>> ParseAutomationTokens(const std::string& text);

}  // namespace crm::analytics::automation
