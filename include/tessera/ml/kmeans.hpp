#pragma once
/// @file
/// @brief `KMeans`: Lloyd's algorithm on row-distributed data (scikit-learn's
/// `KMeans(algorithm="lloyd")` semantics), with k-means++, random, k-means|| or given
/// initial centroids.
///
/// @code
/// tessera::ml::KMeansParams p;
/// p.k = 8;
/// p.n_init = 4;
/// tessera::ml::KMeans km(p);
/// km.fit(X);                       // DistMatrix (collective) or a HostMatrix
/// km.cluster_centers();            // k × d, the same on every rank
/// km.labels();                     // this rank's rows
/// @endcode
///
/// Each iteration assigns rows to the nearest centroid with one GEMM per block of rows
/// (‖c‖² − 2 x·c, ties to the lower index, as scikit-learn), sums rows per cluster chunk
/// by chunk and combines the chunks' sums in global chunk order: the centroids, labels,
/// inertia and iteration count are bitwise the same on any number of ranks or threads.
/// Empty clusters take the rows farthest from their centroids (as scikit-learn). It
/// stops when the labels no longer change, when the centroids moved (sum of squared
/// shifts) by at most tol × the mean feature variance, or after max_iter iterations.

#include <cstdint>
#include <string>

#include <tessera/array/dist_matrix.hpp>
#include <tessera/io/chunk_source.hpp>
#include <tessera/io/table.hpp>

namespace tessera::ml {

/// @brief How the centroids start.
enum class KMeansInit {
  kmeans_plusplus,  ///< greedy k-means++ (2 + ln k candidates per centroid, as scikit-learn)
  random,           ///< k distinct rows drawn at random
  kmeans_parallel,  ///< k-means|| (Bahmani et al. 2012): 5 rounds oversampling 2k rows
                    ///< each, then weighted k-means++ on the sampled rows
  given,            ///< KMeansParams::initial_centers
};

/// @brief "k-means++", "random", "k-means||" (InvalidArgument otherwise).
KMeansInit parse_kmeans_init(const std::string& name);
const char* to_string(KMeansInit init);

/// @brief Parameters of `KMeans`, with scikit-learn's defaults where it has them.
struct KMeansParams {
  int k = 8;
  KMeansInit init = KMeansInit::kmeans_plusplus;
  /// k × features, for init = given.
  HostMatrix initial_centers;
  /// Runs from different starts (seeded by seed and the run number); the lowest inertia
  /// wins (the first on ties). Given centroids: one run.
  int n_init = 1;
  int max_iter = 300;
  /// Stop when the squared centroid shifts sum to at most tol × mean feature variance.
  double tol = 1e-4;
  std::uint64_t seed = 0;
  /// @throws InvalidArgument naming the bad parameter.
  void validate() const;
};

/// @brief A fitted k-means model.
class KMeans {
 public:
  explicit KMeans(KMeansParams params = {});

  /// @brief Fits the rows of X (collective over X's Comm).
  /// @throws InvalidArgument for k > rows, NaN/inf in X (naming the row), initial
  /// centroids of the wrong shape.
  KMeans& fit(const array::DistMatrix<double, Kokkos::HostSpace>& X);
#if defined(KOKKOS_ENABLE_CUDA)
  KMeans& fit(const array::DistMatrix<double, Kokkos::CudaSpace>& X);
#endif
  /// @brief Fits the rows of a matrix this process holds.
  KMeans& fit(const HostMatrix& X);

  /// @brief Mini-batch k-means over a file (or generator) streamed without holding it
  /// (scikit-learn's MiniBatchKMeans update: each centroid the running mean of the rows
  /// it was given). The rows are cut in chunks of batch_rows / 4; a step takes 4 chunks
  /// spread over the data (and so over the ranks), each rank reading only its own, and
  /// their per-cluster sums are combined in chunk order: the same centroids on any rank
  /// count. Epochs visit every step once in a seeded order, up to max_iter epochs or until
  /// an epoch moves the centroids (sum of squared shifts) by at most tol × the mean
  /// feature variance of the first rows. Starts from k-means++ (or random rows, or the
  /// given centroids) on the first 3 · batch_rows rows; a last pass gives labels() (this
  /// rank's rows) and inertia() (collective).
  KMeans& fit_minibatch(const Comm& comm, io::ChunkSource& source, std::size_t batch_rows = 4096);

  /// @brief Nearest centroid of each row (as during fit).
  Kokkos::View<int*, Kokkos::HostSpace> predict(const HostMatrix& X) const;
  /// @brief Euclidean distance of each row to each centroid (rows × k).
  HostMatrix transform(const HostMatrix& X) const;

  const KMeansParams& params() const { return params_; }
  bool fitted() const { return centers_.extent(0) > 0; }
  /// k × features.
  const HostMatrix& cluster_centers() const { return centers_; }
  /// Sum of squared distances of the rows to their centroids.
  double inertia() const { return inertia_; }
  /// Lloyd iterations of the best run.
  int n_iter() const { return n_iter_; }
  /// Labels of this rank's rows (of the fitted DistMatrix; all rows for a HostMatrix).
  const Kokkos::View<int*, Kokkos::HostSpace>& labels() const { return labels_; }

 private:
  template <class MemorySpace>
  KMeans& fit_impl(const array::DistMatrix<double, MemorySpace>& X);

  KMeansParams params_;
  HostMatrix centers_;
  double inertia_ = 0.0;
  int n_iter_ = 0;
  Kokkos::View<int*, Kokkos::HostSpace> labels_;
};

}  // namespace tessera::ml
