// crmctl interaction ... and crmctl timeline.
#include <google/protobuf/util/time_util.h>

#include <iomanip>
#include <iostream>
#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::interaction::v1;

v1::Channel ParseChannel(const std::string& s) {
  v1::Channel c;
  if (!v1::Channel_Parse("CHANNEL_" + absl::AsciiStrToUpper(s), &c) ||
      c == v1::CHANNEL_UNSPECIFIED) {
    UsageError(
        "--channel must be call, email, meeting, chat, sms, web_visit, social, visit or note");
  }
  return c;
}

std::string Lower(const std::string& name, const std::string& prefix) {
  return absl::AsciiStrToLower(name.substr(prefix.size()));
}

void PrintInteraction(const v1::Interaction& i) {
  PrintRow("id", i.id());
  PrintRow("channel", Lower(v1::Channel_Name(i.channel()), "CHANNEL_"));
  if (i.direction() != v1::DIRECTION_UNSPECIFIED) {
    PrintRow("direction", Lower(v1::Direction_Name(i.direction()), "DIRECTION_"));
  }
  PrintRow("subject", i.subject());
  PrintRow("when", google::protobuf::util::TimeUtil::ToString(i.occurred_at()));
  PrintRow("contacts", absl::StrJoin(i.contact_ids(), ", "));
  PrintRow("company", i.company_id());
  PrintRow("owner", i.owner());
  PrintRow("outcome", i.outcome());
  PrintRow("deleted", i.deleted() ? "yes" : "");
  PrintRow("version", std::to_string(i.version()));
  if (!i.body().empty()) std::cout << "\n" << i.body() << "\n";
  std::cout << std::flush;
}

}  // namespace

void RegisterInteractionCommands(CLI::App& app, Client& client, int& exit_code) {
  CLI::App* interaction =
      app.add_subcommand("interaction", "touchpoints: log, get, delete (see also: timeline)");
  interaction->require_subcommand(1);

  struct LogFlags {
    std::vector<std::string> contacts;
    std::string channel, direction, subject, body, when, company, owner, outcome, request_id;
    int duration = 0;
  };
  auto lf = std::make_shared<LogFlags>();
  CLI::App* log = interaction->add_subcommand("log", "log an interaction");
  log->add_option("--contact", lf->contacts, "contact id (repeatable)")->required();
  log->add_option("--channel", lf->channel, "call, email, meeting, chat, sms, visit, ...")
      ->required();
  log->add_option("--direction", lf->direction, "inbound or outbound");
  log->add_option("--subject", lf->subject, "subject");
  log->add_option("--body", lf->body, "summary or body");
  log->add_option("--at", lf->when, "when it happened (RFC 3339; default now)");
  log->add_option("--duration", lf->duration, "seconds");
  log->add_option("--company", lf->company, "company id");
  log->add_option("--owner", lf->owner, "employee id");
  log->add_option("--outcome", lf->outcome, "outcome in words");
  log->add_option("--request-id", lf->request_id, "idempotency key");
  log->callback([&client, &exit_code, lf] {
    v1::LogInteractionRequest req;
    auto* i = req.mutable_interaction();
    for (const auto& c : lf->contacts) i->add_contact_ids(c);
    i->set_channel(ParseChannel(lf->channel));
    if (!lf->direction.empty()) {
      v1::Direction d;
      if (!v1::Direction_Parse("DIRECTION_" + absl::AsciiStrToUpper(lf->direction), &d)) {
        UsageError("--direction must be inbound or outbound");
      }
      i->set_direction(d);
    }
    i->set_subject(lf->subject);
    i->set_body(lf->body);
    *i->mutable_occurred_at() = lf->when.empty()
                                    ? google::protobuf::util::TimeUtil::GetCurrentTime()
                                    : ParseTime("--at", lf->when);
    i->set_duration_seconds(lf->duration);
    i->set_company_id(lf->company);
    i->set_owner(lf->owner);
    i->set_outcome(lf->outcome);
    req.set_request_id(lf->request_id);
    Run<v1::Interaction>(
        client, exit_code,
        [&](v1::Interaction& out) {
          return client.interactions().LogInteraction(client.Context().get(), req, &out);
        },
        [](const v1::Interaction& out) { PrintInteraction(out); });
  });

  auto get_req = std::make_shared<v1::GetInteractionRequest>();
  CLI::App* get = interaction->add_subcommand("get", "show an interaction");
  get->add_option("id", *get_req->mutable_id(), "interaction id")->required();
  get->callback([&client, &exit_code, get_req] {
    Run<v1::Interaction>(
        client, exit_code,
        [&](v1::Interaction& out) {
          return client.interactions().GetInteraction(client.Context().get(), *get_req, &out);
        },
        [](const v1::Interaction& out) { PrintInteraction(out); });
  });

  auto del_req = std::make_shared<v1::DeleteInteractionRequest>();
  CLI::App* del = interaction->add_subcommand("delete", "delete an interaction");
  del->add_option("id", *del_req->mutable_id(), "interaction id")->required();
  del->callback([&client, &exit_code, del_req] {
    Run<v1::Interaction>(
        client, exit_code,
        [&](v1::Interaction& out) {
          return client.interactions().DeleteInteraction(client.Context().get(), *del_req, &out);
        },
        [](const v1::Interaction& out) { PrintInteraction(out); });
  });

  struct TimelineFlags {
    std::string contact, company, token;
    std::vector<std::string> channels;
    int page_size = 0;
  };
  auto tf = std::make_shared<TimelineFlags>();
  CLI::App* timeline =
      app.add_subcommand("timeline", "a contact's or company's timeline, newest first");
  timeline->add_option("--contact", tf->contact, "contact id");
  timeline->add_option("--company", tf->company, "company id");
  timeline->add_option("--channel", tf->channels, "only this channel (repeatable)");
  timeline->add_option("--page-size", tf->page_size, "items per page (1-500)");
  timeline->add_option("--page-token", tf->token, "continue");
  timeline->callback([&client, &exit_code, tf] {
    v1::ListTimelineRequest req;
    req.set_contact_id(tf->contact);
    req.set_company_id(tf->company);
    for (const auto& c : tf->channels) req.add_channels(ParseChannel(c));
    req.set_page_size(tf->page_size);
    req.set_page_token(tf->token);
    Run<v1::ListTimelineResponse>(
        client, exit_code,
        [&](v1::ListTimelineResponse& out) {
          return client.interactions().ListTimeline(client.Context().get(), req, &out);
        },
        [](const v1::ListTimelineResponse& out) {
          for (const auto& item : out.items()) {
            std::cout << google::protobuf::util::TimeUtil::ToString(item.occurred_at()) << "  "
                      << std::left << std::setw(10)
                      << Lower(v1::Channel_Name(item.channel()), "CHANNEL_") << std::setw(28)
                      << item.id() << item.subject() << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });
}

}  // namespace crm::ctl
