#include "common/grpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/files/files.h"
#include "common/grpc/auth_gate.h"
#include "common/grpc/feed_stream.h"

namespace crm::grpcutil {

void RunningServer::SetServing(bool serving) {
  for (grpc::Server* s : {server.get(), health_server.get()}) {
    if (s != nullptr && s->GetHealthCheckService() != nullptr) {
      s->GetHealthCheckService()->SetServingStatus(serving);
      s->GetHealthCheckService()->SetServingStatus(kLivenessService, true);
    }
  }
}

void RunningServer::Shutdown(absl::Duration grace) {
  if (!server) return;
  SetServing(false);
  StopFeeds();  // subscribers resume elsewhere; they would otherwise hold the server for `grace`
  server->Shutdown(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(grace));
  server->Wait();
  if (health_server) {
    health_server->Shutdown(std::chrono::system_clock::now());
    health_server->Wait();
  }
}

namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  absl::StatusOr<std::string> content = files::ReadSettingFile(path, what);
  if (content.ok() && content->find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, " \"", path, "\": is not a PEM file"));
  }
  return content;
}

// Checks the files now (the watcher would only log a failure and serve without TLS) and makes
// the credentials that re-read them.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TlsCredentials(const TlsFiles& tls) {
  if (tls.key.empty()) {
    return absl::InvalidArgumentError("--tls-key: required with --tls-cert");
  }
  absl::StatusOr<std::string> cert = ReadPem(tls.cert, "--tls-cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(tls.key, "--tls-key");
  if (!key.ok()) return key.status();
  BIO* cert_bio = BIO_new_mem_buf(cert->data(), static_cast<int>(cert->size()));
  X509* x509 = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  BIO* key_bio = BIO_new_mem_buf(key->data(), static_cast<int>(key->size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  const bool matches =
      x509 != nullptr && pkey != nullptr && X509_check_private_key(x509, pkey) == 1;
  const bool cert_ok = x509 != nullptr;
  const bool key_ok = pkey != nullptr;
  EVP_PKEY_free(pkey);
  X509_free(x509);
  BIO_free(key_bio);
  BIO_free(cert_bio);
  if (!cert_ok) return absl::InvalidArgumentError("--tls-cert: holds no X.509 certificate");
  if (!key_ok) return absl::InvalidArgumentError("--tls-key: holds no private key");
  if (!matches) {
    return absl::InvalidArgumentError("--tls-key: is not the key of the --tls-cert certificate");
  }
  if (!tls.client_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(tls.client_ca, "--tls-client-ca");
    if (!ca.ok()) return ca.status();
  }
  const auto interval =
      static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(tls.reload_interval)));
  auto provider = tls.client_ca.empty()
                      ? std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                            tls.key, tls.cert, interval)
                      : std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                            tls.key, tls.cert, tls.client_ca, interval);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!tls.client_ca.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

absl::Status CheckListen(const std::string& listen, const char* flag) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " \"", listen, "\" must be host:port, e.g. 127.0.0.1:7070"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RunningServer> StartServer(const std::string& listen,
                                          const std::vector<grpc::Service*>& services,
                                          ServerOptions options) {
  if (absl::Status s = CheckListen(listen, "listen address"); !s.ok()) return s;
  const size_t colon = listen.rfind(':');
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!options.tls.cert.empty()) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> tls = TlsCredentials(options.tls);
    if (!tls.ok()) return tls.status();
    credentials = *std::move(tls);
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, credentials, &port);
  // gRPC sets SO_REUSEPORT by default: a second server on a port in use would start and the
  // kernel would share the connections between the two (say, an old node still shutting down
  // and its replacement, each with its own data). Refused instead: the address is in use.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  for (grpc::Service* s : services) {
    if (options.authenticator) GateMethods(*s);
    builder.RegisterService(s);
  }
  // First, so that its answer to a denied call is what the others (metrics, request log) see.
  options.interceptors.insert(
      options.interceptors.begin(),
      AuthInterceptors(options.authenticator, options.default_tenant, options.rate_limiter));
  SetMaxFeedStreams(options.max_feed_streams);
  if (options.max_concurrent_streams > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  }
  builder.experimental().SetInterceptorCreators(std::move(options.interceptors));
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
  if (!options.health_listen.empty()) {
    if (absl::Status s = CheckListen(options.health_listen, "health listen address"); !s.ok()) {
      return s;
    }
    grpc::ServerBuilder health;
    int health_port = 0;
    health.AddListeningPort(options.health_listen, grpc::InsecureServerCredentials(), &health_port);
    health.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    running.health_server = health.BuildAndStart();
    if (!running.health_server || health_port == 0) {
      running.server->Shutdown();
      return absl::InvalidArgumentError(absl::StrCat("cannot listen on \"", options.health_listen,
                                                     "\" (address in use or not local?)"));
    }
    running.health_address = absl::StrCat(
        options.health_listen.substr(0, options.health_listen.rfind(':')), ":", health_port);
  }
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
