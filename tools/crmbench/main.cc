// crm-bench: drives a running CRM deployment (the node, or the services on a broker) over gRPC
// and reports throughput and latency beside the raw gRPC baseline measured in the same run.
//
//   crm-bench --target 127.0.0.1:7070 --scenario ping,write,read --duration 10
//             --concurrency 16 --json bench.json
//
// The services run separately (on the dev broker or Kafka): --target is the contact service's
// address (the ping goes there too), --interaction, --sales and --analytics the others',
// --server-pid names each process and --server-metrics each metrics endpoint, whose CPU and block
// counts are then reported together.
//
// Every scenario is bounded in time (and the preload in count) and talks to loopback only.
// Scenarios (JSON names in brackets):
//   ping   grpc.health.v1.Health/Check, the raw baseline [ping]
//   write  CreateContact with fresh names [write_contact]; then LogInteraction, an email to one of
//          the contacts just created [write_interaction], and PlaceOrder, two lines, by one of
//          them [write_order], each for --duration
//   import new contacts through one ImportRecords stream, --import-batch rows a message, one
//          message in flight [import_contacts: a call is a row; latencies are whole batches]
//   read   over a preloaded set: GetContact [get_contact], SearchContacts by prefix
//          [search_contacts], ListTimeline [list_timeline], GetCustomer360 [customer_360];
//          as for the ping, only a read's status is looked at, its answer is not parsed;
//          each of the four also runs alone by its JSON name (--scenario ping,list_timeline)
//   customer_360_unkept  over the preloaded set: GetCustomer360 as of the call's time, which the
//          service reads afresh every time (it keeps only 360s asked for without as_of): the work
//          of a customer's first 360, where customer_360 mostly measures kept ones
//          [customer_360_unkept]
//   mixed  over the preloaded set: 35 % timelines, 25 % 360s, 20 % searches, 10 % contact reads,
//          10 % new contacts [mixed]
//   lag    CreateContact acknowledged -> its 360 visible in analytics, with new
//          contacts arriving at --lag-rate per second (by default half the write rate measured
//          earlier in the run) [analytics_lag]
//   rebuild  in process, no target: each projection rebuilt from a generated log (contacts'
//          personal data sealed, as the contact service writes it)
//          [rebuild_contact, rebuild_interaction, rebuild_sales, rebuild_analytics], beside a raw
//          RocksDB WriteBatch ingest of as many records of the same size [rocksdb_ingest], run
//          before each rebuild and after the last (its rate over those five runs; each run's in
//          "runs_throughput_per_s"); each rebuild reports its rate over the mean rate of the
//          ingests run just before and just after it ("share_of_rocksdb_ingest", the OF RAW
//          column), the keys it wrote per event ("keys_per_event", the KEYS/EV column; the raw
//          ingest writes one per record) and the CPU time crm-bench used per event, every thread
//          (CLIENT US: a projection behind the log commits a batch while it applies the next,
//          on a second core)
//   scale  no target: crm-node started on generated data sets of --scale-baseline and
//          --scale-contacts contacts; catch-up time, resident memory, bytes on disk per record
//          (the report's "scale" array), and ping and the read scenarios at each size, once the
//          node is idle after its catch-up (the time that took: "settle_seconds"; the sorted
//          runs of each projection's store then: "sorted_runs"), and a search
//          for a whole given name (one match at any size) [search_contacts_by_name]
//          [scale_<contacts>_ping, scale_<contacts>_get_contact, ...]; the reads choose among
//          every contact, or with --scale-hot-contacts N among the same number N at each size
//          (the report's "scale_hot_contacts"); with --scale-warm-up S each of those contacts is
//          first read once by each read, for at most S seconds [scale_<contacts>_warm_up], so the
//          timed reads find a warm server
// With --rounds N, the scenarios run N times in turn and each reports its rounds together, its
// rate per round ("rounds_throughput_per_s") and its share of the same round's ping, per round
// and the median ("share_of_ping", the OF PING column, also with one round): on a machine whose
// speed drifts, a ratio to the ping measured next to it.
// With --server-pid, every scenario reports the servers' CPU time per call (SERVER US); with
// --server-metrics, the data blocks it read from its files per call ("server_block_reads_per_call",
// BLK/CALL: its block cache misses) and those it found in its block cache
// ("server_block_cache_hits_per_call"). The scale scenario measures all three on the node it
// starts. crm-bench allocates with jemalloc, as the services do (the report's "allocator").
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>

#include "CLI/CLI.hpp"
#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/grpc/client.h"
#include "common/process/allocator.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/contact/v1/contact_service.grpc.pb.h"
#include "crm/interaction/v1/interaction_service.grpc.pb.h"
#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tools/crmbench/generate.h"
#include "tools/crmbench/load.h"
#include "tools/crmbench/rebuild.h"
#include "tools/crmbench/scale.h"

