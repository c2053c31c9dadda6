#include "tools/crmbench/scale.h"

#include <grpcpp/generic/generic_stub.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto/key_vault.h"
#include "common/eventlog/embedded_event_log.h"
#include "common/process/proc_stat.h"
#include "common/status/status_macros.h"
#include "crm/contact/v1/contact_service.grpc.pb.h"
#include "tests/testing/scrape.h"
#include "tests/testing/testing.h"
#include "tools/crmbench/generate.h"

namespace crm::bench {
namespace {

namespace fs = std::filesystem;

// The node keeps its log with this many partitions per topic (its --log-partitions default).
constexpr int32_t kPartitions = 8;

int64_t DirectoryBytes(const fs::path& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec)) total += static_cast<int64_t>(entry.file_size(ec));
  }
  return total;
}

// A "Vm...:" line of /proc/<pid>/status, in bytes (0 if absent).
int64_t ProcStatusBytes(pid_t pid, std::string_view field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) != 0) continue;
    // "VmRSS:\t  123456 kB"
    int64_t kib = 0;
    std::istringstream(line.substr(field.size())) >> kib;
    return kib * 1024;
  }
  return 0;
}

// grpc.health.v1.Health/Check of the whole server: true if SERVING.
bool Serving(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  const grpc::ByteBuffer request(nullptr, 0);  // HealthCheckRequest{service: ""}
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  if (!done.get_future().get().ok()) return false;
  grpc::Slice slice;
  if (!response.TrySingleSlice(&slice).ok()) return false;
  // HealthCheckResponse{status: SERVING} is field 1 varint 1.
  return slice.size() == 2 && slice.begin()[0] == 0x08 && slice.begin()[1] == 0x01;
}

// Waits until `pid` has used under 5 % of a core over a second (a node with no calls to serve
// and its storage's background work done), at most `timeout`; the seconds waited.
double WaitUntilIdle(pid_t pid, absl::Duration timeout) {
  const absl::Time start = absl::Now();
  auto cpu = [pid] {
    const std::optional<process::ProcStat> stat = process::ReadProcStat(pid);
    return stat ? stat->cpu_seconds : 0.0;
  };
  double before = cpu();
  while (absl::Now() - start < timeout) {
    absl::SleepFor(absl::Seconds(1));  // polling a condition with a deadline
    const double now = cpu();
    if (now - before < 0.05) break;
    before = now;
  }
  return absl::ToDoubleSeconds(absl::Now() - start);
}

