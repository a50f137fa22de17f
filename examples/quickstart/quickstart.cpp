// tessera in 40 lines: start the runtime, load the embedded digits data, reduce its
// columns across every rank, and draw reproducible random numbers in a kernel.
//
//   ./example_quickstart                 # one rank
//   mpirun -np 4 ./example_quickstart    # same numbers on four
//
// Expected output (any rank count):
//   digits: 1797 rows x 64 columns, mean pixel 4.88416, brightest column 59 (mean 12.1)
//   mean of 1e6 uniform draws (seed 7): 0.499738
#include <cstdio>

#include <Kokkos_Core.hpp>
#include <tessera/array/column_stats.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/core/runtime.hpp>
#include <tessera/io/dataset.hpp>

// A kernel in a free function (CUDA's extended lambdas need one with external linkage).
double mean_uniform(std::uint64_t seed, int n) {
  const tessera::CounterRng rng(seed);
  double sum = 0;
  Kokkos::parallel_reduce(
      "uniform", n, KOKKOS_LAMBDA(const int i, double& s) { s += rng.uniform(i); }, sum);
  return sum / n;
}

int main(int argc, char** argv) {
  tessera::Runtime runtime(argc, argv);
  const tessera::Comm& comm = runtime.world();
  {
    const tessera::Table digits = tessera::io::digits();
    const auto stats = tessera::array::column_stats(comm, digits.X);
    std::size_t brightest = 0;
    for (std::size_t j = 0; j < stats.columns.size(); ++j)
      if (stats.columns[j].mean > stats.columns[brightest].mean) brightest = j;
    const double u = mean_uniform(7, 1000000);
    if (comm.rank() == 0) {
      std::printf(
          "digits: %zu rows x %zu columns, mean pixel %.6g, brightest column %zu (mean %.3g)\n",
          stats.rows, stats.columns.size(), stats.overall.mean, brightest,
          stats.columns[brightest].mean);
      std::printf("mean of 1e6 uniform draws (seed 7): %.6f\n", u);
    }
  }
  return 0;
}
