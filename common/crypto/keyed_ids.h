// KeyedIds: ids for new persons whose data keys are made ahead of need, in bulk.
//
// Creating a contact seals its personal data with a key of its own, and that key must be durable
// before the write is acknowledged (or a crash would leave personal data no key opens). Made one
// at a time, that is a synced write (or, across replicas, a round trip through crm.keys.v1) on
// every creation. KeyedIds instead hands out ids (ids::NewId) whose keys were made and stored in
// one step for a batch of them (DataKeys::CreateMany), so creations find their key ready. The
// next batch is keyed in the background as soon as the current one is opened (up to two batches
// are ready), so a creation waits for a batch only when creations come faster than a batch is
// keyed (or for the first one): before, every creation arriving while a batch was keyed waited
// for it — a round trip through crm.keys.v1 every `batch` creations, in every creation's tail
// latency (keying at half a batch left still showed there on the dev broker).
//
//   KeyedIds ids(vault);
//   ASSIGN_OR_RETURN(std::string id, ids.Next("acme"));   // vault->Get("acme", id) has a key
//
// The ids of a batch are minted together when it is made, and handed out in ascending order; an
// id's time part says when it was reserved (up to two batches earlier than its use). Ids a
// process reserved but never used when it stops keep their keys: a few unused keys, never a
// reused id. Thread-safe.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/key_vault.h"

namespace crm::crypto {

class KeyedIds {
 public:
  // Reserves `batch` ids at a time per tenant, keyed in `keys` (not owned; outlives this).
  explicit KeyedIds(DataKeys* keys, int batch = 64);
  // Waits for a batch being keyed.
  ~KeyedIds();
  KeyedIds(const KeyedIds&) = delete;
  KeyedIds& operator=(const KeyedIds&) = delete;

  // A new id for a person of `tenant` whose data key is already stored durably. The vault's
  // error (INTERNAL, or the log's on Kafka) if the batch it waited for could not be keyed (the
  // next call tries again).
  absl::StatusOr<std::string> Next(std::string_view tenant);

 private:
  struct Tenant {
    std::deque<std::string> ready;  // keyed, in the order handed out
    bool keying = false;            // a batch is being keyed
    absl::Status failed;            // why the last batch could not be keyed
  };
  // Mints a batch for `tenant` and has the keying thread key it.
  void StartBatch(const std::string& tenant, Tenant& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The keying thread: keys each batch asked for, then adds its ids to the tenant's ready ones.
  void KeyBatches();
  bool HasWork() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  DataKeys* const keys_;
  const int batch_;
  absl::Mutex mu_;
  // A map whose entries stay put: Next waits (mu_ released) holding a reference to one.
  std::map<std::string, Tenant> tenants_ ABSL_GUARDED_BY(mu_);
  // Batches to key: tenant and ids.
  std::deque<std::pair<std::string, std::vector<std::string>>> to_key_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread keying_;
};

}  // namespace crm::crypto
