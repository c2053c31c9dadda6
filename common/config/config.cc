#include "common/config/config.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/eventlog/embedded_event_log.h"
#include "common/eventlog/kafka_event_log.h"
#include "common/files/files.h"
#include "common/logging/log_context.h"
#include "common/status/status_macros.h"
#include "common/store/memory.h"

namespace crm::config {

void AddServiceFlags(CLI::App& app, ServiceConfig& c) {
  app.add_option("--listen", c.listen, "host:port to serve gRPC on (port 0 picks a free port)")
      ->envname("CRM_LISTEN")
      ->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "directory for the RocksDB data")
      ->envname("CRM_DATA_DIR")
      ->capture_default_str();
  app.add_option("--log", c.log, "event log backend: embedded or kafka")
      ->envname("CRM_LOG")
      ->capture_default_str();
  app.add_option("--kafka-brokers", c.kafka_brokers, "Kafka bootstrap servers (host:port,...)")
      ->envname("CRM_KAFKA_BROKERS");
  app.add_option("--tenant", c.tenant, "the default tenant")
      ->envname("CRM_TENANT")
      ->capture_default_str();
  app.add_option("--log-partitions", c.log_partitions,
                 "partitions per topic of the embedded log (fixed once data exists)")
      ->envname("CRM_LOG_PARTITIONS")
      ->capture_default_str();
  app.add_flag("--rebuild", c.rebuild, "wipe the projections and replay the log at start")
      ->envname("CRM_REBUILD");
  app.add_option("--shutdown-grace", c.shutdown_grace_seconds,
                 "seconds in-flight calls get to finish at shutdown")
      ->envname("CRM_SHUTDOWN_GRACE")
      ->capture_default_str();
  app.add_option("--log-level", c.log_level, "trace, debug, info, warn or error")
      ->envname("CRM_LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--log-format", c.log_format,
                 "text, or json: one JSON object per line with time, level, service, tenant, "
                 "thread and message, for log collectors")
      ->envname("CRM_LOG_FORMAT")
      ->capture_default_str();
  app.add_option("--sla-first-response", c.sla_first_response,
                 "support-case first-response targets by priority, e.g. urgent=1h,high=4h "
                 "(defaults: urgent 1h, high 4h, normal 8h, low 24h)")
      ->envname("CRM_SLA_FIRST_RESPONSE");
  app.add_option("--sla-resolution", c.sla_resolution,
                 "support-case resolution targets by priority, e.g. urgent=8h,high=24h "
                 "(defaults: urgent 8h, high 24h, normal 72h, low 168h)")
      ->envname("CRM_SLA_RESOLUTION");
  app.add_option("--model-refit-interval", c.model_refit_seconds,
                 "seconds between the analytics service's checks whether the purchase models "
                 "need a refit (they do once the purchase history grew by a tenth)")
      ->envname("CRM_MODEL_REFIT_INTERVAL")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--rocksdb-memory-mib", c.rocksdb_memory_mib,
                 "MiB of RocksDB memory for the whole process: one block cache with the memtables "
                 "of every store charged against it (index and filter blocks come on top)")
      ->envname("CRM_ROCKSDB_MEMORY_MIB")
      ->capture_default_str();
  app.add_option("--ready-max-lag", c.ready_max_lag,
                 "records a projection may be behind the log and still report SERVING; beyond "
                 "that, or while the log cannot be reached, health is NOT_SERVING")
      ->envname("CRM_READY_MAX_LAG")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--kafka-property", c.kafka_properties,
                 "a librdkafka property for the producer and consumers, KEY=VALUE (repeatable; "
                 "e.g. security.protocol=ssl)")
      ->envname("CRM_KAFKA_PROPERTIES")
      ->delimiter(',');
  app.add_option("--metrics-listen", c.metrics_listen,
                 "host:port to serve Prometheus metrics on at /metrics (port 0 picks a free "
                 "port); off when empty")
      ->envname("CRM_METRICS_LISTEN");
  app.add_option("--http-listen", c.http_listen,
                 "host:port to serve every RPC as JSON over HTTP on (POST /v1/<Service>/<Method>; "
                 "HTTPS with the TLS settings; port 0 picks a free port); off when empty")
      ->envname("CRM_HTTP_LISTEN");
  app.add_option("--max-connection-age", c.max_connection_age_seconds,
                 "seconds after which the server closes a client connection (calls in flight "
                 "finish), so clients reconnect and load spreads over new replicas; 0: never")
      ->envname("CRM_MAX_CONNECTION_AGE")
      ->check(CLI::Range(0, 86400 * 30))
      ->capture_default_str();
  app.add_option("--backup-dir", c.backup_dir,
                 "directory checkpoints (crmctl admin checkpoint) are written under; default "
                 "<data-dir>/backups")
      ->envname("CRM_BACKUP_DIR");
  app.add_option("--restore-from", c.restore_from,
                 "a checkpoint directory to restore before starting: each projection it holds "
                 "(and the embedded log) replaces the one in the data directory, once per "
                 "checkpoint; projections then catch up from the log")
      ->envname("CRM_RESTORE_FROM");
  app.add_option("--tls-cert", c.tls_cert,
                 "PEM certificate chain the gRPC port presents (TLS); with --tls-key. Re-read "
                 "when it changes")
      ->envname("CRM_TLS_CERT");
  app.add_option("--tls-key", c.tls_key, "PEM private key of --tls-cert")->envname("CRM_TLS_KEY");
  app.add_option("--tls-client-ca", c.tls_client_ca,
                 "PEM CA bundle client certificates must chain to: mutual TLS, a client without "
                 "a valid certificate cannot connect")
      ->envname("CRM_TLS_CLIENT_CA");
  app.add_option("--tls-reload-interval", c.tls_reload_seconds,
                 "seconds between checks whether the TLS files changed")
      ->envname("CRM_TLS_RELOAD_INTERVAL")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_flag("--plaintext", c.plaintext,
               "serve gRPC without TLS on a non-loopback --listen address (development only; "
               "loopback addresses may always be plaintext)")
      ->envname("CRM_PLAINTEXT");
  app.add_option("--health-listen", c.health_listen,
                 "host:port of a second, plaintext listener that serves only grpc.health.v1, for "
                 "Kubernetes' gRPC probes (which cannot speak TLS); off when empty")
      ->envname("CRM_HEALTH_LISTEN");
  app.add_option("--auth", c.auth,
                 "authentication of callers: off (every call is the --tenant's, with every "
                 "scope; for local use) or jwt (a bearer JWT on every call)")
      ->envname("CRM_AUTH")
      ->capture_default_str();
  app.add_option("--jwt-issuer", c.jwt_issuer, "the \"iss\" every token must carry")
      ->envname("CRM_JWT_ISSUER");
  app.add_option("--jwt-audience", c.jwt_audience, "a value the token's \"aud\" must hold")
      ->envname("CRM_JWT_AUDIENCE");
  app.add_option("--jwt-hs256-secret-file", c.jwt_hs256_secret_file,
                 "file holding the HS256 shared secret (at least 32 bytes)")
      ->envname("CRM_JWT_HS256_SECRET_FILE");
  app.add_option("--jwt-rs256-public-key-file", c.jwt_rs256_public_key_file,
                 "PEM RSA public key RS256 tokens are verified with")
      ->envname("CRM_JWT_RS256_PUBLIC_KEY_FILE");
  app.add_option("--contact-address", c.contact_address,
                 "HOST:PORT of the contact service, which a separate crm-analytics asks for the "
                 "personal data of the customers it shows (with the caller's credential, over "
                 "TLS with this process's certificate when --tls-cert is set); empty: shown "
                 "without")
      ->envname("CRM_CONTACT_ADDRESS");
  for (auto [flag, field, env] :
       {std::tuple{"--interaction-address", &c.interaction_address, "CRM_INTERACTION_ADDRESS"},
        std::tuple{"--sales-address", &c.sales_address, "CRM_SALES_ADDRESS"},
        std::tuple{"--analytics-address", &c.analytics_address, "CRM_ANALYTICS_ADDRESS"}}) {
    app.add_option(flag, *field,
                   "HOST:PORT of that service, which a separate crm-contact asks for its part of "
                   "ExportContactData (with the caller's credential, over TLS as for "
                   "--contact-address); empty: listed as unavailable")
        ->envname(env);
  }
  app.add_option("--key-encryption-key-file", c.key_encryption_key_file,
                 "file of at least 32 random bytes from which the key that wraps persons' data "
                 "keys on crm.keys.v1 is derived; the same file on every replica of the contact "
                 "service (Kafka only: the embedded log keeps keys on this machine)")
      ->envname("CRM_KEY_ENCRYPTION_KEY_FILE");
  app.add_option("--jwt-tenant-claim", c.jwt_tenant_claim,
                 "the claim that names the caller's tenant")
      ->envname("CRM_JWT_TENANT_CLAIM")
      ->capture_default_str();
  app.add_option("--rate-limit", c.rate_limit,
                 "calls per second each caller (token subject, or client address with --auth "
                 "off) may make; beyond it calls are refused RESOURCE_EXHAUSTED; 0: no limit")
      ->envname("CRM_RATE_LIMIT")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--rate-burst", c.rate_burst,
                 "calls a caller may make at once above --rate-limit (default: twice it)")
      ->envname("CRM_RATE_BURST")
      ->check(CLI::Range(0.0, 1e7));
  app.add_option("--max-concurrent-streams", c.max_concurrent_streams,
                 "calls in flight on one client connection (HTTP/2 streams); more wait")
      ->envname("CRM_MAX_CONCURRENT_STREAMS")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--max-feed-streams", c.max_feed_streams,
                 "change-feed streams (Subscribe) served at once; more are refused "
                 "RESOURCE_EXHAUSTED")
      ->envname("CRM_MAX_FEED_STREAMS")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--webhook-dispatch", c.webhook_dispatch,
                 "whether this process delivers webhooks (analytics service): true, false, or "
                 "first-replica (only where the host name ends in -0, a StatefulSet's first "
                 "pod); one replica should, since each dispatching replica sends every delivery")
      ->envname("CRM_WEBHOOK_DISPATCH")
      ->capture_default_str();
  app.add_flag("--webhook-allow-http", c.webhook_allow_http,
               "accept webhook URLs of plain http (deliveries readable on the way; for local "
               "receivers and tests), not only https")
      ->envname("CRM_WEBHOOK_ALLOW_HTTP");
  app.add_option("--webhook-max-attempts", c.webhook_max_attempts,
                 "attempts of a webhook delivery before it goes to the dead-letter list")
      ->envname("CRM_WEBHOOK_MAX_ATTEMPTS")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--webhook-retry-base-ms", c.webhook_retry_base_ms,
                 "milliseconds before the first retry of a failed webhook delivery; doubled "
                 "for each further one up to an hour, with jitter")
      ->envname("CRM_WEBHOOK_RETRY_BASE_MS")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str();
  app.add_option("--webhook-timeout-ms", c.webhook_timeout_ms,
                 "milliseconds one webhook POST may take before it counts as failed")
      ->envname("CRM_WEBHOOK_TIMEOUT_MS")
      ->check(CLI::Range(100, 300000))
      ->capture_default_str();
  app.add_option("--automation-engine", c.automation_engine,
                 "whether this process runs the automation rules (analytics service): true, "
                 "false, or first-replica (as --webhook-dispatch); one replica should")
      ->envname("CRM_AUTOMATION_ENGINE")
      ->capture_default_str();
  app.add_option("--automation-token-file", c.automation_token_file,
                 "file of \"TENANT TOKEN\" lines: the bearer token (JWT, scopes "
                 "interactions.write, contacts.read, contacts.write) the automation engine's "
                 "actions call the other services "
                 "with for each tenant; without it, actions run for --tenant only, unauthenticated")
      ->envname("CRM_AUTOMATION_TOKEN_FILE");
  app.add_option("--automation-max-attempts", c.automation_max_attempts,
                 "attempts at a rule run's actions before it goes to the dead-letter list")
      ->envname("CRM_AUTOMATION_MAX_ATTEMPTS")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--automation-retry-base-ms", c.automation_retry_base_ms,
                 "milliseconds before the first retry of a rule run's failed actions; doubled "
                 "for each further one up to an hour, with jitter")
      ->envname("CRM_AUTOMATION_RETRY_BASE_MS")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str();
  app.add_option("--automation-scan-interval-ms", c.automation_scan_interval_ms,
                 "milliseconds between the automation engine's looks for due time triggers "
                 "(customers without a purchase for N days, anniversaries)")
      ->envname("CRM_AUTOMATION_SCAN_INTERVAL_MS")
      ->check(CLI::Range(100, 86400000))
      ->capture_default_str();
}

