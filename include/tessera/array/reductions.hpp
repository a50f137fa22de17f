#pragma once
/// @file
/// @brief Reductions over a DistMatrix beyond per-column moments: covariance (and the
/// column means) by per-chunk co-moments merged in chunk order, and fixed-bin histograms.
/// Results are in host memory and the same on every rank and any rank count.

#include <cstdint>

#include <tessera/array/dist_matrix.hpp>
#include <tessera/io/table.hpp>

namespace tessera::array {

/// @brief Column means and covariance matrix of a DistMatrix (NaN propagates).
struct Covariance {
  std::size_t rows = 0;
  HostVector mean;  ///< (cols)
  HostMatrix cov;   ///< (cols, cols), divided by rows - ddof
};

/// @brief Covariance of the columns (numpy.cov(X, rowvar=False, ddof=ddof)); chunk
/// co-moments are merged pairwise in chunk order (Chan et al.), so it is stable and
/// reproducible (collective).
/// @throws InvalidArgument if rows - ddof <= 0.
Covariance covariance(const DistMatrix<double, Kokkos::HostSpace>& X, int ddof = 1);
#if defined(KOKKOS_ENABLE_CUDA)
Covariance covariance(const DistMatrix<double, Kokkos::CudaSpace>& X, int ddof = 1);
#endif

/// @brief The Gram matrix XᵀX (cols × cols), per-chunk products summed in chunk order
/// (reproducible on any rank count; collective).
HostMatrix gram(const DistMatrix<double, Kokkos::HostSpace>& X);
#if defined(KOKKOS_ENABLE_CUDA)
HostMatrix gram(const DistMatrix<double, Kokkos::CudaSpace>& X);
#endif

/// @brief Every element of a matrix summarised together in one pass: NumPy's X.size,
/// X.sum(), X.mean(), X.std(ddof) (NaN propagates as in NumPy), and the NaN count.
/// (Per-column and overall min/max and more: column_stats.)
struct Summary {
  double count = 0, nan_count = 0, sum = 0, mean = 0, std = 0;
};
/// @brief One read of the data: each chunk is cut into blocks of 2048 elements whose sum
/// and M2 about the block mean are computed while the block is in cache, with eight
/// vector lanes; blocks and chunks are merged (Chan et al.) in order, so the result is
/// bitwise identical on any number of ranks and threads (collective).
Summary summary(const DistMatrix<double, Kokkos::HostSpace>& X, double ddof = 0);
#if defined(KOKKOS_ENABLE_CUDA)
Summary summary(const DistMatrix<double, Kokkos::CudaSpace>& X, double ddof = 0);
#endif

/// @brief Per-column counts in `bins` equal bins over [lo, hi] (numpy.histogram with
/// range=(lo, hi): the last bin includes hi).
struct Histogram {
  double lo = 0, hi = 1;
  std::size_t bins = 10;
  Kokkos::View<std::int64_t**, Kokkos::LayoutRight, Kokkos::HostSpace> counts;  ///< (cols, bins)
  Kokkos::View<std::int64_t*, Kokkos::HostSpace> below, above, nan;             ///< (cols)
};

/// @brief Histograms of every column (collective).
/// @throws InvalidArgument unless lo < hi and bins >= 1.
Histogram histogram(const DistMatrix<double, Kokkos::HostSpace>& X, double lo, double hi,
                    std::size_t bins);
#if defined(KOKKOS_ENABLE_CUDA)
Histogram histogram(const DistMatrix<double, Kokkos::CudaSpace>& X, double lo, double hi,
                    std::size_t bins);
#endif

}  // namespace tessera::array
