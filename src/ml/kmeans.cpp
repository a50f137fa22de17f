#include <tessera/ml/kmeans.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <tessera/array/column_stats.hpp>
#include <tessera/comm/agree.hpp>
#include <tessera/core/error.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/io/results.hpp>
#include <tessera/kernels/moments.hpp>
#include <tessera/linalg/linalg.hpp>

#include "finite.hpp"

#include <tessera/kernels/math.hpp>

#include "../core/lanes.hpp"

// The FMA assignment kernel (AVX-512 intrinsics, used where the CPU has them); other
// builds take the portable BLAS path (tessera/kernels/math.hpp).
#if defined(TESSERA_X86_KERNELS)
#include <immintrin.h>
#endif

namespace tessera::ml {

KMeansInit parse_kmeans_init(const std::string& name) {
  if (name == "k-means++") return KMeansInit::kmeans_plusplus;
  if (name == "random") return KMeansInit::random;
  if (name == "k-means||") return KMeansInit::kmeans_parallel;
  throw InvalidArgument("unknown k-means init '" + name + "' (k-means++, random, k-means||)");
}

const char* to_string(KMeansInit init) {
  switch (init) {
    case KMeansInit::kmeans_plusplus: return "k-means++";
    case KMeansInit::random: return "random";
    case KMeansInit::kmeans_parallel: return "k-means||";
    case KMeansInit::given: return "given";
  }
  return "k-means++";
}

void KMeansParams::validate() const {
  if (k < 1) throw InvalidArgument(fmt::format("k must be >= 1, got {}", k));
  if (n_init < 1) throw InvalidArgument(fmt::format("n_init must be >= 1, got {}", n_init));
  if (max_iter < 1) throw InvalidArgument(fmt::format("max_iter must be >= 1, got {}", max_iter));
  if (!(tol >= 0) || !std::isfinite(tol))
    throw InvalidArgument(fmt::format("tol must be >= 0, got {}", tol));
  if (init == KMeansInit::given && initial_centers.extent(0) != static_cast<std::size_t>(k))
    throw InvalidArgument(
        fmt::format("the initial centroids have {} rows for k = {}", initial_centers.extent(0), k));
  if (init == KMeansInit::given)  // (NaN centroids gave NaN distances, labels 0 and exit 0)
    for (std::size_t c = 0; c < initial_centers.extent(0); ++c)
      for (std::size_t j = 0; j < initial_centers.extent(1); ++j)
        if (!std::isfinite(initial_centers(c, j)))
          throw InvalidArgument(
              fmt::format("the initial centroids must be finite: centroid {}, column {} is {}", c,
                          j, initial_centers(c, j)));
}

// TESSERA_CLONES (several instruction sets): the scan below only compares, selects and
// adds exact values, so every version gives the same bits.
// The nearest of k centroids for m rows from dots (k × m, dots(c, r) = x_r · c) and the
// centroids' squared norms: ‖c‖² − 2 x·c, the first strict minimum wins (scikit-learn's
// rule). Centroids in order for all rows together, branch-free so that the loop over rows
// vectorises; best holds the centroid indices as doubles.
namespace detail {
TESSERA_CLONES void nearest_centroids(const double* dots, const double* norms, std::size_t k,
                                      std::size_t m, double* best_d, double* best) {
  for (std::size_t r = 0; r < m; ++r) best_d[r] = norms[0] - 2.0 * dots[r], best[r] = 0;
  for (std::size_t c = 1; c < k; ++c) {
    const double* dc = dots + c * m;
    const double nc = norms[c], cd = static_cast<double>(c);
    TESSERA_SIMD
    for (std::size_t r = 0; r < m; ++r) {
      const double dist = nc - 2.0 * dc[r], old = best_d[r];
      const double take = static_cast<double>(dist < old);
      best_d[r] = dist < old ? dist : old;
      best[r] += take * (cd - best[r]);  // exact: take is 0 or 1
    }
  }
}

// Row and centroid norms below this keep every float32 value under 2e36 (float32 tops at
// 3.4e38).
constexpr double kScreenMaxNorm = 1e18;

// Whether the screen can decide anything: centroid norms in float32's range (NaN: no),
// and few enough features for the bound to mean something.
inline bool screen_worth(std::size_t d, double cmax) {
  return cmax < kScreenMaxNorm && static_cast<double>(d + 3) * 0x1p-24 < 0.1;
}

// What rounding can move a screened ½‖c‖² − x·c, for a row of norm x and centroids of
// norm at most C: float32's `roundings` per value, γ = (roundings)·2⁻²⁴ / (1 − that),
// times ½C² + xC (Cauchy–Schwarz), plus 1% (float64's own error, 2⁻²⁹ of it, is inside),
// plus 2⁻¹²⁰ (d + 1)(1 + x + C) for values near float32's underflow.
struct ScreenBound {
  double gamma = 0, tiny = 0;
  ScreenBound() = default;
  ScreenBound(std::size_t roundings, std::size_t d) {
    const double terms = static_cast<double>(roundings) * 0x1p-24;  // below 0.1 + 2⁻²³
    gamma = 1.01 * terms / (1 - terms);
    tiny = 0x1p-120 * static_cast<double>(d + 1);
  }
  double operator()(double x, double c) const {
    return gamma * (0.5 * c * c + x * c) + tiny * (1 + x + c);
  }
};

// The float32 screen of the BLAS path (the AVX-512 kernel's, below, in portable code):
// dots (k × m) = x_r · c in float32 and norms the centroids' ‖c‖² rounded to float32; per
// row the best and second-best ‖c‖² − 2 x·c and the best's index (first strict minimum).
// When every row's runner-up lies further off than twice what rounding can move a value
// in float32 and float64 together — twice ScreenBound's for these doubled values, with
// d + 5 roundings (d products rounded, and their sums, the two inputs, ‖c‖² and the
// difference), C the largest centroid norm — float64 cannot rank them otherwise: best gets the
// labels and the result is true. Otherwise false (the block goes through float64 whole). b, second:
// m floats; index: m ints.
TESSERA_CLONES bool nearest_screened(const float* dots, const float* norms, std::size_t k,
                                     std::size_t m, std::size_t d, const double* row_norms,
                                     double cmax, float* b, float* second, int* index,
                                     double* best) {
  for (std::size_t r = 0; r < m; ++r) b[r] = second[r] = __builtin_huge_valf(), index[r] = 0;
  for (std::size_t c = 0; c < k; ++c) {
    const float* dc = dots + c * m;
    const float nc = norms[c];
    const int ci = static_cast<int>(c);
    TESSERA_SIMD
    for (std::size_t r = 0; r < m; ++r) {
      const float v = nc - 2.0f * dc[r], old = b[r], sec = second[r];
      const float higher = v < old ? old : v;  // (selects on values, so that it vectorises)
      second[r] = higher < sec ? higher : sec;
      b[r] = v < old ? v : old;
      index[r] = v < old ? ci : index[r];
    }
  }
  const ScreenBound rounding(d + 5, d);
  bool all = true;
  for (std::size_t r = 0; r < m; ++r) {
    const double x = row_norms[r];
    const double bound = 2 * rounding(x, cmax);  // the values are ‖c‖² − 2 x·c
    const double gap = static_cast<double>(second[r]) - static_cast<double>(b[r]);
    all = all && x < kScreenMaxNorm && gap > 2 * bound;  // false for NaN
    best[r] = static_cast<double>(index[r]);
  }
  return all;
}

// Cluster sums (k × (d + 1): the rows' sum, then their count) brought from the labels
// `prev` to the labels `labels`, in row order: a row whose label changed is subtracted from
// its old cluster (none when prev is −1) and added to its new one, and prev takes the new
// label. Exact operations in a fixed order, so every instruction-set version gives the
// same bits. Few features: d fixed at compile time.
template <std::size_t D>
inline void move_row(const double* x, std::size_t d, int old, int label, double* sums) {
  const std::size_t width = D ? D : d;
  if (old >= 0) {
    double* off = sums + static_cast<std::size_t>(old) * (width + 1);
    TESSERA_SIMD
    for (std::size_t j = 0; j < width; ++j) off[j] -= x[j];
    off[width] -= 1.0;
  }
  double* to = sums + static_cast<std::size_t>(label) * (width + 1);
  TESSERA_SIMD
  for (std::size_t j = 0; j < width; ++j) to[j] += x[j];
  to[width] += 1.0;
}

// ... over `rows` consecutive rows (all compared), or (listed) over the rows moved[0..rows)
// only, indices from X, known to be all the rows whose label changed.
template <std::size_t D>
void update_sums_of(const double* X, const int* labels, int* prev, std::size_t rows,
                    const int* moved, std::size_t d, double* sums) {
  const std::size_t width = D ? D : d;
  for (std::size_t t = 0; t < rows; ++t) {
    const std::size_t r = moved ? static_cast<std::size_t>(moved[t]) : t;
    const int label = labels[r], old = prev[r];
    if (!moved && label == old) continue;
    move_row<D>(X + r * width, d, old, label, sums);
    prev[r] = label;
  }
}

// moved == nullptr: compare all rows; else `rows` is the count of the moved rows.
TESSERA_CLONES [[gnu::flatten]] void update_sums(const double* X, const int* labels, int* prev,
                                                 std::size_t rows, const int* moved, std::size_t d,
                                                 double* sums) {
  switch (d) {
    case 1: return update_sums_of<1>(X, labels, prev, rows, moved, d, sums);
    case 2: return update_sums_of<2>(X, labels, prev, rows, moved, d, sums);
    case 3: return update_sums_of<3>(X, labels, prev, rows, moved, d, sums);
    case 4: return update_sums_of<4>(X, labels, prev, rows, moved, d, sums);
    default: return update_sums_of<0>(X, labels, prev, rows, moved, d, sums);
  }
}

// labels[r] = best[r] (centroid indices held as doubles) for m rows; returns how many
// changed.
TESSERA_CLONES std::int64_t store_labels(const double* best, std::size_t m, int* labels) {
  std::int64_t changed = 0;
  for (std::size_t r = 0; r < m; ++r) {
    const int label = static_cast<int>(best[r]);
    changed += labels[r] != label;
    labels[r] = label;
  }
  return changed;
}

// TESSERA_KMEANS_KERNEL, for diagnosis and tests (unset: the CPU decides): "blas" takes
// the portable paths where the CPU has AVX-512 too, "float64" turns the float32 screens
// off; both may be given, comma-separated.
struct KernelChoice {
  bool blas = false, float64 = false;
};

inline KernelChoice kernel_choice() {
  KernelChoice choice;
  const char* env = std::getenv("TESSERA_KMEANS_KERNEL");
  std::string rest = env ? env : "";
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string word = rest.substr(0, comma);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
    if (word == "blas")
      choice.blas = true;
    else if (word == "float64")
      choice.float64 = true;
    else if (!word.empty())
      throw InvalidArgument("TESSERA_KMEANS_KERNEL: '" + word + "' is not blas or float64");
  }
  return choice;
}

// Host work items: blocks of at most kItemRows rows inside one chunk, transposed into the
// thread's scratch (columns × kItemRows, zeros past the block's rows) so that every loop
// below runs over rows, contiguous, 8 at a time in a GCC vector (one AVX-512 register,
// two AVX2 or four SSE2 ones: elementwise IEEE operations, the same bits in every
// instruction-set clone). Sums over a block's rows go to the 8 lanes (row r to lane
// r mod 8), added up in a fixed tree.
constexpr std::size_t kItemRows = 256;
// Feature counts up to this are assigned by the direct kernel, above it by the FMA
// micro-kernel (AVX-512 CPUs) or a GEMM per block.
constexpr std::size_t kDirectMaxFeatures = 8;

using lanes::broadcast;
using lanes::kLanes;
using lanes::Lanes;
using lanes::load;
using lanes::min;
using lanes::store;

void transpose_rows(const double* X, std::size_t m, std::size_t d, double* xt) {
  for (std::size_t j = 0; j < d; ++j) {
    double* to = xt + j * kItemRows;
    for (std::size_t r = 0; r < m; ++r) to[r] = X[r * d + j];
    for (std::size_t r = m; r < kItemRows; ++r) to[r] = 0;
  }
}

// ‖x_r − p‖² (Σ_j (x_rj − p_j)², columns in order) of the 8 rows from r of xt.
inline Lanes squared_distances(const double* xt, std::size_t d, const double* p, std::size_t r) {
  Lanes s{};
  for (std::size_t j = 0; j < d; ++j) {
    const Lanes e = load(xt + j * kItemRows + r) - p[j];
    s += e * e;
  }
  return s;
}

// The 8 values from v[r], zeros past v[m].
inline Lanes load_part(const double* v, std::size_t r, std::size_t m) {
  if (r + kLanes <= m) return load(v + r);
  double part[kLanes] = {};
  std::memcpy(part, v + r, (m - r) * sizeof(double));
  return load(part);
}

inline double total(Lanes acc) {
  return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

// Σ of the m values of a block, in lanes.
TESSERA_CLONES [[gnu::flatten]] double block_sum(const double* v, std::size_t m) {
  Lanes acc{};
  for (std::size_t r = 0; r < m; r += kLanes) acc += load_part(v, r, m);
  return total(acc);
}

// k-means++'s potentials of t candidate points (t × d) over a block: out[p] = Σ_r
// min(v[r], ‖x_r − p‖²), in lanes (past the block's rows v reads as 0, adding nothing),
// with each candidate's min(v[r], ‖x_r − p‖²) left in kept[p][at + r]: what
// block_take_minima would leave for it, out[p] being its sum (the same bits).
// G candidates per pass over the rows (each row's x and v loaded once for them), D
// features fixed at compile time (D = 0: d at run time); each candidate's sum in the
// same order whatever G is.
inline void store_part(double* to, std::size_t r, std::size_t m, Lanes v) {
  if (r + kLanes <= m) return store(to + r, v);
  double part[kLanes];
  store(part, v);
  std::memcpy(to + r, part, (m - r) * sizeof(double));
}

template <std::size_t D, std::size_t G>
void potentials_of(const double* xt, const double* v, std::size_t m, std::size_t d, const double* P,
                   double* out, double* const* kept, std::size_t at) {
  const std::size_t width = D ? D : d;
  Lanes acc[G] = {};
  for (std::size_t r = 0; r < m; r += kLanes) {
    const Lanes vr = load_part(v, r, m);
    for (std::size_t q = 0; q < G; ++q) {
      const Lanes least = min(vr, squared_distances(xt, width, P + q * width, r));
      store_part(kept[q] + at, r, m, least);
      acc[q] += least;
    }
  }
  for (std::size_t q = 0; q < G; ++q) out[q] = total(acc[q]);
}

template <std::size_t D>
void potentials_by(const double* xt, const double* v, std::size_t m, std::size_t d, const double* P,
                   std::size_t t, double* out, double* const* kept, std::size_t at) {
  constexpr std::size_t kGroup = 4;
  for (std::size_t p = 0; p < t; p += kGroup) {
    const double* points = P + p * d;
    switch (std::min(kGroup, t - p)) {
      case 1: potentials_of<D, 1>(xt, v, m, d, points, out + p, kept + p, at); break;
      case 2: potentials_of<D, 2>(xt, v, m, d, points, out + p, kept + p, at); break;
      case 3: potentials_of<D, 3>(xt, v, m, d, points, out + p, kept + p, at); break;
      default: potentials_of<D, kGroup>(xt, v, m, d, points, out + p, kept + p, at); break;
    }
  }
}

TESSERA_CLONES [[gnu::flatten]] void block_potentials(const double* xt, const double* v,
                                                      std::size_t m, std::size_t d, const double* P,
                                                      std::size_t t, double* out,
                                                      double* const* kept, std::size_t at) {
  switch (d) {
    case 1: return potentials_by<1>(xt, v, m, d, P, t, out, kept, at);
    case 2: return potentials_by<2>(xt, v, m, d, P, t, out, kept, at);
    case 3: return potentials_by<3>(xt, v, m, d, P, t, out, kept, at);
    case 4: return potentials_by<4>(xt, v, m, d, P, t, out, kept, at);
    default: return potentials_by<0>(xt, v, m, d, P, t, out, kept, at);
  }
}

// v[r] = min(v[r], ‖x_r − p‖²) for every point p (m × d; start: the first point's
// distance instead of the minimum with v); returns Σ v of the block, in lanes.
TESSERA_CLONES [[gnu::flatten]] double block_take_minima(const double* xt, double* v, std::size_t m,
                                                         std::size_t d, const double* P,
                                                         std::size_t points, bool start) {
  Lanes acc{};
  for (std::size_t r = 0; r < m; r += kLanes) {
    Lanes best = start ? squared_distances(xt, d, P, r) : load_part(v, r, m);
    for (std::size_t p = start ? 1 : 0; p < points; ++p)
      best = min(best, squared_distances(xt, d, P + p * d, r));
    if (r + kLanes <= m) {
      store(v + r, best);
    } else {
      double part[kLanes];
      store(part, best);
      std::memcpy(v + r, part, (m - r) * sizeof(double));
      for (std::size_t l = m - r; l < kLanes; ++l) best[l] = 0;
    }
    acc += best;
  }
  return total(acc);
}

// The nearest centroid of each row of a block, computed directly (few features): scikit-
// learn's ‖c‖² − 2 x·c halved (½‖c‖² − x·c: the same comparisons, since halving is exact),
// the first strict minimum wins. Groups of V × 8 rows keep their coordinates, best
// distances and centroids in registers while the centroids stream by (D features, fixed
// at compile time; D = 0: d at run time); best holds indices as doubles.
template <std::size_t D, std::size_t V>
void nearest_of(const double* xt, std::size_t m, std::size_t d, const double* C,
                const double* half_norms, std::size_t k, double* best) {
  constexpr std::size_t G = V * kLanes;
  const std::size_t width = D ? D : d;
  for (std::size_t g = 0; g < m; g += G) {
    Lanes bd[V], bi[V];
    for (std::size_t v = 0; v < V; ++v) bd[v] = broadcast(__builtin_huge_val()), bi[v] = Lanes{};
    for (std::size_t c = 0; c < k; ++c) {
      const double* cc = C + c * width;
      Lanes dot[V];
      for (std::size_t v = 0; v < V; ++v) dot[v] = load(xt + g + v * kLanes) * cc[0];
      for (std::size_t j = 1; j < width; ++j)
        for (std::size_t v = 0; v < V; ++v)
          dot[v] += load(xt + j * kItemRows + g + v * kLanes) * cc[j];
      const Lanes h = broadcast(half_norms[c]), cd = broadcast(static_cast<double>(c));
      for (std::size_t v = 0; v < V; ++v) {
        const Lanes dist = h - dot[v];
        const auto take = dist < bd[v];
        bd[v] = take ? dist : bd[v];
        bi[v] = take ? cd : bi[v];
      }
    }
    for (std::size_t v = 0; v < V; ++v) store(best + g + v * kLanes, bi[v]);
  }
}

TESSERA_CLONES [[gnu::flatten]] void nearest_direct(const double* xt, std::size_t m, std::size_t d,
                                                    const double* C, const double* half_norms,
                                                    std::size_t k, double* best) {
  switch (d) {
    case 1: return nearest_of<1, 4>(xt, m, d, C, half_norms, k, best);
    case 2: return nearest_of<2, 4>(xt, m, d, C, half_norms, k, best);
    case 3: return nearest_of<3, 4>(xt, m, d, C, half_norms, k, best);
    case 4: return nearest_of<4, 2>(xt, m, d, C, half_norms, k, best);
    default: return nearest_of<0, 2>(xt, m, d, C, half_norms, k, best);
  }
}

// Many features on a CPU with AVX-512 and FMA: the distances of 4 rows to 32 centroids at
// a time in registers (a GEMM micro-kernel that reads the rows where they lie, with no
// packing, and the centroids transposed, CT = d × kpad, kpad a multiple of 8 with padding
// centroids at +∞), ½‖c‖² − x·c with fused multiply-adds, the running minimum per row
// kept in 8 lanes (lane l: centroids l, l + 8, ...) and reduced at the end: the first
// strict minimum, as the scan over centroids in order. Different bits from the BLAS path
// (the CPU, not the rank or thread count, decides which runs).
#if defined(TESSERA_X86_KERNELS)
// The running best of R rows over centroids c0 .. c0 + 8V − 1.
template <std::size_t R, std::size_t V>
__attribute__((target("avx512f,fma"))) [[gnu::always_inline]] inline void centroid_block_fma(
    const double* X, std::size_t d, const double* CT, const double* half, std::size_t kpad,
    std::size_t c0, Lanes* bd, Lanes* bi) {
  Lanes acc[R][V];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (std::size_t v = 0; v < V; ++v) acc[r][v] = Lanes{};
  for (std::size_t j = 0; j < d; ++j) {
    Lanes b[V];
#pragma GCC unroll 8
    for (std::size_t v = 0; v < V; ++v) b[v] = load(CT + j * kpad + c0 + v * kLanes);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) {
      const Lanes a = (Lanes)_mm512_set1_pd(X[r * d + j]);
#pragma GCC unroll 8
      for (std::size_t v = 0; v < V; ++v)
        acc[r][v] = (Lanes)_mm512_fmadd_pd((__m512d)a, (__m512d)b[v], (__m512d)acc[r][v]);
    }
  }
  const Lanes step = {0, 1, 2, 3, 4, 5, 6, 7};
#pragma GCC unroll 8
  for (std::size_t v = 0; v < V; ++v) {
    const Lanes h = load(half + c0 + v * kLanes);
    const Lanes index = step + static_cast<double>(c0 + v * kLanes);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) {
      const Lanes dist = h - acc[r][v];
      const auto take = dist < bd[r];
      bd[r] = take ? dist : bd[r];
      bi[r] = take ? index : bi[r];
    }
  }
}

