// Configuration every service binary shares. Each setting is a flag and an environment variable
// (the flag wins):
//
//   --listen / CRM_LISTEN                 host:port to serve gRPC on
//   --data-dir / CRM_DATA_DIR             where the RocksDB data lives
//   --log / CRM_LOG                       event log backend: embedded | kafka
//   --kafka-brokers / CRM_KAFKA_BROKERS   Kafka bootstrap servers (with --log kafka)
//   --tenant / CRM_TENANT                 the default tenant
//   --log-partitions / CRM_LOG_PARTITIONS partitions per topic of the embedded log
//   --rebuild / CRM_REBUILD               wipe the projections and replay the log at start
//   --shutdown-grace / CRM_SHUTDOWN_GRACE seconds in-flight calls get at shutdown
//   --log-level / CRM_LOG_LEVEL           trace | debug | info | warn | error
//   --log-format / CRM_LOG_FORMAT         text (for people) | json (one object per line, for
//                                         log collectors)
//   --sla-first-response / CRM_SLA_FIRST_RESPONSE  case first-response targets, "urgent=1h,..."
//   --sla-resolution / CRM_SLA_RESOLUTION          case resolution targets, "urgent=8h,..."
//   --model-refit-interval / CRM_MODEL_REFIT_INTERVAL  seconds between checks whether the
//                                                  analytics purchase models need a refit
//   --rocksdb-memory-mib / CRM_ROCKSDB_MEMORY_MIB  RocksDB memory of the whole process (block
//                                                  cache and memtables of every store)
//   --ready-max-lag / CRM_READY_MAX_LAG   records a projection may be behind the log and still
//                                         report SERVING (readiness)
//   --kafka-property / CRM_KAFKA_PROPERTIES  librdkafka properties, KEY=VALUE (repeatable; the
//                                         variable takes them comma-separated)
//   --metrics-listen / CRM_METRICS_LISTEN host:port of the Prometheus /metrics endpoint (off
//                                         when empty, the default)
//   --max-connection-age / CRM_MAX_CONNECTION_AGE  seconds after which a client connection is
//                                         closed gracefully, so load spreads (0: never)
//   --backup-dir / CRM_BACKUP_DIR         where checkpoints are written (<data-dir>/backups)
//   --restore-from / CRM_RESTORE_FROM     a checkpoint to restore at start, once
//   --tls-cert, --tls-key / CRM_TLS_CERT, CRM_TLS_KEY  the server's certificate and key (PEM)
//   --tls-client-ca / CRM_TLS_CLIENT_CA   CA bundle for client certificates: mutual TLS
//   --tls-reload-interval / CRM_TLS_RELOAD_INTERVAL  seconds between checks of the TLS files
//   --plaintext / CRM_PLAINTEXT           serve without TLS on a non-loopback address
//   --health-listen / CRM_HEALTH_LISTEN   host:port of a plaintext listener serving only health
//   --auth / CRM_AUTH                     off | jwt
//   --jwt-issuer, --jwt-audience, --jwt-hs256-secret-file, --jwt-rs256-public-key-file,
//   --jwt-tenant-claim (CRM_JWT_...)      what a bearer token must be
//   --rate-limit, --rate-burst / CRM_RATE_LIMIT, CRM_RATE_BURST  calls per second per caller
//   --max-concurrent-streams / CRM_MAX_CONCURRENT_STREAMS  calls in flight per connection
//   --webhook-dispatch, --webhook-allow-http, --webhook-max-attempts, --webhook-retry-base-ms,
//   --webhook-timeout-ms (CRM_WEBHOOK_...)  how the analytics service delivers webhooks
//   --automation-engine, --automation-token-file, --automation-max-attempts,
//   --automation-retry-base-ms, --automation-scan-interval-ms (CRM_AUTOMATION_...)
//                                                   how the analytics service runs rules
//
// docs/configuration.md is the reference for operators; a test keeps it complete.
//
// Bad configuration fails fast at start-up with a sentence naming the setting.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "common/auth/auth.h"
#include "common/eventlog/event_log.h"

