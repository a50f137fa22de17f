#pragma once
/// @file
/// @brief Counter-based random numbers (Philox4x32-10), usable in Kokkos kernels.
///
/// A draw is a pure function of (seed, stream, counter): the same seed gives the same
/// numbers on any number of ranks or threads, on CPU or GPU, in any order.
///
/// @code
/// tessera::CounterRng rng(seed, /*stream=*/7);
/// Kokkos::parallel_for(n, KOKKOS_LAMBDA(int i) { x(i) = rng.normal(i); });
/// @endcode

#include <cstdint>

#include <Kokkos_Core.hpp>
#include <tessera/kernels/math.hpp>
#include <tessera/kernels/philox.hpp>

namespace tessera {

/// @brief Stateless counter-based generator keyed by (seed, stream).
///
/// Each counter value yields one Philox block of 128 bits; `uniform`, `normal` and
/// `integer` each consume one block, so `f(counter)` for distinct counters are
/// independent draws.
class CounterRng {
 public:
  KOKKOS_INLINE_FUNCTION CounterRng(std::uint64_t seed, std::uint64_t stream = 0)
      : seed_(seed), stream_(stream) {}

  /// The raw Philox block for a counter: counter in words 0-1, stream in words 2-3,
  /// seed as the key.
  KOKKOS_INLINE_FUNCTION detail::Philox4x32 bits(std::uint64_t counter) const {
    detail::Philox4x32 ctr{
        {static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32),
         static_cast<std::uint32_t>(stream_), static_cast<std::uint32_t>(stream_ >> 32)}};
    return detail::philox4x32_10(ctr, static_cast<std::uint32_t>(seed_),
                                 static_cast<std::uint32_t>(seed_ >> 32));
  }

  /// Uniform double in [0, 1) with 53 random bits.
  KOKKOS_INLINE_FUNCTION double uniform(std::uint64_t counter) const {
    return to_unit(bits(counter), 0);
  }

  /// Standard normal draw (Box-Muller on two 53-bit uniforms).
  KOKKOS_INLINE_FUNCTION double normal(std::uint64_t counter) const {
    const detail::Philox4x32 b = bits(counter);
    const double u1 = 1.0 - to_unit(b, 0);  // (0, 1]: log is finite
    const double u2 = to_unit(b, 2);
    constexpr double two_pi = 6.283185307179586476925286766559;
    return detail::kmath::sqrt(-2.0 * detail::kmath::log(u1)) * detail::kmath::cos(two_pi * u2);
  }

  /// Two independent standard normal draws from one block, by inversion (Wichura's
  /// AS 241 quantile of two 53-bit uniforms in (0, 1)): several times cheaper than
  /// `normal` where many draws are needed (CMA-ES sampling).
  KOKKOS_INLINE_FUNCTION Kokkos::pair<double, double> normal_pair(std::uint64_t counter) const {
    const auto u = open_uniform_pair(counter);
    return {detail::kmath::normal_quantile(u.first), detail::kmath::normal_quantile(u.second)};
  }

  /// The two uniforms in (0, 1) (53 bits each) that `normal_pair` inverts.
  KOKKOS_INLINE_FUNCTION Kokkos::pair<double, double> open_uniform_pair(
      std::uint64_t counter) const {
    const detail::Philox4x32 b = bits(counter);
    return {open_unit(b, 0), open_unit(b, 2)};
  }

  /// Integer uniform in [0, n) for n >= 1, by 64x64 -> 128-bit multiply-high of a
  /// 64-bit draw (bias below n / 2^64).
  KOKKOS_INLINE_FUNCTION std::uint64_t integer(std::uint64_t counter, std::uint64_t n) const {
    const detail::Philox4x32 b = bits(counter);
    const std::uint64_t x = (static_cast<std::uint64_t>(b.v[1]) << 32) | b.v[0];
    return mulhi64(x, n);
  }

  KOKKOS_INLINE_FUNCTION std::uint64_t seed() const { return seed_; }
  KOKKOS_INLINE_FUNCTION std::uint64_t stream() const { return stream_; }

 private:
  KOKKOS_INLINE_FUNCTION static double to_unit(const detail::Philox4x32& b, int lane) {
    const std::uint64_t x = ((static_cast<std::uint64_t>(b.v[lane + 1]) << 32) | b.v[lane]) >> 11;
    return static_cast<double>(x) * (1.0 / 9007199254740992.0);  // 2^-53
  }
  KOKKOS_INLINE_FUNCTION static double open_unit(const detail::Philox4x32& b, int lane) {
    // the top 53 bits of the 64, as 21 + 32 converted from 32-bit integers (exact, and
    // vectorisable where 64-bit integer conversions are not)
    const double x = static_cast<double>(b.v[lane + 1] >> 11) * 4294967296.0 +
                     static_cast<double>((b.v[lane + 1] << 21) | (b.v[lane] >> 11));
    return (x + 0.5) * (1.0 / 9007199254740992.0);  // (0, 1)
  }
  KOKKOS_INLINE_FUNCTION static std::uint64_t mulhi64(std::uint64_t a, std::uint64_t b) {
    const std::uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
    const std::uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
    const std::uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi;
    const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
    return a_hi * b_hi + (hi_lo >> 32) + (cross >> 32);
  }

  std::uint64_t seed_;
  std::uint64_t stream_;
};

}  // namespace tessera