namespace crm::bench {
namespace {

namespace av1 = crm::analytics::v1;
namespace cv1 = crm::contact::v1;
namespace iv1 = crm::interaction::v1;
namespace sv1 = crm::sales::v1;

constexpr auto kCallTimeout = std::chrono::seconds(10);

// --token, --tls-ca, ...: how every call reaches the target.
grpcutil::ClientSecurity security;

// One call's request, response and context, alive until its callback runs.
template <typename Request, typename Response>
struct Call {
  grpc::ClientContext context;
  Request request;
  Response response;
};

// Starts a call: `invoke(context, request, response, on_done)` issues it on a stub's async()
// interface; then `done(ok)`, or `done(ok, response)` if it takes the response.
template <typename Response, typename Request, typename Invoke, typename Done>
void Start(Request request, Invoke invoke, Done done) {
  auto call = std::make_shared<Call<Request, Response>>();
  call->request = std::move(request);
  call->context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  grpcutil::Authorize(call->context, security);
  invoke(&call->context, &call->request, &call->response,
         std::function<void(grpc::Status)>([call, done = std::move(done)](grpc::Status s) {
           if constexpr (std::is_invocable_v<Done, bool, const Response&>) {
             done(s.ok(), call->response);
           } else {
             done(s.ok());
           }
         }));
}

// Starts a call whose answer is not read, only its status: the request and the response travel as
// bytes through the generic stub. The ping and every timed read go this way, so the client does
// the same kind of work for each and the reads' figures show the server's cost, not the load
// generator's: parsing a 360's answer took the client about a sixth of its CPU per call, on the
// cores it shares with the server (docs/performance.md).
void CallUnparsed(grpc::GenericStub& stub, const std::string& method, grpc::ByteBuffer request,
                  Finish finish) {
  struct Unparsed {
    grpc::ClientContext context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
  };
  auto call = std::make_shared<Unparsed>();
  call->request = std::move(request);
  call->context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  // The token too (health checks need none): the baseline carries the same metadata.
  grpcutil::Authorize(call->context, security);
  stub.UnaryCall(&call->context, method, grpc::StubOptions(), &call->request, &call->response,
                 [call, finish = std::move(finish)](grpc::Status s) { finish(s.ok()); });
}

template <typename Request>
grpc::ByteBuffer Bytes(const Request& request) {
  grpc::ByteBuffer bytes;
  bool own = false;
  if (!grpc::SerializationTraits<Request>::Serialize(request, &bytes, &own).ok()) {
    std::cerr << "crm-bench: cannot serialise a " << Request::descriptor()->full_name() << "\n";
    std::abort();
  }
  return bytes;
}

// "/package.Service/Method", the path the generic stub calls.
template <typename Service>
std::string MethodPath(const char* method) {
  return absl::StrCat("/", Service::service_full_name(), "/", method);
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// `v`, or null where it was not measured (negative).
nlohmann::json OrNull(double v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v); }

nlohmann::json ToJson(const LoadResult& r, int concurrency) {
  nlohmann::json out = {{"name", r.name},
                        {"concurrency", concurrency},
                        {"calls", r.calls},
                        {"errors", r.errors},
                        {"seconds", r.seconds},
                        {"throughput_per_s", r.ThroughputPerSecond()},
                        {"p50_ms", r.PercentileMs(50)},
                        {"p90_ms", r.PercentileMs(90)},
                        {"p99_ms", r.PercentileMs(99)},
                        {"max_ms", r.MaxMs()},
                        {"offered_rate_per_s", r.offered_rate_per_s},
                        {"client_cpu_us_per_call", r.ClientCpuUsPerCall()},
                        {"server_cpu_us_per_call", r.ServerCpuUsPerCall()},
                        {"server_block_reads_per_call", OrNull(r.ServerBlockReadsPerCall())},
                        {"server_block_cache_hits_per_call", OrNull(r.ServerBlockHitsPerCall())},
                        {"keys_per_event", r.keys_per_event}};
  if (r.share_of_raw_ingest >= 0) out["share_of_rocksdb_ingest"] = r.share_of_raw_ingest;
  if (!r.run_rates_per_s.empty()) out["runs_throughput_per_s"] = r.run_rates_per_s;
  return out;
}

// Where each service of the deployment answers: all at the node's address, or each service at
// its own (--target for the contact service and the ping, --interaction, --sales, --analytics).
struct Deployment {
  std::shared_ptr<grpc::Channel> contact;
  std::shared_ptr<grpc::Channel> interaction;
  std::shared_ptr<grpc::Channel> sales;
  std::shared_ptr<grpc::Channel> analytics;
};

class Bench {
 public:
  Bench(const Deployment& deployment, int concurrency, absl::Duration duration)
      : generic_contact_(deployment.contact),
        generic_interaction_(deployment.interaction),
        generic_analytics_(deployment.analytics),
        contacts_(cv1::ContactService::NewStub(deployment.contact)),
        interactions_(iv1::InteractionService::NewStub(deployment.interaction)),
        analytics_(av1::AnalyticsService::NewStub(deployment.analytics)),
        sales_(sv1::SalesService::NewStub(deployment.sales)),
        concurrency_(concurrency),
        duration_(duration) {}
  // A node: every service at one address.
  Bench(const std::shared_ptr<grpc::Channel>& node, int concurrency, absl::Duration duration)
      : Bench(Deployment{node, node, node, node}, concurrency, duration) {}

  LoadResult Ping() { return Ping(duration_); }
  LoadResult Ping(absl::Duration duration) {
    return RunLoad("ping", concurrency_, duration, [this](int, Finish finish) {
      // HealthCheckRequest{service: ""} is empty.
      CallUnparsed(generic_contact_, kHealthCheck, grpc::ByteBuffer(nullptr, 0), std::move(finish));
    });
  }

  // New contacts; the first kMaxCreated are remembered for WriteInteraction and WriteOrder.
  LoadResult Write(const std::string& name, absl::Duration duration, int64_t max_calls) {
    return RunLoad(
        name, concurrency_, duration,
        [this](int, Finish finish) {
          cv1::CreateContactRequest req = NewContact(next_.fetch_add(1));
          Start<cv1::CreateContactResponse>(
              std::move(req), [this](auto... a) { contacts_->async()->CreateContact(a...); },
              [this, finish](bool ok, const cv1::CreateContactResponse& created) {
                if (ok) {
                  absl::MutexLock lock(&created_mu_);
                  if (created_.size() < kMaxCreated) created_.push_back(created.contact().id());
                }
                finish(ok);
              });
        },
        max_calls);
  }

  // LogInteraction: an email to one of the contacts created (by Write, else by the preload).
  LoadResult WriteInteraction() {
    const std::vector<std::string> contacts = CreatedContacts();
    if (contacts.empty()) return Unmeasured("write_interaction");
    return RunLoad("write_interaction", concurrency_, duration_,
                   [this, &contacts](int slot, Finish finish) {
                     Start<iv1::Interaction>(
                         Interaction(contacts[Rand(slot) % contacts.size()], 1),
                         [this](auto... a) { interactions_->async()->LogInteraction(a...); },
                         std::move(finish));
                   });
  }

