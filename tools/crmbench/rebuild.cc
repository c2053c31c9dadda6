#include "tools/crmbench/rebuild.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto/key_vault.h"
#include "common/eventlog/embedded_event_log.h"
#include "common/ids/ids.h"
#include "common/status/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "services/analytics/analytics_service.h"
#include "services/contact/contact_service.h"
#include "services/interaction/interaction_service.h"
#include "services/sales/sales_service.h"
#include "tools/crmbench/generate.h"

namespace crm::bench {
namespace {

// Opens a service on a fresh projection and times its catch-up with the whole log: from the
// projector's start, as the raw ingest is timed from its first write (neither counts creating
// its empty store).
// `check`, if given, then looks at the rebuilt service (outside the timing).
template <typename Service, typename Open>
absl::StatusOr<LoadResult> TimeRebuild(const std::string& name, int64_t events, Open open,
                                       std::function<absl::Status(Service&)> check = nullptr) {
  absl::StatusOr<std::unique_ptr<Service>> service = open();
  if (!service.ok()) return service.status();
  const absl::Time start = absl::Now();
  const double cpu = OwnCpuSeconds();
  if (absl::Status s = (*service)->projector()->Start(); !s.ok()) return s;
  if (absl::Status s = (*service)->projector()->WaitUntilCaughtUp(absl::Now() + absl::Hours(1));
      !s.ok()) {
    return s;
  }
  LoadResult r;
  r.name = name;
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  r.client_cpu_s = OwnCpuSeconds() - cpu;
  r.calls = events;
  r.keys_per_event = static_cast<double>((*service)->projector()->store().keys_written()) /
                     static_cast<double>(events);
  if (check) RETURN_IF_ERROR(check(**service));
  (*service)->Stop();
  return r;
}

absl::StatusOr<LoadResult> RawIngest(const std::string& path, int64_t records, size_t value_size) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) return absl::InternalError(s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string value(value_size, 'v');
  const absl::Time start = absl::Now();
  const double cpu = OwnCpuSeconds();
  rocksdb::WriteBatch batch;
  for (int64_t i = 0; i < records; ++i) {
    batch.Put(absl::StrCat("k/", ids::NewId()), value);
    if (batch.Count() == 512 || i + 1 == records) {  // the projector's batch size
      s = db->Write(rocksdb::WriteOptions(), &batch);
      if (!s.ok()) return absl::InternalError(s.ToString());
      batch.Clear();
    }
  }
  LoadResult r;
  r.name = "rocksdb_ingest";
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  r.client_cpu_s = OwnCpuSeconds() - cpu;
  r.calls = records;
  r.keys_per_event = 1;
  return r;
}

}  // namespace

