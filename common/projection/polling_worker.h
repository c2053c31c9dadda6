// PollingWorker: the thread of a background worker that acts on what a projection holds (the
// webhook dispatcher, the automation engine). It waits until the projection has caught up with
// the log (so what was recorded before a restart is known before anything is done again), then
// calls `pass` over and over; a pass that found nothing to do is followed by a wait of
// `idle_poll`, cut short by Stop.
//
// Lifecycle: Start() -> Stop() (or destroy). Start and Stop from one thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "common/process/thread_name.h"
#include "common/projection/projector.h"

namespace crm::projection {

class PollingWorker {
 public:
  PollingWorker() = default;
  ~PollingWorker() { Stop(); }
  PollingWorker(const PollingWorker&) = delete;
  PollingWorker& operator=(const PollingWorker&) = delete;

  // `pass` returns true if it did anything (then the next pass follows at once). `name` names
  // the thread (at most 15 bytes shown).
  void Start(std::string name, Projector* projector, absl::Duration idle_poll,
             std::function<bool()> pass) {
    thread_ = std::thread([this, name = std::move(name), projector, idle_poll,
                           pass = std::move(pass)] {
      process::NameThisThread(name);
      while (!Stopping() && !projector->WaitUntilCaughtUp(absl::Now() + absl::Seconds(1)).ok()) {
      }
      while (!Stopping()) {
        if (pass()) continue;
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, absl::ToChronoNanoseconds(idle_poll), [this] { return stopping_; });
      }
    });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // True once Stop was called: a long pass should return soon.
  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace crm::projection
