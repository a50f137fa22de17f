// BLAS/LAPACK on host memory (OpenBLAS + LAPACKE).
//
// Results must not depend on the thread count, and a multithreaded BLAS splits its work
// by the number of threads (OpenBLAS's dgemm and dsyevd give different bits with 1 and 2
// threads). So BLAS runs single-threaded here, and the wrappers split large products
// themselves into blocks of a fixed size, run in parallel by Kokkos host threads: each
// block's result is the same whoever computes it.
#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>

#include <tessera/kernels/math.hpp>
#include <tessera/kernels/matrix_ops.hpp>

#include "checks.hpp"

// The Gram micro-kernel (AVX-512 intrinsics, used where the CPU has them); other builds
// call dsyrk.
#if defined(TESSERA_X86_KERNELS)
#include <immintrin.h>
#endif

// The vendors' thread controls and OpenBLAS's kernel selection, if the linked BLAS has
// them (weak: absent is fine).
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
void mkl_set_num_threads(int) __attribute__((weak));
void bli_thread_set_num_threads(long) __attribute__((weak));
char* openblas_get_corename() __attribute__((weak));
char* openblas_get_config() __attribute__((weak));
void gotoblas_dynamic_init() __attribute__((weak));
void gotoblas_dynamic_quit() __attribute__((weak));
}

namespace tessera::linalg {

using Host = Kokkos::HostSpace;

namespace {

// What OpenBLAS chose before select_openblas_kernels changed it (null: unchanged); one of
// OpenBLAS's own static names.
const char* openblas_fallback = nullptr;

// OpenBLAS built for several CPUs (DYNAMIC_ARCH, as Debian's) picks its kernels by CPU
// model when it is loaded, and falls back to its SSE-era kernels for models newer than
// itself: Debian 12's 0.3.21 runs Prescott's on Sapphire and Emerald Rapids (dgemm 50 × 50
// × 1000: 302 µs, against 94 µs with its SkylakeX kernels). On a CPU with AVX2 and FMA
// such a choice is a misdetection: choose again, as OPENBLAS_CORETYPE would, the AVX-512
// or AVX2 kernels. Runs when the library is loaded: after OpenBLAS's own start-up (a
// dependency's constructors run first), before any thread of ours exists. A user's
// OPENBLAS_CORETYPE is left alone.
__attribute__((constructor)) void select_openblas_kernels() {
#if defined(__x86_64__)
  if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return;
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const char* chosen = openblas_get_corename();
  if (chosen == nullptr) return;
  // Its SSE-era cores, as it names them. ("Unknown", its name before it has chosen, is not
  // among them: where it is linked statically our constructor may run before its own, and
  // then leaves it alone.)
  static constexpr std::array<std::string_view, 15> sse_era = {
      "Katmai", "Coppermine", "Northwood",     "Prescott",   "Banias",
      "Atom",   "Core2",      "Penryn",        "Dunnington", "Nehalem",
      "Athlon", "Opteron",    "Opteron(SSE3)", "Barcelona",  "Nano"};
  if (std::find(sse_era.begin(), sse_era.end(), std::string_view(chosen)) == sse_era.end()) return;
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return;
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512cd");
  setenv("OPENBLAS_CORETYPE", avx512 ? "SkylakeX" : "Haswell", 1);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");
  openblas_fallback = chosen;
#endif
}

void single_threaded_blas() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (openblas_set_num_threads) openblas_set_num_threads(1);
    if (mkl_set_num_threads) mkl_set_num_threads(1);
    if (bli_thread_set_num_threads) bli_thread_set_num_threads(1);
  });
}

// Rows (or columns) of C per block of a split product (fixed: the split does not depend
// on the thread count).
constexpr std::size_t kBlockRows = 256;
using HostExec = Kokkos::DefaultHostExecutionSpace;

#if defined(TESSERA_X86_KERNELS)
// AᵀA's upper triangle for a row-major A (n × d) of few columns, the block in cache: a
// dsyrk spends a third of its time packing A at these shapes (1024 × 64). C's rows
// i0 .. i0 + 3 against its columns j0 .. j0 + 8V − 1 accumulate in 4·V registers over all
// rows of A in order (a fused multiply-add per row, so the same bits whoever runs it);
// columns past d are loaded as zeros, rows past d repeat the last and are dropped.
template <int V>
__attribute__((target("avx512f,fma"))) void gram_tile(const double* A, std::size_t n, std::size_t d,
                                                      std::size_t i0, std::size_t j0, double alpha,
                                                      double beta, double* C) {
  __m512d acc[4][V];
  __mmask8 mask[V];
  for (int v = 0; v < V; ++v) {
    const std::size_t j = j0 + 8 * static_cast<std::size_t>(v);
    mask[v] = j + 8 <= d ? 0xff : static_cast<__mmask8>((1u << (d - j)) - 1);
    for (int ii = 0; ii < 4; ++ii) acc[ii][v] = _mm512_setzero_pd();
  }
  std::size_t at[4];
  for (std::size_t ii = 0; ii < 4; ++ii) at[ii] = std::min(i0 + ii, d - 1);
  for (std::size_t r = 0; r < n; ++r) {
    const double* row = A + r * d;
    __m512d b[V];
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) b[v] = _mm512_maskz_loadu_pd(mask[v], row + j0 + 8 * v);
#pragma GCC unroll 4
    for (int ii = 0; ii < 4; ++ii) {
      const __m512d a = _mm512_set1_pd(row[at[ii]]);
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) acc[ii][v] = _mm512_fmadd_pd(a, b[v], acc[ii][v]);
    }
  }
  alignas(64) double sums[4][8 * V];  // stored at constant places: acc stays in registers
