#pragma once
// FNV-1a, 64 bits: the checksum of the task journal's records and of the evolution
// checkpoints (detects damage, not tampering).
#include <cstddef>
#include <cstdint>

namespace tessera::detail {

inline std::uint64_t fnv1a(const void* data, std::size_t bytes,
                           std::uint64_t hash = 14695981039346656037ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) {
    hash ^= p[i];
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace tessera::detail
