// How clients (crmctl, crm-bench, tests) reach a server: plaintext or TLS (with a client
// certificate for mutual TLS), and a bearer token on every call.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace crm::grpcutil {

struct ClientSecurity {
  // CA bundle (PEM) the server's certificate must chain to; set, or a client certificate set:
  // TLS. Neither: plaintext.
  std::string tls_ca;
  // Client certificate and key (PEM), for servers that require mutual TLS.
  std::string tls_cert;
  std::string tls_key;
  // Sent as "authorization: Bearer <token>" on every call; empty: none.
  std::string token;
};

// Channel credentials for `security`; INVALID_ARGUMENT naming the file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const ClientSecurity& security);

// Adds the token (if any) to a call's metadata.
void Authorize(grpc::ClientContext& context, const ClientSecurity& security);

}  // namespace crm::grpcutil
