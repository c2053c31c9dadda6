#include "common/metrics/metrics.h"

#include <unistd.h>

#include <array>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/process/allocator.h"
#include "common/process/proc_stat.h"
#include "common/store/memory.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace crm::metrics {
namespace {

// Latency buckets in seconds, from a cached read to a slow write.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return buckets;
}

prometheus::ClientMetric Value(std::vector<prometheus::ClientMetric::Label> labels, double v,
                               prometheus::MetricType type) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = v;
  } else {
    m.gauge.value = v;
  }
  return m;
}

}  // namespace

// RPC counters and histograms, one pair per method and code, looked up once.
class Metrics::Rpcs {
 public:
  explicit Rpcs(prometheus::Registry& registry)
      : handled_(prometheus::BuildCounter()
                     .Name("grpc_server_handled_total")
                     .Help("gRPC calls answered, by method and status code")
                     .Register(registry)),
        seconds_(prometheus::BuildHistogram()
                     .Name("grpc_server_handling_seconds")
                     .Help("time from a call's arrival to its status, by method and status code")
                     .Register(registry)) {}

  void Record(absl::string_view full_method, grpc::StatusCode code, double seconds) {
    const auto c = static_cast<size_t>(code);
    if (c >= kCodes) return;
    Entry entry;
    {
      absl::ReaderMutexLock lock(&mu_);  // the common case: a method and code seen before
      const auto it = cache_.find(full_method);
      if (it != cache_.end()) entry = it->second[c];
    }
    if (entry.handled == nullptr) {
      absl::MutexLock lock(&mu_);
      Entry& e = cache_[std::string(full_method)][c];
      if (e.handled == nullptr) {
        // "/package.Service/Method"
        const size_t slash = full_method.rfind('/');
        const prometheus::Labels labels = {
            {"grpc_service", std::string(full_method.substr(1, slash == 0 ? 0 : slash - 1))},
            {"grpc_method", std::string(full_method.substr(slash + 1))},
            {"grpc_code", absl::StatusCodeToString(static_cast<absl::StatusCode>(code))}};
        e = {&handled_.Add(labels), &seconds_.Add(labels, LatencyBuckets())};
      }
      entry = e;
    }
    entry.handled->Increment();
    entry.seconds->Observe(seconds);
  }

 private:
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& seconds_;
  static constexpr size_t kCodes = 17;  // grpc::StatusCode's values
  struct Entry {
    prometheus::Counter* handled = nullptr;
    prometheus::Histogram* seconds = nullptr;
  };
  absl::Mutex mu_;
  // Looked up by string_view without allocating.
  absl::flat_hash_map<std::string, std::array<Entry, kCodes>> cache_ ABSL_GUARDED_BY(mu_);
};

namespace {

class RpcInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcInterceptor(const char* method, std::shared_ptr<Metrics::Rpcs> rpcs)
      : method_(method), rpcs_(std::move(rpcs)), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      rpcs_->Record(method_, methods->GetSendStatus().error_code(),
                    absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  const char* const method_;
  const std::shared_ptr<Metrics::Rpcs> rpcs_;
  const absl::Time start_;
};

class RpcInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcInterceptorFactory(std::shared_ptr<Metrics::Rpcs> rpcs) : rpcs_(std::move(rpcs)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcInterceptor(info->method(), rpcs_);
  }

 private:
  const std::shared_ptr<Metrics::Rpcs> rpcs_;
};

}  // namespace

