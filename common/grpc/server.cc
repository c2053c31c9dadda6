#include "common/grpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include "absl/strings/str_cat.h"

namespace crm::grpcutil {

void RunningServer::SetServing(bool serving) {
  if (server && server->GetHealthCheckService() != nullptr) {
    server->GetHealthCheckService()->SetServingStatus(serving);
    server->GetHealthCheckService()->SetServingStatus(kLivenessService, true);
  }
}

void RunningServer::Shutdown(absl::Duration grace) {
  if (!server) return;
  SetServing(false);
  server->Shutdown(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(grace));
  server->Wait();
}

absl::StatusOr<RunningServer> StartServer(const std::string& listen,
                                          const std::vector<grpc::Service*>& services,
                                          ServerOptions options) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", listen, "\" must be host:port, e.g. 127.0.0.1:7070"));
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  // TLS arrives with the security work; until then the transport is plaintext.
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  for (grpc::Service* s : services) builder.RegisterService(s);
  if (!options.interceptors.empty()) {
    builder.experimental().SetInterceptorCreators(std::move(options.interceptors));
  }
  if (options.max_connection_age != absl::InfiniteDuration()) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_age)));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, 30000);
  }
  RunningServer running;
  running.server = builder.BuildAndStart();
  if (!running.server || port == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot listen on \"", listen, "\" (address in use or not local?)"));
  }
  running.address = absl::StrCat(listen.substr(0, colon), ":", port);
  running.SetServing(false);
  return running;
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace crm::grpcutil
