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
#include "common/auth/auth.h"
#include "common/auth/rate_limiter.h"

namespace crm::grpcutil {

struct RunningServer {
  std::unique_ptr<grpc::Server> server;
  // host:port actually bound (the port is resolved when 0 was asked for).
  std::string address;
  // The plaintext health listener (ServerOptions::health_listen), if any, and its address.
  std::unique_ptr<grpc::Server> health_server;
  std::string health_address;

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

// TLS from PEM files, re-read when they change.
struct TlsFiles {
  // The server's certificate chain and private key; empty: plaintext.
  std::string cert;
  std::string key;
  // CA bundle that client certificates must chain to; set: mutual TLS (a client without a valid
  // certificate cannot connect).
  std::string client_ca;
  // How often the files are checked for changes.
  absl::Duration reload_interval = absl::Seconds(60);
};

struct ServerOptions {
  // Authentication: null turns it off (every caller is `default_tenant`'s, with every scope).
  std::shared_ptr<const auth::Authenticator> authenticator;
  std::string default_tenant = "default";
  // Per-caller rate limit (common/grpc/auth_gate.h); null: none.
  std::shared_ptr<auth::RateLimiter> rate_limiter;
  // Calls in flight on one client connection; 0: gRPC's default (unlimited).
  int max_concurrent_streams = 0;
  // Change-feed streams (Subscribe) served at once by the process (grpc/feed_stream.h); 0: no
  // limit.
  int max_feed_streams = 0;
  TlsFiles tls;
  // host:port of a second, plaintext listener that serves only grpc.health.v1 (Kubernetes'
  // gRPC probes cannot speak TLS); empty: none.
  std::string health_listen;
  // Wrap every call (e.g. metrics).
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  // Connections are closed (gracefully: calls in flight finish) after this long, so that
  // clients reconnect and load spreads over replicas added since. Infinite: never.
  absl::Duration max_connection_age = absl::InfiniteDuration();
};

// Starts a server on `listen` (host:port; port 0 picks a free one) with `services`, the health
// service (NOT_SERVING until SetServing(true)) and reflection, authenticating and authorising
// every call of `services` (common/grpc/auth_gate.h). INVALID_ARGUMENT if the address cannot be
// bound or a TLS file cannot be used.
absl::StatusOr<RunningServer> StartServer(const std::string& listen,
                                          const std::vector<grpc::Service*>& services,
                                          ServerOptions options = {});

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts later, so that
// WaitForTerminationSignal can take them synchronously.
void BlockTerminationSignals();

// Waits for SIGTERM or SIGINT and returns its number.
int WaitForTerminationSignal();

}  // namespace crm::grpcutil
