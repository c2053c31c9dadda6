// Per-credential rate limits: a token bucket per caller (tenant and subject), refilled at
// `per_second` up to `burst`. Thread-safe; callers idle for a minute are forgotten.
//
//   RateLimiter limiter(200, 400);
//   if (absl::Duration wait = limiter.Take("acme/ada", absl::Now()); wait > absl::ZeroDuration())
//     ... refuse, RESOURCE_EXHAUSTED, retry after `wait`
#pragma once

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace crm::auth {

class RateLimiter {
 public:
  RateLimiter(double per_second, double burst) : per_second_(per_second), burst_(burst) {}

  // Takes one call from `caller`'s bucket: zero if it may proceed, otherwise how long until it
  // may (the call is not counted).
  absl::Duration Take(const std::string& caller, absl::Time now);

  double per_second() const { return per_second_; }
  double burst() const { return burst_; }

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  const double per_second_;
  const double burst_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  absl::Time swept_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace crm::auth
