#include "common/http/json_gateway.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

// Threads for calls other than streams.
constexpr int kCallThreads = 8;

// {"code": 3, "status": "INVALID_ARGUMENT", "message": "..."}
nlohmann::json ErrorJson(grpc::StatusCode code, const std::string& message) {
  return {{"code", static_cast<int>(code)},
          {"status", absl::StatusCodeToString(static_cast<absl::StatusCode>(code))},
          {"message", message}};
}

// The error under `http_status` (0: the one of `code`).
void AnswerError(httplib::Response& res, grpc::StatusCode code, const std::string& message,
                 int http_status = 0) {
  Answer(res, http_status != 0 ? http_status : HttpStatus(code), ErrorJson(code, message).dump());
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

// A stream (the change feeds; bulk import) through the generic stub: the request messages are
// written one after the other, the answers read one at a time — the next read starts only once
// the previous message was taken, so a slow HTTP client slows only its own stream.
class StreamReader final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  enum class Next { kMessage, kEnded, kNothingYet };

  StreamReader(grpc::GenericStub& stub, const std::string& path,
               const std::vector<std::string>& requests, std::unique_ptr<grpc::ClientContext> ctx)
      : ctx_(std::move(ctx)) {
    for (const std::string& request : requests) {
      grpc::Slice slice(request);
      requests_.emplace_back(&slice, 1);
    }
    stub.PrepareBidiStreamingCall(ctx_.get(), path, grpc::StubOptions(), this);
    WriteNext();
    StartRead(&in_);
    StartCall();
  }

  void OnWriteDone(bool ok) override {
    if (ok) WriteNext();
  }
  void OnReadDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (ok) {
      have_ = true;
    } else {
      reading_ = false;
    }
    cv_.notify_all();
  }
  void OnDone(const grpc::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    done_ = true;
    cv_.notify_all();
  }

  // Waits until `deadline` for the next message (its bytes into `bytes`) or the stream's end.
  Next Wait(absl::Time deadline, std::string& bytes) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, absl::ToChronoTime(deadline), [this] { return have_ || done_; });
      if (!have_) return done_ ? Next::kEnded : Next::kNothingYet;
      grpc::Slice slice;
      if (in_.DumpToSingleSlice(&slice).ok()) {
        bytes.assign(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
      have_ = false;
    }
    StartRead(&in_);  // outside the lock: its reaction may run inline
    return Next::kMessage;
  }

  // Ends the call (if it is still on) and waits until gRPC is done with this reader.
  grpc::Status Finish() {
    ctx_->TryCancel();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
    return status_;
  }

  // The stream's status once Wait said kEnded.
  grpc::Status status() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

 private:
  // Writes the next request, the last one with the end of the client's messages.
  void WriteNext() {
    if (written_ == requests_.size()) return;
    grpc::ByteBuffer* next = &requests_[written_++];
    if (written_ == requests_.size()) {
      StartWriteLast(next, grpc::WriteOptions());
    } else {
      StartWrite(next);
    }
  }

  std::unique_ptr<grpc::ClientContext> ctx_;
  std::vector<grpc::ByteBuffer> requests_;
  size_t written_ = 0;
  grpc::ByteBuffer in_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool have_ = false;
  bool reading_ = true;
  bool done_ = false;
  grpc::Status status_;
};

// The JSON of a message of `type` in `bytes`; empty if it does not decode.
std::string ToJson(const pb::Descriptor* type, const std::string& bytes) {
  std::unique_ptr<pb::Message> message(
      pb::MessageFactory::generated_factory()->GetPrototype(type)->New());
  std::string json;
  if (!message->ParseFromString(bytes) || !pb::util::MessageToJsonString(*message, &json).ok()) {
    return "";
  }
  return json;
}

// A stream's place among the streams the gateway allows at once. It is given back once: when the
// stream has ended, before the client is told so (a client may open its next stream as soon as it
// has read the end), or when the client went away, whichever comes first.
class StreamSlot {
 public:
  StreamSlot(std::shared_ptr<StreamReader> reader, std::shared_ptr<std::atomic<int>> streams)
      : reader_(std::move(reader)), streams_(std::move(streams)) {}

  // Ends the call if it is still on, waits for gRPC to be done with it, and gives the place back.
  void Release() {
    if (released_.exchange(true)) return;
    reader_->Finish().IgnoreError();
    streams_->fetch_sub(1);
  }

 private:
  std::shared_ptr<StreamReader> reader_;
  std::shared_ptr<std::atomic<int>> streams_;
  std::atomic<bool> released_{false};
};

