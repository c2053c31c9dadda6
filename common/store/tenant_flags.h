// TenantFlags: per tenant, whether any key under one per-tenant prefix exists, so that an
// applier skips reads that cannot find anything while a tenant has no such key — which is
// almost always (an erased contact, a campaign's member).
//
//   TenantFlags erased_([](std::string_view t) { return store::KindPrefix('k', t); });
//   ASSIGN_OR_RETURN(bool any, erased_.Any(batch, tenant));  // one seek, the first time
//   if (any) { ... read the key ... }
//   erased_.Added(tenant);  // when Apply writes such a key
//
// Found with one seek at a tenant's first Any, then kept true by Added. Correct as long as only
// the applier that calls Added writes such keys (true at worst costs the reads it saves; a
// rebuild empties the store, which makes a true stale in the safe direction). Not thread-safe:
// the applying thread only.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "common/store/projection_store.h"

namespace crm::store {

class TenantFlags {
 public:
  // `prefix` gives the prefix, in `cf`, of a tenant's keys of the kind flagged.
  TenantFlags(Cf cf, std::function<std::string(std::string_view tenant)> prefix)
      : cf_(cf), prefix_(std::move(prefix)) {}

  // Whether `tenant` has such a key, as `batch` sees it the first time; since, what Added said.
  absl::StatusOr<bool> Any(ProjectionStore::Batch& batch, std::string_view tenant) {
    auto known = known_.find(tenant);
    if (known == known_.end()) {
      bool any = false;
      absl::Status s = batch.Scan(cf_, prefix_(tenant), [&](std::string_view, std::string_view) {
        any = true;
        return false;
      });
      if (!s.ok()) return s;
      known = known_.emplace(std::string(tenant), any).first;
    }
    return known->second;
  }
  // `tenant` has such a key now (written to a batch).
  void Added(std::string_view tenant) { known_.insert_or_assign(std::string(tenant), true); }

 private:
  const Cf cf_;
  const std::function<std::string(std::string_view)> prefix_;
  absl::btree_map<std::string, bool, std::less<>> known_;
};

}  // namespace crm::store