  // PlaceOrder: two lines out of 20 products, by one of the contacts created.
  LoadResult WriteOrder() {
    const std::vector<std::string> contacts = CreatedContacts();
    if (contacts.empty()) return Unmeasured("write_order");
    return RunLoad(
        "write_order", concurrency_, duration_, [this, &contacts](int slot, Finish finish) {
          const uint64_t n = Rand(slot);
          sv1::PlaceOrderRequest req;
          sv1::Order* order = req.mutable_order();
          order->set_contact_id(contacts[n % contacts.size()]);
          order->mutable_order_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
          for (const uint64_t product : {n % 20, (n % 20 + 1 + (n / 20) % 19) % 20}) {
            sv1::LineItem* line = order->add_line_items();
            line->set_product_id("bench-product-" + std::to_string(product));
            line->set_quantity(1 + static_cast<int64_t>(product % 3));
            line->mutable_unit_price()->set_currency_code("EUR");
            line->mutable_unit_price()->set_minor_units(500 + static_cast<int64_t>(product) * 100);
          }
          Start<sv1::Order>(
              std::move(req), [this](auto... a) { sales_->async()->PlaceOrder(a...); },
              std::move(finish));
        });
  }

  // Bulk import: new contacts streamed through one ImportRecords stream in batches of `batch`
  // rows, one batch in flight, as crmctl import sends them, for `duration`. A call is a row (so
  // the rate compares with write_contact's); the latencies are those of whole batches.
  LoadResult Import(absl::Duration duration, int batch) {
    LoadResult r;
    r.name = "import_contacts";
    grpc::ClientContext ctx;
    grpcutil::Authorize(ctx, security);
    auto stream = contacts_->ImportRecords(&ctx);
    // One import per call (a round of --rounds is a new import, not a repeat of the last).
    const std::string import_id = absl::StrCat("bench-", run_, "-", imports_.fetch_add(1));
    const absl::Time start = absl::Now();
    int64_t row = 0;
    while (absl::Now() - start < duration) {
      cv1::ImportRecordsRequest request;
      request.set_import_id(import_id);
      for (int i = 0; i < batch; ++i) {
        auto* out = request.add_rows();
        out->set_row(++row);
        *out->mutable_contact() = NewContact(next_.fetch_add(1)).contact();
      }
      const absl::Time sent = absl::Now();
      cv1::ImportRecordsResponse response;
      if (!stream->Write(request) || !stream->Read(&response)) {
        r.errors += batch;
        break;
      }
      r.latencies_ns.push_back(absl::ToInt64Nanoseconds(absl::Now() - sent));
      for (const auto& result : response.results()) {
        if (result.outcome() == crm::common::v1::IMPORT_OUTCOME_CREATED) {
          ++r.calls;
        } else {
          ++r.errors;
        }
      }
    }
    r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    stream->WritesDone();
    if (const grpc::Status status = stream->Finish(); !status.ok()) {
      std::cerr << "import: " << status.error_message() << "\n";
      ++r.errors;
    }
    return r;
  }

  // Creates `count` contacts (remembering their ids) with `interactions` each, for the reads.
  bool Preload(int64_t count, int interactions) {
    std::mutex mu;
    std::atomic<int64_t> n{0};
    LoadResult r = RunLoad(
        "preload", concurrency_, absl::Minutes(10),
        [&](int, Finish finish) {
          cv1::CreateContactRequest req;
          const int64_t i = n.fetch_add(1);
          req.mutable_contact()->mutable_personal()->set_given_name(ContactGivenName(i));
          req.mutable_contact()->mutable_personal()->set_family_name(ContactFamilyName(i));
          Start<cv1::CreateContactResponse>(
              std::move(req), [this](auto... a) { contacts_->async()->CreateContact(a...); },
              [this, finish, interactions, &mu](bool ok,
                                                const cv1::CreateContactResponse& created) {
                if (!ok) return finish(false);
                {
                  std::lock_guard<std::mutex> lock(mu);
                  ids_.push_back(created.contact().id());
                }
                LogInteractions(created.contact().id(), interactions, finish);
              });
        },
        count);
    std::cerr << "preloaded " << ids_.size() << " contacts (" << r.errors << " errors) in "
              << r.seconds << " s\n";
    return r.errors == 0 && !ids_.empty();
  }

  // Reads go to these contacts instead of a preload: ids[k] is named ContactGivenName(names[k]),
  // or ContactGivenName(k) when `names` is empty.
  void UseContacts(std::vector<std::string> ids, std::vector<int64_t> names = {}) {
    ids_ = std::move(ids);
    names_ = std::move(names);
  }

  // Every contact the reads choose among, read once by each read (GetContact, SearchContacts by
  // prefix and by whole name, ListTimeline, GetCustomer360) in turn, for at most `limit`: so that
  // the timed reads after it find a server in its steady state for that working set, not one
  // reading its blocks for the first time.
  LoadResult WarmUp(absl::Duration limit) {
    constexpr int64_t kReads = 5;
    const auto n = static_cast<int64_t>(ids_.size());
    std::atomic<int64_t> next{0};
    return RunLoad(
        "warm_up", concurrency_, limit,
        [this, n, &next](int, Finish finish) {
          const int64_t i = next.fetch_add(1);
          const auto k = static_cast<size_t>(i % n);
          const std::string& id = ids_[k];
          const int64_t name = names_.empty() ? static_cast<int64_t>(k) : names_[k];
          switch (i / n) {
            case 0:
              return GetContact(id, std::move(finish));
            case 1:
              return Search(ContactGivenName(name).substr(0, 3), std::move(finish));
            case 2:
              return Search(ContactGivenName(name), std::move(finish));
            case 3:
              return Timeline(id, std::move(finish));
            default:
              return Customer360(id, std::move(finish));
          }
        },
        kReads * n);
  }

  // The read scenarios: GetContact, SearchContacts, ListTimeline, GetCustomer360.
  std::vector<LoadResult> Reads() { return {GetContact(), Search(), Timeline(), Customer360()}; }

  LoadResult GetContact() {
    return RunLoad("get_contact", concurrency_, duration_,
                   [this](int slot, Finish finish) { GetContact(Pick(slot), std::move(finish)); });
  }

