#include "common/grpc/wire.h"

#include <grpcpp/support/slice.h>

#include <vector>

#include "common/grpc/request_log.h"
#include "common/projection/wire_field.h"

namespace crm::grpcutil {

absl::Status ParseRequest(const grpc::ByteBuffer& raw, google::protobuf::MessageLite& request) {
  TakeInvalidUtf8Field();  // nothing from an earlier parse on this thread
  std::vector<grpc::Slice> slices;
  bool parsed = false;
  if (!raw.Valid()) {
    parsed = request.ParseFromString("");  // no bytes at all: an empty message
  } else if (raw.Dump(&slices).ok()) {
    if (slices.size() == 1) {
      parsed = request.ParseFromArray(slices[0].begin(), static_cast<int>(slices[0].size()));
    } else {
      std::string joined;
      for (const grpc::Slice& s : slices) {
        joined.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      parsed = request.ParseFromString(joined);
    }
  }
  if (parsed) return absl::OkStatus();
  return UnparsableRequest(TakeInvalidUtf8Field());
}

void WireWriter::Add(int field, std::string_view serialized) {
  projection::AppendField(out_, field, serialized);
}

grpc::ByteBuffer WireWriter::Finish() && {
  grpc::Slice slice(out_);
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace crm::grpcutil
