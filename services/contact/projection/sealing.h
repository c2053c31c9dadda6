// PersonalDataSealer: keeps the personal data of contacts off the log in the clear
// (crypto-shredding, ARCHITECTURE "Data conventions").
//
// On the write path, Seal moves Contact.personal of a ContactCreated, ContactUpdated or
// ContactsMerged event into its sealed_* field, encrypted with that contact's data key from the
// KeyVault (made on first use). At apply, Open gives the contact projection the event with its
// personal data back in place. Once a contact is erased its key is destroyed: Open then leaves the
// personal data empty, and the log holds only ciphertext for that person for ever.
//
// Only the contact service holds keys; other services see sealed events and keep no personal data.
// Events written before sealing (plaintext personal) still apply as they are. Thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/crypto/key_vault.h"
#include "crm/common/v1/envelope.pb.h"
#include "google/protobuf/message.h"

namespace crm::contact {

class PersonalDataSealer {
 public:
  explicit PersonalDataSealer(crypto::DataKeys* keys) : vault_(keys) {}

  // Seals the personal data in `payload` (an event of this service) for `tenant`; other events
  // are left alone. FAILED_PRECONDITION if the contact was erased; INTERNAL if the vault fails.
  absl::Status Seal(std::string_view tenant, google::protobuf::Message& payload) const;

  // `event` with its personal data opened, or nullopt when it carries nothing sealed (use it as
  // it is). Personal data whose key was destroyed stays empty. DATA_LOSS if a sealed value does
  // not authenticate under its key; INTERNAL if the vault fails.
  absl::StatusOr<std::optional<crm::common::v1::EventEnvelope>> Open(
      const crm::common::v1::EventEnvelope& event) const;

  // Destroys this process's copy of the data key of `contact_id` (applying an erasure); the
  // command destroyed it everywhere before (crypto::DataKeys::Destroy).
  absl::Status Shred(std::string_view tenant, std::string_view contact_id) const;

  crypto::DataKeys& keys() const { return *vault_; }

 private:
  crypto::DataKeys* const vault_;
};

}  // namespace crm::contact