  LoadResult Search() {
    return RunLoad("search_contacts", concurrency_, duration_, [this](int slot, Finish finish) {
      Search(ContactGivenName(PickName(slot)).substr(0, 3), std::move(finish));
    });
  }

  // A search for a contact's whole given name: one match whatever the data set's size, so the
  // scale scenario compares the same work at both sizes (a three-letter prefix matches about
  // one contact in ten thousand and a hundred in a million, and the page read grows with it).
  LoadResult SearchByName() {
    return RunLoad("search_contacts_by_name", concurrency_, duration_,
                   [this](int slot, Finish finish) {
                     Search(ContactGivenName(PickName(slot)), std::move(finish));
                   });
  }

  LoadResult Timeline() {
    return RunLoad("list_timeline", concurrency_, duration_,
                   [this](int slot, Finish finish) { Timeline(Pick(slot), std::move(finish)); });
  }

  LoadResult Customer360() {
    return RunLoad("customer_360", concurrency_, duration_,
                   [this](int slot, Finish finish) { Customer360(Pick(slot), std::move(finish)); });
  }

  // GetCustomer360 as of the call's time: never answered from a kept 360.
  LoadResult Customer360Unkept() {
    return RunLoad("customer_360_unkept", concurrency_, duration_, [this](int slot, Finish finish) {
      Customer360(Pick(slot), std::move(finish), absl::Now());
    });
  }

  // Mostly reads, as a CRM is used: 35 % timelines, 25 % customer files, 20 % searches, 10 %
  // contact reads, 10 % new contacts.
  LoadResult Mixed() {
    return RunLoad("mixed", concurrency_, duration_, [this](int slot, Finish finish) {
      const uint64_t pick = Rand(slot) % 100;
      if (pick < 35) return Timeline(Pick(slot), std::move(finish));
      if (pick < 60) return Customer360(Pick(slot), std::move(finish));
      if (pick < 80)
        return Search(ContactGivenName(PickName(slot)).substr(0, 3), std::move(finish));
      if (pick < 90) return GetContact(Pick(slot), std::move(finish));
      return Start<cv1::CreateContactResponse>(
          NewContact(next_.fetch_add(1)),
          [this](auto... a) { contacts_->async()->CreateContact(a...); }, std::move(finish));
    });
  }

  // Time from a CreateContact's acknowledgement until the analytics service shows the contact's
  // 360: new contacts at `rate` per second (open loop), or closed-loop on `concurrency` writers
  // when `rate` is 0.
  LoadResult Lag(double rate, int concurrency) {
    std::mutex mu;
    std::vector<int64_t> lags;
    const Issue issue = [&](int, Finish finish) {
      Start<cv1::CreateContactResponse>(
          NewContact(next_.fetch_add(1)),
          [this](auto... a) { contacts_->async()->CreateContact(a...); },
          [&, finish](bool ok, const cv1::CreateContactResponse& created) {
            if (!ok) return finish(false);
            PollUntilVisible(created.contact().id(), absl::Now(),
                             [&, finish](bool seen, int64_t lag_ns) {
                               if (seen) {
                                 std::lock_guard<std::mutex> lock(mu);
                                 lags.push_back(lag_ns);
                               }
                               finish(seen);
                             });
          });
    };
    // Up to a second of arrivals may be outstanding (a flush or compaction stalls a few
    // milliseconds' worth) before one counts as a call the target could not take.
    const int max_in_flight = std::max(8 * concurrency, static_cast<int>(rate));
    LoadResult r = rate > 0 ? RunPaced("analytics_lag", rate, max_in_flight, duration_, issue)
                            : RunLoad("analytics_lag", concurrency, duration_, issue);
    r.offered_rate_per_s = rate;
    r.latencies_ns = std::move(lags);  // the lag, not the write, is what this scenario reports
    return r;
  }

  void set_run(int64_t run) { run_ = run; }

 private:
  static std::string Name(int64_t n) { return BenchName(n); }

  // One call of each read, its answer unparsed (CallUnparsed).
  void GetContact(const std::string& id, Finish finish) {
    cv1::GetContactRequest req;
    req.set_id(id);
    CallUnparsed(generic_contact_, kGetContact, Bytes(req), std::move(finish));
  }
  void Search(const std::string& query, Finish finish) {
    cv1::SearchContactsRequest req;
    req.set_query(query);
    req.set_page_size(10);
    CallUnparsed(generic_contact_, kSearchContacts, Bytes(req), std::move(finish));
  }
  void Timeline(const std::string& contact_id, Finish finish) {
    iv1::ListTimelineRequest req;
    req.set_contact_id(contact_id);
    req.set_page_size(20);
    CallUnparsed(generic_interaction_, kListTimeline, Bytes(req), std::move(finish));
  }
  void Customer360(const std::string& contact_id, Finish finish,
                   std::optional<absl::Time> as_of = std::nullopt) {
    av1::GetCustomer360Request req;
    req.set_contact_id(contact_id);
    if (as_of) {
      const int64_t nanos = absl::ToUnixNanos(*as_of);
      req.mutable_as_of()->set_seconds(nanos / 1000000000);
      req.mutable_as_of()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
    }
    CallUnparsed(generic_analytics_, kGetCustomer360, Bytes(req), std::move(finish));
  }

  cv1::CreateContactRequest NewContact(int64_t n) const {
    cv1::CreateContactRequest req;
    auto* p = req.mutable_contact()->mutable_personal();
    p->set_given_name(Name(n));
    p->set_family_name(Name(n + 500000000));
    p->add_emails()->set_address("bench-" + std::to_string(run_) + "-" + std::to_string(n) +
                                 "@example.com");
    return req;
  }

  // Asks for the contact's 360 until it is there (or 10 s pass); `done(seen, lag)`.
  void PollUntilVisible(std::string id, absl::Time acked, std::function<void(bool, int64_t)> done) {
    av1::GetCustomer360Request req;
    req.set_contact_id(id);
    Start<av1::Customer360>(
        std::move(req), [this](auto... a) { analytics_->async()->GetCustomer360(a...); },
        [this, id, acked, done](bool ok, const av1::Customer360&) {
          const absl::Duration lag = absl::Now() - acked;
          if (ok) return done(true, absl::ToInt64Nanoseconds(lag));
          if (lag > absl::Seconds(10)) return done(false, 0);
          PollUntilVisible(id, acked, done);
        });
  }

