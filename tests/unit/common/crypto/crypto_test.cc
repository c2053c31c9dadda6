#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "common/crypto/key_vault.h"
#include "common/crypto/keyed_ids.h"
#include "common/crypto/replicated_key_vault.h"
#include "common/crypto/sealing.h"
#include "common/eventlog/embedded_event_log.h"
#include "common/ids/ids.h"
#include "tests/testing/testing.h"

namespace crm::crypto {
namespace {

TEST(SealingTest, OpensWhatItSealedAndHidesIt) {
  const std::string key = NewDataKey();
  ASSERT_EQ(key.size(), kDataKeySize);
  absl::StatusOr<SealedData> sealed = Seal(key, "c1", "acme/c1", "Zephyrine Quist");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->key_id(), "c1");
  EXPECT_EQ(sealed->ciphertext().find("Zephyrine"), std::string::npos);
  absl::StatusOr<std::string> opened = Open(key, *sealed, "acme/c1");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "Zephyrine Quist");
  // A fresh nonce every time: the same plaintext never seals the same way twice.
  absl::StatusOr<SealedData> again = Seal(key, "c1", "acme/c1", "Zephyrine Quist");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->nonce(), sealed->nonce());
  EXPECT_NE(again->ciphertext(), sealed->ciphertext());
}

