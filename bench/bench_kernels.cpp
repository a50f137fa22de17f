// Kernel throughput: Philox draws, per-column statistics, one SVC fit on digits.
//   build with -DTESSERA_BUILD_BENCH=ON, run build/bench/bench_kernels
#include <benchmark/benchmark.h>

#include <Kokkos_Core.hpp>
#include <tessera/array/column_stats.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/core/runtime.hpp>
#include <tessera/io/dataset.hpp>
#include <tessera/io/generators.hpp>
#include <tessera/linalg/linalg.hpp>
#include <tessera/ml/svc.hpp>

namespace {

double sum_uniform(std::uint64_t seed, std::int64_t n) {
  const tessera::CounterRng rng(seed);
  double s = 0;
  Kokkos::parallel_reduce(
      "uniform", n, KOKKOS_LAMBDA(const std::int64_t i, double& acc) { acc += rng.uniform(i); }, s);
  return s;
}

void BM_philox_uniform(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  for (auto _ : state) benchmark::DoNotOptimize(sum_uniform(1, n));
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_philox_uniform)->Arg(1 << 20)->Arg(1 << 24)->Unit(benchmark::kMillisecond);

void BM_column_stats(benchmark::State& state) {
  const std::size_t rows = static_cast<std::size_t>(state.range(0)), cols = 16;
  tessera::io::DeviceMatrix X("X", rows, cols);
  tessera::io::generate_random({rows, cols, 3}, 0, X);
  tessera::HostMatrix H("H", rows, cols);
  Kokkos::deep_copy(H, X);
  const tessera::Comm self;
  for (auto _ : state) benchmark::DoNotOptimize(tessera::array::column_stats(self, H));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(rows * cols * 8));
}
BENCHMARK(BM_column_stats)->Arg(1 << 16)->Arg(1 << 21)->Unit(benchmark::kMillisecond);

// The single fit of bench/svm_vs_sklearn.py (RBF, C = 10, gamma = 0.001, digits) in the
// process, for profiling it (perf record build/bench/bench_kernels --benchmark_filter=svc).
void BM_svc_fit_digits(benchmark::State& state) {
  const tessera::Table digits = tessera::io::digits();
  tessera::ml::SVCParams p;
  p.C = 10;
  p.gamma = tessera::ml::Gamma::value(0.001);
  for (auto _ : state) {
    tessera::ml::SVC clf(p);
    clf.fit(digits.X, digits.y);
    benchmark::DoNotOptimize(clf.n_support());
  }
}
BENCHMARK(BM_svc_fit_digits)->Unit(benchmark::kMillisecond);

// The eigendecomposition a CMA-ES generation makes of its N × N covariance (N = 10 and 50,
// the reference runs': every generation, as Hansen's rule gives for λ = 20·N), on a
// well-conditioned symmetric matrix: what part of a generation's time budget it takes.
void BM_eigh(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  tessera::HostMatrix C("C", n, n), V("V", n, n);
  tessera::HostVector w("w", n);
  const tessera::CounterRng rng(1);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j)
      C(i, j) = C(j, i) = (i == j ? 2.0 : 0.0) + 0.1 * rng.uniform(i * n + j);
  for (auto _ : state) {
    tessera::linalg::eigh(C, w, V);
    benchmark::DoNotOptimize(w.data());
  }
}
BENCHMARK(BM_eigh)->Arg(10)->Arg(50)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  tessera::RuntimeOptions options;
  options.use_mpi = false;
  tessera::Runtime runtime(argc, argv, options);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
