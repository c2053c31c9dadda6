#include "services/node/node.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/access/api_keys.h"
#include "common/config/config.h"
#include "common/crypto/key_vault.h"
#include "common/crypto/replicated_key_vault.h"
#include "common/crypto/sealing.h"
#include "common/files/files.h"
#include "common/grpc/admin_service.h"
#include "common/grpc/client.h"
#include "common/grpc/request_log.h"
#include "common/grpc/server.h"
#include "common/http/json_gateway.h"
#include "common/metrics/metrics.h"
#include "common/process/allocator.h"
#include "common/status/status_macros.h"
#include "common/store/checkpoint.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/contact/v1/contact_service.grpc.pb.h"
#include "crm/interaction/v1/interaction_service.grpc.pb.h"
#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "services/analytics/analytics_service.h"
#include "services/analytics/api/analytics_grpc.h"
#include "services/analytics/api/automation_grpc.h"
#include "services/analytics/api/webhook_grpc.h"
#include "services/contact/api/contact_grpc.h"
#include "services/contact/contact_service.h"
#include "services/interaction/api/interaction_grpc.h"
#include "services/interaction/interaction_service.h"
#include "services/sales/api/sales_grpc.h"
#include "services/sales/sales_service.h"

namespace crm::node {
namespace {

// The data keys of persons (crypto-shredding) under <data-dir>/contact-keys: on this machine alone
// with the embedded log (one process holds them); shared by every replica through crm.keys.v1 on
// Kafka, wrapped with the key-encryption key from --key-encryption-key-file.
absl::StatusOr<std::unique_ptr<crypto::DataKeys>> OpenDataKeys(const config::ServiceConfig& cfg,
                                                               eventlog::EventLog* log) {
  const std::string dir = (std::filesystem::path(cfg.data_dir) / "contact-keys").string();
  if (cfg.log == "embedded") {
    ASSIGN_OR_RETURN(std::unique_ptr<crypto::KeyVault> vault, crypto::KeyVault::Open(dir));
    return vault;
  }
  constexpr char kSetting[] = "--key-encryption-key-file/CRM_KEY_ENCRYPTION_KEY_FILE";
  std::string kek;
  if (!cfg.key_encryption_key_file.empty()) {
    ASSIGN_OR_RETURN(std::string material,
                     files::ReadSecretFile(cfg.key_encryption_key_file, kSetting));
    if (material.size() < crypto::kDataKeySize) {
      return absl::InvalidArgumentError(
          absl::StrCat(kSetting, ": use at least ", crypto::kDataKeySize, " bytes of random data"));
    }
    kek = crypto::DeriveKey(material);
  } else {
    spdlog::warn(
        "no --key-encryption-key-file: persons' data keys go on {} unwrapped; anyone who can "
        "read that topic can read their personal data",
        crypto::kKeysTopic);
  }
  absl::StatusOr<std::unique_ptr<crypto::ReplicatedKeyVault>> vault =
      crypto::ReplicatedKeyVault::Start(log, dir, std::move(kek), absl::Seconds(60));
  if (absl::IsFailedPrecondition(vault.status())) {
    return absl::FailedPreconditionError(absl::StrCat(kSetting, ": ", vault.status().message()));
  }
  if (!vault.ok()) return vault.status();
  return *std::move(vault);
}

// How this process reaches another service on a caller's behalf: over TLS with its own
// certificate as the client's when it has one (mutual TLS among the services), trusting
// --tls-client-ca (the CA our clients' certificates chain to signs the services' too) or else the
// system's roots; plaintext otherwise.
absl::StatusOr<std::shared_ptr<grpc::Channel>> PeerChannel(const config::ServiceConfig& cfg,
                                                           const std::string& address) {
  grpcutil::ClientSecurity security;
  if (!cfg.tls_cert.empty()) {
    if (!cfg.tls_client_ca.empty()) {
      ASSIGN_OR_RETURN(security.tls_ca,
                       files::ReadSettingFile(cfg.tls_client_ca, "--tls-client-ca"));
    }
    ASSIGN_OR_RETURN(security.tls_cert, files::ReadSettingFile(cfg.tls_cert, "--tls-cert"));
    ASSIGN_OR_RETURN(security.tls_key, files::ReadSecretFile(cfg.tls_key, "--tls-key"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                   grpcutil::ChannelCredentials(security));
  return grpc::CreateChannel(address, credentials);
}

// A call to another service on behalf of the caller of `ctx`: its credential, its deadline (at
// most `wait`).
std::unique_ptr<grpc::ClientContext> OnBehalfOf(const projection::CallContext& ctx,
                                                absl::Duration wait) {
  auto call = std::make_unique<grpc::ClientContext>();
  call->set_deadline(absl::ToChronoTime(std::min(ctx.deadline, absl::Now() + wait)));
  if (!ctx.authorization.empty()) call->AddMetadata("authorization", ctx.authorization);
  return call;
}

// Personal data for a separate crm-analytics, from the contact service at --contact-address.
// One call per customer shown (a 360, a page of a list), asynchronous: a 360 waiting for it
// holds no thread (a blocking call here held one of the few callback threads for the round
// trip, and cut the 360s a separate crm-analytics answers to a quarter: docs/performance.md). A
// contact it cannot get shows without.
absl::StatusOr<analytics::AnalyticsService::PersonalDataSource> RemotePersonalData(
    const config::ServiceConfig& cfg) {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, PeerChannel(cfg, cfg.contact_address));
  std::shared_ptr<crm::contact::v1::ContactService::Stub> stub =
      crm::contact::v1::ContactService::NewStub(channel);
  return [stub](const projection::CallContext& ctx, const std::string& id,
                std::function<void(crm::contact::v1::PersonalData)> done) {
    struct Call {
      std::unique_ptr<grpc::ClientContext> context;
      crm::contact::v1::GetContactRequest request;
      crm::contact::v1::Contact contact;
    };
    auto call = std::make_shared<Call>();
    call->context = OnBehalfOf(ctx, absl::Seconds(2));
    call->request.set_id(id);
    stub->async()->GetContact(call->context.get(), &call->request, &call->contact,
                              [call, done = std::move(done)](const grpc::Status& s) {
                                if (!s.ok()) {
                                  spdlog::debug("personal data of {} from the contact service: {}",
                                                call->request.id(), s.error_message());
                                  return done(crm::contact::v1::PersonalData());
                                }
                                done(std::move(*call->contact.mutable_personal()));
                              });
  };
}

// Another process's part of ExportContactData, from `Service` at `address`.
template <typename Service, typename Request, typename Response>
absl::StatusOr<projection::PersonalDataExport> RemoteExportPart(const config::ServiceConfig& cfg,
                                                                const std::string& address) {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, PeerChannel(cfg, address));
  std::shared_ptr<typename Service::Stub> stub = Service::NewStub(channel);
  return [stub, address](const projection::CallContext& ctx,
                         const std::vector<std::string>& ids) -> absl::StatusOr<nlohmann::json> {
    Request request;
    for (const std::string& id : ids) request.add_contact_ids(id);
    Response response;
    const grpc::Status s =
        stub->ExportContactData(OnBehalfOf(ctx, absl::Seconds(30)).get(), request, &response);
    if (!s.ok()) {
      return absl::Status(
          static_cast<absl::StatusCode>(s.error_code()),
          absl::StrCat(Service::service_full_name(), " at ", address, ": ", s.error_message()));
    }
    nlohmann::json part = nlohmann::json::parse(response.json(), nullptr, false);
    if (part.is_discarded()) {
      return absl::InternalError(
          absl::StrCat(Service::service_full_name(), " answered an export that is not JSON"));
    }
    return part;
  };
}

}  // namespace

int RunNode(int argc, char** argv, const NodeOptions& options) {
  grpcutil::BlockTerminationSignals();
  // A client that hangs up must not kill the process: a write to its socket fails with EPIPE
  // (gRPC never signals; the HTTP gateway's library and OpenSSL's socket writes would).
  signal(SIGPIPE, SIG_IGN);
  // Debian's abseil is built with its debug checks on: every absl::Mutex (gRPC's too) would be
  // entered into a process-wide lock-order graph under one global lock, on every lock and on
  // every destruction (~2 % of the CPU of a read in a profile). The checks find bugs in tests,
  // not in service.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app(options.description, options.program);
  config::ServiceConfig cfg;
  cfg.listen = options.default_listen;
  config::AddServiceFlags(app, cfg);
  config::ParseOrExit(app, cfg, argc, argv);
  // Keys are read and checked before anything is opened.
  absl::StatusOr<std::shared_ptr<auth::Authenticator>> authenticator =
      config::MakeAuthenticator(cfg);
  if (!authenticator.ok()) {
    spdlog::critical("configuration error: {}", std::string(authenticator.status().message()));
    return 2;
  }

  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) {
    spdlog::critical("--data-dir/CRM_DATA_DIR {}: {}", cfg.data_dir, ec.message());
    return 2;
  }
  if (!cfg.restore_from.empty()) {
    std::vector<std::string> parts;
    if (options.contact) parts.push_back("contact");
    if (options.contact) parts.push_back("contact-keys");
    if (options.interaction) parts.push_back("interaction");
    if (options.sales) parts.push_back("sales");
    if (options.analytics) parts.push_back("analytics");
    if (cfg.log == "embedded") parts.push_back("log");
    absl::StatusOr<std::vector<std::string>> restored =
        store::RestoreCheckpoint(cfg.restore_from, cfg.data_dir, parts);
    if (!restored.ok()) {
      spdlog::critical("{}", std::string(restored.status().message()));
      return absl::IsInvalidArgument(restored.status()) ? 2 : 1;
    }
    if (std::find(restored->begin(), restored->end(), "log") != restored->end()) {
      spdlog::warn(
          "the embedded log is back to the checkpoint: events appended after it was "
          "taken are gone");
    }
  }
  absl::StatusOr<std::unique_ptr<eventlog::EventLog>> log =
      config::OpenEventLog(cfg, options.program);
  if (!log.ok()) {
    spdlog::critical("cannot open the event log: {}", log.status().ToString());
    return 1;
  }
  std::unique_ptr<metrics::Metrics> metrics;
  if (!cfg.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<metrics::Metrics>> started =
        metrics::Metrics::Start(cfg.metrics_listen);
    if (!started.ok()) {
      spdlog::critical("--metrics-listen/CRM_METRICS_LISTEN: {}",
                       std::string(started.status().message()));
      return 2;
    }
    metrics = std::move(*started);
    *log = metrics->Meter(*std::move(log));
  }
  spdlog::info("memory allocator: {}", process::AllocatorVersion());
  if (cfg.log == "embedded") {
    spdlog::info("event log: embedded, durable under {}/log", cfg.data_dir);
  } else {
    spdlog::info("event log: kafka at {}", cfg.kafka_brokers);
  }

