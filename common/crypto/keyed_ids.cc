#include "common/crypto/keyed_ids.h"

#include <algorithm>
#include <vector>

#include "common/ids/ids.h"

namespace crm::crypto {

absl::StatusOr<std::string> KeyedIds::Next(std::string_view tenant) {
  // One lock for all tenants: a batch is keyed while callers wait, once per `batch_` creations.
  absl::MutexLock lock(&mu_);
  std::deque<std::string>& ready = ready_[std::string(tenant)];
  if (ready.empty()) {
    const absl::Time now = absl::Now();
    std::vector<std::string> ids;
    ids.reserve(batch_);
    for (int i = 0; i < batch_; ++i) ids.push_back(ids::NewId(now));
    // Handed out in ascending order, like ids minted one at a time in distinct milliseconds.
    std::sort(ids.begin(), ids.end());
    if (absl::Status s = keys_->CreateMany(tenant, ids); !s.ok()) return s;
    ready.assign(ids.begin(), ids.end());
  }
  std::string id = std::move(ready.front());
  ready.pop_front();
  return id;
}

}  // namespace crm::crypto
