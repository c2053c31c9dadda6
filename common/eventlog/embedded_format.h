// The embedded log's on-disk format (one RocksDB database), and decoders that check every length
// before reading: a damaged entry is DATA_LOSS naming it, never a read past its end.
//
//   "r" topic \0 partition(BE32) offset(BE64)  -> u32 key length (BE), key, value
//   "e" topic \0 partition(BE32)               -> end offset (BE64), written with the records
//   "m" "partitions"                           -> partition count (BE32)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace crm::eventlog::embedded {

inline constexpr char kPartitionsKey[] = "mpartitions";

// `kind` topic \0 partition: the prefix of a partition's records ('r') or its end key ('e').
std::string PartitionPrefix(char kind, std::string_view topic, int32_t partition);
std::string RecordKey(std::string_view topic, int32_t partition, int64_t offset);

// A record's value: its key and value framed.
std::string EncodeRecord(std::string_view key, std::string_view value);
// The key and value of a framed record (views into `stored`).
absl::StatusOr<std::pair<std::string_view, std::string_view>> DecodeRecord(std::string_view stored);

// The offset in a record key under `prefix` (PartitionPrefix('r', ...)).
absl::StatusOr<int64_t> DecodeRecordOffset(std::string_view key, std::string_view prefix);

// The topic and partition of an end key ("e" topic \0 partition), and its end offset.
absl::StatusOr<std::pair<std::string, int32_t>> DecodeEndKey(std::string_view key);
std::string EncodeOffset(int64_t offset);
absl::StatusOr<int64_t> DecodeOffset(std::string_view stored);

// The partition count per topic (kPartitionsKey).
std::string EncodePartitionCount(int32_t partitions);
absl::StatusOr<int32_t> DecodePartitionCount(std::string_view stored);

}  // namespace crm::eventlog::embedded