// The minimum of the 8 lanes, in every lane: against the halves swapped, then the
// quarters, then the pairs.
__attribute__((target("avx512f"))) [[gnu::always_inline]] inline __m512d lanes_min(__m512d v) {
  v = _mm512_maskz_min_pd(0xff, v, _mm512_maskz_shuffle_f64x2(0xff, v, v, 0x4e));
  v = _mm512_maskz_min_pd(0xff, v, _mm512_maskz_shuffle_f64x2(0xff, v, v, 0xb1));
  return _mm512_maskz_min_pd(0xff, v, _mm512_maskz_permute_pd(0xff, v, 0x55));
}

template <std::size_t R>
__attribute__((target("avx512f,fma"))) [[gnu::always_inline]] inline void nearest_rows_fma(
    const double* X, std::size_t d, const double* CT, const double* half, std::size_t kpad,
    double* best) {
  Lanes bd[R], bi[R];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r) bd[r] = broadcast(__builtin_huge_val()), bi[r] = Lanes{};
  std::size_t c0 = 0;
  for (; c0 + 4 * kLanes <= kpad; c0 += 4 * kLanes)
    centroid_block_fma<R, 4>(X, d, CT, half, kpad, c0, bd, bi);
  for (; c0 < kpad; c0 += kLanes) centroid_block_fma<R, 1>(X, d, CT, half, kpad, c0, bd, bi);
  // Per row the smallest distance over the lanes, then the smallest centroid index among
  // the lanes that hold it, both by shuffles in registers (the scalar scan over the lanes
  // went through memory: an eighth of the kernel's time at d = 32, k = 64 on Zen 4).
  for (std::size_t r = 0; r < R; ++r) {
    const __m512d dist = (__m512d)bd[r];
    const __mmask8 at = _mm512_cmp_pd_mask(dist, lanes_min(dist), _CMP_EQ_OQ);
    best[r] = _mm512_cvtsd_f64(
        lanes_min(_mm512_mask_mov_pd(_mm512_set1_pd(__builtin_huge_val()), at, (__m512d)bi[r])));
  }
}

