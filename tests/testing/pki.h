// Keys and certificates made on the spot for tests of TLS and token signatures (OpenSSL).
#pragma once

#include <string>

namespace crm::testing {

struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};

// A fresh 2048-bit RSA key pair.
KeyPair NewRsaKey();

struct Certificate {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed CA.
Certificate NewCa(const std::string& common_name);

// A certificate issued by `ca` for `common_name`, valid for 127.0.0.1 and localhost (as subject
// alternative names), for server and client authentication.
Certificate Issue(const Certificate& ca, const std::string& common_name);

}  // namespace crm::testing
