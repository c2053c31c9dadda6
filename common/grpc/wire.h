// For a method served raw (its generated `WithRawCallbackMethod_*` form): its request parsed from
// the bytes gRPC received, and its response written from messages already in their wire form —
// records as a projection stores them — without parsing them into objects only to serialise them
// again. What the caller receives is the same message on the wire.
//
//   v1::ListTimelineRequest request;
//   absl::Status parsed = ParseRequest(*raw_request, request);
//   if (!parsed.ok()) return FinishNow(reactor, parsed);
//   ...
//   WireWriter out;  // ListTimelineResponse: repeated TimelineItem items = 1
//   for (const std::string& item : page->items) out.Add(1, item);
//   *raw_response = std::move(out).Finish();
#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message_lite.h"

namespace crm::grpcutil {

// Parses `raw` into `request`; if it does not parse, INVALID_ARGUMENT saying so as the typed
// methods do (naming a string field that is not UTF-8: UnparsableRequest).
absl::Status ParseRequest(const grpc::ByteBuffer& raw, google::protobuf::MessageLite& request);

// A message's wire form, built field by field in field-number order.
class WireWriter {
 public:
  // A length-delimited field: an embedded message given serialised, a string or bytes. Proto3
  // leaves an empty string or bytes field out; so does the caller.
  void Add(int field, std::string_view serialized);
  // The message, for gRPC to send.
  grpc::ByteBuffer Finish() &&;

 private:
  std::string out_;
};

}  // namespace crm::grpcutil
