// History: the audit-trail entry of one change (written at apply) and the fields it changed
// (derived when read, from the record's stored states before and after the change; JSON is
// rendered from deterministic bytes, so the same states always give the same changes).
#pragma once

#include <vector>

#include "crm/common/v1/envelope.pb.h"
#include "crm/contact/v1/resources.pb.h"
#include "google/protobuf/message.h"

namespace crm::contact {

// The fields that differ between `before` (null: nothing existed) and `after`, as paths with
// JSON values. Nested crm.* messages are compared field by field ("personal.given_name");
// version and update_time are left out (every change moves them).
std::vector<crm::contact::v1::FieldChange> Diff(const google::protobuf::Message* before,
                                                const google::protobuf::Message& after);

// The history entry for `event`, which made `version` of a record at `time`; without its
// changes (Diff of the stored states gives them).
crm::contact::v1::HistoryEntry MakeHistoryEntry(const crm::common::v1::EventEnvelope& event,
                                                int64_t version,
                                                const google::protobuf::Timestamp& time);

}  // namespace crm::contact
