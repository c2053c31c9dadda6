// Authentication and authorisation of every call of every service, in one place.
//
// StartServer (common/grpc/server.h) installs both halves on each server:
//   - an interceptor that reads the call's "authorization" metadata before the handler runs,
//     checks it with the Authenticator (auth on) and records the outcome in the call's own
//     metadata under reserved "crm-auth-*" keys (any the client sent are dropped first). With
//     auth off every call gets the process's default tenant.
//   - a gate around each method of each service: a call the interceptor denied never reaches
//     its handler; it is answered UNAUTHENTICATED or PERMISSION_DENIED with the reason.
// Handlers learn who is calling with CallerOf (MakeCallContext does it for them).
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "common/auth/auth.h"
#include "common/auth/rate_limiter.h"

namespace crm::grpcutil {

// The interceptor half. `authenticator` null: authentication off, every caller is
// `default_tenant`'s, with every scope. `limiter` (null: no limit) takes one call per method
// call from the caller's bucket — the caller being the token's tenant and subject, or the peer's
// address with authentication off — and refuses it RESOURCE_EXHAUSTED when the bucket is empty.
// Health checks and reflection are neither authenticated nor limited.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> AuthInterceptors(
    std::shared_ptr<const auth::Authenticator> authenticator, std::string default_tenant,
    std::shared_ptr<auth::RateLimiter> limiter = nullptr);

// The gate half: wraps every method handler of `service` (before it is registered).
void GateMethods(grpc::Service& service);

// Who is calling, as the interceptor established it; `fallback_tenant` (and no subject) on a
// server without the interceptor.
auth::Principal CallerOf(const grpc::ServerContextBase& context,
                         const std::string& fallback_tenant);
// The same without the scopes (left empty): the tenant and subject every service call needs,
// without parsing the scope list on each call.
auth::Principal IdentityOf(const grpc::ServerContextBase& context,
                           const std::string& fallback_tenant);

}  // namespace crm::grpcutil
