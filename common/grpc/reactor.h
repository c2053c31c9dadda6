// Helpers for callback-API handlers: finish a unary reactor from a result, and the deadline a
// handler works to.
//
//   grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
//   if (absl::Status s = Validate(*request); !s.ok()) return FinishNow(reactor, s);
//   service_->Do(..., FinishWith(reactor, response));
//   return reactor;
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/grpc/auth_gate.h"
#include "common/grpc/request_log.h"
#include "common/grpc/status.h"
#include "common/projection/call_context.h"
#include "common/projection/personal_export.h"

namespace crm::grpcutil {

// Finishes `reactor` with `status`; returns it, for `return FinishNow(...)` in a handler.
inline grpc::ServerUnaryReactor* FinishNow(grpc::ServerUnaryReactor* reactor,
                                           const absl::Status& status) {
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// A completion that moves the result into `response` and finishes `reactor`.
template <typename T>
std::function<void(absl::StatusOr<T>)> FinishWith(grpc::ServerUnaryReactor* reactor, T* response) {
  return [reactor, response](absl::StatusOr<T> result) {
    if (result.ok()) *response = std::move(*result);
    reactor->Finish(ToGrpcStatus(result.status()));
  };
}

// The call's deadline, but no later than `max_wait` from now: a write with no deadline still
// stops waiting for its projection.
inline absl::Time CallDeadline(grpc::CallbackServerContext* context, absl::Duration max_wait) {
  return std::min(absl::FromChrono(context->deadline()), absl::Now() + max_wait);
}

// What a service call carries to the application layer: the caller's tenant and identity from
// its credential (the process's default `tenant` with authentication off), the deadline
// (CallDeadline) and the caller's correlation id.
inline projection::CallContext MakeCallContext(grpc::CallbackServerContext* context,
                                               const std::string& tenant, absl::Duration max_wait) {
  projection::CallContext ctx;
  auth::Principal caller = IdentityOf(*context, tenant);
  ctx.tenant = std::move(caller.tenant);
  ctx.actor = std::move(caller.subject);
  ctx.deadline = CallDeadline(context, max_wait);
  ctx.correlation_id = CorrelationIdOf(*context);
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    ctx.authorization.assign(it->second.data(), it->second.size());
  }
  return ctx;
}

// A service's ExportContactData: `service.ExportPersonalData` for the request's contact ids
// (validated by projection::ExportPart), answered as JSON.
template <typename Service, typename Request, typename Response>
grpc::ServerUnaryReactor* AnswerExport(grpc::CallbackServerContext* context,
                                       const projection::CallContext& ctx, const Service& service,
                                       const Request& request, Response* response) {
  absl::StatusOr<std::string> json = projection::ExportPart(
      ctx, request.contact_ids(),
      [&service](const projection::CallContext& c, const std::vector<std::string>& ids) {
        return service.ExportPersonalData(c, ids);
      });
  if (json.ok()) response->set_json(*std::move(json));
  return FinishNow(context->DefaultReactor(), json.status());
}

}  // namespace crm::grpcutil
