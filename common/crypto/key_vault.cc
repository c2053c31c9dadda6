#include "common/crypto/key_vault.h"

#include <functional>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/sealing.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace crm::crypto {
namespace {

std::string VaultKey(std::string_view tenant, std::string_view id) {
  return absl::StrCat(std::string(tenant), std::string(1, '\0'), std::string(id));
}

absl::Status Internal(const rocksdb::Status& s, std::string_view what) {
  return absl::InternalError(absl::StrCat("key vault: ", std::string(what), ": ", s.ToString()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyVault>> KeyVault::Open(const std::string& dir,
                                                         size_t cache_bytes) {
  rocksdb::Options options;
  options.create_if_missing = true;
  // Deleted write-ahead logs are removed, not archived: a destroyed key must leave no copy.
  options.WAL_ttl_seconds = 0;
  options.WAL_size_limit_MB = 0;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &db);
  if (!s.ok()) return Internal(s, absl::StrCat("cannot open ", dir));
  return std::unique_ptr<KeyVault>(new KeyVault(std::unique_ptr<rocksdb::DB>(db), cache_bytes));
}

KeyVault::KeyVault(std::unique_ptr<rocksdb::DB> db, size_t cache_bytes)
    : db_(std::move(db)), cache_(cache_bytes, [](std::string_view k, const std::string& value) {
        return k.size() + value.size() + 64;  // and the map's slot and the strings' headers
      }) {}

KeyVault::~KeyVault() = default;

absl::Mutex& KeyVault::WriteMutex(const std::string& k) {
  return write_mu_[absl::HashOf(k) % write_mu_.size()];
}

absl::StatusOr<std::optional<std::string>> KeyVault::Read(const std::string& k) {
  uint64_t generation = 0;
  if (std::optional<std::string> kept = cache_.Find(k, &generation)) return kept;
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), k, &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return Internal(s, "read");
  cache_.Keep(k, value, generation);
  return value;
}

absl::Status KeyVault::Checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  if (rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw); !s.ok()) {
    return Internal(s, "checkpoint");
  }
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  if (rocksdb::Status s = checkpoint->CreateCheckpoint(dir); !s.ok()) {
    return Internal(s, "checkpoint");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> KeyVault::GetOrCreate(std::string_view tenant, std::string_view id) {
  return Adopt(tenant, id, NewDataKey());
}

absl::StatusOr<std::string> KeyVault::Adopt(std::string_view tenant, std::string_view id,
                                            const std::string& key, Durability durability) {
  const std::string k = VaultKey(tenant, id);
  absl::MutexLock write(&WriteMutex(k));
  absl::StatusOr<std::optional<std::string>> stored = Read(k);
  if (!stored.ok()) return stored.status();
  if (*stored) {
    if ((*stored)->empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("contact ", std::string(id), " was erased; its data key is destroyed"));
    }
    return **stored;
  }
  rocksdb::WriteOptions options;
  options.sync = durability == Durability::kSynced;
  if (rocksdb::Status s = db_->Put(options, k, key); !s.ok()) return Internal(s, "write");
  cache_.Put(k, key);
  return key;
}

absl::Status KeyVault::CreateMany(std::string_view tenant, const std::vector<std::string>& ids) {
  rocksdb::WriteBatch batch;
  std::vector<std::pair<std::string, std::string>> made;
  made.reserve(ids.size());
  for (const std::string& id : ids) {
    made.emplace_back(VaultKey(tenant, id), NewDataKey());
    if (rocksdb::Status s = batch.Put(made.back().first, made.back().second); !s.ok()) {
      return Internal(s, "write");
    }
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  if (rocksdb::Status s = db_->Write(sync, &batch); !s.ok()) return Internal(s, "write");
  for (auto& [k, key] : made) cache_.Put(k, std::move(key));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> KeyVault::Get(std::string_view tenant,
                                                         std::string_view id) {
  absl::StatusOr<std::optional<std::string>> stored = Read(VaultKey(tenant, id));
  if (!stored.ok()) return stored.status();
  if (!*stored || (*stored)->empty()) return std::nullopt;
  return stored;
}

absl::StatusOr<bool> KeyVault::Destroyed(std::string_view tenant, std::string_view id) {
  absl::StatusOr<std::optional<std::string>> stored = Read(VaultKey(tenant, id));
  if (!stored.ok()) return stored.status();
  return *stored && (*stored)->empty();
}

absl::Status KeyVault::Destroy(std::string_view tenant, std::string_view id) {
  const std::string k = VaultKey(tenant, id);
  absl::MutexLock write(&WriteMutex(k));
  absl::StatusOr<std::optional<std::string>> stored = Read(k);
  if (!stored.ok()) return stored.status();
  if (*stored && (*stored)->empty()) return absl::OkStatus();  // Already destroyed.
  rocksdb::WriteOptions sync;
  sync.sync = true;
  if (rocksdb::Status s = db_->Put(sync, k, ""); !s.ok()) return Internal(s, "write");
  cache_.Forget([&k](const std::function<void(std::string_view)>& drop) { drop(k); });
  cache_.Put(k, "");
  // The old value still sits in the memtable, the write-ahead log and maybe an SST file: flush
  // (which retires the log) and compact the key's range to the bottom, so the bytes are gone.
  if (rocksdb::Status s = db_->Flush(rocksdb::FlushOptions()); !s.ok()) return Internal(s, "flush");
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  rocksdb::Slice begin(k);
  std::string end_key = k;
  end_key.push_back('\0');
  rocksdb::Slice end(end_key);
  if (rocksdb::Status s = db_->CompactRange(compact, &begin, &end); !s.ok()) {
    return Internal(s, "compaction");
  }
  return absl::OkStatus();
}

}  // namespace crm::crypto