bool IsLoopback(const std::string& listen) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  return host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

absl::StatusOr<std::shared_ptr<auth::Authenticator>> MakeAuthenticator(const ServiceConfig& c) {
  if (c.auth == "off") return nullptr;
  auth::JwtOptions options;
  options.issuer = c.jwt_issuer;
  options.audience = c.jwt_audience;
  options.tenant_claim = c.jwt_tenant_claim;
  if (!c.jwt_hs256_secret_file.empty()) {
    ASSIGN_OR_RETURN(options.hs256_secret,
                     files::ReadSecretFile(c.jwt_hs256_secret_file,
                                           "--jwt-hs256-secret-file/CRM_JWT_HS256_SECRET_FILE"));
  }
  if (!c.jwt_rs256_public_key_file.empty()) {
    ASSIGN_OR_RETURN(
        options.rs256_public_key_pem,
        files::ReadSettingFile(c.jwt_rs256_public_key_file,
                               "--jwt-rs256-public-key-file/CRM_JWT_RS256_PUBLIC_KEY_FILE"));
  }
  absl::StatusOr<std::unique_ptr<auth::Authenticator>> made =
      auth::Authenticator::Create(std::move(options));
  if (!made.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--auth/CRM_AUTH jwt: ", made.status().message(),
                     " (--jwt-hs256-secret-file or --jwt-rs256-public-key-file)"));
  }
  return std::shared_ptr<auth::Authenticator>(*std::move(made));
}

