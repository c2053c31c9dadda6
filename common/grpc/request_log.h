// Request logging: one record per gRPC call that ends, with the method, status code, time taken
// and the caller's ids, so a failure in the logs can be traced to the request that met it.
//
// Callers identify a request with the metadata "x-request-id" and a chain of requests with
// "x-correlation-id" (which commands also record on the events they append, see
// CorrelationIdOf). Calls that fail on the server's side (INTERNAL, UNKNOWN, DATA_LOSS,
// UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) are logged at warn; every other call at
// debug (--log-level debug shows them all).
//
// A request that does not parse (a string field holding invalid UTF-8, damaged bytes) never
// reaches a handler; gRPC 1.51's callback server would answer UNIMPLEMENTED with no message. The
// interceptor answers INVALID_ARGUMENT naming the field instead (protobuf's log names it; the
// interceptors install a handler that routes protobuf's log into ours).
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace crm::grpcutil {

// Metadata keys of the request and correlation ids.
inline constexpr char kRequestIdHeader[] = "x-request-id";
inline constexpr char kCorrelationIdHeader[] = "x-correlation-id";

// The value of an id header when it is usable: 1 to 128 characters of A-Z, a-z, 0-9 and
// ".-_:/"; otherwise empty. A tracing header that is wrong is ignored rather than failing the
// call: tracing must never break a business request.
std::string UsableId(std::string_view value);

// The call's correlation id: x-correlation-id if usable, else x-request-id if usable, else empty
// (a command then correlates its events by its first event's id).
std::string CorrelationIdOf(const grpc::ServerContextBase& context);

// The full name of the string field protobuf last found not UTF-8 while parsing on this thread
// (empty if none since the last take), and forgets it. (Routes protobuf's log into ours, as
// RequestLogInterceptors does, so that the next parse's complaint is heard.)
std::string TakeInvalidUtf8Field();
// INVALID_ARGUMENT for a request that does not parse: naming the field when it is a string that
// is not UTF-8 (`invalid_utf8_field`, from TakeInvalidUtf8Field), else saying it is damaged.
absl::Status UnparsableRequest(const std::string& invalid_utf8_field);

// Logs every call as above; install on every server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> RequestLogInterceptors();

}  // namespace crm::grpcutil
