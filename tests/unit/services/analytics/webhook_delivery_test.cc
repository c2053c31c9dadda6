// What a webhook delivery is made of (services/analytics/webhooks/delivery.h): the signature a
// receiver recomputes, the body without sealed personal data, and the retry schedule.
#include <gtest/gtest.h>

#include "crm/contact/v1/events.pb.h"
#include "nlohmann/json.hpp"
#include "services/analytics/webhooks/delivery.h"

namespace crm::analytics::webhooks {
namespace {

using crm::common::v1::EventEnvelope;

TEST(WebhookSignatureTest, IsHmacSha256OfTimestampDotBodyInLowercaseHex) {
  // Python: hmac.new(b"whsec-unit", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
  EXPECT_EQ(Signature("whsec-unit", 1700000000, R"({"a":1})"),
            "v1=3dfa6bb23ff2975b88689d86f9736d2d20c3999469bbe8365668c872cbf39209");
  const std::string base = Signature("whsec-unit", 1700000000, "{}");
  EXPECT_NE(Signature("whsec-unit", 1700000001, "{}"), base);  // a replayed timestamp fails
  EXPECT_NE(Signature("whsec-unit", 1700000000, "{} "), base);
  EXPECT_NE(Signature("whsec-other", 1700000000, "{}"), base);
}

TEST(WebhookHeadersTest, CarryTheIdsTheAttemptAndASignatureOfThisBodyAtThisTime) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  const Headers headers = DeliveryHeaders("W1", "E1", 3, "whsec-unit", R"({"a":1})", now);
  std::map<std::string, std::string> h(headers.begin(), headers.end());
  EXPECT_EQ(h["X-CRM-Webhook-Id"], "W1");
  EXPECT_EQ(h["X-CRM-Delivery-Id"], "E1");
  EXPECT_EQ(h["Idempotency-Key"], "E1");
  EXPECT_EQ(h["X-CRM-Attempt"], "3");
  EXPECT_EQ(h["X-CRM-Timestamp"], "1700000000");
  EXPECT_EQ(h["X-CRM-Signature"], Signature("whsec-unit", 1700000000, R"({"a":1})"));
  EXPECT_EQ(h["Content-Type"], "application/json");
}

TEST(WebhookBodyTest, IsTheEnvelopeAsJsonWithoutSealedPersonalData) {
  crm::contact::v1::ContactCreated created;
  created.mutable_contact()->set_id("C1");
  created.mutable_contact()->set_lifecycle_stage(crm::contact::v1::LIFECYCLE_STAGE_LEAD);
  created.mutable_sealed_personal()->set_key_id("C1");
  created.mutable_sealed_personal()->set_ciphertext("secret-bytes");
  EventEnvelope event;
  event.set_event_id("E1");
  event.set_tenant("acme");
  event.set_event_type("crm.contact.v1.ContactCreated");
  event.set_aggregate_id("C1");
  event.mutable_payload()->PackFrom(created);

  absl::StatusOr<std::string> body = DeliveryBody("W1", event);
  ASSERT_TRUE(body.ok()) << body.status();
  const nlohmann::json json = nlohmann::json::parse(*body);
  EXPECT_EQ(json["webhookId"], "W1");
  EXPECT_EQ(json["deliveryId"], "E1");
  EXPECT_EQ(json["event"]["tenant"], "acme");
  EXPECT_EQ(json["event"]["payload"]["contact"]["id"], "C1");
  EXPECT_FALSE(json["event"]["payload"].contains("sealedPersonal")) << *body;
  EXPECT_EQ(body->find("c2VjcmV0"), std::string::npos);  // base64 of the ciphertext

  event.mutable_payload()->set_type_url("type.googleapis.com/crm.nowhere.v1.Unknown");
  EXPECT_EQ(DeliveryBody("W1", event).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(WebhookRetryTest, DoublesFromTheBaseUpToTheCapWithJitterInTheUpperHalf) {
  const absl::Duration base = absl::Seconds(10);
  const absl::Duration cap = absl::Hours(1);
  EXPECT_EQ(RetryDelay(1, base, cap, 0.0), absl::Seconds(5));
  EXPECT_EQ(RetryDelay(1, base, cap, 1.0), absl::Seconds(10));
  EXPECT_EQ(RetryDelay(2, base, cap, 1.0), absl::Seconds(20));
  EXPECT_EQ(RetryDelay(4, base, cap, 0.5), absl::Seconds(60));
  EXPECT_EQ(RetryDelay(30, base, cap, 1.0), cap);  // no overflow, capped
  EXPECT_EQ(RetryDelay(30, base, cap, 0.0), cap / 2);
  for (int attempt = 1; attempt < 12; ++attempt) {
    EXPECT_LE(RetryDelay(attempt, base, cap, 0.99), RetryDelay(attempt + 1, base, cap, 0.99));
  }
}

}  // namespace
}  // namespace crm::analytics::webhooks