namespace {
// true | false | first-replica (only on the pod whose host name ends in "-0").
bool OnThisReplica(const std::string& setting) {
  if (setting == "true") return true;
  if (setting != "first-replica") return false;
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) return false;
  return std::string_view(host).ends_with("-0");
}
}  // namespace

bool DispatchesWebhooks(const ServiceConfig& c) { return OnThisReplica(c.webhook_dispatch); }

bool RunsAutomation(const ServiceConfig& c) { return OnThisReplica(c.automation_engine); }

absl::Status Validate(const ServiceConfig& c) {
  for (auto [flag, value] :
       {std::pair{"--webhook-dispatch/CRM_WEBHOOK_DISPATCH", &c.webhook_dispatch},
        std::pair{"--automation-engine/CRM_AUTOMATION_ENGINE", &c.automation_engine}}) {
    if (*value != "true" && *value != "false" && *value != "first-replica") {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " \"", *value, "\" must be true, false or first-replica"));
    }
  }
  if (c.listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen/CRM_LISTEN \"", c.listen, "\" must be host:port"));
  }
  if (!c.http_listen.empty() && c.http_listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-listen/CRM_HTTP_LISTEN \"", c.http_listen, "\" must be host:port"));
  }
  if (!c.metrics_listen.empty() && c.metrics_listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--metrics-listen/CRM_METRICS_LISTEN \"",
                                                   c.metrics_listen, "\" must be host:port"));
  }
  if (c.data_dir.empty()) {
    return absl::InvalidArgumentError("--data-dir/CRM_DATA_DIR must not be empty");
  }
  if (c.log != "embedded" && c.log != "kafka") {
    return absl::InvalidArgumentError(
        absl::StrCat("--log/CRM_LOG is \"", c.log, "\"; it must be embedded or kafka"));
  }
  if (c.log == "kafka" && c.kafka_brokers.empty()) {
    return absl::InvalidArgumentError(
        "--kafka-brokers/CRM_KAFKA_BROKERS must be set when --log is kafka");
  }
  if (c.tenant.empty() || c.tenant.size() > 64) {
    return absl::InvalidArgumentError("--tenant/CRM_TENANT must be 1 to 64 characters");
  }
  for (char ch : c.tenant) {
    if (!absl::ascii_islower(ch) && !absl::ascii_isdigit(ch) && ch != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("--tenant/CRM_TENANT \"", c.tenant, "\" may hold only a-z, 0-9 and -"));
    }
  }
  if (c.log_partitions < 1 || c.log_partitions > 1024) {
    return absl::InvalidArgumentError("--log-partitions/CRM_LOG_PARTITIONS must be 1 to 1024");
  }
  if (c.rocksdb_memory_mib < 16 || c.rocksdb_memory_mib > 1048576) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rocksdb-memory-mib/CRM_ROCKSDB_MEMORY_MIB is ", c.rocksdb_memory_mib,
                     "; it must be 16 to 1048576"));
  }
  for (const std::string& p : c.kafka_properties) {
    const size_t eq = p.find('=');
    if (eq == 0 || eq == std::string::npos || eq + 1 == p.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--kafka-property/CRM_KAFKA_PROPERTIES \"", p, "\" must be KEY=VALUE"));
    }
  }
  if (c.shutdown_grace_seconds < 0 || c.shutdown_grace_seconds > 3600) {
    return absl::InvalidArgumentError("--shutdown-grace/CRM_SHUTDOWN_GRACE must be 0 to 3600");
  }
  if (c.rebuild && !c.restore_from.empty()) {
    return absl::InvalidArgumentError(
        "--rebuild/CRM_REBUILD and --restore-from/CRM_RESTORE_FROM exclude each other: a "
        "rebuild would empty what the restore brings back");
  }
  if (c.log_format != "text" && c.log_format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-format/CRM_LOG_FORMAT \"", c.log_format, "\" must be text or json"));
  }
  if (c.rate_burst > 0 && c.rate_limit <= 0) {
    return absl::InvalidArgumentError("--rate-burst/CRM_RATE_BURST needs --rate-limit");
  }
  if (c.rate_limit > 0 && c.rate_burst > 0 && c.rate_burst < 1) {
    return absl::InvalidArgumentError("--rate-burst/CRM_RATE_BURST must be at least 1");
  }
  if (c.auth != "off" && c.auth != "jwt") {
    return absl::InvalidArgumentError(
        absl::StrCat("--auth/CRM_AUTH \"", c.auth, "\" must be off or jwt"));
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert/CRM_TLS_CERT and --tls-key/CRM_TLS_KEY must be given together");
  }
  if (c.tls_cert.empty() && !c.tls_client_ca.empty()) {
    return absl::InvalidArgumentError(
        "--tls-client-ca/CRM_TLS_CLIENT_CA needs --tls-cert and --tls-key (mutual TLS is TLS)");
  }
  if (c.tls_cert.empty() && !c.plaintext && !IsLoopback(c.listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen/CRM_LISTEN \"", c.listen,
        "\" is reachable from other hosts: give --tls-cert and --tls-key, or --plaintext "
        "(CRM_PLAINTEXT=true) to serve without TLS (development only)"));
  }
  if (!c.health_listen.empty() && c.health_listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--health-listen/CRM_HEALTH_LISTEN \"",
                                                   c.health_listen, "\" must be host:port"));
  }
  if (spdlog::level::from_str(c.log_level) == spdlog::level::off && c.log_level != "off") {
    return absl::InvalidArgumentError(absl::StrCat("--log-level/CRM_LOG_LEVEL \"", c.log_level,
                                                   "\" must be trace, debug, info, warn or error"));
  }
  return absl::OkStatus();
}

