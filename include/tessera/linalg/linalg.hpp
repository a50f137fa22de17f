#pragma once
/// @file
/// @brief Dense linear algebra on Kokkos Views, dispatched by memory space: BLAS/LAPACK
/// (OpenBLAS, LAPACKE) for host memory, cuBLAS/cuSOLVER for CUDA memory. Matrices are
/// row-major (LayoutRight) float64.
///
/// @code
/// tessera::linalg::Matrix<Kokkos::HostSpace> X("X", n, d), G("G", d, d);
/// tessera::linalg::gram(1.0, X, 0.0, G);          // G = XᵀX
/// tessera::linalg::eigh(G, w, V);                  // eigenvalues ascending, vectors in columns
/// @endcode

#include <string>

#include <Kokkos_Core.hpp>

namespace tessera::linalg {

/// Row-major float64 matrix in a memory space.
template <class MemorySpace>
using Matrix = Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>;
/// float64 vector in a memory space.
template <class MemorySpace>
using Vector = Kokkos::View<double*, MemorySpace>;

/// @brief Whether a gemm operand is used as is or transposed.
enum class Op { none, transpose };

/// @brief C = alpha·op(A)·op(B) + beta·C.
/// @throws InvalidArgument when the extents do not agree (naming them).
void gemm(Op op_a, Op op_b, double alpha, const Matrix<Kokkos::HostSpace>& A,
          const Matrix<Kokkos::HostSpace>& B, double beta, const Matrix<Kokkos::HostSpace>& C);

/// @brief C = alpha·AᵀA + beta·C (both triangles of C are written). A is n × d, C is d × d.
void gram(double alpha, const Matrix<Kokkos::HostSpace>& A, double beta,
          const Matrix<Kokkos::HostSpace>& C);

/// @brief Readies the host BLAS for the *_serial functions: call it outside any parallel
/// region before a host parallel loop that calls them (it makes the BLAS single-threaded,
/// once; done from inside an OpenMP region, that setting would not reach later calls).
void prepare_serial();

/// @brief gemm computed by the calling thread alone, in one BLAS call (no parallelism
/// inside): for use within a host parallel loop, after prepare_serial().
void gemm_serial(Op op_a, Op op_b, double alpha, const Matrix<Kokkos::HostSpace>& A,
                 const Matrix<Kokkos::HostSpace>& B, double beta,
                 const Matrix<Kokkos::HostSpace>& C);

/// Row-major float32 matrix in host memory (k-means' float32 screen).
using HostMatrix32 = Kokkos::View<float**, Kokkos::LayoutRight, Kokkos::HostSpace>;

/// @brief gemm_serial in float32 (sgemm).
void gemm_serial(Op op_a, Op op_b, float alpha, const HostMatrix32& A, const HostMatrix32& B,
                 float beta, const HostMatrix32& C);

/// @brief The upper triangle of C = alpha·AᵀA + beta·C computed by the calling thread
/// alone (no parallelism inside): for use within a host parallel loop, after
/// prepare_serial(). A's rows must be contiguous (stride = its columns).
void gram_upper_serial(double alpha, const Matrix<Kokkos::HostSpace>& A, double beta,
                       const Matrix<Kokkos::HostSpace>& C);

/// @brief The host BLAS and the kernels it runs, e.g. "OpenBLAS 0.3.21 SkylakeX (OpenBLAS
/// chose Prescott, its SSE3 fallback for CPUs it does not know)"; "BLAS" where the library
/// does not say. With OpenBLAS built for several CPUs, a CPU newer than the library (which
/// then falls back to its SSE3 kernels, about 3x slower in dgemm) gets the AVX2 or AVX-512
/// kernels it supports, unless OPENBLAS_CORETYPE is set.
std::string blas_kernels();

/// @brief Symmetric eigendecomposition A = V·diag(w)·Vᵀ (divide and conquer); A is not
/// changed; w ascending; eigenvector k is column k of V.
/// @throws InternalError if the solver does not converge.
void eigh(const Matrix<Kokkos::HostSpace>& A, const Vector<Kokkos::HostSpace>& w,
          const Matrix<Kokkos::HostSpace>& V);

/// @brief eigh computed by the calling thread alone (no parallelism inside, no Kokkos
/// dispatch): for use within a host parallel loop, after prepare_serial(). Only the upper
/// triangle of A is read; A may be V (then it is overwritten).
/// @throws InternalError if the solver does not converge.
void eigh_serial(const Matrix<Kokkos::HostSpace>& A, const Vector<Kokkos::HostSpace>& w,
                 const Matrix<Kokkos::HostSpace>& V);

#if defined(KOKKOS_ENABLE_CUDA)
/// @brief gemm on CUDA memory (cuBLAS), ordered on the default Kokkos::Cuda stream.
void gemm(Op op_a, Op op_b, double alpha, const Matrix<Kokkos::CudaSpace>& A,
          const Matrix<Kokkos::CudaSpace>& B, double beta, const Matrix<Kokkos::CudaSpace>& C);
/// @brief gram on CUDA memory (cuBLAS syrk).
void gram(double alpha, const Matrix<Kokkos::CudaSpace>& A, double beta,
          const Matrix<Kokkos::CudaSpace>& C);
/// @brief eigh on CUDA memory (cuSOLVER syevd).
void eigh(const Matrix<Kokkos::CudaSpace>& A, const Vector<Kokkos::CudaSpace>& w,
          const Matrix<Kokkos::CudaSpace>& V);
#endif

}  // namespace tessera::linalg
