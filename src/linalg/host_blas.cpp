// BLAS/LAPACK on host memory (OpenBLAS + LAPACKE).
#include <cblas.h>
#include <lapacke.h>

#include <tessera/kernels/matrix_ops.hpp>

#include "checks.hpp"

namespace tessera::linalg {

using Host = Kokkos::HostSpace;

void gemm(Op op_a, Op op_b, double alpha, const Matrix<Host>& A, const Matrix<Host>& B, double beta,
          const Matrix<Host>& C) {
  const auto s = detail::check_gemm(op_a, op_b, A, B, C);
  if (s.m == 0 || s.n == 0) return;
  cblas_dgemm(CblasRowMajor, op_a == Op::none ? CblasNoTrans : CblasTrans,
              op_b == Op::none ? CblasNoTrans : CblasTrans, s.m, s.n, s.k, alpha, A.data(),
              static_cast<int>(A.extent(1)), B.data(), static_cast<int>(B.extent(1)), beta,
              C.data(), static_cast<int>(C.extent(1)));
}

void gram(double alpha, const Matrix<Host>& A, double beta, const Matrix<Host>& C) {
  detail::check_gram(A, C);
  const int n = static_cast<int>(A.extent(0)), d = static_cast<int>(A.extent(1));
  if (d == 0) return;
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, n, alpha, A.data(), d, beta, C.data(), d);
  tessera::detail::mirror_upper_to_lower<Kokkos::DefaultHostExecutionSpace>(C);
  Kokkos::fence();
}

void eigh(const Matrix<Host>& A, const Vector<Host>& w, const Matrix<Host>& V) {
  detail::check_eigh(A, w, V);
  const int n = static_cast<int>(A.extent(0));
  if (n == 0) return;
  Kokkos::deep_copy(V, A);
  const lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', n, V.data(), n, w.data());
  if (info != 0)
    throw InternalError("tessera::linalg::eigh: LAPACKE_dsyevd failed (info " +
                        std::to_string(info) + ")");
}

}  // namespace tessera::linalg
