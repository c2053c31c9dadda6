#include "common/auth/rate_limiter.h"

#include <algorithm>

namespace crm::auth {

absl::Duration RateLimiter::Take(const std::string& caller, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (now - swept_ > absl::Minutes(1)) {
    // A bucket untouched for a minute is full again: forgetting it changes nothing.
    absl::erase_if(
        buckets_, [&](const auto& entry) { return now - entry.second.updated > absl::Minutes(1); });
    swept_ = now;
  }
  auto [it, added] = buckets_.try_emplace(caller, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!added && now > b.updated) {
    b.tokens = std::min(burst_, b.tokens + absl::ToDoubleSeconds(now - b.updated) * per_second_);
    b.updated = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return absl::ZeroDuration();
  }
  return absl::Seconds((1 - b.tokens) / per_second_);
}

}  // namespace crm::auth
