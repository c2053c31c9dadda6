#include "tools/crmbench/load.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/process/proc_stat.h"
#include "tests/testing/scrape.h"

namespace crm::bench {

double LoadResult::PercentileMs(double p) const {
  if (latencies_ns.empty()) return 0;
  std::vector<int64_t> sorted = latencies_ns;
  std::sort(sorted.begin(), sorted.end());
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1e6;
}

LoadResult Combine(const std::vector<LoadResult>& runs, std::vector<double>* round_rates) {
  LoadResult all;
  if (runs.empty()) return all;
  all.name = runs.front().name;
  all.server_block_reads = 0;
  all.server_block_hits = 0;
  all.share_of_raw_ingest = 0;
  for (const LoadResult& r : runs) {
    all.calls += r.calls;
    all.errors += r.errors;
    all.seconds += r.seconds;
    all.latencies_ns.insert(all.latencies_ns.end(), r.latencies_ns.begin(), r.latencies_ns.end());
    all.offered_rate_per_s += r.offered_rate_per_s / static_cast<double>(runs.size());
    all.client_cpu_s += r.client_cpu_s;
    all.server_cpu_s += r.server_cpu_s;
    all.server_block_reads = r.server_block_reads < 0 || all.server_block_reads < 0
                                 ? -1
                                 : all.server_block_reads + r.server_block_reads;
    all.server_block_hits = r.server_block_hits < 0 || all.server_block_hits < 0
                                ? -1
                                : all.server_block_hits + r.server_block_hits;
    all.keys_per_event += r.keys_per_event / static_cast<double>(runs.size());
    all.share_of_raw_ingest =
        r.share_of_raw_ingest < 0 || all.share_of_raw_ingest < 0
            ? -1
            : all.share_of_raw_ingest + r.share_of_raw_ingest / static_cast<double>(runs.size());
    all.run_rates_per_s.insert(all.run_rates_per_s.end(), r.run_rates_per_s.begin(),
                               r.run_rates_per_s.end());
    if (round_rates != nullptr) round_rates->push_back(r.ThroughputPerSecond());
  }
  return all;
}

double LoadResult::MaxMs() const {
  if (latencies_ns.empty()) return 0;
  return static_cast<double>(*std::max_element(latencies_ns.begin(), latencies_ns.end())) / 1e6;
}

double OwnCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

namespace {

std::mutex server_pids_mu;
std::vector<int> server_pids;  // guarded by server_pids_mu
std::mutex metrics_mu;
std::vector<std::string> metrics_addresses;  // guarded by metrics_mu

// The server's block cache counters so far.
struct BlockCounts {
  double hits = -1;    // data blocks found in its cache; -1 when not watched or not readable
  double misses = -1;  // read from its files
};

BlockCounts ReadBlocks(const std::string& address) {
  if (address.empty()) return {};
  const std::optional<std::string> text = testing::HttpGet("http://" + address + "/metrics");
  if (!text) return {};
  return {testing::Sample(*text, "crm_rocksdb_block_cache_hits_total").value_or(-1),
          testing::Sample(*text, "crm_rocksdb_block_cache_misses_total").value_or(-1)};
}

// The watched servers' counts together; unknown (-1) if one cannot be read.
BlockCounts ServerBlocks() {
  std::lock_guard<std::mutex> lock(metrics_mu);
  if (metrics_addresses.empty()) return {};
  BlockCounts all{0, 0};
  for (const std::string& address : metrics_addresses) {
    const BlockCounts one = ReadBlocks(address);
    if (one.hits < 0 || one.misses < 0) return {};
    all.hits += one.hits;
    all.misses += one.misses;
  }
  return all;
}

// User plus system time of the watched servers together; -1 when none is watched (a process
// that cannot be read counts 0).
double ServerCpuSeconds() {
  std::lock_guard<std::mutex> lock(server_pids_mu);
  if (server_pids.empty()) return -1;
  double seconds = 0;
  for (const int pid : server_pids) {
    if (const std::optional<process::ProcStat> stat = process::ReadProcStat(pid)) {
      seconds += stat->cpu_seconds;
    }
  }
  return seconds;
}

struct CpuMark {
  double client = OwnCpuSeconds();
  double server = ServerCpuSeconds();
};

// What a run measures on the server besides time, taken at its start and end: the block reads
// first and last, so that scraping them is not counted in the CPU times.
struct Marks {
  BlockCounts blocks = ServerBlocks();
  CpuMark cpu;
};

struct Run {
  std::mutex mu;
  std::condition_variable idle;
  int active = 0;
  std::vector<int64_t> latencies;
  std::atomic<int64_t> started{0};
  std::atomic<int64_t> errors{0};
  absl::Time end;
  int64_t max_calls = 0;
  const Issue* issue = nullptr;
  Marks marks;
};

// Records the outcome of a call issued at `issued`.
void Record(Run& run, absl::Time issued, bool ok) {
  const int64_t ns = absl::ToInt64Nanoseconds(absl::Now() - issued);
  if (!ok) {
    run.errors.fetch_add(1);
    return;
  }
  std::lock_guard<std::mutex> lock(run.mu);
  run.latencies.push_back(ns);
}

// Waits until no call is active, then reports the run that began at `start`.
LoadResult Report(const std::string& name, absl::Time start, Run& run, int64_t extra_errors) {
  std::unique_lock<std::mutex> lock(run.mu);
  run.idle.wait(lock, [&] { return run.active == 0; });
  LoadResult r;
  r.name = name;
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  r.latencies_ns = std::move(run.latencies);
  r.calls = static_cast<int64_t>(r.latencies_ns.size());
  r.errors = run.errors.load() + extra_errors;
  const CpuMark now;
  r.client_cpu_s = now.client - run.marks.cpu.client;
  r.server_cpu_s =
      now.server >= 0 && run.marks.cpu.server >= 0 ? now.server - run.marks.cpu.server : 0;
  const BlockCounts blocks = ServerBlocks();
  if (blocks.misses >= 0 && run.marks.blocks.misses >= 0 && blocks.hits >= 0 &&
      run.marks.blocks.hits >= 0) {
    r.server_block_reads = blocks.misses - run.marks.blocks.misses;
    r.server_block_hits = blocks.hits - run.marks.blocks.hits;
  }
  return r;
}

void Next(const std::shared_ptr<Run>& run, int slot) {
  const bool over = absl::Now() >= run->end ||
                    (run->max_calls > 0 && run->started.fetch_add(1) >= run->max_calls);
  if (over) {
    std::lock_guard<std::mutex> lock(run->mu);
    if (--run->active == 0) run->idle.notify_all();
    return;
  }
  const absl::Time start = absl::Now();
  (*run->issue)(slot, [run, slot, start](bool ok) {
    Record(*run, start, ok);
    Next(run, slot);
  });
}

}  // namespace

void WatchServerCpu(std::vector<int> pids) {
  std::lock_guard<std::mutex> lock(server_pids_mu);
  server_pids = std::move(pids);
}

absl::Status WatchServerMetrics(const std::vector<std::string>& addresses) {
  std::lock_guard<std::mutex> lock(metrics_mu);
  metrics_addresses.clear();
  for (const std::string& address : addresses) {
    const BlockCounts blocks = ReadBlocks(address);
    if (blocks.hits < 0 || blocks.misses < 0) {
      return absl::UnavailableError(
          absl::StrCat(address,
                       ": no Prometheus endpoint with crm_rocksdb_block_cache_hits_total and "
                       "crm_rocksdb_block_cache_misses_total answers at http://",
                       address, "/metrics"));
    }
  }
  metrics_addresses = addresses;
  return absl::OkStatus();
}

LoadResult RunLoad(const std::string& name, int concurrency, absl::Duration duration,
                   const Issue& issue, int64_t max_calls) {
  auto run = std::make_shared<Run>();
  run->issue = &issue;
  run->max_calls = max_calls;
  run->active = concurrency;
  const absl::Time start = absl::Now();
  run->end = start + duration;
  for (int slot = 0; slot < concurrency; ++slot) Next(run, slot);
  return Report(name, start, *run, 0);
}

LoadResult RunPaced(const std::string& name, double rate_per_s, int max_in_flight,
                    absl::Duration duration, const Issue& issue) {
  auto run = std::make_shared<Run>();
  const absl::Time start = absl::Now();
  const absl::Duration every = absl::Seconds(1) / rate_per_s;
  int64_t overloaded = 0;
  for (int64_t i = 0;; ++i) {
    const absl::Time due = start + every * i;
    if (due >= start + duration) break;
    absl::SleepFor(due - absl::Now());  // pacing the generator, not waiting for a result
    {
      std::lock_guard<std::mutex> lock(run->mu);
      if (run->active >= max_in_flight) {
        ++overloaded;
        continue;
      }
      ++run->active;
    }
    const absl::Time issued = absl::Now();
    issue(static_cast<int>(i % max_in_flight), [run, issued](bool ok) {
      Record(*run, issued, ok);
      std::lock_guard<std::mutex> lock(run->mu);
      if (--run->active == 0) run->idle.notify_all();
    });
  }
  return Report(name, start, *run, overloaded);
}

std::string BenchName(int64_t n) {
  uint64_t x = static_cast<uint64_t>(n) * 0x9E3779B97F4A7C15ULL;  // scatter consecutive n
  std::string s;
  for (int i = 0; i < 7; ++i, x /= 26) s.push_back(static_cast<char>('a' + x % 26));
  s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

}  // namespace crm::bench
