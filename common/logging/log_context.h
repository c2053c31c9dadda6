// The request a thread is logging for: its request id and correlation id, which every log
// record written meanwhile carries (as JSON fields with --log-format json, in brackets in text).
//
//   {
//     ScopedLogContext scope(request_id, correlation_id);
//     spdlog::warn("...");  // carries both ids
//   }
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace crm::logging {

struct LogContext {
  std::string request_id;
  std::string correlation_id;
};

// This thread's context; empty fields are left out of records.
inline LogContext& CurrentLogContext() {
  thread_local LogContext context;
  return context;
}

// Sets this thread's context for the life of the scope, then restores the previous one.
class ScopedLogContext {
 public:
  ScopedLogContext(std::string_view request_id, std::string_view correlation_id)
      : saved_(std::move(CurrentLogContext())) {
    CurrentLogContext() = {std::string(request_id), std::string(correlation_id)};
  }
  ~ScopedLogContext() { CurrentLogContext() = std::move(saved_); }
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  LogContext saved_;
};

}  // namespace crm::logging