  grpcutil::AdminServiceImpl admin(log->get(), config::BackupDir(cfg));
  std::vector<grpc::Service*> services = {&admin};
  std::unique_ptr<contact::ContactService> contact_service;
  std::unique_ptr<contact::ContactGrpc> contact_grpc;
  if (options.contact) {
    const std::string dir = (std::filesystem::path(cfg.data_dir) / "contact").string();
    absl::StatusOr<std::unique_ptr<crypto::DataKeys>> keys = OpenDataKeys(cfg, log->get());
    if (!keys.ok()) {
      spdlog::critical("data keys: {}", std::string(keys.status().message()));
      return absl::IsInvalidArgument(keys.status()) ? 2 : 1;
    }
    absl::StatusOr<std::unique_ptr<contact::ContactService>> opened =
        contact::ContactService::Open(dir, *std::move(keys), log->get(), cfg.rebuild);
    if (!opened.ok()) {
      spdlog::critical("contact projection: {}", opened.status().ToString());
      return 1;
    }
    contact_service = std::move(*opened);
    if (absl::Status s = contact_service->projector()->Start(); !s.ok()) {
      spdlog::critical("contact projection: {}", s.ToString());
      return 1;
    }
    if (cfg.rebuild) spdlog::info("contact projection: rebuilding from the start of the log");
    contact_grpc = std::make_unique<contact::ContactGrpc>(contact_service.get(), cfg.tenant);
    admin.Register(contact_service->projector());
    // Without its keys a restored log's personal data cannot be read: they go in checkpoints.
    admin.AddCheckpointPart("contact-keys", [keys = contact_service->keys()](const std::string& d) {
      return keys->Checkpoint(d);
    });
    if (metrics) metrics->AddProjector(contact_service->projector());
    services.push_back(contact_grpc.get());
  }

