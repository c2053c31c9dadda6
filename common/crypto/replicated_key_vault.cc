#include "common/crypto/replicated_key_vault.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/crypto/sealing.h"
#include "common/ids/ids.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/common/v1/privacy.pb.h"

namespace crm::crypto {
namespace {

using crm::common::v1::DataKeyDestroyed;
using crm::common::v1::DataKeyIssued;
using crm::common::v1::EventEnvelope;

// How long a replica waits to read the topic to its end before saying a key is unknown.
constexpr absl::Duration kCatchUpWait = absl::Seconds(10);
// How long an append to the topic may take.
constexpr absl::Duration kAppendWait = absl::Seconds(10);

constexpr char kKekId[] = "kek";

std::string WrapAad(std::string_view tenant, std::string_view id) {
  return absl::StrCat("data-key/", std::string(tenant), "/", std::string(id));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReplicatedKeyVault>> ReplicatedKeyVault::Start(
    eventlog::EventLog* log, const std::string& dir, std::string kek, absl::Duration catch_up) {
  if (!kek.empty() && kek.size() != kDataKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("the key-encryption key must have ", kDataKeySize, " bytes"));
  }
  absl::StatusOr<std::unique_ptr<KeyVault>> local = KeyVault::Open(dir);
  if (!local.ok()) return local.status();
  std::unique_ptr<ReplicatedKeyVault> vault(
      new ReplicatedKeyVault(*std::move(local), std::move(kek)));
  absl::StatusOr<std::unique_ptr<eventlog::TopicFollower>> follower =
      eventlog::TopicFollower::Start(
          log, kKeysTopic, [v = vault.get()](const eventlog::LogRecord& r) { v->Apply(r); },
          catch_up);
  if (!follower.ok()) return follower.status();
  vault->follower_ = *std::move(follower);
  if (const int64_t unopened = vault->unopened_keys_.load(); unopened > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(unopened, " data keys on ", kKeysTopic, " do not unwrap with ",
                     vault->kek_.empty() ? "no key-encryption key" : "this key-encryption key",
                     ": every replica must be given the key-encryption key the others use"));
  }
  return vault;
}

ReplicatedKeyVault::~ReplicatedKeyVault() { follower_.reset(); }

void ReplicatedKeyVault::Apply(const eventlog::LogRecord& record) {
  EventEnvelope e;
  if (!e.ParseFromString(record.value)) {
    spdlog::warn("{}: record {}@{} is not an event; skipped", kKeysTopic, record.partition,
                 record.offset);
    return;
  }
  absl::Status applied;
  if (e.event_type() == "crm.common.v1.DataKeyIssued") {
    DataKeyIssued issued;
    if (!e.payload().UnpackTo(&issued)) return;
    std::string key = issued.key();
    if (issued.has_wrapped_key()) {
      absl::StatusOr<std::string> unwrapped =
          kek_.empty() ? absl::FailedPreconditionError(
                             "the key is wrapped and no key-encryption key is configured")
                       : Open(kek_, issued.wrapped_key(), WrapAad(e.tenant(), e.aggregate_id()));
      if (!unwrapped.ok()) {
        unopened_keys_.fetch_add(1);
        spdlog::error("{}: data key of {} at {}@{} cannot be unwrapped: {}", kKeysTopic,
                      e.aggregate_id(), record.partition, record.offset,
                      unwrapped.status().ToString());
        return;
      }
      key = *std::move(unwrapped);
    }
    // Not synced: the topic holds the key durably, and Start reads it again from the topic's
    // beginning before this vault answers (a sync per key was an fsync per new contact).
    absl::StatusOr<std::string> adopted =
        local_->Adopt(e.tenant(), e.aggregate_id(), key, KeyVault::Durability::kCopy);
    // FAILED_PRECONDITION: destroyed before this (late) key arrived; nothing to keep.
    if (!adopted.ok() && !absl::IsFailedPrecondition(adopted.status())) {
      applied = adopted.status();
    }
  } else if (e.event_type() == "crm.common.v1.DataKeyDestroyed") {
    applied = local_->Destroy(e.tenant(), e.aggregate_id());
  }
  if (!applied.ok()) {
    // The local vault is a disk we cannot write: nothing sensible to do but stop.
    spdlog::critical("{}: {}", kKeysTopic, applied.ToString());
    std::abort();
  }
}

EventEnvelope ReplicatedKeyVault::Event(std::string_view tenant, std::string_view id,
                                        const google::protobuf::Message& payload) {
  EventEnvelope e;
  const absl::Time now = absl::Now();
  e.set_event_id(ids::NewId(now));
  e.set_tenant(std::string(tenant));
  e.set_aggregate_type("data_key");
  e.set_aggregate_id(std::string(id));
  e.set_event_type(std::string(payload.GetDescriptor()->full_name()));
  const int64_t nanos = absl::ToUnixNanos(now);
  e.mutable_occurred_at()->set_seconds(nanos / 1000000000);
  e.mutable_occurred_at()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  e.mutable_payload()->PackFrom(payload);
  return e;
}

absl::Status ReplicatedKeyVault::Append(const std::vector<EventEnvelope>& events) {
  return follower_->AppendAndApply(events, absl::Now() + kAppendWait);
}

absl::StatusOr<EventEnvelope> ReplicatedKeyVault::Issued(std::string_view tenant,
                                                         std::string_view id,
                                                         const std::string& key) const {
  DataKeyIssued issued;
  if (kek_.empty()) {
    issued.set_key(key);
  } else {
    absl::StatusOr<SealedData> wrapped = Seal(kek_, kKekId, WrapAad(tenant, id), key);
    if (!wrapped.ok()) return wrapped.status();
    *issued.mutable_wrapped_key() = *std::move(wrapped);
  }
  return Event(tenant, id, issued);
}

absl::Status ReplicatedKeyVault::CreateMany(std::string_view tenant,
                                            const std::vector<std::string>& ids) {
  std::vector<EventEnvelope> events;
  events.reserve(ids.size());
  for (const std::string& id : ids) {
    absl::StatusOr<EventEnvelope> issued = Issued(tenant, id, NewDataKey());
    if (!issued.ok()) return issued.status();
    events.push_back(*std::move(issued));
  }
  return Append(events);
}

absl::StatusOr<std::string> ReplicatedKeyVault::GetOrCreate(std::string_view tenant,
                                                            std::string_view id) {
  absl::StatusOr<std::optional<std::string>> known = Get(tenant, id);
  if (!known.ok()) return known.status();
  if (*known) return **known;
  absl::StatusOr<bool> destroyed = local_->Destroyed(tenant, id);
  if (!destroyed.ok()) return destroyed.status();
  if (*destroyed) {
    return absl::FailedPreconditionError(
        absl::StrCat("contact ", std::string(id), " was erased; its data key is destroyed"));
  }
  const std::string key = NewDataKey();
  absl::StatusOr<EventEnvelope> issued = Issued(tenant, id, key);
  if (!issued.ok()) return issued.status();
  if (absl::Status s = Append({*issued}); !s.ok()) return s;
  // Applied here by now: the first key on the topic, ours or a racing replica's.
  absl::StatusOr<std::optional<std::string>> kept = local_->Get(tenant, id);
  if (!kept.ok()) return kept.status();
  if (!*kept) {
    return absl::FailedPreconditionError(
        absl::StrCat("contact ", std::string(id), " was erased; its data key is destroyed"));
  }
  if (**kept != key) {
    // We lost a race. Compaction keeps a key's last record: put the winner last again, so the
    // topic keeps the key every replica uses.
    absl::StatusOr<EventEnvelope> winner = Issued(tenant, id, **kept);
    if (!winner.ok()) return winner.status();
    if (absl::Status s = Append({*winner}); !s.ok()) return s;
  }
  return **kept;
}

absl::StatusOr<std::optional<std::string>> ReplicatedKeyVault::Get(std::string_view tenant,
                                                                   std::string_view id) {
  absl::StatusOr<std::optional<std::string>> key = local_->Get(tenant, id);
  if (!key.ok() || *key) return key;
  absl::StatusOr<bool> destroyed = local_->Destroyed(tenant, id);
  if (!destroyed.ok()) return destroyed.status();
  if (*destroyed) return std::nullopt;
  // Made by another replica, maybe not read here yet.
  if (absl::Status s = follower_->CatchUp(absl::Now() + kCatchUpWait); !s.ok()) return s;
  return local_->Get(tenant, id);
}

absl::StatusOr<bool> ReplicatedKeyVault::Destroyed(std::string_view tenant, std::string_view id) {
  return local_->Destroyed(tenant, id);
}

absl::Status ReplicatedKeyVault::Destroy(std::string_view tenant, std::string_view id) {
  absl::StatusOr<bool> destroyed = local_->Destroyed(tenant, id);
  if (!destroyed.ok()) return destroyed.status();
  if (*destroyed) return absl::OkStatus();
  return Append({Event(tenant, id, DataKeyDestroyed())});
}

absl::Status ReplicatedKeyVault::Forget(std::string_view tenant, std::string_view id) {
  return local_->Destroy(tenant, id);
}

}  // namespace crm::crypto
