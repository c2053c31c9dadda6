// The one place where absl::Status becomes grpc::Status. The codes map one to one.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace crm::grpcutil {

// Returns the gRPC status with the same code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace crm::grpcutil
