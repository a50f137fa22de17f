#pragma once
// Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as
// 1, 2, 3", SC'11), callable from host and device code.
#include <cstdint>

#include <Kokkos_Core.hpp>

namespace tessera::detail {

struct Philox4x32 {
  std::uint32_t v[4];
};

KOKKOS_INLINE_FUNCTION void philox_mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi,
                                           std::uint32_t& lo) {
  const std::uint64_t p = static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b);
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
}

// The multipliers and the key increments (Weyl sequence) of Philox4x32.
constexpr std::uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
constexpr std::uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

/// Ten rounds of Philox4x32 on counter `ctr` with key (k0, k1).
KOKKOS_INLINE_FUNCTION Philox4x32 philox4x32_10(Philox4x32 ctr, std::uint32_t k0,
                                                std::uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kPhiloxM0, ctr.v[0], hi0, lo0);
    philox_mulhilo(kPhiloxM1, ctr.v[2], hi1, lo1);
    ctr = Philox4x32{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  return ctr;
}

/// The ten round keys of key (k0, k1), for philox4x32_10_wide.
inline void philox_round_keys(std::uint32_t k0, std::uint32_t k1, std::uint64_t (&keys0)[10],
                              std::uint64_t (&keys1)[10]) {
  for (int round = 0; round < 10; ++round, k0 += kPhiloxW0, k1 += kPhiloxW1)
    keys0[round] = k0, keys1[round] = k1;
}

/// philox4x32_10 with each 32-bit word of the counter held in a 64-bit integer whose upper
/// half is ignored; the result's words come back in the low halves (the upper ones hold
/// garbage). For host vector loops: they multiply 64-bit lanes (vpmuludq) without packing
/// between 32- and 64-bit lanes. keys0, keys1: philox_round_keys. (Four scalars, not an
/// array: in a vector loop an array may stay in memory.)
inline void philox4x32_10_wide(std::uint64_t& c0, std::uint64_t& c1, std::uint64_t& c2,
                               std::uint64_t& c3, const std::uint64_t (&keys0)[10],
                               const std::uint64_t (&keys1)[10]) {
  constexpr std::uint64_t low = 0xffffffffu;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = (c0 & low) * kPhiloxM0, p1 = (c2 & low) * kPhiloxM1;
    c0 = (p1 >> 32) ^ c1 ^ keys0[round];
    c2 = (p0 >> 32) ^ c3 ^ keys1[round];
    c1 = p1;
    c3 = p0;
  }
}

}  // namespace tessera::detail
