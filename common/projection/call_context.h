// What every service call carries from its gRPC handler to the application layer, and the
// callback a write answers through.
//
//   void CreateDeal(const CallContext& ctx, const Deal& deal, const std::string& request_id,
//                   Done<Deal> done);   // done runs once, with the deal or why not
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::projection {

struct CallContext {
  // The tenant every read and write of the call is confined to.
  std::string tenant;
  // Who is calling (recorded on events).
  std::string actor;
  // When the caller stops waiting.
  absl::Time deadline = absl::InfiniteFuture();
  // The caller's correlation id (x-correlation-id), recorded on the events a command appends;
  // empty: the first event's id.
  std::string correlation_id = {};
  // The caller's credential as sent ("Bearer ..."; empty with none), for the calls a service makes
  // to another on the caller's behalf — which then sees the caller's tenant and scopes.
  std::string authorization = {};
};

// A write's answer: called exactly once, on a thread of the log or the projector.
template <typename T>
using Done = std::function<void(absl::StatusOr<T>)>;

}  // namespace crm::projection
