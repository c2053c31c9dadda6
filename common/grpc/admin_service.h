// AdminService (crm.admin.v1): projection status for operators and tests.
#pragma once

#include <map>
#include <string>

#include "common/projection/projector.h"
#include "crm/admin/v1/admin_service.grpc.pb.h"

namespace crm::grpcutil {

class AdminServiceImpl final : public crm::admin::v1::AdminService::CallbackService {
 public:
  // Makes `projector` visible under its name. Not thread-safe: register before serving.
  void Register(projection::Projector* projector) { projectors_[projector->name()] = projector; }

  grpc::ServerUnaryReactor* GetProjectionStatus(
      grpc::CallbackServerContext* context,
      const crm::admin::v1::GetProjectionStatusRequest* request,
      crm::admin::v1::GetProjectionStatusResponse* response) override;

  grpc::ServerUnaryReactor* ListDeadLetters(
      grpc::CallbackServerContext* context, const crm::admin::v1::ListDeadLettersRequest* request,
      crm::admin::v1::ListDeadLettersResponse* response) override;

 private:
  // The projector named `name`; NOT_FOUND naming the ones held here.
  absl::StatusOr<projection::Projector*> Find(const std::string& name) const;

  std::map<std::string, projection::Projector*> projectors_;
};

}  // namespace crm::grpcutil
