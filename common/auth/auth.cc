#include "common/auth/auth.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <strings.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace crm::auth {
namespace {

struct Area {
  std::string_view service;  // "package.Service"
  std::string_view scope;    // its scopes' stem; the admin service's is the whole scope
};

constexpr std::array<Area, 7> kAreas = {{
    {"crm.contact.v1.ContactService", "contacts"},
    {"crm.interaction.v1.InteractionService", "interactions"},
    {"crm.sales.v1.SalesService", "sales"},
    {"crm.analytics.v1.AnalyticsService", "analytics"},
    {"crm.analytics.v1.WebhookService", "webhooks"},
    {"crm.analytics.v1.AutomationService", "automation"},
    {"crm.admin.v1.AdminService", kAdminScope},
}};

// Method name prefixes of the calls that only read.
constexpr std::array<std::string_view, 6> kReadVerbs = {"Get",  "List",    "Search",
                                                        "Find", "Suggest", "Read"};

bool IsReadMethod(std::string_view name) {
  if (name == "Subscribe") return true;      // the change feed
  if (name == "ExportRecords") return true;  // a tenant's export
  return std::any_of(kReadVerbs.begin(), kReadVerbs.end(), [&](std::string_view verb) {
    return name.starts_with(verb) && name.size() > verb.size() && name[verb.size()] >= 'A' &&
           name[verb.size()] <= 'Z';
  });
}

absl::Status Unauthenticated(const std::string& why) {
  return absl::UnauthenticatedError(absl::StrCat("authorization: ", why));
}

// A tenant from a token follows the rule of --tenant: 1-64 of a-z 0-9 -.
bool UsableTenant(std::string_view t) {
  return !t.empty() && t.size() <= 64 && std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

struct JwtDeleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

// The token verified with `key` and of algorithm `alg`; null if either does not hold.
JwtPtr Decode(std::string_view token, const std::string& key, jwt_alg_t alg) {
  if (key.empty()) return nullptr;
  jwt_t* raw = nullptr;
  const std::string t(token);
  if (jwt_decode(&raw, t.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                 static_cast<int>(key.size())) != 0) {
    if (raw != nullptr) jwt_free(raw);
    return nullptr;
  }
  JwtPtr jwt(raw);
  // The algorithm must be the one the key is for: an HS256 token "signed" with the RS256
  // public key as its secret would otherwise pass.
  if (jwt_get_alg(jwt.get()) != alg) return nullptr;
  return jwt;
}

// The token's header algorithm, for the error message; "?" if unreadable.
std::string HeaderAlg(std::string_view token) {
  const size_t dot = token.find('.');
  if (dot == std::string_view::npos) return "?";
  std::string header(token.substr(0, dot));
  std::replace(header.begin(), header.end(), '-', '+');
  std::replace(header.begin(), header.end(), '_', '/');
  while (header.size() % 4 != 0) header.push_back('=');
  std::string decoded(header.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                reinterpret_cast<const unsigned char*>(header.data()),
                                static_cast<int>(header.size()));
  if (n <= 0) return "?";
  decoded.resize(static_cast<size_t>(n));
  while (!decoded.empty() && decoded.back() == '\0') decoded.pop_back();
  const nlohmann::json h = nlohmann::json::parse(decoded, nullptr, /*allow_exceptions=*/false);
  if (!h.is_object() || !h.contains("alg") || !h["alg"].is_string()) return "?";
  return h["alg"].get<std::string>();
}

}  // namespace

std::string RequiredScope(std::string_view method) {
  if (method.starts_with('/')) method.remove_prefix(1);
  const size_t slash = method.find('/');
  const std::string_view service = method.substr(0, slash);
  const std::string_view name =
      slash == std::string_view::npos ? std::string_view() : method.substr(slash + 1);
  if (service == "grpc.health.v1.Health" || service.starts_with("grpc.reflection.")) return "";
  // The data subject's rights: erasure is irreversible, for administrators (the data protection
  // officer's role); an export is all of one person's personal data.
  if (name == "EraseContact") return kAdminScope;
  if (name == "ExportContactData") return kPersonalDataScope;
  for (const Area& area : kAreas) {
    if (area.service != service) continue;
    if (area.scope == kAdminScope) return kAdminScope;
    return std::string(area.scope) + (IsReadMethod(name) ? ".read" : ".write");
  }
  return kAdminScope;  // a service this table does not know: only administrators
}

std::set<std::string> AllScopes() {
  std::set<std::string> all = {kAdminScope, kPersonalDataScope};
  for (const Area& area : kAreas) {
    if (area.scope == kAdminScope) continue;
    all.insert(std::string(area.scope) + ".read");
    all.insert(std::string(area.scope) + ".write");
  }
  return all;
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(JwtOptions options) {
  if (options.hs256_secret.empty() && options.rs256_public_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "JWT authentication needs a key: an HS256 secret or an RS256 public key");
  }
  if (!options.hs256_secret.empty() && options.hs256_secret.size() < 32) {
    return absl::InvalidArgumentError(
        "the HS256 secret is too short: use at least 32 bytes (256 bits) of random data");
  }
  if (!options.rs256_public_key_pem.empty()) {
    BIO* bio = BIO_new_mem_buf(options.rs256_public_key_pem.data(),
                               static_cast<int>(options.rs256_public_key_pem.size()));
    EVP_PKEY* key = bio == nullptr ? nullptr : PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    const bool rsa = key != nullptr && EVP_PKEY_base_id(key) == EVP_PKEY_RSA;
    EVP_PKEY_free(key);
    BIO_free(bio);
    if (!rsa) {
      return absl::InvalidArgumentError(
          "the RS256 key is not an RSA public key in PEM (\"-----BEGIN PUBLIC KEY-----\")");
    }
  }
  if (options.tenant_claim.empty()) {
    return absl::InvalidArgumentError("the tenant claim's name is empty");
  }
  return std::unique_ptr<Authenticator>(new Authenticator(std::move(options)));
}

absl::StatusOr<Principal> Authenticator::Verify(std::string_view token, absl::Time now) const {
  const std::string key(token);
  {
    absl::MutexLock lock(&mu_);
    const auto it = verified_.find(key);
    if (it != verified_.end() && now >= it->second.valid_from && now < it->second.valid_until) {
      return it->second.principal;
    }
  }
  absl::Time valid_from;
  absl::Time valid_until;
  absl::StatusOr<Principal> p = VerifyUncached(token, now, valid_from, valid_until);
  if (p.ok()) {
    absl::MutexLock lock(&mu_);
    if (verified_.size() >= kCachedTokens) verified_.clear();  // crude, and rare
    verified_[key] = Verified{*p, valid_from, valid_until};
  }
  return p;
}

absl::StatusOr<Principal> Authenticator::VerifyUncached(std::string_view token, absl::Time now,
                                                        absl::Time& valid_from,
                                                        absl::Time& valid_until) const {
  JwtPtr jwt = Decode(token, options_.hs256_secret, JWT_ALG_HS256);
  if (!jwt) jwt = Decode(token, options_.rs256_public_key_pem, JWT_ALG_RS256);
  if (!jwt) {
    const std::string alg = HeaderAlg(token);
    if (alg == "?") return Unauthenticated("the bearer token is not a JWT");
    if ((alg == "HS256" && !options_.hs256_secret.empty()) ||
        (alg == "RS256" && !options_.rs256_public_key_pem.empty())) {
      return Unauthenticated("the token's signature does not verify");
    }
    return Unauthenticated(absl::StrCat("tokens signed with ", alg, " are not accepted here"));
  }
  char* grants = jwt_get_grants_json(jwt.get(), nullptr);
  const nlohmann::json claims =
      grants == nullptr ? nlohmann::json()
                        : nlohmann::json::parse(grants, nullptr, /*allow_exceptions=*/false);
  std::free(grants);
  if (!claims.is_object()) return Unauthenticated("the token's claims are not a JSON object");

  const int64_t now_s = absl::ToUnixSeconds(now);
  const int64_t leeway = absl::ToInt64Seconds(options_.leeway);
  if (!claims.contains("exp") || !claims["exp"].is_number()) {
    return Unauthenticated("the token has no expiry (\"exp\")");
  }
  if (claims["exp"].get<double>() + static_cast<double>(leeway) <= static_cast<double>(now_s)) {
    return Unauthenticated("the token has expired");
  }
  valid_until =
      absl::FromUnixSeconds(static_cast<int64_t>(claims["exp"].get<double>())) + options_.leeway;
  valid_from = absl::InfinitePast();
  if (claims.contains("nbf")) {
    if (!claims["nbf"].is_number()) return Unauthenticated("the token's \"nbf\" is not a number");
    if (claims["nbf"].get<double>() - static_cast<double>(leeway) > static_cast<double>(now_s)) {
      return Unauthenticated("the token is not valid yet (\"nbf\" is in the future)");
    }
    valid_from =
        absl::FromUnixSeconds(static_cast<int64_t>(claims["nbf"].get<double>())) - options_.leeway;
  }
  if (!options_.issuer.empty()) {
    if (!claims.contains("iss") || claims["iss"] != options_.issuer) {
      return Unauthenticated(absl::StrCat("the token's issuer is not ", options_.issuer));
    }
  }
  if (!options_.audience.empty()) {
    bool ok = false;
    if (claims.contains("aud")) {
      const nlohmann::json& aud = claims["aud"];
      if (aud.is_string()) ok = aud == options_.audience;
      if (aud.is_array()) {
        ok = std::any_of(aud.begin(), aud.end(), [&](const nlohmann::json& a) {
          return a.is_string() && a == options_.audience;
        });
      }
    }
    if (!ok) {
      return Unauthenticated(
          absl::StrCat("the token is not meant for ", options_.audience, " (\"aud\")"));
    }
  }
  Principal p;
  if (!claims.contains("sub") || !claims["sub"].is_string() ||
      claims["sub"].get<std::string>().empty()) {
    return Unauthenticated("the token has no subject (\"sub\")");
  }
  p.subject = claims["sub"].get<std::string>();
  const std::string& tc = options_.tenant_claim;
  if (!claims.contains(tc) || !claims[tc].is_string() ||
      !UsableTenant(claims[tc].get<std::string>())) {
    return Unauthenticated(
        absl::StrCat("the token has no usable tenant (\"", tc, "\": 1-64 of a-z 0-9 -)"));
  }
  p.tenant = claims[tc].get<std::string>();
  // OAuth's "scope" (space-separated) and the common "scp" (an array) both count.
  if (claims.contains("scope") && claims["scope"].is_string()) {
    for (absl::string_view s :
         absl::StrSplit(claims["scope"].get<std::string>(), ' ', absl::SkipEmpty())) {
      p.scopes.emplace(s);
    }
  }
  if (claims.contains("scp") && claims["scp"].is_array()) {
    for (const nlohmann::json& s : claims["scp"]) {
      if (s.is_string()) p.scopes.insert(s.get<std::string>());
    }
  }
  return p;
}

absl::StatusOr<Principal> Authenticator::Check(std::string_view method,
                                               std::string_view authorization,
                                               absl::Time now) const {
  const std::string scope = RequiredScope(method);
  if (scope.empty()) return Principal();
  if (authorization.empty()) {
    return Unauthenticated("no credential; send the metadata \"authorization: Bearer <token>\"");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      strncasecmp(authorization.data(), kBearer.data(), kBearer.size()) != 0) {
    return Unauthenticated("the credential must be \"Bearer <token>\"");
  }
  const std::string_view credential = authorization.substr(kBearer.size());
  absl::StatusOr<Principal> p = !credential.starts_with(kApiKeyPrefix) ? Verify(credential, now)
                                : api_keys_ != nullptr
                                    ? api_keys_->Resolve(credential, now)
                                    : Unauthenticated("API keys are not accepted here");
  if (!p.ok()) return p.status();
  if (!p->Has(scope)) {
    std::string name(method);
    if (name.starts_with('/')) name.erase(0, 1);
    return absl::PermissionDeniedError(absl::StrCat(
        name, " needs the scope \"", scope, "\"; the token of ", p->subject, " holds ",
        p->scopes.empty() ? "none" : absl::StrCat("\"", absl::StrJoin(p->scopes, " "), "\"")));
  }
  return p;
}

absl::StatusOr<std::string> MintToken(const TokenClaims& claims, const std::string& hs256_secret,
                                      const std::string& rs256_private_key_pem) {
  nlohmann::json body = {{"sub", claims.subject},
                         {claims.tenant_claim, claims.tenant},
                         {"exp", absl::ToUnixSeconds(claims.expires)},
                         {"iat", absl::ToUnixSeconds(absl::Now())}};
  if (!claims.scopes.empty()) body["scope"] = absl::StrJoin(claims.scopes, " ");
  if (!claims.issuer.empty()) body["iss"] = claims.issuer;
  if (!claims.audience.empty()) body["aud"] = claims.audience;
  if (claims.not_before != absl::InfinitePast()) {
    body["nbf"] = absl::ToUnixSeconds(claims.not_before);
  }
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return absl::InternalError("jwt_new failed");
  JwtPtr jwt(raw);
  if (jwt_add_grants_json(jwt.get(), body.dump().c_str()) != 0) {
    return absl::InvalidArgumentError("the claims cannot be encoded");
  }
  const std::string& key = hs256_secret.empty() ? rs256_private_key_pem : hs256_secret;
  const jwt_alg_t alg = hs256_secret.empty() ? JWT_ALG_RS256 : JWT_ALG_HS256;
  if (key.empty()) return absl::InvalidArgumentError("no key to sign the token with");
  if (jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(key.data()),
                  static_cast<int>(key.size())) != 0) {
    return absl::InvalidArgumentError("the signing key cannot be used");
  }
  char* encoded = jwt_encode_str(jwt.get());
  if (encoded == nullptr) {
    return absl::InvalidArgumentError("the token cannot be signed with that key");
  }
  std::string token(encoded);
  std::free(encoded);
  return token;
}

}  // namespace crm::auth
