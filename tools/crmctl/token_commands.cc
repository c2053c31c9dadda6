// crmctl token: signs a bearer token for a server running with --auth jwt and an HS256 secret
// (or an RS256 key pair) — for local development and scripts; production tokens come from the
// identity provider.
//
//   crmctl token --hs256-secret-file secret --tenant acme --subject ada
//       --scope contacts.read --scope contacts.write
#include <iostream>

#include "common/auth/auth.h"
#include "common/files/files.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {

void RegisterTokenCommands(CLI::App& app, int& exit_code) {
  struct Args {
    std::string hs256_secret_file;
    std::string rs256_private_key_file;
    std::string tenant = "default";
    std::string subject;
    std::vector<std::string> scopes;
    bool all_scopes = false;
    std::string issuer;
    std::string audience;
    int64_t ttl_seconds = 3600;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "token", "sign a bearer token (JWT) for a server with --auth jwt (development, scripts)");
  cmd->add_option("--hs256-secret-file", args->hs256_secret_file,
                  "the server's --jwt-hs256-secret-file");
  cmd->add_option("--rs256-private-key-file", args->rs256_private_key_file,
                  "PEM RSA private key whose public key the server has");
  cmd->add_option("--tenant", args->tenant, "the tenant the token acts in")->capture_default_str();
  cmd->add_option("--subject", args->subject, "who the token speaks for")->required();
  cmd->add_option("--scope", args->scopes, "a scope the token holds (repeatable)");
  cmd->add_flag("--all-scopes", args->all_scopes, "every scope, admin included");
  cmd->add_option("--issuer", args->issuer, "\"iss\" (the server's --jwt-issuer)");
  cmd->add_option("--audience", args->audience, "\"aud\" (the server's --jwt-audience)");
  cmd->add_option("--ttl", args->ttl_seconds, "seconds the token is valid")
      ->check(CLI::Range(int64_t{1}, int64_t{86400} * 366))
      ->capture_default_str();
  cmd->callback([args, &exit_code] {
    auto read = [](const absl::StatusOr<std::string>& content) {
      if (!content.ok()) UsageError(std::string(content.status().message()));
      return *content;
    };
    std::string secret;
    std::string private_key;
    if (!args->hs256_secret_file.empty()) {
      secret = read(files::ReadSecretFile(args->hs256_secret_file, "--hs256-secret-file"));
    } else if (!args->rs256_private_key_file.empty()) {
      private_key =
          read(files::ReadSettingFile(args->rs256_private_key_file, "--rs256-private-key-file"));
    } else {
      UsageError("give --hs256-secret-file or --rs256-private-key-file");
    }
    auth::TokenClaims claims;
    claims.subject = args->subject;
    claims.tenant = args->tenant;
    claims.scopes = args->all_scopes
                        ? auth::AllScopes()
                        : std::set<std::string>(args->scopes.begin(), args->scopes.end());
    claims.issuer = args->issuer;
    claims.audience = args->audience;
    claims.expires = absl::Now() + absl::Seconds(args->ttl_seconds);
    absl::StatusOr<std::string> token = auth::MintToken(claims, secret, private_key);
    if (!token.ok()) UsageError(std::string(token.status().message()));
    std::cout << *token << std::endl;
    exit_code = 0;
  });
}

}  // namespace crm::ctl