  std::unique_ptr<interaction::InteractionService> interaction_service;
  std::unique_ptr<interaction::InteractionGrpc> interaction_grpc;
  if (options.interaction) {
    const std::string dir = (std::filesystem::path(cfg.data_dir) / "interaction").string();
    absl::StatusOr<interaction::SlaPolicy> sla = interaction::SlaPolicy::Parse(
        cfg.sla_first_response, cfg.sla_resolution, "--sla-first-response/CRM_SLA_FIRST_RESPONSE",
        "--sla-resolution/CRM_SLA_RESOLUTION");
    if (!sla.ok()) {
      spdlog::critical("configuration error: {}", std::string(sla.status().message()));
      return 2;
    }
    absl::StatusOr<std::unique_ptr<interaction::InteractionService>> opened =
        interaction::InteractionService::Open(dir, log->get(), cfg.rebuild, *std::move(sla));
    if (!opened.ok()) {
      spdlog::critical("interaction projection: {}", opened.status().ToString());
      return 1;
    }
    interaction_service = std::move(*opened);
    if (absl::Status s = interaction_service->projector()->Start(); !s.ok()) {
      spdlog::critical("interaction projection: {}", s.ToString());
      return 1;
    }
    interaction_grpc =
        std::make_unique<interaction::InteractionGrpc>(interaction_service.get(), cfg.tenant);
    admin.Register(interaction_service->projector());
    if (metrics) metrics->AddProjector(interaction_service->projector());
    services.push_back(interaction_grpc.get());
  }

