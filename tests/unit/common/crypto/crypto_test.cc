#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/crypto/key_vault.h"
#include "common/crypto/sealing.h"
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

}  // namespace
}  // namespace crm::crypto
