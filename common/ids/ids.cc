#include "common/ids/ids.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace crm::ids {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Encodes 128 bits as 26 Crockford base32 digits.
std::string Encode(const std::array<uint8_t, 16>& bytes) {
  // 128 bits -> 26 base32 digits, most significant first (the first digit carries 3 bits).
  auto bit = [&bytes](int n) { return (bytes[15 - n / 8] >> (n % 8)) & 1; };
  std::string out(26, '0');
  for (int digit = 0; digit < 26; ++digit) {
    const int low = (25 - digit) * 5;
    int value = 0;
    for (int b = 4; b >= 0; --b) value = (value << 1) | (low + b < 128 ? bit(low + b) : 0);
    out[digit] = kAlphabet[value];
  }
  return out;
}

// Random bytes from OpenSSL's CSPRNG, drawn a block at a time per thread: each RAND_bytes call
// costs a getpid system call (OpenSSL's fork check) and a lock — several µs on a VM, about 3 %
// of a write's CPU when every id made its own call. A forked child draws a fresh block (its copy
// of the parent's would repeat the parent's next ids); bytes handed out are wiped from the block.
constexpr size_t kRandomBlock = 4096;
std::atomic<uint64_t> forks{0};

struct RandomBlock {
  std::array<uint8_t, kRandomBlock> bytes;
  size_t used = kRandomBlock;  // nothing drawn yet
  uint64_t forks = 0;
};

void TakeRandom(uint8_t* out, size_t n) {
  static const bool watching = [] {
    pthread_atfork(nullptr, nullptr, [] { forks.fetch_add(1, std::memory_order_relaxed); });
    return true;
  }();
  (void)watching;
  thread_local RandomBlock block;
  const uint64_t now_forks = forks.load(std::memory_order_relaxed);
  if (block.used + n > kRandomBlock || block.forks != now_forks) {
    if (RAND_bytes(block.bytes.data(), kRandomBlock) != 1) {
      // The CSPRNG failing is not something a caller can handle.
      std::abort();
    }
    block.used = 0;
    block.forks = now_forks;
  }
  std::memcpy(out, block.bytes.data() + block.used, n);
  OPENSSL_cleanse(block.bytes.data() + block.used, n);
  block.used += n;
}

}  // namespace

std::string NewId(absl::Time now) {
  std::array<uint8_t, 16> bytes{};
  const uint64_t millis = static_cast<uint64_t>(absl::ToUnixMillis(now));
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
  TakeRandom(bytes.data() + 6, 10);
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
