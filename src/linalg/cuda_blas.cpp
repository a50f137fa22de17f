// cuBLAS/cuSOLVER on CUDA memory (CUDA builds only). cuBLAS is column-major: a row-major
// matrix is its transpose in column-major, so C = op(A)op(B) is computed as
// Cᵀ = op(B)ᵀop(A)ᵀ.
#include <cublas_v2.h>
#include <cusolverDn.h>

#include <tessera/kernels/matrix_ops.hpp>

#include "checks.hpp"

#define TESSERA_CUBLAS_TRY(call)                                                                 \
  do {                                                                                           \
    const cublasStatus_t tessera_status_ = (call);                                               \
    if (tessera_status_ != CUBLAS_STATUS_SUCCESS)                                                \
      throw ::tessera::InternalError(std::string("cuBLAS call failed: ") + #call + " (status " + \
                                     std::to_string(tessera_status_) + ")");                     \
  } while (false)

#define TESSERA_CUSOLVER_TRY(call)                                                                 \
  do {                                                                                             \
    const cusolverStatus_t tessera_status_ = (call);                                               \
    if (tessera_status_ != CUSOLVER_STATUS_SUCCESS)                                                \
      throw ::tessera::InternalError(std::string("cuSOLVER call failed: ") + #call + " (status " + \
                                     std::to_string(tessera_status_) + ")");                       \
  } while (false)

namespace tessera::linalg {

using Cuda = Kokkos::CudaSpace;

namespace {

// One handle of each library per process, bound to the default Kokkos::Cuda stream and
// destroyed before Kokkos finalises.
cublasHandle_t cublas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    TESSERA_CUBLAS_TRY(cublasCreate(&h));
    Kokkos::push_finalize_hook([h] { cublasDestroy(h); });
    return h;
  }();
  TESSERA_CUBLAS_TRY(cublasSetStream(handle, Kokkos::Cuda().cuda_stream()));
  return handle;
}

cusolverDnHandle_t cusolver() {
  static cusolverDnHandle_t handle = [] {
    cusolverDnHandle_t h = nullptr;
    TESSERA_CUSOLVER_TRY(cusolverDnCreate(&h));
    Kokkos::push_finalize_hook([h] { cusolverDnDestroy(h); });
    return h;
  }();
  TESSERA_CUSOLVER_TRY(cusolverDnSetStream(handle, Kokkos::Cuda().cuda_stream()));
  return handle;
}

cublasOperation_t to_cublas(Op op) { return op == Op::none ? CUBLAS_OP_N : CUBLAS_OP_T; }

}  // namespace

void gemm(Op op_a, Op op_b, double alpha, const Matrix<Cuda>& A, const Matrix<Cuda>& B, double beta,
          const Matrix<Cuda>& C) {
  const auto s = detail::check_gemm(op_a, op_b, A, B, C);
  if (s.m == 0 || s.n == 0) return;
  TESSERA_CUBLAS_TRY(cublasDgemm(cublas(), to_cublas(op_b), to_cublas(op_a), s.n, s.m, s.k, &alpha,
                                 B.data(), static_cast<int>(B.extent(1)), A.data(),
                                 static_cast<int>(A.extent(1)), &beta, C.data(),
                                 static_cast<int>(C.extent(1))));
}

void gram(double alpha, const Matrix<Cuda>& A, double beta, const Matrix<Cuda>& C) {
  detail::check_gram(A, C);
  const int n = static_cast<int>(A.extent(0)), d = static_cast<int>(A.extent(1));
  if (d == 0) return;
  // Row-major A (n x d) is column-major Aᵀ (d x n): AᵀA = M·Mᵀ with M = Aᵀ.
  TESSERA_CUBLAS_TRY(cublasDsyrk(cublas(), CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, d, n, &alpha,
                                 A.data(), d, &beta, C.data(), d));
  // Column-major lower = row-major upper.
  tessera::detail::mirror_upper_to_lower<Kokkos::Cuda>(C);
}

void eigh(const Matrix<Cuda>& A, const Vector<Cuda>& w, const Matrix<Cuda>& V) {
  detail::check_eigh(A, w, V);
  const int n = static_cast<int>(A.extent(0));
  if (n == 0) return;
  Matrix<Cuda> work("tessera::eigh::work", n, n);
  Kokkos::deep_copy(work, A);  // symmetric: the same in either layout
  int lwork = 0;
  TESSERA_CUSOLVER_TRY(cusolverDnDsyevd_bufferSize(cusolver(), CUSOLVER_EIG_MODE_VECTOR,
                                                   CUBLAS_FILL_MODE_UPPER, n, work.data(), n,
                                                   w.data(), &lwork));
  Kokkos::View<double*, Cuda> buffer("tessera::eigh::buffer", static_cast<std::size_t>(lwork));
  Kokkos::View<int, Cuda> info("tessera::eigh::info");
  TESSERA_CUSOLVER_TRY(cusolverDnDsyevd(cusolver(), CUSOLVER_EIG_MODE_VECTOR,
                                        CUBLAS_FILL_MODE_UPPER, n, work.data(), n, w.data(),
                                        buffer.data(), lwork, info.data()));
  int host_info = 0;
  Kokkos::deep_copy(host_info, info);
  if (host_info != 0)
    throw InternalError("tessera::linalg::eigh: cusolverDnDsyevd failed (info " +
                        std::to_string(host_info) + ")");
  // Column-major eigenvectors: vector k is row k of `work` read row-major.
  tessera::detail::transpose_square<Kokkos::Cuda>(work, V);
  Kokkos::fence();
}

}  // namespace tessera::linalg
