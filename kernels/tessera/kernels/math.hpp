#pragma once
// Math functions usable in kernels for Kokkos 3.4 (Kokkos::Experimental::) and 4.x+ (Kokkos::).
#include <cstdint>

#include <Kokkos_Core.hpp>

// Asks the host compiler to vectorise a loop whose iterations are independent.
#if defined(_OPENMP) && !defined(__CUDACC__)
#define TESSERA_SIMD _Pragma("omp simd")
// ... with a sum into `var` that may be reassociated (a count, say).
#define TESSERA_SIMD_SUM(var) _Pragma(TESSERA_STRINGIFY(omp simd reduction(+ : var)))
#define TESSERA_STRINGIFY(x) #x
#else
#define TESSERA_SIMD
#define TESSERA_SIMD_SUM(var)
#endif

// Host kernels for x86-64 instruction sets (clones, AVX-512 intrinsics): GCC on x86-64,
// not in CUDA translation units nor in sanitizer builds, which take the portable paths
// (so that CI runs both).
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__)
#define TESSERA_X86_KERNELS 1
// Built for several instruction sets, chosen when the program starts.
#define TESSERA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
// ... with AVX-512's 64-bit integer conversions and multiplies (DQ) in the first clone.
#define TESSERA_CLONES_V4 __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define TESSERA_CLONES
#define TESSERA_CLONES_V4
#endif

#if defined(TESSERA_X86_KERNELS)
namespace tessera::detail {
/// Whether this CPU runs the AVX-512 + FMA intrinsic kernels.
inline bool cpu_has_avx512_fma() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return yes;
}
/// Whether this CPU runs the AVX-512 intrinsic kernels that take DQ's 64-bit conversions.
inline bool cpu_has_avx512_dq() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  return yes;
}
}  // namespace tessera::detail
#endif

