#pragma once
/// @file
/// @brief `PCA`: principal components of row-distributed data (scikit-learn's `PCA`
/// results, signs included).
///
/// @code
/// tessera::ml::PCAParams p;
/// p.n_components = 8;
/// tessera::ml::PCA pca(p);
/// pca.fit(X);                                  // DistMatrix (collective) or HostMatrix
/// tessera::HostMatrix Z = pca.transform(rows); // rows × 8
/// @endcode
///
/// Randomized solver (many features): a Gaussian test matrix Ω (features × (k + 10)), Y =
/// (X − mean)·Ω orthonormalised over the ranks (eigendecomposition of the chunk-ordered
/// YᵀY, twice), power iterations through (X − mean)ᵀ, then the SVD of the small projected
/// matrix. Every product is summed chunk by chunk in global order, so it too is bitwise
/// the same on any rank count.
///
/// Covariance solver: the column means and covariance from per-chunk co-moments merged
/// in chunk order (one pass over the data, bitwise the same on any rank count), then a
/// symmetric eigensolver (LAPACK dsyevd; cuSOLVER for device data) on the features ×
/// features matrix — for feature counts up to a few thousand. Components' signs follow
/// scikit-learn's svd_flip: in each component's scores, the entry of largest magnitude is
/// positive (one more pass over the data).

#include <cstdint>
#include <string>
#include <vector>

#include <tessera/array/dist_matrix.hpp>
#include <tessera/array/reductions.hpp>
#include <tessera/io/chunk_source.hpp>
#include <tessera/io/table.hpp>

namespace tessera::ml {

/// @brief How PCA finds the components.
enum class PcaSolver {
  automatic,   ///< covariance up to 2000 features, randomized above
  covariance,  ///< eigendecomposition of the covariance matrix
  randomized,  ///< Halko, Martinsson & Tropp's range finder with power iterations
};

/// @brief "auto", "covariance", "randomized" (InvalidArgument otherwise).
PcaSolver parse_pca_solver(const std::string& name);

/// @brief Parameters of `PCA`.
struct PCAParams {
  /// Components kept; -1: min(rows, features).
  int n_components = -1;
  /// transform gives unit-variance scores (divided by sqrt(explained_variance)).
  bool whiten = false;
  PcaSolver solver = PcaSolver::automatic;
  /// Randomized solver: extra columns of the random projection, power iterations (-1:
  /// 7 when n_components < 0.1 · min(rows, features), else 4, as scikit-learn), seed of
  /// the counter-based Gaussian test matrix.
  int oversamples = 10;
  int power_iterations = -1;
  std::uint64_t seed = 0;
  /// @throws InvalidArgument naming the bad parameter.
  void validate() const;
};

/// @brief A fitted PCA model.
class PCA {
 public:
  explicit PCA(PCAParams params = {});

  /// @brief Fits the rows of X (collective over X's Comm).
  /// @throws InvalidArgument for n_components above min(rows, features), fewer than 2
  /// rows, NaN/inf in X (naming the row), whiten with a component of zero variance.
  PCA& fit(const array::DistMatrix<double, Kokkos::HostSpace>& X);
#if defined(KOKKOS_ENABLE_CUDA)
  PCA& fit(const array::DistMatrix<double, Kokkos::CudaSpace>& X);
#endif
  /// @brief Fits the rows of a matrix this process holds.
  PCA& fit(const HostMatrix& X);
  /// @brief Fits a file (or generator) streamed without holding it: each rank reads its
  /// chunks in batches within memory_limit bytes (0: about 64 MiB batches), twice (the
  /// covariance, then the scores that fix the signs). Bit for bit the fit of the whole
  /// matrix in a DistMatrix with the same chunk_rows (collective). Covariance solver
  /// only (InvalidArgument for randomized).
  PCA& fit(const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows = 65536,
           std::uint64_t memory_limit = 0);

  /// @brief Scores (X − mean)·componentsᵀ, divided by sqrt(explained_variance) with whiten.
  HostMatrix transform(const HostMatrix& X) const;
  /// @brief Rows back in feature space from scores (the inverse of transform on the
  /// components' span).
  HostMatrix inverse_transform(const HostMatrix& Z) const;

  const PCAParams& params() const { return params_; }
  bool fitted() const { return components_.extent(0) > 0; }
  /// n_components × features, rows by decreasing variance.
  const HostMatrix& components() const { return components_; }
  /// Variance along each component (divisor rows − 1).
  const std::vector<double>& explained_variance() const { return explained_variance_; }
  /// explained_variance / total variance.
  const std::vector<double>& explained_variance_ratio() const { return explained_variance_ratio_; }
  /// sqrt(explained_variance · (rows − 1)): the centred data's singular values.
  const std::vector<double>& singular_values() const { return singular_values_; }
  /// Column means.
  const std::vector<double>& mean() const { return mean_; }
  /// Mean variance of the components left out (0 when none is), as scikit-learn.
  double noise_variance() const { return noise_variance_; }
  std::size_t n_samples() const { return n_samples_; }

 private:
  template <class MemorySpace>
  PCA& fit_impl(const array::DistMatrix<double, MemorySpace>& X);
  void from_covariance(const array::Covariance& cov, std::size_t k);
  template <class MemorySpace>
  void randomized(const array::DistMatrix<double, MemorySpace>& X, std::size_t k);
  void set_spectrum(std::vector<double> ev, double total, std::size_t k, std::size_t n,
                    double noise);
  void flip(const std::vector<double>& signs);

  PCAParams params_;
  HostMatrix components_;
  std::vector<double> explained_variance_, explained_variance_ratio_, singular_values_, mean_;
  double noise_variance_ = 0.0;
  std::size_t n_samples_ = 0;
};

}  // namespace tessera::ml
