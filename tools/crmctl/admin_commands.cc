// crmctl admin ...: operator tools.
#include <iostream>
#include <memory>

#include "tools/crmctl/cli.h"

namespace crm::ctl {

void RegisterAdminCommands(CLI::App& app, Client& client, int& exit_code) {
  CLI::App* admin = app.add_subcommand("admin", "operator tools");
  admin->require_subcommand(1);
  auto req = std::make_shared<crm::admin::v1::GetProjectionStatusRequest>();
  req->set_projection("contact");
  CLI::App* status = admin->add_subcommand("status", "projection positions and checksum");
  status->add_option("--projection", *req->mutable_projection(), "projection name")
      ->capture_default_str();
  status->callback([&client, &exit_code, req] {
    Run<crm::admin::v1::GetProjectionStatusResponse>(
        client, exit_code,
        [&](crm::admin::v1::GetProjectionStatusResponse& out) {
          return client.admin().GetProjectionStatus(client.Context().get(), *req, &out);
        },
        [&](const crm::admin::v1::GetProjectionStatusResponse& out) {
          PrintRow("projection", out.projection());
          PrintRow("checksum", out.checksum());
          PrintRow("events seen", std::to_string(out.events_seen()));
          PrintRow("unknown", std::to_string(out.unknown_events()));
          PrintRow("dead letters", std::to_string(out.dead_letters()));
          for (const auto& p : out.partitions()) {
            std::cout << "  " << p.topic() << "/" << p.partition() << "  applied to "
                      << p.next_offset() << " of " << p.end_offset() << "\n";
          }
          std::cout << std::flush;
        });
  });

  auto dl = std::make_shared<crm::admin::v1::ListDeadLettersRequest>();
  dl->set_projection("contact");
  CLI::App* dead = admin->add_subcommand(
      "dead-letters", "records a projection set aside because they could not be decoded");
  dead->add_option("--projection", *dl->mutable_projection(), "projection name")
      ->capture_default_str();
  auto page_size = std::make_shared<int>(0);
  dead->add_option("--page-size", *page_size, "at most this many (1-1000; default 100)");
  dead->add_option("--page-token", *dl->mutable_page_token(), "next page of an earlier listing");
  dead->callback([&client, &exit_code, dl, page_size] {
    dl->set_page_size(*page_size);
    Run<crm::admin::v1::ListDeadLettersResponse>(
        client, exit_code,
        [&](crm::admin::v1::ListDeadLettersResponse& out) {
          return client.admin().ListDeadLetters(client.Context().get(), *dl, &out);
        },
        [&](const crm::admin::v1::ListDeadLettersResponse& out) {
          for (const auto& d : out.dead_letters()) {
            std::cout << d.topic() << "/" << d.partition() << "@" << d.offset() << "  "
                      << d.value().size() << " bytes  " << d.error() << "\n";
          }
          if (!out.next_page_token().empty()) {
            std::cout << "next page: --page-token " << out.next_page_token() << "\n";
          }
          std::cout << std::flush;
        });
  });
}

}  // namespace crm::ctl
