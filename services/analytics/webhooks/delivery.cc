#include "services/analytics/webhooks/delivery.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace crm::analytics::webhooks {

using crm::common::v1::EventEnvelope;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

namespace {

constexpr char kSealedType[] = "crm.common.v1.SealedData";

void ClearSealed(Message& message) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->message_type()->full_name() == kSealedType) {
      reflection->ClearField(&message, field);
    } else if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        ClearSealed(*reflection->MutableRepeatedMessage(&message, field, i));
      }
    } else {
      ClearSealed(*reflection->MutableMessage(&message, field));
    }
  }
}

}  // namespace

std::string Signature(std::string_view secret, int64_t timestamp, std::string_view body) {
  const std::string signed_text = absl::StrCat(timestamp, ".", std::string(body));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac,
       &length);
  return absl::StrCat("v1=",
                      absl::BytesToHexString(std::string(reinterpret_cast<char*>(mac), length)));
}

absl::StatusOr<EventEnvelope> WithoutSealedData(EventEnvelope event) {
  if (!event.has_payload()) return event;
  const std::string& url = event.payload().type_url();
  const std::string type = url.substr(url.rfind('/') + 1);
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
  if (descriptor == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("payload: unknown type ", type));
  }
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
  std::unique_ptr<Message> payload(prototype->New());
  if (!event.payload().UnpackTo(payload.get())) {
    return absl::InvalidArgumentError(absl::StrCat("payload: not a ", type));
  }
  ClearSealed(*payload);
  event.mutable_payload()->PackFrom(*payload);
  return event;
}

absl::StatusOr<std::string> DeliveryBody(const std::string& webhook_id,
                                         const EventEnvelope& event) {
  absl::StatusOr<EventEnvelope> shown = WithoutSealedData(event);
  if (!shown.ok()) return shown.status();
  std::string event_json;
  google::protobuf::util::JsonPrintOptions options;
  auto printed = google::protobuf::util::MessageToJsonString(*shown, &event_json, options);
  if (!printed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("event: ", printed.ToString()));
  }
  // The ids are plain text; the event is JSON already and goes in as it is.
  return absl::StrCat(R"({"webhookId":)", nlohmann::json(webhook_id).dump(), R"(,"deliveryId":)",
                      nlohmann::json(event.event_id()).dump(), R"(,"event":)", event_json, "}");
}

Headers DeliveryHeaders(const std::string& webhook_id, const std::string& delivery_id, int attempt,
                        std::string_view secret, std::string_view body, absl::Time now) {
  const int64_t timestamp = absl::ToUnixSeconds(now);
  return {
      {"Content-Type", "application/json"},
      {"User-Agent", "crm-webhooks/1"},
      {"X-CRM-Webhook-Id", webhook_id},
      {"X-CRM-Delivery-Id", delivery_id},
      {"Idempotency-Key", delivery_id},
      {"X-CRM-Attempt", absl::StrCat(attempt)},
      {"X-CRM-Timestamp", absl::StrCat(timestamp)},
      {"X-CRM-Signature", Signature(secret, timestamp, body)},
  };
}

absl::Duration RetryDelay(int attempt, absl::Duration base, absl::Duration cap, double jitter) {
  absl::Duration delay = base;
  for (int i = 1; i < attempt && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  jitter = std::clamp(jitter, 0.0, 1.0);
  return delay / 2 + delay * (jitter / 2);
}

}  // namespace crm::analytics::webhooks
