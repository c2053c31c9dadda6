// API keys of integration partners, kept from the access log (topic crm.access.v1) that every
// process reads: created and revoked through crm.admin.v1.AdminService, checked by the
// Authenticator (auth::ApiKeyResolver). The store is in memory, rebuilt from the start of the
// topic whenever a process starts (a few events per key).
//
// A key is "crmk_<id>_<secret>" (the secret 32 random bytes, base64url); only its SHA-256 is on
// the log.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/auth.h"
#include "common/eventlog/event_log.h"
#include "common/eventlog/topic_follower.h"
#include "crm/admin/v1/admin_service.pb.h"

namespace crm::access {

inline constexpr char kTopic[] = "crm.access.v1";

struct NewKey {
  crm::admin::v1::ApiKey api_key;
  std::string key;  // shown once
};

class ApiKeyStore final : public auth::ApiKeyResolver {
 public:
  // Reads the topic from its start until caught up, then follows it on a thread of its own.
  // NOT_FOUND if the topic does not exist (Kafka: create it with the others).
  static absl::StatusOr<std::unique_ptr<ApiKeyStore>> Start(eventlog::EventLog* log);
  ~ApiKeyStore() override;

  // auth::ApiKeyResolver: the principal of a key, UNAUTHENTICATED if it is unknown, revoked or
  // expired.
  absl::StatusOr<auth::Principal> Resolve(std::string_view key, absl::Time now) const override;

  // Validates (INVALID_ARGUMENT naming the field), appends the creation and waits until this
  // store has applied it, up to `deadline`.
  absl::StatusOr<NewKey> Create(const std::string& tenant, const std::string& actor,
                                const crm::admin::v1::CreateApiKeyRequest& request,
                                absl::Time deadline);
  absl::StatusOr<std::vector<crm::admin::v1::ApiKey>> List(const std::string& tenant) const;
  // NOT_FOUND unless `id` is a key of `tenant`; FAILED_PRECONDITION if already revoked.
  absl::StatusOr<crm::admin::v1::ApiKey> Revoke(const std::string& tenant, const std::string& actor,
                                                const std::string& id, absl::Time deadline);

 private:
  struct Entry {
    std::string tenant;
    std::string sha256;
    crm::admin::v1::ApiKey api_key;
  };
  ApiKeyStore() = default;
  // Runs on the follower's thread.
  void Apply(const eventlog::LogRecord& record);

  mutable std::mutex mu_;
  std::map<std::string, Entry> keys_;  // by id; guarded by mu_
  // Last: stopped first, while what it applies to is still there.
  std::unique_ptr<eventlog::TopicFollower> follower_;
};

}  // namespace crm::access
