#include "common/auth/auth.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include "common/auth/rate_limiter.h"
#include "crm/admin/v1/admin_service.pb.h"
#include "crm/analytics/v1/analytics_service.pb.h"
#include "crm/analytics/v1/webhook_service.pb.h"
#include "crm/contact/v1/contact_service.pb.h"
#include "crm/interaction/v1/interaction_service.pb.h"
#include "crm/sales/v1/sales_service.pb.h"
#include "tests/testing/pki.h"

namespace crm::auth {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

JwtOptions Options() {
  JwtOptions o;
  o.issuer = "https://id.example";
  o.audience = "crm";
  o.hs256_secret = kSecret;
  return o;
}

TokenClaims Claims() {
  TokenClaims c;
  c.subject = "ada";
  c.tenant = "acme";
  c.scopes = {"contacts.read", "contacts.write"};
  c.issuer = "https://id.example";
  c.audience = "crm";
  c.expires = kNow + absl::Minutes(10);
  return c;
}

std::unique_ptr<Authenticator> Make(JwtOptions o = Options()) {
  auto a = Authenticator::Create(std::move(o));
  EXPECT_TRUE(a.ok()) << a.status();
  return a.ok() ? *std::move(a) : nullptr;
}

std::string Sign(const TokenClaims& c, const std::string& secret = kSecret) {
  auto t = MintToken(c, secret);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : "";
}

void ExpectUnauthenticated(const absl::StatusOr<Principal>& p, const std::string& why) {
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated) << p.status();
  EXPECT_NE(p.status().message().find(why), std::string::npos) << p.status();
}

TEST(AuthTest, AValidTokenGivesTheCallersPrincipal) {
  auto authn = Make();
  absl::StatusOr<Principal> p = authn->Verify(Sign(Claims()), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->subject, "ada");
  EXPECT_EQ(p->tenant, "acme");
  EXPECT_EQ(p->scopes, (std::set<std::string>{"contacts.read", "contacts.write"}));
}

TEST(AuthTest, ExpiredAndNotYetValidTokensAreRefused) {
  auto authn = Make();
  TokenClaims c = Claims();
  c.expires = kNow - absl::Minutes(1);  // beyond the 30 s leeway
  ExpectUnauthenticated(authn->Verify(Sign(c), kNow), "expired");
  c.expires = kNow - absl::Seconds(10);  // within it
  EXPECT_TRUE(authn->Verify(Sign(c), kNow).ok());
  c = Claims();
  c.not_before = kNow + absl::Minutes(5);
  ExpectUnauthenticated(authn->Verify(Sign(c), kNow), "not valid yet");
}