// The node reads the first generated contact with the name it was generated with: its sealed
// personal data opened with the keys generated beside the log.
absl::Status CheckFirstContact(const std::shared_ptr<grpc::Channel>& channel,
                               const std::string& id) {
  auto stub = crm::contact::v1::ContactService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  crm::contact::v1::GetContactRequest req;
  req.set_id(id);
  crm::contact::v1::Contact contact;
  const grpc::Status status = stub->GetContact(&ctx, req, &contact);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("GetContact ", id, " on the node: ", status.error_message()));
  }
  if (contact.personal().given_name() != ContactGivenName(0)) {
    return absl::DataLossError(absl::StrCat("the node reads contact ", id, " as given name '",
                                            contact.personal().given_name(), "', not '",
                                            ContactGivenName(0), "' (sealed, not opened?)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ScaleResult> RunOne(const ScaleOptions& options, int64_t contacts,
                                   const ScaleReads& reads) {
  const fs::path dir = fs::path(options.work_dir) / absl::StrCat("contacts-", contacts);
  fs::remove_all(dir);
  fs::create_directories(dir);
  ScaleResult result;
  std::vector<std::string> ids;
  {
    absl::StatusOr<std::unique_ptr<eventlog::EmbeddedEventLog>> log =
        eventlog::EmbeddedEventLog::Open({(dir / "log").string(), kPartitions});
    if (!log.ok()) return log.status();
    // Sealed with the keys the node's contact service opens (<data-dir>/contact-keys).
    absl::StatusOr<std::unique_ptr<crypto::KeyVault>> keys =
        crypto::KeyVault::Open((dir / "contact-keys").string());
    if (!keys.ok()) return keys.status();
    GenerateOptions generate;
    generate.contacts = contacts;
    generate.interactions_per_contact = options.interactions_per_contact;
    generate.orders_per_contact = options.orders_per_contact;
    generate.keep_ids = true;
    generate.seal_with = keys->get();
    const absl::Time start = absl::Now();
    absl::StatusOr<GeneratedLog> generated = GenerateLog(**log, generate);
    if (!generated.ok()) return generated.status();
    result.generate_seconds = absl::ToDoubleSeconds(absl::Now() - start);
    result.contacts = generated->contacts;
    result.interactions = generated->interactions;
    result.orders = generated->orders;
    result.events = generated->events;
    ids = std::move(generated->contact_ids);
  }  // the log and the vault are closed: the node opens them next
  std::cerr << "scale: " << result.events << " events for " << contacts << " contacts written in "
            << result.generate_seconds << " s; starting the node\n";

  const absl::Time start = absl::Now();
  std::vector<std::string> flags = {"--listen",         "127.0.0.1:0",
                                    "--data-dir",       dir.string(),
                                    "--log-partitions", std::to_string(kPartitions),
                                    "--metrics-listen", "127.0.0.1:0"};
  if (options.rocksdb_memory_mib > 0) {
    flags.insert(flags.end(), {"--rocksdb-memory-mib", std::to_string(options.rocksdb_memory_mib)});
  }
  testing::Process node(options.node_binary, flags, {}, dir.string());
  // "listening on HOST:PORT", then "metrics on HOST:PORT".
  const std::string line = node.ReadLine(absl::Minutes(5));
  const std::string metrics_line = node.ReadLine(absl::Seconds(30));
  if (!absl::StartsWith(line, "listening on ") || !absl::StartsWith(metrics_line, "metrics on ")) {
    return absl::UnavailableError(
        absl::StrCat(options.node_binary, " did not start:\n", node.Log()));
  }
  const std::string address = line.substr(std::string_view("listening on ").size());
  const std::string metrics = metrics_line.substr(std::string_view("metrics on ").size());
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  while (!Serving(channel)) {
    if (absl::Now() - start > options.catch_up_timeout || !node.running()) {
      return absl::UnavailableError(absl::StrCat(
          "the node on ", contacts, " contacts did not catch up with its log:\n", node.Log()));
    }
    absl::SleepFor(absl::Milliseconds(100));  // polling a condition with a deadline
  }
  result.catch_up_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::cerr << "scale: the node serves " << contacts << " contacts after "
            << result.catch_up_seconds << " s of catch-up\n";
  result.settle_seconds = WaitUntilIdle(node.pid(), options.settle_timeout);
  std::cerr << "scale: the node was idle " << result.settle_seconds << " s later\n";

  WatchServerCpu({node.pid()});
  if (absl::Status watched = WatchServerMetrics({metrics}); !watched.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the node's metrics: ", watched.message(), "\n", node.Log()));
  }
  if (const std::optional<std::string> text = testing::HttpGet("http://" + metrics + "/metrics")) {
    for (const char* projection : {"contact", "interaction", "sales", "analytics"}) {
      double runs = 0;
      for (const char* cf : {"state", "index", "log"}) {
        runs += testing::Sample(*text, "crm_store_sorted_runs",
                                {{"projection", projection}, {"cf", cf}})
                    .value_or(0);
      }
      result.sorted_runs[projection] = static_cast<int64_t>(runs);
    }
  }
  RETURN_IF_ERROR(CheckFirstContact(channel, ids.front()));
  result.reads = reads(channel, std::move(ids));
  WatchServerCpu({});
  (void)WatchServerMetrics({});
  result.rss_bytes = ProcStatusBytes(node.pid(), "VmRSS:");
  result.peak_rss_bytes = ProcStatusBytes(node.pid(), "VmHWM:");
  if (node.Stop(SIGTERM, absl::Minutes(2)) != 0) {
    return absl::InternalError(absl::StrCat("the node did not stop cleanly:\n", node.Log()));
  }
  for (const char* part : {"log", "contact", "interaction", "sales", "analytics"}) {
    result.disk_bytes[part] = DirectoryBytes(dir / part);
  }
  fs::remove_all(dir);
  return result;
}

}  // namespace

absl::StatusOr<std::vector<ScaleResult>> RunScale(const ScaleOptions& options,
                                                  const ScaleReads& reads) {
  std::vector<ScaleResult> out;
  for (int64_t contacts : options.sizes) {
    absl::StatusOr<ScaleResult> r = RunOne(options, contacts, reads);
    if (!r.ok()) return r.status();
    out.push_back(*std::move(r));
  }
  return out;
}

}  // namespace crm::bench
