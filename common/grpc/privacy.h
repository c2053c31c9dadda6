// Personal data in responses: the fields marked (crm.common.v1.personal_data) in the protos,
// masked for callers without the "personal_data" scope, and the people whose data a response
// shows, for the access log. The auth interceptor (auth_gate.h) applies both to every response.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <set>
#include <string>
#include <string_view>

#include "common/auth/auth.h"

namespace crm::grpcutil {

using auth::kPersonalDataScope;

// "Ada" -> "A***", "ada@example.com" -> "a***@example.com", "+34911234567" -> "***67"; "" stays.
std::string MaskValue(std::string_view value);

// True if a message of `type` can hold personal data (at any depth). Cached.
bool CanHoldPersonalData(const google::protobuf::Descriptor& type);

// Masks every personal-data field in `message` (every string inside it) and the before/after
// of history changes to personal fields. True if anything was masked.
bool MaskPersonalData(google::protobuf::Message& message);

// Adds to `subjects` the id of each record whose personal data `message` shows: the "id",
// "contact_id" or "record_id" of the message around each personal field that is set.
void PersonalDataSubjects(const google::protobuf::Message& message,
                          std::set<std::string>& subjects);

}  // namespace crm::grpcutil