// Rows r + 8 .. r + 11 (the group of 4 after next) into cache while group r is worked on
// (the hardware prefetcher alone left the kernels waiting on them); past the end of the
// rows a prefetch is harmless.
[[gnu::always_inline]] inline void prefetch_group_after_next(const double* X, std::size_t r,
                                                             std::size_t d) {
  const std::uintptr_t ahead = reinterpret_cast<std::uintptr_t>(X + r * d) + 8 * d * sizeof(double);
  for (std::size_t b = 0; b < 4 * d * sizeof(double); b += 64)
    _mm_prefetch(reinterpret_cast<const char*>(ahead + b), _MM_HINT_T0);
}

__attribute__((target("avx512f,fma"))) [[gnu::flatten]] inline void nearest_fma(
    const double* X, std::size_t m, std::size_t d, const double* CT, const double* half,
    std::size_t kpad, double* best) {
  std::size_t r = 0;
  for (; r + 4 <= m; r += 4) {
    prefetch_group_after_next(X, r, d);
    nearest_rows_fma<4>(X + r * d, d, CT, half, kpad, best + r);
  }
  for (; r < m; ++r) nearest_rows_fma<1>(X + r * d, d, CT, half, kpad, best + r);
}

// The same labels from a float32 screen (16 lanes: twice the FMAs of float64 per
// instruction). For each row the kernel keeps the best and second-best float32 values of
// ½‖c‖² − x·c; when they lie further apart than twice what rounding can move a value in
// float32 and float64 together, the float64 kernel above cannot rank them otherwise, so
// the float32 winner is its label. The other rows (near ties, values too large or too
// small for float32, NaN) go through nearest_rows_fma<1>: the labels are nearest_fma's,
// bit for bit.
//
// The bound, per row x (u = 2⁻²⁴; h = ½‖c‖² as float64, x and c float64, each rounded once
// to float32, d products summed by FMAs, one subtraction): |v₃₂(c) − (h − x·c)| ≤
// γ_{d+3} (|h| + Σ|x_j c_j|) ≤ γ_{d+3} (½C² + ‖x‖ C) with C the largest centroid norm
// (Cauchy–Schwarz), plus an absolute 2⁻¹²⁰ (d + 1)(1 + ‖x‖ + C) for values near float32's
// underflow; float64's own error, 2⁻²⁹ of that, is inside the 1% margin: ScreenBound with
// d + 3 roundings.
struct Screen {
  const float* ct = nullptr;    // centroids transposed, d × kpad (kpad a multiple of 16)
  const float* half = nullptr;  // ½‖c‖² rounded to float32, +∞ past k
  std::size_t kpad = 0;
  double cmax = 0;    // the largest centroid norm
  ScreenBound bound;  // ScreenBound(d + 3, d)
};

template <std::size_t R, std::size_t V>
__attribute__((target("avx512f,fma"))) [[gnu::always_inline]] inline void centroid_block_fma32(
    const float* X, std::size_t d, const Screen& s, std::size_t c0, __m512* bd, __m512* sd,
    __m512i* bi) {
  __m512 acc[R][V];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (std::size_t v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  for (std::size_t j = 0; j < d; ++j) {
    __m512 b[V];
#pragma GCC unroll 8
    for (std::size_t v = 0; v < V; ++v) b[v] = _mm512_loadu_ps(s.ct + j * s.kpad + c0 + v * 16);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(X[r * d + j]);
#pragma GCC unroll 8
      for (std::size_t v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
    }
  }
  const __m512i step = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#pragma GCC unroll 8
  for (std::size_t v = 0; v < V; ++v) {
    const __m512 h = _mm512_loadu_ps(s.half + c0 + v * 16);
    const __m512i index = _mm512_add_epi32(step, _mm512_set1_epi32(static_cast<int>(c0 + v * 16)));
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) {
      const __m512 dist = _mm512_sub_ps(h, acc[r][v]);
      const __mmask16 take = _mm512_cmp_ps_mask(dist, bd[r], _CMP_LT_OQ);
      sd[r] = _mm512_maskz_min_ps(0xffff, sd[r], _mm512_maskz_max_ps(0xffff, bd[r], dist));
      bd[r] = _mm512_mask_mov_ps(bd[r], take, dist);
      bi[r] = _mm512_mask_mov_epi32(bi[r], take, index);
    }
  }
}

// The minimum of the 16 lanes, in every lane.
__attribute__((target("avx512f"))) [[gnu::always_inline]] inline __m512 lanes_min(__m512 v) {
  v = _mm512_maskz_min_ps(0xffff, v, _mm512_maskz_shuffle_f32x4(0xffff, v, v, 0x4e));
  v = _mm512_maskz_min_ps(0xffff, v, _mm512_maskz_shuffle_f32x4(0xffff, v, v, 0xb1));
  v = _mm512_maskz_min_ps(0xffff, v, _mm512_maskz_permute_ps(0xffff, v, 0x4e));
  return _mm512_maskz_min_ps(0xffff, v, _mm512_maskz_permute_ps(0xffff, v, 0xb1));
}

// R rows (float32 copies in X, float64 norms) over all centroids: best[r] the label where
// the screen decides, −1 where float64 has to.
template <std::size_t R>
__attribute__((target("avx512f,fma"))) [[gnu::always_inline]] inline void screen_rows_fma32(
    const float* X, const double* norms, std::size_t d, const Screen& s, double* best) {
  __m512 bd[R], sd[R];
  __m512i bi[R];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r) {
    bd[r] = sd[r] = _mm512_set1_ps(__builtin_huge_valf());
    bi[r] = _mm512_setzero_si512();
  }
  std::size_t c0 = 0;
  for (; c0 + 64 <= s.kpad; c0 += 64) centroid_block_fma32<R, 4>(X, d, s, c0, bd, sd, bi);
  for (; c0 < s.kpad; c0 += 16) centroid_block_fma32<R, 1>(X, d, s, c0, bd, sd, bi);
  const __m512 inf = _mm512_set1_ps(__builtin_huge_valf());
  for (std::size_t r = 0; r < R; ++r) {
    const __m512 first = lanes_min(bd[r]);
    const __mmask16 at = _mm512_cmp_ps_mask(bd[r], first, _CMP_EQ_OQ);
    const __m512 second =
        _mm512_maskz_min_ps(0xffff, lanes_min(sd[r]),
                            lanes_min(_mm512_mask_mov_ps(inf, static_cast<__mmask16>(~at), bd[r])));
    const double x = norms[r], c = s.cmax;
    const double bound = s.bound(x, c);
    // one lane at the minimum, the runner-up beyond twice the bound (false for NaN)
    const double gap = static_cast<double>(_mm512_cvtss_f32(second)) -
                       static_cast<double>(_mm512_cvtss_f32(first));
    const bool decided = __builtin_popcount(at) == 1 && x < kScreenMaxNorm && gap > 2 * bound;
    best[r] = decided ? static_cast<double>(_mm_cvtsi128_si32(_mm512_maskz_extracti32x4_epi32(
                            0xf, _mm512_maskz_compress_epi32(at, bi[r]), 0)))
                      : -1.0;
  }
}

// float32 copies of m rows of d values.
__attribute__((target("avx512f"))) inline void to_float(const double* X, std::size_t m,
                                                        std::size_t d, float* to) {
  const std::size_t values = m * d;
  std::size_t i = 0;
  for (; i + 8 <= values; i += 8)
    _mm256_storeu_ps(to + i, _mm512_maskz_cvtpd_ps(0xff, _mm512_loadu_pd(X + i)));
  for (; i < values; ++i) to[i] = static_cast<float>(X[i]);
}

// nearest_fma's labels for m rows through the float32 screen, norms the rows' float64
// norms; xs room for 4 × d floats (a group of rows converted at a time, the rows two
// groups on prefetched meanwhile, as nearest_fma). Returns how many rows float64 decided.
__attribute__((target("avx512f,fma"))) [[gnu::flatten]] inline std::size_t nearest_screened_fma(
    const double* X, std::size_t m, std::size_t d, const double* norms, const Screen& s,
    const double* CT, const double* half, std::size_t kpad, float* xs, double* best) {
  std::size_t r = 0;
  for (; r + 4 <= m; r += 4) {
    prefetch_group_after_next(X, r, d);
    to_float(X + r * d, 4, d, xs);
    screen_rows_fma32<4>(xs, norms + r, d, s, best + r);
  }
  for (; r < m; ++r) {
    to_float(X + r * d, 1, d, xs);
    screen_rows_fma32<1>(xs, norms + r, d, s, best + r);
  }
  std::size_t redone = 0;
  for (r = 0; r < m; ++r)
    if (best[r] < 0) {
      nearest_rows_fma<1>(X + r * d, d, CT, half, kpad, best + r);
      ++redone;
    }
  return redone;
}

// nearest_direct with fused multiply-adds: ½‖c‖² − Σ_j x_j c_j as D negated FMAs from
// ½‖c‖² (D = 0: d at run time), groups of 32 rows.
template <std::size_t D>
__attribute__((target("avx512f,fma"))) [[gnu::always_inline]] inline void nearest_of_fma(
    const double* xt, std::size_t m, std::size_t d, const double* C, const double* half_norms,
    std::size_t k, double* best) {
  constexpr std::size_t V = 4;
  const std::size_t width = D ? D : d;
  for (std::size_t g = 0; g < m; g += V * kLanes) {
    __m512d x[D ? D : 1][V], bd[V], bi[V];
    if constexpr (D > 0)
      for (std::size_t j = 0; j < D; ++j)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v)
          x[j][v] = _mm512_loadu_pd(xt + j * kItemRows + g + v * kLanes);
#pragma GCC unroll 8
    for (std::size_t v = 0; v < V; ++v)
      bd[v] = _mm512_set1_pd(__builtin_huge_val()), bi[v] = _mm512_setzero_pd();
    for (std::size_t c = 0; c < k; ++c) {
      const double* cc = C + c * width;
      __m512d dist[V];
#pragma GCC unroll 8
      for (std::size_t v = 0; v < V; ++v) dist[v] = _mm512_set1_pd(half_norms[c]);
      for (std::size_t j = 0; j < width; ++j) {
        const __m512d cj = _mm512_set1_pd(cc[j]);
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) {
          __m512d xj;
          if constexpr (D > 0)
            xj = x[j][v];
          else
            xj = _mm512_loadu_pd(xt + j * kItemRows + g + v * kLanes);
          dist[v] = _mm512_fnmadd_pd(xj, cj, dist[v]);
        }
      }
      const __m512d cd = _mm512_set1_pd(static_cast<double>(c));
#pragma GCC unroll 8
      for (std::size_t v = 0; v < V; ++v) {
        const __mmask8 take = _mm512_cmp_pd_mask(dist[v], bd[v], _CMP_LT_OQ);
        bd[v] = _mm512_mask_mov_pd(bd[v], take, dist[v]);
        bi[v] = _mm512_mask_mov_pd(bi[v], take, cd);
      }
    }
#pragma GCC unroll 8
    for (std::size_t v = 0; v < V; ++v) _mm512_storeu_pd(best + g + v * kLanes, bi[v]);
  }
}