#pragma GCC unroll 4
  for (int ii = 0; ii < 4; ++ii)
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) _mm512_store_pd(&sums[ii][8 * v], acc[ii][v]);
  for (std::size_t ii = 0; ii < 4 && i0 + ii < d; ++ii) {
    const std::size_t i = i0 + ii;
    for (std::size_t j = std::max(i, j0); j < std::min(d, j0 + 8 * V); ++j) {
      double& c = C[i * d + j];
      c = beta == 0 ? alpha * sums[ii][j - j0] : alpha * sums[ii][j - j0] + beta * c;
    }
  }
}

// Columns up to this many take the micro-kernel (a block of 1024 rows of them fits a
// 1 MB L2 cache); wider ones dsyrk.
constexpr std::size_t kGramKernelCols = 128;

void gram_upper_kernel(const double* A, std::size_t n, std::size_t d, double alpha, double beta,
                       double* C) {
  for (std::size_t i0 = 0; i0 < d; i0 += 4) {
    std::size_t j0 = i0 - i0 % 8;
    while (j0 < d) {
      const std::size_t vectors = std::min<std::size_t>(6, (d - j0 + 7) / 8);
      switch (vectors) {
        case 1: gram_tile<1>(A, n, d, i0, j0, alpha, beta, C); break;
        case 2: gram_tile<2>(A, n, d, i0, j0, alpha, beta, C); break;
        case 3: gram_tile<3>(A, n, d, i0, j0, alpha, beta, C); break;
        case 4: gram_tile<4>(A, n, d, i0, j0, alpha, beta, C); break;
        case 5: gram_tile<5>(A, n, d, i0, j0, alpha, beta, C); break;
        default: gram_tile<6>(A, n, d, i0, j0, alpha, beta, C); break;
      }
      j0 += 8 * vectors;
    }
  }
}
#endif

}  // namespace

void gemm(Op op_a, Op op_b, double alpha, const Matrix<Host>& A, const Matrix<Host>& B, double beta,
          const Matrix<Host>& C) {
  const auto s = detail::check_gemm(op_a, op_b, A, B, C);
  if (s.m == 0 || s.n == 0) return;
  single_threaded_blas();
  const auto ta = op_a == Op::none ? CblasNoTrans : CblasTrans;
  const auto tb = op_b == Op::none ? CblasNoTrans : CblasTrans;
  const int lda = static_cast<int>(A.extent(1)), ldb = static_cast<int>(B.extent(1)),
            ldc = static_cast<int>(C.extent(1));
  const auto m = static_cast<std::size_t>(s.m), n = static_cast<std::size_t>(s.n);
  const int k = s.k;
  const double* a = A.data();
  const double* b = B.data();
  double* c = C.data();
  const bool a_plain = op_a == Op::none, b_plain = op_b == Op::none;
  // Blocks of 256 rows of C, or of 256 columns when C is wider than tall (the split
  // depends on the shapes only). Rows r0.. of op(A) start at A + r0·lda (A as is) or
  // A + r0 (transposed); columns c0.. of op(B) at B + c0 (as is) or B + c0·ldb.
  const bool by_rows = m >= n;
  const std::size_t extent = by_rows ? m : n;
  const std::size_t blocks = (extent + kBlockRows - 1) / kBlockRows;
  const auto block = [=](const std::size_t blk) {
    const std::size_t x0 = blk * kBlockRows, len = std::min(kBlockRows, extent - x0);
    if (by_rows)
      cblas_dgemm(CblasRowMajor, ta, tb, static_cast<int>(len), static_cast<int>(n), k, alpha,
                  a + (a_plain ? x0 * static_cast<std::size_t>(lda) : x0), lda, b, ldb, beta,
                  c + x0 * static_cast<std::size_t>(ldc), ldc);
    else
      cblas_dgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(len), k, alpha, a,
                  lda, b + (b_plain ? x0 : x0 * static_cast<std::size_t>(ldb)), ldb, beta, c + x0,
                  ldc);
  };
  if (blocks == 1)
    block(0);  // no fork and join for one block
  else
    Kokkos::parallel_for("tessera::linalg::gemm_blocks", Kokkos::RangePolicy<HostExec>(0, blocks),
                         block);
}

