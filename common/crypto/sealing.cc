#include "common/crypto/sealing.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/ids/random.h"

namespace crm::crypto {
namespace {

constexpr int kNonceSize = 12;
constexpr int kTagSize = 16;

struct CipherDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using Cipher = std::unique_ptr<EVP_CIPHER_CTX, CipherDeleter>;

// AES-256-GCM, fetched from OpenSSL's default provider once: EVP_aes_256_gcm() makes every
// EVP_*Init_ex fetch it again (a provider lookup under a lock: a third of an Open's time in a
// profile of CreateContact).
const EVP_CIPHER* AesGcm() {
  static const EVP_CIPHER* const cipher = [] {
    const EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return fetched != nullptr ? fetched : EVP_aes_256_gcm();
  }();
  return cipher;
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

absl::Status CheckKey(std::string_view key) {
  if (key.size() != kDataKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("a data key has ", kDataKeySize, " bytes, not ", key.size()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string DeriveKey(std::string_view material) {
  std::string key(kDataKeySize, '\0');
  SHA256(Bytes(material), material.size(), Bytes(key));
  return key;
}

std::string NewDataKey() {
  std::string key(kDataKeySize, '\0');
  ids::RandomBytes(key.data(), key.size());
  return key;
}

absl::StatusOr<SealedData> Seal(std::string_view key, std::string_view key_id, std::string_view aad,
                                std::string_view plaintext) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  std::string nonce(kNonceSize, '\0');
  ids::RandomBytes(nonce.data(), nonce.size());
  Cipher ctx(EVP_CIPHER_CTX_new());
  std::string out(plaintext.size() + kTagSize, '\0');
  int n = 0;
  int total = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), AesGcm(), nullptr, Bytes(key), Bytes(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, Bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), Bytes(out), &n, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1) {
    return absl::InternalError("AES-256-GCM encryption failed");
  }
  total = n;
  if (EVP_EncryptFinal_ex(ctx.get(), Bytes(out) + total, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, Bytes(out) + total + n) != 1) {
    return absl::InternalError("AES-256-GCM encryption failed");
  }
  out.resize(static_cast<size_t>(total + n + kTagSize));
  SealedData sealed;
  sealed.set_key_id(std::string(key_id));
  sealed.set_nonce(std::move(nonce));
  sealed.set_ciphertext(std::move(out));
  return sealed;
}

absl::StatusOr<std::string> Open(std::string_view key, const SealedData& sealed,
                                 std::string_view aad) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  if (sealed.nonce().size() != kNonceSize) {
    return absl::InvalidArgumentError(absl::StrCat("a sealed value has a ", kNonceSize,
                                                   "-byte nonce, not ", sealed.nonce().size()));
  }
  const std::string& in = sealed.ciphertext();
  if (in.size() < kTagSize) return absl::DataLossError("sealed value is truncated");
  const size_t body = in.size() - kTagSize;
  std::string tag = in.substr(body);
  std::string out(body, '\0');
  Cipher ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), AesGcm(), nullptr, Bytes(key), Bytes(sealed.nonce())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, Bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), Bytes(out), &n, Bytes(in), static_cast<int>(body)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, Bytes(tag)) != 1) {
    return absl::InternalError("AES-256-GCM decryption failed");
  }
  const int total = n;
  if (EVP_DecryptFinal_ex(ctx.get(), Bytes(out) + total, &n) != 1) {
    return absl::DataLossError(
        absl::StrCat("sealed value of ", sealed.key_id(), " does not authenticate"));
  }
  out.resize(static_cast<size_t>(total + n));
  return out;
}

}  // namespace crm::crypto
