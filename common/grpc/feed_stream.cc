#include "common/grpc/feed_stream.h"

#include <google/protobuf/message.h>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace crm::grpcutil {
namespace {

std::atomic<bool> feeds_stopped{false};
std::atomic<int> feed_stream_limit{0};
std::atomic<int> feed_streams{0};

}  // namespace

void StopFeeds() { feeds_stopped.store(true); }

bool FeedsStopped() { return feeds_stopped.load(); }

void SetMaxFeedStreams(int limit) { feed_stream_limit.store(limit); }

bool TakeFeedStream() {
  const int limit = feed_stream_limit.load();
  if (feed_streams.fetch_add(1) >= limit && limit > 0) {
    feed_streams.fetch_sub(1);
    return false;
  }
  return true;
}

void ReleaseFeedStream() { feed_streams.fetch_sub(1); }

absl::StatusOr<crm::common::v1::EventEnvelope> PresentEvent(crm::common::v1::EventEnvelope event,
                                                            const OpenEvent& open, bool unmasked) {
  if (open) {
    absl::StatusOr<std::optional<crm::common::v1::EventEnvelope>> opened = open(event);
    if (!opened.ok()) return opened.status();
    if (*opened) event = **std::move(opened);
  }
  if (unmasked) return event;
  const google::protobuf::Descriptor* type =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(event.event_type());
  if (type == nullptr || !CanHoldPersonalData(*type)) return event;
  std::unique_ptr<google::protobuf::Message> payload(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
  if (!event.payload().UnpackTo(payload.get())) {
    // What cannot be read cannot be masked: show none of it.
    event.clear_payload();
    return event;
  }
  if (MaskPersonalData(*payload)) event.mutable_payload()->PackFrom(*payload);
  return event;
}

void RecordAccess(const auth::Principal& caller, std::string_view method,
                  const crm::common::v1::EventEnvelope& event) {
  if (caller.subject.empty()) return;  // authentication off: no one to name
  const google::protobuf::Descriptor* type =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(event.event_type());
  if (type == nullptr || !CanHoldPersonalData(*type)) return;
  spdlog::info("access: {} of tenant {} read personal data with {}: {}", caller.subject,
               caller.tenant, method, event.aggregate_id());
}

}  // namespace crm::grpcutil
