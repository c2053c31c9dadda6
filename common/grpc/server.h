// Server bootstrap shared by every binary: one gRPC server with the standard health service
// and server reflection, plus orderly shutdown on SIGTERM and SIGINT.
//
//   BlockTerminationSignals();              // first thing in main, before any thread starts
//   ASSIGN_OR_RETURN(auto server, StartServer("127.0.0.1:0", {&contact_grpc, &admin}));
//   std::cout << "listening on " << server.address << std::endl;
//   WaitForTerminationSignal();
//   server.Shutdown(absl::Seconds(10));
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::grpcutil {

struct RunningServer {
  std::unique_ptr<grpc::Server> server;
  // host:port actually bound (the port is resolved when 0 was asked for).
  std::string address;

  // Marks every service (and the overall "" service) SERVING or NOT_SERVING in grpc.health.v1;
  // kLivenessService stays SERVING.
  void SetServing(bool serving);
  // Stops accepting calls, lets in-flight calls finish until `grace`, then cancels the rest.
  void Shutdown(absl::Duration grace);
};

// The health service name that is SERVING while the process runs, whatever its readiness: what
// a liveness probe asks for (a replica that is catching up is not ready, but must not be
// restarted).
inline constexpr char kLivenessService[] = "liveness";

// Largest request the servers accept; larger ones fail with RESOURCE_EXHAUSTED.
inline constexpr int kMaxRequestBytes = 4 * 1024 * 1024;

struct ServerOptions {
  // Wrap every call (e.g. metrics).
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  // Connections are closed (gracefully: calls in flight finish) after this long, so that
  // clients reconnect and load spreads over replicas added since. Infinite: never.
  absl::Duration max_connection_age = absl::InfiniteDuration();
};

// Starts a server on `listen` (host:port; port 0 picks a free one) with `services`, the health
// service (NOT_SERVING until SetServing(true)) and reflection. INVALID_ARGUMENT if the address
// cannot be bound.
absl::StatusOr<RunningServer> StartServer(const std::string& listen,
                                          const std::vector<grpc::Service*>& services,
                                          ServerOptions options = {});

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts later, so that
// WaitForTerminationSignal can take them synchronously.
void BlockTerminationSignals();

// Waits for SIGTERM or SIGINT and returns its number.
int WaitForTerminationSignal();

}  // namespace crm::grpcutil
