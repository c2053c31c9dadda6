#include "tools/crmbench/rebuild.h"

#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/eventlog/embedded_event_log.h"
#include "common/ids/ids.h"
#include "crm/contact/v1/events.pb.h"
#include "crm/interaction/v1/events.pb.h"
#include "crm/sales/v1/events.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "services/analytics/analytics_service.h"
#include "services/contact/contact_service.h"
#include "services/interaction/interaction_service.h"
#include "services/sales/domain/order.h"
#include "services/sales/sales_service.h"

namespace crm::bench {
namespace {

namespace cv1 = crm::contact::v1;
namespace iv1 = crm::interaction::v1;
namespace sv1 = crm::sales::v1;
using crm::common::v1::EventEnvelope;

constexpr char kTenant[] = "default";
constexpr int64_t kStart = 1735689600;  // 2025-01-01

EventEnvelope Envelope(const google::protobuf::Message& payload, const std::string& id,
                       int64_t seconds) {
  EventEnvelope e;
  e.set_event_id(ids::NewId());
  e.set_tenant(kTenant);
  e.set_aggregate_id(id);
  e.set_expected_version(0);
  e.set_aggregate_version(1);
  e.set_event_type(payload.GetDescriptor()->full_name());
  e.mutable_payload()->PackFrom(payload);
  e.mutable_occurred_at()->set_seconds(seconds);
  return e;
}

// Per contact: ContactCreated, one OrderPlaced, two InteractionLogged.
absl::StatusOr<int64_t> FillLog(eventlog::EventLog& log, int64_t events, int64_t& bytes) {
  std::atomic<int64_t> failed{0};
  auto append = [&](const std::string& topic, const EventEnvelope& e) {
    bytes += static_cast<int64_t>(e.ByteSizeLong());
    log.Append(topic, e, [&failed](absl::StatusOr<eventlog::LogPosition> p) {
      if (!p.ok()) ++failed;
    });
  };
  int64_t written = 0;
  for (int64_t i = 0; written < events; ++i) {
    const std::string contact = ids::NewId();
    cv1::ContactCreated created;
    created.mutable_contact()->set_id(contact);
    created.mutable_contact()->mutable_personal()->set_given_name(BenchName(i));
    created.mutable_contact()->mutable_personal()->set_family_name(BenchName(i + 700000000));
    append("crm.contact.v1", Envelope(created, contact, kStart));
    sv1::Order order;
    order.set_contact_id(contact);
    order.mutable_order_time()->set_seconds(kStart + i);
    auto* line = order.add_line_items();
    line->set_product_id("P");
    line->set_quantity(1);
    line->mutable_unit_price()->set_currency_code("EUR");
    line->mutable_unit_price()->set_minor_units(1000 + i % 5000);
    const std::string order_id = ids::NewId();
    absl::StatusOr<sv1::OrderPlaced> placed = sales::DecidePlaceOrder(
        order, order_id,
        [](const std::string&, const std::string&, sales::Link) { return absl::OkStatus(); });
    if (!placed.ok()) return placed.status();
    append("crm.sales.v1", Envelope(*placed, order_id, kStart + i));
    for (int k = 0; k < 2; ++k) {
      iv1::InteractionLogged logged;
      const std::string id = ids::NewId();
      logged.mutable_interaction()->set_id(id);
      logged.mutable_interaction()->set_channel(iv1::CHANNEL_EMAIL);
      logged.mutable_interaction()->set_subject("hello");
      logged.mutable_interaction()->add_contact_ids(contact);
      logged.mutable_interaction()->mutable_occurred_at()->set_seconds(kStart + i + k);
      append("crm.interaction.v1", Envelope(logged, id, kStart + i));
    }
    written += 4;
  }
  if (absl::Status s = log.Flush(absl::Minutes(10)); !s.ok()) return s;
  if (failed.load() > 0) return absl::InternalError("appends failed while filling the log");
  return written;
}

// Opens a service on a fresh projection and times its catch-up with the whole log.
template <typename Service, typename Open>
absl::StatusOr<LoadResult> TimeRebuild(const std::string& name, int64_t events, Open open) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Service>> service = open();
  if (!service.ok()) return service.status();
  if (absl::Status s = (*service)->projector()->Start(); !s.ok()) return s;
  if (absl::Status s = (*service)->projector()->WaitUntilCaughtUp(absl::Now() + absl::Hours(1));
      !s.ok()) {
    return s;
  }
  LoadResult r;
  r.name = name;
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  r.calls = events;
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
  r.calls = records;
  return r;
}

}  // namespace

absl::StatusOr<std::vector<LoadResult>> RunRebuild(const std::string& work_dir, int64_t events) {
  std::filesystem::remove_all(work_dir);
  std::filesystem::create_directories(work_dir);
  absl::StatusOr<std::unique_ptr<eventlog::EmbeddedEventLog>> log =
      eventlog::EmbeddedEventLog::Open({work_dir + "/log", 8});
  if (!log.ok()) return log.status();
  int64_t bytes = 0;
  absl::StatusOr<int64_t> written = FillLog(**log, events, bytes);
  if (!written.ok()) return written.status();
  std::cerr << "rebuild: " << *written << " events on the log (" << bytes / *written
            << " bytes each on average)\n";
  eventlog::EventLog* l = log->get();
  std::vector<LoadResult> out;
  // Events each projection reads: contact 1/4, interaction (contact + its own) 3/4, sales
  // (contact + its own) 2/4, analytics all.
  auto add = [&](absl::StatusOr<LoadResult> r) -> absl::Status {
    if (!r.ok()) return r.status();
    out.push_back(*std::move(r));
    return absl::OkStatus();
  };
  const int64_t n = *written;
  absl::Status s = add(TimeRebuild<contact::ContactService>("rebuild_contact", n / 4, [&] {
    return contact::ContactService::Open(work_dir + "/contact", l, true);
  }));
  if (s.ok()) {
    s = add(TimeRebuild<interaction::InteractionService>("rebuild_interaction", n * 3 / 4, [&] {
      return interaction::InteractionService::Open(work_dir + "/interaction", l, true);
    }));
  }
  if (s.ok()) {
    s = add(TimeRebuild<sales::SalesService>("rebuild_sales", n / 2, [&] {
      return sales::SalesService::Open(work_dir + "/sales", l, true);
    }));
  }
  if (s.ok()) {
    s = add(TimeRebuild<analytics::AnalyticsService>("rebuild_analytics", n, [&] {
      return analytics::AnalyticsService::Open(work_dir + "/analytics", l, true);
    }));
  }
  if (s.ok()) s = add(RawIngest(work_dir + "/raw", n, static_cast<size_t>(bytes / n)));
  if (!s.ok()) return s;
  std::filesystem::remove_all(work_dir);
  return out;
}

}  // namespace crm::bench
