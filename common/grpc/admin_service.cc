#include "common/grpc/admin_service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/grpc/status.h"

namespace crm::grpcutil {

grpc::ServerUnaryReactor* AdminServiceImpl::GetProjectionStatus(
    grpc::CallbackServerContext* context, const crm::admin::v1::GetProjectionStatusRequest* request,
    crm::admin::v1::GetProjectionStatusResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const auto it = projectors_.find(request->projection());
  if (it == projectors_.end()) {
    std::vector<std::string> names;
    for (const auto& [name, _] : projectors_) names.push_back(name);
    reactor->Finish(ToGrpcStatus(absl::NotFoundError(
        absl::StrCat("projection: \"", request->projection(),
                     "\" is not held here; known: ", absl::StrJoin(names, ", ")))));
    return reactor;
  }
  absl::StatusOr<crm::admin::v1::GetProjectionStatusResponse> status = it->second->Status();
  if (status.ok()) *response = std::move(*status);
  reactor->Finish(ToGrpcStatus(status.status()));
  return reactor;
}

}  // namespace crm::grpcutil
