// ReplicatedKeyVault: the data keys of persons shared by every replica of the contact service.
//
// Each replica keeps its own KeyVault and follows the topic crm.keys.v1 into it. A key is made by
// the replica that first needs it and put on the topic — sealed with the key-encryption key (KEK)
// from configuration, so the topic alone opens nothing — before any event sealed with it is
// written; the first key on the topic for a person wins, so racing replicas agree. Destroy puts a
// DataKeyDestroyed on the topic (every replica then destroys its copy); the topic is compacted, so
// the record that held the key is removed by the broker in time (topic settings in deploy/).
//
//   ASSIGN_OR_RETURN(auto keys, ReplicatedKeyVault::Start(log, dir, kek, absl::Seconds(60)));
//
// Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/crypto/key_vault.h"
#include "common/eventlog/event_log.h"
#include "common/eventlog/topic_follower.h"
#include "crm/common/v1/envelope.pb.h"

namespace crm::crypto {

inline constexpr char kKeysTopic[] = "crm.keys.v1";

class ReplicatedKeyVault final : public DataKeys {
 public:
  // Opens the local vault in `dir` and reads crm.keys.v1 into it, returning once caught up (up to
  // `catch_up`). `kek` (kDataKeySize bytes, or empty: keys travel unwrapped — development only)
  // wraps the keys on the topic. NOT_FOUND if the topic does not exist; FAILED_PRECONDITION if a
  // key on the topic does not unwrap with `kek` (replicas must share one key-encryption key: a
  // replica that cannot read the keys would show every person as erased).
  static absl::StatusOr<std::unique_ptr<ReplicatedKeyVault>> Start(eventlog::EventLog* log,
                                                                   const std::string& dir,
                                                                   std::string kek,
                                                                   absl::Duration catch_up);
  ~ReplicatedKeyVault() override;

  // A new key is on the topic (and applied here) before it is returned.
  absl::StatusOr<std::string> GetOrCreate(std::string_view tenant, std::string_view id) override;
  // The keys are on the topic (and applied here) before it returns.
  absl::Status CreateMany(std::string_view tenant, const std::vector<std::string>& ids) override;
  // A key not known here yet is looked for again once this replica has read the topic to its end.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view tenant,
                                                 std::string_view id) override;
  absl::StatusOr<bool> Destroyed(std::string_view tenant, std::string_view id) override;
  // Puts DataKeyDestroyed on the topic and waits until it was applied here.
  absl::Status Destroy(std::string_view tenant, std::string_view id) override;
  absl::Status Forget(std::string_view tenant, std::string_view id) override;
  absl::Status Checkpoint(const std::string& dir) override { return local_->Checkpoint(dir); }

 private:
  ReplicatedKeyVault(std::unique_ptr<KeyVault> local, std::string kek)
      : local_(std::move(local)), kek_(std::move(kek)) {}
  // Runs on the follower's thread.
  void Apply(const eventlog::LogRecord& record);
  // The event that says `payload` about (`tenant`, `id`).
  static crm::common::v1::EventEnvelope Event(std::string_view tenant, std::string_view id,
                                              const google::protobuf::Message& payload);
  // Appends `events` and waits until they were applied here.
  absl::Status Append(const std::vector<crm::common::v1::EventEnvelope>& events);
  // The DataKeyIssued event for `key`, wrapped with the KEK if there is one.
  absl::StatusOr<crm::common::v1::EventEnvelope> Issued(std::string_view tenant,
                                                        std::string_view id,
                                                        const std::string& key) const;

  const std::unique_ptr<KeyVault> local_;
  const std::string kek_;
  // Keys on the topic that `kek_` did not unwrap (they stay unknown here).
  std::atomic<int64_t> unopened_keys_{0};
  // Last: stopped first, while the vault it writes to is still open.
  std::unique_ptr<eventlog::TopicFollower> follower_;
};

}  // namespace crm::crypto