__attribute__((target("avx512f,fma"))) [[gnu::flatten]] inline void nearest_direct_fma(
    const double* xt, std::size_t m, std::size_t d, const double* C, const double* half_norms,
    std::size_t k, double* best) {
  switch (d) {
    case 1: return nearest_of_fma<1>(xt, m, d, C, half_norms, k, best);
    case 2: return nearest_of_fma<2>(xt, m, d, C, half_norms, k, best);
    case 3: return nearest_of_fma<3>(xt, m, d, C, half_norms, k, best);
    case 4: return nearest_of_fma<4>(xt, m, d, C, half_norms, k, best);
    default: return nearest_of_fma<0>(xt, m, d, C, half_norms, k, best);
  }
}

inline bool compress_available() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
}

// store_labels that also lists the changed rows (their indices in order) in moved (room
// for m): 8 rows per compare, the changed ones' indices compressed into the list.
__attribute__((target("avx512f,avx512vl"))) inline std::int64_t store_labels_listing(
    const double* best, std::size_t m, int* labels, int* moved) {
  std::int64_t changed = 0;
  std::size_t r = 0;
  const __m256i step = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (; r + 8 <= m; r += 8) {
    const __m256i now = _mm512_maskz_cvttpd_epi32(0xff, _mm512_loadu_pd(best + r));
    const __m256i was = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(labels + r));
    const __mmask8 diff = _mm256_cmpneq_epi32_mask(now, was);
    // Compressed in a register and stored whole (a compressing store to memory is
    // microcoded on AMD's Zen 4, 10× slower than the kernel): the 8 slots from `changed`
    // lie within the first r + 8 of this list, so within its rows; slots past the count
    // are overwritten later or ignored.
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(moved + changed),
                        _mm256_maskz_compress_epi32(
                            diff, _mm256_add_epi32(step, _mm256_set1_epi32(static_cast<int>(r)))));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(labels + r), now);
    changed += __builtin_popcount(diff);
  }
  for (; r < m; ++r) {
    const int label = static_cast<int>(best[r]);
    if (labels[r] != label) moved[changed++] = static_cast<int>(r);
    labels[r] = label;
  }
  return changed;
}
#endif
}  // namespace detail

namespace {

// A zero host matrix filled by the calling thread: Kokkos would fill it in a parallel
// region (see for_each_index), for the few centroids made every iteration.
HostMatrix zeros(const std::string& label, std::size_t rows, std::size_t cols) {
  HostMatrix M(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), rows, cols);
  std::fill(M.data(), M.data() + M.span(), 0.0);
  return M;
}

// Kokkos::parallel_for over [0, n) in Exec; on the host a plain loop where that is one
// thread's work anyway (one thread, or n <= 1): a parallel region costs libgomp a futex
// call at its closing barrier, which small fits (the elbow sweep's 5000 rows) paid several
// times in every iteration (13% of a one-thread sweep).
template <class Exec, class F>
void for_each_index(const char* label, std::size_t n, const F& f) {
  if constexpr (std::is_same_v<Exec, Kokkos::DefaultHostExecutionSpace>) {
    if (n <= 1 || Exec().concurrency() == 1) {
      for (std::size_t i = 0; i < n; ++i) f(i);
      return;
    }
  }
  Kokkos::parallel_for(label, Kokkos::RangePolicy<Exec>(0, n), f);
}

// The Lloyd machinery over one rank's rows of a DistMatrix in MemorySpace. Every
// floating-point total is a sum of per-chunk partials in global chunk order (each chunk
// summed in a fixed order: its rows in order, or on the host its work items in order, each
// in lanes), so results do not depend on ranks or threads.
template <class MemorySpace>
class Lloyd {
 public:
  using Exec = typename MemorySpace::execution_space;
  using Matrix = Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>;
  using Vector = Kokkos::View<double*, MemorySpace>;
  using Labels = Kokkos::View<int*, MemorySpace>;

  Lloyd(const array::DistMatrix<double, MemorySpace>& X, int k)
      : X_(X),
        n_(X.local().extent(0)),
        d_(X.cols()),
        k_(static_cast<std::size_t>(k)),
        local_chunks_(X.last_chunk() - X.first_chunk()),
        labels_("kmeans_labels", n_),
        values_("kmeans_row_values", n_),
        centers_("kmeans_centers", k_, d_),
        c_norms_("kmeans_center_norms", k_),
        // only the device path keeps a dots block; host work items use scratch_
        block_dots_(kHost ? Matrix()
                          : Matrix("kmeans_dots", std::min<std::size_t>(n_, kBlock), k_)) {
    Kokkos::deep_copy(labels_, -1);  // none yet (what the cluster sums start from)
    if constexpr (kHost) {
      summed_labels_ = Labels("kmeans_summed_labels", n_);
      chunk_sums_ = Sums("kmeans_chunk_sums", local_chunks_, k_, d_ + 1);
      Kokkos::deep_copy(summed_labels_, -1);
      const std::size_t chunk_rows = X.chunk_rows();
      for (std::size_t c = 0; c < local_chunks_; ++c) {
        begin_item_.push_back(items_.size());
        const std::size_t end = std::min(n_, (c + 1) * chunk_rows);
        for (std::size_t b = c * chunk_rows; b < end; b += detail::kItemRows)
          items_.push_back({b, std::min(end, b + detail::kItemRows), c});
      }
    }
  }

  std::size_t rows() const { return n_; }
  const Labels& labels() const { return labels_; }
  const Vector& values() const { return values_; }
  // Labels of a new run: none (-1), so the first assignment changes every row; the host's
  // running cluster sums start again from nothing (a run's results do not depend on the
  // runs before it).
  void reset_labels() {
    Kokkos::deep_copy(labels_, -1);
    assigns_since_sums_ = 0;
    if constexpr (kHost) {
      Kokkos::deep_copy(summed_labels_, -1);
      Kokkos::deep_copy(chunk_sums_, 0.0);
    }
  }

  // Labels of global rows, on every rank.
  std::vector<int> labels_at(const std::vector<std::int64_t>& ids) const {
    std::vector<int> out(ids.size(), -1);
    const auto begin = static_cast<std::int64_t>(X_.row_begin());
    const auto end = static_cast<std::int64_t>(X_.row_end());
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (ids[i] >= begin && ids[i] < end) {
        const auto one = Kokkos::create_mirror_view_and_copy(
            Kokkos::HostSpace(),
            Kokkos::subview(labels_, static_cast<std::size_t>(ids[i] - begin)));
        out[i] = one();
      }
    for (int& v : out) v = X_.comm().allreduce(v, ReduceOp::max);
    return out;
  }

  void load_centers(const HostMatrix& centers) {
    Kokkos::deep_copy(centers_, centers);
    const Matrix C = centers_;
    const Vector cn = c_norms_;
    const std::size_t d = d_;
    for_each_index<Exec>(
        "tessera::kmeans::center_norms", k_, KOKKOS_LAMBDA(const std::size_t c) {
          double s = 0;
          for (std::size_t j = 0; j < d; ++j) s += C(c, j) * C(c, j);
          cn(c) = s;
        });
  }

  // Labels of the local rows for the given centroids (k × d, host); returns how many
  // changed on this rank.
  std::int64_t assign(const HostMatrix& centers) {
    load_centers(centers);
    if constexpr (kHost) {
      return assign_host();
    } else {
      const Matrix X = X_.local();
      const Matrix C = centers_;
      const Vector cn = c_norms_;
      const Labels labels = labels_;
      const std::size_t k = k_;
      std::int64_t changed_total = 0;
      for (std::size_t begin = 0; begin < n_; begin += kBlock) {
        const std::size_t end = std::min(n_, begin + kBlock);
        const auto rows = Kokkos::subview(X, std::make_pair(begin, end), Kokkos::ALL);
        const auto dots =
            Kokkos::subview(block_dots_, std::make_pair(std::size_t(0), end - begin), Kokkos::ALL);
        linalg::gemm(linalg::Op::none, linalg::Op::transpose, 1.0, rows, C, 0.0, dots);
        std::int64_t changed = 0;
        Kokkos::parallel_reduce(
            "tessera::kmeans::assign", Kokkos::RangePolicy<Exec>(0, end - begin),
            KOKKOS_LAMBDA(const std::size_t r, std::int64_t& count) {
              // scikit-learn's ‖c‖² − 2 x·c; the first minimum wins
              int best = 0;
              double best_d = cn(0) - 2.0 * dots(r, 0);
              for (std::size_t c = 1; c < k; ++c) {
                const double dist = cn(c) - 2.0 * dots(r, c);
                if (dist < best_d) best_d = dist, best = static_cast<int>(c);
              }
              if (labels(begin + r) != best) ++count;
              labels(begin + r) = best;
            },
            changed);
        changed_total += changed;
      }
      return changed_total;
    }
  }

  // Σ over rows of the squared distance to the labelled centroid (the loaded ones), in
  // chunk order; also leaves each row's value in values_.
  double inertia() {
    squared_distances_to_labelled();
    return ordered_sum();
  }

