// What Linux's /proc/<pid>/stat says about a process: its CPU time, memory and start time. For
// the process metrics and for crm-bench's CPU time per call.
#pragma once

#include <sys/types.h>

#include <optional>

namespace crm::process {

struct ProcStat {
  double cpu_seconds = 0;  // user + system
  double virtual_bytes = 0;
  double resident_bytes = 0;
  double start_time_seconds = 0;  // since the Unix epoch
};

// nullopt if the process does not exist or its stat cannot be read.
std::optional<ProcStat> ReadProcStat(pid_t pid);

}  // namespace crm::process
