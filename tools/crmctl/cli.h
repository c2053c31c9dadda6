// crmctl's shared pieces: the connection, output in tables or JSON, and errors.
//
// Each command group (contact_commands.cc, company_commands.cc, admin_commands.cc) registers
// its subcommands on the CLI11 app with a callback that runs the call and sets the exit code:
// 0 success, 1 the server refused (code and message on stderr), 2 bad usage.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "common/grpc/client.h"
#include "crm/admin/v1/admin_service.grpc.pb.h"
#include "crm/contact/v1/contact_service.grpc.pb.h"
#include "crm/interaction/v1/interaction_service.grpc.pb.h"

namespace crm::ctl {

struct Globals {
  std::string addr = "127.0.0.1:7070";
  bool json = false;
  double timeout_seconds = 30;
  // TLS files and the bearer token (--tls-ca, --tls-cert, --tls-key, --token).
  grpcutil::ClientSecurity security;
};

// The server connection, made on first use (after the flags are parsed).
class Client {
 public:
  explicit Client(const Globals& globals) : globals_(globals) {}
  crm::contact::v1::ContactService::Stub& contacts();
  crm::admin::v1::AdminService::Stub& admin();
  crm::interaction::v1::InteractionService::Stub& interactions();
  // A context with the --timeout deadline.
  std::unique_ptr<grpc::ClientContext> Context() const;
  bool json() const { return globals_.json; }
  // The server address (--addr).
  const std::string& addr() const { return globals_.addr; }
  // The channel, for services without a dedicated accessor.
  std::shared_ptr<grpc::Channel> channel();
  // A channel to another server with the same security settings (exits with 2 if they cannot
  // be used).
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& addr) const;

 private:
  void Connect();
  const Globals& globals_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<crm::contact::v1::ContactService::Stub> contacts_;
  std::unique_ptr<crm::admin::v1::AdminService::Stub> admin_;
  std::unique_ptr<crm::interaction::v1::InteractionService::Stub> interactions_;
};

// Prints the message and exits with 2.
[[noreturn]] void UsageError(const std::string& message);
// Prints the status to stderr; returns 1.
int Fail(const grpc::Status& status);
// One JSON object per line, proto field names.
void PrintJson(const google::protobuf::Message& message);
// Parses an RFC 3339 time given to `flag`, or exits with a usage error.
google::protobuf::Timestamp ParseTime(const std::string& flag, const std::string& value);
// "key      value" rows; empty values are skipped.
void PrintRow(const std::string& key, const std::string& value);
// An audit trail as a table.
void PrintHistory(
    const google::protobuf::RepeatedPtrField<crm::contact::v1::HistoryEntry>& entries);
// A data-quality view as rows.
void PrintQuality(const crm::contact::v1::DataQuality& quality);
// A "next page" hint when there is one.
void PrintNextPage(const std::string& token);
// An enum value as a word for people: RULE_RUN_STATE_DEAD_LETTERED -> "dead-lettered" (the
// prefix its UNSPECIFIED value shares dropped, lower case, '-' for '_').
std::string EnumWord(const google::protobuf::EnumDescriptor* type, int value);
// The value named by `word` as EnumWord writes it; nullopt for an unknown word or UNSPECIFIED.
std::optional<int> ParseEnumWord(const google::protobuf::EnumDescriptor* type,
                                 const std::string& word);

// Runs one call: on failure prints the status and sets exit_code to 1; on success prints the
// response as JSON (--json) or with `print`.
template <typename Response, typename Call, typename Print>
void Run(Client& client, int& exit_code, Call call, Print print) {
  Response out;
  grpc::Status s = call(out);
  if (!s.ok()) {
    exit_code = Fail(s);
  } else if (client.json()) {
    PrintJson(out);
  } else {
    print(out);
  }
}

void RegisterContactCommands(CLI::App& app, Client& client, int& exit_code);
void RegisterCompanyCommands(CLI::App& app, Client& client, int& exit_code);
void RegisterAdminCommands(CLI::App& app, Client& client, int& exit_code);
// crmctl token: signs development tokens; needs no server.
void RegisterTokenCommands(CLI::App& app, int& exit_code);
void RegisterInteractionCommands(CLI::App& app, Client& client, int& exit_code);
void RegisterCaseAndTaskCommands(CLI::App& app, Client& client, int& exit_code);
void RegisterSalesCommands(CLI::App& app, Client& client, int& exit_code);
void RegisterPipelineCommands(CLI::App& app, Client& client, int& exit_code);
void RegisterAnalyticsCommands(CLI::App& app, Client& client, int& exit_code);
void RegisterMarketingCommands(CLI::App& app, Client& client, int& exit_code);
// crmctl feed: a service's change feed.
void RegisterFeedCommands(CLI::App& app, Client& client, int& exit_code);
void RegisterWebhookCommands(CLI::App& app, Client& client, int& exit_code);
void RegisterRuleCommands(CLI::App& app, Client& client, int& exit_code);
void RegisterMessageCommands(CLI::App& app, Client& client, int& exit_code);
void RegisterCampaignCommands(CLI::App& app, Client& client, int& exit_code);
void RegisterExportCommands(CLI::App& app, Client& client, int& exit_code);
// crmctl import and undo-import.
void RegisterImportCommands(CLI::App& app, Client& client, int& exit_code);

}  // namespace crm::ctl
