#include "common/eventlog/embedded_format.h"

#include "absl/strings/str_cat.h"
#include "common/store/big_endian.h"

namespace crm::eventlog::embedded {
namespace {

using store::GetBigEndian;
using store::PutBigEndian;

absl::Status Damaged(const char* what) {
  return absl::DataLossError(absl::StrCat("embedded log: ", what,
                                          " is damaged; the log is the source of truth — restore "
                                          "its directory from a backup"));
}

}  // namespace

std::string PartitionPrefix(char kind, std::string_view topic, int32_t partition) {
  std::string k(1, kind);
  k.append(topic);
  k.push_back('\0');
  PutBigEndian(k, static_cast<uint32_t>(partition), 4);
  return k;
}

std::string RecordKey(std::string_view topic, int32_t partition, int64_t offset) {
  std::string k = PartitionPrefix('r', topic, partition);
  PutBigEndian(k, static_cast<uint64_t>(offset), 8);
  return k;
}

std::string EncodeRecord(std::string_view key, std::string_view value) {
  std::string v;
  v.reserve(4 + key.size() + value.size());
  PutBigEndian(v, key.size(), 4);
  v.append(key);
  v.append(value);
  return v;
}

absl::StatusOr<std::pair<std::string_view, std::string_view>> DecodeRecord(
    std::string_view stored) {
  if (stored.size() < 4) return Damaged("a record (shorter than its key length)");
  const auto key_length = static_cast<size_t>(GetBigEndian(stored, 4));
  if (key_length > stored.size() - 4) return Damaged("a record (key longer than the record)");
  return std::pair{stored.substr(4, key_length), stored.substr(4 + key_length)};
}

absl::StatusOr<int64_t> DecodeRecordOffset(std::string_view key, std::string_view prefix) {
  if (key.size() != prefix.size() + 8 || key.substr(0, prefix.size()) != prefix) {
    return Damaged("a record key");
  }
  return static_cast<int64_t>(GetBigEndian(key.substr(prefix.size()), 8));
}

absl::StatusOr<std::pair<std::string, int32_t>> DecodeEndKey(std::string_view key) {
  const size_t nul = key.find('\0');
  if (key.empty() || key[0] != 'e' || nul == std::string_view::npos || key.size() != nul + 5) {
    return Damaged("an end-offset key");
  }
  return std::pair{std::string(key.substr(1, nul - 1)),
                   static_cast<int32_t>(GetBigEndian(key.substr(nul + 1), 4))};
}

std::string EncodeOffset(int64_t offset) {
  std::string v;
  PutBigEndian(v, static_cast<uint64_t>(offset), 8);
  return v;
}

absl::StatusOr<int64_t> DecodeOffset(std::string_view stored) {
  if (stored.size() != 8) return Damaged("an end offset");
  const auto offset = static_cast<int64_t>(GetBigEndian(stored, 8));
  if (offset < 0) return Damaged("an end offset (negative)");
  return offset;
}

std::string EncodePartitionCount(int32_t partitions) {
  std::string v;
  PutBigEndian(v, static_cast<uint32_t>(partitions), 4);
  return v;
}

absl::StatusOr<int32_t> DecodePartitionCount(std::string_view stored) {
  if (stored.size() != 4) return Damaged("the partition count");
  return static_cast<int32_t>(GetBigEndian(stored, 4));
}

}  // namespace crm::eventlog::embedded
