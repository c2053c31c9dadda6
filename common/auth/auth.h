// Who is calling and what they may do: bearer JWTs checked against configured keys, and the
// scope each gRPC method needs. The gRPC side (common/grpc/auth_gate.h) applies this to every
// call of every service in one place.
//
//   ASSIGN_OR_RETURN(auto authn, Authenticator::Create(options));
//   absl::StatusOr<Principal> caller =
//       authn->Check("/crm.contact.v1.ContactService/GetContact", "Bearer eyJ...", absl::Now());
//
// Scopes: "<area>.read" for the methods that only read (Get, List, Search, Find, Read,
// Suggest..., Subscribe, the change feed, and ExportRecords), "<area>.write" for every other
// method, where the area is the service's: contacts, interactions, sales, analytics, webhooks
// (crm.analytics.v1.WebhookService), automation (crm.analytics.v1.AutomationService); "admin" for
// crm.admin.v1.AdminService. The health and reflection services need no credential.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace crm::auth {

inline constexpr char kAdminScope[] = "admin";
// Lets a caller see personal data unmasked (common/grpc/privacy.h); needed by no method.
inline constexpr char kPersonalDataScope[] = "personal_data";

// The caller of one call, from its credential.
struct Principal {
  // The tenant every read and write of the call is confined to.
  std::string tenant;
  // Who (the token's subject), recorded as the actor of the events the call appends.
  std::string subject;
  std::set<std::string> scopes;

  bool Has(std::string_view scope) const { return scopes.contains(std::string(scope)); }
};

// The scope a call of `method` (its full gRPC path, "/package.Service/Method") needs; empty
// for the methods anyone may call (health checks, reflection). `<area>.read` for the reading
// verbs of a service, `<area>.write` for the rest, "admin" for AdminService and EraseContact,
// "personal_data" for ExportContactData.
std::string RequiredScope(std::string_view method);

// The scopes that exist, for documentation and for tokens that should hold all of them.
std::set<std::string> AllScopes();

struct JwtOptions {
  // The "iss" every token must carry; empty: not checked.
  std::string issuer;
  // A value the token's "aud" (a string or an array) must hold; empty: not checked.
  std::string audience;
  // HS256 shared secret; empty: HS256 tokens are refused.
  std::string hs256_secret;
  // RS256 public key (PEM); empty: RS256 tokens are refused.
  std::string rs256_public_key_pem;
  // The claim that names the caller's tenant.
  std::string tenant_claim = "tenant";
  // Clock skew allowed on "exp" and "nbf".
  absl::Duration leeway = absl::Seconds(30);
};

// Knows the API keys of integration partners (common/access/api_keys.h).
class ApiKeyResolver {
 public:
  virtual ~ApiKeyResolver() = default;
  // The principal of an API key, or UNAUTHENTICATED saying why not.
  virtual absl::StatusOr<Principal> Resolve(std::string_view key, absl::Time now) const = 0;
};

// API keys start with this; anything else after "Bearer " is taken for a JWT.
inline constexpr std::string_view kApiKeyPrefix = "crmk_";

class Authenticator {
 public:
  // INVALID_ARGUMENT when no key is given or the RS256 key is not a PEM public key.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(JwtOptions options);

  // The principal of a bearer token: UNAUTHENTICATED (saying why) unless it is signed with a
  // configured key by an allowed algorithm, from the issuer, for the audience, within its "nbf"
  // and "exp", with a subject and a tenant. A token that verified is remembered (by its exact
  // bytes, at most kCachedTokens of them) until it expires, so a client's next calls cost a
  // lookup instead of a signature check.
  absl::StatusOr<Principal> Verify(std::string_view token, absl::Time now) const;

  static constexpr size_t kCachedTokens = 10000;

  // Accepts API keys ("Bearer crmk_...") known to `keys` (which must outlive this), before
  // the authenticator is shared.
  void UseApiKeys(const ApiKeyResolver* keys) { api_keys_ = keys; }

  // Whether a call of `method` with the `authorization` metadata value (empty when absent) may
  // proceed: the caller's principal, UNAUTHENTICATED (no or a bad credential) or
  // PERMISSION_DENIED (the scope the method needs is missing). Methods needing no scope get an
  // empty principal.
  absl::StatusOr<Principal> Check(std::string_view method, std::string_view authorization,
                                  absl::Time now) const;

 private:
  explicit Authenticator(JwtOptions options) : options_(std::move(options)) {}
  // The checks of Verify, without the cache; sets the window in which the token is valid.
  absl::StatusOr<Principal> VerifyUncached(std::string_view token, absl::Time now,
                                           absl::Time& valid_from, absl::Time& valid_until) const;

  const JwtOptions options_;
  const ApiKeyResolver* api_keys_ = nullptr;
  struct Verified {
    Principal principal;
    absl::Time valid_from;
    absl::Time valid_until;
  };
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, Verified> verified_ ABSL_GUARDED_BY(mu_);
};

// A signed token, for development and tests (production tokens come from the identity
// provider): HS256 with `hs256_secret`, else RS256 with `rs256_private_key_pem`.
struct TokenClaims {
  std::string subject;
  std::string tenant;
  std::set<std::string> scopes;
  std::string issuer;                            // empty: no "iss"
  std::string audience;                          // empty: no "aud"
  absl::Time not_before = absl::InfinitePast();  // InfinitePast: no "nbf"
  absl::Time expires = absl::Now() + absl::Hours(1);
  std::string tenant_claim = "tenant";
};
absl::StatusOr<std::string> MintToken(const TokenClaims& claims, const std::string& hs256_secret,
                                      const std::string& rs256_private_key_pem = "");

}  // namespace crm::auth