  uint64_t Rand(int slot) {
    thread_local std::mt19937_64 rng(static_cast<uint64_t>(slot) * 7919 + 17);
    return rng();
  }

  const std::string& Pick(int slot) { return ids_[Rand(slot) % ids_.size()]; }
  // The name of a contact the reads go to (a search finds it by that name).
  int64_t PickName(int slot) {
    const size_t k = Rand(slot) % ids_.size();
    return names_.empty() ? static_cast<int64_t>(k) : names_[k];
  }

  // An outbound email to `contact`, `hours_ago` hours ago.
  static iv1::LogInteractionRequest Interaction(const std::string& contact, int hours_ago) {
    iv1::LogInteractionRequest req;
    req.mutable_interaction()->add_contact_ids(contact);
    req.mutable_interaction()->set_channel(iv1::CHANNEL_EMAIL);
    req.mutable_interaction()->set_direction(iv1::DIRECTION_OUTBOUND);
    req.mutable_interaction()->set_subject("bench " + std::to_string(hours_ago));
    req.mutable_interaction()->mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(absl::Now()) -
                                                                  hours_ago * 3600);
    return req;
  }

  // The contacts Write created, or else the preloaded ones.
  std::vector<std::string> CreatedContacts() {
    absl::MutexLock lock(&created_mu_);
    return created_.empty() ? ids_ : created_;
  }

  // A scenario that could not run (no contacts to write for): one error, no calls.
  static LoadResult Unmeasured(std::string name) {
    std::cerr << name << ": no contacts were created to write for\n";
    LoadResult r;
    r.name = std::move(name);
    r.errors = 1;
    return r;
  }

  void LogInteractions(const std::string& contact, int left, Finish finish) {
    if (left == 0) return finish(true);
    Start<iv1::Interaction>(
        Interaction(contact, left),
        [this](auto... a) { interactions_->async()->LogInteraction(a...); },
        [this, contact, left, finish](bool ok) {
          if (!ok) return finish(false);
          LogInteractions(contact, left - 1, finish);
        });
  }

  const std::string kHealthCheck = "/grpc.health.v1.Health/Check";
  const std::string kGetContact = MethodPath<cv1::ContactService>("GetContact");
  const std::string kSearchContacts = MethodPath<cv1::ContactService>("SearchContacts");
  const std::string kListTimeline = MethodPath<iv1::InteractionService>("ListTimeline");
  const std::string kGetCustomer360 = MethodPath<av1::AnalyticsService>("GetCustomer360");
  grpc::GenericStub generic_contact_;  // also the ping's
  grpc::GenericStub generic_interaction_;
  grpc::GenericStub generic_analytics_;
  std::unique_ptr<cv1::ContactService::Stub> contacts_;
  std::unique_ptr<iv1::InteractionService::Stub> interactions_;
  std::unique_ptr<av1::AnalyticsService::Stub> analytics_;
  std::unique_ptr<sv1::SalesService::Stub> sales_;
  const int concurrency_;
  const absl::Duration duration_;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> imports_{0};
  int64_t run_ = 0;
  std::vector<std::string> ids_;  // written by the preload only, read after it
  std::vector<int64_t> names_;    // ContactGivenName index of each of ids_; empty: the position
  static constexpr size_t kMaxCreated = 100000;
  absl::Mutex created_mu_;
  std::vector<std::string> created_ ABSL_GUARDED_BY(created_mu_);  // by Write, for the writes after
};

}  // namespace
}  // namespace crm::bench

