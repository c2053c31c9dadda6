// Shared test helpers: temporary directories, waiting on a condition with a deadline, and a
// launcher for the real binaries.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace crm::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(20));

// Writes `content` to `path`, aside first and renamed into place, so a process watching the file
// never reads half of it.
void WriteFile(const std::string& path, const std::string& content);

// Path of a binary built by this project (CRM_BIN_DIR/<name>).
std::string BinaryPath(const std::string& name);

// A child process running one of our binaries. Its stdin and stdout are pipes the test writes
// and reads lines through;
// its stderr goes to `<log_dir>/<name>.<n>.log`, printed when a test asks for it.
class Process {
 public:
  Process(const std::string& binary, std::vector<std::string> args,
          std::vector<std::string> env = {}, const std::string& log_dir = "");
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Writes `line` and a newline to the process's standard input; false if it is gone.
  bool WriteLine(const std::string& line);
  // The next line of standard output, or "" if none came within `timeout`.
  std::string ReadLine(absl::Duration timeout = absl::Seconds(30));
  // Everything the process writes to stdout until it closes it (or `timeout`).
  std::string ReadAll(absl::Duration timeout = absl::Seconds(30));
  // Sends `signal` and waits for exit; returns the exit status as from waitpid, or -1 on
  // timeout (then the process is killed with SIGKILL).
  int Stop(int signal = 15, absl::Duration timeout = absl::Seconds(20));
  // SIGKILL: a crash.
  void Kill() { Stop(9); }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // The stderr log so far.
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int stdin_fd_ = -1;
  std::string buffer_;
  std::string log_path_;
};

struct CommandResult {
  int exit_code = -1;  // -1 if it did not exit normally in time
  std::string out;     // standard output
  std::string err;     // standard error
};

// Runs `binary` to completion (bounded by `timeout`).
CommandResult RunCommand(const std::string& binary, std::vector<std::string> args,
                         std::vector<std::string> env = {},
                         absl::Duration timeout = absl::Seconds(30));

// Starts a server binary and reads its "listening on HOST:PORT" line. Returns "" on failure.
std::string ReadListenAddress(Process& process);

}  // namespace crm::testing
