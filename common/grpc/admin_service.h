// AdminService (crm.admin.v1): what operators need to look after a process: the projections'
// progress and checksums, dead letters, the log decoded, rebuilds and checkpoints.
#pragma once

#include <map>
#include <string>

#include "common/access/api_keys.h"
#include "common/eventlog/event_log.h"
#include "common/projection/projector.h"
#include "common/store/checkpoint.h"
#include "crm/admin/v1/admin_service.grpc.pb.h"

namespace crm::grpcutil {

// INVALID_ARGUMENT naming the field of `request` that is wrong (what needs no log to check).
absl::Status ValidateReadLog(const crm::admin::v1::ReadLogRequest& request);

class AdminServiceImpl final : public crm::admin::v1::AdminService::CallbackService {
 public:
  // `log` (which must outlive the service) is read by ReadLog and checkpointed with the
  // projections when it lives in the process; checkpoints go under `backup_dir`.
  AdminServiceImpl(eventlog::EventLog* log, std::string backup_dir)
      : log_(log), backup_dir_(std::move(backup_dir)) {}

  // Makes `projector` visible under its name. Not thread-safe: register before serving.
  void Register(projection::Projector* projector) { projectors_[projector->name()] = projector; }

  // Adds `name` (a directory of the data directory) to every checkpoint, written by `write`
  // into the directory it is given (which must not exist). Register before serving.
  void AddCheckpointPart(std::string name,
                         std::function<absl::Status(const std::string& dir)> write) {
    extra_parts_.push_back({std::move(name), std::move(write)});
  }

  grpc::ServerUnaryReactor* GetProjectionStatus(
      grpc::CallbackServerContext* context,
      const crm::admin::v1::GetProjectionStatusRequest* request,
      crm::admin::v1::GetProjectionStatusResponse* response) override;

  grpc::ServerUnaryReactor* ListDeadLetters(
      grpc::CallbackServerContext* context, const crm::admin::v1::ListDeadLettersRequest* request,
      crm::admin::v1::ListDeadLettersResponse* response) override;

  grpc::ServerUnaryReactor* ListProjections(
      grpc::CallbackServerContext* context, const crm::admin::v1::ListProjectionsRequest* request,
      crm::admin::v1::ListProjectionsResponse* response) override;

  grpc::ServerUnaryReactor* ReadLog(grpc::CallbackServerContext* context,
                                    const crm::admin::v1::ReadLogRequest* request,
                                    crm::admin::v1::ReadLogResponse* response) override;

  grpc::ServerUnaryReactor* RebuildProjection(
      grpc::CallbackServerContext* context, const crm::admin::v1::RebuildProjectionRequest* request,
      crm::admin::v1::RebuildProjectionResponse* response) override;

  grpc::ServerUnaryReactor* CreateCheckpoint(
      grpc::CallbackServerContext* context, const crm::admin::v1::CreateCheckpointRequest* request,
      crm::admin::v1::CreateCheckpointResponse* response) override;

  // The API keys the key RPCs create, list and revoke (which must outlive the service); without
  // them those RPCs answer UNIMPLEMENTED. Not thread-safe: set before serving.
  void UseApiKeys(access::ApiKeyStore* keys) { api_keys_ = keys; }

  grpc::ServerUnaryReactor* CreateApiKey(grpc::CallbackServerContext* context,
                                         const crm::admin::v1::CreateApiKeyRequest* request,
                                         crm::admin::v1::CreateApiKeyResponse* response) override;
  grpc::ServerUnaryReactor* ListApiKeys(grpc::CallbackServerContext* context,
                                        const crm::admin::v1::ListApiKeysRequest* request,
                                        crm::admin::v1::ListApiKeysResponse* response) override;
  grpc::ServerUnaryReactor* RevokeApiKey(grpc::CallbackServerContext* context,
                                         const crm::admin::v1::RevokeApiKeyRequest* request,
                                         crm::admin::v1::ApiKey* response) override;

 private:
  // The projector named `name`; NOT_FOUND naming the ones held here.
  absl::StatusOr<projection::Projector*> Find(const std::string& name) const;
  // The key store, or UNIMPLEMENTED.
  absl::StatusOr<access::ApiKeyStore*> Keys() const;
  access::ApiKeyStore* api_keys_ = nullptr;

  absl::Status Checkpoint(const crm::admin::v1::CreateCheckpointRequest& request,
                          crm::admin::v1::CreateCheckpointResponse& response);

  eventlog::EventLog* const log_;
  const std::string backup_dir_;
  std::map<std::string, projection::Projector*> projectors_;
  std::vector<store::CheckpointPart> extra_parts_;
};

}  // namespace crm::grpcutil
