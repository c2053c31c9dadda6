#include "common/http/json_gateway.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <httplib.h>

#include <future>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace crm::http {
namespace {

namespace pb = google::protobuf;

// The HTTP status Google's APIs answer a gRPC code with (google/rpc/code.proto).
int HttpStatus(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

void Answer(httplib::Response& res, int http_status, const std::string& json) {
  res.status = http_status;
  res.set_content(json, "application/json");
}

// {"code": 3, "status": "INVALID_ARGUMENT", "message": "..."} under `http_status` (0: the one
// of `code`).
void AnswerError(httplib::Response& res, grpc::StatusCode code, const std::string& message,
                 int http_status = 0) {
  const nlohmann::json error = {
      {"code", static_cast<int>(code)},
      {"status", absl::StatusCodeToString(static_cast<absl::StatusCode>(code))},
      {"message", message}};
  Answer(res, http_status != 0 ? http_status : HttpStatus(code), error.dump());
}

// Calls `method` with the serialized `request` over `stub`; the status and the response bytes.
std::pair<grpc::Status, std::string> Call(grpc::GenericStub& stub, const std::string& path,
                                          const std::string& request, grpc::ClientContext& ctx) {
  grpc::Slice slice(request);
  grpc::ByteBuffer in(&slice, 1);
  grpc::ByteBuffer out;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, path, grpc::StubOptions(), &in, &out,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  std::string bytes;
  if (status.ok()) {
    grpc::Slice s;
    if (out.DumpToSingleSlice(&s).ok()) {
      bytes.assign(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return {std::move(status), std::move(bytes)};
}

}  // namespace

absl::StatusOr<std::unique_ptr<JsonGateway>> JsonGateway::Start(
    const GatewayOptions& options, std::shared_ptr<grpc::Channel> backend) {
  const size_t colon = options.listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(options.listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", options.listen, "\" is not host:port (e.g. 127.0.0.1:7080)"));
  }
  const std::string host = options.listen.substr(0, colon);
  std::unique_ptr<JsonGateway> gateway(new JsonGateway());
  if (options.tls_cert_file.empty()) {
    gateway->server_ = std::make_unique<httplib::Server>();
  } else {
    auto tls = std::make_unique<httplib::SSLServer>(
        options.tls_cert_file.c_str(), options.tls_key_file.c_str(),
        options.tls_client_ca_file.empty() ? nullptr : options.tls_client_ca_file.c_str());
    if (!tls->is_valid()) {
      return absl::InvalidArgumentError(
          "the TLS certificate, key or client CA files do not load for HTTPS");
    }
    gateway->server_ = std::move(tls);
  }
  gateway->backend_ = std::move(backend);
  auto stub = std::make_shared<grpc::GenericStub>(gateway->backend_);
  const absl::Duration deadline = options.deadline;
  gateway->server_->Post(
      R"(/v1/([A-Za-z0-9_.]+)/([A-Za-z0-9_]+))",
      [stub, deadline](const httplib::Request& req, httplib::Response& res) {
        const std::string service_name = req.matches[1];
        const std::string method_name = req.matches[2];
        const pb::ServiceDescriptor* service =
            service_name.starts_with("crm.")
                ? pb::DescriptorPool::generated_pool()->FindServiceByName(service_name)
                : nullptr;
        const pb::MethodDescriptor* method =
            service == nullptr ? nullptr : service->FindMethodByName(method_name);
        if (method == nullptr) {
          return AnswerError(res, grpc::StatusCode::UNIMPLEMENTED,
                             absl::StrCat("no method ", service_name, "/", method_name,
                                          ": call POST /v1/<package.Service>/<Method>, e.g. "
                                          "/v1/crm.contact.v1.ContactService/GetContact"),
                             404);
        }
        if (method->server_streaming() || method->client_streaming()) {
          return AnswerError(
              res, grpc::StatusCode::UNIMPLEMENTED,
              absl::StrCat(method->full_name(), " streams, which it does over gRPC only"));
        }
        std::unique_ptr<pb::Message> request(
            pb::MessageFactory::generated_factory()->GetPrototype(method->input_type())->New());
        const std::string body = req.body.empty() ? "{}" : req.body;
        if (auto parsed = pb::util::JsonStringToMessage(body, request.get()); !parsed.ok()) {
          return AnswerError(
              res, grpc::StatusCode::INVALID_ARGUMENT,
              absl::StrCat("body: not a ", method->input_type()->full_name(),
                           " in protobuf's JSON mapping: ", std::string(parsed.message())));
        }
        grpc::ClientContext ctx;
        ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
        for (const char* header : {"authorization", "x-correlation-id"}) {
          if (req.has_header(header)) ctx.AddMetadata(header, req.get_header_value(header));
        }
        auto [status, bytes] =
            Call(*stub, absl::StrCat("/", service->full_name(), "/", method->name()),
                 request->SerializeAsString(), ctx);
        if (!status.ok()) return AnswerError(res, status.error_code(), status.error_message());
        std::unique_ptr<pb::Message> response(
            pb::MessageFactory::generated_factory()->GetPrototype(method->output_type())->New());
        std::string json;
        if (!response->ParseFromString(bytes) ||
            !pb::util::MessageToJsonString(*response, &json).ok()) {
          return AnswerError(res, grpc::StatusCode::INTERNAL,
                             "the response could not be written as JSON");
        }
        Answer(res, 200, json);
      });
  const int bound = port == 0 ? gateway->server_->bind_to_any_port(host)
                              : (gateway->server_->bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  gateway->address_ = absl::StrCat(host, ":", bound);
  httplib::Server* server = gateway->server_.get();
  gateway->thread_ = std::thread([server] { server->listen_after_bind(); });
  return gateway;
}

JsonGateway::~JsonGateway() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace crm::http