int main(int argc, char** argv) {
  // As in the node (services/node/node.cc): no process-wide lock-order graph on every mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app("crm-bench: throughput and latency of a CRM deployment beside raw baselines",
               "crm-bench");
  std::string target = "127.0.0.1:7070";
  std::string scenarios = "ping,write,read";
  double duration = 10;
  int concurrency = 16;
  std::string json_path;
  std::string deployment = "crm-node (embedded log)";
  int64_t preload = 1000;
  int import_batch = 500;
  int interactions = 5;
  app.add_option("--target", target, "host:port of the node or the service under test")
      ->capture_default_str();
  app.add_option("--scenario", scenarios,
                 "comma-separated: ping, write, import, read (or one of its reads: "
                 "get_contact, search_contacts, list_timeline, customer_360), "
                 "customer_360_unkept, mixed, lag, "
                 "rebuild (in process), scale (starts crm-node itself)")
      ->capture_default_str();
  int rounds = 1;
  app.add_option("--rounds", rounds,
                 "run the scenarios this many times in turn; each reports its rounds together, "
                 "its rate per round and its median share of the same round's ping (rebuild and "
                 "scale run once)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--duration", duration, "seconds per scenario")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--import-batch", import_batch, "rows per message in the import scenario")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--concurrency", concurrency, "calls in flight")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--json", json_path, "write the report here as JSON");
  app.add_option("--token", crm::bench::security.token,
                 "bearer token sent on every call (a target with --auth jwt)")
      ->envname("CRM_TOKEN");
  app.add_option("--tls-ca", crm::bench::security.tls_ca,
                 "PEM CA of the target's certificate: connect with TLS");
  app.add_option("--tls-cert", crm::bench::security.tls_cert,
                 "PEM client certificate (a target with --tls-client-ca)");
  app.add_option("--tls-key", crm::bench::security.tls_key, "PEM key of --tls-cert");
  app.add_option("--deployment", deployment,
                 "what the target is, recorded in the report (with --interaction, --sales or "
                 "--analytics: \"separate services\" unless given)")
      ->capture_default_str();
  app.add_option("--preload", preload, "contacts created for the read scenarios")
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}))
      ->capture_default_str();
  app.add_option("--interactions", interactions, "interactions logged per preloaded contact")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  std::string interaction_target;
  std::string sales_target;
  std::string analytics_target;
  app.add_option("--interaction", interaction_target,
                 "host:port of the interaction service, for services run separately (default: "
                 "the target, as in the node)");
  app.add_option("--sales", sales_target,
                 "host:port of the sales service, for services run separately (default: the "
                 "target)");
  app.add_option("--analytics", analytics_target,
                 "host:port of the analytics service, for services run separately (default: the "
                 "target)");
  double lag_rate = 0;
  app.add_option("--lag-rate", lag_rate,
                 "new contacts per second during lag (default: half the write_contact rate "
                 "measured earlier in the run, else closed-loop on half the concurrency)")
      ->check(CLI::Range(0.0, 1e6));
  std::string work_dir = "/tmp/crm-bench-work";
  int64_t rebuild_events = 100000;
  app.add_option("--work-dir", work_dir,
                 "scratch directory of the rebuild and scale scenarios (wiped)")
      ->capture_default_str();
  app.add_option("--rebuild-events", rebuild_events, "events on the log the rebuild replays")
      ->check(CLI::Range(int64_t{4}, int64_t{100000000}))
      ->capture_default_str();
  crm::bench::ScaleOptions scale;
  scale.sizes = {10000, 1000000};
  app.add_option("--scale-baseline", scale.sizes[0], "contacts in the scale scenario's small set")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}))
      ->capture_default_str();
  app.add_option("--scale-contacts", scale.sizes[1], "contacts in the scale scenario's large set")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}))
      ->capture_default_str();
  app.add_option("--scale-interactions", scale.interactions_per_contact,
                 "interactions per contact in the scale data sets")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  app.add_option("--scale-orders", scale.orders_per_contact,
                 "orders per contact in the scale data sets")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  std::vector<int> server_pids;
  app.add_option("--server-pid", server_pids,
                 "process id of the target on this machine: its CPU time per call is reported; "
                 "repeated for services run separately, their CPU together (the scale scenario "
                 "measures the node it starts)")
      ->delimiter(',');
  std::vector<std::string> server_metrics;
  app.add_option("--server-metrics", server_metrics,
                 "the target's Prometheus endpoint (HOST:PORT of its --metrics-listen): the data "
                 "blocks it reads from its files, and those it finds in its block cache, are "
                 "reported per call; repeated for services run separately, their blocks together "
                 "(the scale scenario measures the node it starts)")
      ->delimiter(',');
  int64_t scale_hot_contacts = 0;
  app.add_option("--scale-hot-contacts", scale_hot_contacts,
                 "the scale scenario's reads go to this many contacts at each size, spread evenly "
                 "over the data set (a fixed working set; default: every contact, uniformly)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  double scale_warm_up = 0;
  app.add_option("--scale-warm-up", scale_warm_up,
                 "before each size's timed reads, every contact they choose among is read once by "
                 "each read, for at most this many seconds (scale_<contacts>_warm_up): the reads "
                 "then measure a warm server; meant with --scale-hot-contacts (default: none)")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--scale-rocksdb-memory-mib", scale.rocksdb_memory_mib,
                 "--rocksdb-memory-mib of the scale scenario's node (default: the node's own)")
      ->check(CLI::Range(16, 1048576));
  app.add_option("--node-binary", scale.node_binary,
                 "crm-node for the scale scenario (default: beside crm-bench)");
  CLI11_PARSE(app, argc, argv);
  if (scale.node_binary.empty()) {
    scale.node_binary =
        (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "crm-node").string();
  }
  scale.work_dir = work_dir;
  if (app.count("--deployment") == 0 &&
      !(interaction_target.empty() && sales_target.empty() && analytics_target.empty())) {
    deployment = "separate services";
  }
  crm::bench::WatchServerCpu(server_pids);
  auto loopback = [](const std::string& address) {
    return address.rfind("127.0.0.1:", 0) == 0 || address.rfind("localhost:", 0) == 0 ||
           address.rfind("[::1]:", 0) == 0;
  };
  std::vector<std::pair<std::string, std::string>> addresses = {
      {"--target", target},
      {"--interaction", interaction_target},
      {"--sales", sales_target},
      {"--analytics", analytics_target}};
  for (const std::string& m : server_metrics) addresses.emplace_back("--server-metrics", m);
  for (const auto& [flag, address] : addresses) {
    if (!address.empty() && !loopback(address)) {
      std::cerr << flag << " " << address << ": crm-bench only drives loopback deployments\n";
      return 2;
    }
  }
  if (absl::Status watched = crm::bench::WatchServerMetrics(server_metrics); !watched.ok()) {
    std::cerr << "--server-metrics " << watched.message() << "\n";
    return 2;
  }

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      crm::grpcutil::ChannelCredentials(crm::bench::security);
  if (!credentials.ok()) {
    std::cerr << credentials.status().message() << "\n";
    return 2;
  }
  bool remote = false;  // rebuild and scale need no target
  for (absl::string_view s : absl::StrSplit(scenarios, ',', absl::SkipEmpty())) {
    constexpr absl::string_view kScenarios[] = {
        "ping",          "write",        "import",
        "read",          "get_contact",  "search_contacts",
        "list_timeline", "customer_360", "customer_360_unkept",
        "mixed",         "lag",          "rebuild",
        "scale"};
    if (!absl::c_linear_search(kScenarios, s)) {
      std::cerr << "--scenario: unknown scenario \"" << s << "\" ("
                << absl::StrJoin(kScenarios, ", ") << ")\n";
      return 2;
    }
    remote |= s != "rebuild" && s != "scale";
  }
  // Each service's channel: the target's unless the service has an address of its own.
  auto channel = grpc::CreateCustomChannel(target, *credentials, args);
  auto connect = [&](const char* flag,
                     const std::string& address) -> std::shared_ptr<grpc::Channel> {
    auto c = address.empty() ? channel : grpc::CreateCustomChannel(address, *credentials, args);
    if (remote &&
        !c->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      std::cerr << flag << " " << (address.empty() ? target : address) << ": cannot connect\n";
      return nullptr;
    }
    return c;
  };
  const crm::bench::Deployment services{
      connect("--target", ""), connect("--interaction", interaction_target),
      connect("--sales", sales_target), connect("--analytics", analytics_target)};
  if (!services.contact || !services.interaction || !services.sales || !services.analytics) {
    return 1;
  }
  crm::bench::Bench bench(services, concurrency, absl::Seconds(duration));
  // A second of pings, not reported, so that the first scenario does not pay for the
  // connection's and the server's thread pools warming up (it did: ping, measured first, ran at
  // half the rate of the reads after it).
  if (remote) bench.Ping(std::min(absl::Seconds(1), absl::Seconds(duration)));
  bench.set_run(absl::ToUnixNanos(absl::Now()));
  std::vector<std::vector<crm::bench::LoadResult>> runs(rounds);
  std::vector<crm::bench::ScaleResult> scale_results;
  bool preloaded = false;
  for (int round = 0; round < rounds; ++round) {
    std::vector<crm::bench::LoadResult>& results = runs[round];
    for (absl::string_view s : absl::StrSplit(scenarios, ',', absl::SkipEmpty())) {
      if (round > 0 && (s == "rebuild" || s == "scale")) continue;  // once, in the first round
      // The reads and the mix go to a preloaded set, loaded before the first of them.
      const bool over_preload = s == "read" || s == "get_contact" || s == "search_contacts" ||
                                s == "list_timeline" || s == "customer_360" ||
                                s == "customer_360_unkept" || s == "mixed";
      if (over_preload && !preloaded && !(preloaded = bench.Preload(preload, interactions))) {
        std::cerr << s << ": the preload failed\n";
        return 1;
      }
      if (s == "ping") {
        results.push_back(bench.Ping());
      } else if (s == "write") {
        results.push_back(bench.Write("write_contact", absl::Seconds(duration), 0));
        results.push_back(bench.WriteInteraction());
        results.push_back(bench.WriteOrder());
      } else if (s == "import") {
        results.push_back(bench.Import(absl::Seconds(duration), import_batch));
      } else if (s == "read") {
        for (auto& r : bench.Reads()) results.push_back(std::move(r));
      } else if (s == "get_contact") {
        results.push_back(bench.GetContact());
      } else if (s == "search_contacts") {
        results.push_back(bench.Search());
      } else if (s == "list_timeline") {
        results.push_back(bench.Timeline());
      } else if (s == "customer_360") {
        results.push_back(bench.Customer360());
      } else if (s == "customer_360_unkept") {
        results.push_back(bench.Customer360Unkept());
      } else if (s == "mixed") {
        results.push_back(bench.Mixed());
      } else if (s == "lag") {
        double rate = lag_rate;
        for (const auto& r : results) {
          if (rate == 0 && r.name == "write_contact") rate = r.ThroughputPerSecond() / 2;
        }
        results.push_back(bench.Lag(rate, std::max(1, concurrency / 2)));
      } else if (s == "rebuild") {
        absl::StatusOr<std::vector<crm::bench::LoadResult>> rebuilt =
            crm::bench::RunRebuild(work_dir, rebuild_events);
        if (!rebuilt.ok()) {
          std::cerr << "rebuild: " << rebuilt.status() << "\n";
          return 1;
        }
        for (auto& r : *rebuilt) results.push_back(std::move(r));
      } else if (s == "scale") {
        absl::StatusOr<std::vector<crm::bench::ScaleResult>> measured = crm::bench::RunScale(
            scale, [&](std::shared_ptr<grpc::Channel> node, std::vector<std::string> ids) {
              crm::bench::Bench reads(node, concurrency, absl::Seconds(duration));
              if (scale_hot_contacts > 0 && static_cast<int64_t>(ids.size()) > scale_hot_contacts) {
                // The same number of contacts at each size, spread evenly over the data set as
                // active customers are: what a larger database costs with the working set fixed.
                std::vector<std::string> hot;
                std::vector<int64_t> names;
                const auto size = static_cast<int64_t>(ids.size());
                for (int64_t i = 0; i < scale_hot_contacts; ++i) {
                  names.push_back(i * size / scale_hot_contacts);
                  hot.push_back(ids[names.back()]);
                }
                reads.UseContacts(std::move(hot), std::move(names));
              } else {
                reads.UseContacts(std::move(ids));
              }
              std::vector<crm::bench::LoadResult> measured;
              if (scale_warm_up > 0) measured.push_back(reads.WarmUp(absl::Seconds(scale_warm_up)));
              // The raw gRPC baseline on the same node, so each size's reads have their own ratio.
              measured.push_back(reads.Ping());
              for (auto& r : reads.Reads()) measured.push_back(std::move(r));
              measured.push_back(reads.SearchByName());
              return measured;
            });
        if (!measured.ok()) {
          std::cerr << "scale: " << measured.status() << "\n";
          return 1;
        }
        for (auto& m : *measured) {
          for (auto& r : m.reads) {
            r.name = absl::StrCat("scale_", m.contacts, "_", r.name);
            results.push_back(std::move(r));
          }
          m.reads.clear();
          scale_results.push_back(std::move(m));
        }
      }  // no other: every name was checked before anything ran
    }
  }
  // One entry per scenario, its rounds together; each round's rate, and its share of the same
  // round's ping (the baseline measured next to it, on a machine whose speed drifts).
  std::vector<crm::bench::LoadResult> results;
  std::vector<nlohmann::json> per_round;
  for (const crm::bench::LoadResult& first : runs.front()) {
    std::vector<crm::bench::LoadResult> same;
    std::vector<double> shares;
    for (const auto& round : runs) {
      const auto it = std::find_if(round.begin(), round.end(),
                                   [&](const auto& r) { return r.name == first.name; });
      if (it == round.end()) continue;
      same.push_back(*it);
      const auto ping =
          std::find_if(round.begin(), round.end(), [](const auto& r) { return r.name == "ping"; });
      if (ping != round.end() && ping->ThroughputPerSecond() > 0) {
        shares.push_back(it->ThroughputPerSecond() / ping->ThroughputPerSecond());
      }
    }
    std::vector<double> rates;
    results.push_back(crm::bench::Combine(same, &rates));
    nlohmann::json extra = nlohmann::json::object();
    if (rounds > 1) extra["rounds_throughput_per_s"] = rates;
    if (!shares.empty()) {
      if (rounds > 1) extra["share_of_ping_per_round"] = shares;
      std::vector<double> sorted = shares;
      std::sort(sorted.begin(), sorted.end());
      const size_t n = sorted.size();
      extra["share_of_ping"] = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
    per_round.push_back(std::move(extra));
  }

  std::cout << std::left << std::setw(38) << "SCENARIO" << std::right << std::setw(10) << "CALLS/S"
            << std::setw(10) << "P50 MS" << std::setw(10) << "P90 MS" << std::setw(10) << "P99 MS"
            << std::setw(10) << "MAX MS" << std::setw(8) << "ERRORS" << std::setw(12) << "CLIENT US"
            << std::setw(12) << "SERVER US" << std::setw(10) << "BLK/CALL" << std::setw(9)
            << "KEYS/EV" << std::setw(9) << "OF PING" << std::setw(9) << "OF RAW"
            << "\n";
  nlohmann::json report;
  report["target"] = target;
  report["targets"] = {{"contact", target},
                       {"interaction", interaction_target.empty() ? target : interaction_target},
                       {"sales", sales_target.empty() ? target : sales_target},
                       {"analytics", analytics_target.empty() ? target : analytics_target}};
  report["server_pids"] = server_pids;
  report["deployment"] = deployment;
  report["machine"] = {{"cores", std::thread::hardware_concurrency()},
                       {"cpu_model", crm::bench::CpuModel()}};
  // crm-bench's own: the load generator's CPU per call and the in-process rebuild depend on it.
  report["allocator"] = crm::process::AllocatorVersion();
  report["concurrency"] = concurrency;
  if (scale_hot_contacts > 0) report["scale_hot_contacts"] = scale_hot_contacts;
  if (scale_warm_up > 0) report["scale_warm_up_limit_s"] = scale_warm_up;
  report["duration_s"] = duration;
  report["rounds"] = rounds;
  report["scenarios"] = nlohmann::json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    const crm::bench::LoadResult& r = results[i];
    std::cout << std::left << std::setw(38) << r.name << std::right << std::fixed
              << std::setprecision(0) << std::setw(10) << r.ThroughputPerSecond()
              << std::setprecision(2) << std::setw(10) << r.PercentileMs(50) << std::setw(10)
              << r.PercentileMs(90) << std::setw(10) << r.PercentileMs(99) << std::setw(10)
              << r.MaxMs() << std::setw(8) << r.errors << std::setprecision(1) << std::setw(12)
              << r.ClientCpuUsPerCall() << std::setw(12) << r.ServerCpuUsPerCall() << std::setw(10)
              << (r.ServerBlockReadsPerCall() >= 0
                      ? absl::StrFormat("%.2f", r.ServerBlockReadsPerCall())
                      : "-")
              << std::setw(9)
              << (r.keys_per_event > 0 ? absl::StrFormat("%.1f", r.keys_per_event) : "-")
              << std::setw(9)
              << (per_round[i].contains("share_of_ping")
                      ? absl::StrFormat("%.1f%%", 100 * per_round[i]["share_of_ping"].get<double>())
                      : "-")
              << std::setw(9)
              << (r.share_of_raw_ingest >= 0
                      ? absl::StrFormat("%.1f%%", 100 * r.share_of_raw_ingest)
                      : "-")
              << "\n";
    nlohmann::json entry = crm::bench::ToJson(r, concurrency);
    entry.update(per_round[i]);
    report["scenarios"].push_back(std::move(entry));
  }
  if (!scale_results.empty()) {
    report["scale"] = nlohmann::json::array();
    std::cout << "\n"
              << std::left << std::setw(10) << "CONTACTS" << std::right << std::setw(10) << "EVENTS"
              << std::setw(12) << "CATCH-UP S" << std::setw(10) << "SETTLE S" << std::setw(10)
              << "RSS MIB" << std::setw(10) << "PEAK MIB" << std::setw(12) << "DISK B/REC"
              << "\n";
  }
  for (const auto& m : scale_results) {
    int64_t projections = 0;
    for (const auto& [part, bytes] : m.disk_bytes) projections += part == "log" ? 0 : bytes;
    const double records = static_cast<double>(std::max<int64_t>(1, m.events));
    const double per_record = static_cast<double>(projections + m.disk_bytes.at("log")) / records;
    report["scale"].push_back(
        {{"contacts", m.contacts},
         {"interactions", m.interactions},
         {"orders", m.orders},
         {"events", m.events},
         {"generate_seconds", m.generate_seconds},
         {"catch_up_seconds", m.catch_up_seconds},
         {"catch_up_events_per_s", m.catch_up_seconds > 0 ? records / m.catch_up_seconds : 0},
         {"settle_seconds", m.settle_seconds},
         {"rss_bytes", m.rss_bytes},
         {"peak_rss_bytes", m.peak_rss_bytes},
         {"disk_bytes", m.disk_bytes},
         {"sorted_runs", m.sorted_runs},
         {"disk_bytes_per_record", per_record},
         {"log_bytes_per_event", static_cast<double>(m.disk_bytes.at("log")) / records},
         {"projection_bytes_per_record", static_cast<double>(projections) / records}});
    std::cout << std::left << std::setw(10) << m.contacts << std::right << std::setw(10) << m.events
              << std::setprecision(1) << std::setw(12) << m.catch_up_seconds << std::setw(10)
              << m.settle_seconds << std::setw(10) << m.rss_bytes / 1048576.0 << std::setw(10)
              << m.peak_rss_bytes / 1048576.0 << std::setprecision(0) << std::setw(12) << per_record
              << "\n";
  }
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << report.dump(2) << "\n";
    if (!out) {
      std::cerr << "--json " << json_path << ": cannot write\n";
      return 1;
    }
  }
  return 0;
}