TEST(AuthTest, WrongSignatureIssuerAudienceSubjectOrTenantIsRefused) {
  auto authn = Make();
  ExpectUnauthenticated(authn->Verify(Sign(Claims(), std::string(40, 'x')), kNow),
                        "signature does not verify");
  TokenClaims c = Claims();
  c.issuer = "https://evil.example";
  ExpectUnauthenticated(authn->Verify(Sign(c), kNow), "issuer");
  c = Claims();
  c.audience = "billing";
  ExpectUnauthenticated(authn->Verify(Sign(c), kNow), "aud");
  c = Claims();
  c.subject = "";
  ExpectUnauthenticated(authn->Verify(Sign(c), kNow), "subject");
  c = Claims();
  c.tenant = "";
  ExpectUnauthenticated(authn->Verify(Sign(c), kNow), "tenant");
  c.tenant = "Acme\x01";  // not usable as a key part
  ExpectUnauthenticated(authn->Verify(Sign(c), kNow), "tenant");
  ExpectUnauthenticated(authn->Verify("not-a-token", kNow), "not a JWT");
  // A token whose payload was changed after signing.
  std::string t = Sign(Claims());
  const size_t dot = t.find('.');
  t[dot + 5] = t[dot + 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(authn->Verify(t, kNow).ok());
}

TEST(AuthTest, AudienceMayBeAnArrayAndTheTenantClaimIsConfigurable) {
  JwtOptions o = Options();
  o.tenant_claim = "https://crm.example/tenant";
  auto authn = Make(o);
  TokenClaims c = Claims();
  c.tenant_claim = "https://crm.example/tenant";
  EXPECT_TRUE(authn->Verify(Sign(c), kNow).ok());
  c.tenant_claim = "tenant";
  ExpectUnauthenticated(authn->Verify(Sign(c), kNow), "tenant");
}

TEST(AuthTest, Rs256VerifiesWithThePublicKeyAndRefusesAlgorithmConfusion) {
  const testing::KeyPair key = testing::NewRsaKey();
  JwtOptions o = Options();
  o.hs256_secret.clear();
  o.rs256_public_key_pem = key.public_pem;
  auto authn = Make(o);
  auto rs = MintToken(Claims(), "", key.private_pem);
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_TRUE(authn->Verify(*rs, kNow).ok());
  // HS256 "signed" with the public key as the secret: the classic confusion attack.
  ExpectUnauthenticated(authn->Verify(Sign(Claims(), key.public_pem), kNow),
                        "HS256 are not accepted");
  // Another key pair's signature.
  auto other = MintToken(Claims(), "", testing::NewRsaKey().private_pem);
  ASSERT_TRUE(other.ok());
  ExpectUnauthenticated(authn->Verify(*other, kNow), "signature does not verify");
  // HS256 is refused when only an RS256 key is configured.
  ExpectUnauthenticated(authn->Verify(Sign(Claims()), kNow), "not accepted");
}

TEST(AuthTest, ARememberedTokenStillExpiresAndOnlyItsExactBytesAreRemembered) {
  auto authn = Make();
  TokenClaims c = Claims();
  c.expires = kNow + absl::Minutes(1);
  const std::string token = Sign(c);
  ASSERT_TRUE(authn->Verify(token, kNow).ok());
  EXPECT_TRUE(authn->Verify(token, kNow + absl::Seconds(30)).ok());  // remembered
  // Past exp and its leeway the remembered token is refused like any other.
  ExpectUnauthenticated(authn->Verify(token, kNow + absl::Minutes(2)), "expired");
  // A remembered token does not vouch for a changed copy of itself.
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(authn->Verify(forged, kNow).ok());
  // Nor for the time before its nbf.
  c = Claims();
  c.not_before = kNow;
  const std::string later = Sign(c);
  ASSERT_TRUE(authn->Verify(later, kNow).ok());
  ExpectUnauthenticated(authn->Verify(later, kNow - absl::Minutes(5)), "not valid yet");
}

TEST(AuthTest, UnsignedTokensAreRefused) {
  auto authn = Make();
  // {"alg":"none"} . {"sub":"ada","tenant":"acme","exp":9999999999} . (no signature)
  const std::string none =
      "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
      "eyJzdWIiOiJhZGEiLCJ0ZW5hbnQiOiJhY21lIiwiZXhwIjo5OTk5OTk5OTk5fQ.";
  ExpectUnauthenticated(authn->Verify(none, kNow), "none are not accepted");
}

TEST(AuthTest, CreateRefusesMissingOrWeakKeys) {
  JwtOptions o = Options();
  o.hs256_secret.clear();
  EXPECT_EQ(Authenticator::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.hs256_secret = "short";
  EXPECT_NE(Authenticator::Create(o).status().message().find("too short"), std::string::npos);
  o.hs256_secret.clear();
  o.rs256_public_key_pem = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n";
  EXPECT_NE(Authenticator::Create(o).status().message().find("RSA public key"), std::string::npos);
}

TEST(AuthTest, CheckNeedsABearerTokenWithTheMethodsScope) {
  auto authn = Make();
  const std::string get = "/crm.contact.v1.ContactService/GetContact";
  ExpectUnauthenticated(authn->Check(get, "", kNow), "no credential");
  ExpectUnauthenticated(authn->Check(get, "Basic YWRhOnB3", kNow), "Bearer <token>");
  EXPECT_TRUE(authn->Check(get, "Bearer " + Sign(Claims()), kNow).ok());
  EXPECT_TRUE(authn->Check(get, "bearer " + Sign(Claims()), kNow).ok());
  TokenClaims c = Claims();
  c.scopes = {"contacts.read"};
  EXPECT_TRUE(authn->Check(get, "Bearer " + Sign(c), kNow).ok());
  absl::StatusOr<Principal> denied =
      authn->Check("/crm.contact.v1.ContactService/CreateContact", "Bearer " + Sign(c), kNow);
  ASSERT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.status().message(),
            "crm.contact.v1.ContactService/CreateContact needs the scope \"contacts.write\"; "
            "the token of ada holds \"contacts.read\"");
  // Health checks and reflection need nothing.
  EXPECT_TRUE(authn->Check("/grpc.health.v1.Health/Check", "", kNow).ok());
  EXPECT_TRUE(
      authn->Check("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "", kNow)
          .ok());
}

TEST(AuthTest, EveryMethodOfEveryServiceNeedsItsAreasReadOrWriteScope) {
  const std::pair<const google::protobuf::ServiceDescriptor*, std::string> services[] = {
      {crm::contact::v1::CreateContactRequest::descriptor()->file()->service(0), "contacts"},
      {crm::interaction::v1::LogInteractionRequest::descriptor()->file()->service(0),
       "interactions"},
      {crm::sales::v1::PlaceOrderRequest::descriptor()->file()->service(0), "sales"},
      {crm::analytics::v1::GetCustomer360Request::descriptor()->file()->service(0), "analytics"},
      {crm::analytics::v1::CreateWebhookRequest::descriptor()->file()->service(0), "webhooks"},
  };
  int reads = 0;
  for (const auto& [service, area] : services) {
    ASSERT_EQ(service->file()->service_count(), 1) << service->full_name();
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* m = service->method(i);
      const std::string scope = RequiredScope("/" + service->full_name() + "/" + m->name());
      const bool reads_only = m->name().starts_with("Get") || m->name().starts_with("List") ||
                              m->name().starts_with("Search") || m->name().starts_with("Find") ||
                              m->name().starts_with("Suggest") || m->name() == "Subscribe" ||
                              m->name() == "ExportRecords";
      const std::string expected = m->name() == "EraseContact" ? "admin"
                                   : m->name() == "ExportContactData"
                                       ? "personal_data"
                                       : area + (reads_only ? ".read" : ".write");
      EXPECT_EQ(scope, expected) << m->full_name();
      EXPECT_TRUE(AllScopes().contains(scope)) << scope;
      reads += reads_only;
    }
  }
  EXPECT_GT(reads, 40);
  // The data subject's rights.
  EXPECT_EQ(RequiredScope("/crm.contact.v1.ContactService/EraseContact"), "admin");
  EXPECT_EQ(RequiredScope("/crm.contact.v1.ContactService/ExportContactData"), "personal_data");
  const auto* admin = crm::admin::v1::ListDeadLettersRequest::descriptor()->file()->service(0);
  for (int i = 0; i < admin->method_count(); ++i) {
    EXPECT_EQ(RequiredScope("/crm.admin.v1.AdminService/" + admin->method(i)->name()), "admin");
  }
  EXPECT_EQ(RequiredScope("/crm.unknown.v1.Other/GetThing"), "admin");
  // A verb must be a whole word: "Listen" is not "List".
  EXPECT_EQ(RequiredScope("/crm.contact.v1.ContactService/Listen"), "contacts.write");
}

TEST(RateLimiterTest, ABurstThenTheRateEachCallerOnItsOwn) {
  RateLimiter limiter(/*per_second=*/2, /*burst=*/3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Take("acme/ada", kNow), absl::ZeroDuration()) << i;
  // Empty: the next call may come when half a second has refilled one.
  EXPECT_EQ(limiter.Take("acme/ada", kNow), absl::Milliseconds(500));
  EXPECT_EQ(limiter.Take("acme/bob", kNow), absl::ZeroDuration());  // another caller
  EXPECT_EQ(limiter.Take("acme/ada", kNow + absl::Milliseconds(250)), absl::Milliseconds(250));
  EXPECT_EQ(limiter.Take("acme/ada", kNow + absl::Milliseconds(500)), absl::ZeroDuration());
  // Refills stop at the burst.
  const absl::Time later = kNow + absl::Hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Take("acme/ada", later), absl::ZeroDuration());
  EXPECT_GT(limiter.Take("acme/ada", later), absl::ZeroDuration());
}

}  // namespace
}  // namespace crm::auth
