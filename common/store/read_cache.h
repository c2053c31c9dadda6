// ReadCache: reads of a store's latest state kept in memory, kept right by the store's one writer.
//
// Readers look a key up; on a miss they read the store and offer what they read back with the
// generation the lookup gave them. The writer, after each commit and before anyone is told of
// it, drops the keys it wrote (Forget) or everything (ForgetAll); either starts a new generation,
// and what a reader offers from an older one is not kept — its read may have begun before the
// commit and ended after the drop. So a read that begins after a commit was announced never
// answers an older value.
//
// Memory: up to `budget` units (bytes, entries: what `cost` says) in two halves. The newer holds
// what was kept since the last turn; a key found among the older is kept again among the newer;
// when the newer half is full it becomes the older and the older goes. What is read again stays.
//
//   ReadCache<std::optional<std::string>> cache(32 << 20, cost);
//   uint64_t generation;
//   if (auto hit = cache.Find(key, &generation)) return *hit;
//   ... read the store ...
//   cache.Keep(key, value, generation);
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace crm::store {

template <typename Value>
class ReadCache {
 public:
  // What keeping `key` with `value` costs against the budget.
  using Cost = std::function<size_t(std::string_view key, const Value& value)>;

  ReadCache(size_t budget, Cost cost) : budget_(budget), cost_(std::move(cost)) {}

  // The value kept for `key`, if any; else nullopt and, in `generation`, what to give Keep.
  std::optional<Value> Find(std::string_view key, uint64_t* generation) {
    const absl::string_view k(key.data(), key.size());
    std::optional<Value> older;
    {
      absl::ReaderMutexLock lock(&mu_);
      if (auto it = newer_.find(k); it != newer_.end()) {
        hits_.fetch_add(1, std::memory_order_relaxed);
        return it->second;
      }
      *generation = generation_;
      if (auto it = older_.find(k); it != older_.end()) older = it->second;
    }
    if (!older) {
      misses_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    hits_.fetch_add(1, std::memory_order_relaxed);
    Keep(key, *older, *generation);  // read again: among the newer
    return older;
  }

  // Keeps `value` for `key`, read from the store after Find gave `generation`, unless the writer
  // dropped anything since. A value costing more than a 64th of the budget is not kept.
  void Keep(std::string_view key, const Value& value, uint64_t generation) {
    const size_t cost = cost_(key, value);
    if (cost > budget_ / 64) return;
    Map dropped;  // freed after the lock is let go
    absl::MutexLock lock(&mu_);
    if (generation_ != generation) return;
    if (newer_cost_ + cost > budget_ / 2) {
      dropped.swap(older_);
      older_.swap(newer_);
      older_cost_ = newer_cost_;
      newer_cost_ = 0;
    }
    if (newer_.try_emplace(absl::string_view(key.data(), key.size()), value).second) {
      newer_cost_ += cost;
    }
  }

  // Drops each key `for_each` gives (it calls its argument once per key). Writer only, after the
  // commit that wrote them.
  void Forget(const std::function<void(const std::function<void(std::string_view)>&)>& for_each) {
    absl::MutexLock lock(&mu_);
    ++generation_;
    if (newer_.empty() && older_.empty()) return;
    for_each([this](std::string_view key) {
      const absl::string_view k(key.data(), key.size());
      if (auto it = newer_.find(k); it != newer_.end()) {
        newer_cost_ -= std::min(newer_cost_, cost_(key, it->second));
        newer_.erase(it);
      }
      if (auto it = older_.find(k); it != older_.end()) {
        older_cost_ -= std::min(older_cost_, cost_(key, it->second));
        older_.erase(it);
      }
    });
  }

  // Drops everything (the store was emptied). Writer only.
  void ForgetAll() {
    Map newer;
    Map older;
    absl::MutexLock lock(&mu_);
    ++generation_;
    newer.swap(newer_);
    older.swap(older_);
    newer_cost_ = 0;
    older_cost_ = 0;
  }

  // What the cache holds now, in `cost` units (a value kept again among the newer while its older
  // copy is still there counts twice: both are in memory).
  size_t cost() {
    absl::ReaderMutexLock lock(&mu_);
    return newer_cost_ + older_cost_;
  }

  // Lookups answered from memory, and not, since the cache was made.
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  using Map = absl::flat_hash_map<std::string, Value>;

  const size_t budget_;
  const Cost cost_;
  absl::Mutex mu_;
  Map newer_ ABSL_GUARDED_BY(mu_);
  Map older_ ABSL_GUARDED_BY(mu_);
  size_t newer_cost_ ABSL_GUARDED_BY(mu_) = 0;
  size_t older_cost_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace crm::store