std::string BackupDir(const ServiceConfig& c) {
  if (!c.backup_dir.empty()) return c.backup_dir;
  return (std::filesystem::path(c.data_dir) / "backups").string();
}

absl::StatusOr<std::unique_ptr<eventlog::EventLog>> OpenEventLog(const ServiceConfig& c,
                                                                 const std::string& client_id) {
  if (c.log == "kafka") {
    eventlog::KafkaEventLogOptions options;
    options.brokers = c.kafka_brokers;
    options.client_id = client_id;
    for (const std::string& p : c.kafka_properties) {
      const size_t eq = p.find('=');
      options.properties[p.substr(0, eq)] = p.substr(eq + 1);
    }
    ASSIGN_OR_RETURN(auto log, eventlog::KafkaEventLog::Open(options));
    return std::unique_ptr<eventlog::EventLog>(std::move(log));
  }
  std::error_code ec;
  std::filesystem::create_directories(c.data_dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("--data-dir/CRM_DATA_DIR \"", c.data_dir,
                                                   "\" cannot be created: ", ec.message()));
  }
  eventlog::EmbeddedEventLogOptions options;
  options.path = (std::filesystem::path(c.data_dir) / "log").string();
  options.partitions = c.log_partitions;
  ASSIGN_OR_RETURN(auto log, eventlog::EmbeddedEventLog::Open(options));
  return std::unique_ptr<eventlog::EventLog>(std::move(log));
}

