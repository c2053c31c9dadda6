#include "common/grpc/auth_gate.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/impl/service_type.h>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/grpc/privacy.h"

namespace crm::grpcutil {
namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr std::string_view kReservedPrefix = "crm-auth-";
constexpr char kTenantKey[] = "crm-auth-tenant";
constexpr char kSubjectKey[] = "crm-auth-subject";
constexpr char kScopesKey[] = "crm-auth-scopes";
constexpr char kDeniedKey[] = "crm-auth-denied";

namespace pb = google::protobuf;

// The response type of `method` ("/package.Service/Method"); null if unknown.
const pb::Descriptor* OutputType(const std::string& method) {
  if (method.size() < 2) return nullptr;
  std::string name = method.substr(1);
  const size_t slash = name.find('/');
  if (slash == std::string::npos) return nullptr;
  name[slash] = '.';
  const pb::MethodDescriptor* m = pb::DescriptorPool::generated_pool()->FindMethodByName(name);
  return m == nullptr ? nullptr : m->output_type();
}

class AuthInterceptor final : public grpc::experimental::Interceptor {
 public:
  AuthInterceptor(const char* method, const auth::Authenticator* authenticator,
                  const std::string& default_tenant, auth::RateLimiter* limiter,
                  const grpc::ServerContextBase* context)
      : method_(method == nullptr ? "" : method),
        authenticator_(authenticator),
        default_tenant_(default_tenant),
        limiter_(limiter),
        context_(context) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      if (auto* metadata = methods->GetRecvInitialMetadata(); metadata != nullptr) {
        Decide(*metadata);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE) &&
        authenticator_ != nullptr && denied_.ok() && !subject_.empty()) {
      Privacy(*methods);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        !denied_.ok()) {
      // The gate answered the call without running its handler (as UNIMPLEMENTED): say why.
      methods->ModifySendStatus(grpc::Status(static_cast<grpc::StatusCode>(denied_.code()),
                                             std::string(denied_.message())));
    }
    methods->Proceed();
  }

 private:
  void Decide(std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
    std::string_view authorization;
    for (auto it = metadata.begin(); it != metadata.end();) {
      const std::string_view key(it->first.data(), it->first.size());
      if (key.starts_with(kReservedPrefix)) {
        it = metadata.erase(it);  // only this interceptor speaks for the server
        continue;
      }
      if (key == "authorization")
        authorization = std::string_view(it->second.data(), it->second.size());
      ++it;
    }
    if (authenticator_ == nullptr) {
      tenant_ = default_tenant_;
      // Every scope, joined once for the process rather than on every call.
      static const std::string* const kEveryScope =
          new std::string(absl::StrJoin(auth::AllScopes(), " "));
      scopes_ = *kEveryScope;
      sees_personal_data_ = true;
      if (limiter_ != nullptr && !auth::RequiredScope(method_).empty() && context_ != nullptr) {
        // No credential to count by: count by the client's address (without its port).
        std::string peer = context_->peer();
        peer = peer.substr(0, peer.rfind(':'));
        if (!Limit(peer, peer, metadata)) return;
      }
    } else {
      absl::StatusOr<auth::Principal> p =
          authenticator_->Check(method_, authorization, absl::Now());
      if (!p.ok()) {
        denied_ = p.status();
        denied_text_ = std::string(denied_.message());
        metadata.emplace(kDeniedKey, denied_text_);
        return;
      }
      tenant_ = p->tenant.empty() ? default_tenant_ : p->tenant;
      subject_ = p->subject;
      scopes_ = absl::StrJoin(p->scopes, " ");
      sees_personal_data_ = p->Has(kPersonalDataScope);
      if (limiter_ != nullptr && !p->subject.empty() &&
          !Limit(absl::StrCat(tenant_, "/", subject_),
                 absl::StrCat(subject_, " of tenant ", tenant_), metadata)) {
        return;
      }
    }
    metadata.emplace(kTenantKey, tenant_);
    metadata.emplace(kSubjectKey, subject_);
    metadata.emplace(kScopesKey, scopes_);
  }

  // A response that can hold personal data: masked for a caller without the personal-data
  // scope; otherwise whose data it shows goes to the access log.
  void Privacy(grpc::experimental::InterceptorBatchMethods& methods) {
    const pb::Descriptor* type = OutputType(method_);
    if (type == nullptr || !CanHoldPersonalData(*type)) return;
    grpc::ByteBuffer* buffer = methods.GetSerializedSendMessage();
    grpc::Slice slice;
    if (buffer == nullptr || !buffer->DumpToSingleSlice(&slice).ok()) return;
    std::unique_ptr<pb::Message> response(
        pb::MessageFactory::generated_factory()->GetPrototype(type)->New());
    if (!response->ParseFromArray(slice.begin(), static_cast<int>(slice.size()))) return;
    if (!sees_personal_data_) {
      if (MaskPersonalData(*response)) {
        const std::string bytes = response->SerializeAsString();
        grpc::Slice masked(bytes);
        *buffer = grpc::ByteBuffer(&masked, 1);
      }
      return;
    }
    std::set<std::string> subjects;
    PersonalDataSubjects(*response, subjects);
    if (subjects.empty()) return;
    constexpr size_t kMostNamed = 100;
    std::string named;
    size_t n = 0;
    for (const std::string& id : subjects) {
      if (n++ == kMostNamed) {
        absl::StrAppend(&named, " and ", subjects.size() - kMostNamed, " more");
        break;
      }
      absl::StrAppend(&named, named.empty() ? "" : " ", id);
    }
    spdlog::info("access: {} of tenant {} read personal data with {}: {}", subject_, tenant_,
                 method_.substr(method_.empty() ? 0 : 1), named);
  }

  // Takes a call from `caller`'s bucket; false (and the call denied) if it is empty.
  bool Limit(const std::string& caller, const std::string& who,
             std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
    const absl::Duration wait = limiter_->Take(caller, absl::Now());
    if (wait <= absl::ZeroDuration()) return true;
    denied_ = absl::ResourceExhaustedError(
        absl::StrCat("rate limit: ", who, " may make ", limiter_->per_second(),
                     " calls per second (bursts of ", limiter_->burst(), "); retry in ",
                     std::max<int64_t>(1, absl::ToInt64Milliseconds(wait)), " ms"));
    denied_text_ = std::string(denied_.message());
    metadata.emplace(kDeniedKey, denied_text_);
    return false;
  }

  const std::string method_;
  const auth::Authenticator* const authenticator_;
  const std::string& default_tenant_;
  auth::RateLimiter* const limiter_;
  const grpc::ServerContextBase* const context_;
  // The values the call's metadata refers to (string_refs into these), alive for the call.
  std::string tenant_;
  std::string subject_;
  std::string scopes_;
  absl::Status denied_ = absl::OkStatus();
  std::string denied_text_;
  bool sees_personal_data_ = false;
};

class AuthInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  AuthInterceptorFactory(std::shared_ptr<const auth::Authenticator> authenticator,
                         std::string default_tenant, std::shared_ptr<auth::RateLimiter> limiter)
      : authenticator_(std::move(authenticator)),
        default_tenant_(std::move(default_tenant)),
        limiter_(std::move(limiter)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new AuthInterceptor(info->method(), authenticator_.get(), default_tenant_,
                               limiter_.get(), info->server_context());
  }

 private:
  const std::shared_ptr<const auth::Authenticator> authenticator_;
  const std::string default_tenant_;
  const std::shared_ptr<auth::RateLimiter> limiter_;
};

// Runs the wrapped handler only for calls the interceptor let through. A denied call is handed
// to the wrapped handler as a request that failed, which answers it without running the
// method; the interceptor then replaces that answer with the denial.
class GateHandler final : public grpc::internal::MethodHandler {
 public:
  // Takes the method it guards (and with it the method's own handler).
  explicit GateHandler(std::unique_ptr<grpc::internal::RpcServiceMethod> inner)
      : inner_(std::move(inner)) {}

  void RunHandler(const HandlerParameter& param) override {
    const auto& metadata = param.server_context->client_metadata();
    // Fail closed: a call the interceptor did not see (no tenant recorded) is refused too.
    const bool allowed =
        metadata.find(kDeniedKey) == metadata.end() && metadata.find(kTenantKey) != metadata.end();
    if (allowed) {
      inner_->handler()->RunHandler(param);
      return;
    }
    inner_->handler()->RunHandler(
        HandlerParameter(param.call, param.server_context, param.request,
                         grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "denied"),
                         param.internal_data, param.call_requester));
  }

  void* Deserialize(grpc_call* call, grpc_byte_buffer* req, grpc::Status* status,
                    void** handler_data) override {
    return inner_->handler()->Deserialize(call, req, status, handler_data);
  }

 private:
  const std::unique_ptr<grpc::internal::RpcServiceMethod> inner_;
};

// grpc::Service keeps its method table private and offers no way to wrap a handler without
// destroying it. Access checks do not apply to the template arguments of an explicit
// instantiation ([temp.spec]/6), so this names the member once, here.
using MethodTable = std::vector<std::unique_ptr<grpc::internal::RpcServiceMethod>>;
template <MethodTable grpc::Service::*Member>
struct MethodTableAccess {
  friend MethodTable& MethodsOf(grpc::Service& s) { return s.*Member; }
};
template struct MethodTableAccess<&grpc::Service::methods_>;
MethodTable& MethodsOf(grpc::Service& s);

std::string Value(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                  const char* key) {
  const auto it = metadata.find(key);
  return it == metadata.end() ? "" : std::string(it->second.data(), it->second.size());
}

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> AuthInterceptors(
    std::shared_ptr<const auth::Authenticator> authenticator, std::string default_tenant,
    std::shared_ptr<auth::RateLimiter> limiter) {
  return std::make_unique<AuthInterceptorFactory>(std::move(authenticator),
                                                  std::move(default_tenant), std::move(limiter));
}

void GateMethods(grpc::Service& service) {
  for (auto& method : MethodsOf(service)) {
    if (method == nullptr || method->handler() == nullptr) continue;
    const char* name = method->name();
    const auto type = method->method_type();
    const auto api = method->api_type();
    auto gated = std::make_unique<grpc::internal::RpcServiceMethod>(
        name, type,
        new GateHandler(std::unique_ptr<grpc::internal::RpcServiceMethod>(method.release())));
    gated->SetServerApiType(api);
    method = std::move(gated);
  }
}

auth::Principal IdentityOf(const grpc::ServerContextBase& context,
                           const std::string& fallback_tenant) {
  const auto& metadata = context.client_metadata();
  auth::Principal p;
  p.tenant = Value(metadata, kTenantKey);
  if (p.tenant.empty()) {
    p.tenant = fallback_tenant;
    return p;
  }
  p.subject = Value(metadata, kSubjectKey);
  return p;
}

auth::Principal CallerOf(const grpc::ServerContextBase& context,
                         const std::string& fallback_tenant) {
  auth::Principal p = IdentityOf(context, fallback_tenant);
  const auto& metadata = context.client_metadata();
  if (Value(metadata, kTenantKey).empty()) return p;  // no interceptor: no scopes either
  for (absl::string_view s : absl::StrSplit(Value(metadata, kScopesKey), ' ', absl::SkipEmpty())) {
    p.scopes.emplace(s);
  }
  return p;
}

}  // namespace crm::grpcutil
