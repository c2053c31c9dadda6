// Subscribe, every service's change feed (feed/change_feed.h), served as a gRPC server stream.
//
//   grpc::ServerWriteReactor<SubscribeResponse>* ContactGrpc::Subscribe(
//       grpc::CallbackServerContext* context, const SubscribeRequest* request) {
//     return grpcutil::ServeFeed<SubscribeResponse>(context, *request, log, kTopic, tenant_, open);
//   }
//
// Each stream has a thread of its own that reads the log and writes one message at a time,
// waiting for the previous write to complete: a subscriber that reads slowly only slows its own
// stream (gRPC's flow control holds the writer back), never the service, and a stream holds at
// most one message in memory. --max-feed-streams bounds how many streams a process serves.
//
// What a message shows follows the caller's credential: only the caller's tenant's events;
// sealed personal data opened where this process holds the keys (the contact service) and then
// masked, like every response, unless the caller holds the "personal_data" scope.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/feed/change_feed.h"
#include "common/grpc/auth_gate.h"
#include "common/grpc/privacy.h"
#include "common/grpc/status.h"
#include "common/status/status_macros.h"
#include "common/validation/request_fields.h"
#include "crm/common/v1/envelope.pb.h"

namespace crm::grpcutil {

// Opens the sealed parts of an event (nullopt: nothing sealed, use it as it is).
using OpenEvent = std::function<absl::StatusOr<std::optional<crm::common::v1::EventEnvelope>>(
    const crm::common::v1::EventEnvelope&)>;

// Ends every feed stream of the process (UNAVAILABLE: resume from the last cursor), so that a
// server shutting down need not wait for subscribers that never hang up. Called by
// RunningServer::Shutdown.
void StopFeeds();
bool FeedsStopped();

// At most `limit` feed streams at once in the process (0: no limit); set at start-up.
void SetMaxFeedStreams(int limit);
// Takes a place for one more stream; false if `limit` are open. ReleaseFeedStream gives it back.
bool TakeFeedStream();
void ReleaseFeedStream();

// `event` as the caller may see it: opened with `open` (if given), personal data masked unless
// `unmasked`.
absl::StatusOr<crm::common::v1::EventEnvelope> PresentEvent(crm::common::v1::EventEnvelope event,
                                                            const OpenEvent& open, bool unmasked);

// Writes to the access log that `caller` was shown the personal data in `event` (if it holds
// any), as the interceptor does for every other response.
void RecordAccess(const auth::Principal& caller, std::string_view method,
                  const crm::common::v1::EventEnvelope& event);

template <typename Response>
class FeedStream final : public grpc::ServerWriteReactor<Response> {
 public:
  FeedStream(std::unique_ptr<feed::ChangeFeed> feed, OpenEvent open, auth::Principal caller,
             std::string method)
      : feed_(std::move(feed)),
        open_(std::move(open)),
        caller_(std::move(caller)),
        method_(std::move(method)),
        unmasked_(caller_.Has(auth::kPersonalDataScope)) {
    thread_ = std::thread([this] { Run(); });
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    write_failed_ = !ok;
    cv_.notify_all();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

  void OnDone() override {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // Finished inline on our own thread, which touches nothing after it.
    } else {
      thread_.join();
    }
    ReleaseFeedStream();
    delete this;
  }

 private:
  // How many records one read looks at, how long it waits, and how often a subscriber whose
  // filter matched nothing still hears that its cursor moved.
  static constexpr size_t kBatch = 64;
  static constexpr absl::Duration kPollWait = absl::Milliseconds(200);
  static constexpr absl::Duration kProgressEvery = absl::Seconds(1);

  void Run() {
    absl::Status status = Stream();
    this->Finish(ToGrpcStatus(status));
  }

  absl::Status Stream() {
    absl::Time last_sent = absl::Now();
    while (true) {
      if (Cancelled()) return absl::CancelledError("the subscriber hung up");
      if (FeedsStopped()) {
        return absl::UnavailableError("the server is shutting down; resume from the last cursor");
      }
      absl::StatusOr<std::vector<feed::FeedItem>> items = feed_->Next(kBatch, kPollWait);
      if (absl::IsUnavailable(items.status())) continue;  // the log is back in a moment
      if (!items.ok()) return items.status();
      for (feed::FeedItem& item : *items) {
        if (!item.event && absl::Now() - last_sent < kProgressEvery) continue;
        Response response;
        response.set_cursor(std::move(item.cursor));
        if (item.event) {
          absl::StatusOr<crm::common::v1::EventEnvelope> shown =
              PresentEvent(*std::move(item.event), open_, unmasked_);
          if (!shown.ok()) return shown.status();
          *response.mutable_event() = *std::move(shown);
          if (unmasked_) RecordAccess(caller_, method_, response.event());
        }
        if (!Write(std::move(response))) return absl::CancelledError("the subscriber hung up");
        last_sent = absl::Now();
      }
    }
  }

