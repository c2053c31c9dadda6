// ReadRecorder: what an answer was read from, so that the answer can be kept and served again
// until any of it changes.
//
// While a recorder is active on a thread, the read caches (read_cache.h: a store's records and
// scans, the contact directory's entries) give it, for every read they answer, the mark of the
// entry the answer came from. Each kept entry has its own mark, which the cache sets when it drops
// the entry: because a commit wrote it (before the commit is announced), because the store was
// emptied, or because memory ran short. A read the caches do not answer from a kept entry (a
// snapshot, an index, a scan from a later key, a value too large to keep, one that began before a
// commit) cannot be watched that way: it spoils the recording, and the answer is not kept.
// Conditions that are not reads — a derived figure's generation, an age — are added with Require.
//
//   ReadRecorder recorder;                       // active on this thread until destroyed
//   Answer answer = Build();                     // reads through the stores
//   if (!recorder.spoiled()) keep(answer, std::move(recorder).Take());
//   ...
//   if (kept->depends.Hold()) serve(kept->answer);  // nothing it was read from has changed
//
// Not copyable. A recorder made while another is active takes over until it is destroyed, and
// then spoils the outer one, whose answer would otherwise miss the reads it did not see.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace crm::store {

// Set (once, never cleared) when the kept entry it belongs to is dropped.
using DropMark = std::shared_ptr<std::atomic<bool>>;

// What an answer depends on: it still holds while no mark is set and every condition is true.
struct Dependencies {
  std::vector<DropMark> marks;
  std::vector<std::function<bool()>> conditions;

  bool Hold() const {
    for (const DropMark& m : marks) {
      if (m->load(std::memory_order_acquire)) return false;
    }
    for (const auto& c : conditions) {
      if (!c()) return false;
    }
    return true;
  }
};

class ReadRecorder {
 public:
  // More reads than this make an answer not worth watching: the recording is spoiled.
  static constexpr size_t kMostMarks = 512;

  ReadRecorder() : outer_(current_) { current_ = this; }
  ~ReadRecorder() {
    current_ = outer_;
    if (outer_ != nullptr) outer_->Spoil();
  }
  ReadRecorder(const ReadRecorder&) = delete;
  ReadRecorder& operator=(const ReadRecorder&) = delete;

  // The recorder active on this thread, or null.
  static ReadRecorder* Current() { return current_; }

  // A read answered from the kept entry that `mark` belongs to.
  void Depend(const DropMark& mark) {
    if (spoiled_) return;
    if (depends_.marks.size() >= kMostMarks) {
      Spoil();
      return;
    }
    depends_.marks.push_back(mark);
  }
  // A read that no mark watches.
  void Spoil() {
    spoiled_ = true;
    depends_.marks.clear();
  }
  // Something besides the reads the answer holds only while `still_true` says so.
  void Require(std::function<bool()> still_true) {
    if (!spoiled_) depends_.conditions.push_back(std::move(still_true));
  }

  bool spoiled() const { return spoiled_; }
  Dependencies Take() && { return std::move(depends_); }

  // Reads made while one is alive are not recorded (a derived figure built from many reads,
  // watched instead by a condition its cache gives).
  class Paused {
   public:
    Paused() : paused_(current_) { current_ = nullptr; }
    ~Paused() { current_ = paused_; }
    Paused(const Paused&) = delete;
    Paused& operator=(const Paused&) = delete;
    // The recorder paused (null if none was active): for what the reads stand for.
    ReadRecorder* paused() const { return paused_; }

   private:
    ReadRecorder* const paused_;
  };

 private:
  static inline thread_local ReadRecorder* current_ = nullptr;
  ReadRecorder* const outer_;
  bool spoiled_ = false;
  Dependencies depends_;
};

// Spoils the active recording, if any: for reads that no kept entry answers.
inline void UnrecordedRead() {
  if (ReadRecorder* r = ReadRecorder::Current()) r->Spoil();
}

}  // namespace crm::store
