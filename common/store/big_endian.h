// Big-endian integer encoding for keys: byte order equals numeric order, so RocksDB's bytewise
// comparator sorts offsets, versions and times correctly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace crm::store {

// Appends the low `bytes` bytes of `v`, most significant first.
inline void PutBigEndian(std::string& out, uint64_t v, int bytes = 8) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Reads `bytes` bytes written by PutBigEndian. `in` must hold at least `bytes` bytes.
inline uint64_t GetBigEndian(std::string_view in, int bytes = 8) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

// An int64 as 8 big-endian bytes (for values such as offsets and counters).
inline std::string EncodeInt64(int64_t v) {
  std::string s;
  PutBigEndian(s, static_cast<uint64_t>(v));
  return s;
}

// The inverse of EncodeInt64; 0 for a value of the wrong size.
inline int64_t DecodeInt64(std::string_view s) {
  return s.size() == 8 ? static_cast<int64_t>(GetBigEndian(s)) : 0;
}

}  // namespace crm::store
