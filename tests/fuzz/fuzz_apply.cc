// libFuzzer target: the event envelope decoder and every projection's apply. The input is a
// sequence of records, each a big-endian 16-bit length and that many bytes; each record that
// decodes as an EventEnvelope is applied by the contact, interaction, sales and analytics
// projections in turn, into one batch per projection (so later records see the earlier ones'
// effects) that is never committed (so each input starts from the same empty projections).
// Apply must never crash, whatever the event, and a refusal must not be a storage failure.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/store/projection_store.h"
#include "crm/common/v1/envelope.pb.h"
#include "services/analytics/projection/analytics_projection.h"
#include "services/contact/projection/contact_projection.h"
#include "services/interaction/projection/interaction_projection.h"
#include "services/sales/projection/sales_projection.h"
#include "tests/fuzz/quiet_protobuf.h"

namespace {

struct Projections {
  std::unique_ptr<crm::store::ProjectionStore> store;
  std::unique_ptr<crm::crypto::KeyVault> vault;
  std::unique_ptr<crm::contact::PersonalDataSealer> sealer;
  std::vector<std::unique_ptr<crm::projection::EventApplier>> appliers;
};

Projections& Get() {
  static Projections* p = [] {
    auto* out = new Projections;
    char dir[] = "/tmp/crm-fuzz-apply-XXXXXX";
    if (mkdtemp(dir) == nullptr) std::abort();
    out->store = std::move(*crm::store::ProjectionStore::Open(dir));
    out->vault = std::move(*crm::crypto::KeyVault::Open(std::string(dir) + "-keys"));
    out->sealer = std::make_unique<crm::contact::PersonalDataSealer>(out->vault.get());
    out->appliers.push_back(
        std::make_unique<crm::contact::ContactProjection>(out->store.get(), out->sealer.get()));
    out->appliers.push_back(
        std::make_unique<crm::interaction::InteractionProjection>(out->store.get()));
    out->appliers.push_back(std::make_unique<crm::sales::SalesProjection>(out->store.get()));
    out->appliers.push_back(
        std::make_unique<crm::analytics::AnalyticsProjection>(out->store.get()));
    return out;
  }();
  return *p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<crm::common::v1::EventEnvelope> events;
  while (size >= 2 && events.size() < 16) {
    const size_t n = std::min<size_t>((size_t{data[0]} << 8) | data[1], size - 2);
    crm::common::v1::EventEnvelope e;
    if (e.ParseFromArray(data + 2, static_cast<int>(n)) && !e.event_id().empty()) {
      events.push_back(std::move(e));
    }
    data += 2 + n;
    size -= 2 + n;
  }
  Projections& p = Get();
  for (auto& applier : p.appliers) {
    crm::store::ProjectionStore::Batch batch = p.store->NewBatch();
    for (const auto& e : events) {
      if (!applier->Handles(e.event_type())) continue;
      const absl::StatusOr<absl::Status> decision = applier->Apply(e, batch);
      // An outer error stops the projector (it is taken for a storage failure): an event,
      // however malformed, may only be refused, or it would stop every replica for good.
      if (!decision.ok()) __builtin_trap();
    }
  }
  return 0;
}
