// A real key vault in a directory and the sealer over it, for tests that build a
// ContactProjection.
#pragma once

#include <memory>
#include <string>

#include "common/crypto/key_vault.h"
#include "services/contact/projection/sealing.h"

namespace crm::contact {

struct TestKeys {
  explicit TestKeys(const std::string& dir) : vault(std::move(*crypto::KeyVault::Open(dir))) {}
  std::unique_ptr<crypto::KeyVault> vault;
  PersonalDataSealer sealer{vault.get()};
};

}  // namespace crm::contact
