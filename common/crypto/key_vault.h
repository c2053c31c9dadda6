// KeyVault: the data keys of persons, one per (tenant, contact), in their own RocksDB beside the
// contact service's projection — never on the log, which is never rewritten, and never in a
// projection, which a rebuild wipes. Destroying a key is the erasure of that person: every sealed
// copy of their personal data (crypto/sealing.h) becomes unreadable.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<KeyVault> vault, KeyVault::Open(dir));
//   ASSIGN_OR_RETURN(std::string key, vault->GetOrCreate("acme", contact_id));
//   RETURN_IF_ERROR(vault->Destroy("acme", contact_id));   // irreversible
//
// A destroyed key leaves a tombstone, so it is never made again for the same person, and its
// bytes are compacted out of the vault's files (and its write-ahead log) before Destroy returns.
// Every write is synced — an acknowledged key survives a crash — but for copies of keys kept
// elsewhere (Adopt with kCopy: a ReplicatedKeyVault's, read again from crm.keys.v1 at every start).
//
// Thread-safe. Keys read or written are kept in memory, up to a budget (Open's `cache_bytes`):
// applying a log reads every person's key once, and a cache of every key ever read grew with the
// number of persons.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/store/read_cache.h"

namespace rocksdb {
class DB;
}

namespace crm::crypto {

// Where the data keys of persons are kept, one per (tenant, contact id). Implementations: the
// KeyVault below (one process) and ReplicatedKeyVault (every replica of the contact service,
// through the topic crm.keys.v1). Thread-safe.
class DataKeys {
 public:
  virtual ~DataKeys() = default;
  // The key of (`tenant`, `id`), made and stored durably first if there is none.
  // FAILED_PRECONDITION if it was destroyed (the person was erased).
  virtual absl::StatusOr<std::string> GetOrCreate(std::string_view tenant, std::string_view id) = 0;
  // Makes a key for each of `ids` (new ids: none has a key or a tombstone) and stores them
  // durably in one step, sharing one sync among them: how KeyedIds makes keys ahead of need.
  virtual absl::Status CreateMany(std::string_view tenant, const std::vector<std::string>& ids) = 0;
  // The key of (`tenant`, `id`); nullopt if there is none or it was destroyed.
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view tenant,
                                                         std::string_view id) = 0;
  // True if the key of (`tenant`, `id`) was destroyed.
  virtual absl::StatusOr<bool> Destroyed(std::string_view tenant, std::string_view id) = 0;
  // Destroys the key of (`tenant`, `id`) wherever it is kept, for good. Idempotent.
  virtual absl::Status Destroy(std::string_view tenant, std::string_view id) = 0;
  // Destroys this process's copy only (what applying an erasure does on every replica; Destroy
  // already took care of the others). Idempotent.
  virtual absl::Status Forget(std::string_view tenant, std::string_view id) = 0;
  // Writes a consistent copy of this process's keys to `dir` (which must not exist), for backups.
  virtual absl::Status Checkpoint(const std::string& dir) = 0;
};

class KeyVault final : public DataKeys {
 public:
  // About 100,000 persons' keys.
  static constexpr size_t kCacheBytes = 16 << 20;
  // Opens (creating) the vault in `dir`, keeping up to about `cache_bytes` of keys in memory.
  // INTERNAL if RocksDB cannot open it.
  static absl::StatusOr<std::unique_ptr<KeyVault>> Open(const std::string& dir,
                                                        size_t cache_bytes = kCacheBytes);
  ~KeyVault() override;

  absl::StatusOr<std::string> GetOrCreate(std::string_view tenant, std::string_view id) override;
  absl::Status CreateMany(std::string_view tenant, const std::vector<std::string>& ids) override;
  absl::StatusOr<std::optional<std::string>> Get(std::string_view tenant,
                                                 std::string_view id) override;
  absl::StatusOr<bool> Destroyed(std::string_view tenant, std::string_view id) override;
  // Leaves a tombstone and compacts the key's bytes out of the vault's files.
  absl::Status Destroy(std::string_view tenant, std::string_view id) override;
  absl::Status Forget(std::string_view tenant, std::string_view id) override {
    return Destroy(tenant, id);
  }
  absl::Status Checkpoint(const std::string& dir) override;
  // About the bytes of the keys kept in memory.
  size_t cached_bytes() { return cache_.cost(); }

  // How a write reaches the disk: kSynced before the call returns; kCopy whenever RocksDB flushes
  // (for a copy of what is kept durably elsewhere and read again after a crash).
  enum class Durability { kSynced, kCopy };
  // Stores `key` for (`tenant`, `id`) unless a key or a tombstone is there already; returns
  // whatever is there then (the key, or FAILED_PRECONDITION if destroyed). For keys made
  // elsewhere (ReplicatedKeyVault): the first key a person got is theirs.
  absl::StatusOr<std::string> Adopt(std::string_view tenant, std::string_view id,
                                    const std::string& key,
                                    Durability durability = Durability::kSynced);

 private:
  KeyVault(std::unique_ptr<rocksdb::DB> db, size_t cache_bytes);
  // The stored value: the key, "" for a tombstone, nullopt for none. Fills the cache.
  absl::StatusOr<std::optional<std::string>> Read(const std::string& k);

  std::unique_ptr<rocksdb::DB> db_;
  // Serialise the read-then-write of Adopt and Destroy per key (striped by the key's hash): writes
  // of different keys proceed together, so RocksDB commits their syncs as a group.
  absl::Mutex& WriteMutex(const std::string& k);
  std::array<absl::Mutex, 64> write_mu_;
  // The stored values ("" a tombstone) of keys read or written. A key destroyed is forgotten
  // (read_cache.h): a read of it begun before cannot keep the key afterwards.
  store::ReadCache<std::string> cache_;
};

}  // namespace crm::crypto