namespace tessera::detail::kmath {
#if KOKKOS_VERSION >= 40000
using Kokkos::cos;
using Kokkos::exp;
using Kokkos::fabs;
using Kokkos::isnan;
using Kokkos::log;
using Kokkos::pow;
using Kokkos::sin;
using Kokkos::sqrt;
using Kokkos::tanh;
#else
using Kokkos::Experimental::cos;
using Kokkos::Experimental::exp;
using Kokkos::Experimental::fabs;
using Kokkos::Experimental::isnan;
using Kokkos::Experimental::log;
using Kokkos::Experimental::pow;
using Kokkos::Experimental::sin;
using Kokkos::Experimental::sqrt;
using Kokkos::Experimental::tanh;
#endif

template <class T>
KOKKOS_INLINE_FUNCTION constexpr const T& min(const T& a, const T& b) {
  return b < a ? b : a;
}
template <class T>
KOKKOS_INLINE_FUNCTION constexpr const T& max(const T& a, const T& b) {
  return a < b ? b : a;
}

// exp(x) that vectorises on the host: Cody–Waite reduction by ln 2, the degree-13 Taylor
// polynomial on |r| ≤ ln2 / 2, 2^k from exponent bits; within 1 ulp of the correctly
// rounded value (0 below −708, where glibc returns subnormals). Devices use their exp.
KOKKOS_INLINE_FUNCTION double exp_fast(double x) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return exp(x);
#else
  const double low = x < -708.0 ? -708.0 : x;
  const double clamped = low > 709.0 ? 709.0 : low;
  constexpr double log2e = 1.4426950408889634, shift = 6755399441055744.0;  // 1.5 · 2^52
  const double kd = clamped * log2e + shift;  // round(x / ln 2) in the low mantissa bits
  const double k = kd - shift;
  const double r = (clamped - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  std::uint64_t bits;  // unsigned: wraps for negative k and NaN, never undefined
  __builtin_memcpy(&bits, &kd, sizeof bits);
  bits = (bits - std::uint64_t(0x4338000000000000) + 1023) << 52;  // 2^k
  double scale;
  __builtin_memcpy(&scale, &bits, sizeof scale);
  const double overflow = x > 709.0 ? __builtin_huge_val() : 1.0;
  return (x < -708.0 ? 0.0 : p * scale) * overflow;
#endif
}

// cos(y) for |y| ≤ cos_reduced_limit, branch-free so that loops over it vectorise on the
// host: y − k·π/2 with k = round(2y/π) in three parts of π/2 (fdlibm's 33-bit splits: the
// products with k < 2^20 are exact), then musl's sin/cos kernels on |r| ≤ π/4 chosen and
// signed by k mod 4. Within an ulp or two of the correctly rounded value (tested against
// glibc). Devices use their cos.
constexpr double cos_reduced_limit = 1.6e6;  // 2^20 · π/2 ≈ 1.647e6
KOKKOS_INLINE_FUNCTION double cos_reduced(double y) {
  constexpr double two_over_pi = 6.36619772367581382433e-01, shift = 6755399441055744.0;
  constexpr double pio2_1 = 1.57079632673412561417e+00, pio2_2 = 6.07710050630396597660e-11,
                   pio2_3 = 2.02226624871116645580e-21;
  const double kd = y * two_over_pi + shift;  // round(2y / π) in the low mantissa bits
  const double k = kd - shift;
  const double r = ((y - k * pio2_1) - k * pio2_2) - k * pio2_3;
  std::uint64_t bits;
  __builtin_memcpy(&bits, &kd, sizeof bits);
  const std::uint64_t q = bits & 3;  // k mod 4 (1.5 · 2^52 is a multiple of 4)
  const double z = r * r, w = z * z;
  // musl's __sin(r, 0, 0) and __cos(r, 0)
  constexpr double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03,
                   S3 = -1.98412698298579493134e-04, S4 = 2.75573137070700676789e-06,
                   S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
  constexpr double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03,
                   C3 = 2.48015872894767294178e-05, C4 = -2.75573143513906633035e-07,
                   C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;
  const double sr = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
  const double sin_r = r + z * r * (S1 + z * sr);
  const double cr = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
  const double hz = 0.5 * z, a = 1.0 - hz;
  const double cos_r = a + (((1.0 - a) - hz) + z * cr);
  // cos(y) = cos r, −sin r, −cos r, sin r for k mod 4 = 0, 1, 2, 3
  const double v = (q & 1) ? sin_r : cos_r;
  return (q == 1 || q == 2) ? -v : v;
}

// cos(y): cos_reduced where it holds, the library's cos beyond (and for NaN, ±∞).
KOKKOS_INLINE_FUNCTION double cos_fast(double y) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return cos(y);
#else
  return fabs(y) <= cos_reduced_limit ? cos_reduced(y) : cos(y);
#endif
}

// log(x) for positive, normal, finite x that vectorises on the host: fdlibm's e_log (x =
// 2^k (1 + f) with 1 + f in [√2/2, √2), log(1 + f) from s = f / (2 + f) and a degree-14
// polynomial in s), branch-free; within 1 ulp of the correctly rounded value. Devices use
// their log.
KOKKOS_INLINE_FUNCTION double log_fast(double x) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return log(x);
#else
  std::uint64_t bits;
  __builtin_memcpy(&bits, &x, sizeof bits);
  // the mantissa's high bits plus (2 − √2)'s: bit 52 set where 1 + f ≥ √2 (then halved)
  const std::uint64_t high = (bits & 0x000fffffffffffffULL) + 0x00095f6400000000ULL;
  const std::uint64_t half = (high >> 52) & 1;
  // k = biased exponent + half − 1023, converted through 2^52's bits (an integer-to-double
  // conversion would not vectorise without AVX-512DQ)
  const std::uint64_t kbits = 0x4330000000000000ULL | ((bits >> 52) + half);
  double kd;
  __builtin_memcpy(&kd, &kbits, sizeof kd);
  const double k = (kd - 4503599627370496.0) - 1023.0;
  const std::uint64_t mbits = (bits & 0x000fffffffffffffULL) | ((0x3ffULL - half) << 52);
  double m;
  __builtin_memcpy(&m, &mbits, sizeof m);
  const double f = m - 1.0;
  constexpr double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                   Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                   Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                   Lg7 = 1.479819860511658591e-01;
  constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  const double s = f / (2.0 + f), z = s * s, w = z * z;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const double R = t2 + t1, hfsq = 0.5 * f * f;
  return k * ln2_hi - ((hfsq - (s * (hfsq + R) + k * ln2_lo)) - f);
