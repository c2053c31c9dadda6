// crmctl admin ...: operator tools.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>
#include <thread>

#include "crm/analytics/v1/events.pb.h"
#include "crm/contact/v1/events.pb.h"
#include "crm/interaction/v1/events.pb.h"
#include "crm/sales/v1/events.pb.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {
namespace {

namespace av1 = crm::admin::v1;

// Links every event schema into the generated pool, so payloads print as JSON (a static
// library's unreferenced objects are left out).
const bool kEventsLinked = crm::contact::v1::ContactCreated::descriptor() != nullptr &&
                           crm::interaction::v1::InteractionLogged::descriptor() != nullptr &&
                           crm::sales::v1::ProductCreated::descriptor() != nullptr &&
                           crm::analytics::v1::ModelFitted::descriptor() != nullptr;

// One log entry as a JSON line; a payload of a type this build does not know is shown raw.
void PrintEntry(const av1::LogEntry& entry) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  if (google::protobuf::util::MessageToJsonString(entry, &out, options).ok()) {
    std::cout << out << "\n";
    return;
  }
  av1::LogEntry raw = entry;
  raw.mutable_event()->clear_payload();
  raw.set_error("payload of a type this crmctl does not know: " +
                entry.event().payload().type_url());
  (void)google::protobuf::util::MessageToJsonString(raw, &out, options);
  std::cout << out << "\n";
}

