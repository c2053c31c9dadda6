#include "tools/crmbench/generate.h"

#include <atomic>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/ids/ids.h"
#include "common/status/status_macros.h"
#include "crm/contact/v1/events.pb.h"
#include "crm/interaction/v1/events.pb.h"
#include "crm/sales/v1/events.pb.h"
#include "services/contact/projection/sealing.h"
#include "services/sales/domain/order.h"
#include "tools/crmbench/load.h"

namespace crm::bench {
namespace {

namespace cv1 = crm::contact::v1;
namespace iv1 = crm::interaction::v1;
namespace sv1 = crm::sales::v1;
using crm::common::v1::EventEnvelope;

constexpr const char* kTenant = kGeneratedTenant;
constexpr int64_t kStart = 1735689600;  // 2025-01-01
// Appends in flight before waiting for the log: bounds the memory a large run holds.
constexpr int64_t kWindow = 20000;
// Contacts whose data keys are made together (one sync), as the contact service makes them
// ahead of need; their events wait for it.
constexpr size_t kKeysAhead = 1000;

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

}  // namespace

std::string ContactGivenName(int64_t i) { return BenchName(1000000 + i); }
std::string ContactFamilyName(int64_t i) { return BenchName(1500000000 + i); }

absl::StatusOr<GeneratedLog> GenerateLog(eventlog::EventLog& log, const GenerateOptions& options) {
  GeneratedLog out;
  std::atomic<int64_t> failed{0};
  int64_t in_flight = 0;
  auto append = [&](const std::string& topic, const EventEnvelope& e) -> absl::Status {
    out.bytes += static_cast<int64_t>(e.ByteSizeLong());
    ++out.events;
    log.Append(topic, e, [&failed](absl::StatusOr<eventlog::LogPosition> p) {
      if (!p.ok()) ++failed;
    });
    if (++in_flight < kWindow) return absl::OkStatus();
    in_flight = 0;
    return log.Flush(absl::Minutes(5));
  };
  // Sealing, a run of contacts' events waits in `held` until their keys are made together; the
  // ids are drawn in the same order either way.
  std::optional<contact::PersonalDataSealer> sealer;
  if (options.seal_with != nullptr) sealer.emplace(options.seal_with);
  std::vector<std::pair<std::string, EventEnvelope>> held;
  std::vector<std::string> held_contacts;
  auto release = [&]() -> absl::Status {
    if (!held_contacts.empty()) {
      RETURN_IF_ERROR(options.seal_with->CreateMany(kTenant, held_contacts));
      held_contacts.clear();
    }
    for (auto& [topic, e] : held) {
      cv1::ContactCreated created;
      if (sealer && e.payload().UnpackTo(&created)) {
        RETURN_IF_ERROR(sealer->Seal(kTenant, created));
        e.mutable_payload()->PackFrom(created);
      }
      RETURN_IF_ERROR(append(topic, e));
    }
    held.clear();
    return absl::OkStatus();
  };
  auto add = [&](const std::string& topic, EventEnvelope e) -> absl::Status {
    if (!sealer) return append(topic, e);
    held.emplace_back(topic, std::move(e));
    return absl::OkStatus();
  };
  for (int64_t i = 0; i < options.contacts; ++i) {
    if (held_contacts.size() == kKeysAhead) RETURN_IF_ERROR(release());
    const std::string contact = ids::NewId();
    if (sealer) held_contacts.push_back(contact);
    const int64_t day = kStart + (i % 365) * 86400;
    cv1::ContactCreated created;
    created.mutable_contact()->set_id(contact);
    created.mutable_contact()->mutable_personal()->set_given_name(ContactGivenName(i));
    created.mutable_contact()->mutable_personal()->set_family_name(ContactFamilyName(i));
    RETURN_IF_ERROR(add("crm.contact.v1", Envelope(created, contact, day)));
    ++out.contacts;
    for (int k = 0; k < options.orders_per_contact; ++k) {
      sv1::Order order;
      order.set_contact_id(contact);
      order.mutable_order_time()->set_seconds(day + 3600 + k * 86400);
      auto* line = order.add_line_items();
      line->set_product_id(absl::StrCat("P", (i * 7 + k) % 200));
      line->set_quantity(1 + (i + k) % 3);
      line->mutable_unit_price()->set_currency_code("EUR");
      line->mutable_unit_price()->set_minor_units(1000 + (i * 31 + k) % 5000);
      const std::string order_id = ids::NewId();
      absl::StatusOr<sv1::OrderPlaced> placed = sales::DecidePlaceOrder(
          order, order_id,
          [](const std::string&, const std::string&, sales::Link) { return absl::OkStatus(); });
      if (!placed.ok()) return placed.status();
      RETURN_IF_ERROR(add("crm.sales.v1", Envelope(*placed, order_id, day + 3600 + k * 86400)));
      ++out.orders;
    }
    for (int k = 0; k < options.interactions_per_contact; ++k) {
      iv1::InteractionLogged logged;
      const std::string id = ids::NewId();
      logged.mutable_interaction()->set_id(id);
      logged.mutable_interaction()->set_channel(k % 2 == 0 ? iv1::CHANNEL_EMAIL
                                                           : iv1::CHANNEL_CALL);
      logged.mutable_interaction()->set_direction(iv1::DIRECTION_OUTBOUND);
      logged.mutable_interaction()->set_subject(absl::StrCat("follow-up ", k + 1));
      logged.mutable_interaction()->add_contact_ids(contact);
      logged.mutable_interaction()->mutable_occurred_at()->set_seconds(day + 7200 + k * 3600);
      RETURN_IF_ERROR(add("crm.interaction.v1", Envelope(logged, id, day + 7200 + k * 3600)));
      ++out.interactions;
    }
    if (i == 0) out.first_contact_id = contact;
    if (options.keep_ids) out.contact_ids.push_back(contact);
  }
  RETURN_IF_ERROR(release());
  RETURN_IF_ERROR(log.Flush(absl::Minutes(10)));
  if (failed.load() > 0) {
    return absl::InternalError(
        absl::StrCat(failed.load(), " appends failed while generating the log"));
  }
  return out;
}

}  // namespace crm::bench
