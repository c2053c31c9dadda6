// crm-bench's rebuild scenario, in process: a log of N generated events on the embedded log,
// each service's projection rebuilt from it (events per second), beside a raw RocksDB WriteBatch
// ingest of as many records of the same size, measured in the same run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/crmbench/load.h"

namespace crm::bench {

// Results named "rebuild_<service>" (contact, interaction, sales, analytics) and
// "rocksdb_ingest"; throughput_per_s is events (records) per second. Works under `work_dir`.
absl::StatusOr<std::vector<LoadResult>> RunRebuild(const std::string& work_dir, int64_t events);

}  // namespace crm::bench