void gram(double alpha, const Matrix<Host>& A, double beta, const Matrix<Host>& C) {
  detail::check_gram(A, C);
  const int n = static_cast<int>(A.extent(0)), d = static_cast<int>(A.extent(1));
  if (d == 0) return;
  single_threaded_blas();
  const auto cols = static_cast<std::size_t>(d);
  if (cols <= kBlockRows) {  // one syrk
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, n, alpha, A.data(), d, beta, C.data(), d);
    tessera::detail::mirror_upper_to_lower<HostExec>(C);
    Kokkos::fence();
    return;
  }
  // Many columns: blocks of C's rows, C(r0.., :) = A(:, r0..)ᵀ·A, each a single gemm.
  const double* a = A.data();
  double* c = C.data();
  const std::size_t blocks = (cols + kBlockRows - 1) / kBlockRows;
  Kokkos::parallel_for(
      "tessera::linalg::gram_blocks", Kokkos::RangePolicy<HostExec>(0, blocks),
      [=](const std::size_t blk) {
        const std::size_t r0 = blk * kBlockRows, rows = std::min(kBlockRows, cols - r0);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(rows), d, n, alpha,
                    a + r0, d, a, d, beta, c + r0 * cols, d);
      });
}

void prepare_serial() { single_threaded_blas(); }

std::string blas_kernels() {
  if (!openblas_get_config || !openblas_get_corename) return "BLAS";
  std::string config = openblas_get_config();  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..."
  const auto version_end = config.find(' ', config.find(' ') + 1);
  std::string s = config.substr(0, version_end) + ' ' + openblas_get_corename();
  if (openblas_fallback != nullptr)
    s += std::string(" (OpenBLAS chose ") + openblas_fallback +
         ", its SSE-era fallback for CPUs it does not know)";
  return s;
}

void gemm_serial(Op op_a, Op op_b, double alpha, const Matrix<Host>& A, const Matrix<Host>& B,
                 double beta, const Matrix<Host>& C) {
  const auto s = detail::check_gemm(op_a, op_b, A, B, C);
  if (s.m == 0 || s.n == 0) return;
  single_threaded_blas();
  cblas_dgemm(CblasRowMajor, op_a == Op::none ? CblasNoTrans : CblasTrans,
              op_b == Op::none ? CblasNoTrans : CblasTrans, s.m, s.n, s.k, alpha, A.data(),
              static_cast<int>(A.extent(1)), B.data(), static_cast<int>(B.extent(1)), beta,
              C.data(), static_cast<int>(C.extent(1)));
}

void gemm_serial(Op op_a, Op op_b, float alpha, const HostMatrix32& A, const HostMatrix32& B,
                 float beta, const HostMatrix32& C) {
  const auto s = detail::check_gemm(op_a, op_b, A, B, C);
  if (s.m == 0 || s.n == 0) return;
  single_threaded_blas();
  cblas_sgemm(CblasRowMajor, op_a == Op::none ? CblasNoTrans : CblasTrans,
              op_b == Op::none ? CblasNoTrans : CblasTrans, s.m, s.n, s.k, alpha, A.data(),
              static_cast<int>(A.extent(1)), B.data(), static_cast<int>(B.extent(1)), beta,
              C.data(), static_cast<int>(C.extent(1)));
}

void gram_upper_serial(double alpha, const Matrix<Host>& A, double beta, const Matrix<Host>& C) {
  detail::check_gram(A, C);
  const int n = static_cast<int>(A.extent(0)), d = static_cast<int>(A.extent(1));
  if (d == 0) return;
#if defined(TESSERA_X86_KERNELS)
  if (static_cast<std::size_t>(d) <= kGramKernelCols && tessera::detail::cpu_has_avx512_fma()) {
    gram_upper_kernel(A.data(), static_cast<std::size_t>(n), static_cast<std::size_t>(d), alpha,
                      beta, C.data());
    return;
  }
#endif
  single_threaded_blas();
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, n, alpha, A.data(), d, beta, C.data(), d);
}

void eigh(const Matrix<Host>& A, const Vector<Host>& w, const Matrix<Host>& V) {
  detail::check_eigh(A, w, V);
  const int n = static_cast<int>(A.extent(0));
  if (n == 0) return;
  single_threaded_blas();
  Kokkos::deep_copy(V, A);
  const lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', n, V.data(), n, w.data());
  if (info != 0)
    throw InternalError("tessera::linalg::eigh: LAPACKE_dsyevd failed (info " +
                        std::to_string(info) + ")");
}

void eigh_serial(const Matrix<Host>& A, const Vector<Host>& w, const Matrix<Host>& V) {
  detail::check_eigh(A, w, V);
  const auto n = static_cast<std::size_t>(A.extent(0));
  if (n == 0) return;
  double* v = V.data();
  if (v != A.data()) std::copy(A.data(), A.data() + n * n, v);
  // The row-major buffer read as column-major is Aᵀ: its lower triangle is A's upper one,
  // and no transposed copies are made. Eigenvector k comes back as row k: transposed.
  const lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', static_cast<lapack_int>(n), v,
                                         static_cast<lapack_int>(n), w.data());
  if (info != 0)
    throw InternalError("tessera::linalg::eigh_serial: LAPACKE_dsyevd failed (info " +
                        std::to_string(info) + ")");
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) std::swap(v[i * n + j], v[j * n + i]);
}

}  // namespace tessera::linalg