  // Per-cluster row sums (k × d) and counts of the current labels, combined in chunk order.
  // Host: each chunk's sums are kept from one call to the next and updated, in row order,
  // by the rows whose label changed since (after the first iterations of a run, few), so
  // a run's sums depend on its sequence of labels, the same on any rank and thread count.
  // Device: one thread per chunk adds its rows in order.
  std::pair<HostMatrix, std::vector<double>> cluster_sums() {
    const std::size_t chunks = local_chunks_, k = k_, d = d_;
    const Matrix X = X_.local();
    const Labels labels = labels_;
    const std::size_t chunk_rows = X_.chunk_rows(), n = n_;
    Sums sums = chunk_sums_;
    if constexpr (kHost) {
      const Labels summed = summed_labels_;
      // One assignment since the last sums, which listed its moved rows: those rows only.
      const bool listed = moves_listed_ && assigns_since_sums_ == 1;
      assigns_since_sums_ = 0;
      const Item* const items = items_.data();
      const std::size_t* const first_item = begin_item_.data();
      const std::size_t item_count = items_.size();
      const int* const moved = moved_.data();
      const std::int64_t* const moved_count = moved_count_.data();
      for_each_index<Kokkos::DefaultHostExecutionSpace>(
          "tessera::kmeans::sums", chunks, [=](const std::size_t c) {
            const std::size_t begin = c * chunk_rows, end = std::min(n, begin + chunk_rows);
            if (!listed)
              return detail::update_sums(X.data() + begin * d, labels.data() + begin,
                                         summed.data() + begin, end - begin, nullptr, d,
                                         &sums(c, 0, 0));
            const std::size_t last = c + 1 < chunks ? first_item[c + 1] : item_count;
            for (std::size_t i = first_item[c]; i < last; ++i) {
              const std::size_t b = items[i].begin;
              detail::update_sums(X.data() + b * d, labels.data() + b, summed.data() + b,
                                  static_cast<std::size_t>(moved_count[i]), moved + b, d,
                                  &sums(c, 0, 0));
            }
          });
    } else {
      sums = Sums("kmeans_chunk_sums", chunks, k, d + 1);
      Kokkos::parallel_for(
          "tessera::kmeans::sums", Kokkos::RangePolicy<Exec>(0, chunks),
          KOKKOS_LAMBDA(const std::size_t c) {
            const std::size_t begin = c * chunk_rows,
                              end = begin + chunk_rows < n ? begin + chunk_rows : n;
            for (std::size_t r = begin; r < end; ++r) {
              const auto cl = static_cast<std::size_t>(labels(r));
              double* to = &sums(c, cl, 0);
              const double* from = &X(r, 0);
              TESSERA_SIMD
              for (std::size_t j = 0; j < d; ++j) to[j] += from[j];
              to[d] += 1.0;
            }
          });
    }
    const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), sums);
    const std::vector<double> all =
        X_.comm().allgatherv(std::vector<double>(host.data(), host.data() + host.span()));
    HostMatrix total = zeros("kmeans_sums", k, d);
    std::vector<double> counts(k, 0.0);
    const std::size_t per_chunk = k * (d + 1);
    for (std::size_t c = 0; c < X_.grid().chunks(); ++c)
      for (std::size_t cl = 0; cl < k; ++cl) {
        const double* part = &all[c * per_chunk + cl * (d + 1)];
        for (std::size_t j = 0; j < d; ++j) total(cl, j) += part[j];
        counts[cl] += part[d];
      }
    return {total, counts};
  }

  // The `count` global rows farthest from their labelled centroid (the loaded ones):
  // (distance, global row), farthest first, ties to the lower row.
  std::vector<std::pair<double, std::int64_t>> farthest(std::size_t count) {
    squared_distances_to_labelled();
    const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), values_);
    std::vector<std::pair<double, std::int64_t>> mine;
    for (std::size_t r = 0; r < n_; ++r)
      mine.emplace_back(-host(r), static_cast<std::int64_t>(X_.row_begin() + r));
    const auto keep = [count](std::vector<std::pair<double, std::int64_t>>& v) {
      const std::size_t m = std::min(count, v.size());
      std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m), v.end());
      v.resize(m);
    };
    keep(mine);
    std::vector<double> flat;
    for (const auto& [negd, row] : mine)
      flat.push_back(negd), flat.push_back(static_cast<double>(row));
    const std::vector<double> all = X_.comm().allgatherv(flat);
    std::vector<std::pair<double, std::int64_t>> merged;
    for (std::size_t i = 0; i + 1 < all.size(); i += 2)
      merged.emplace_back(all[i], static_cast<std::int64_t>(all[i + 1]));
    keep(merged);
    for (auto& m : merged) m.first = -m.first;
    return merged;
  }

  // Rows at global indices, on every rank (the owner contributes, the others add zeros).
  HostMatrix rows_at(const std::vector<std::int64_t>& ids) const {
    HostMatrix out = zeros("kmeans_rows", ids.size(), d_);
    const auto begin = static_cast<std::int64_t>(X_.row_begin());
    const auto end = static_cast<std::int64_t>(X_.row_end());
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (ids[i] >= begin && ids[i] < end) {
        const auto r = static_cast<std::size_t>(ids[i] - begin);
        Kokkos::deep_copy(Kokkos::subview(out, i, Kokkos::ALL),
                          Kokkos::subview(X_.local(), r, Kokkos::ALL));
      }
    X_.comm().allreduce(out, ReduceOp::sum);
    return out;
  }

  // values_(r) = min(values_(r), squared distance of row r to the given rows) for every
  // local row (the "closest distance" of k-means++ / k-means||); start = true sets it to
  // the distance to the first given row before taking minima. Returns chunk_sums().
  std::vector<double> min_distances(const HostMatrix& points, bool start) {
    if constexpr (kHost) {
      const std::size_t d = d_, m = points.extent(0);
      const HostMatrix P = contiguous(points);
      double* const values = values_.data();
      const Item* const items = items_.data();
      std::vector<double> part(items_.size());
      double* const out = part.data();
      for_items([=](std::size_t i, const double* xt, double*) {
        const Item& it = items[i];
        out[i] = detail::block_take_minima(xt, values + it.begin, it.end - it.begin, d, P.data(), m,
                                           start);
      });
      item_sums_ = part;
      return chunk_totals(part, 1);
    } else {
      device_min_distances(points, start);
      return chunk_sums();
    }
  }

  void device_min_distances(const HostMatrix& points, bool start) {
    const auto P = Kokkos::create_mirror_view_and_copy(MemorySpace(), points);
    const Matrix X = X_.local();
    const Vector values = values_;
    const std::size_t d = d_, m = points.extent(0);
    for_each_index<Exec>(
        "tessera::kmeans::min_distances", n_, KOKKOS_LAMBDA(const std::size_t r) {
          double best = start ? __builtin_huge_val() : values(r);
          for (std::size_t p = 0; p < m; ++p) {
            double s = 0;
            for (std::size_t j = 0; j < d; ++j) s += (X(r, j) - P(p, j)) * (X(r, j) - P(p, j));
            best = s < best ? s : best;
          }
          values(r) = best;
        });
  }

  // Squared distances of every local row to each given row, without touching values_:
  // the potential Σ_r min(values_(r), dist(r, p)) per point p, in chunk order. The host
  // keeps each point's min(values_(r), dist(r, p)) for take_candidate.
  std::vector<double> potentials(const HostMatrix& points) {
    const std::size_t t = points.extent(0);
    std::vector<double> out(t, 0.0);
    if constexpr (kHost) {
      const std::size_t d = d_;
      const HostMatrix P = contiguous(points);
      const double* const values = values_.data();
      const Item* const items = items_.data();
      candidate_parts_.assign(items_.size() * t, 0.0);
      double* const parts = candidate_parts_.data();
      while (candidate_values_.size() < t)
        candidate_values_.emplace_back(
            Kokkos::view_alloc(std::string("kmeans_row_values"), Kokkos::WithoutInitializing), n_);
      std::vector<double*> kept_of(t);
      for (std::size_t p = 0; p < t; ++p) kept_of[p] = candidate_values_[p].data();
      double* const* const kept = kept_of.data();
      for_items([=](std::size_t i, const double* xt, double*) {
        const Item& it = items[i];
        detail::block_potentials(xt, values + it.begin, it.end - it.begin, d, P.data(), t,
                                 parts + i * t, kept, it.begin);
      });
      const std::vector<double> all = chunk_totals(candidate_parts_, t);
      for (std::size_t c = 0; c < X_.grid().chunks(); ++c)
        for (std::size_t p = 0; p < t; ++p) out[p] += all[c * t + p];
    } else {
      const Vector saved("kmeans_saved", n_);
      Kokkos::deep_copy(saved, values_);
      for (std::size_t p = 0; p < t; ++p) {
        Kokkos::deep_copy(values_, saved);
        device_min_distances(Kokkos::subview(points, std::make_pair(p, p + 1), Kokkos::ALL), false);
        out[p] = ordered_sum();
      }
      Kokkos::deep_copy(values_, saved);
    }
    return out;
  }

  // values_ = min(values_, squared distance to candidate p of the last potentials(points)),
  // as min_distances(that point) would make it (host: the values potentials kept, swapped
  // in); returns the per-chunk sums, all chunks of the grid, in order.
  std::vector<double> take_candidate(const HostMatrix& points, std::size_t p) {
    if constexpr (kHost) {
      const std::size_t t = points.extent(0);
      std::swap(values_, candidate_values_[p]);
      item_sums_.resize(items_.size());
      for (std::size_t i = 0; i < items_.size(); ++i) item_sums_[i] = candidate_parts_[i * t + p];
      return chunk_totals(item_sums_, 1);
    } else {
      return min_distances(Kokkos::subview(points, std::make_pair(p, p + 1), Kokkos::ALL), false);
    }
  }

  // Σ values_ in chunk order (every rank gets the same bits).
  double ordered_sum() const { return total(chunk_sums()); }

  // Per-chunk sums of values_, all chunks of the grid, in order (on the host: each work
  // item's rows in lanes, the items of a chunk in order).
  std::vector<double> chunk_sums() const {
    if constexpr (kHost) {
      const double* const values = values_.data();
      const Item* const items = items_.data();
      std::vector<double> part(items_.size());
      double* const out = part.data();
      for_each_index<Kokkos::DefaultHostExecutionSpace>(
          "tessera::kmeans::item_sums", items_.size(), [=](const std::size_t i) {
            out[i] = detail::block_sum(values + items[i].begin, items[i].end - items[i].begin);
          });
      item_sums_ = part;
      return chunk_totals(part, 1);
    }
    Vector part("kmeans_chunk_values", local_chunks_);
    const Vector values = values_;
    const std::size_t chunk_rows = X_.chunk_rows(), n = n_;
    for_each_index<Exec>(
        "tessera::kmeans::chunk_sums", local_chunks_, KOKKOS_LAMBDA(const std::size_t c) {
          const std::size_t begin = c * chunk_rows,
                            end = begin + chunk_rows < n ? begin + chunk_rows : n;
          double s = 0;
          for (std::size_t r = begin; r < end; ++r) s += values(r);
          part(c) = s;
        });
    const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), part);
    return X_.comm().allgatherv(std::vector<double>(host.data(), host.data() + host.span()));
  }

  // The first global row where the running sum of values_ (rows in order) reaches
  // `target` (NumPy's searchsorted on a cumulative sum), clipped to the last row; chunk
  // totals as chunk_sums() or min_distances() gave them (which on the host also keep the
  // work items' sums, so that the owner scans one item's rows).
  std::int64_t search(const std::vector<double>& chunk_totals, double target) const {
    double before = 0;
    std::size_t chunk = 0;
    const std::size_t chunks = chunk_totals.size();
    while (chunk + 1 < chunks && before + chunk_totals[chunk] < target)
      before += chunk_totals[chunk++];
    // The chunk's owner scans its rows; the others report -1.
    std::int64_t found = -1;
    if (chunk >= X_.first_chunk() && chunk < X_.last_chunk()) {
      std::size_t begin = (chunk - X_.first_chunk()) * X_.chunk_rows();
      std::size_t end = std::min(n_, begin + X_.chunk_rows());
      if constexpr (kHost) {
        std::size_t i = begin_item_[chunk - X_.first_chunk()];
        while (i + 1 < items_.size() && items_[i + 1].chunk == items_[i].chunk &&
               before + item_sums_[i] < target)
          before += item_sums_[i++];
        begin = items_[i].begin, end = items_[i].end;
      }
      const auto host = Kokkos::create_mirror_view_and_copy(
          Kokkos::HostSpace(), Kokkos::subview(values_, std::make_pair(begin, end)));
      double running = before;
      std::size_t r = 0;
      for (; r < end - begin; ++r) {
        running += host(r);
        if (running >= target) break;
      }
      found = static_cast<std::int64_t>(X_.row_begin() + begin + std::min(r, end - begin - 1));
    }
    return X_.comm().allreduce(found, ReduceOp::max);
  }

  const array::DistMatrix<double, MemorySpace>& data() const { return X_; }

  void squared_distances_to_labelled() {
    const Matrix X = X_.local();
    const Matrix C = centers_;
    const Labels labels = labels_;
    const Vector values = values_;
    const std::size_t d = d_;
    for_each_index<Exec>(
        "tessera::kmeans::distances", n_, KOKKOS_LAMBDA(const std::size_t r) {
          const auto c = static_cast<std::size_t>(labels(r));
          double s = 0;
          for (std::size_t j = 0; j < d; ++j) s += (X(r, j) - C(c, j)) * (X(r, j) - C(c, j));
          values(r) = s;
        });
  }

 private:
  static constexpr std::size_t kBlock = 4096;
  static constexpr bool kHost =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemorySpace>::accessible;

  // The rows of `points` one after another (a copy only where they are strided), as the
  // host kernels read them.
  static HostMatrix contiguous(const HostMatrix& points) {
    if (points.span_is_contiguous()) return points;
    const HostMatrix copy = zeros("kmeans_points", points.extent(0), points.extent(1));
    Kokkos::deep_copy(copy, points);
    return copy;
  }

  // A host work item: rows [begin, end) of local chunk `chunk`.
  struct Item {
    std::size_t begin, end, chunk;
  };

  // f(item, xt, scratch) for every host work item, in parallel: xt the item's rows
  // transposed (d × kItemRows, zeros past its rows), scratch kItemRows doubles of the
  // thread's. With few features (the direct kernel's) the transposed rows are kept for the
  // whole fit, a copy of the data; otherwise each item is transposed into the thread's
  // scratch when needed.
  template <class F>
  void for_items(const F& f) {
    using HostExec = Kokkos::DefaultHostExecutionSpace;
    const std::size_t d = d_, block = d * detail::kItemRows;
    const Item* const items = items_.data();
    const double* const x = X_.local().data();
    const bool keep = d <= detail::kDirectMaxFeatures;
    if (keep && transposed_.empty()) {
      transposed_.resize(items_.size() * block);
      double* const to = transposed_.data();
      for_each_index<HostExec>(
          "tessera::kmeans::transpose", items_.size(), [=](const std::size_t i) {
            detail::transpose_rows(x + items[i].begin * d, items[i].end - items[i].begin, d,
                                   to + i * block);
          });
    }
    const double* const kept = transposed_.data();
    const Kokkos::Experimental::UniqueToken<HostExec> token;
    const std::size_t per = (keep ? 0 : block) + detail::kItemRows;
    if (scratch_.extent(0) < static_cast<std::size_t>(token.size()) * per)
      scratch_ = Vector("kmeans_scratch", static_cast<std::size_t>(token.size()) * per);
    double* const scratch = scratch_.data();
    const auto item = [=, &f](std::size_t i, double* mine) {
      if (keep) {
        f(i, kept + i * block, mine);
      } else {
        detail::transpose_rows(x + items[i].begin * d, items[i].end - items[i].begin, d, mine);
        f(i, mine, mine + block);
      }
    };
    if (token.size() == 1 || items_.size() == 1) {  // one thread's work: no parallel region
      for (std::size_t i = 0; i < items_.size(); ++i) item(i, scratch);
      return;
    }
    Kokkos::parallel_for("tessera::kmeans::items", Kokkos::RangePolicy<HostExec>(0, items_.size()),
                         [=, &item](const std::size_t i) {
                           const int id = token.acquire();
                           item(i, scratch + static_cast<std::size_t>(id) * per);
                           token.release(id);
                         });
  }

  // Per-chunk totals (`width` values per chunk) of per-item values, a chunk's items in
  // order: every chunk of the grid, in order.
  std::vector<double> chunk_totals(const std::vector<double>& per_item, std::size_t width) const {
    std::vector<double> mine(local_chunks_ * width, 0.0);
    for (std::size_t i = 0; i < items_.size(); ++i)
      for (std::size_t w = 0; w < width; ++w)
        mine[items_[i].chunk * width + w] += per_item[i * width + w];
    return X_.comm().allgatherv(mine);
  }

  // Labels rows [begin, end) (at most kBlockRows) of the local matrix on the host, in a
  // thread's scratch (`per` doubles); returns how many changed. With AVX-512 and FMA: the
  // FMA micro-kernel on the rows where they lie. Otherwise the centroids times the rows
  // in one serial GEMM into the scratch (centroids × rows: it stays in cache), then the
  // centroids scanned in order for every row together (the loop over rows vectorises):
  // ‖c‖² − 2 x·c, the first strict minimum wins, as scikit-learn.
  struct BlockLabeller {
    static constexpr std::size_t kBlockRows = 256;
    Matrix X, C;
    const double* norms;
    int* labels;
    std::size_t k, d, per;
    const double* ct = nullptr;  // the FMA kernel's transposed centroids and half norms
    const double* half = nullptr;
    std::size_t kpad = 0;
#if defined(TESSERA_X86_KERNELS)
    detail::Screen screen{};  // its float32 screen (screen.ct null: none)
#endif
    const double* row_norms = nullptr;  // the screens' row norms
    const float* c32 = nullptr;         // the BLAS path's float32 screen (null: none):
    const float* n32 = nullptr;         // the centroids (k × d) and ‖c‖², in float32
    double cmax = 0;                    // the largest centroid norm

    // Doubles of scratch a thread needs: the GEMM path's dots (k × rows); or the FMA
    // screen's float32 rows (4 at a time); or the BLAS screen's float32 rows, dots, best,
    // second and index (rows × (d + k + 3) 4-byte values); then the best values and indices.
    static std::size_t scratch_per(std::size_t k, std::size_t d) {
      return std::max({kBlockRows * k, 2 * d, kBlockRows * (d + k + 3) / 2 + 1}) + 2 * kBlockRows;
    }

    std::int64_t operator()(std::size_t begin, std::size_t end, double* mine) const {
      const std::size_t m = end - begin;
      const std::size_t lead = scratch_per(k, d) - 2 * kBlockRows;  // the dots' or floats'
      double* const best_d = mine + lead;
      double* const best = best_d + kBlockRows;  // centroid indices, as doubles
#if defined(TESSERA_X86_KERNELS)
      if (screen.ct) {
        detail::nearest_screened_fma(X.data() + begin * d, m, d, row_norms + begin, screen, ct,
                                     half, kpad, reinterpret_cast<float*>(mine), best);
      } else if (ct) {
        detail::nearest_fma(X.data() + begin * d, m, d, ct, half, kpad, best);
      } else
#endif
      {
        if (c32 && screened(begin, m, reinterpret_cast<float*>(mine), best))
          return detail::store_labels(best, m, labels + begin);
        const Matrix dots(mine, k, m);  // dots(c, r) = x_r · c
        linalg::gemm_serial(linalg::Op::none, linalg::Op::transpose, 1.0, C,
                            Kokkos::subview(X, std::make_pair(begin, end), Kokkos::ALL), 0.0, dots);
        detail::nearest_centroids(mine, norms, k, m, best_d, best);
      }
      return detail::store_labels(best, m, labels + begin);
    }

    // The BLAS path's float32 screen of rows begin .. begin + m − 1 in `floats` (scratch):
    // whether it decided every row (labels in best).
    bool screened(std::size_t begin, std::size_t m, float* floats, double* best) const {
      float* const xs = floats;                 // m × d
      float* const dots = xs + kBlockRows * d;  // k × m
      float* const b = dots + kBlockRows * k;
      float* const second = b + kBlockRows;
      int* const index = reinterpret_cast<int*>(second + kBlockRows);
      const double* x = X.data() + begin * d;
      for (std::size_t i = 0; i < m * d; ++i) xs[i] = static_cast<float>(x[i]);
      using M32 = linalg::HostMatrix32;
      linalg::gemm_serial(linalg::Op::none, linalg::Op::transpose, 1.0f,
                          M32(const_cast<float*>(c32), k, d), M32(xs, m, d), 0.0f, M32(dots, k, m));
      return detail::nearest_screened(dots, n32, k, m, d, row_norms + begin, cmax, b, second, index,
                                      best);
    }
  };

  // ‖x_r‖ of the local rows on the host, computed on first use.
  const double* row_norms() {
    if (row_norms_.empty() && n_ > 0) {
      row_norms_.resize(n_);
      double* const to = row_norms_.data();
      const double* const x = X_.local().data();
      const std::size_t d = d_;
      Kokkos::parallel_for("tessera::kmeans::row_norms",
                           Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, n_),
                           [=](const std::size_t r) {
                             double q = 0;
                             for (std::size_t j = 0; j < d; ++j) q += x[r * d + j] * x[r * d + j];
                             to[r] = std::sqrt(q);
                           });
    }
    return row_norms_.data();
  }

  // A BlockLabeller for the loaded centroids (the FMA kernel's operands packed), with the
  // scratch grown to its size for every thread.
  BlockLabeller labeller(std::size_t threads) {
    BlockLabeller b{X_.local(),
                    centers_,
                    c_norms_.data(),
                    labels_.data(),
                    k_,
                    d_,
                    BlockLabeller::scratch_per(k_, d_)};
    const detail::KernelChoice choice = detail::kernel_choice();
    double cmax = 0;  // the largest centroid norm (NaN if one is NaN)
    for (std::size_t c = 0; c < k_; ++c) cmax = std::max(cmax, std::sqrt(c_norms_(c)));
    for (std::size_t c = 0; c < k_; ++c)  // NaN slips past max
      if (std::isnan(c_norms_(c))) cmax = __builtin_nan("");
    const bool screen = !choice.float64 && detail::screen_worth(d_, cmax);
#if defined(TESSERA_X86_KERNELS)
    if (tessera::detail::cpu_has_avx512_fma() && !choice.blas) {
      const std::size_t kpad = (k_ + detail::kLanes - 1) / detail::kLanes * detail::kLanes;
      packed_.assign(d_ * kpad + kpad, 0.0);
      double* const half = packed_.data() + d_ * kpad;
      for (std::size_t c = 0; c < kpad; ++c) {
        half[c] = c < k_ ? 0.5 * c_norms_(c) : __builtin_huge_val();
        for (std::size_t j = 0; c < k_ && j < d_; ++j) packed_[j * kpad + c] = centers_(c, j);
      }
      b.ct = packed_.data(), b.half = half, b.kpad = kpad;
      if (screen) {
        const std::size_t kpad32 = (k_ + 15) / 16 * 16;
        packed32_.assign(d_ * kpad32 + kpad32, 0.0f);
        float* const half32 = packed32_.data() + d_ * kpad32;
        for (std::size_t c = 0; c < kpad32; ++c) {
          half32[c] = c < k_ ? static_cast<float>(half[c]) : __builtin_huge_valf();
          for (std::size_t j = 0; c < k_ && j < d_; ++j)
            packed32_[j * kpad32 + c] = static_cast<float>(centers_(c, j));
        }
        b.screen = {packed32_.data(), half32, kpad32, cmax, detail::ScreenBound(d_ + 3, d_)};
        b.row_norms = row_norms();
      }
    }
#endif
    if (!b.ct && screen) {  // the BLAS path's screen
      packed32_.assign(k_ * d_ + k_, 0.0f);
      for (std::size_t c = 0; c < k_; ++c) {
        for (std::size_t j = 0; j < d_; ++j)
          packed32_[c * d_ + j] = static_cast<float>(centers_(c, j));
        packed32_[k_ * d_ + c] = static_cast<float>(c_norms_(c));
      }
      b.c32 = packed32_.data(), b.n32 = packed32_.data() + k_ * d_, b.cmax = cmax;
      b.row_norms = row_norms();
    }
    if (scratch_.extent(0) < threads * b.per) scratch_ = Vector("kmeans_scratch", threads * b.per);
    linalg::prepare_serial();
    return b;
  }

  // assign on the host, a work item (a block of rows) at a time. Few features: the direct
  // kernel on the item's rows transposed; otherwise a BlockLabeller.
  std::int64_t assign_host() {
    ++assigns_since_sums_;
    moves_listed_ = false;
    if (d_ <= detail::kDirectMaxFeatures) {
#if defined(TESSERA_X86_KERNELS)
      moves_listed_ = detail::compress_available();
#endif
      return assign_direct();
    }
    using HostExec = Kokkos::DefaultHostExecutionSpace;
    constexpr std::size_t kRows = BlockLabeller::kBlockRows;  // fixed, not per thread
    const Kokkos::Experimental::UniqueToken<HostExec> token;
    const BlockLabeller label = labeller(static_cast<std::size_t>(token.size()));
    double* const scratch = scratch_.data();
    const std::size_t n = n_;
    std::int64_t changed = 0;
    const std::size_t blocks = (n + kRows - 1) / kRows;
    if (token.size() == 1 || blocks <= 1) {  // one thread's work: no parallel region
      for (std::size_t b = 0; b < blocks; ++b)
        changed += label(b * kRows, std::min(n, (b + 1) * kRows), scratch);
      return changed;
    }
    Kokkos::parallel_reduce(
        "tessera::kmeans::assign_rows", Kokkos::RangePolicy<HostExec>(0, blocks),
        [=](const std::size_t b, std::int64_t& count) {
          const int id = token.acquire();
          count += label(b * kRows, std::min(n, (b + 1) * kRows),
                         scratch + static_cast<std::size_t>(id) * label.per);
          token.release(id);
        },
        changed);
    return changed;
  }

  std::int64_t assign_direct() {
    const std::size_t d = d_, k = k_;
    std::vector<double> half(k);
    for (std::size_t c = 0; c < k; ++c) half[c] = 0.5 * c_norms_(c);
    const double* const h = half.data();
    const double* const C = centers_.data();
    int* const labels = labels_.data();
    const Item* const items = items_.data();
    moved_count_.resize(items_.size());
    std::int64_t* const count = moved_count_.data();
    [[maybe_unused]] const detail::KernelChoice choice = detail::kernel_choice();  // (checked)
#if defined(TESSERA_X86_KERNELS)
    const bool fma = tessera::detail::cpu_has_avx512_fma() && !choice.blas;
    const bool listing = moves_listed_;
    moved_.resize(n_);
    int* const moved = moved_.data();
#endif
    for_items([=](std::size_t i, const double* xt, double* best) {
      const Item& it = items[i];
      const std::size_t m = it.end - it.begin;
#if defined(TESSERA_X86_KERNELS)
      if (fma)
        detail::nearest_direct_fma(xt, m, d, C, h, k, best);
      else
#endif
        detail::nearest_direct(xt, m, d, C, h, k, best);
#if defined(TESSERA_X86_KERNELS)
      if (listing) {
        count[i] = detail::store_labels_listing(best, m, labels + it.begin, moved + it.begin);
        return;
      }
#endif
      count[i] = detail::store_labels(best, m, labels + it.begin);
    });
    return std::accumulate(moved_count_.begin(), moved_count_.end(), std::int64_t(0));
  }

  static double total(const std::vector<double>& parts) {
    double s = 0;
    for (double p : parts) s += p;
    return s;
  }

  const array::DistMatrix<double, MemorySpace>& X_;
  std::size_t n_, d_, k_, local_chunks_;
  Labels labels_;
  Vector values_;
  Matrix centers_;
  Vector c_norms_;
  Matrix block_dots_;
  Vector scratch_;
  using Sums = Kokkos::View<double***, Kokkos::LayoutRight, MemorySpace>;
  Sums chunk_sums_;                      // host: each local chunk's cluster sums for summed_labels_
  Labels summed_labels_;                 // ... the labels they were last brought to (-1: none)
  std::vector<Item> items_;              // host work items
  std::vector<std::size_t> begin_item_;  // the first item of each local chunk
  mutable std::vector<double> item_sums_;  // Σ values_ of each item, as last summed
  // host potentials: each candidate's row values and per-item sums (item-major)
  std::vector<Vector> candidate_values_;
  std::vector<double> candidate_parts_;
  std::vector<double> transposed_;  // their rows transposed, with few features (for_items)
  std::vector<double> packed_;      // the FMA kernel's centroids (labeller)
  std::vector<float> packed32_;     // ... and its float32 screen's
  std::vector<double> row_norms_;   // the screen's ‖x_r‖ of the local rows (once computed)
  // The direct assignment's moved rows: each item's list (indices in the item) from its
  // first row on, and their counts; valid for the sums when the last assignment was
  // direct and the only one since the sums.
  std::vector<int> moved_;
  std::vector<std::int64_t> moved_count_;
  int assigns_since_sums_ = 0;
  bool moves_listed_ = false;
};