#endif
}

// The standard normal quantile Φ⁻¹(p) for p in (0, 1): Wichura's algorithm AS 241
// (PPND16, Applied Statistics 37, 1988), relative error about 1e-16. Rational functions
// only, except log and sqrt in the tails (|p − 0.5| > 0.425, 15% of uniform draws).
// Φ⁻¹(½ + q) for |q| ≤ normal_central_limit (AS 241's central region; branch-free, so
// that loops over it vectorise).
constexpr double normal_central_limit = 0.425;
KOKKOS_INLINE_FUNCTION double normal_quantile_central(double q) {
  const double r = 0.180625 - q * q;
  return q *
         (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r +
               6.7265770927008700853e+4) *
                  r +
              4.5921953931549871457e+4) *
                 r +
             1.3731693765509461125e+4) *
                r +
            1.9715909503065514427e+3) *
               r +
           1.3314166789178437745e+2) *
              r +
          3.3871328727963666080e0) /
         (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r +
               3.9307895800092710610e+4) *
                  r +
              2.1213794301586595867e+4) *
                 r +
             5.3941960214247511077e+3) *
                r +
            6.8718700749205790830e+2) *
               r +
           4.2313330701600911252e+1) *
              r +
          1.0);
}

// AS 241's tails (|p − 0.5| > normal_central_limit) from r = √(−log min(p, 1 − p)): the
// rational function for r ≤ 5 and the one beyond (p within 1.4e-11 of 0 or 1), without
// branches so that loops over them vectorise on the host.
KOKKOS_INLINE_FUNCTION double normal_tail_near(double r) {
  const double rn = r - 1.6;
  return (((((((7.74545014278341407640e-4 * rn + 2.27238449892691845833e-2) * rn +
               2.41780725177450611770e-1) *
                  rn +
              1.27045825245236838258e0) *
                 rn +
             3.64784832476320460504e0) *
                rn +
            5.76949722146069140550e0) *
               rn +
           4.63033784615654529590e0) *
              rn +
          1.42343711074968357734e0) /
         (((((((1.05075007164441684324e-9 * rn + 5.47593808499534494600e-4) * rn +
               1.51986665636164571966e-2) *
                  rn +
              1.48103976427480074590e-1) *
                 rn +
             6.89767334985100004550e-1) *
                rn +
            1.67638483018380384940e0) *
               rn +
           2.05319162663775882187e0) *
              rn +
          1.0);
}
KOKKOS_INLINE_FUNCTION double normal_tail_far(double r) {
  const double rf = r - 5.0;
  return (((((((2.01033439929228813265e-7 * rf + 2.71155556874348757815e-5) * rf +
               1.24266094738807843860e-3) *
                  rf +
              2.65321895265761230930e-2) *
                 rf +
             2.96560571828504891230e-1) *
                rf +
            1.78482653991729133580e0) *
               rf +
           5.46378491116411436990e0) *
              rf +
          6.65790464350110377720e0) /
         (((((((2.04426310338993978564e-15 * rf + 1.42151175831644588870e-7) * rf +
               1.84631831751005468180e-5) *
                  rf +
              7.86869131145613259100e-4) *
                 rf +
             1.48753612908506148525e-2) *
                rf +
            1.36929880922735805310e-1) *
               rf +
           5.99832206555887937690e-1) *
              rf +
          1.0);
}
// r of a tail draw (log_fast on the host: the vector loops and the scalar path agree).
KOKKOS_INLINE_FUNCTION double normal_tail_r(double p) {
  return sqrt(-log_fast(p < 0.5 ? p : 1.0 - p));
}

KOKKOS_INLINE_FUNCTION double normal_quantile(double p) {
  const double q = p - 0.5;
  if (fabs(q) <= normal_central_limit) return normal_quantile_central(q);
  const double r = normal_tail_r(p);
  const double v = r <= 5.0 ? normal_tail_near(r) : normal_tail_far(r);
  return q < 0 ? -v : v;
}
}  // namespace tessera::detail::kmath
