// crm-bench's scale scenario: for each data-set size, a log of generated events (per contact a
// ContactCreated, its orders and its interactions) is written to a fresh node data directory, a
// crm-node is started on it and timed until it serves (every projection caught up), then until
// it is idle (background flushes and compactions done), the reads are measured, and the node's
// resident memory and the bytes on disk per record are taken. Running the same reads at a small and
// a large size in one run shows what size costs.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/crmbench/load.h"

namespace crm::bench {

struct ScaleOptions {
  // The crm-node binary to start.
  std::string node_binary;
  // Scratch directory; each size gets a data directory under it, removed afterwards.
  std::string work_dir;
  // Contacts per data set, measured in this order.
  std::vector<int64_t> sizes;
  int interactions_per_contact = 3;
  int orders_per_contact = 1;
  // The node's --rocksdb-memory-mib; 0 leaves the node's default.
  int rocksdb_memory_mib = 0;
  // How long a node may take to catch up with its log before the run fails.
  absl::Duration catch_up_timeout = absl::Hours(1);
  // After the catch-up, the reads wait until the node is idle (its flushes and compactions of
  // the catch-up's writes done), at most this long: the reads measure a settled store.
  absl::Duration settle_timeout = absl::Minutes(5);
};

struct ScaleResult {
  int64_t contacts = 0;
  int64_t interactions = 0;
  int64_t orders = 0;
  int64_t events = 0;
  double generate_seconds = 0;  // writing the log
  double catch_up_seconds = 0;  // node start until SERVING
  double settle_seconds = 0;    // then until the node was idle (ScaleOptions::settle_timeout)
  int64_t rss_bytes = 0;        // the node's resident memory after the reads
  int64_t peak_rss_bytes = 0;   // its peak (catch-up included)
  // Bytes on disk after an orderly stop: "log" and each projection.
  std::map<std::string, int64_t> disk_bytes;
  // Sorted runs of each projection's store (its column families' together) when the node was
  // idle, before the reads: the places a read looks in besides the memtables.
  std::map<std::string, int64_t> sorted_runs;
  std::vector<LoadResult> reads;
};

// Runs the reads on a node serving the data set; `contact_ids` are the generated contacts, in
// generation order (contact i is named ContactGivenName(i) ContactFamilyName(i)).
using ScaleReads = std::function<std::vector<LoadResult>(std::shared_ptr<grpc::Channel> channel,
                                                         std::vector<std::string> contact_ids)>;

// One result per size. INTERNAL or UNAVAILABLE with the reason (and the node's log) if a data
// set cannot be generated or the node does not start or catch up in time.
absl::StatusOr<std::vector<ScaleResult>> RunScale(const ScaleOptions& options,
                                                  const ScaleReads& reads);

}  // namespace crm::bench