  std::unique_ptr<sales::SalesService> sales_service;
  std::unique_ptr<sales::SalesGrpc> sales_grpc;
  if (options.sales) {
    const std::string dir = (std::filesystem::path(cfg.data_dir) / "sales").string();
    absl::StatusOr<std::unique_ptr<sales::SalesService>> opened =
        sales::SalesService::Open(dir, log->get(), cfg.rebuild);
    if (!opened.ok()) {
      spdlog::critical("sales projection: {}", opened.status().ToString());
      return 1;
    }
    sales_service = std::move(*opened);
    if (absl::Status s = sales_service->projector()->Start(); !s.ok()) {
      spdlog::critical("sales projection: {}", s.ToString());
      return 1;
    }
    sales_grpc = std::make_unique<sales::SalesGrpc>(sales_service.get(), cfg.tenant);
    admin.Register(sales_service->projector());
    if (metrics) metrics->AddProjector(sales_service->projector());
    services.push_back(sales_grpc.get());
  }

  std::unique_ptr<analytics::AnalyticsService> analytics_service;
  std::unique_ptr<analytics::AnalyticsGrpc> analytics_grpc;
  std::unique_ptr<analytics::WebhookGrpc> webhook_grpc;
  std::unique_ptr<analytics::AutomationGrpc> automation_grpc;
  if (options.analytics) {
    const std::string dir = (std::filesystem::path(cfg.data_dir) / "analytics").string();
    absl::StatusOr<std::unique_ptr<analytics::AnalyticsService>> opened =
        analytics::AnalyticsService::Open(dir, log->get(), cfg.rebuild);
    if (!opened.ok()) {
      spdlog::critical("analytics projection: {}", opened.status().ToString());
      return 1;
    }
    analytics_service = std::move(*opened);
    if (absl::Status s = analytics_service->projector()->Start(); !s.ok()) {
      spdlog::critical("analytics projection: {}", s.ToString());
      return 1;
    }
    analytics_service->StartRefits(absl::Seconds(cfg.model_refit_seconds));
    if (!contact_service && !cfg.contact_address.empty()) {
      absl::StatusOr<analytics::AnalyticsService::PersonalDataSource> remote =
          RemotePersonalData(cfg);
      if (!remote.ok()) {
        spdlog::critical("--contact-address: {}", std::string(remote.status().message()));
        return 2;
      }
      analytics_service->TakePersonalDataFrom(*std::move(remote));
    } else if (contact_service) {
      analytics_service->TakePersonalDataFrom(
          [contact = contact_service.get()](
              const projection::CallContext& ctx, const std::string& id,
              std::function<void(crm::contact::v1::PersonalData)> done) {
            done(contact->PersonalData(ctx.tenant, id));
          });
    }
    analytics_grpc =
        std::make_unique<analytics::AnalyticsGrpc>(analytics_service.get(), cfg.tenant);
    admin.Register(analytics_service->projector());
    if (metrics) {
      metrics->AddProjector(analytics_service->projector());
      analytics::AnalyticsService* const a = analytics_service.get();
      metrics->AddCounter("crm_analytics_customer360_kept_served_total",
                          "GetCustomer360 calls answered from a kept 360 (nothing it was read "
                          "from had changed)",
                          [a] { return static_cast<double>(a->kept_360s_served()); });
      metrics->AddGauge("crm_analytics_customer360_kept_bytes",
                        "about the bytes of the 360s the analytics service keeps (at most a "
                        "sixteenth of --rocksdb-memory-mib)",
                        [a] { return static_cast<double>(a->kept_360s_bytes()); });
    }
    services.push_back(analytics_grpc.get());
    webhook_grpc = std::make_unique<analytics::WebhookGrpc>(analytics_service->webhooks(),
                                                            cfg.tenant, cfg.webhook_allow_http);
    services.push_back(webhook_grpc.get());
    automation_grpc = std::make_unique<analytics::AutomationGrpc>(
        analytics_service->automation(), analytics_service->projector()->log(), cfg.tenant);
    services.push_back(automation_grpc.get());
    if (config::DispatchesWebhooks(cfg)) {
      analytics_service->webhooks()->StartDispatcher(
          {.max_attempts = cfg.webhook_max_attempts,
           .retry_base = absl::Milliseconds(cfg.webhook_retry_base_ms),
           .timeout = absl::Milliseconds(cfg.webhook_timeout_ms)},
          std::make_unique<analytics::webhooks::CurlSender>());
    }
  }
  // An export of everything on one person gathers the other services' parts in process.
  if (contact_grpc) {
    auto part = [](const auto* service) {
      return [service](const projection::CallContext& ctx, const std::vector<std::string>& ids) {
        return service->ExportPersonalData(ctx, ids);
      };
    };
    if (interaction_service)
      contact_grpc->AddExportPart("interaction", part(interaction_service.get()));
    if (sales_service) contact_grpc->AddExportPart("sales", part(sales_service.get()));
    if (analytics_service) contact_grpc->AddExportPart("analytics", part(analytics_service.get()));
    // A separate crm-contact asks the others.
    std::vector<std::pair<std::string, absl::StatusOr<projection::PersonalDataExport>>> remote;
    if (!interaction_service && !cfg.interaction_address.empty()) {
      remote.emplace_back("interaction",
                          RemoteExportPart<crm::interaction::v1::InteractionService,
                                           crm::interaction::v1::ExportContactDataRequest,
                                           crm::interaction::v1::ExportContactDataResponse>(
                              cfg, cfg.interaction_address));
    }
    if (!sales_service && !cfg.sales_address.empty()) {
      remote.emplace_back(
          "sales",
          RemoteExportPart<crm::sales::v1::SalesService, crm::sales::v1::ExportContactDataRequest,
                           crm::sales::v1::ExportContactDataResponse>(cfg, cfg.sales_address));
    }
    if (!analytics_service && !cfg.analytics_address.empty()) {
      remote.emplace_back("analytics",
                          RemoteExportPart<crm::analytics::v1::AnalyticsService,
                                           crm::analytics::v1::ExportContactDataRequest,
                                           crm::analytics::v1::ExportContactDataResponse>(
                              cfg, cfg.analytics_address));
    }
    for (auto& [name, made] : remote) {
      if (!made.ok()) {
        spdlog::critical("--{}-address: {}", name, std::string(made.status().message()));
        return 2;
      }
      contact_grpc->AddExportPart(name, *std::move(made));
    }
  }