  bool Cancelled() {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }

  // Writes `response` and waits until gRPC took it (flow control) or the call ended.
  bool Write(Response response) {
    std::unique_lock<std::mutex> lock(mu_);
    if (cancelled_) return false;
    response_ = std::move(response);
    writing_ = true;
    this->StartWrite(&response_);
    cv_.wait(lock, [this] { return !writing_ || cancelled_; });
    // Cancelled while a write is outstanding: gRPC still completes it (OnWriteDone) before
    // OnDone; wait for that so response_ outlives the write.
    cv_.wait(lock, [this] { return !writing_; });
    return !cancelled_ && !write_failed_;
  }

  const std::unique_ptr<feed::ChangeFeed> feed_;
  const OpenEvent open_;
  const auth::Principal caller_;
  const std::string method_;
  const bool unmasked_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool writing_ = false;
  bool write_failed_ = false;
  bool cancelled_ = false;
  Response response_;
  std::thread thread_;
};

// A stream refused before it began: finished at once with the reason.
template <typename Response>
class RefusedStream final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit RefusedStream(const absl::Status& why) { this->Finish(ToGrpcStatus(why)); }
  void OnDone() override { delete this; }
};

// Streams `query` (its tenant set here: the caller's) as method `method` ("pkg.Service/Method",
// what the access log names) until the caller hangs up. `Response` has cursor and event.
template <typename Response>
grpc::ServerWriteReactor<Response>* ServeFeedQuery(grpc::CallbackServerContext* context,
                                                   feed::FeedQuery query, eventlog::EventLog* log,
                                                   const std::string& default_tenant,
                                                   OpenEvent open, std::string method) {
  const auth::Principal caller = CallerOf(*context, default_tenant);
  query.tenant = caller.tenant;
  absl::StatusOr<std::unique_ptr<feed::ChangeFeed>> feed =
      feed::ChangeFeed::Open(log, std::move(query));
  if (!feed.ok()) return new RefusedStream<Response>(feed.status());
  if (!TakeFeedStream()) {
    return new RefusedStream<Response>(absl::ResourceExhaustedError(
        "this process serves as many change-feed streams as it may (--max-feed-streams): try "
        "again later or on another replica"));
  }
  return new FeedStream<Response>(*std::move(feed), std::move(open), caller, std::move(method));
}

// The start of a feed from a request with `cursor` and `start_time` (INVALID_ARGUMENT naming
// start_time when it is not a valid timestamp).
template <typename Request>
absl::Status ReadFeedStart(const Request& request, feed::FeedQuery& query) {
  query.cursor = request.cursor();
  if (request.has_start_time()) {
    RETURN_IF_ERROR(validation::CheckTimestamp("start_time", request.start_time()));
    query.start_time = absl::FromUnixSeconds(request.start_time().seconds()) +
                       absl::Nanoseconds(request.start_time().nanos());
  }
  return absl::OkStatus();
}

// Serves Subscribe for `topic` on `log`: validates the request (INVALID_ARGUMENT naming the
// field; a start_time must be a valid timestamp), opens the feed for the caller's tenant and
// streams it until the caller hangs up. `Request` has event_types, aggregate_types, cursor and
// start_time; `Response` has cursor and event.
template <typename Response, typename Request>
grpc::ServerWriteReactor<Response>* ServeFeed(grpc::CallbackServerContext* context,
                                              const Request& request, eventlog::EventLog* log,
                                              const std::string& topic,
                                              const std::string& default_tenant, OpenEvent open) {
  feed::FeedQuery query;
  query.topic = topic;
  query.event_types.assign(request.event_types().begin(), request.event_types().end());
  query.aggregate_types.assign(request.aggregate_types().begin(), request.aggregate_types().end());
  if (absl::Status s = ReadFeedStart(request, query); !s.ok()) {
    return new RefusedStream<Response>(s);
  }
  // "crm.contact.v1.ContactService/Subscribe": each service's file defines that one service.
  return ServeFeedQuery<Response>(
      context, std::move(query), log, default_tenant, std::move(open),
      absl::StrCat(Response::descriptor()->file()->service(0)->full_name(), "/Subscribe"));
}

}  // namespace crm::grpcutil
