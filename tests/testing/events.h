// Event envelopes for unit tests of apply and projections.
#pragma once

#include <string>

#include "crm/common/v1/envelope.pb.h"
#include "google/protobuf/message.h"

namespace crm::testing {

// The envelope of `payload` for aggregate `id` at `expected` version, occurring at `seconds`.
inline crm::common::v1::EventEnvelope MakeTestEvent(const google::protobuf::Message& payload,
                                                    const std::string& id, int64_t expected,
                                                    int64_t seconds,
                                                    const std::string& event_id = "",
                                                    const std::string& tenant = "t") {
  crm::common::v1::EventEnvelope e;
  e.set_event_id(event_id.empty() ? id + "-v" + std::to_string(expected + 1) : event_id);
  e.set_tenant(tenant);
  e.set_aggregate_id(id);
  e.set_expected_version(expected);
  e.set_aggregate_version(expected + 1);
  e.set_event_type(payload.GetDescriptor()->full_name());
  e.mutable_payload()->PackFrom(payload);
  e.mutable_occurred_at()->set_seconds(seconds);
  return e;
}

}  // namespace crm::testing