  // The API keys of integration partners, from the access log every process reads.
  absl::StatusOr<std::unique_ptr<access::ApiKeyStore>> api_keys =
      access::ApiKeyStore::Start(log->get());
  if (!api_keys.ok()) {
    spdlog::critical("{}", api_keys.status().ToString());
    return 1;
  }
  if (*authenticator) (*authenticator)->UseApiKeys(api_keys->get());
  admin.UseApiKeys(api_keys->get());

  grpcutil::ServerOptions server_options;
  server_options.authenticator = *std::move(authenticator);
  server_options.default_tenant = cfg.tenant;
  server_options.tls = {.cert = cfg.tls_cert,
                        .key = cfg.tls_key,
                        .client_ca = cfg.tls_client_ca,
                        .reload_interval = absl::Seconds(cfg.tls_reload_seconds)};
  server_options.health_listen = cfg.health_listen;
  if (cfg.rate_limit > 0) {
    server_options.rate_limiter = std::make_shared<auth::RateLimiter>(
        cfg.rate_limit, cfg.rate_burst > 0 ? cfg.rate_burst : std::max(1.0, 2 * cfg.rate_limit));
  }
  server_options.max_concurrent_streams = cfg.max_concurrent_streams;
  server_options.max_feed_streams = cfg.max_feed_streams;
  if (metrics) {
    for (auto& i : metrics->ServerInterceptors())
      server_options.interceptors.push_back(std::move(i));
  }
  server_options.interceptors.push_back(grpcutil::RequestLogInterceptors());
  if (cfg.max_connection_age_seconds > 0) {
    server_options.max_connection_age = absl::Seconds(cfg.max_connection_age_seconds);
  }
  absl::StatusOr<grpcutil::RunningServer> server =
      grpcutil::StartServer(cfg.listen, services, std::move(server_options));
  if (!server.ok()) {
    spdlog::critical("--listen/CRM_LISTEN: {}", std::string(server.status().message()));
    return 2;
  }
  std::cout << "listening on " << server->address << std::endl;
  if (!server->health_address.empty()) {
    std::cout << "health on " << server->health_address << std::endl;
  }
  if (cfg.tls_cert.empty()) {
    spdlog::warn(
        "gRPC on {} is PLAINTEXT: calls and credentials cross the network unencrypted; give "
        "--tls-cert and --tls-key outside local development",
        server->address);
  } else {
    spdlog::info("gRPC on {}: TLS{}", server->address,
                 cfg.tls_client_ca.empty() ? "" : " with client certificates (mutual TLS)");
  }
  if (cfg.auth == "off") {
    spdlog::warn(
        "authentication is OFF: every caller acts in tenant {} with every scope; set --auth jwt "
        "outside local use",
        cfg.tenant);
  } else {
    spdlog::info("authentication: bearer JWT on every call (tenant from the \"{}\" claim)",
                 cfg.jwt_tenant_claim);
  }
  if (metrics) {
    std::cout << "metrics on " << metrics->address() << std::endl;
    spdlog::info("Prometheus metrics on http://{}/metrics", metrics->address());
  }
  // JSON over HTTP: calls the gRPC server in process, so they meet the same interceptors.
  std::unique_ptr<http::JsonGateway> gateway;
  if (!cfg.http_listen.empty()) {
    absl::StatusOr<std::unique_ptr<http::JsonGateway>> started =
        http::JsonGateway::Start({.listen = cfg.http_listen,
                                  .tls_cert_file = cfg.tls_cert,
                                  .tls_key_file = cfg.tls_key,
                                  .tls_client_ca_file = cfg.tls_client_ca,
                                  .max_streams = cfg.max_feed_streams},
                                 server->server->InProcessChannel(grpc::ChannelArguments()));
    if (!started.ok()) {
      spdlog::critical("--http-listen/CRM_HTTP_LISTEN: {}",
                       std::string(started.status().message()));
      server->Shutdown(absl::ZeroDuration());
      return 2;
    }
    gateway = *std::move(started);
    std::cout << "http on " << gateway->address() << std::endl;
    spdlog::info("JSON over {} on {}", cfg.tls_cert.empty() ? "HTTP (PLAINTEXT)" : "HTTPS",
                 gateway->address());
  }
  spdlog::info("{} serving gRPC on {} (tenant {})", options.program, server->address, cfg.tenant);