// Counter streams of the initialisations (seed = params.seed, stream = run · 8 + kind).
enum Stream : std::uint64_t { kPlusplus = 1, kRandom = 2, kParallel = 3 };

CounterRng run_rng(std::uint64_t seed, int run, Stream s) {
  return CounterRng(seed, static_cast<std::uint64_t>(run) * 8 + s);
}

// Greedy k-means++ (scikit-learn's): 2 + ln k candidates drawn ∝ closest squared
// distance, the one that lowers the potential most kept.
template <class MemorySpace>
HostMatrix plusplus(Lloyd<MemorySpace>& L, int k, const CounterRng& rng) {
  const auto& X = L.data();
  const std::size_t n = X.rows();
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  std::vector<std::int64_t> chosen{static_cast<std::int64_t>(rng.integer(0, n))};
  std::vector<double> parts = L.min_distances(L.rows_at(chosen), true);
  std::uint64_t counter = 1;
  for (int c = 1; c < k; ++c) {
    double pot = 0;
    for (double p : parts) pot += p;
    std::vector<std::int64_t> candidates;
    for (int t = 0; t < trials; ++t)
      candidates.push_back(L.search(parts, rng.uniform(counter++) * pot));
    const HostMatrix points = L.rows_at(candidates);
    const std::vector<double> pots = L.potentials(points);
    const auto best =
        static_cast<std::size_t>(std::min_element(pots.begin(), pots.end()) - pots.begin());
    chosen.push_back(candidates[best]);
    parts = L.take_candidate(points, best);
  }
  return L.rows_at(chosen);
}

