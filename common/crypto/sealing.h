// Sealing: authenticated encryption of personal data with a per-person data key (AES-256-GCM
// through OpenSSL), the building block of crypto-shredding — destroy the key and every copy of
// the sealed data, in the log and in backups, is unreadable.
//
//   const std::string key = crypto::NewDataKey();
//   ASSIGN_OR_RETURN(SealedData sealed, crypto::Seal(key, "contact-id", "tenant/contact-id",
//   bytes)); ASSIGN_OR_RETURN(std::string again, crypto::Open(key, sealed, "tenant/contact-id"));
//
// The additional authenticated data binds a sealed value to its owner: a ciphertext copied onto
// another contact's event does not open. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "crm/common/v1/privacy.pb.h"

namespace crm::crypto {

using crm::common::v1::SealedData;

// Bytes in a data key (AES-256).
inline constexpr size_t kDataKeySize = 32;

// A key of kDataKeySize bytes derived from secret `material` (SHA-256), e.g. a key-encryption
// key from a file of random bytes.
std::string DeriveKey(std::string_view material);

// A new random data key from OpenSSL's CSPRNG. Crashes if the generator fails (there is no safe
// way on without randomness).
std::string NewDataKey();

// Seals `plaintext` under `key` (kDataKeySize bytes) with a fresh random nonce, authenticating
// `aad` too; the result names `key_id`. INVALID_ARGUMENT for a key of the wrong size; INTERNAL if
// OpenSSL fails.
absl::StatusOr<SealedData> Seal(std::string_view key, std::string_view key_id, std::string_view aad,
                                std::string_view plaintext);

// The plaintext of `sealed`. DATA_LOSS if the ciphertext, nonce or `aad` does not authenticate
// under `key` (tampered, or sealed for someone else); INVALID_ARGUMENT for a key or nonce of the
// wrong size.
absl::StatusOr<std::string> Open(std::string_view key, const SealedData& sealed,
                                 std::string_view aad);

}  // namespace crm::crypto
