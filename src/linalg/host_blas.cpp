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
#include <mutex>

#include <tessera/kernels/matrix_ops.hpp>

#include "checks.hpp"

// The vendors' thread controls, if the linked BLAS has them (weak: absent is fine).
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
void mkl_set_num_threads(int) __attribute__((weak));
void bli_thread_set_num_threads(long) __attribute__((weak));
}

namespace tessera::linalg {

using Host = Kokkos::HostSpace;

namespace {

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
  Kokkos::parallel_for(
      "tessera::linalg::gemm_blocks", Kokkos::RangePolicy<HostExec>(0, blocks),
      [=](const std::size_t blk) {
        const std::size_t x0 = blk * kBlockRows, len = std::min(kBlockRows, extent - x0);
        if (by_rows)
          cblas_dgemm(CblasRowMajor, ta, tb, static_cast<int>(len), static_cast<int>(n), k, alpha,
                      a + (a_plain ? x0 * static_cast<std::size_t>(lda) : x0), lda, b, ldb, beta,
                      c + x0 * static_cast<std::size_t>(ldc), ldc);
        else
          cblas_dgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(len), k, alpha,
                      a, lda, b + (b_plain ? x0 : x0 * static_cast<std::size_t>(ldb)), ldb, beta,
                      c + x0, ldc);
      });
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

void gram_upper_serial(double alpha, const Matrix<Host>& A, double beta, const Matrix<Host>& C) {
  detail::check_gram(A, C);
  const int n = static_cast<int>(A.extent(0)), d = static_cast<int>(A.extent(1));
  if (d == 0) return;
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

}  // namespace tessera::linalg
