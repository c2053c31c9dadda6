// Random bytes from OpenSSL's CSPRNG, for ids, data keys and nonces.
//
// Drawn a block at a time per thread: each RAND_bytes call costs a getpid system call (OpenSSL's
// fork check) and a lock — several µs on a VM, about 3 % of a write's CPU when every id, data key
// and nonce made its own call. The bytes are the CSPRNG's all the same; those handed out are wiped
// from the block, and a forked child draws a fresh block (its copy of the parent's would repeat
// what the parent hands out next). Aborts if the CSPRNG fails: nothing random would be safe.
#pragma once

#include <cstddef>

namespace crm::ids {

// Fills `out` with `n` random bytes. Thread-safe.
void RandomBytes(void* out, size_t n);

}  // namespace crm::ids