TEST(SealingTest, RefusesTamperingTheWrongOwnerAndTheWrongKey) {
  const std::string key = NewDataKey();
  absl::StatusOr<SealedData> sealed = Seal(key, "c1", "acme/c1", "secret");
  ASSERT_TRUE(sealed.ok());
  SealedData flipped = *sealed;
  flipped.mutable_ciphertext()->at(0) ^= 1;
  EXPECT_EQ(Open(key, flipped, "acme/c1").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Open(key, *sealed, "acme/c2").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Open(NewDataKey(), *sealed, "acme/c1").status().code(), absl::StatusCode::kDataLoss);
  SealedData cut = *sealed;
  cut.set_ciphertext("short");
  EXPECT_EQ(Open(key, cut, "acme/c1").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Open("too short", *sealed, "acme/c1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Seal("too short", "c1", "acme/c1", "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// True if any file under `dir` contains `needle`.
bool AnyFileContains(const std::string& dir, const std::string& needle) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(KeyVaultTest, KeepsKeysAcrossRestartsAndDestroysThemForGood) {
  testing::TempDir dir;
  std::string key;
  {
    absl::StatusOr<std::unique_ptr<KeyVault>> vault = KeyVault::Open(dir.path());
    ASSERT_TRUE(vault.ok()) << vault.status();
    absl::StatusOr<std::optional<std::string>> none = (*vault)->Get("acme", "c1");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    absl::StatusOr<std::string> made = (*vault)->GetOrCreate("acme", "c1");
    ASSERT_TRUE(made.ok()) << made.status();
    key = *made;
    EXPECT_EQ(*(*vault)->GetOrCreate("acme", "c1"), key);
    // Per tenant: the same id in another tenant is another person.
    EXPECT_NE(*(*vault)->GetOrCreate("globex", "c1"), key);
  }
  absl::StatusOr<std::unique_ptr<KeyVault>> vault = KeyVault::Open(dir.path());
  ASSERT_TRUE(vault.ok()) << vault.status();
  absl::StatusOr<std::optional<std::string>> kept = (*vault)->Get("acme", "c1");
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE(kept->has_value());
  EXPECT_EQ(**kept, key);
  ASSERT_TRUE(AnyFileContains(dir.path(), key));  // the check below can see a key on disk

  ASSERT_TRUE((*vault)->Destroy("acme", "c1").ok());
  ASSERT_TRUE((*vault)->Destroy("acme", "c1").ok());  // idempotent
  EXPECT_FALSE((*vault)->Get("acme", "c1")->has_value());
  EXPECT_TRUE(*(*vault)->Destroyed("acme", "c1"));
  EXPECT_FALSE(*(*vault)->Destroyed("globex", "c1"));
  EXPECT_EQ((*vault)->GetOrCreate("acme", "c1").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(AnyFileContains(dir.path(), key)) << "the destroyed key is still on disk";
  vault->reset();
  vault = KeyVault::Open(dir.path());
  ASSERT_TRUE(vault.ok());
  EXPECT_FALSE((*vault)->Get("acme", "c1")->has_value());
  EXPECT_EQ((*vault)->GetOrCreate("acme", "c1").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*vault)->Get("globex", "c1")->has_value());
}

// The keys kept in memory stay within the vault's budget however many persons it holds (a log
// applied reads each person's key once); every key still reads back as stored, and a key destroyed
// after it was kept reads as destroyed.
TEST(KeyVaultTest, KeepsKeysInMemoryWithinItsBudget) {
  testing::TempDir dir;
  constexpr size_t kBudget = 64 << 10;  // about 500 keys
  absl::StatusOr<std::unique_ptr<KeyVault>> vault = KeyVault::Open(dir.path(), kBudget);
  ASSERT_TRUE(vault.ok()) << vault.status();
  std::vector<std::string> ids;
  for (int i = 0; i < 4000; ++i) ids.push_back(ids::NewId());
  for (size_t from = 0; from < ids.size(); from += 1000) {
    ASSERT_TRUE((*vault)
                    ->CreateMany("acme", std::vector<std::string>(ids.begin() + from,
                                                                  ids.begin() + from + 1000))
                    .ok());
    EXPECT_LE((*vault)->cached_bytes(), kBudget);
  }
  std::vector<std::string> keys;
  for (const std::string& id : ids) {
    absl::StatusOr<std::optional<std::string>> key = (*vault)->Get("acme", id);
    ASSERT_TRUE(key.ok() && key->has_value()) << id;
    keys.push_back(**key);
  }
  EXPECT_LE((*vault)->cached_bytes(), kBudget);
  EXPECT_GT((*vault)->cached_bytes(), kBudget / 4);
  // Read again, from memory or from the vault: the same keys.
  for (size_t i = 0; i < ids.size(); i += 7) EXPECT_EQ(**(*vault)->Get("acme", ids[i]), keys[i]);
  // The last key read is kept; destroyed, it reads as destroyed.
  ASSERT_TRUE((*vault)->Destroy("acme", ids.back()).ok());
  EXPECT_FALSE((*vault)->Get("acme", ids.back())->has_value());
  EXPECT_TRUE(*(*vault)->Destroyed("acme", ids.back()));
  EXPECT_EQ(**(*vault)->Get("acme", ids.front()), keys.front());
}

TEST(KeyedIdsTest, HandsOutNewIdsWhoseKeysAreAlreadyDurable) {
  testing::TempDir dir;
  std::vector<std::string> handed;
  {
    absl::StatusOr<std::unique_ptr<KeyVault>> vault = KeyVault::Open(dir.path());
    ASSERT_TRUE(vault.ok()) << vault.status();
    KeyedIds ids(vault->get(), /*batch=*/4);
    for (int i = 0; i < 10; ++i) {  // two refills and a half
      absl::StatusOr<std::string> id = ids.Next("acme");
      ASSERT_TRUE(id.ok()) << id.status();
      EXPECT_TRUE(ids::IsWellFormed(*id)) << *id;
      if (i % 4 != 0) {  // ascending within a batch, as minted
        EXPECT_LT(handed.back(), *id);
      }
      EXPECT_EQ(std::find(handed.begin(), handed.end(), *id), handed.end()) << *id;
      handed.push_back(*id);
    }
    absl::StatusOr<std::string> other = ids.Next("globex");
    ASSERT_TRUE(other.ok());
    EXPECT_TRUE((*vault)->Get("globex", *other)->has_value());
    EXPECT_FALSE((*vault)->Get("acme", *other)->has_value());
  }
  // Durable before they were handed out: a vault reopened after a stop has every key.
  absl::StatusOr<std::unique_ptr<KeyVault>> vault = KeyVault::Open(dir.path());
  ASSERT_TRUE(vault.ok());
  for (const std::string& id : handed) {
    EXPECT_TRUE((*vault)->Get("acme", id)->has_value()) << id;
  }
  // A new process reserves new ids: none handed out before comes again.
  KeyedIds again(vault->get(), 4);
  absl::StatusOr<std::string> next = again.Next("acme");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(std::find(handed.begin(), handed.end(), *next), handed.end());
}

// A real vault whose CreateMany calls after the first `free` wait until Open(): what a slow
// crm.keys.v1 round trip looks like to KeyedIds.
class GatedKeys final : public DataKeys {
 public:
  GatedKeys(DataKeys* real, int free) : real_(real), free_(free) {}
  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  int batches_asked() {
    absl::MutexLock lock(&mu_);
    return asked_;
  }
  absl::Status CreateMany(std::string_view tenant, const std::vector<std::string>& ids) override {
    {
      absl::MutexLock lock(&mu_);
      if (++asked_ > free_) mu_.Await(absl::Condition(&open_));
    }
    return real_->CreateMany(tenant, ids);
  }
  absl::StatusOr<std::string> GetOrCreate(std::string_view tenant, std::string_view id) override {
    return real_->GetOrCreate(tenant, id);
  }
  absl::StatusOr<std::optional<std::string>> Get(std::string_view tenant,
                                                 std::string_view id) override {
    return real_->Get(tenant, id);
  }
  absl::StatusOr<bool> Destroyed(std::string_view tenant, std::string_view id) override {
    return real_->Destroyed(tenant, id);
  }
  absl::Status Destroy(std::string_view tenant, std::string_view id) override {
    return real_->Destroy(tenant, id);
  }
  absl::Status Forget(std::string_view tenant, std::string_view id) override {
    return real_->Forget(tenant, id);
  }
  absl::Status Checkpoint(const std::string& dir) override { return real_->Checkpoint(dir); }

 private:
  DataKeys* const real_;
  const int free_;
  absl::Mutex mu_;
  bool open_ = false;
  int asked_ = 0;
};

// The next batch is keyed while the current one is handed out: creations do not wait for a
// round trip every `batch` of them, only when they outrun the keying.
TEST(KeyedIdsTest, KeysTheNextBatchWhileTheCurrentOneIsHandedOut) {
  testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<KeyVault>> vault = KeyVault::Open(dir.path());
  ASSERT_TRUE(vault.ok()) << vault.status();
  GatedKeys keys(vault->get(), /*free=*/1);  // the second batch's round trip takes long
  std::vector<std::string> handed;
  {
    KeyedIds ids(&keys, /*batch=*/4);
    // Whatever fails below, the keying is let through before `ids` waits for it.
    const absl::Cleanup let_through = [&] { keys.Open(); };
    handed.push_back(*ids.Next("acme"));  // the first batch, waited for
    ASSERT_TRUE(testing::WaitFor([&] { return keys.batches_asked() == 2; }));
    for (int i = 0; i < 3; ++i) handed.push_back(*ids.Next("acme"));  // the rest, no wait
    absl::StatusOr<std::string> fifth;
    std::thread waiting([&] { fifth = ids.Next("acme"); });  // this one waits for the keys
    keys.Open();
    waiting.join();
    ASSERT_TRUE(fifth.ok()) << fifth.status();
    EXPECT_EQ(std::find(handed.begin(), handed.end(), *fifth), handed.end());
    handed.push_back(*fifth);
  }
  for (const std::string& id : handed) {
    EXPECT_TRUE((*vault)->Get("acme", id)->has_value()) << id;
  }
}

// Replicas of the contact service sharing keys through crm.keys.v1, on the embedded log (the
// Kafka path runs in the contact service's Kafka integration test).
class ReplicatedKeyVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<eventlog::EmbeddedEventLog>> log =
        eventlog::EmbeddedEventLog::Open({dir_.Sub("log"), 2});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  absl::StatusOr<std::unique_ptr<ReplicatedKeyVault>> Replica(const std::string& name,
                                                              const std::string& kek) {
    return ReplicatedKeyVault::Start(log_.get(), dir_.Sub(name), kek, absl::Seconds(20));
  }

  testing::TempDir dir_;
  std::unique_ptr<eventlog::EmbeddedEventLog> log_;
  const std::string kek_ = DeriveKey("the key-encryption key of this deployment");
};

TEST_F(ReplicatedKeyVaultTest, ReplicasShareWrappedKeysAgreeOnRacesAndDestroyEverywhere) {
  absl::StatusOr<std::unique_ptr<ReplicatedKeyVault>> a = Replica("a", kek_);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::unique_ptr<ReplicatedKeyVault>> b = Replica("b", kek_);
  ASSERT_TRUE(b.ok()) << b.status();

  absl::StatusOr<std::string> made = (*a)->GetOrCreate("acme", "c1");
  ASSERT_TRUE(made.ok()) << made.status();
  absl::StatusOr<std::optional<std::string>> seen = (*b)->Get("acme", "c1");
  ASSERT_TRUE(seen.ok()) << seen.status();
  ASSERT_TRUE(seen->has_value()) << "b never learnt a's key";
  EXPECT_EQ(**seen, *made);
  // The topic holds the key wrapped: the log's files never hold its bytes.
  ASSERT_TRUE(log_->Flush(absl::Seconds(10)).ok());
  EXPECT_FALSE(AnyFileContains(dir_.Sub("log"), *made)) << "a data key is on the log unwrapped";

  // Both replicas make a key for the same person at once: one key wins on both.
  for (int i = 0; i < 5; ++i) {
    const std::string id = "race" + std::to_string(i);
    absl::StatusOr<std::string> from_a, from_b;
    std::thread ta([&] { from_a = (*a)->GetOrCreate("acme", id); });
    std::thread tb([&] { from_b = (*b)->GetOrCreate("acme", id); });
    ta.join();
    tb.join();
    ASSERT_TRUE(from_a.ok()) << from_a.status();
    ASSERT_TRUE(from_b.ok()) << from_b.status();
    EXPECT_EQ(*from_a, *from_b) << id;
  }

  // Keys made ahead in bulk reach the other replica too. (KeyedIds keys its next batch on a
  // thread of its own, through the vault it was given: it must end before that vault does.)
  {
    KeyedIds keyed(a->get(), 8);
    absl::StatusOr<std::string> keyed_id = keyed.Next("acme");
    ASSERT_TRUE(keyed_id.ok()) << keyed_id.status();
    absl::StatusOr<std::optional<std::string>> keyed_key = (*b)->Get("acme", *keyed_id);
    ASSERT_TRUE(keyed_key.ok());
    EXPECT_TRUE(keyed_key->has_value());
    EXPECT_EQ(**keyed_key, **(*a)->Get("acme", *keyed_id));
  }

  // A destroyed key is gone on every replica, and never made again.
  ASSERT_TRUE((*a)->Destroy("acme", "c1").ok());
  ASSERT_TRUE(testing::WaitFor([&] { return *(*b)->Destroyed("acme", "c1"); }));
  EXPECT_FALSE((*b)->Get("acme", "c1")->has_value());
  EXPECT_EQ((*b)->GetOrCreate("acme", "c1").status().code(), absl::StatusCode::kFailedPrecondition);
  // b marks the key destroyed before it has flushed and compacted the old bytes away.
  EXPECT_TRUE(testing::WaitFor([&] { return !AnyFileContains(dir_.Sub("b"), *made); }))
      << "b still holds the destroyed key";

  // A replica started later learns every key and every destruction from the topic.
  a->reset();
  absl::StatusOr<std::unique_ptr<ReplicatedKeyVault>> c = Replica("c", kek_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(*(*c)->Destroyed("acme", "c1"));
  EXPECT_EQ(**(*c)->Get("acme", "race0"), **(*b)->Get("acme", "race0"));
}

TEST_F(ReplicatedKeyVaultTest, AReplicaWithAnotherKeyEncryptionKeyRefusesToStart) {
  {
    absl::StatusOr<std::unique_ptr<ReplicatedKeyVault>> a = Replica("a", kek_);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE((*a)->GetOrCreate("acme", "c1").ok());
  }
  absl::StatusOr<std::unique_ptr<ReplicatedKeyVault>> other =
      Replica("other", DeriveKey("some other secret"));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("do not unwrap with this key-encryption key"),
            std::string::npos)
      << other.status();
  absl::StatusOr<std::unique_ptr<ReplicatedKeyVault>> none = Replica("none", "");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(none.status().message().find("no key-encryption key"), std::string::npos)
      << none.status();
  EXPECT_EQ(Replica("short", "too short").status().code(), absl::StatusCode::kInvalidArgument);
  // The right key still opens them.
  absl::StatusOr<std::unique_ptr<ReplicatedKeyVault>> again = Replica("again", kek_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE((*again)->Get("acme", "c1")->has_value());
}

}  // namespace
}  // namespace crm::crypto
