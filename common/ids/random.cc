#include "common/ids/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace crm::ids {
namespace {

constexpr size_t kBlock = 4096;
std::atomic<uint64_t> forks{0};

struct Block {
  std::array<uint8_t, kBlock> bytes;
  size_t used = kBlock;  // nothing drawn yet
  uint64_t forks = 0;
};

}  // namespace

void RandomBytes(void* out, size_t n) {
  static const bool watching = [] {
    pthread_atfork(nullptr, nullptr, [] { forks.fetch_add(1, std::memory_order_relaxed); });
    return true;
  }();
  (void)watching;
  auto* to = static_cast<uint8_t*>(out);
  if (n > kBlock / 4) {  // larger than ids, keys and nonces: straight from OpenSSL
    if (RAND_bytes(to, static_cast<int>(n)) != 1) std::abort();
    return;
  }
  thread_local Block block;
  const uint64_t now_forks = forks.load(std::memory_order_relaxed);
  if (block.used + n > kBlock || block.forks != now_forks) {
    if (RAND_bytes(block.bytes.data(), kBlock) != 1) std::abort();
    block.used = 0;
    block.forks = now_forks;
  }
  std::memcpy(to, block.bytes.data() + block.used, n);
  OPENSSL_cleanse(block.bytes.data() + block.used, n);
  block.used += n;
}

}  // namespace crm::ids
