#include "common/grpc/client.h"

#include "common/files/files.h"

namespace crm::grpcutil {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  if (path.empty()) return std::string();
  return files::ReadSettingFile(path, what);
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const ClientSecurity& security) {
  if (security.tls_ca.empty() && security.tls_cert.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  if (security.tls_cert.empty() != security.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key must be given together");
  }
  grpc::SslCredentialsOptions options;
  absl::StatusOr<std::string> ca = ReadFile(security.tls_ca, "--tls-ca");
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> cert = ReadFile(security.tls_cert, "--tls-cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(security.tls_key, "--tls-key");
  if (!key.ok()) return key.status();
  options.pem_root_certs = *std::move(ca);  // empty: the system's roots
  options.pem_cert_chain = *std::move(cert);
  options.pem_private_key = *std::move(key);
  return grpc::SslCredentials(options);
}

void Authorize(grpc::ClientContext& context, const ClientSecurity& security) {
  if (!security.token.empty()) context.AddMetadata("authorization", "Bearer " + security.token);
}

}  // namespace crm::grpcutil