  // Automation: rules' actions call the interaction service's gRPC API — this server's own (in
  // process, through the same interceptors) or --interaction-address.
  if (analytics_service && config::RunsAutomation(cfg)) {
    std::shared_ptr<grpc::Channel> channel;
    if (!cfg.interaction_address.empty()) {
      absl::StatusOr<std::shared_ptr<grpc::Channel>> peer =
          PeerChannel(cfg, cfg.interaction_address);
      if (!peer.ok()) {
        spdlog::critical("--interaction-address: {}", std::string(peer.status().message()));
        server->Shutdown(absl::ZeroDuration());
        return 2;
      }
      channel = *std::move(peer);
    } else if (interaction_service) {
      channel = server->server->InProcessChannel(grpc::ChannelArguments());
    }
    std::map<std::string, std::string> tokens;
    if (!cfg.automation_token_file.empty()) {
      absl::StatusOr<std::string> text = files::ReadSecretFile(
          cfg.automation_token_file, "--automation-token-file/CRM_AUTOMATION_TOKEN_FILE");
      absl::StatusOr<std::map<std::string, std::string>> parsed =
          text.ok() ? analytics::automation::ParseAutomationTokens(*text)
                    : absl::StatusOr<std::map<std::string, std::string>>(text.status());
      if (!parsed.ok()) {
        spdlog::critical("{}", std::string(parsed.status().message()));
        server->Shutdown(absl::ZeroDuration());
        return 2;
      }
      tokens = *std::move(parsed);
    }
    // Contact actions go to this server's own contact service, or --contact-address.
    std::shared_ptr<grpc::Channel> contact_channel;
    if (!cfg.contact_address.empty()) {
      absl::StatusOr<std::shared_ptr<grpc::Channel>> peer = PeerChannel(cfg, cfg.contact_address);
      if (!peer.ok()) {
        spdlog::critical("--contact-address: {}", std::string(peer.status().message()));
        server->Shutdown(absl::ZeroDuration());
        return 2;
      }
      contact_channel = *std::move(peer);
    } else if (contact_service) {
      contact_channel = server->server->InProcessChannel(grpc::ChannelArguments());
    }
    if (channel || contact_channel) {
      analytics_service->automation()->StartEngine(
          {.max_attempts = cfg.automation_max_attempts,
           .retry_base = absl::Milliseconds(cfg.automation_retry_base_ms),
           .time_scan_interval = absl::Milliseconds(cfg.automation_scan_interval_ms)},
          std::make_unique<analytics::automation::GrpcActionPerformer>(
              channel, contact_channel, std::move(tokens), cfg.tenant, absl::Seconds(10)));
    } else {
      spdlog::warn(
          "automation: no --interaction-address or --contact-address, so no rule runs here "
          "(rules wait at their recorded position)");
    }
  }