// What is read when scraped: projections and the process.
class Metrics::Scraped final : public prometheus::Collectable {
 public:
  void Add(projection::Projector* p) { projectors_.push_back(p); }

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    auto family = [](std::string name, std::string help, MetricType type) {
      return prometheus::MetricFamily{std::move(name), std::move(help), type, {}};
    };
    prometheus::MetricFamily lag =
        family("crm_projection_lag_records", "records on the log a projection has not applied yet",
               MetricType::Gauge);
    prometheus::MetricFamily events =
        family("crm_projection_events_total", "events a projection applied", MetricType::Counter);
    prometheus::MetricFamily dead = family(
        "crm_projection_dead_letters_total",
        "records a projection set aside because they could not be decoded", MetricType::Counter);
    prometheus::MetricFamily unknown =
        family("crm_projection_unknown_events_total",
               "events of a type this build does not know, skipped", MetricType::Counter);
    prometheus::MetricFamily waiting =
        family("crm_projection_commands_waiting",
               "commands of this process waiting for a projection to apply their event before "
               "they answer (read-your-writes)",
               MetricType::Gauge);
    prometheus::MetricFamily keys =
        family("crm_store_estimated_keys",
               "RocksDB's estimate of the keys in a store's column family", MetricType::Gauge);
    prometheus::MetricFamily sst =
        family("crm_store_sst_bytes", "bytes of a store's column family in table files on disk",
               MetricType::Gauge);
    prometheus::MetricFamily memtables =
        family("crm_store_memtable_bytes", "bytes of a store's column family in memtables",
               MetricType::Gauge);
    prometheus::MetricFamily runs =
        family("crm_store_sorted_runs",
               "sorted runs of a store's column family a read may look in besides its memtables "
               "(level-0 table files and non-empty deeper levels)",
               MetricType::Gauge);
    prometheus::MetricFamily cache_hits =
        family("crm_store_read_cache_hits_total",
               "reads of a store's records answered from its read cache", MetricType::Counter);
    prometheus::MetricFamily cache_misses =
        family("crm_store_read_cache_misses_total",
               "reads of a store's records that went to RocksDB (then kept in the read cache)",
               MetricType::Counter);
    prometheus::MetricFamily scan_hits = family(
        "crm_store_scan_cache_hits_total",
        "scans of a store from a prefix's start answered from its scan cache", MetricType::Counter);
    prometheus::MetricFamily scan_misses =
        family("crm_store_scan_cache_misses_total",
               "scans of a store from a prefix's start that went to RocksDB (then kept in the "
               "scan cache)",
               MetricType::Counter);
    prometheus::MetricFamily cache_bytes =
        family("crm_store_cache_bytes",
               "about the bytes a store's read caches hold (cache: records or scans), at most an "
               "eighth of --rocksdb-memory-mib each",
               MetricType::Gauge);
    for (projection::Projector* p : projectors_) {
      const store::ProjectionStore& st = p->store();
      // The two caches' counters and sizes: family, the cache's label (if any), value.
      for (const auto& [out, cache, value] :
           {std::tuple{&cache_hits, "", st.read_cache_hits()},
            std::tuple{&cache_misses, "", st.read_cache_misses()},
            std::tuple{&scan_hits, "", st.scan_cache_hits()},
            std::tuple{&scan_misses, "", st.scan_cache_misses()},
            std::tuple{&cache_bytes, "records", uint64_t{st.read_cache_bytes()}},
            std::tuple{&cache_bytes, "scans", uint64_t{st.scan_cache_bytes()}}}) {
        std::vector<prometheus::ClientMetric::Label> labels = {{"projection", p->name()}};
        if (*cache != '\0') labels.push_back({"cache", cache});
        out->metric.push_back(Value(labels, static_cast<double>(value), out->type));
      }
      waiting.metric.push_back(Value({{"projection", p->name()}},
                                     static_cast<double>(p->expecting()), MetricType::Gauge));
      auto progress = p->Progress();
      if (progress.ok()) {
        for (const auto& part : progress->partitions()) {
          if (part.end_offset() < 0) continue;  // the log could not be reached
          lag.metric.push_back(Value({{"projection", p->name()},
                                      {"topic", part.topic()},
                                      {"partition", std::to_string(part.partition())}},
                                     static_cast<double>(part.end_offset() - part.next_offset()),
                                     MetricType::Gauge));
        }
        events.metric.push_back(Value({{"projection", p->name()}},
                                      static_cast<double>(progress->events_seen()),
                                      MetricType::Counter));
        dead.metric.push_back(Value({{"projection", p->name()}},
                                    static_cast<double>(progress->dead_letters()),
                                    MetricType::Counter));
        unknown.metric.push_back(Value({{"projection", p->name()}},
                                       static_cast<double>(progress->unknown_events()),
                                       MetricType::Counter));
      }
      for (const auto& [cf, cf_name] :
           {std::pair{store::Cf::kState, "state"}, std::pair{store::Cf::kIndex, "index"},
            std::pair{store::Cf::kLog, "log"}}) {
        for (auto& [out, property] : {std::pair{&keys, "rocksdb.estimate-num-keys"},
                                      std::pair{&sst, "rocksdb.total-sst-files-size"},
                                      std::pair{&memtables, "rocksdb.cur-size-all-mem-tables"}}) {
          if (auto v = p->store().IntProperty(cf, property)) {
            out->metric.push_back(Value({{"projection", p->name()}, {"cf", cf_name}},
                                        static_cast<double>(*v), MetricType::Gauge));
          }
        }
        runs.metric.push_back(Value({{"projection", p->name()}, {"cf", cf_name}},
                                    static_cast<double>(p->store().SortedRuns(cf)),
                                    MetricType::Gauge));
      }
    }
    const process::ProcStat stat = process::ReadProcStat(getpid()).value_or(process::ProcStat{});
    double fds = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++fds;
    }
    std::vector<prometheus::MetricFamily> out = {
        lag,       events, dead,       unknown,      waiting,   keys,        sst,
        memtables, runs,   cache_hits, cache_misses, scan_hits, scan_misses, cache_bytes};
    const store::StorageCounters storage = store::ReadStorageCounters();
    const process::AllocatorStats heap =
        process::ReadAllocatorStats().value_or(process::AllocatorStats{});
    auto d = [](uint64_t v) { return static_cast<double>(v); };
    for (auto [name, help, type, value] :
         {std::tuple{"crm_rocksdb_block_cache_hits_total",
                     "data blocks RocksDB found in the process's block cache", MetricType::Counter,
                     d(storage.block_cache_hits)},
          std::tuple{"crm_rocksdb_block_cache_misses_total",
                     "data blocks RocksDB had to read from a file (not in the block cache)",
                     MetricType::Counter, d(storage.block_cache_misses)},
          std::tuple{"crm_rocksdb_bloom_filter_useful_total",
                     "lookups a bloom filter answered without reading a data block",
                     MetricType::Counter, d(storage.bloom_filter_useful)},
          std::tuple{"crm_rocksdb_flush_write_bytes_total", "bytes RocksDB's flushes wrote",
                     MetricType::Counter, d(storage.flush_write_bytes)},
          std::tuple{"crm_rocksdb_compaction_read_bytes_total", "bytes RocksDB's compactions read",
                     MetricType::Counter, d(storage.compaction_read_bytes)},
          std::tuple{"crm_rocksdb_compaction_write_bytes_total",
                     "bytes RocksDB's compactions wrote", MetricType::Counter,
                     d(storage.compaction_write_bytes)},
          std::tuple{"crm_rocksdb_write_stall_seconds_total",
                     "time writes waited for RocksDB's flushes or compactions to catch up",
                     MetricType::Counter, d(storage.write_stall_micros) / 1e6},
          std::tuple{"crm_rocksdb_block_cache_capacity_bytes",
                     "the process's RocksDB memory budget (--rocksdb-memory-mib)",
                     MetricType::Gauge, d(storage.cache_capacity_bytes)},
          std::tuple{"crm_rocksdb_block_cache_usage_bytes",
                     "what the block cache holds: data blocks and the memtables charged to it",
                     MetricType::Gauge, d(storage.cache_usage_bytes)},
          std::tuple{"crm_rocksdb_memtable_bytes",
                     "memory of every RocksDB memtable of the process", MetricType::Gauge,
                     d(storage.memtable_bytes)},
          std::tuple{"crm_allocator_allocated_bytes",
                     "memory the process has allocated (jemalloc's count)", MetricType::Gauge,
                     d(heap.allocated_bytes)},
          std::tuple{"crm_allocator_resident_bytes",
                     "the allocator's pages in memory: allocated, free and its own",
                     MetricType::Gauge, d(heap.resident_bytes)},
          std::tuple{"process_cpu_seconds_total", "user and system CPU time", MetricType::Counter,
                     stat.cpu_seconds},
          std::tuple{"process_resident_memory_bytes", "resident memory", MetricType::Gauge,
                     stat.resident_bytes},
          std::tuple{"process_virtual_memory_bytes", "virtual memory", MetricType::Gauge,
                     stat.virtual_bytes},
          std::tuple{"process_open_fds", "open file descriptors", MetricType::Gauge, fds},
          std::tuple{"process_start_time_seconds", "start time, seconds since the Unix epoch",
                     MetricType::Gauge, stat.start_time_seconds}}) {
      prometheus::MetricFamily f = family(name, help, type);
      f.metric.push_back(Value({}, value, type));
      out.push_back(std::move(f));
    }
    for (const Reading& r : readings_) {
      const MetricType type = r.counter ? MetricType::Counter : MetricType::Gauge;
      prometheus::MetricFamily f = family(r.name, r.help, type);
      f.metric.push_back(Value({}, r.read(), type));
      out.push_back(std::move(f));
    }
    return out;
  }

  struct Reading {
    std::string name;
    std::string help;
    bool counter;
    std::function<double()> read;
  };
  void Add(Reading reading) { readings_.push_back(std::move(reading)); }

 private:
  std::vector<projection::Projector*> projectors_;
  std::vector<Reading> readings_;
};