namespace {

// Appends `text` to `dest` as the inside of a JSON string.
void AppendJsonEscaped(std::string_view text, spdlog::memory_buf_t& dest) {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      dest.push_back('\\');
      dest.push_back(ch);
    } else if (c < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      for (const char e : {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]}) dest.push_back(e);
    } else {
      dest.push_back(ch);
    }
  }
}

void Append(std::string_view text, spdlog::memory_buf_t& dest) {
  dest.append(text.data(), text.data() + text.size());
}

// spdlog's %* in the JSON pattern: the message as the inside of a JSON string.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    AppendJsonEscaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

// spdlog's %& : the thread's request and correlation ids (logging::ScopedLogContext), as JSON
// fields (`json`) or in brackets; nothing when there are none.
class LogContextFields final : public spdlog::custom_flag_formatter {
 public:
  explicit LogContextFields(bool json) : json_(json) {}
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const logging::LogContext& context = logging::CurrentLogContext();
    bool first = true;
    for (const auto& [name, value] :
         {std::pair<std::string_view, const std::string&>{"request_id", context.request_id},
          {"correlation_id", context.correlation_id}}) {
      if (value.empty()) continue;
      if (json_) {
        Append(",\"", dest);
        Append(name, dest);
        Append("\":\"", dest);
        AppendJsonEscaped(value, dest);
        Append("\"", dest);
      } else {
        Append(first ? " [" : " ", dest);
        Append(name, dest);
        Append("=", dest);
        Append(value, dest);
      }
      first = false;
    }
    if (!json_ && !first) Append("]", dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<LogContextFields>(json_);
  }

