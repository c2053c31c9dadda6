#include "common/crypto/keyed_ids.h"

#include <algorithm>
#include <utility>

#include "common/ids/ids.h"
#include "common/process/thread_name.h"

namespace crm::crypto {

KeyedIds::KeyedIds(DataKeys* keys, int batch)
    : keys_(keys), batch_(std::max(batch, 2)), keying_([this] { KeyBatches(); }) {}

KeyedIds::~KeyedIds() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  keying_.join();
}

absl::StatusOr<std::string> KeyedIds::Next(std::string_view tenant_id) {
  const std::string tenant(tenant_id);
  absl::MutexLock lock(&mu_);
  Tenant& t = tenants_[tenant];
  if (t.ready.empty()) {
    if (!t.keying) StartBatch(tenant, t);
    mu_.Await(absl::Condition(
        +[](Tenant* t) { return !t->ready.empty() || !t->keying; }, &t));
    if (t.ready.empty()) return std::exchange(t.failed, absl::OkStatus());
  }
  std::string id = std::move(t.ready.front());
  t.ready.pop_front();
  // Less than a batch left: the next one is keyed meanwhile.
  if (t.ready.size() < static_cast<size_t>(batch_) && !t.keying) StartBatch(tenant, t);
  return id;
}

void KeyedIds::StartBatch(const std::string& tenant, Tenant& t) {
  const absl::Time now = absl::Now();
  std::vector<std::string> ids;
  ids.reserve(batch_);
  for (int i = 0; i < batch_; ++i) ids.push_back(ids::NewId(now));
  // Handed out in ascending order, like ids minted one at a time in distinct milliseconds.
  std::sort(ids.begin(), ids.end());
  t.keying = true;
  to_key_.emplace_back(tenant, std::move(ids));
}

bool KeyedIds::HasWork() const { return stopping_ || !to_key_.empty(); }

void KeyedIds::KeyBatches() {
  process::NameThisThread("keyed-ids");
  absl::MutexLock lock(&mu_);
  for (;;) {
    mu_.Await(absl::Condition(this, &KeyedIds::HasWork));
    if (to_key_.empty()) return;  // stopping, nothing asked for
    auto [tenant, ids] = std::move(to_key_.front());
    to_key_.pop_front();
    mu_.Unlock();
    absl::Status keyed = keys_->CreateMany(tenant, ids);
    mu_.Lock();
    Tenant& t = tenants_[tenant];
    t.keying = false;
    if (keyed.ok()) {
      t.ready.insert(t.ready.end(), std::make_move_iterator(ids.begin()),
                     std::make_move_iterator(ids.end()));
    } else {
      t.failed = std::move(keyed);
    }
  }
}

}  // namespace crm::crypto