// The event log with its appends timed.
class Metrics::MeteredLog final : public eventlog::EventLog {
 public:
  // Keeps `registry` alive: appends may complete after the Metrics object is gone.
  MeteredLog(std::unique_ptr<eventlog::EventLog> log,
             std::shared_ptr<prometheus::Registry> registry)
      : log_(std::move(log)),
        registry_(std::move(registry)),
        seconds_(prometheus::BuildHistogram()
                     .Name("crm_log_append_seconds")
                     .Help("time from an append to its acknowledgement by the log, by topic")
                     .Register(*registry_)),
        errors_(prometheus::BuildCounter()
                    .Name("crm_log_append_errors_total")
                    .Help("appends the log refused or did not acknowledge, by topic")
                    .Register(*registry_)) {}

  void AppendRaw(std::string_view topic, std::string_view key, std::string_view value,
                 eventlog::AppendCallback done) override {
    std::pair<prometheus::Histogram*, prometheus::Counter*> metrics;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto [it, added] = topics_.try_emplace(std::string(topic));
      if (added) {
        const prometheus::Labels labels = {{"topic", std::string(topic)}};
        it->second = {&seconds_.Add(labels, LatencyBuckets()), &errors_.Add(labels)};
      }
      metrics = it->second;
    }
    const absl::Time start = absl::Now();
    log_->AppendRaw(
        topic, key, value,
        [metrics, start, done = std::move(done)](absl::StatusOr<eventlog::LogPosition> position) {
          if (position.ok()) {
            metrics.first->Observe(absl::ToDoubleSeconds(absl::Now() - start));
          } else {
            metrics.second->Increment();
          }
          done(std::move(position));
        });
  }
  absl::StatusOr<int32_t> PartitionCount(std::string_view topic) override {
    return log_->PartitionCount(topic);
  }
  absl::StatusOr<int64_t> EndOffset(std::string_view topic, int32_t partition) override {
    return log_->EndOffset(topic, partition);
  }
  absl::StatusOr<std::unique_ptr<eventlog::LogReader>> OpenReader(
      std::vector<eventlog::PartitionStart> starts) override {
    return log_->OpenReader(std::move(starts));
  }
  absl::Status Flush(absl::Duration timeout) override { return log_->Flush(timeout); }
  absl::Status Checkpoint(const std::string& dir) override { return log_->Checkpoint(dir); }

 private:
  const std::unique_ptr<eventlog::EventLog> log_;
  const std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Histogram>& seconds_;
  prometheus::Family<prometheus::Counter>& errors_;
  std::mutex mu_;
  std::map<std::string, std::pair<prometheus::Histogram*, prometheus::Counter*>, std::less<>>
      topics_;
};

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Start(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", listen, "\" must be host:port, e.g. 0.0.0.0:9464"));
  }
  std::unique_ptr<Metrics> m(new Metrics());
  m->registry_ = std::make_shared<prometheus::Registry>();
  m->rpcs_ = std::make_shared<Rpcs>(*m->registry_);
  m->scraped_ = std::make_shared<Scraped>();
  try {
    m->exposer_ = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot serve metrics on \"", listen, "\": ", e.what()));
  }
  const std::vector<int> ports = m->exposer_->GetListeningPorts();
  if (ports.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot serve metrics on \"", listen, "\""));
  }
  m->exposer_->RegisterCollectable(m->registry_);
  m->exposer_->RegisterCollectable(m->scraped_);
  m->address_ = absl::StrCat(listen.substr(0, colon), ":", ports.front());
  return m;
}

Metrics::~Metrics() { exposer_.reset(); }

void Metrics::AddProjector(projection::Projector* projector) { scraped_->Add(projector); }

void Metrics::AddCounter(std::string name, std::string help, std::function<double()> read) {
  scraped_->Add({std::move(name), std::move(help), true, std::move(read)});
}

void Metrics::AddGauge(std::string name, std::string help, std::function<double()> read) {
  scraped_->Add({std::move(name), std::move(help), false, std::move(read)});
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
Metrics::ServerInterceptors() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<RpcInterceptorFactory>(rpcs_));
  return out;
}

std::unique_ptr<eventlog::EventLog> Metrics::Meter(std::unique_ptr<eventlog::EventLog> log) {
  return std::make_unique<MeteredLog>(std::move(log), registry_);
}

}  // namespace crm::metrics