void RegisterLog(CLI::App* admin, Client& client, int& exit_code) {
  auto req = std::make_shared<av1::ReadLogRequest>();
  auto partition = std::make_shared<int>(-1);
  auto limit = std::make_shared<int64_t>(0);
  auto follow = std::make_shared<bool>(false);
  CLI::App* log = admin->add_subcommand(
      "log", "the log decoded, one JSON object per record (as the server's process reads it)");
  log->add_option("--topic", *req->mutable_topic(), "topic, e.g. crm.contact.v1")->required();
  log->add_option("--partition", *partition, "only this partition (default: all)");
  auto from = std::make_shared<int64_t>(0);
  log->add_option("--from", *from, "first offset in each partition")->capture_default_str();
  log->add_option("--aggregate", *req->mutable_aggregate_id(), "only this aggregate's records");
  log->add_option("--type", *req->mutable_event_type(),
                  "only events of this type, e.g. crm.contact.v1.ContactCreated");
  log->add_option("--limit", *limit, "stop after this many records (default: no limit)");
  log->add_flag("--follow,-f", *follow, "keep waiting for new records (until interrupted)");
  log->callback([&client, &exit_code, req, partition, from, limit, follow] {
    if (!kEventsLinked) return;
    if (*partition >= 0) req->set_partition(*partition);
    req->set_offset(*from);
    int64_t printed = 0;
    for (;;) {
      if (*limit > 0)
        req->set_max_records(static_cast<int32_t>(std::min<int64_t>(1000, *limit - printed)));
      av1::ReadLogResponse out;
      const grpc::Status s = client.admin().ReadLog(client.Context().get(), *req, &out);
      if (!s.ok()) {
        exit_code = Fail(s);
        return;
      }
      for (const av1::LogEntry& entry : out.entries()) PrintEntry(entry);
      std::cout << std::flush;
      printed += out.entries_size();
      req->set_page_token(out.next_page_token());
      if (*limit > 0 && printed >= *limit) return;
      if (out.at_end()) {
        if (!*follow) return;
        // Polling an idle log from the command line: a pause between calls, not synchronisation.
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    }
  });
}

// Asks each --target (or the --addr process) for its projections.
void RegisterProjections(CLI::App* admin, Client& client, int& exit_code) {
  auto targets = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = admin->add_subcommand(
      "projections", "positions and lag of every projection of one or more processes");
  cmd->add_option("--target", *targets,
                  "host:port of a process to ask (repeatable; default: --addr)");
  cmd->callback([&client, &exit_code, targets] {
    std::vector<std::string> addrs = *targets;
    if (addrs.empty()) addrs.push_back("");
    if (!client.json()) {
      std::cout << std::left << std::setw(22) << "TARGET" << std::setw(13) << "PROJECTION"
                << std::right << std::setw(12) << "APPLIED" << std::setw(12) << "END"
                << std::setw(10) << "LAG" << std::setw(8) << "DEAD"
                << "  STATE\n";
    }
    for (const std::string& addr : addrs) {
      std::unique_ptr<av1::AdminService::Stub> own;
      av1::AdminService::Stub* stub = &client.admin();
      if (!addr.empty()) {
        own = av1::AdminService::NewStub(client.ChannelTo(addr));
        stub = own.get();
      }
      const std::string shown = addr.empty() ? client.addr() : addr;
      av1::ListProjectionsResponse out;
      const grpc::Status s = stub->ListProjections(client.Context().get(), {}, &out);
      if (!s.ok()) {
        std::cerr << shown << ": ";
        exit_code = Fail(s);
        continue;
      }
      if (client.json()) {
        std::string json;
        google::protobuf::util::JsonPrintOptions options;
        options.preserve_proto_field_names = true;
        (void)google::protobuf::util::MessageToJsonString(out, &json, options);
        std::cout << "{\"target\":\"" << shown << "\",\"status\":" << json << "}\n";
        continue;
      }
      for (const av1::GetProjectionStatusResponse& p : out.projections()) {
        int64_t applied = 0;
        int64_t end = 0;
        for (const auto& part : p.partitions()) {
          applied += part.next_offset();
          end += part.end_offset();
        }
        std::cout << std::left << std::setw(22) << shown << std::setw(13) << p.projection()
                  << std::right << std::setw(12) << applied << std::setw(12) << end << std::setw(10)
                  << p.lag() << std::setw(8) << p.dead_letters() << "  "
                  << (p.rebuilding() ? "rebuilding" : "ok") << "\n";
      }
    }
    std::cout << std::flush;
  });
}

void RegisterRebuild(CLI::App* admin, Client& client, int& exit_code) {
  auto req = std::make_shared<av1::RebuildProjectionRequest>();
  auto wait = std::make_shared<bool>(false);
  auto wait_seconds = std::make_shared<double>(3600);
  CLI::App* cmd = admin->add_subcommand(
      "rebuild",
      "empty a projection and replay it from the log, in place (it refuses reads "
      "and reports NOT_SERVING until caught up)");
  cmd->add_option("--projection", *req->mutable_projection(), "projection name")->required();
  cmd->add_flag("--wait", *wait, "wait until the rebuild has caught up");
  cmd->add_option("--wait-timeout", *wait_seconds, "seconds --wait waits at most")
      ->capture_default_str();
  cmd->callback([&client, &exit_code, req, wait, wait_seconds] {
    av1::RebuildProjectionResponse out;
    grpc::Status s = client.admin().RebuildProjection(client.Context().get(), *req, &out);
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    av1::GetProjectionStatusResponse status = out.status();
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(*wait_seconds * 1000));
    while (*wait && status.rebuilding()) {
      if (std::chrono::steady_clock::now() >= until) {
        std::cerr << "crmctl: " << req->projection() << " is still rebuilding (" << status.lag()
                  << " records to go)" << std::endl;
        exit_code = 1;
        return;
      }
      // Watching a long operation from the command line: a pause between polls.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      av1::GetProjectionStatusRequest get;
      get.set_projection(req->projection());
      s = client.admin().GetProjectionStatus(client.Context().get(), get, &status);
      if (!s.ok()) {
        exit_code = Fail(s);
        return;
      }
    }
    if (client.json()) {
      PrintJson(status);
      return;
    }
    PrintRow("projection", status.projection());
    PrintRow("state", status.rebuilding() ? "rebuilding" : "caught up");
    PrintRow("lag", std::to_string(status.lag()));
    PrintRow("checksum", status.checksum());
    std::cout << std::flush;
  });
}

