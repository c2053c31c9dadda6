#include "services/analytics/automation/actions.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpcpp/client_context.h"

namespace crm::analytics::automation {

GrpcActionPerformer::GrpcActionPerformer(std::shared_ptr<grpc::Channel> interaction,
                                         std::shared_ptr<grpc::Channel> contact,
                                         std::map<std::string, std::string> tokens,
                                         std::string default_tenant, absl::Duration timeout)
    : interaction_(interaction ? crm::interaction::v1::InteractionService::NewStub(interaction)
                               : nullptr),
      contact_(contact ? crm::contact::v1::ContactService::NewStub(contact) : nullptr),
      tokens_(std::move(tokens)),
      default_tenant_(std::move(default_tenant)),
      timeout_(timeout) {}

namespace {
absl::Status FromGrpc(const char* method, const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(method, ": ", s.error_message()));
}
}  // namespace

absl::Status GrpcActionPerformer::Prepare(const std::string& tenant,
                                          grpc::ClientContext& call) const {
  call.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  if (auto token = tokens_.find(tenant); token != tokens_.end()) {
    call.AddMetadata("authorization", absl::StrCat("Bearer ", token->second));
  } else if (!tokens_.empty() || tenant != default_tenant_) {
    return absl::PermissionDeniedError(absl::StrCat("no automation credential for tenant \"",
                                                    tenant, "\" (--automation-token-file)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GrpcActionPerformer::CreateTask(const std::string& tenant,
                                                            const crm::interaction::v1::Task& task,
                                                            const std::string& request_id) {
  if (!interaction_) {
    return absl::FailedPreconditionError("no interaction service to create tasks with");
  }
  grpc::ClientContext call;
  if (absl::Status s = Prepare(tenant, call); !s.ok()) return s;
  crm::interaction::v1::CreateTaskRequest request;
  *request.mutable_task() = task;
  request.set_request_id(request_id);
  crm::interaction::v1::Task created;
  const grpc::Status s = interaction_->CreateTask(&call, request, &created);
  if (!s.ok()) return FromGrpc("CreateTask", s);
  return absl::StrCat("tasks/", created.id());
}

absl::StatusOr<std::string> GrpcActionPerformer::ChangeContact(
    const std::string& tenant, const crm::analytics::v1::PlannedContactChange& change,
    const std::string& request_id) {
  if (!contact_) {
    return absl::FailedPreconditionError(
        "no contact service to change contacts with (--contact-address)");
  }
  const std::string resource = absl::StrCat("contacts/", change.contact_id());
  absl::StatusOr<crm::contact::v1::Contact> got = GetContact(tenant, change.contact_id());
  if (!got.ok()) return got.status();
  const crm::contact::v1::Contact& current = *got;
  // Made only where it is not so already: a change made before a crash is not made again.
  crm::contact::v1::UpdateContactRequest update;
  update.mutable_contact()->set_id(change.contact_id());
  if (!change.add_tag().empty()) {
    for (const std::string& tag : current.tags()) {
      if (tag == change.add_tag()) return resource;
    }
    *update.mutable_contact()->mutable_tags() = current.tags();
    update.mutable_contact()->add_tags(change.add_tag());
    update.mutable_update_mask()->add_paths("tags");
  } else {
    if (current.lifecycle_stage() == change.lifecycle_stage()) return resource;
    update.mutable_contact()->set_lifecycle_stage(change.lifecycle_stage());
    update.mutable_update_mask()->add_paths("lifecycle_stage");
  }
  update.set_expected_version(current.version());
  update.set_request_id(absl::StrCat(request_id, ":v", current.version()));
  grpc::ClientContext call;
  if (absl::Status s = Prepare(tenant, call); !s.ok()) return s;
  crm::contact::v1::Contact updated;
  if (grpc::Status s = contact_->UpdateContact(&call, update, &updated); !s.ok()) {
    return FromGrpc("UpdateContact", s);
  }
  return resource;
}

absl::StatusOr<crm::contact::v1::Contact> GrpcActionPerformer::GetContact(
    const std::string& tenant, const std::string& contact_id) {
  if (!contact_) {
    return absl::FailedPreconditionError(
        "no contact service to read contacts from (--contact-address)");
  }
  grpc::ClientContext call;
  if (absl::Status s = Prepare(tenant, call); !s.ok()) return s;
  crm::contact::v1::GetContactRequest get;
  get.set_id(contact_id);
  crm::contact::v1::Contact contact;
  if (grpc::Status s = contact_->GetContact(&call, get, &contact); !s.ok()) {
    return FromGrpc("GetContact", s);
  }
  return contact;
}

absl::StatusOr<std::map<std::string, std::string>> ParseAutomationTokens(const std::string& text) {
  std::map<std::string, std::string> tokens;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("--automation-token-file line ", number, ": expected \"TENANT TOKEN\""));
    }
    if (!tokens.emplace(parts[0], parts[1]).second) {
      return absl::InvalidArgumentError(absl::StrCat("--automation-token-file line ", number,
                                                     ": tenant \"", parts[0], "\" again"));
    }
  }
  return tokens;
}

}  // namespace crm::analytics::automation
