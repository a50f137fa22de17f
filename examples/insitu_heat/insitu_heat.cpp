// In-situ analysis of a running Kokkos simulation: a 2-D heat equation whose grid rows are
// spread over the ranks, analysed every few steps by PCA and k-means on the simulation's
// own View — wrapped as a DistMatrix, never copied. Each grid row is a sample (its
// temperature profile across the columns).
//
//   ./example_insitu_heat                       # 512 x 256 grid, 2000 steps, analysis every 500
//   mpirun -np 4 ./example_insitu_heat 1024 256 4000 1000   # rows cols steps every
//
// The rows are cut in the DistMatrix's fixed chunk grid (32 rows a chunk), so the
// simulation and the analysis give the same numbers on any rank count.
// Expected output (defaults, any rank count), one line per analysis, e.g.:
//   step 500: PCA variance ratio 0.52 0.21 0.10 (3 components), k-means k=4 inertia ... (n
//   iterations), cluster sizes ...
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <Kokkos_Core.hpp>
#include <tessera/array/dist_matrix.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/core/runtime.hpp>
#include <tessera/ml/kmeans.hpp>
#include <tessera/ml/pca.hpp>

using Grid = Kokkos::View<double**, Kokkos::LayoutRight>;  // the simulation's memory space

// Hot spots: 12 Gaussian blobs at places drawn from a counter-based stream (the same on
// every rank), evaluated at this rank's rows.
void initialise(const Grid& T, std::size_t row0, std::size_t rows, std::size_t cols) {
  const tessera::CounterRng rng(2024, 1);
  Kokkos::parallel_for(
      "heat_init", Kokkos::MDRangePolicy<Kokkos::Rank<2>>({0, 0}, {T.extent(0), T.extent(1)}),
      KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) {
        double t = 0;
        for (int b = 0; b < 12; ++b) {
          const double ci = rng.uniform(3 * b) * static_cast<double>(rows);
          const double cj = rng.uniform(3 * b + 1) * static_cast<double>(cols);
          const double amp = 50.0 + 50.0 * rng.uniform(3 * b + 2);
          const double di = static_cast<double>(row0 + i) - ci, dj = static_cast<double>(j) - cj;
          t += amp * ::exp(-(di * di + dj * dj) / 60.0);
        }
        T(i, j) = t;
      });
}

// One explicit step: next = T + alpha·laplacian(T); the edges of the whole grid are held
// at 0. `above`/`below` are the neighbouring ranks' boundary rows (zeros at the edges).
void step(const Grid& T, const Grid& next, const Kokkos::View<double*>& above,
          const Kokkos::View<double*>& below) {
  const std::size_t n = T.extent(0), m = T.extent(1);
  constexpr double alpha = 0.2;
  Kokkos::parallel_for(
      "heat_step", Kokkos::MDRangePolicy<Kokkos::Rank<2>>({0, 0}, {n, m}),
      KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) {
        const double up = i > 0 ? T(i - 1, j) : above(j);
        const double down = i + 1 < n ? T(i + 1, j) : below(j);
        const double left = j > 0 ? T(i, j - 1) : 0.0;
        const double right = j + 1 < m ? T(i, j + 1) : 0.0;
        next(i, j) = T(i, j) + alpha * (up + down + left + right - 4.0 * T(i, j));
      });
}

int main(int argc, char** argv) {
  tessera::Runtime runtime(argc, argv);
  const tessera::Comm& comm = runtime.world();
  const std::size_t rows = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 512;
  const std::size_t cols = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 256;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 2000;
  const int every = argc > 4 ? std::atoi(argv[4]) : 500;
  const tessera::array::ChunkGrid grid{rows, 32};
  const std::size_t row0 = grid.chunk_begin(grid.first_chunk(comm.rank(), comm.size()));
  const std::size_t row1 = grid.chunk_begin(grid.first_chunk(comm.rank() + 1, comm.size()));
  Grid T("T", row1 - row0, cols), next("T_next", row1 - row0, cols);
  initialise(T, row0, rows, cols);
  Kokkos::View<double*> above("above", cols), below("below", cols);
  const auto above_host = Kokkos::create_mirror_view(above);
  const auto below_host = Kokkos::create_mirror_view(below);

  for (int s = 1; s <= steps; ++s) {
    // Halo: every rank's first and last rows, gathered (ranks with no rows send none).
    std::vector<double> edge;
    if (row1 > row0) {
      const auto first = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(),
                                                             Kokkos::subview(T, 0, Kokkos::ALL));
      const auto last = Kokkos::create_mirror_view_and_copy(
          Kokkos::HostSpace(), Kokkos::subview(T, row1 - row0 - 1, Kokkos::ALL));
      edge.assign(first.data(), first.data() + cols);
      edge.insert(edge.end(), last.data(), last.data() + cols);
    }
    const std::vector<double> edges = comm.allgatherv(edge);  // rank order = row order
    // Rank r's neighbours: the last row before row0 and the first row after row1.
    const std::size_t stripes = edges.size() / (2 * cols);
    std::size_t mine = 0;  // index of this rank's stripe among the non-empty ones
    for (int r = 0; r < comm.rank(); ++r)
      mine += grid.first_chunk(r + 1, comm.size()) > grid.first_chunk(r, comm.size());
    for (std::size_t j = 0; j < cols; ++j) {
      above_host(j) = row0 > 0 && mine > 0 ? edges[(2 * (mine - 1) + 1) * cols + j] : 0.0;
      below_host(j) = row1 < rows && mine + 1 < stripes ? edges[2 * (mine + 1) * cols + j] : 0.0;
    }
    Kokkos::deep_copy(above, above_host);
    Kokkos::deep_copy(below, below_host);
    step(T, next, above, below);
    std::swap(T, next);

    if (s % every != 0) continue;
    // The analysis sees the simulation's rows as they are: T wrapped, not copied.
    const tessera::array::DistMatrix<double, Grid::memory_space> X(comm, grid, T);
    tessera::ml::PCAParams pp;
    pp.n_components = 3;
    tessera::ml::PCA pca(pp);
    pca.fit(X);
    tessera::ml::KMeansParams kp;
    kp.k = 4;
    kp.seed = 7;
    tessera::ml::KMeans km(kp);
    km.fit(X);
    std::vector<long> sizes(4, 0);
    const auto& labels = km.labels();
    for (std::size_t i = 0; i < labels.extent(0); ++i) ++sizes[static_cast<std::size_t>(labels(i))];
    for (long& v : sizes) v = comm.allreduce(v, tessera::ReduceOp::sum);
    if (comm.rank() == 0) {
      const auto& r = pca.explained_variance_ratio();
      std::printf(
          "step %d: PCA variance ratio %.6f %.6f %.6f (3 components), k-means k=4 inertia %.10g "
          "(%d iterations), cluster sizes %ld %ld %ld %ld\n",
          s, r[0], r[1], r[2], km.inertia(), km.n_iter(), sizes[0], sizes[1], sizes[2], sizes[3]);
    }
  }
  return 0;
}