void RegisterCheckpoint(CLI::App* admin, Client& client, int& exit_code) {
  auto req = std::make_shared<av1::CreateCheckpointRequest>();
  CLI::App* cmd = admin->add_subcommand(
      "checkpoint",
      "copy the process's projections (and embedded log) to <backup dir>/NAME; "
      "restore by starting it with --restore-from on that directory");
  cmd->add_option("name", *req->mutable_name(), "checkpoint name (a-z, 0-9, . _ -)")->required();
  cmd->callback([&client, &exit_code, req] {
    Run<av1::CreateCheckpointResponse>(
        client, exit_code,
        [&](av1::CreateCheckpointResponse& out) {
          return client.admin().CreateCheckpoint(client.Context().get(), *req, &out);
        },
        [&](const av1::CreateCheckpointResponse& out) {
          PrintRow("path", out.path());
          std::string parts;
          for (const std::string& p : out.parts()) parts += (parts.empty() ? "" : ", ") + p;
          PrintRow("holds", parts);
          std::cout << std::flush;
        });
  });
}

// One API key as rows (or JSON).
void PrintApiKey(const av1::ApiKey& k) {
  PrintRow("id", k.id());
  PrintRow("name", k.name());
  std::string scopes;
  for (const std::string& s : k.scopes()) scopes += (scopes.empty() ? "" : " ") + s;
  PrintRow("scopes", scopes);
  PrintRow("expires", google::protobuf::util::TimeUtil::ToString(k.expire_time()));
  PrintRow("created",
           google::protobuf::util::TimeUtil::ToString(k.create_time()) + " by " + k.created_by());
  if (k.has_revoke_time()) {
    PrintRow("revoked",
             google::protobuf::util::TimeUtil::ToString(k.revoke_time()) + " by " + k.revoked_by());
  }
}

void RegisterApiKeys(CLI::App* admin, Client& client, int& exit_code) {
  CLI::App* keys = admin->add_subcommand("api-key", "API keys of integration partners");
  keys->require_subcommand(1);

  auto create = std::make_shared<av1::CreateApiKeyRequest>();
  auto expires = std::make_shared<std::string>();
  CLI::App* add = keys->add_subcommand(
      "create", "create a key in your tenant; it is printed once, keep it secret");
  add->add_option("name", *create->mutable_name(), "what the key is for")->required();
  auto scopes = std::make_shared<std::vector<std::string>>();
  add->add_option("--scope", *scopes, "a scope the key holds (repeatable)")->required();
  add->add_option("--expires", *expires, "when it stops working (RFC 3339)")->required();
  add->callback([&client, &exit_code, create, scopes, expires] {
    for (const std::string& s : *scopes) create->add_scopes(s);
    *create->mutable_expire_time() = ParseTime("--expires", *expires);
    Run<av1::CreateApiKeyResponse>(
        client, exit_code,
        [&](av1::CreateApiKeyResponse& out) {
          return client.admin().CreateApiKey(client.Context().get(), *create, &out);
        },
        [&](const av1::CreateApiKeyResponse& out) {
          PrintApiKey(out.api_key());
          PrintRow("key", out.key());
          std::cout << "(the key is shown this once)" << std::endl;
        });
  });

  CLI::App* list = keys->add_subcommand("list", "your tenant's keys (never the keys themselves)");
  list->callback([&client, &exit_code] {
    Run<av1::ListApiKeysResponse>(
        client, exit_code,
        [&](av1::ListApiKeysResponse& out) {
          return client.admin().ListApiKeys(client.Context().get(), {}, &out);
        },
        [&](const av1::ListApiKeysResponse& out) {
          for (const av1::ApiKey& k : out.api_keys()) {
            PrintApiKey(k);
            std::cout << "\n";
          }
          std::cout << std::flush;
        });
  });

  auto revoke = std::make_shared<av1::RevokeApiKeyRequest>();
  CLI::App* rm = keys->add_subcommand("revoke", "revoke a key: calls with it are refused");
  rm->add_option("id", *revoke->mutable_id(), "the key's id")->required();
  rm->callback([&client, &exit_code, revoke] {
    Run<av1::ApiKey>(
        client, exit_code,
        [&](av1::ApiKey& out) {
          return client.admin().RevokeApiKey(client.Context().get(), *revoke, &out);
        },
        [&](const av1::ApiKey& out) {
          PrintApiKey(out);
          std::cout << std::flush;
        });
  });
}

}  // namespace

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

  RegisterLog(admin, client, exit_code);
  RegisterProjections(admin, client, exit_code);
  RegisterRebuild(admin, client, exit_code);
  RegisterCheckpoint(admin, client, exit_code);
  RegisterApiKeys(admin, client, exit_code);
}

}  // namespace crm::ctl
