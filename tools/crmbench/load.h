// Closed-loop load for crm-bench: `concurrency` calls in flight for `duration`, each started
// the moment the previous one on its slot finished, over gRPC's callback API (no thread waits
// per call, so the generator is not what limits the rate).
//
//   LoadResult r = RunLoad("ping", 16, absl::Seconds(5), [&](int slot, Finish finish) {
//     StartPing(finish);   // must call finish(ok) exactly once, on any thread
//   });
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace crm::bench {

struct LoadResult {
  std::string name;
  int64_t calls = 0;                  // completed successfully
  int64_t errors = 0;                 // completed with an error status
  double seconds = 0;                 // wall time of the run
  std::vector<int64_t> latencies_ns;  // of the successful calls
  double offered_rate_per_s = 0;      // calls started per second, when paced (0: closed loop)
  // CPU time spent during the run by crm-bench itself and by the process given to
  // WatchServerCpu (0 when none), in seconds: per call, a measure that a busy neighbour on a
  // shared machine disturbs far less than the rate.
  double client_cpu_s = 0;
  double server_cpu_s = 0;
  // Data blocks the server read from its files during the run (its block cache misses, from
  // the endpoint given to WatchServerMetrics; -1 when none): per call, what a read costs in
  // storage reads, a count that does not depend on the machine's speed or its neighbours.
  double server_block_reads = -1;
  // Data blocks it found in its block cache (-1 likewise); hits plus reads are the blocks a
  // call touched (none when everything it reads is still in the memtables).
  double server_block_hits = -1;
  // Rebuild scenarios: keys the projection wrote per event it read (0 elsewhere). The raw
  // ingest writes one per record, so a projection's rate can be at most about 1/keys of it.
  double keys_per_event = 0;
  // Rebuild scenarios: the rate against the raw ingest's run just before it and just after it
  // (their mean rate), so each rebuild has the baseline measured beside it (-1 elsewhere).
  double share_of_raw_ingest = -1;
  // The rates of the runs this result combines within one round (the raw ingest's, one beside
  // each rebuild); empty when it is one run.
  std::vector<double> run_rates_per_s;

  double ThroughputPerSecond() const { return seconds > 0 ? calls / seconds : 0; }
  // Nearest-rank percentile of the latencies in milliseconds (0 without calls).
  double PercentileMs(double p) const;
  double MaxMs() const;
  // CPU microseconds per successful call (0 without calls or without a measurement).
  double ClientCpuUsPerCall() const { return calls > 0 ? client_cpu_s * 1e6 / calls : 0; }
  double ServerCpuUsPerCall() const { return calls > 0 ? server_cpu_s * 1e6 / calls : 0; }
  // Block reads and block cache hits per successful call; -1 without a measurement.
  double ServerBlockReadsPerCall() const { return PerCall(server_block_reads); }
  double ServerBlockHitsPerCall() const { return PerCall(server_block_hits); }
  // `count` per successful call; -1 if `count` is (not measured).
  double PerCall(double count) const { return count < 0 ? -1 : calls > 0 ? count / calls : 0; }
};

// One result of the runs of one scenario (same name, in rounds): their calls, errors, time,
// latencies and CPU together, their block counts summed (-1 if any run has none), keys per event
// and shares of the raw ingest averaged (-1 if any run has none), the rates of their own runs
// joined, and the rate of each run in `round_rates`.
LoadResult Combine(const std::vector<LoadResult>& runs, std::vector<double>* round_rates);

// Every run from now on also measures the CPU time of processes `pids` together (the servers
// under test on this machine: the node, or each service of a deployment; Linux /proc). Empty
// stops.
void WatchServerCpu(std::vector<int> pids);

// Every run from now on also reads the block cache counters from the Prometheus endpoints at
// `addresses` (host:port, each server's --metrics-listen) before and after it, summed. Empty
// stops. UNAVAILABLE ("ADDRESS: ..."), watching nothing, if one of them does not serve those
// counters.
absl::Status WatchServerMetrics(const std::vector<std::string>& addresses);

// CPU time crm-bench itself has used so far, every thread, in seconds.
double OwnCpuSeconds();

using Finish = std::function<void(bool ok)>;
using Issue = std::function<void(int slot, Finish finish)>;

// Runs `issue` closed-loop on `concurrency` slots until `duration` has passed (or, if
// `max_calls` > 0, that many calls have been started), then waits for the calls in flight.
LoadResult RunLoad(const std::string& name, int concurrency, absl::Duration duration,
                   const Issue& issue, int64_t max_calls = 0);

// Runs `issue` open-loop: a call every 1/`rate_per_s` seconds for `duration` whatever the
// answers take (as real clients arrive), with at most `max_in_flight` outstanding; a call due
// while that many are outstanding is counted as an error (the target could not keep up).
LoadResult RunPaced(const std::string& name, double rate_per_s, int max_in_flight,
                    absl::Duration duration, const Issue& issue);

// A distinct name for `n`, letters only (a search prefix is a name prefix), spread over the
// alphabet like real names, so duplicate-detection blocks stay as small as in real data.
std::string BenchName(int64_t n);

}  // namespace crm::bench
