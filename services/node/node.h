// RunNode: the process around one or more services: configuration, the event log, the
// projections, one gRPC server (with health, reflection and crm.admin.v1), and an orderly
// shutdown on SIGTERM/SIGINT. crm-node runs every service; crm-contact (and the later
// per-service binaries) run one.
//
// Start-up prints "listening on HOST:PORT" as the first line on standard output (then, with
// --metrics-listen, "metrics on HOST:PORT"). Health is
// NOT_SERVING until every projection has caught up with the log, and again whenever one cannot
// reach the log or falls more than --ready-max-lag records behind it (checked every second).
//
// Data layout under --data-dir: log/ (the embedded log), contact/, interaction/, sales/ and
// analytics/ (the projections).
#pragma once

#include <string>

namespace crm::node {

struct NodeOptions {
  // Program name for --help and logs.
  std::string program;
  // One-line description for --help.
  std::string description;
  // Default for --listen.
  std::string default_listen = "127.0.0.1:7070";
  // Which services to run.
  bool contact = true;
  bool interaction = true;
  bool sales = true;
  bool analytics = true;
};

// Runs until SIGTERM or SIGINT; returns the process exit code.
int RunNode(int argc, char** argv, const NodeOptions& options);

}  // namespace crm::node