 private:
  const bool json_;
};

}  // namespace

void ConfigureLogging(const ServiceConfig& c, const std::string& service) {
  std::shared_ptr<spdlog::logger> logger;
  if (c.log_format == "json") {
    logger = spdlog::stderr_logger_mt("crm");
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    // The service and tenant are fixed per process; tenants are [a-z0-9-] and service names
    // ours, so neither needs escaping.
    formatter->add_flag<JsonEscapedMessage>('*');
    formatter->add_flag<LogContextFields>('&', /*json=*/true)
        .set_pattern(absl::StrCat(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","service":")",
                                  service, R"(","tenant":")", c.tenant,
                                  R"(","thread":%t,"message":"%*"%&})"));
    logger->set_formatter(std::move(formatter));
  } else {
    logger = spdlog::stderr_color_mt("crm");
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<LogContextFields>('&', /*json=*/false)
        .set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v%&");
    logger->set_formatter(std::move(formatter));
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(c.log_level));
}

void ParseOrExit(CLI::App& app, ServiceConfig& config, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  if (absl::Status s = Validate(config); !s.ok()) {
    std::fprintf(stderr, "configuration error: %s\n", std::string(s.message()).c_str());
    std::exit(2);
  }
  ConfigureLogging(config, app.get_name());
  store::SetMemoryBudget(static_cast<size_t>(config.rocksdb_memory_mib) << 20);
}

}  // namespace crm::config