// k distinct rows (Floyd's sampling), in draw order.
template <class MemorySpace>
HostMatrix random_rows(Lloyd<MemorySpace>& L, int k, const CounterRng& rng) {
  const auto n = static_cast<std::int64_t>(L.data().rows());
  std::set<std::int64_t> taken;
  std::vector<std::int64_t> ids;
  std::uint64_t counter = 0;
  for (std::int64_t j = n - k; j < n; ++j) {
    const auto t =
        static_cast<std::int64_t>(rng.integer(counter++, static_cast<std::uint64_t>(j + 1)));
    const std::int64_t pick = taken.count(t) ? j : t;
    taken.insert(pick);
    ids.push_back(pick);
  }
  return L.rows_at(ids);
}

// Greedy k-means++ on a small weighted point set held by every rank.
HostMatrix weighted_plusplus(const HostMatrix& P, const std::vector<double>& w, int k,
                             const CounterRng& rng) {
  const std::size_t m = P.extent(0), d = P.extent(1);
  const auto dist = [&](std::size_t a, std::size_t b) {
    double s = 0;
    for (std::size_t j = 0; j < d; ++j) s += (P(a, j) - P(b, j)) * (P(a, j) - P(b, j));
    return s;
  };
  const auto draw = [&](const std::vector<double>& closest, double u) {
    double total = 0;
    for (std::size_t i = 0; i < m; ++i) total += w[i] * closest[i];
    double running = 0;
    for (std::size_t i = 0; i < m; ++i) {
      running += w[i] * closest[i];
      if (running >= u * total) return i;
    }
    return m - 1;
  };
  std::uint64_t counter = 0;
  std::vector<std::size_t> chosen{draw(w, rng.uniform(counter++))};  // ∝ weight
  std::vector<double> closest(m);
  for (std::size_t i = 0; i < m; ++i) closest[i] = dist(i, chosen[0]);
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  for (int c = 1; c < k; ++c) {
    std::size_t best = 0;
    double best_pot = std::numeric_limits<double>::infinity();
    for (int t = 0; t < trials; ++t) {
      const std::size_t cand = draw(closest, rng.uniform(counter++));
      double pot = 0;
      for (std::size_t i = 0; i < m; ++i) pot += w[i] * std::min(closest[i], dist(i, cand));
      if (pot < best_pot) best_pot = pot, best = cand;
    }
    chosen.push_back(best);
    for (std::size_t i = 0; i < m; ++i) closest[i] = std::min(closest[i], dist(i, best));
  }
  HostMatrix out("kmeans_init", static_cast<std::size_t>(k), d);
  for (std::size_t c = 0; c < chosen.size(); ++c)
    for (std::size_t j = 0; j < d; ++j) out(c, j) = P(chosen[c], j);
  return out;
}

// k-means|| (Bahmani et al. 2012): a first row, then 5 rounds that keep each row with
// probability min(1, 2k · closest / potential) (a draw keyed by round and global row:
// the same rows on any rank count); the sampled rows, weighted by the rows closest to
// them, are reduced to k by weighted k-means++.
template <class MemorySpace>
HostMatrix parallel_init(Lloyd<MemorySpace>& L, int k, const CounterRng& rng) {
  const auto& X = L.data();
  const std::size_t n = X.rows(), d = X.cols();
  std::vector<std::int64_t> ids{static_cast<std::int64_t>(rng.integer(0, n))};
  HostMatrix sampled = L.rows_at(ids);
  L.min_distances(sampled, true);
  const double oversample = 2.0 * k;
  constexpr int rounds = 5;
  for (int round = 0; round < rounds; ++round) {
    const double pot = L.ordered_sum();
    if (!(pot > 0)) break;
    const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), L.values());
    std::vector<double> picked;  // rows' values, in global row order across ranks
    for (std::size_t r = 0; r < host.extent(0); ++r) {
      const std::uint64_t row = X.row_begin() + r;
      const double p = std::min(1.0, oversample * host(r) / pot);
      if (rng.uniform(1 + static_cast<std::uint64_t>(round) * n + row) < p) {
        const auto x = Kokkos::create_mirror_view_and_copy(
            Kokkos::HostSpace(), Kokkos::subview(X.local(), r, Kokkos::ALL));
        picked.insert(picked.end(), x.data(), x.data() + d);
      }
    }
    const std::vector<double> all = X.comm().allgatherv(picked);
    if (all.empty()) continue;
    HostMatrix fresh("kmeans_sampled", all.size() / d, d);
    std::copy(all.begin(), all.end(), fresh.data());
    L.min_distances(fresh, false);
    HostMatrix grown("kmeans_sampled", sampled.extent(0) + fresh.extent(0), d);
    Kokkos::deep_copy(
        Kokkos::subview(grown, std::make_pair(std::size_t(0), sampled.extent(0)), Kokkos::ALL),
        sampled);
    Kokkos::deep_copy(
        Kokkos::subview(grown, std::make_pair(sampled.extent(0), grown.extent(0)), Kokkos::ALL),
        fresh);
    sampled = grown;
  }
  if (sampled.extent(0) < static_cast<std::size_t>(k)) return random_rows(L, k, rng);
  // Weights: rows closest to each sampled point (integers: exact in any order).
  Lloyd<MemorySpace> nearest(X, static_cast<int>(sampled.extent(0)));
  nearest.assign(sampled);
  const std::vector<double> counts = nearest.cluster_sums().second;
  return weighted_plusplus(sampled, counts, k, CounterRng(rng.seed(), rng.stream() + 4));
}

}  // namespace

KMeans::KMeans(KMeansParams params) : params_(std::move(params)) { params_.validate(); }

