#include "common/grpc/admin_service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/grpc/status.h"
#include "common/status/status_macros.h"
#include "common/validation/request_fields.h"

namespace crm::grpcutil {

absl::StatusOr<projection::Projector*> AdminServiceImpl::Find(const std::string& name) const {
  const auto it = projectors_.find(name);
  if (it != projectors_.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [known, _] : projectors_) names.push_back(known);
  return absl::NotFoundError(absl::StrCat(
      "projection: \"", name, "\" is not held here; known: ", absl::StrJoin(names, ", ")));
}

grpc::ServerUnaryReactor* AdminServiceImpl::GetProjectionStatus(
    grpc::CallbackServerContext* context, const crm::admin::v1::GetProjectionStatusRequest* request,
    crm::admin::v1::GetProjectionStatusResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<projection::Projector*> projector = Find(request->projection());
  absl::StatusOr<crm::admin::v1::GetProjectionStatusResponse> status =
      projector.ok() ? (*projector)->Status() : projector.status();
  if (status.ok()) *response = std::move(*status);
  reactor->Finish(ToGrpcStatus(status.status()));
  return reactor;
}

namespace {

absl::Status ListDeadLettersOf(const projection::Projector& projector,
                               const crm::admin::v1::ListDeadLettersRequest& request,
                               crm::admin::v1::ListDeadLettersResponse& response) {
  ASSIGN_OR_RETURN(const size_t page_size, validation::PageSize(request.page_size(), 1000, 100));
  std::string after;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(after, validation::ReadPageToken(request.page_token(), 'D',
                                                      validation::PagingIdentity(request)));
  }
  // One more than a page says whether another page follows.
  ASSIGN_OR_RETURN(auto found, projector.DeadLetters(after, page_size + 1));
  const bool more = found.size() > page_size;
  if (more) found.resize(page_size);
  for (auto& [key, dead_letter] : found) *response.add_dead_letters() = std::move(dead_letter);
  if (more) {
    response.set_next_page_token(
        validation::MakePageToken('D', validation::PagingIdentity(request), found.back().first));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::ListDeadLetters(
    grpc::CallbackServerContext* context, const crm::admin::v1::ListDeadLettersRequest* request,
    crm::admin::v1::ListDeadLettersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<projection::Projector*> projector = Find(request->projection());
  absl::Status status =
      projector.ok() ? ListDeadLettersOf(**projector, *request, *response) : projector.status();
  if (!status.ok()) response->Clear();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace crm::grpcutil
