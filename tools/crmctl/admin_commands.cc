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
}

}  // namespace crm::ctl
