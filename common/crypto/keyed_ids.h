// KeyedIds: ids for new persons whose data keys are made ahead of need, in bulk.
//
// Creating a contact seals its personal data with a key of its own, and that key must be durable
// before the write is acknowledged (or a crash would leave personal data no key opens). Made one
// at a time, that is a synced write (or, across replicas, a round trip through crm.keys.v1) on
// every creation. KeyedIds instead hands out ids (ids::NewId) whose keys were made and stored in
// one step for a batch of them (DataKeys::CreateMany), so most creations find their key ready.
//
//   KeyedIds ids(vault);
//   ASSIGN_OR_RETURN(std::string id, ids.Next("acme"));   // vault->Get("acme", id) has a key
//
// The ids of a batch are minted together when it is made, and handed out in ascending order; an
// id's time part says when it was reserved (up to one batch earlier than its use). Ids a process
// reserved but never used when it stops keep their keys: a few unused keys, never a reused id.
// Thread-safe.
#pragma once

#include <deque>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/key_vault.h"

namespace crm::crypto {

class KeyedIds {
 public:
  // Reserves `batch` ids at a time per tenant, keyed in `keys` (not owned; outlives this).
  explicit KeyedIds(DataKeys* keys, int batch = 64) : keys_(keys), batch_(batch) {}

  // A new id for a person of `tenant` whose data key is already stored durably. The vault's
  // error (INTERNAL, or the log's on Kafka) if a batch could not be keyed.
  absl::StatusOr<std::string> Next(std::string_view tenant);

 private:
  DataKeys* const keys_;
  const int batch_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::deque<std::string>> ready_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::crypto