namespace crm::config {

struct ServiceConfig {
  std::string listen = "127.0.0.1:7070";
  std::string data_dir = ".crm-data";
  std::string log = "embedded";
  std::string kafka_brokers;
  std::string tenant = "default";
  int log_partitions = 8;
  bool rebuild = false;
  int shutdown_grace_seconds = 10;
  std::string log_level = "info";
  std::string log_format = "text";
  std::string sla_first_response;
  std::string sla_resolution;
  int model_refit_seconds = 300;
  int rocksdb_memory_mib = 256;
  int64_t ready_max_lag = 1000;
  std::vector<std::string> kafka_properties;
  std::string metrics_listen;
  // JSON over HTTP for every RPC (common/http/json_gateway.h); empty: off.
  std::string http_listen;
  int max_connection_age_seconds = 0;
  std::string backup_dir;  // empty: <data-dir>/backups
  std::string restore_from;
  // Transport security.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  int tls_reload_seconds = 60;
  bool plaintext = false;
  std::string health_listen;
  // Authentication.
  std::string auth = "off";
  std::string jwt_issuer;
  std::string jwt_audience;
  std::string jwt_hs256_secret_file;
  std::string jwt_rs256_public_key_file;
  std::string jwt_tenant_claim = "tenant";
  // Privacy: the file the key-encryption key of persons' data keys is derived from.
  std::string key_encryption_key_file;
  // Where a separate crm-analytics asks for the personal data it shows (the contact service).
  std::string contact_address;
  // Where a separate crm-contact gathers the other services' parts of ExportContactData.
  std::string interaction_address;
  std::string sales_address;
  std::string analytics_address;
  // Abuse limits.
  double rate_limit = 0;
  double rate_burst = 0;
  int max_concurrent_streams = 100;
  // Change-feed streams (each service's Subscribe) this process serves at once; each has a
  // thread.
  int max_feed_streams = 100;
  // Webhooks (analytics service): whether this replica delivers, whether http:// URLs are
  // accepted, attempts before a dead letter, the first retry's wait, one POST's time limit.
  std::string webhook_dispatch = "true";  // true | false | first-replica
  bool webhook_allow_http = false;
  int webhook_max_attempts = 10;
  int webhook_retry_base_ms = 10000;
  int webhook_timeout_ms = 10000;
  // Automation (analytics service): whether this replica runs the rules, the file of tenants'
  // tokens its actions call with, attempts before a dead letter, the first retry's wait.
  std::string automation_engine = "true";  // true | false | first-replica
  std::string automation_token_file;
  int automation_max_attempts = 8;
  int automation_retry_base_ms = 10000;
  int automation_scan_interval_ms = 3600000;
};

// The authenticator --auth asks for, its keys read from their files; null with --auth off.
// INVALID_ARGUMENT names the setting that is wrong.
absl::StatusOr<std::shared_ptr<auth::Authenticator>> MakeAuthenticator(const ServiceConfig& config);

// True if `listen`'s host is a loopback address (127.x.x.x, [::1], localhost).
bool IsLoopback(const std::string& listen);

// Where checkpoints go: --backup-dir, or <data-dir>/backups.
std::string BackupDir(const ServiceConfig& config);

// Registers the flags above on `app`, writing into `config` (whose values are the defaults).
void AddServiceFlags(CLI::App& app, ServiceConfig& config);

// Checks the settings together. INVALID_ARGUMENT names the setting and what is wrong.
absl::Status Validate(const ServiceConfig& config);

// Whether this process delivers webhooks: --webhook-dispatch true, or first-replica on the pod
// whose host name ends in "-0" (a StatefulSet's first).
bool DispatchesWebhooks(const ServiceConfig& config);
// Whether this process runs the automation engine: --automation-engine, as above.
bool RunsAutomation(const ServiceConfig& config);

// Opens the configured event log: the embedded log under <data-dir>/log, or Kafka.
absl::StatusOr<std::unique_ptr<eventlog::EventLog>> OpenEventLog(const ServiceConfig& config,
                                                                 const std::string& client_id);

// Applies --log-level and --log-format to the process logger (spdlog, on stderr); `service`
// names the program in JSON records.
void ConfigureLogging(const ServiceConfig& config, const std::string& service);

// Parses argv into `config` and validates it; on error prints the reason and exits with 2.
// Returns normally only with a valid configuration (or exits 0 for --help), after applying the
// process-wide settings (logging, the RocksDB memory budget).
void ParseOrExit(CLI::App& app, ServiceConfig& config, int argc, char** argv);

}  // namespace crm::config
