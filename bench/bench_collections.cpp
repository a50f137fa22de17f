// Whole-matrix sum, mean and std together (array::summary: one pass, blocks and chunks
// merged in order) on a rows x cols float64 DistMatrix generated in place, beside the
// per-column statistics (array::column_stats) and, on the same ranks, a STREAM triad and
// a plain read of the same data (a vectorised sum): the bandwidth ceilings. Driven by
// collections_vs_dask.py; prints one JSON line.
//
//   build/bench/bench_collections 20000 20000        # 3.2 GB
//   build/bench/bench_collections 100000000 1        # a 1e8 vector
//   mpirun -np 2 build/bench/bench_collections 20000 20000
#include <cstdio>
#include <cstdlib>

#include <Kokkos_Core.hpp>
#include <tessera/array/column_stats.hpp>
#include <tessera/array/dist_matrix.hpp>
#include <tessera/array/reductions.hpp>
#include <tessera/core/memory.hpp>
#include <tessera/core/runtime.hpp>
#include <tessera/core/timer.hpp>
#include <tessera/io/dataset.hpp>

// a = b + s c over n doubles, on huge pages as the DistMatrix's rows are (the ceiling
// measured as the kernels run); returns the best of `repeat` times (seconds).
double triad_seconds(std::size_t n, int repeat) {
  using Vector = Kokkos::View<double*>;
  const auto a = tessera::filled_on_huge_pages<Vector>("a", 0.0, n),
             b = tessera::filled_on_huge_pages<Vector>("b", 1.0, n),
             c = tessera::filled_on_huge_pages<Vector>("c", 2.0, n);
  double best = 1e30;
  for (int r = 0; r < repeat; ++r) {
    Kokkos::fence();
    tessera::Timer t;
    Kokkos::parallel_for(
        "triad", n, KOKKOS_LAMBDA(const std::size_t i) { a(i) = b(i) + 3.0 * c(i); });
    Kokkos::fence();
    best = std::min(best, t.seconds());
  }
  return best;
}

// Reads the n doubles at x once: a sum in blocks of 64 values with 8 running sums each (the
// loads vectorise; no add waits on the one before). Returns the best of `repeat` times
// (seconds); the sum goes to `total`, so that the reads are not optimised away.
double read_seconds(const double* x, std::size_t n, int repeat, double& total) {
  const Kokkos::View<const double*, Kokkos::MemoryUnmanaged> v(x, n);
  const std::size_t blocks = n / 64;
  double best = 1e30;
  for (int r = 0; r < repeat; ++r) {
    Kokkos::fence();
    tessera::Timer t;
    double sum = 0;
    Kokkos::parallel_reduce(
        "read", blocks,
        KOKKOS_LAMBDA(const std::size_t b, double& acc) {
          double lane[8] = {};
          for (std::size_t i = 0; i < 64; i += 8)
            for (std::size_t l = 0; l < 8; ++l) lane[l] += v(64 * b + i + l);
          for (std::size_t l = 0; l < 8; ++l) acc += lane[l];
        },
        sum);
    Kokkos::fence();
    best = std::min(best, t.seconds());
    total = sum;
  }
  return best;
}

int main(int argc, char** argv) {
  tessera::Runtime runtime(argc, argv);
  const tessera::Comm& comm = runtime.world();
  const std::size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
  const std::size_t cols = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20000;
  const int repeat = argc > 3 ? std::atoi(argv[3]) : 3;
  const std::size_t chunk_rows = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 2000;
  {
    tessera::array::DistMatrix<double> X(comm, rows, cols, chunk_rows);
    const std::string spec =
        "random:rows=" + std::to_string(rows) + ",cols=" + std::to_string(cols) + ",seed=1";
    tessera::io::generate_rows(spec, X.row_begin(), X.local(), tessera::io::DeviceVector());
    double best = 1e30, best_columns = 1e30;
    tessera::array::Summary stats;
    for (int r = 0; r < repeat; ++r) {
      comm.barrier();
      tessera::Timer t;
      stats = tessera::array::summary(X);
      best = std::min(best, comm.allreduce(t.seconds(), tessera::ReduceOp::max));
      comm.barrier();
      tessera::Timer c;
      tessera::array::column_stats(X);
      best_columns = std::min(best_columns, comm.allreduce(c.seconds(), tessera::ReduceOp::max));
    }
    const std::size_t local = X.local().span();
    const double triad = comm.allreduce(triad_seconds(local, repeat), tessera::ReduceOp::max);
    double read_total = 0;
    const double read = comm.allreduce(read_seconds(X.local().data(), local, repeat, read_total),
                                       tessera::ReduceOp::max);
    const double bytes = 8.0 * static_cast<double>(rows) * static_cast<double>(cols);
    if (comm.is_root())
      std::printf(
          "{\"rows\": %zu, \"cols\": %zu, \"ranks\": %d, \"chunk_rows\": %zu, \"seconds\": %.6f, "
          "\"gbps\": %.3f, \"column_stats_seconds\": %.6f, \"triad_seconds\": %.6f, "
          "\"triad_gbps\": %.3f, \"read_seconds\": %.6f, \"read_gbps\": %.3f, \"read_sum\": "
          "%.17g, \"sum\": %.17g, \"mean\": %.17g, \"std\": %.17g}\n",
          rows, cols, comm.size(), chunk_rows, best, bytes / best / 1e9, best_columns, triad,
          3 * bytes / triad / 1e9, read, bytes / read / 1e9, read_total, stats.sum, stats.mean,
          stats.std);
  }
  return 0;
}
