// JsonGateway: every RPC of the CRM's services as JSON over HTTP, for integration partners who
// cannot speak gRPC.
//
//   POST /v1/crm.contact.v1.ContactService/GetContact        {"id": "01HV..."}
//   -> 200 {"id": "01HV...", "personal": {"givenName": "Ada", ...}, ...}
//   -> 404 {"code": 5, "status": "NOT_FOUND", "message": "contact 01HV... not found"}
//
// The body is the request in protobuf's JSON mapping (field names in lowerCamelCase or as in the
// proto; an empty body is an empty request); the answer is the response in the same mapping. The
// gateway turns the body into the protobuf request and calls the method on this process's own
// gRPC server, passing on the caller's Authorization and x-correlation-id headers, so
// validation, authentication, scopes, tenants, masking, rate limits and the access log are
// exactly those of gRPC. An error is a JSON object with the gRPC code (number and name) and
// message, under the HTTP status Google's APIs use for that code. A server-streaming method (the
// change feeds) answers newline-delimited JSON (application/x-ndjson), one message per line,
// until the stream or the client ends; a failure after the first line ends it with a line
// {"error": {...}}. A method that takes a stream (ImportRecords) takes newline-delimited JSON too,
// one request message per line, and answers as a server stream does.
//
//   ASSIGN_OR_RETURN(auto gateway, JsonGateway::Start({.listen = "127.0.0.1:7080"}, channel));
//
// TLS: with a certificate and key it serves HTTPS, asking for client certificates when given a
// client CA. Thread-safe; stops when destroyed.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace httplib {
class Server;
}

namespace crm::http {

struct GatewayOptions {
  // host:port to listen on (port 0: any free port).
  std::string listen;
  // PEM files for HTTPS; all empty: plain HTTP. client_ca: client certificates are required and
  // checked against it.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // How long one call (not a stream) may take.
  absl::Duration deadline = absl::Seconds(30);
  // Streams (the change feeds) served at once over HTTP, each holding a thread; one more is
  // refused RESOURCE_EXHAUSTED (429).
  int max_streams = 16;
};

class JsonGateway {
 public:
  // Listens on options.listen and forwards to `backend` (this process's gRPC server).
  // INVALID_ARGUMENT for a bad address or TLS files that do not load; UNAVAILABLE if it
  // cannot listen.
  static absl::StatusOr<std::unique_ptr<JsonGateway>> Start(const GatewayOptions& options,
                                                            std::shared_ptr<grpc::Channel> backend);
  ~JsonGateway();

  // host:port it listens on.
  const std::string& address() const { return address_; }

 private:
  JsonGateway() = default;

  std::unique_ptr<httplib::Server> server_;
  std::shared_ptr<grpc::Channel> backend_;
  std::string address_;
  std::thread thread_;
};

}  // namespace crm::http