  // Readiness: SERVING once every projection has caught up with the log as it was at start, and
  // from then on while every projection can reach the log and is within --ready-max-lag of it.
  std::vector<projection::Projector*> projectors;
  for (projection::Projector* p : {contact_service ? contact_service->projector() : nullptr,
                                   interaction_service ? interaction_service->projector() : nullptr,
                                   sales_service ? sales_service->projector() : nullptr,
                                   analytics_service ? analytics_service->projector() : nullptr}) {
    if (p != nullptr) projectors.push_back(p);
  }
  absl::Mutex health_mu;
  bool stopping = false;  // guarded by health_mu; set before the server drains
  std::thread health([&] {
    for (projection::Projector* p : projectors) {
      absl::Status s = p->WaitUntilCaughtUp(absl::InfiniteFuture());
      if (!s.ok()) {
        spdlog::error("{} projection did not catch up: {}", p->name(), s.ToString());
        return;
      }
    }
    // A catch-up's batches are the process's largest transient allocations: give the freed heap
    // back to the system now rather than as the allocator's free pages age.
    process::ReleaseFreeMemory();
    bool serving = false;
    absl::MutexLock lock(&health_mu);
    do {
      health_mu.Unlock();
      absl::Status ready = absl::OkStatus();
      for (projection::Projector* p : projectors) {
        absl::StatusOr<int64_t> lag = p->Lag();
        if (!lag.ok()) {
          ready = absl::UnavailableError(absl::StrCat(
              p->name(), " projection cannot reach the log: ", lag.status().message()));
        } else if (p->rebuilding()) {
          ready = absl::UnavailableError(absl::StrCat(p->name(), " projection is rebuilding"));
        } else if (*lag > cfg.ready_max_lag) {
          ready = absl::UnavailableError(
              absl::StrCat(p->name(), " projection is ", *lag, " records behind the log"));
        }
        if (!ready.ok()) break;
      }
      health_mu.Lock();
      if (stopping || ready.ok() == serving) continue;
      serving = ready.ok();
      server->SetServing(serving);
      if (serving) {
        spdlog::info("projections caught up; health is SERVING");
      } else {
        spdlog::warn("health is NOT_SERVING: {}", std::string(ready.message()));
      }
    } while (!health_mu.AwaitWithTimeout(absl::Condition(&stopping), absl::Seconds(1)));
  });

  const int sig = grpcutil::WaitForTerminationSignal();
  spdlog::info("signal {}: draining", sig);
  {
    absl::MutexLock lock(&health_mu);
    stopping = true;
  }
  gateway.reset();  // it calls the server, which drains next
  server->Shutdown(absl::Seconds(cfg.shutdown_grace_seconds));
  if (contact_service) contact_service->Stop();
  if (interaction_service) interaction_service->Stop();
  if (sales_service) sales_service->Stop();
  if (analytics_service) analytics_service->Stop();
  health.join();
  metrics.reset();  // its scrapes read the projections, which go next
  if (absl::Status s = (*log)->Flush(absl::Seconds(10)); !s.ok()) {
    spdlog::warn("event log flush: {}", s.ToString());
  }
  contact_service.reset();
  interaction_service.reset();
  sales_service.reset();
  analytics_service.reset();
  api_keys->reset();  // its follower reads the log, which goes next
  log->reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace crm::node
