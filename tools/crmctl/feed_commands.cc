// crmctl feed SERVICE: a service's change feed (Subscribe), one JSON object per event.
#include <google/protobuf/util/json_util.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/analytics/v1/events.pb.h"
#include "crm/contact/v1/events.pb.h"
#include "crm/interaction/v1/events.pb.h"
#include "crm/sales/v1/events.pb.h"
#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {
namespace {

// Links every event schema into the generated pool, so payloads print as JSON.
const bool kEventsLinked = crm::contact::v1::ContactCreated::descriptor() != nullptr &&
                           crm::interaction::v1::InteractionLogged::descriptor() != nullptr &&
                           crm::sales::v1::ProductCreated::descriptor() != nullptr &&
                           crm::analytics::v1::ModelFitted::descriptor() != nullptr;

struct FeedFlags {
  std::string service;
  std::vector<std::string> event_types;
  std::vector<std::string> aggregate_types;
  std::string cursor;
  std::string since;
  int64_t limit = 0;
};

// Follows the feed of one service until --limit events were printed, the server ends the
// stream, or the command is interrupted.
template <typename Service, typename Request, typename Response>
int Follow(Client& client, const FeedFlags& flags) {
  Request request;
  for (const std::string& t : flags.event_types) request.add_event_types(t);
  for (const std::string& t : flags.aggregate_types) request.add_aggregate_types(t);
  if (!flags.cursor.empty()) request.set_cursor(flags.cursor);
  if (!flags.since.empty()) *request.mutable_start_time() = ParseTime("--since", flags.since);
  auto stub = Service::NewStub(client.channel());
  std::unique_ptr<grpc::ClientContext> ctx = client.Context();
  ctx->set_deadline(std::chrono::system_clock::time_point::max());  // a feed has no end
  auto reader = stub->Subscribe(ctx.get(), request);
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  Response message;
  int64_t printed = 0;
  while (reader->Read(&message)) {
    if (!message.has_event()) continue;  // progress only
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
      message.mutable_event()->clear_payload();  // a type this crmctl does not know
      (void)google::protobuf::util::MessageToJsonString(message, &json, options);
    }
    std::cout << json << std::endl;
    if (flags.limit > 0 && ++printed >= flags.limit) {
      ctx->TryCancel();
      while (reader->Read(&message)) {
      }
      reader->Finish().IgnoreError();
      return 0;
    }
  }
  const grpc::Status end = reader->Finish();
  return end.ok() ? 0 : Fail(end);
}

}  // namespace

void RegisterFeedCommands(CLI::App& app, Client& client, int& exit_code) {
  auto flags = std::make_shared<FeedFlags>();
  CLI::App* feed = app.add_subcommand(
      "feed",
      "follow a service's change feed: its events of your tenant, one JSON object per line, "
      "each with the cursor to resume after it");
  feed->add_option("service", flags->service, "contact, interaction, sales or analytics")
      ->required()
      ->check(CLI::IsMember({"contact", "interaction", "sales", "analytics"}));
  feed->add_option("--event-type", flags->event_types,
                   "only events of this type, e.g. crm.contact.v1.ContactCreated (repeatable)");
  feed->add_option("--aggregate-type", flags->aggregate_types,
                   "only events of aggregates of this type, e.g. contact (repeatable)");
  auto* cursor =
      feed->add_option("--cursor", flags->cursor, "continue after the event this cursor came with");
  feed->add_option("--since", flags->since, "start with events at or after this RFC 3339 time")
      ->excludes(cursor);
  feed->add_option("--limit", flags->limit, "stop after this many events (default: follow on)");
  feed->callback([&client, &exit_code, flags] {
    if (!kEventsLinked) return;
    const std::string& s = flags->service;
    if (s == "contact") {
      exit_code = Follow<crm::contact::v1::ContactService, crm::contact::v1::SubscribeRequest,
                         crm::contact::v1::SubscribeResponse>(client, *flags);
    } else if (s == "interaction") {
      exit_code =
          Follow<crm::interaction::v1::InteractionService, crm::interaction::v1::SubscribeRequest,
                 crm::interaction::v1::SubscribeResponse>(client, *flags);
    } else if (s == "sales") {
      exit_code = Follow<crm::sales::v1::SalesService, crm::sales::v1::SubscribeRequest,
                         crm::sales::v1::SubscribeResponse>(client, *flags);
    } else {
      exit_code = Follow<crm::analytics::v1::AnalyticsService, crm::analytics::v1::SubscribeRequest,
                         crm::analytics::v1::SubscribeResponse>(client, *flags);
    }
  });
}

}  // namespace crm::ctl
