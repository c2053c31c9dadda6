#include "common/ids/ids.h"

#include <openssl/sha.h>

#include <array>
#include <cstdint>

#include "absl/numeric/int128.h"
#include "common/ids/random.h"

namespace crm::ids {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Encodes 128 bits as 26 Crockford base32 digits, most significant first (the first digit
// carries 3 bits): five bits at a time off the bottom of one 128-bit number (a bit at a time
// was 2,500 instructions an id, a sixth of crm-bench's raw ingest).
std::string Encode(const std::array<uint8_t, 16>& bytes) {
  absl::uint128 value = 0;
  for (const uint8_t b : bytes) value = (value << 8) | b;
  std::string out(26, '0');
  for (int digit = 25; digit >= 0; --digit) {
    out[static_cast<size_t>(digit)] = kAlphabet[absl::Uint128Low64(value) & 31];
    value >>= 5;
  }
  return out;
}

}  // namespace

std::string NewId(absl::Time now) {
  std::array<uint8_t, 16> bytes{};
  const uint64_t millis = static_cast<uint64_t>(absl::ToUnixMillis(now));
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
  RandomBytes(bytes.data() + 6, 10);
  return Encode(bytes);
}

std::string IdFor(std::string_view seed) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(seed.data()), seed.size(), digest);
  std::array<uint8_t, 16> bytes{};
  for (int i = 0; i < 16; ++i) bytes[i] = digest[i];
  return Encode(bytes);
}

bool IsWellFormed(std::string_view id) {
  if (id.size() != 26) return false;
  if (id[0] > '7') return false;
  for (char c : id) {
    bool found = false;
    for (const char* p = kAlphabet; *p != '\0'; ++p) {
      if (*p == c) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace crm::ids