absl::StatusOr<std::vector<LoadResult>> RunRebuild(const std::string& work_dir, int64_t events) {
  std::filesystem::remove_all(work_dir);
  std::filesystem::create_directories(work_dir);
  absl::StatusOr<std::unique_ptr<eventlog::EmbeddedEventLog>> log =
      eventlog::EmbeddedEventLog::Open({work_dir + "/log", 8});
  if (!log.ok()) return log.status();
  // Per contact a ContactCreated, an OrderPlaced and two InteractionLogged; personal data sealed
  // with the keys the contact service rebuilt below opens it with.
  const std::string keys_dir = work_dir + "/contact-keys";
  absl::StatusOr<GeneratedLog> generated;
  {
    absl::StatusOr<std::unique_ptr<crypto::KeyVault>> keys = crypto::KeyVault::Open(keys_dir);
    if (!keys.ok()) return keys.status();
    GenerateOptions generate;
    generate.contacts = (events + 3) / 4;
    generate.seal_with = keys->get();
    generated = GenerateLog(**log, generate);
  }  // the vault is closed: the contact service opens it
  if (!generated.ok()) return generated.status();
  const int64_t bytes = generated->bytes;
  const int64_t n = generated->events;
  std::cerr << "rebuild: " << n << " events on the log (" << bytes / n
            << " bytes each on average)\n";
  eventlog::EventLog* l = log->get();
  std::vector<LoadResult> out;
  // The raw ingest runs before each rebuild and after the last, each into a store of its own, and
  // a rebuild's share is its rate over the mean rate of the ingests on either side of it: this
  // machine's speed drifts within a run, so the baseline is measured beside each rebuild rather
  // than once. The first ingest in a process runs a fifth to a third slower than the next (it
  // touches its memory for the first time: twice the page faults, each costly on a VM), so an
  // untimed one goes first.
  std::vector<LoadResult> raws;
  auto raw = [&]() -> absl::Status {
    const std::string path = absl::StrCat(work_dir, "/raw-", raws.size());
    ASSIGN_OR_RETURN(LoadResult r, RawIngest(path, n, static_cast<size_t>(bytes / n)));
    raws.push_back(std::move(r));
    std::filesystem::remove_all(path);
    return absl::OkStatus();
  };
  auto add = [&](absl::StatusOr<LoadResult> r) -> absl::Status {
    if (!r.ok()) return r.status();
    out.push_back(*std::move(r));
    return raw();
  };
  absl::Status s = raw();
  if (s.ok()) {
    raws.clear();  // the untimed one
    s = raw();
  }
  // Events each projection reads: contact its own, interaction and sales the contacts' and
  // their own, analytics all.
  if (s.ok()) {
    s = add(TimeRebuild<contact::ContactService>(
        "rebuild_contact", generated->contacts,
        [&]() -> absl::StatusOr<std::unique_ptr<contact::ContactService>> {
          ASSIGN_OR_RETURN(std::unique_ptr<crypto::KeyVault> keys,
                           crypto::KeyVault::Open(keys_dir));
          return contact::ContactService::Open(work_dir + "/contact", std::move(keys), l, true);
        },
        // The sealed personal data opened: the first contact has the name it was made with.
        [&](contact::ContactService& service) -> absl::Status {
          const std::string& id = generated->first_contact_id;
          const std::string given = service.PersonalData(kGeneratedTenant, id).given_name();
          if (given != ContactGivenName(0)) {
            return absl::DataLossError(
                absl::StrCat("rebuild_contact: contact ", id, " has the given name '", given,
                             "', not '", ContactGivenName(0), "' (sealed, not opened?)"));
          }
          return absl::OkStatus();
        }));
  }
  if (s.ok()) {
    s = add(TimeRebuild<interaction::InteractionService>(
        "rebuild_interaction", generated->contacts + generated->interactions,
        [&] { return interaction::InteractionService::Open(work_dir + "/interaction", l, true); }));
  }
  if (s.ok()) {
    s = add(TimeRebuild<sales::SalesService>(
        "rebuild_sales", generated->contacts + generated->orders,
        [&] { return sales::SalesService::Open(work_dir + "/sales", l, true); }));
  }
  if (s.ok()) {
    s = add(TimeRebuild<analytics::AnalyticsService>("rebuild_analytics", n, [&] {
      return analytics::AnalyticsService::Open(work_dir + "/analytics", l, true);
    }));
  }
  if (!s.ok()) return s;
  for (size_t i = 0; i < out.size(); ++i) {
    const double beside = (raws[i].ThroughputPerSecond() + raws[i + 1].ThroughputPerSecond()) / 2;
    if (beside > 0) out[i].share_of_raw_ingest = out[i].ThroughputPerSecond() / beside;
  }
  std::vector<double> rates;
  LoadResult ingest = Combine(raws, &rates);
  ingest.run_rates_per_s = std::move(rates);
  ingest.share_of_raw_ingest = -1;
  out.push_back(std::move(ingest));
  std::filesystem::remove_all(work_dir);
  return out;
}

}  // namespace crm::bench
