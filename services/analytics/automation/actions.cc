#include "services/analytics/automation/actions.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpcpp/client_context.h"

namespace crm::analytics::automation {

GrpcActionPerformer::GrpcActionPerformer(std::shared_ptr<grpc::Channel> channel,
                                         std::map<std::string, std::string> tokens,
                                         std::string default_tenant, absl::Duration timeout)
    : interaction_(crm::interaction::v1::InteractionService::NewStub(channel)),
      tokens_(std::move(tokens)),
      default_tenant_(std::move(default_tenant)),
      timeout_(timeout) {}

absl::StatusOr<std::string> GrpcActionPerformer::CreateTask(const std::string& tenant,
                                                            const crm::interaction::v1::Task& task,
                                                            const std::string& request_id) {
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  if (auto token = tokens_.find(tenant); token != tokens_.end()) {
    call.AddMetadata("authorization", absl::StrCat("Bearer ", token->second));
  } else if (!tokens_.empty() || tenant != default_tenant_) {
    return absl::PermissionDeniedError(absl::StrCat("no automation credential for tenant \"",
                                                    tenant, "\" (--automation-token-file)"));
  }
  crm::interaction::v1::CreateTaskRequest request;
  *request.mutable_task() = task;
  request.set_request_id(request_id);
  crm::interaction::v1::Task created;
  const grpc::Status s = interaction_->CreateTask(&call, request, &created);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        absl::StrCat("CreateTask: ", s.error_message()));
  }
  return absl::StrCat("tasks/", created.id());
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
