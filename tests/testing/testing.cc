#include "tests/testing/testing.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"

namespace crm::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base != nullptr ? base : "/tmp") + "/crm-test-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) std::abort();
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration backoff = absl::Milliseconds(1);
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(backoff);  // Poll interval of a deadline-bounded wait.
    backoff = std::min(backoff * 2, absl::Milliseconds(50));
  }
  return true;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path + ".tmp", std::ios::binary) << content;
  std::filesystem::rename(path + ".tmp", path);
}

std::string BinaryPath(const std::string& name) { return std::string(CRM_BIN_DIR) + "/" + name; }

Process::Process(const std::string& binary, std::vector<std::string> args,
                 std::vector<std::string> env, const std::string& log_dir) {
  // A server (or a child) that hangs up must not kill the test with SIGPIPE; children get the
  // default back.
  static const bool ignored = [] { return signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  (void)ignored;
  static std::atomic<int> counter{0};
  const std::string dir =
      log_dir.empty() ? std::filesystem::temp_directory_path().string() : log_dir;
  log_path_ = dir + "/" + std::filesystem::path(binary).filename().string() + "." +
              std::to_string(getpid()) + "." + std::to_string(counter++) + ".log";
  // Everything exec needs is built before fork: the child of a threaded process may only make
  // async-signal-safe calls.
  // getenv returns the first match, so the test's settings go first.
  std::vector<std::string> env_strings = env;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  int in[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) std::abort();
  pid_ = fork();
  if (pid_ < 0) std::abort();
  if (pid_ == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    const int err = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, 2);
    // The test's signal mask must not leak into the server.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  close(in[0]);
  stdout_fd_ = out[0];
  stdin_fd_ = in[1];
}

bool Process::WriteLine(const std::string& line) {
  const std::string data = line + "\n";
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = write(stdin_fd_, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<size_t>(n);
  }
  return true;
}

Process::~Process() {
  if (pid_ > 0) Stop(SIGKILL);
  if (stdout_fd_ >= 0) close(stdout_fd_);
  if (stdin_fd_ >= 0) close(stdin_fd_);
  std::error_code ec;
  std::filesystem::remove(log_path_, ec);
}

std::string Process::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) return "";
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) return "";
    char buf[4096];
    const ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n <= 0) return "";
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

std::string Process::ReadAll(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) break;
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[4096];
    const ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n <= 0) break;
    buffer_.append(buf, static_cast<size_t>(n));
  }
  std::string all = std::move(buffer_);
  buffer_.clear();
  return all;
}

CommandResult RunCommand(const std::string& binary, std::vector<std::string> args,
                         std::vector<std::string> env, absl::Duration timeout) {
  Process p(binary, std::move(args), std::move(env));
  CommandResult r;
  r.out = p.ReadAll(timeout);
  const int status = p.Stop(0, timeout);
  if (status >= 0 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.err = p.Log();
  return r;
}

int Process::Stop(int signal, absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  int status = 0;
  const bool exited = WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  if (!exited) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    status = -1;
  }
  pid_ = -1;
  return status;
}

std::string Process::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ReadListenAddress(Process& process) {
  const std::string line = process.ReadLine();
  const std::string prefix = "listening on ";
  if (!absl::StartsWith(line, prefix)) return "";
  return line.substr(prefix.size());
}

}  // namespace crm::testing
