// libFuzzer target: the embedded log's on-disk decoders (common/eventlog/embedded_format.h) on
// any bytes, as a damaged disk could hand them. They must never read out of bounds, and what
// they accept must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/eventlog/embedded_format.h"

namespace {

namespace embedded = crm::eventlog::embedded;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto record = embedded::DecodeRecord(bytes); record.ok()) {
    if (embedded::EncodeRecord(record->first, record->second) != bytes) __builtin_trap();
  }
  if (auto offset = embedded::DecodeOffset(bytes); offset.ok()) {
    if (embedded::EncodeOffset(*offset) != bytes) __builtin_trap();
  }
  if (auto count = embedded::DecodePartitionCount(bytes); count.ok()) {
    if (embedded::EncodePartitionCount(*count) != bytes) __builtin_trap();
  }
  if (auto end = embedded::DecodeEndKey(bytes); end.ok()) {
    if (embedded::PartitionPrefix('e', end->first, end->second) != bytes) __builtin_trap();
  }
  // A record key under the prefix of the topic and partition its first bytes name.
  if (auto end = embedded::DecodeEndKey(bytes.substr(0, size >= 8 ? size - 8 : 0)); end.ok()) {
    const std::string prefix = embedded::PartitionPrefix('r', end->first, end->second);
    std::string key = "r" + std::string(bytes.substr(1));
    if (auto offset = embedded::DecodeRecordOffset(key, prefix); offset.ok()) {
      if (embedded::RecordKey(end->first, end->second, *offset) != key) __builtin_trap();
    }
  }
  return 0;
}
