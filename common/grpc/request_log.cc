#include "common/grpc/request_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/logging/log_context.h"
#include "google/protobuf/stubs/logging.h"

namespace crm::grpcutil {
namespace {

using grpc::experimental::InterceptionHookPoints;

// What protobuf last said on this thread about a string field that is not UTF-8: the field's full
// name (e.g. "crm.contact.v1.Contact.id"). gRPC parses a request on the thread that then runs
// the interceptors, so the interceptor of a request that did not parse finds why here.
thread_local std::string last_invalid_utf8_field;

// Protobuf's log, into ours; remembers the field of an invalid UTF-8 message.
void ProtobufLog(google::protobuf::LogLevel level, const char* file, int line,
                 const std::string& message) {
  constexpr std::string_view kUtf8 = "contains invalid UTF-8";
  if (message.find(kUtf8) != std::string::npos) {
    const size_t open = message.find('\'');
    const size_t close = open == std::string::npos ? open : message.find('\'', open + 1);
    if (close != std::string::npos) {
      last_invalid_utf8_field = message.substr(open + 1, close - open - 1);
    }
    return;  // the call's own log record says it, with the caller's ids
  }
  spdlog::log(level >= google::protobuf::LOGLEVEL_ERROR ? spdlog::level::err : spdlog::level::warn,
              "protobuf ({}:{}): {}", file, line, message);
}

// The first value of metadata `key`, usable or empty.
template <typename Multimap>
std::string Header(const Multimap& metadata, const char* key) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) return "";
  return UsableId(std::string_view(it->second.data(), it->second.size()));
}

bool ServerSideFailure(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DATA_LOSS:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return true;
    default:
      return false;
  }
}

// Protobuf's log into ours, once for the process.
void RouteProtobufLog() {
  static std::once_flag once;
  std::call_once(once, [] { google::protobuf::SetLogHandler(&ProtobufLog); });
}

class RequestLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit RequestLogInterceptor(const char* method) : method_(method), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      // The request did not parse. gRPC 1.51's callback server would answer UNIMPLEMENTED with
      // no message; say what is wrong instead (below, when the status goes out).
      unparsable_ = true;
      if (std::string field = TakeInvalidUtf8Field(); !field.empty()) {
        invalid_utf8_field_ = std::move(field);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      const auto* metadata = methods->GetRecvInitialMetadata();
      if (metadata != nullptr) {
        request_id_ = Header(*metadata, kRequestIdHeader);
        correlation_id_ = Header(*metadata, kCorrelationIdHeader);
        if (correlation_id_.empty()) correlation_id_ = request_id_;
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      // A stream whose message did not parse sees it as the end of the client's messages and may
      // finish OK; its end looks the same here, so only a string that is not UTF-8 (which
      // protobuf names) tells them apart.
      if (unparsable_ && (status.error_code() == grpc::StatusCode::UNIMPLEMENTED ||
                          (status.ok() && !invalid_utf8_field_.empty()))) {
        const absl::Status why = UnparsableRequest(invalid_utf8_field_);
        status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(why.message()));
        methods->ModifySendStatus(status);
      }
      const spdlog::level::level_enum level =
          ServerSideFailure(status.error_code()) ? spdlog::level::warn : spdlog::level::debug;
      if (spdlog::should_log(level)) {
        logging::ScopedLogContext scope(request_id_, correlation_id_);
        const std::string code =
            absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
        spdlog::log(level, "rpc {} {} in {:.3f} ms{}{}", method_ == nullptr ? "?" : method_, code,
                    absl::ToDoubleMilliseconds(absl::Now() - start_), status.ok() ? "" : ": ",
                    status.error_message());
      }
    }
    methods->Proceed();
  }

 private:
  const char* const method_;
  const absl::Time start_;
  std::string request_id_;
  std::string correlation_id_;
  bool unparsable_ = false;
  std::string invalid_utf8_field_;
};

class RequestLogInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RequestLogInterceptor(info->method());
  }
};

}  // namespace

std::string TakeInvalidUtf8Field() {
  RouteProtobufLog();  // so that protobuf's words reach last_invalid_utf8_field
  std::string field = std::move(last_invalid_utf8_field);
  last_invalid_utf8_field.clear();
  return field;
}

absl::Status UnparsableRequest(const std::string& invalid_utf8_field) {
  return absl::InvalidArgumentError(
      invalid_utf8_field.empty()
          ? "request: cannot be parsed as this method's request message (damaged or not protobuf)"
          : invalid_utf8_field + ": not valid UTF-8 (string fields must be UTF-8)");
}

std::string UsableId(std::string_view value) {
  if (value.empty() || value.size() > 128) return "";
  const bool usable = std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == ':' || c == '/';
  });
  return usable ? std::string(value) : "";
}

std::string CorrelationIdOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  std::string id = Header(metadata, kCorrelationIdHeader);
  return id.empty() ? Header(metadata, kRequestIdHeader) : id;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> RequestLogInterceptors() {
  RouteProtobufLog();
  return std::make_unique<RequestLogInterceptorFactory>();
}

}  // namespace crm::grpcutil
