#include "common/process/proc_stat.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace crm::process {

std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name, in parentheses, may hold spaces: the fields start after the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  const std::vector<std::string> f((std::istream_iterator<std::string>(fields)),
                                   std::istream_iterator<std::string>());
  // f[0] is field 3 (state): field n of proc(5) is f[n - 3].
  if (f.size() < 22) return std::nullopt;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  ProcStat out;
  out.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;  // utime, stime
  out.virtual_bytes = std::stod(f[20]);                             // vsize
  out.resident_bytes = std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE));  // rss
  std::ifstream boot("/proc/stat");
  std::string line;
  while (std::getline(boot, line)) {
    if (line.rfind("btime ", 0) == 0) {
      out.start_time_seconds = std::stod(line.substr(6)) + std::stod(f[19]) / ticks;  // starttime
      break;
    }
  }
  return out;
}

}  // namespace crm::process
