// Prometheus metrics of one process, served over HTTP at /metrics (--metrics-listen):
//
//   grpc_server_handled_total{grpc_service, grpc_method, grpc_code}   calls answered
//   grpc_server_handling_seconds{grpc_service, grpc_method, grpc_code} their latency (histogram)
//   crm_log_append_seconds{topic}, crm_log_append_errors_total{topic}  appends to the event log
//   crm_projection_lag_records{projection, topic, partition}          records not yet applied
//   crm_projection_events_total{projection}                           events applied (rate() of it
//                                                                     is events per second)
//   crm_projection_dead_letters_total, crm_projection_unknown_events_total{projection}
//   crm_store_estimated_keys, crm_store_sst_bytes, crm_store_memtable_bytes{projection, cf}
//   crm_rocksdb_block_cache_hits_total, crm_rocksdb_block_cache_misses_total   data blocks of
//                                                                     every store of the process
//   crm_rocksdb_bloom_filter_useful_total, crm_rocksdb_write_stall_seconds_total,
//   crm_rocksdb_flush_write_bytes_total, crm_rocksdb_compaction_{read,write}_bytes_total,
//   crm_rocksdb_block_cache_{capacity,usage}_bytes, crm_rocksdb_memtable_bytes
//                                                                     its shared RocksDB memory
//   crm_allocator_allocated_bytes, crm_allocator_resident_bytes      the heap (jemalloc): what is
//                                                                     allocated, what it holds
//   process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
//   process_open_fds, process_start_time_seconds                      the usual process metrics
//   crm_analytics_customer360_kept_served_total, crm_analytics_customer360_kept_bytes
//                                                                     the analytics service's kept
//                                                                     360s: answers served from
//                                                                     them, memory they hold
//
// Projection, storage and process metrics are read when scraped, so they cost nothing between
// scrapes.
//
//   ASSIGN_OR_RETURN(auto metrics, Metrics::Start("0.0.0.0:9464"));
//   metrics->AddProjector(service->projector());
//   StartServer(listen, services, metrics->ServerInterceptors());
//   auto log = metrics->Meter(std::move(raw_log));
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/eventlog/event_log.h"
#include "common/projection/projector.h"

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace crm::metrics {

class Metrics {
 public:
  // Serves /metrics on `listen` (host:port; port 0 picks a free one). INVALID_ARGUMENT if it
  // cannot be bound.
  static absl::StatusOr<std::unique_ptr<Metrics>> Start(const std::string& listen);
  ~Metrics();

  // host:port actually bound.
  const std::string& address() const { return address_; }

  // Reports `projector`'s lag, counters and store sizes at every scrape. Before serving.
  void AddProjector(projection::Projector* projector);
  // A service's own counter or gauge, without labels, `read` at every scrape (from the scraping
  // thread: it must be thread-safe). Before serving.
  void AddCounter(std::string name, std::string help, std::function<double()> read);
  void AddGauge(std::string name, std::string help, std::function<double()> read);

  // Interceptor factories that count and time every call of a gRPC server (StartServer).
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
  ServerInterceptors();

  // `log`, with its appends timed and their failures counted.
  std::unique_ptr<eventlog::EventLog> Meter(std::unique_ptr<eventlog::EventLog> log);

  class Rpcs;  // internal: the RPC counters the interceptors share

 private:
  class Scraped;
  class MeteredLog;
  Metrics() = default;

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<Rpcs> rpcs_;
  std::shared_ptr<Scraped> scraped_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string address_;
};

}  // namespace crm::metrics
