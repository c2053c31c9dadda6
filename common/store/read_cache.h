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
// An entry a recorded read (read_recorder.h) used has a mark, made by that read and set when the
// entry is dropped — forgotten by the writer, or gone with the older half; the thread's active
// ReadRecorder is given it with every read the entry answers. A read the cache does not keep
// spoils the recording. Entries no recorded read used carry no mark (no cost).
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
#include "common/store/read_recorder.h"

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
    std::optional<Entry> older;
    {
      absl::ReaderMutexLock lock(&mu_);
      *generation = generation_;
      if (auto it = newer_.find(k); it != newer_.end()) {
        ReadRecorder* const r = ReadRecorder::Current();
        if (r == nullptr || it->second.dropped) {
          hits_.fetch_add(1, std::memory_order_relaxed);
          if (r != nullptr) r->Depend(it->second.dropped);
          return it->second.value;
        }
        older = it->second;  // a recorded read of an entry without a mark yet: made below
      } else if (auto old = older_.find(k); old != older_.end()) {
        older = old->second;
      }
    }
    if (!older) {
      misses_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    hits_.fetch_add(1, std::memory_order_relaxed);
    // Read again: among the newer, with the same mark (so the older copy going drops nothing);
    // for a recorded read, with a mark made if it has none. Not kept (the writer forgot anything
    // since the lookup), it may be stale: a recorded read is then unwatched.
    ReadRecorder* const r = ReadRecorder::Current();
    const std::optional<DropMark> kept = KeepEntry(key, *older, *generation, r != nullptr);
    if (r != nullptr) {
      if (kept) {
        r->Depend(*kept);
      } else {
        r->Spoil();
      }
    }
    return std::move(older->value);
  }

  // Keeps `value` for `key`, read from the store after Find gave `generation`, unless the writer
  // dropped anything since. A value costing more than a 64th of the budget is not kept. The read
  // that gave `value` is recorded (read_recorder.h): with the kept entry's mark, or, not kept, as
  // unwatched.
  void Keep(std::string_view key, const Value& value, uint64_t generation) {
    ReadRecorder* const recorder = ReadRecorder::Current();
    const std::optional<DropMark> kept =
        KeepEntry(key, Entry{value, nullptr}, generation, recorder != nullptr);
    if (recorder != nullptr) {
      if (kept) {
        recorder->Depend(*kept);
      } else {
        recorder->Spoil();
      }
    }
  }

  // Keeps `value` for `key` in place of whatever is kept for it, whatever the writer dropped
  // since: for values that carry their own validity (an answer with the Dependencies it was read
  // under, read_recorder.h), in a cache no writer forgets. Not recorded.
  void Put(std::string_view key, Value value) {
    const size_t cost = cost_(key, value);  // before `value` is moved
    if (cost > budget_ / 64) return;
    Map dropped;  // these three freed after the lock is let go
    std::optional<Entry> replaced;
    Entry entry{std::move(value), nullptr};
    const absl::string_view k(key.data(), key.size());
    absl::MutexLock lock(&mu_);
    if (auto it = older_.find(k); it != older_.end()) {
      older_cost_ -= std::min(older_cost_, cost_(key, it->second.value));
      it->second.Drop();
      replaced = std::move(it->second);
      older_.erase(it);
    }
    MakeRoomLocked(cost, dropped);
    const auto [it, added] = newer_.try_emplace(k, entry);
    if (!added) {
      newer_cost_ -= std::min(newer_cost_, cost_(key, it->second.value));
      it->second.Drop();
      std::swap(it->second, entry);
    }
    newer_cost_ += cost;
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
        newer_cost_ -= std::min(newer_cost_, cost_(key, it->second.value));
        it->second.Drop();
        newer_.erase(it);
      }
      if (auto it = older_.find(k); it != older_.end()) {
        older_cost_ -= std::min(older_cost_, cost_(key, it->second.value));
        it->second.Drop();
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
    for (Map* m : {&newer_, &older_}) {
      for (auto& [key, entry] : *m) entry.Drop();
    }
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
  struct Entry {
    Value value;
    DropMark dropped;  // shared by the older and newer copies of one entry; null: none yet
    void Drop() const {
      if (dropped) dropped->store(true, std::memory_order_release);
    }
  };
  using Map = absl::flat_hash_map<std::string, Entry>;

  // Turns the halves if the newer has no room for `cost` more: the older goes (into `dropped`),
  // its entries dropped but for those read again since (a copy with the same mark among the
  // newer). So a mark stays unset only while an entry with it is kept, where Forget finds it.
  // `keeping`: the entry about to be kept among the newer (its older copy, if any, stays watched).
  void MakeRoomLocked(size_t cost, Map& dropped, std::string_view key = {},
                      const Entry* keeping = nullptr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (newer_cost_ + cost <= budget_ / 2) return;
    for (auto& [k, e] : older_) {
      if (keeping != nullptr && e.dropped == keeping->dropped && k == key) continue;
      const auto again = newer_.find(k);
      if (again == newer_.end() || again->second.dropped != e.dropped) e.Drop();
    }
    dropped.swap(older_);
    older_.swap(newer_);
    older_cost_ = newer_cost_;
    newer_cost_ = 0;
  }

  // Keeps `entry` unless the writer dropped anything since `generation` or it costs too much:
  // nullopt then. Else the mark of the entry now kept for `key` — this one, or one kept since
  // `generation` by another read, which holds the same value — made if `marked` and it has none
  // (null if not `marked` and it has none).
  std::optional<DropMark> KeepEntry(std::string_view key, const Entry& entry, uint64_t generation,
                                    bool marked) {
    const size_t cost = cost_(key, entry.value);
    if (cost > budget_ / 64) return std::nullopt;
    Map dropped;  // freed after the lock is let go
    absl::MutexLock lock(&mu_);
    if (generation_ != generation) return std::nullopt;
    MakeRoomLocked(cost, dropped, key, &entry);
    const auto [it, added] = newer_.try_emplace(absl::string_view(key.data(), key.size()), entry);
    if (added) newer_cost_ += cost;
    // A mark set (an older copy pushed out since it was found) watches nothing: the value is
    // current (nothing was forgotten since), and gets a mark of its own.
    DropMark& mark = it->second.dropped;
    if (mark && mark->load(std::memory_order_acquire)) mark = nullptr;
    if (marked && !mark) mark = std::make_shared<std::atomic<bool>>(false);
    return mark;
  }

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
