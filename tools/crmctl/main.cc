// crmctl: the CRM command line, over gRPC.
//
//   crmctl contact create --given-name Ada --family-name Lovelace --email ada@example.com
//   crmctl contact search ada
//   crmctl --json contact get 01J...
//   crmctl company create --name "Acme" --domain acme.example
//
// --addr / CRM_ADDR names the server (default 127.0.0.1:7070); --token / CRM_TOKEN and
// --tls-ca (--tls-cert, --tls-key for mutual TLS) reach a server with authentication and TLS.
// Tables for people, --json for scripts (one JSON object per response, proto field names). Exit
// code 0 on success, 1 when the server refused the call (the status code and message go to stderr),
// 2 for bad usage.
#include "tools/crmctl/cli.h"

int main(int argc, char** argv) {
  CLI::App app("crmctl: command line for the CRM", "crmctl");
  app.require_subcommand(1);
  crm::ctl::Globals globals;
  app.add_option("--addr", globals.addr, "server host:port")
      ->envname("CRM_ADDR")
      ->capture_default_str();
  app.add_flag("--json", globals.json, "print JSON instead of tables");
  app.add_option("--timeout", globals.timeout_seconds, "seconds to wait for an answer")
      ->capture_default_str();
  app.add_option("--token", globals.security.token,
                 "bearer token (JWT) sent on every call, for servers with --auth jwt")
      ->envname("CRM_TOKEN");
  app.add_option("--tls-ca", globals.security.tls_ca,
                 "PEM CA bundle the server's certificate must chain to: connect with TLS")
      ->envname("CRM_TLS_CA");
  app.add_option("--tls-cert", globals.security.tls_cert,
                 "PEM client certificate, for servers that require mutual TLS (with --tls-key)")
      ->envname("CRM_CLIENT_TLS_CERT");
  app.add_option("--tls-key", globals.security.tls_key, "PEM private key of --tls-cert")
      ->envname("CRM_CLIENT_TLS_KEY");
  crm::ctl::Client client(globals);
  int exit_code = 0;
  crm::ctl::RegisterContactCommands(app, client, exit_code);
  crm::ctl::RegisterCompanyCommands(app, client, exit_code);
  crm::ctl::RegisterInteractionCommands(app, client, exit_code);
  crm::ctl::RegisterCaseAndTaskCommands(app, client, exit_code);
  crm::ctl::RegisterSalesCommands(app, client, exit_code);
  crm::ctl::RegisterPipelineCommands(app, client, exit_code);
  crm::ctl::RegisterAnalyticsCommands(app, client, exit_code);
  crm::ctl::RegisterMarketingCommands(app, client, exit_code);
  crm::ctl::RegisterFeedCommands(app, client, exit_code);
  crm::ctl::RegisterWebhookCommands(app, client, exit_code);
  crm::ctl::RegisterRuleCommands(app, client, exit_code);
  crm::ctl::RegisterMessageCommands(app, client, exit_code);
  crm::ctl::RegisterCampaignCommands(app, client, exit_code);
  crm::ctl::RegisterExportCommands(app, client, exit_code);
  crm::ctl::RegisterImportCommands(app, client, exit_code);
  crm::ctl::RegisterAdminCommands(app, client, exit_code);
  crm::ctl::RegisterTokenCommands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // Prints help, or the usage error.
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
