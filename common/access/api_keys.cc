#include "common/access/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/ids/ids.h"
#include "common/status/status_macros.h"
#include "crm/admin/v1/events.pb.h"

namespace crm::access {
namespace {

namespace av1 = crm::admin::v1;
using crm::common::v1::EventEnvelope;

constexpr std::string_view kKeyPrefix = auth::kApiKeyPrefix;

std::string Sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

// 32 random bytes, base64url without padding.
absl::StatusOr<std::string> NewSecret() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) return absl::InternalError("no randomness for a key");
  std::string b64(4 * ((sizeof(raw) + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), raw, sizeof(raw));
  b64.resize(static_cast<size_t>(n));
  for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  ts.set_seconds(nanos / 1000000000);
  ts.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return ts;
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

EventEnvelope Envelope(const std::string& tenant, const std::string& actor, const std::string& id,
                       const google::protobuf::Message& payload) {
  EventEnvelope e;
  const absl::Time now = absl::Now();
  e.set_event_id(ids::NewId(now));
  e.set_tenant(tenant);
  e.set_aggregate_type("api_key");
  e.set_aggregate_id(id);
  e.set_event_type(std::string(payload.GetDescriptor()->full_name()));
  *e.mutable_occurred_at() = ToProto(now);
  e.set_actor(actor);
  e.mutable_payload()->PackFrom(payload);
  return e;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ApiKeyStore>> ApiKeyStore::Start(eventlog::EventLog* log) {
  std::unique_ptr<ApiKeyStore> store(new ApiKeyStore());
  // Serve no call before every key there was at start is known.
  absl::StatusOr<std::unique_ptr<eventlog::TopicFollower>> follower =
      eventlog::TopicFollower::Start(
          log, kTopic, [s = store.get()](const eventlog::LogRecord& r) { s->Apply(r); },
          absl::Seconds(60));
  if (!follower.ok()) {
    return absl::Status(follower.status().code(),
                        absl::StrCat("access log: ", follower.status().message()));
  }
  store->follower_ = *std::move(follower);
  return store;
}

ApiKeyStore::~ApiKeyStore() { follower_.reset(); }

void ApiKeyStore::Apply(const eventlog::LogRecord& record) {
  EventEnvelope e;
  if (!e.ParseFromString(record.value)) {
    spdlog::warn("access log: record {}@{} is not an event; skipped", record.partition,
                 record.offset);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (e.event_type() == "crm.admin.v1.ApiKeyCreated") {
    av1::ApiKeyCreated created;
    if (!e.payload().UnpackTo(&created) || keys_.contains(created.api_key().id())) return;
    keys_[created.api_key().id()] = Entry{e.tenant(), created.key_sha256(), created.api_key()};
  } else if (e.event_type() == "crm.admin.v1.ApiKeyRevoked") {
    av1::ApiKeyRevoked revoked;
    if (!e.payload().UnpackTo(&revoked)) return;
    auto it = keys_.find(revoked.id());
    if (it == keys_.end() || it->second.tenant != e.tenant() ||
        it->second.api_key.has_revoke_time()) {
      return;
    }
    *it->second.api_key.mutable_revoke_time() = e.occurred_at();
    it->second.api_key.set_revoked_by(revoked.revoked_by());
  }
}

absl::StatusOr<NewKey> ApiKeyStore::Create(const std::string& tenant, const std::string& actor,
                                           const av1::CreateApiKeyRequest& request,
                                           absl::Time deadline) {
  if (request.name().empty() || request.name().size() > 100) {
    return absl::InvalidArgumentError("name: must be 1 to 100 characters");
  }
  if (request.scopes().empty()) return absl::InvalidArgumentError("scopes: give at least one");
  const std::set<std::string> known = auth::AllScopes();
  for (int i = 0; i < request.scopes_size(); ++i) {
    if (!known.contains(request.scopes(i))) {
      return absl::InvalidArgumentError(
          absl::StrCat("scopes[", i, "]: \"", request.scopes(i), "\" is not a scope of the CRM"));
    }
  }
  const absl::Time now = absl::Now();
  if (!request.has_expire_time() || request.expire_time().nanos() < 0 ||
      request.expire_time().nanos() > 999999999) {
    return absl::InvalidArgumentError("expire_time: required (a key must not live forever)");
  }
  const absl::Time expires = FromProto(request.expire_time());
  if (expires <= now) return absl::InvalidArgumentError("expire_time: must be in the future");
  if (expires > now + absl::Hours(24 * 366 * 2)) {
    return absl::InvalidArgumentError("expire_time: at most 2 years ahead");
  }
  ASSIGN_OR_RETURN(const std::string secret, NewSecret());
  NewKey out;
  av1::ApiKey& k = out.api_key;
  k.set_id(ids::NewId(now));
  k.set_name(request.name());
  std::set<std::string> scopes(request.scopes().begin(), request.scopes().end());
  for (const std::string& s : scopes) k.add_scopes(s);
  *k.mutable_expire_time() = request.expire_time();
  *k.mutable_create_time() = ToProto(now);
  k.set_created_by(actor);
  out.key = absl::StrCat(std::string(kKeyPrefix), k.id(), "_", secret);
  av1::ApiKeyCreated created;
  *created.mutable_api_key() = k;
  created.set_key_sha256(Sha256(out.key));
  RETURN_IF_ERROR(follower_->AppendAndApply(Envelope(tenant, actor, k.id(), created), deadline));
  return out;
}

absl::StatusOr<std::vector<av1::ApiKey>> ApiKeyStore::List(const std::string& tenant) const {
  std::vector<av1::ApiKey> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, e] : keys_) {
    if (e.tenant == tenant) out.push_back(e.api_key);
  }
  return out;
}

absl::StatusOr<av1::ApiKey> ApiKeyStore::Revoke(const std::string& tenant, const std::string& actor,
                                                const std::string& id, absl::Time deadline) {
  if (id.empty()) return absl::InvalidArgumentError("id: required");
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = keys_.find(id);
    if (it == keys_.end() || it->second.tenant != tenant) {
      return absl::NotFoundError(absl::StrCat("id: API key ", id, " does not exist"));
    }
    if (it->second.api_key.has_revoke_time()) {
      return absl::FailedPreconditionError(absl::StrCat("id: API key ", id, " is already revoked"));
    }
  }
  av1::ApiKeyRevoked revoked;
  revoked.set_id(id);
  revoked.set_revoked_by(actor);
  RETURN_IF_ERROR(follower_->AppendAndApply(Envelope(tenant, actor, id, revoked), deadline));
  std::lock_guard<std::mutex> lock(mu_);
  return keys_.at(id).api_key;
}

absl::StatusOr<auth::Principal> ApiKeyStore::Resolve(std::string_view key, absl::Time now) const {
  const auto refuse = [](const std::string& why) {
    return absl::UnauthenticatedError(absl::StrCat("authorization: ", why));
  };
  if (!key.starts_with(kKeyPrefix)) return refuse("not an API key");
  const std::string_view rest = key.substr(kKeyPrefix.size());
  const size_t underscore = rest.find('_');
  if (underscore == std::string_view::npos) return refuse("the API key is malformed");
  const std::string id(rest.substr(0, underscore));
  const std::string digest = Sha256(key);
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = keys_.find(id);
  if (it == keys_.end() || it->second.sha256.size() != digest.size() ||
      CRYPTO_memcmp(it->second.sha256.data(), digest.data(), digest.size()) != 0) {
    return refuse("the API key is not valid");
  }
  const av1::ApiKey& k = it->second.api_key;
  if (k.has_revoke_time()) return refuse(absl::StrCat("the API key ", id, " was revoked"));
  if (FromProto(k.expire_time()) <= now) {
    return refuse(absl::StrCat("the API key ", id, " has expired"));
  }
  auth::Principal p;
  p.tenant = it->second.tenant;
  p.subject = absl::StrCat("apikey:", id);
  p.scopes.insert(k.scopes().begin(), k.scopes().end());
  return p;
}

}  // namespace crm::access