// Answers a server-streaming method as newline-delimited JSON, one message per line, for as long
// as the stream and the HTTP client last. A stream refused at once (bad request, no scope) is
// answered like a unary error; one that fails later ends with a line {"error": {...}}.
void Stream(grpc::GenericStub& stub, const std::string& path,
            const std::vector<std::string>& requests, std::unique_ptr<grpc::ClientContext> ctx,
            const pb::Descriptor* type, std::shared_ptr<std::atomic<int>> streams, int max_streams,
            httplib::Response& res) {
  if (streams->fetch_add(1) >= max_streams) {
    streams->fetch_sub(1);
    return AnswerError(
        res, grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("at most ", max_streams, " streams over HTTP at once; more over gRPC"));
  }
  auto reader = std::make_shared<StreamReader>(stub, path, requests, std::move(ctx));
  auto slot = std::make_shared<StreamSlot>(reader, streams);
  // A refusal comes at once; otherwise the stream is on, whether or not a message came yet.
  auto first = std::make_shared<std::optional<std::string>>();
  std::string bytes;
  switch (reader->Wait(absl::Now() + absl::Seconds(1), bytes)) {
    case StreamReader::Next::kMessage:
      *first = std::move(bytes);
      break;
    case StreamReader::Next::kEnded: {
      const grpc::Status status = reader->status();
      slot->Release();
      if (!status.ok()) return AnswerError(res, status.error_code(), status.error_message());
      return Answer(res, 200, "");
    }
    case StreamReader::Next::kNothingYet:
      break;
  }
  res.status = 200;
  res.set_chunked_content_provider(
      "application/x-ndjson",
      [reader, slot, first, type](size_t, httplib::DataSink& sink) {
        auto write = [&sink, type](const std::string& message) {
          const std::string line = ToJson(type, message) + "\n";
          return sink.write(line.data(), line.size());
        };
        if (first->has_value()) {
          const std::string message = **first;
          first->reset();
          return write(message);
        }
        std::string next;
        // Short waits: between them the provider learns whether the client is still there.
        switch (reader->Wait(absl::Now() + absl::Milliseconds(200), next)) {
          case StreamReader::Next::kMessage:
            return write(next);
          case StreamReader::Next::kNothingYet:
            return sink.is_writable();  // false once the client went away
          case StreamReader::Next::kEnded:
            break;
        }
        if (const grpc::Status status = reader->status(); !status.ok()) {
          const std::string line =
              nlohmann::json{{"error", ErrorJson(status.error_code(), status.error_message())}}
                  .dump() +
              "\n";
          sink.write(line.data(), line.size());
        }
        slot->Release();  // before the end goes out: the client's next stream finds the place
        sink.done();
        return true;
      },
      [slot](bool) { slot->Release(); });
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
  const int max_streams = options.max_streams;
  auto streams = std::make_shared<std::atomic<int>>(0);
  // A thread per request: enough for the streams it allows and the calls besides them.
  gateway->server_->new_task_queue = [max_streams] {
    return new httplib::ThreadPool(kCallThreads + max_streams);
  };
  gateway->server_->Post(
      R"(/v1/([A-Za-z0-9_.]+)/([A-Za-z0-9_]+))",
      [stub, deadline, streams, max_streams](const httplib::Request& req, httplib::Response& res) {
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
        // The request: one JSON object; for a method that takes a stream (ImportRecords), one
        // per line.
        std::vector<std::string> lines;
        if (method->client_streaming()) {
          for (absl::string_view line : absl::StrSplit(req.body, '\n', absl::SkipWhitespace())) {
            lines.emplace_back(line);
          }
          if (lines.empty()) {
            return AnswerError(res, grpc::StatusCode::INVALID_ARGUMENT,
                               absl::StrCat("body: ", method->name(),
                                            " takes one request object per line; there is none"));
          }
        } else {
          lines.push_back(req.body.empty() ? "{}" : req.body);
        }
        std::vector<std::string> requests;
        std::unique_ptr<pb::Message> request(
            pb::MessageFactory::generated_factory()->GetPrototype(method->input_type())->New());
        for (size_t i = 0; i < lines.size(); ++i) {
          request->Clear();
          if (auto parsed = pb::util::JsonStringToMessage(lines[i], request.get()); !parsed.ok()) {
            return AnswerError(
                res, grpc::StatusCode::INVALID_ARGUMENT,
                absl::StrCat("body", lines.size() > 1 ? absl::StrCat(": line ", i + 1) : "",
                             ": not a ", method->input_type()->full_name(),
                             " in protobuf's JSON mapping: ", std::string(parsed.message())));
          }
          requests.push_back(request->SerializeAsString());
        }
        auto ctx = std::make_unique<grpc::ClientContext>();
        for (const char* header : {"authorization", "x-correlation-id"}) {
          if (req.has_header(header)) ctx->AddMetadata(header, req.get_header_value(header));
        }
        const std::string path = absl::StrCat("/", service->full_name(), "/", method->name());
        if (method->server_streaming()) {
          return Stream(*stub, path, requests, std::move(ctx), method->output_type(), streams,
                        max_streams, res);
        }
        ctx->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
        auto [status, bytes] = Call(*stub, path, request->SerializeAsString(), *ctx);
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