template <class MemorySpace>
KMeans& KMeans::fit_impl(const array::DistMatrix<double, MemorySpace>& X) {
  params_.validate();
  const int k = params_.k;
  const std::size_t n = X.rows(), d = X.cols();
  if (static_cast<std::size_t>(k) > n)
    throw InvalidArgument(fmt::format("KMeans::fit: k = {} is more than the {} rows", k, n));
  TESSERA_EXPECTS(d >= 1, "KMeans::fit: the data has no columns");
  if (params_.init == KMeansInit::given && params_.initial_centers.extent(1) != d)
    throw InvalidArgument(
        fmt::format("KMeans::fit: the initial centroids have {} columns, the data {}",
                    params_.initial_centers.extent(1), d));
  const array::ColumnStats stats = array::column_stats(X);
  impl::require_finite(stats, "KMeans::fit");
  impl::require_squares_finite(stats, "KMeans::fit");
  // scikit-learn's tolerance: tol × the mean of the columns' variances.
  double tol = 0;
  for (const auto& c : stats.columns) tol += c.std * c.std;
  tol = tol / static_cast<double>(d) * params_.tol;
  Lloyd<MemorySpace> L(X, k);
  const int runs = params_.init == KMeansInit::given ? 1 : params_.n_init;
  bool have_best = false;
  for (int run = 0; run < runs; ++run) {
    HostMatrix c;
    switch (params_.init) {
      case KMeansInit::given:
        c = HostMatrix("kmeans_centers", static_cast<std::size_t>(k), d);
        Kokkos::deep_copy(c, params_.initial_centers);
        break;
      case KMeansInit::kmeans_plusplus:
        c = plusplus(L, k, run_rng(params_.seed, run, kPlusplus));
        break;
      case KMeansInit::random: c = random_rows(L, k, run_rng(params_.seed, run, kRandom)); break;
      case KMeansInit::kmeans_parallel:
        c = parallel_init(L, k, run_rng(params_.seed, run, kParallel));
        break;
    }
    // scikit-learn's _kmeans_single_lloyd, step for step.
    L.reset_labels();
    bool strict = false;
    int iterations = 0;
    while (iterations < params_.max_iter) {
      ++iterations;
      const std::int64_t changed = X.comm().allreduce(L.assign(c), ReduceOp::sum);
      auto [sums, counts] = L.cluster_sums();
      std::vector<std::size_t> empty;
      for (std::size_t cl = 0; cl < counts.size(); ++cl)
        if (counts[cl] == 0) empty.push_back(cl);
      if (!empty.empty()) {  // the rows farthest from their centroids start the empty ones
        const auto far = L.farthest(empty.size());
        std::vector<std::int64_t> ids;
        for (const auto& f : far) ids.push_back(f.second);
        const HostMatrix rows = L.rows_at(ids);
        const std::vector<int> from = L.labels_at(ids);
        for (std::size_t e = 0; e < far.size(); ++e) {
          const auto old = static_cast<std::size_t>(from[e]);
          for (std::size_t j = 0; j < d; ++j) {
            sums(old, j) -= rows(e, j);
            sums(empty[e], j) = rows(e, j);
          }
          counts[empty[e]] = 1;
          counts[old] -= 1;
        }
      }
      HostMatrix next = zeros("kmeans_centers", static_cast<std::size_t>(k), d);
      double shift = 0;
      for (std::size_t cl = 0; cl < static_cast<std::size_t>(k); ++cl) {
        const double scale = counts[cl] > 0 ? 1.0 / counts[cl] : 1.0;
        for (std::size_t j = 0; j < d; ++j) {
          next(cl, j) = sums(cl, j) * scale;
          shift += (next(cl, j) - c(cl, j)) * (next(cl, j) - c(cl, j));
        }
      }
      c = next;
      if (changed == 0) {
        strict = true;
        break;
      }
      if (shift <= tol) break;
    }
    if (!strict) L.assign(c);  // labels of the final centroids
    L.load_centers(c);
    const double inertia = L.inertia();
    if (!have_best || inertia < inertia_) {
      have_best = true;
      centers_ = c;
      inertia_ = inertia;
      n_iter_ = iterations;
      labels_ = Kokkos::View<int*, Kokkos::HostSpace>("kmeans_labels", L.rows());
      Kokkos::deep_copy(labels_, L.labels());
    }
  }
  return *this;
}

KMeans& KMeans::fit(const array::DistMatrix<double, Kokkos::HostSpace>& X) { return fit_impl(X); }
#if defined(KOKKOS_ENABLE_CUDA)
KMeans& KMeans::fit(const array::DistMatrix<double, Kokkos::CudaSpace>& X) { return fit_impl(X); }
#endif

KMeans& KMeans::fit(const HostMatrix& X) { return fit_impl(array::whole(X)); }

KMeans& KMeans::fit_minibatch(const Comm& comm, io::ChunkSource& source, std::size_t batch_rows) {
  params_.validate();
  const int k = params_.k;
  const std::size_t n = source.rows(), d = source.cols();
  TESSERA_EXPECTS(
      batch_rows >= 4,
      fmt::format("KMeans::fit_minibatch: batch_rows must be >= 4, got {}", batch_rows));
  if (static_cast<std::size_t>(k) > n)
    throw InvalidArgument(fmt::format("KMeans::fit: k = {} is more than the {} rows", k, n));
  constexpr std::size_t group = 4;  // chunks per step
  const array::ChunkGrid grid{n, batch_rows / group};
  const std::size_t chunks = grid.chunks(), steps = (chunks + group - 1) / group;
  const std::size_t first = grid.first_chunk(comm.rank(), comm.size());
  const std::size_t last = grid.first_chunk(comm.rank() + 1, comm.size());
  const auto read_rows = [&](std::size_t begin, std::size_t end) {
    HostMatrix rows(Kokkos::view_alloc(std::string("minibatch_rows"), Kokkos::WithoutInitializing),
                    end - begin, d);
    source.read(begin, rows);
    for (std::size_t i = 0; i < rows.extent(0); ++i) {
      double norm2 = 0;
      for (std::size_t j = 0; j < d; ++j) {
        if (!std::isfinite(rows(i, j)))
          throw InvalidArgument(fmt::format(
              "KMeans::fit_minibatch: row {}, column {} is not finite (remove or impute missing "
              "values first)",
              begin + i, j));
        norm2 += rows(i, j) * rows(i, j);
      }
      if (!std::isfinite(4 * norm2))  // squared distances reach 4 squared norms
        throw InvalidArgument(fmt::format(
            "KMeans::fit_minibatch: row {} is too large to square in double precision (values "
            "beyond about 1e154): scale the data first",
            begin + i));
    }
    return rows;
  };
  // Start and tolerance from the first rows, which every rank reads.
  const HostMatrix sample = agree(comm, [&] { return read_rows(0, std::min(n, 3 * batch_rows)); });
  const auto S = array::whole(sample);
  const array::ColumnStats stats = array::column_stats(S);
  double tol = 0;
  for (const auto& c : stats.columns) tol += c.std * c.std;
  tol = tol / static_cast<double>(d) * params_.tol;
  HostMatrix centers;
  {
    Lloyd<Kokkos::HostSpace> L(S, k);
    switch (params_.init) {
      case KMeansInit::given:
        TESSERA_EXPECTS(params_.initial_centers.extent(1) == d,
                        "KMeans::fit_minibatch: initial centroids of the wrong width");
        centers = HostMatrix("kmeans_centers", static_cast<std::size_t>(k), d);
        Kokkos::deep_copy(centers, params_.initial_centers);
        break;
      case KMeansInit::random:
        centers = random_rows(L, k, run_rng(params_.seed, 0, kRandom));
        break;
      default: centers = plusplus(L, k, run_rng(params_.seed, 0, kPlusplus)); break;
    }
  }
  std::vector<double> weight(static_cast<std::size_t>(k), 0.0);
  const std::size_t width = static_cast<std::size_t>(k) * (d + 1);
  // Per-cluster sums (and counts, column d) of one chunk's rows for the current centroids.
  const auto chunk_sums = [&](std::size_t c, std::vector<double>& out) {
    const HostMatrix rows = read_rows(grid.chunk_begin(c), grid.chunk_begin(c + 1));
    const auto R = array::whole(rows, rows.extent(0) + 1);
    Lloyd<Kokkos::HostSpace> L(R, k);
    L.assign(centers);
    const auto [sums, counts] = L.cluster_sums();
    for (std::size_t cl = 0; cl < static_cast<std::size_t>(k); ++cl) {
      for (std::size_t j = 0; j < d; ++j) out.push_back(sums(cl, j));
      out.push_back(counts[cl]);
    }
  };
  int epoch = 0;
  for (; epoch < params_.max_iter;) {
    ++epoch;
    const HostMatrix start = HostMatrix("kmeans_epoch_start", static_cast<std::size_t>(k), d);
    Kokkos::deep_copy(start, centers);
    // Steps in a seeded order; step s takes chunks s, s + steps, s + 2·steps, ...
    std::vector<std::size_t> order(steps);
    std::iota(order.begin(), order.end(), std::size_t(0));
    const CounterRng shuffle(params_.seed, 100 + static_cast<std::uint64_t>(epoch));
    for (std::size_t i = steps; i > 1; --i) std::swap(order[i - 1], order[shuffle.integer(i, i)]);
    for (const std::size_t s : order) {
      std::vector<double> mine;
      agree(comm, [&] {
        for (std::size_t c = s; c < chunks; c += steps)
          if (c >= first && c < last) chunk_sums(c, mine);
      });
      // Every rank's chunks of the step, in chunk order (ranks hold ascending chunks).
      const std::vector<double> all = comm.allgatherv(mine);
      HostMatrix sum("kmeans_batch_sums", static_cast<std::size_t>(k), d);
      std::vector<double> count(static_cast<std::size_t>(k), 0.0);
      for (std::size_t off = 0; off < all.size(); off += width)
        for (std::size_t cl = 0; cl < static_cast<std::size_t>(k); ++cl) {
          for (std::size_t j = 0; j < d; ++j) sum(cl, j) += all[off + cl * (d + 1) + j];
          count[cl] += all[off + cl * (d + 1) + d];
        }
      for (std::size_t cl = 0; cl < static_cast<std::size_t>(k); ++cl) {
        if (count[cl] == 0) continue;
        const double total = weight[cl] + count[cl];
        for (std::size_t j = 0; j < d; ++j)
          centers(cl, j) = (centers(cl, j) * weight[cl] + sum(cl, j)) / total;
        weight[cl] = total;
      }
    }
    double shift = 0;
    for (std::size_t cl = 0; cl < static_cast<std::size_t>(k); ++cl)
      for (std::size_t j = 0; j < d; ++j)
        shift += (centers(cl, j) - start(cl, j)) * (centers(cl, j) - start(cl, j));
    if (shift <= tol) break;
  }
  // Labels and inertia: one more pass, each rank its chunks.
  std::vector<int> labels;
  std::vector<double> parts;
  agree(comm, [&] {
    for (std::size_t c = first; c < last; ++c) {
      const HostMatrix rows = read_rows(grid.chunk_begin(c), grid.chunk_begin(c + 1));
      const auto R = array::whole(rows, rows.extent(0) + 1);
      Lloyd<Kokkos::HostSpace> L(R, k);
      L.assign(centers);
      L.load_centers(centers);
      parts.push_back(L.inertia());
      const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), L.labels());
      labels.insert(labels.end(), host.data(), host.data() + host.extent(0));
    }
  });
  inertia_ = 0;
  for (double v : comm.allgatherv(parts)) inertia_ += v;  // chunk order
  centers_ = centers;
  n_iter_ = epoch;
  labels_ = Kokkos::View<int*, Kokkos::HostSpace>("kmeans_labels", labels.size());
  std::copy(labels.begin(), labels.end(), labels_.data());
  return *this;
}

Kokkos::View<int*, Kokkos::HostSpace> KMeans::predict(const HostMatrix& X) const {
  TESSERA_EXPECTS(fitted(), "KMeans: the model is not fitted (call fit first)");
  TESSERA_EXPECTS(X.extent(1) == centers_.extent(1),
                  fmt::format("KMeans::predict: {} columns, the model has {}", X.extent(1),
                              centers_.extent(1)));
  const auto D = array::whole(X);
  Lloyd<Kokkos::HostSpace> L(D, params_.k);
  L.assign(centers_);
  Kokkos::View<int*, Kokkos::HostSpace> out("kmeans_predict", X.extent(0));
  Kokkos::deep_copy(out, L.labels());
  return out;
}

HostMatrix KMeans::transform(const HostMatrix& X) const {
  TESSERA_EXPECTS(fitted(), "KMeans: the model is not fitted (call fit first)");
  TESSERA_EXPECTS(X.extent(1) == centers_.extent(1),
                  fmt::format("KMeans::transform: {} columns, the model has {}", X.extent(1),
                              centers_.extent(1)));
  HostMatrix out("kmeans_distances", X.extent(0), centers_.extent(0));
  const HostMatrix C = centers_;
  const std::size_t d = X.extent(1);
  Kokkos::parallel_for("tessera::kmeans::transform",
                       Kokkos::MDRangePolicy<Kokkos::DefaultHostExecutionSpace, Kokkos::Rank<2>>(
                           {0, 0}, {X.extent(0), C.extent(0)}),
                       [=](const std::size_t r, const std::size_t c) {
                         double s = 0;
                         for (std::size_t j = 0; j < d; ++j)
                           s += (X(r, j) - C(c, j)) * (X(r, j) - C(c, j));
                         out(r, c) = std::sqrt(s);
                       });
  return out;
}

}  // namespace tessera::ml
